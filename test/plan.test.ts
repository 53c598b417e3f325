/** The offline plan: snapshot per stack, no secret in it, and the CLI's behaviour on good and bad config. */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { lostUrns, planUrns } from "../lib/offline/identity";
import { findLeaks } from "../lib/offline/leaks";
import { toPlanJson, toPlanText, type PlanJson } from "../lib/offline/render";
import { evaluateStack, PROJECT_DIR, STACKS, TEST_CLOCK } from "./harness";

const run = promisify(execFile);

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
        const { stdout, stderr } = await run(process.execPath, ["-r", "./scripts/register.js", "scripts/plan.ts", ...args], {
            cwd: PROJECT_DIR,
        });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

const retired = (
    JSON.parse(readFileSync(join(PROJECT_DIR, "plans", "retired-urns.json"), "utf8")) as { retired: { urn: string; why: string }[] }
).retired.map((r) => r.urn);

describe.each(STACKS)("offline plan (%s)", (stack) => {
    const planFile = join(PROJECT_DIR, "plans", `${stack}.plan.json`);

    it("matches the committed plan snapshot (review infrastructure changes as a diff of plans/)", async () => {
        const evaluation = await evaluateStack(stack);
        const json = toPlanJson(evaluation);
        // Checked before the snapshot, so that `-u` cannot write a plan that loses a resource's state.
        if (existsSync(planFile)) {
            const committed = JSON.parse(readFileSync(planFile, "utf8")) as PlanJson;
            expect(
                lostUrns(committed, evaluation, retired),
                "renamed or removed without an alias: add `aliases` (CONTRIBUTING.md, Names are identity), or retire the URN in plans/retired-urns.json",
            ).toEqual([]);
        }
        await expect(`${JSON.stringify(json, null, 2)}\n`).toMatchFileSnapshot(join(PROJECT_DIR, "plans", `${stack}.plan.json`));
    });

    it("prints no secret: not in the tree, the JSON, any plain input or output", async () => {
        const ev = await evaluateStack(stack);
        expect(ev.resources.length).toBeGreaterThan(0);
        expect(findLeaks(ev, { text: toPlanText(ev), json: JSON.stringify(toPlanJson(ev)) })).toEqual([]);
    });

    it("lists the credentials: generated passwords, Vault secrets, policies and AppRoles, with values hidden", async () => {
        const plan = toPlanJson(await evaluateStack(stack));
        const count = (type: string) => plan.resources.filter((r) => r.type === type).length;
        expect(count("random:index/randomPassword:RandomPassword")).toBeGreaterThanOrEqual(5);
        // Seven of the credentials (two of them each consumer's database login), and the backup uploader's; hosted, each consumer's Supabase secret key.
        expect(count("vault:kv/secretV2:SecretV2")).toBe(stack === "prod" ? 10 : 8);
        expect(count("vault:index/policy:Policy")).toBe(2);
        expect(count("vault:appRole/authBackendRole:AuthBackendRole")).toBe(2);
        expect(count("vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId")).toBe(2);
        for (const r of plan.resources.filter((x) => x.type === "vault:kv/secretV2:SecretV2")) expect(r.inputs.dataJson).toBe("[secret]");
        expect(plan.clock).toBe(TEST_CLOCK.replace("Z", ".000Z"));
    });

    it("rebuilds from the plan exactly the URNs the engine would register", async () => {
        const evaluation = await evaluateStack(stack);
        expect(planUrns(toPlanJson(evaluation)).sort()).toEqual(evaluation.resources.map((r) => r.urn).sort());
    });

    it("gives every resource a unique name, so that `parent` in the plan is unambiguous", async () => {
        const names = (await evaluateStack(stack)).resources.map((r) => r.name);
        expect(new Set(names).size).toBe(names.length);
    });

    it("builds every resource inside a component, never loose at the top", async () => {
        const ev = await evaluateStack(stack);
        const loose = ev.resources.filter((r) => r.custom && !r.parentUrn).map((r) => r.name);
        expect(loose).toEqual([]);
    });

    it("runs from the command line as the tree and as JSON", async () => {
        const text = await plan("--stack", stack);
        expect(text.code).toBe(0);
        expect(text.stdout).toContain(`Offline plan for stack "${stack}"`);
        expect(text.stdout).toMatch(/Not a diff against deployed state/);
        expect(text.stdout).toMatch(/token: \[secret\]/);
        const json = await plan("--stack", stack, "--json");
        expect(json.code).toBe(0);
        const parsed = JSON.parse(json.stdout);
        expect(Object.keys(parsed)).toEqual(expect.arrayContaining(["stack", "resources", "outputs"]));
        expect(parsed.stack).toBe(stack);
        for (const r of parsed.resources) expect(Object.keys(r)).toEqual(expect.arrayContaining(["type", "name", "parent", "inputs"]));
    });
});

describe("offline plan on bad input", () => {
    const badStack = `citest-bad-${process.pid}`;
    const badFile = join(PROJECT_DIR, `Pulumi.${badStack}.yaml`);
    afterAll(() => rmSync(badFile, { force: true }));

    it("exits non-zero with the config error and prints no resources", async () => {
        writeFileSync(badFile, "config:\n  toolboxai:environment: prod\n  toolboxai:databasePoolSize: 5000\n");
        const result = await plan("--stack", badStack);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toMatch(/toolboxai:databasePoolSize = "5000": must be an integer from 1 to 1000/);
        expect(result.stderr).toMatch(/toolboxai:supabaseProjectRef = \(missing\): is required when supabaseMode is hosted/);
        expect(result.stderr).not.toMatch(/Resources/);
    });

    it("names the stacks it knows when the stack is unknown", async () => {
        const result = await plan("--stack", "nope");
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/unknown stack "nope": stacks with a stack file here are .*dev.*prod/);
    });

    it("explains its usage when --stack is missing", async () => {
        const result = await plan();
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/--stack is required/);
    });
});
