/** SupabaseCredentials under the mocks, for each committed stack file. */
import * as pulumi from "@pulumi/pulumi";
import { jwtVerify } from "jose";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SupabaseCredentials } from "../components/SupabaseCredentials";
import { passwordSlots, rotationKeeper, rotationPeriod } from "../lib/credentials";
import type { Evaluation } from "../lib/offline/evaluate";
import { findLeaks } from "../lib/offline/leaks";
import { reveal, SecretValue } from "../lib/offline/values";
import { byName, evaluateProgramInline, evaluateStack, ofType, PROJECT_DIR, STACKS, TEST_CLOCK } from "./harness";
import { effectiveSecretIdTtl, goSeconds, parseVaultPolicy } from "./support/vault";

const PREFIX = { dev: "toolboxai-dev", prod: "toolboxai", e2e: "toolboxai-dev" } as const;
const HOSTED = { supabaseAccessToken: `sbp_${"ab12".repeat(10)}` };

/** The JSON a Vault secret would hold, checking on the way that it was sent as a secret. */
function vaultData(ev: Evaluation, leaf: string): Record<string, string> {
    const secret = ev.resources.find((r) => r.type === "vault:kv/secretV2:SecretV2" && String(r.inputs.name).endsWith(`/${leaf}`));
    if (!secret) throw new Error(`no Vault secret for ${leaf}`);
    expect(secret.inputs.dataJson).toBeInstanceOf(SecretValue);
    return JSON.parse((secret.inputs.dataJson as SecretValue).value as string);
}

function policyPaths(hcl: string): { path: string; capabilities: string }[] {
    return [...hcl.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => ({ path: m[1], capabilities: m[2] }));
}

