import { describe, expect, it } from "vitest";
import { findLeaks } from "../lib/offline/leaks";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VAULT_CHILD_TOKEN_TTL_SECONDS } from "../components/Providers";
import { reveal, SecretValue } from "../lib/offline/values";
import { makePki } from "./support/redis";
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

    it("gives the Vault provider a child token that outlives an up (2 h, not the default 20 min), and verifies an https Vault as configured", async () => {
        const ev = await evaluateStack(stack);
        const vault = byName(ev, "providers-vault");
        expect(Number(vault.inputs.maxLeaseTtlSeconds)).toBe(VAULT_CHILD_TOKEN_TTL_SECONDS);
        expect(VAULT_CHILD_TOKEN_TTL_SECONDS).toBeGreaterThan(20 * 60);
        expect(vault.inputs.skipChildToken).toBeUndefined();
        // dev: http; prod: the machine's trust store (vaultCaCert: system).
        expect(vault.inputs.caCertFile).toBeUndefined();
        if (stack === "prod") {
            const dir = mkdtempSync(join(tmpdir(), "toolboxai-vault-ca-"));
            const pki = await makePki(dir, "vault");
            const withFile = await evaluateStack(stack, { overrides: { vaultCaCert: pki.caCert } });
            expect(byName(withFile, "providers-vault").inputs.caCertFile).toBe(pki.caCert);
            // A file that is not there, or not a CA, stops the program before any resource.
            await expect(evaluateStack(stack, { overrides: { vaultCaCert: join(dir, "missing.pem") } })).rejects.toThrow(
                /toolboxai:vaultCaCert = ".*missing\.pem": must name a readable PEM file on this machine \(ENOENT\)/,
            );
            await expect(evaluateStack(stack, { overrides: { vaultCaCert: pki.serverCert } })).rejects.toThrow(
                /must name a file that holds a PEM CA certificate .*not a CA/,
            );
        }
    });

    it("logs the docker provider in to the registry of private images with secret credentials only, and not at all where no registry is set", async () => {
        const username = "toolboxai-deploy-bot";
        const password = "ghp_registry-token-that-must-stay-secret";
        // prod's stack file sets registryAddress: ghcr.io; dev's does not, until a newcomer sets it.
        const overrides = stack !== "prod" ? { registryAddress: "ghcr.io" } : {};
        const ev = await evaluateStack(stack, { secrets: { registryUsername: username, registryPassword: password }, overrides });
        const docker = byName(ev, "providers-docker");
        expect(docker.inputs.registryAuth).toBeInstanceOf(SecretValue);
        expect(JSON.parse(reveal(docker.inputs.registryAuth) as string)).toEqual([{ address: "ghcr.io", username, password }]);
        expect(findLeaks(ev)).toEqual([]);
        if (stack !== "prod") expect(byName(await evaluateStack(stack), "providers-docker").inputs.registryAuth).toBeUndefined();
    });

    it("tags every AWS resource with project, stack and environment", async () => {
        const ev = await evaluateStack(stack);
        const tags = JSON.parse(String(byName(ev, "providers-aws").inputs.defaultTags)).tags;
        expect(tags).toEqual({ project: "toolboxai", stack, environment: STACK_ENVIRONMENT[stack], "managed-by": "pulumi" });
    });
});
