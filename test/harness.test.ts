/** The harness itself: it must behave like the engine where the mocks don't, or other tests prove nothing. */
import * as pulumi from "@pulumi/pulumi";
import { Container } from "@pulumi/docker/container";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { describe, expect, it } from "vitest";
import { findLeaks } from "../lib/offline/leaks";
import { toPlanText } from "../lib/offline/render";
import { SecretValue } from "../lib/offline/values";
import { byName, evaluateProgramInline, parentName } from "./harness";

class Box extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("test:index:Box", name, {}, opts);
    }
}

describe("offline evaluation harness", () => {
    it("marks additionalSecretOutputs secret, as the real engine does (plain mocks don't)", async () => {
        let password: RandomPassword | undefined;
        const ev = await evaluateProgramInline(() => {
            password = new RandomPassword("pw", { length: 40, special: false });
            return { result: password.result };
        });
        expect(await pulumi.isSecret(password!.result)).toBe(true);
        expect(ev.outputs.result).toBeInstanceOf(SecretValue);
        const value = (ev.outputs.result as SecretValue).value as string;
        expect(value).toMatch(/^[A-Za-z0-9]{40}$/);
        expect(byName(ev, "pw").outputs.result).toBeInstanceOf(SecretValue);
    });

    it("generates secrets deterministically, and differently when keepers change", async () => {
        const once = async (keeper: string) => {
            const ev = await evaluateProgramInline(() => ({
                r: new RandomPassword("pw", { length: 32, keepers: { period: keeper } }).result,
            }));
            return (ev.outputs.r as SecretValue).value;
        };
        expect(await once("1")).toBe(await once("1"));
        expect(await once("1")).not.toBe(await once("2"));
    });

    it("finds a secret that reaches a container environment variable in plain text", async () => {
        const ev = await evaluateProgramInline(() => {
            const pw = new RandomPassword("pw", { length: 32, special: false });
            new Container("app", { image: "nginx:1.27", envs: [pulumi.interpolate`PASSWORD=${pulumi.unsecret(pw.result)}`] });
            return {};
        });
        const leaks = findLeaks(ev);
        expect(leaks.length).toBeGreaterThan(0);
        expect(leaks[0]).toMatchObject({ foundIn: "docker:index/container:Container app inputs.envs[0]" });
        expect(leaks[0].secretFrom).toMatch(/randomPassword:RandomPassword pw outputs\.result/);
    });

    it("finds a secret setting printed in rendered text, and none in the rendered plan", async () => {
        const ev = await evaluateProgramInline(() => ({ token: pulumi.secret("hvs.a-token-that-must-not-print") }));
        expect(findLeaks(ev, { log: "connecting with hvs.a-token-that-must-not-print" })).toEqual([
            { secretFrom: "stack output token", foundIn: "log" },
        ]);
        expect(findLeaks(ev, { plan: toPlanText(ev) })).toEqual([]);
    });

    it("records parents and the resource options that matter in review", async () => {
        const ev = await evaluateProgramInline(() => {
            const box = new Box("box");
            new RandomPassword("kept", { length: 16 }, { parent: box, protect: true, retainOnDelete: true, ignoreChanges: ["length"] });
            return {};
        });
        const kept = byName(ev, "kept");
        expect(parentName(ev, kept)).toBe("box");
        expect(kept.urn).toBe("urn:pulumi:dev::toolboxai::test:index:Box$random:index/randomPassword:RandomPassword::kept");
        expect(kept.options).toMatchObject({ protect: true, retainOnDelete: true, ignoreChanges: ["length"] });
    });

    it("rejects duplicate URNs, as the engine does", async () => {
        await expect(
            evaluateProgramInline(() => {
                new RandomPassword("same", { length: 16 });
                new RandomPassword("same", { length: 16 });
                return {};
            }),
        ).rejects.toThrow(/duplicate resource URN/);
    });

    it("propagates errors thrown by the program", async () => {
        await expect(
            evaluateProgramInline(() => {
                throw new Error("boom");
            }),
        ).rejects.toThrow("boom");
    });
});