describe.each(STACKS)("SupabaseCredentials (%s)", (stack) => {
    const prefix = PREFIX[stack];
    const evaluate = (options: Parameters<typeof evaluateStack>[1] = {}) =>
        evaluateStack(stack, { secrets: stack === "prod" ? HOSTED : {}, ...options });

    it("writes the guide's Vault paths with exactly the guide's fields", async () => {
        const ev = await evaluate();
        const names = ofType(ev, "vault:kv/secretV2:SecretV2")
            .filter((r) => r.name.startsWith("credentials-"))
            .map((r) => `${r.inputs.mount}/${r.inputs.name}`)
            .sort();
        // Hosted: each consumer's own Supabase secret key at supabase/<consumer>.
        const hostedKeys = stack === "prod" ? [`secret/${prefix}/supabase/backend`, `secret/${prefix}/supabase/worker`] : [];
        expect(names).toEqual([
            `secret/${prefix}/database`,
            `secret/${prefix}/database/backend`,
            `secret/${prefix}/database/worker`,
            `secret/${prefix}/redis`,
            `secret/${prefix}/redis/backend`,
            `secret/${prefix}/redis/worker`,
            `secret/${prefix}/supabase`,
            ...hostedKeys,
        ]);
        expect(Object.keys(vaultData(ev, "supabase")).sort()).toEqual([
            "anon_key",
            "database_url",
            "jwt_secret",
            "service_role_key",
            "url",
        ]);
        expect(vaultData(ev, "database")).toMatchObject({ provider: "supabase", connection_pool_size: "20" });
        expect(Object.keys(vaultData(ev, "database")).sort()).toEqual(["connection_pool_size", "password", "provider"]);
        for (const consumer of ["backend", "worker"]) {
            expect(Object.keys(vaultData(ev, `database/${consumer}`)).sort()).toEqual([
                "connection_pool_size",
                "password",
                "provider",
                "username",
            ]);
            expect(vaultData(ev, `database/${consumer}`).username).toMatch(new RegExp(`^toolboxai_${consumer}_[ab]$`));
        }
        expect(Object.keys(vaultData(ev, "redis")).sort()).toEqual([
            "toolboxai_backend",
            "toolboxai_exporter",
            "toolboxai_healthcheck",
            "toolboxai_worker",
        ]);
        expect(Object.keys(vaultData(ev, "redis/worker")).sort()).toEqual(["password", "username"]);
    });

    it("stores the backend's own direct database URL (its login, not the owner's) with a generated, URL-safe password of at least 32 characters", async () => {
        const ev = await evaluate();
        const { password, username } = vaultData(ev, "database/backend");
        expect(password).toMatch(/^[A-Za-z0-9]{32,}$/);
        expect(password === vaultData(ev, "database").password, "the backend's password is the owner's").toBe(false);
        const url = new URL(vaultData(ev, "supabase").database_url);
        expect(decodeURIComponent(url.username)).toBe(username);
        expect(decodeURIComponent(url.password) === password, "database_url carries the backend's password").toBe(true);
        expect(url.port).toBe(stack === "prod" ? "5432" : "54322");
        expect(url.searchParams.get("sslmode")).toBe(stack === "prod" ? "require" : "disable");
    });

    it("sends every generated or configured secret only as a secret, and nowhere in plain text", async () => {
        const ev = await evaluate();
        for (const r of ofType(ev, "random:index/randomPassword:RandomPassword")) expect(r.outputs.result).toBeInstanceOf(SecretValue);
        for (const r of ofType(ev, "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId"))
            expect(r.outputs.secretId).toBeInstanceOf(SecretValue);
        expect(findLeaks(ev)).toEqual([]);
    });

    it("gives each consumer a policy that only reads its own paths, and an AppRole bound to it alone", async () => {
        const ev = await evaluate();
        const expected = {
            backend: [
                `secret/data/${prefix}/supabase`,
                `secret/data/${prefix}/supabase/backend`,
                `secret/data/${prefix}/database/backend`,
                `secret/data/${prefix}/redis/backend`,
            ],
            worker: [
                `secret/data/${prefix}/supabase/worker`,
                `secret/data/${prefix}/database/worker`,
                `secret/data/${prefix}/redis/worker`,
            ],
        };
        const tokenSelf = [
            { path: "auth/token/renew-self", capabilities: '"update"' },
            { path: "auth/token/lookup-self", capabilities: '"read"' },
        ];
        for (const consumer of ["backend", "worker"] as const) {
            const policy = byName(ev, `credentials-${consumer}-policy`);
            expect(policy.inputs.name).toBe(`${prefix}-${consumer}`);
            const grants = policyPaths(String(policy.inputs.policy));
            // HashiCorp's own HCL parser reads exactly these grants, and nothing else.
            const parsed = await parseVaultPolicy(String(policy.inputs.policy));
            expect(parsed).toEqual(Object.fromEntries(grants.map((g) => [g.path, JSON.parse(`[${g.capabilities}]`) as string[]])));
            const secretGrants = grants.filter((g) => !g.path.startsWith("auth/token/"));
            expect(secretGrants.map((g) => g.path)).toEqual(expected[consumer]);
            for (const g of secretGrants) expect(g.capabilities).toBe('"read"');
            expect(grants.filter((g) => g.path.startsWith("auth/token/"))).toEqual(tokenSelf);
            // Nothing outside the path statements (no wildcard, no sys/ access).
            expect(
                String(policy.inputs.policy)
                    .replace(/path "[^"]+" \{\s*capabilities = \["(read|update)"\]\s*\}/g, "")
                    .trim(),
            ).toBe("");

            const role = byName(ev, `credentials-${consumer}-role`);
            expect(role.inputs).toMatchObject({
                backend: `${prefix}-approle`,
                roleName: consumer,
                tokenPolicies: [`${prefix}-${consumer}`],
                tokenNoDefaultPolicy: true,
            });
            expect(role.inputs.tokenTtl).toBeLessThanOrEqual(3600);
            expect(role.inputs.secretIdNumUses).toBeGreaterThan(0);
            expect(role.inputs.secretIdTtl).toBeGreaterThan(0);
        }
        expect(byName(ev, "credentials-approle").inputs).toMatchObject({ type: "approle", path: `${prefix}-approle` });
    });

    it("lets each secret-id live as designed: the AppRole mount's max lease TTL covers the role's secret_id_ttl (180 days for a 90-day period)", async () => {
        const ev = await evaluate();
        const tune = byName(ev, "credentials-approle").inputs.tune as { maxLeaseTtl?: string; defaultLeaseTtl?: string };
        expect(tune).toEqual({ maxLeaseTtl: "4320h", defaultLeaseTtl: "1h" });
        for (const consumer of ["backend", "worker"] as const) {
            const role = byName(ev, `credentials-${consumer}-role`).inputs;
            expect(role.secretIdTtl).toBe(180 * 86_400);
            // What Vault would grant: all of it with the tuned mount; 32 days on an untuned one.
            expect(effectiveSecretIdTtl(role.secretIdTtl as number, tune.maxLeaseTtl)).toBe(role.secretIdTtl);
            expect(effectiveSecretIdTtl(role.secretIdTtl as number, undefined) / 86_400).toBe(32);
            expect(goSeconds(tune.maxLeaseTtl!)).toBeGreaterThanOrEqual(role.tokenMaxTtl as number);
        }
    });

    it("keeps secret-ids over an unchanged up (ttl and numUses, which Vault reports back, are ignored) and replaces them only with the rotation keeper", async () => {
        const ev = await evaluate();
        const argsSource = readFileSync(join(PROJECT_DIR, "node_modules/@pulumi/vault/approle/authBackendRoleSecretId.d.ts"), "utf8");
        const argsBlock = argsSource.slice(argsSource.indexOf("export interface AuthBackendRoleSecretIdArgs"));
        for (const consumer of ["backend", "worker"] as const) {
            const secretId = byName(ev, `credentials-${consumer}-secret-id`);
            expect(secretId.options.ignoreChanges).toEqual(["ttl", "numUses"]);
            expect(secretId.options.replaceOnChanges).toEqual(["metadata"]);
            // Neither is sent: the role sets both, and what Vault reports back is ignored.
            expect(secretId.inputs.ttl).toBeUndefined();
            expect(secretId.inputs.numUses).toBeUndefined();
            // A misspelt property name would ignore nothing: each is a real input of the resource.
            for (const field of secretId.options.ignoreChanges ?? [])
                expect(argsBlock, field).toMatch(new RegExp(`\\n\\s+${field}\\?: pulumi\\.Input`));
        }
        const period = rotationPeriod(new Date(TEST_CLOCK), 90);
        const next = await evaluate({ now: period.endsAt.toISOString() });
        const metadata = (e: Evaluation) => JSON.parse(String(byName(e, "credentials-backend-secret-id").inputs.metadata)).rotation;
        expect(metadata(next)).not.toBe(metadata(ev));
    });

    it("creates the KV mount only where the stack says the program manages it", async () => {
        const mounts = ofType(await evaluate(), "vault:index/mount:Mount");
        if (stack === "prod")
            expect(mounts.map((m) => m.inputs)).toEqual([
                expect.objectContaining({ path: "secret", type: "kv", options: { version: "2" } }),
            ]);
        else expect(mounts).toEqual([]);
    });

    it("rotates every generated secret across a period boundary, and changes nothing else", async () => {
        const period = rotationPeriod(new Date(TEST_CLOCK), 90);
        const before = await evaluate({ now: new Date(period.endsAt.getTime() - 1000).toISOString() });
        const sameperiod = await evaluate({ now: new Date(period.startsAt.getTime()).toISOString() });
        const after = await evaluate({ now: period.endsAt.toISOString() });
        const state = (ev: Evaluation) =>
            Object.fromEntries(ev.resources.map((r) => [r.name, JSON.stringify(reveal({ inputs: r.inputs, outputs: r.outputs }))]));

        expect(state(sameperiod)).toEqual(state(before));
        const changed = Object.keys(state(before))
            .filter((name) => state(before)[name] !== state(after)[name])
            .sort();
        // One database password slot takes the new password; the other keeps the current one to log in with.
        const slots = passwordSlots(rotationPeriod(new Date(period.endsAt), 90), 0);
        // The same for each consumer's logins: the standby login gets a new password, the one in use keeps its own.
        const standby = slots.active === "a" ? "b" : "a";
        const keptSlots = [
            `credentials-database-password-${standby}`,
            ...["backend", "worker", "backup"].map((c) => `credentials-${c}-login-password-${standby}`),
            ...["backend", "worker", "healthcheck", "exporter"].map((u) => `credentials-redis-${u}-password-${standby}`),
        ];
        const generated = ofType(before, "random:index/randomPassword:RandomPassword")
            .map((r) => r.name)
            // The Redis deployer's password never rotates: it only lets `pulumi up` change the others.
            .filter((n) => !keptSlots.includes(n) && n !== "redis-deployer-password");
        // migrations-push: its PGPASSWORD changes, an update that does not push again.
        // The containers are the consumers: new secret files make new seeds, whose new ids replace the
        // containers, and the PIDs commands run again for the new containers. Redis is not replaced: its
        // new ACL goes into its credentials seed and onto the running server (redis-acl-apply).
        // backups-uploader-credentials: Vault gets the uploader's new access key (test/uploaderKeyRotation.test.ts).
        const carriers = [
            "backups-uploader-credentials",
            "app-backend-0",
            "app-backup-0",
            "app-worker-0",
            "app-backend-0-seed",
            "app-backup-0-seed",
            "app-worker-0-seed",
            "redis-credentials-seed",
            "redis-acl-apply",
            "app-backend-0-pids",
            "app-backup-0-pids",
            "app-worker-0-pids",
            "migrations-push",
            "credentials-apply-database-password",
            "credentials-consumer-roles",
            "credentials-backend-secret-id",
            "credentials-worker-secret-id",
            "credentials-kv-database",
            "credentials-kv-database-backend",
            "credentials-kv-database-worker",
            "credentials-kv-redis",
            "credentials-kv-redis-backend",
            "credentials-kv-redis-worker",
            "credentials-kv-supabase",
            // Each rotation slot has its own volumes: the previous slot's go, the new slot's are created.
            ...["backend", "backup", "worker"].flatMap((svc) => ["files", "secrets"].map((kind) => `app-${svc}-0-${kind}-${standby}`)),
        ];
        // Hosted: one key slot per consumer is renamed (a new key); Vault and the containers take it.
        const slotKeys =
            stack === "prod"
                ? [
                      `supabase-backend-secret-key-${slots.active}`,
                      `supabase-worker-secret-key-${slots.active}`,
                      "credentials-kv-supabase-backend",
                      "credentials-kv-supabase-worker",
                  ]
                : [];
        expect(changed).toEqual([...generated, ...carriers, ...slotKeys].sort());
        for (const name of generated) expect(byName(after, name).outputs.result).not.toEqual(byName(before, name).outputs.result);
        expect(vaultData(after, "database").password).not.toBe(vaultData(before, "database").password);
        // The apply step can log in with the password the database had (the other slot), and sets the new one.
        const env = (ev: Evaluation) =>
            reveal(byName(ev, "credentials-apply-database-password").inputs.environment) as Record<string, string>;
        expect(env(after).STANDBY_PASSWORD).toBe(vaultData(before, "database").password);
        expect(env(after).NEW_PASSWORD).toBe(vaultData(after, "database").password);
        // The same resources, but for the slot volumes: the new slot's replace the previous slot's.
        const slotVolume = /^app-\w+-\d+-(files|secrets)-[ab]$/;
        const renamed = (ev: Evaluation) => Object.keys(state(ev)).filter((name) => slotVolume.test(name));
        expect(
            Object.keys(state(after))
                .filter((n) => !slotVolume.test(n))
                .sort(),
        ).toEqual(
            Object.keys(state(before))
                .filter((n) => !slotVolume.test(n))
                .sort(),
        );
        expect(
            renamed(after)
                .map((n) => n.replace(/-[ab]$/, `-${standby}`))
                .sort(),
        ).toEqual(renamed(before).sort());
        expect(renamed(after).every((n) => n.endsWith(`-${slots.active}`))).toBe(true);
        if (stack === "prod") {
            // The hosted project's secret keys rotate with the slots: the backend moves to its new key.
            expect(vaultData(after, "supabase").service_role_key).not.toBe(vaultData(before, "supabase").service_role_key);
            expect(vaultData(after, "supabase").anon_key).toBe(vaultData(before, "supabase").anon_key);
        }
    });

    it("applies the database password with a command that takes every secret from its environment", async () => {
        const ev = await evaluate({
            secrets: { ...(stack === "prod" ? HOSTED : {}), databaseBootstrapPassword: "bootstrap-password-0123456789" },
        });
        const apply = byName(ev, "credentials-apply-database-password");
        expect(apply.type).toBe("command:local:Command");
        expect(apply.inputs.create).toBe("node -r ./scripts/register.js scripts/apply-database-password.ts");
        // The engine receives the whole environment as one secret (it holds secrets).
        expect(apply.inputs.environment).toBeInstanceOf(SecretValue);
        const env = reveal(apply.inputs.environment) as Record<string, string>;
        expect(env).toMatchObject({
            PGUSER: "postgres",
            PGPORT: stack === "prod" ? "5432" : "54322",
            PGSSLMODE: stack === "prod" ? "require" : "disable",
        });
        expect(env.NEW_PASSWORD).toBe(vaultData(ev, "database").password);
        expect(env.STANDBY_PASSWORD).toMatch(/^[A-Za-z0-9]{40}$/);
        expect(env.STANDBY_PASSWORD).not.toBe(env.NEW_PASSWORD);
        expect(env.BOOTSTRAP_PASSWORD).toBe("bootstrap-password-0123456789");
        expect(String(apply.inputs.create)).not.toContain(env.NEW_PASSWORD);
        // Vault is rewritten only after the database took the password.
        for (const r of ofType(ev, "vault:kv/secretV2:SecretV2").filter((x) => x.name.startsWith("credentials-")))
            expect(r.options.dependencies).toContain(apply.urn);
        expect(findLeaks(ev)).toEqual([]);
    });

    it("keeps the password it applied last in its own state, for the next run, as a secret that is never logged", async () => {
        const apply = byName(await evaluate(), "credentials-apply-database-password");
        // Its stdout (the applied password) comes back as PULUMI_COMMAND_STDOUT on the next update...
        expect(apply.inputs.addPreviousOutputInEnv).toBe(true);
        expect(apply.inputs.update).toBe(apply.inputs.create);
        // ...which needs an update, not a replacement: nothing may trigger one.
        expect(apply.inputs.triggers).toBeUndefined();
        // The engine stores it encrypted, and the provider never logs it.
        expect(apply.secretOutputs).toContain("stdout");
        expect(apply.inputs.logging).toBe("stderr");
    });

    it("after two rotation steps at once, no input of the command holds the password the database has (its last output does)", async () => {
        const period = rotationPeriod(new Date(TEST_CLOCK), 90);
        const before = await evaluate();
        const twoPeriodsLater = await evaluate({ now: new Date(period.startsAt.getTime() + 2 * 90 * 86_400_000).toISOString() });
        const twoGenerationsMore = await evaluate({ overrides: { rotationGeneration: "2" } });
        const applied = vaultData(before, "database").password;
        for (const after of [twoPeriodsLater, twoGenerationsMore]) {
            const env = reveal(byName(after, "credentials-apply-database-password").inputs.environment) as Record<string, string>;
            expect(
                [env.NEW_PASSWORD, env.STANDBY_PASSWORD, env.BOOTSTRAP_PASSWORD].includes(applied),
                "the program still knows the applied password",
            ).toBe(false);
        }
    });

    it("rotates now when rotationGeneration is raised", async () => {
        const base = await evaluate();
        const forced = await evaluate({ overrides: { rotationGeneration: "1" } });
        expect(vaultData(forced, "database").password).not.toBe(vaultData(base, "database").password);
        // One Redis slot of each user moves; the ACL accepts both.
        const keepers = (ev: Evaluation) =>
            ["a", "b"].map((slot) => byName(ev, `credentials-redis-backend-password-${slot}`).inputs.keepers);
        expect(keepers(forced)).not.toEqual(keepers(base));
    });
});

