import { describe, expect, it } from "vitest";
import { findLeaks } from "../lib/offline/leaks";
import { SecretValue } from "../lib/offline/values";
import { byName, evaluateStack, parentName, STACK_ENVIRONMENT, STACKS } from "./harness";

describe.each(STACKS)("Providers (%s)", (stack) => {
    it("configures each provider explicitly from the stack config, under the Providers component", async () => {
        const ev = await evaluateStack(stack, { secrets: { vaultToken: "hvs.test-token-for-providers-0001" } });
        const vault = byName(ev, "providers-vault");
        const aws = byName(ev, "providers-aws");
        const docker = byName(ev, "providers-docker");
        expect(vault.type).toBe("pulumi:providers:vault");
        expect(vault.inputs.address).toBe(stack === "prod" ? "https://vault.toolboxai.internal:8200" : "http://127.0.0.1:8200");
        expect(aws.inputs.region).toBe("eu-central-1");
        expect(docker.inputs.host).toBe(stack === "prod" ? "ssh://deploy@docker.toolboxai.internal" : "unix:///var/run/docker.sock");
        for (const p of [vault, aws, docker]) expect(parentName(ev, p)).toBe("providers");
        expect(byName(ev, "providers").type).toBe("toolboxai:core:Providers");
    });

    it("passes the Vault token only as a secret, and nowhere in plain text", async () => {
        const token = "hvs.test-token-that-must-stay-secret";
        const ev = await evaluateStack(stack, { secrets: { vaultToken: token } });
        const vault = byName(ev, "providers-vault");
        expect(vault.inputs.token).toBeInstanceOf(SecretValue);
        expect((vault.inputs.token as SecretValue).value).toBe(token);
        expect(findLeaks(ev)).toEqual([]);
    });

    it("tags every AWS resource with project, stack and environment", async () => {
        const ev = await evaluateStack(stack);
        const tags = JSON.parse(String(byName(ev, "providers-aws").inputs.defaultTags)).tags;
        expect(tags).toEqual({ project: "toolboxai", stack, environment: STACK_ENVIRONMENT[stack], "managed-by": "pulumi" });
    });
});
