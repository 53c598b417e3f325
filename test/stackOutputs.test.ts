/** The stack outputs as a contract: stable names, the right secretness, readable by a consumer stack. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { OUTPUT_ALIASES, SECRET_OUTPUTS } from "../lib/contract";
import { evaluateProgram } from "../lib/offline/evaluate";
import { reveal, SecretValue } from "../lib/offline/values";
import { evaluateStack, PROJECT_DIR, STACKS } from "./harness";

const published = JSON.parse(readFileSync(join(PROJECT_DIR, "contract", "outputs.json"), "utf8")).outputs as Record<
    string,
    { secret: boolean }
>;

describe.each(STACKS)("stack outputs contract (%s)", (stack) => {
    it("keeps every published name, or an alias to its replacement", async () => {
        const names = Object.keys((await evaluateStack(stack)).outputs);
        for (const name of Object.keys(published)) {
            const current = names.includes(name) ? name : OUTPUT_ALIASES[name];
            expect(current && names.includes(current), `output ${name} was removed or renamed without an alias in OUTPUT_ALIASES`).toBe(
                true,
            );
        }
        // A new output is published deliberately: add it to contract/outputs.json.
        for (const name of names) expect(published[name], `new output ${name} is not in contract/outputs.json`).toBeDefined();
    });

    it("exports secrets only as secrets, and nothing else as a secret", async () => {
        const { outputs } = await evaluateStack(stack);
        for (const [name, value] of Object.entries(outputs)) {
            const secret = (SECRET_OUTPUTS as readonly string[]).includes(name);
            expect(value instanceof SecretValue, name).toBe(secret);
            expect(published[name].secret, name).toBe(secret);
        }
    });
});

describe("the backup output", () => {
    it("tells consumers when the backup job runs, and null when it does not", async () => {
        const on = reveal((await evaluateStack("dev")).outputs.backup) as { schedule: string | null; prefix: string };
        expect(on).toMatchObject({ schedule: "0 2 * * *", prefix: "supabase" });
        const services = JSON.stringify({
            backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
            backup: { role: "backup", replicas: 0 },
        });
        const off = reveal((await evaluateStack("dev", { overrides: { services, backupSchedule: "30 3 * * 0" } })).outputs.backup) as {
            schedule: string | null;
        };
        expect(off.schedule).toBeNull();
        const weekly = reveal((await evaluateStack("dev", { overrides: { backupSchedule: "30 3 * * 0" } })).outputs.backup) as {
            schedule: string | null;
        };
        expect(weekly.schedule).toBe("30 3 * * 0");
    });
});

describe("a consumer stack through ToolboxaiStackReference", () => {
    it("reads every output, with the producer's secretness", async () => {
        const producer = await evaluateStack("prod");
        const secretOutputNames = Object.entries(producer.outputs)
            .filter(([, v]) => v instanceof SecretValue)
            .map(([k]) => k);
        const plain = reveal(producer.outputs) as Record<string, unknown>;

        let consumer: typeof import("../lib/stackReference") | undefined;
        const reads: Record<string, { output: pulumi.Output<unknown>; details: Promise<{ value: unknown; secret: boolean }> }> = {};
        const ev = await evaluateProgram({
            projectDir: PROJECT_DIR,
            stack: "dev",
            stackReferences: { "acme/toolboxai/prod": { outputs: plain, secretOutputNames } },
            load: async () => {
                vi.resetModules();
                consumer = await import("../lib/stackReference.js");
                const ref = new consumer.ToolboxaiStackReference("toolboxai", "acme/toolboxai/prod");
                for (const name of Object.keys(published) as (keyof typeof plain & Parameters<typeof ref.output>[0])[]) {
                    reads[name] = { output: ref.output(name), details: ref.details(name) };
                }
                return {};
            },
        });
        expect(ev.resources.map((r) => r.type)).toContain("pulumi:pulumi:StackReference");
        for (const [name, read] of Object.entries(reads)) {
            const secret = secretOutputNames.includes(name);
            expect(await pulumi.isSecret(read.output), name).toBe(secret);
            const details = await read.details;
            expect(details.secret, name).toBe(secret);
            expect(details.value, name).toEqual(plain[name]);
        }
    });

    it("runs the example consumer program, keeping the anon key secret", async () => {
        const producer = await evaluateStack("dev");
        const secretOutputNames = Object.entries(producer.outputs)
            .filter(([, v]) => v instanceof SecretValue)
            .map(([k]) => k);
        const ev = await evaluateProgram({
            projectDir: PROJECT_DIR,
            stack: "dev",
            // The harness reads this project's Pulumi.yaml, so the consumer's config is under toolboxai:.
            overrides: { toolboxaiStack: "acme/toolboxai/dev" },
            stackReferences: { "acme/toolboxai/dev": { outputs: reveal(producer.outputs) as Record<string, unknown>, secretOutputNames } },
            load: async () => {
                vi.resetModules();
                return import("../examples/consumer/index.js");
            },
        });
        expect(ev.outputs.supabaseAnonKey).toBeInstanceOf(SecretValue);
        expect(ev.outputs.backendUrl).toBe("http://backend:8000");
        expect(ev.outputs.redis).toEqual({ endpoint: "rediss://redis:6380", network: "toolboxai-dev-cache" });
        expect(ev.outputs.databasePooler).toBeNull();
    });
});