describe("SupabaseCredentials: hosted versus generated keys", () => {
    it("dev (local) generates the JWT secret and signs anon and service_role keys that verify with it", async () => {
        const ev = await evaluateStack("dev");
        const data = vaultData(ev, "supabase");
        expect(byName(ev, "credentials-jwt-secret").inputs.length).toBeGreaterThanOrEqual(32);
        expect(data.jwt_secret.length).toBeGreaterThanOrEqual(32);
        for (const [field, role] of [
            ["anon_key", "anon"],
            ["service_role_key", "service_role"],
        ] as const) {
            const { payload } = await jwtVerify(data[field], new TextEncoder().encode(data.jwt_secret), {
                issuer: "supabase",
                currentDate: new Date(TEST_CLOCK),
            });
            expect(payload.role).toBe(role);
        }
        expect(data.url).toBe("http://127.0.0.1:54321");
    });

    it("prod (hosted) stores the project's keys from the Management API and generates no JWT secret", async () => {
        const ev = await evaluateStack("prod", { secrets: HOSTED });
        expect(ev.resources.some((r) => r.name === "credentials-jwt-secret")).toBe(false);
        const key = (name: string) => (byName(ev, name).outputs.apiKey as SecretValue).value;
        const slots = passwordSlots(rotationPeriod(new Date(TEST_CLOCK), 90), 0);
        const legacy = byName(ev, "supabase-legacy-keys").outputs.jwtSecret as SecretValue;
        expect(vaultData(ev, "supabase")).toEqual({
            url: "https://toolboxaiprodprojref.supabase.co",
            anon_key: key("supabase-publishable-key"),
            service_role_key: key(`supabase-backend-secret-key-${slots.active}`),
            database_url: expect.any(String),
            jwt_secret: legacy.value,
        });
        expect(vaultData(ev, "supabase/worker")).toEqual({ secret_key: key(`supabase-worker-secret-key-${slots.active}`) });
        expect(key(`supabase-worker-secret-key-${slots.active}`)).not.toBe(key(`supabase-backend-secret-key-${slots.active}`));
    });

    it("refuses hosted mode without the Management API token", async () => {
        await expect(evaluateStack("prod", { placeholders: false, secrets: { vaultToken: "hvs.0123456789abcdef" } })).rejects.toThrow(
            /toolboxai:supabaseAccessToken = \(missing\): is required when supabaseMode is hosted/,
        );
    });
});

