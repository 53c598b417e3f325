import { describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { findLeaks } from "../lib/offline/leaks";
import { reveal, SecretValue } from "../lib/offline/values";
import { aclApplyCommand, aclFile, aclPasswordCommands, REDIS_PATHS, redisConf } from "../lib/redis";
import { REDIS_USERS } from "../lib/credentials";
import { byName, evaluateStack, ofType, STACKS } from "./harness";

type Upload = { file: string; content: string; permissions: string; owner: string };
const uploads = (r: RecordedResource) => reveal(r.inputs.uploads) as Upload[];
/** Redis's files arrive through its seed containers (components/seed.ts): the server's, and the one with what a rotation changes. */
const seedOf = (ev: Evaluation) => byName(ev, "redis-server-seed");
const credentialsSeedOf = (ev: Evaluation) => byName(ev, "redis-credentials-seed");
const upload = (r: RecordedResource, file: string) => uploads(r).find((u) => u.file === file)!;

function vaultJson(ev: Evaluation, name: string): Record<string, string> {
    return JSON.parse(reveal(byName(ev, name).inputs.dataJson) as string);
}

describe.each(STACKS)("RedisServer (%s)", (stack) => {
    it("runs the generated redis.conf and an ACL file with the credentials' Redis passwords", async () => {
        const ev = await evaluateStack(stack);
        const redis = byName(ev, "redis-server");
        expect(redis.inputs.command).toEqual(["redis-server", REDIS_PATHS.config]);
        expect(upload(seedOf(ev), REDIS_PATHS.config).content).toBe(redisConf());
        // The real-server tests (redis.test.ts) run these same two generators.
        // Each user accepts both rotation slots' passwords; its consumer is given the active one (in Vault).
        const passwords = vaultJson(ev, "credentials-kv-redis");
        const slotPassword = (u: string, slot: string) =>
            reveal(byName(ev, `credentials-redis-${u}-password-${slot}`).outputs.result) as string;
        const users = Object.fromEntries(
            REDIS_USERS.map((u) => [
                u,
                {
                    username: `toolboxai_${u}`,
                    password: passwords[`toolboxai_${u}`],
                    // Both slots, and the previous design's single password (accepted for the move, given to no consumer).
                    passwords: [
                        slotPassword(u, "a"),
                        slotPassword(u, "b"),
                        ...(u === "exporter" ? [] : [reveal(byName(ev, `credentials-redis-${u}-password`).outputs.result)]),
                    ],
                },
            ]),
        );
        expect(passwords.toolboxai_backend).toBeOneOf([slotPassword("backend", "a"), slotPassword("backend", "b")]);
        const deployer = upload(seedOf(ev), REDIS_PATHS.deployerPassword).content;
        expect(upload(credentialsSeedOf(ev), REDIS_PATHS.acl).content).toBe(
            aclFile(users as unknown as Parameters<typeof aclFile>[0], deployer),
        );
        expect(upload(credentialsSeedOf(ev), REDIS_PATHS.healthcheckPassword).content).toBe(passwords.toolboxai_healthcheck);
        // The running server gets the same passwords (test/redisRotation.test.ts runs this on a real server), on stdin.
        const apply = byName(ev, "redis-acl-apply");
        expect(apply.inputs.stdin).toBeInstanceOf(SecretValue);
        expect(reveal(apply.inputs.stdin)).toBe(aclPasswordCommands(users as unknown as Parameters<typeof aclFile>[0]));
        expect(apply.inputs.update).toBe(aclApplyCommand(String(byName(ev, "redis-server").outputs.name)));
        expect(apply.options.dependencies).toEqual(expect.arrayContaining([byName(ev, "redis-server").urn, credentialsSeedOf(ev).urn]));
    });

    it("uploads secrets as secrets, readable only by the redis user", async () => {
        const ev = await evaluateStack(stack);
        for (const [seed, files] of [
            [seedOf(ev), [REDIS_PATHS.serverKey, REDIS_PATHS.deployerPassword]],
            [credentialsSeedOf(ev), [REDIS_PATHS.acl, REDIS_PATHS.healthcheckPassword]],
        ] as const) {
            expect(seed.inputs.uploads).toBeInstanceOf(SecretValue);
            for (const file of files) expect(upload(seed, file)).toMatchObject({ permissions: "0400", owner: "999" });
        }
        expect(findLeaks(ev)).toEqual([]);
    });

    it("generates its CA and server certificate with @pulumi/tls", async () => {
        const ev = await evaluateStack(stack);
        expect(byName(ev, "redis-ca-cert").inputs).toMatchObject({ isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing"] });
        expect(byName(ev, "redis-server-csr").inputs).toMatchObject({ dnsNames: ["redis", "localhost"], ipAddresses: ["127.0.0.1"] });
        expect(byName(ev, "redis-server-cert").inputs.allowedUses).toContain("server_auth");
        expect(ofType(ev, "tls:index/privateKey:PrivateKey").map((k) => k.inputs.algorithm)).toEqual(["ECDSA", "ECDSA"]);
    });

    it("publishes no port, joins cache and backend as `redis`, and checks its health over TLS", async () => {
        const redis = byName(await evaluateStack(stack), "redis-server");
        expect(redis.inputs.ports ?? []).toEqual([]);
        expect((redis.inputs.networksAdvanced as { name: string; aliases: string[] }[]).map((n) => [n.name, n.aliases])).toEqual([
            [`toolboxai-${stack}-cache`, ["redis"]],
            [`toolboxai-${stack}-backend`, ["redis"]],
        ]);
        const test = (redis.inputs.healthcheck as { tests: string[] }).tests.join(" ");
        expect(test).toMatch(/redis-cli --tls --cacert \/etc\/redis\/ca\.crt -p 6380 --user toolboxai_healthcheck/);
        expect(test).not.toMatch(/--pass /);
    });

    it("keeps its data on a volume that survives replacement and destroy", async () => {
        const data = byName(await evaluateStack(stack), "redis-data");
        expect(data.inputs.name).toBe(`toolboxai-${stack}-redis-data`);
        expect(data.options).toMatchObject({ protect: true, retainOnDelete: true });
    });
});