describe("SupabaseCredentials outputs", () => {
    it("marks every secret output secret, and builds a transaction-pooler URL on port 6543", async () => {
        let credentials: SupabaseCredentials | undefined;
        await evaluateProgramInline(() => {
            const period = rotationPeriod(new Date(TEST_CLOCK), 90);
            credentials = new SupabaseCredentials("c", {
                mode: "local",
                supabaseUrl: "http://127.0.0.1:54321",
                direct: { host: "db.example.co", port: 5432, database: "postgres", user: "postgres" },
                pooler: { host: "aws-0-eu-central-1.pooler.supabase.com", port: 6543, user: "postgres.abcdefghijklmnopqrst" },
                sslMode: "require",
                poolSize: 20,
                vault: { mount: "secret", pathPrefix: "toolboxai", manageMount: false },
                rotation: { period, keeper: rotationKeeper(period, 0), periodDays: 90, slots: passwordSlots(period, 0) },
                applyScript: "scripts/apply-database-password.ts",
                databaseConsumers: ["backend", "worker", "backup"],
                rolesScript: "scripts/apply-consumer-roles.ts",
            });
            return {};
        });
        const c = credentials!;
        const secrets: pulumi.Output<string>[] = [c.databasePassword, c.directUrl, c.poolerUrl!, c.jwtSecret, c.anonKey, c.serviceRoleKey];
        for (const user of Object.values(c.redisUsers)) secrets.push(user.password);
        for (const role of Object.values(c.appRoles)) secrets.push(role.secretId);
        for (const output of secrets) expect(await pulumi.isSecret(output)).toBe(true);
        const pooler = await new Promise<string>((resolve) => c.poolerUrl!.apply(resolve));
        expect(pooler).toMatch(
            /^postgresql:\/\/postgres\.abcdefghijklmnopqrst:[A-Za-z0-9]{40}@aws-0-eu-central-1\.pooler\.supabase\.com:6543\/postgres\?sslmode=require$/,
        );
    });
});

describe("SupabaseCredentials input errors", () => {
    it("names the component: hosted mode without the hosted keys is a ResourceError", async () => {
        let thrown: unknown;
        await evaluateProgramInline(() => {
            const period = rotationPeriod(new Date(TEST_CLOCK), 90);
            try {
                new SupabaseCredentials("c", {
                    mode: "hosted",
                    supabaseUrl: "https://abcdefghijklmnopqrst.supabase.co",
                    direct: { host: "db.abcdefghijklmnopqrst.supabase.co", port: 5432, database: "postgres", user: "postgres" },
                    sslMode: "require",
                    poolSize: 20,
                    vault: { mount: "secret", pathPrefix: "toolboxai", manageMount: false },
                    rotation: { period, keeper: rotationKeeper(period, 0), periodDays: 90, slots: passwordSlots(period, 0) },
                    applyScript: "scripts/apply-database-password.ts",
                    databaseConsumers: ["backend", "worker", "backup"],
                    rolesScript: "scripts/apply-consumer-roles.ts",
                });
            } catch (err) {
                thrown = err;
            }
            return {};
        });
        expect(pulumi.ResourceError.isInstance(thrown)).toBe(true);
        expect((thrown as Error).message).toMatch(
            /hosted mode needs the project's keys from the Management API \(hostedKeys, from SupabaseProject\)/,
        );
        expect(((thrown as pulumi.ResourceError).resource as SupabaseCredentials | undefined)?.urn).toBeDefined();
    });
});
