/**
 * The hosted project in the program: prod's offline plan with no hosted key in config, and the
 * dynamic providers as the engine ships them: serialized into the state (checked for secrets),
 * then loaded from that text and run over HTTP against the Management API double, with the
 * double's planted secrets looked for in the plan, the outputs and the plain fields of the state.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_DYNAMIC_PROVIDER } from "../lib/offline/evaluate";
import { findLeaks } from "../lib/offline/leaks";
import { toPlanJson, toPlanText } from "../lib/offline/render";
import { reveal, SecretValue } from "../lib/offline/values";
import { passwordSlots, rotationPeriod } from "../lib/credentials";
import * as providers from "../lib/supabase/providers";
import { byName, containerEnv, CREATE_PROJECT, evaluateStack, ofType, PROJECT_DIR, TEST_CLOCK, uploadsOf } from "./harness";
import { startManagementApiDouble, type ManagementApiDouble } from "./support/management-api-double";

/** The provider host's own loader, from the SDK's dependencies. */
const requireFromString = createRequire(require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js"))("require-from-string") as (
    code: string,
) => unknown;
const DYNAMIC = (type: string) => `pulumi-nodejs:dynamic/toolboxai:${type}`;
const REF = "toolboxaiprodprojref";
const CREATE = { ...CREATE_PROJECT, supabaseInstanceSize: "small" };

describe("prod's offline plan manages the hosted project", () => {
    it("needs no hosted key in config, shows the project, the settings and the keys, with the token [secret]", async () => {
        const ev = await evaluateStack("prod");
        // Of the Supabase secrets only the Management API token: no key in config.
        expect(ev.placeholderSecrets).toEqual(expect.arrayContaining(["supabaseAccessToken", "vaultToken"]));
        expect(ev.placeholderSecrets.filter((k) => k.startsWith("supabase"))).toEqual(["supabaseAccessToken"]);
        const project = byName(ev, "supabase-project");
        expect(project.type).toBe(DYNAMIC("SupabaseProject"));
        expect(project.options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(project.inputs.accessToken).toBeInstanceOf(SecretValue);
        expect(project.inputs.__provider).toBe(OFFLINE_DYNAMIC_PROVIDER);
        expect(byName(ev, "supabase-ssl").inputs).toMatchObject({ ref: REF, enforced: true, apiUrl: "https://api.supabase.com" });
        expect(byName(ev, "supabase-network").inputs).toMatchObject({ ipv4: ["203.0.113.0/24"], ipv6: ["2001:db8::/48"] });
        expect(byName(ev, "supabase-pooler").inputs).toMatchObject({ poolMode: "transaction", defaultPoolSize: 20 });
        expect(byName(ev, "supabase-legacy-keys").inputs).toMatchObject({ enabled: true });
        const slots = passwordSlots(rotationPeriod(new Date(TEST_CLOCK), 90), 0);
        const keys = ofType(ev, DYNAMIC("SupabaseApiKey"))
            .map((k) => `${k.name}=${String(k.inputs.name)}`)
            .sort();
        expect(keys).toEqual(
            [
                "supabase-publishable-key=toolboxai_publishable",
                ...["backend", "worker"].flatMap((c) =>
                    (["a", "b"] as const).map((s) => `supabase-${c}-secret-key-${s}=toolboxai_${c}_${s}${slots.keepers[s]}`),
                ),
            ].sort(),
        );
        for (const r of ofType(ev, DYNAMIC("SupabaseApiKey"))) expect(r.outputs.apiKey).toBeInstanceOf(SecretValue);
        expect(findLeaks(ev, { text: toPlanText(ev), json: JSON.stringify(toPlanJson(ev)) })).toEqual([]);
        expect(toPlanText(ev)).not.toContain("sbp_0000");
    });

    it("gives each consumer its own active key as a file, and the pooler endpoint from the API", async () => {
        const ev = await evaluateStack("prod");
        const slots = passwordSlots(rotationPeriod(new Date(TEST_CLOCK), 90), 0);
        const key = (consumer: string) =>
            (byName(ev, `supabase-${consumer}-secret-key-${slots.active}`).outputs.apiKey as SecretValue).value;
        for (const consumer of ["backend", "worker"]) {
            const container = byName(ev, `app-${consumer}-0`);
            const uploads = reveal(uploadsOf(ev, container)) as { file: string; content: string }[];
            expect(uploads.find((u) => u.file === "/run/secrets/supabase_service_key")?.content).toBe(key(consumer));
            expect(containerEnv(container).SUPABASE_SERVICE_KEY_FILE).toBe("/run/secrets/supabase_service_key");
            expect(containerEnv(container).DATABASE_URL).toBe(
                // The consumer's own login, named for Supavisor as the owner's is (docs/operations/database-roles.md).
                `postgresql://toolboxai_${consumer}_${slots.active}.${REF}@pooler.offline.invalid:6543/postgres?sslmode=require`,
            );
        }
        const publishable = (byName(ev, "supabase-publishable-key").outputs.apiKey as SecretValue).value;
        const backendUploads = reveal(uploadsOf(ev, byName(ev, "app-backend-0"))) as { file: string; content: string }[];
        expect(backendUploads.find((u) => u.file === "/run/secrets/supabase_anon_key")?.content).toBe(publishable);
        expect(ev.outputs.supabaseProject).toMatchObject({
            ref: REF,
            managementApiUrl: "https://api.supabase.com",
            legacyKeysEnabled: true,
        });
    });

    it("creates the project from config: the credentials' password as [secret], everything on its host after it", async () => {
        // Create instead of adopt: prod's stack file with the ref and the hosts derived from it removed.
        const ev = await evaluateStack("prod", {
            overrides: CREATE,
        });
        const project = byName(ev, "supabase-project");
        expect(project.options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(project.inputs.ref).toBeUndefined();
        // The wire marks the whole object secret for its password: the plan shows `create` as [secret].
        expect(project.inputs.create).toBeInstanceOf(SecretValue);
        const create = (project.inputs.create as SecretValue).value as Record<string, unknown>;
        expect(create).toMatchObject({
            organizationSlug: "toolboxai-org",
            name: "toolboxai-prod",
            region: "eu-central-1",
            instanceSize: "small",
        });
        // The password the project is created with is the one the credentials component applies and stores in Vault.
        const apply = byName(ev, "credentials-apply-database-password");
        const env = (apply.inputs.environment as SecretValue).value as Record<string, string>;
        // Compared as a boolean: a failure never prints the password.
        expect(create.dbPass === env.NEW_PASSWORD, "the project's db_pass is the applied password").toBe(true);
        expect(
            project.options.dependencies.some(
                (d) => d.endsWith("credentials-database-password-a") || d.endsWith("credentials-database-password-b"),
            ),
        ).toBe(true);
        const text = toPlanText(ev);
        expect(text).not.toContain(env.NEW_PASSWORD);
        expect(text).toMatch(/^[\s│]*create: \[secret\]$/m);
        expect(findLeaks(ev, { text, json: JSON.stringify(toPlanJson(ev)) })).toEqual([]);
        // Hosts follow from the created ref, and whatever uses them waits for the project.
        const ref = String(project.outputs.ref);
        expect(ref).toMatch(/^[a-z]{20}$/);
        expect(env.PGHOST).toBe(`db.${ref}.supabase.co`);
        const dependsOnProject = (name: string) => byName(ev, name).options.dependencies.includes(project.urn);
        for (const name of [
            "credentials-apply-database-password",
            "credentials-kv-supabase",
            "migrations-push",
            "app-backup-0",
            "app-backend-0",
        ])
            expect(dependsOnProject(name), name).toBe(true);
        expect(byName(ev, "supabase-ssl").inputs.ref).toBe(ref);
        expect(containerEnv(byName(ev, "app-backend-0")).SUPABASE_URL).toBe(`https://${ref}.supabase.co`);
        expect(containerEnv(byName(ev, "app-backup-0")).PGHOST).toBe(`db.${ref}.supabase.co`);
        expect(ev.outputs.supabaseUrl).toBe(`https://${ref}.supabase.co`);
        expect(ev.outputs.database).toMatchObject({ host: `db.${ref}.supabase.co` });
    });

    it("leaves dev (local) without any Management API resource", async () => {
        const ev = await evaluateStack("dev");
        expect(ev.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic"))).toEqual([]);
        expect(ev.outputs.supabaseProject).toBeNull();
    });
});

describe("the providers as the engine ships them, against the double", () => {
    let api: ManagementApiDouble;
    beforeAll(async () => {
        api = await startManagementApiDouble();
    });
    afterAll(async () => api.close());

    /**
     * Loads serialized provider code as the provider host does (@pulumi/pulumi/cmd/dynamic-provider:
     * `requireFromString(text).handler()`, modules resolved from the working directory, the project).
     */
    function load(text: string): Required<pulumi.dynamic.ResourceProvider> {
        expect(process.cwd()).toBe(PROJECT_DIR);
        return (requireFromString(text) as { handler: () => Required<pulumi.dynamic.ResourceProvider> }).handler();
    }

    /** Serializes a provider as `pulumi.dynamic.Resource` does (in this process), and loads it back. */
    async function shipped(provider: pulumi.dynamic.ResourceProvider) {
        const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        return { text: sf.text, containsSecrets: sf.containsSecrets, provider: load(sf.text) };
    }

    it(
        "serialized under the engine's own TypeScript registration, the providers work against the double",
        { timeout: 180_000 },
        async () => {
            // engine-typescript.cjs: ts-node as the language host registers it, so the modules are CommonJS as in `pulumi up`.
            const { stdout } = await promisify(execFile)(
                process.execPath,
                [join(PROJECT_DIR, "test/support/engine-typescript.cjs"), PROJECT_DIR],
                {
                    cwd: PROJECT_DIR,
                    env: { ...process.env, ENGINE_TYPESCRIPT_MAIN: "test/support/serialize-providers.ts" },
                    maxBuffer: 64 * 1024 * 1024,
                },
            );
            const serialized = JSON.parse(stdout) as Record<string, { text: string; containsSecrets: boolean }>;
            expect(Object.keys(serialized).sort()).toEqual(
                Object.keys(providers)
                    .filter((k) => k.endsWith("Provider"))
                    .sort(),
            );
            for (const { text, containsSecrets } of Object.values(serialized)) {
                expect(containsSecrets).toBe(false);
                // Packages are required from node_modules at deployment, not inlined.
                expect(text).toContain('require("openapi-fetch")');
            }
            const project = api.addProject(REF);
            const conn = { apiUrl: api.url, accessToken: api.token, timeoutSeconds: 5 };
            // The client's error class survives serialization: the engine shows its message.
            const refused = await load(serialized.projectProvider.text)
                .create({ ...conn, ref: "nosuchprojectrefxxxx" })
                .catch((e: unknown) => e);
            expect(refused).toBeInstanceOf(Error);
            expect((refused as Error).message).toMatch(
                /^Supabase Management API GET \/v1\/projects\/\{ref\} answered 404: Project not found$/,
            );
            expect(String(refused)).toMatch(/^ManagementApiError: Supabase Management API GET/);
            const keyInputs = {
                ...conn,
                ref: REF,
                type: "secret",
                name: "toolboxai_worker_b7",
                description: "toolboxai worker",
                owner: "toolboxai/prod",
                deleteReason: "rotated",
            };
            const key = await load(serialized.apiKeyProvider.text).create(keyInputs);
            expect(project.keys.find((k) => k.id === key.id)?.api_key).toBe(key.outs?.apiKey);
            await load(serialized.apiKeyProvider.text).delete(key.id, key.outs);
            expect(project.deletedKeys.at(-1)).toMatchObject({ wasCompromised: "false", reason: "rotated" });
            await load(serialized.networkRestrictionsProvider.text).create({ ...conn, ref: REF, ipv4: ["198.51.100.0/24"], ipv6: [] });
            expect(project.network).toEqual({ dbAllowedCidrs: ["198.51.100.0/24"], dbAllowedCidrsV6: [] });
            for (const { text } of Object.values(serialized)) for (const secret of api.secrets()) expect(text.includes(secret)).toBe(false);
        },
    );

    it("serializes every provider without a secret, and the shipped code works over HTTP", { timeout: 120_000 }, async () => {
        const project = api.addProject(REF);
        const conn = { apiUrl: api.url, accessToken: api.token, timeoutSeconds: 2 };
        const runs: [pulumi.dynamic.ResourceProvider, Record<string, unknown>, string[]][] = [
            [providers.projectProvider, { ...conn, ref: REF }, []],
            [providers.sslEnforcementProvider, { ...conn, ref: REF, enforced: true }, []],
            [providers.networkRestrictionsProvider, { ...conn, ref: REF, ipv4: ["203.0.113.0/24"], ipv6: ["2001:db8::/48"] }, []],
            [providers.poolerProvider, { ...conn, ref: REF, poolMode: "transaction", defaultPoolSize: 20 }, []],
            [providers.authSettingsProvider, { ...conn, ref: REF, settings: { site_url: "https://app.toolboxai.example" } }, []],
            [providers.legacyKeysProvider, { ...conn, ref: REF, enabled: true }, ["jwtSecret"]],
            [providers.pitrProvider, { ...conn, ref: REF, variant: "off" }, []],
            [providers.computeProvider, { ...conn, ref: REF, poolSize: 20 }, []],
            [providers.readReplicasProvider, { ...conn, ref: REF, regions: [] }, []],
            [
                providers.apiKeyProvider,
                {
                    ...conn,
                    ref: REF,
                    type: "secret",
                    name: "toolboxai_backend_a1",
                    description: "toolboxai backend",
                    owner: "toolboxai/prod",
                    deleteReason: "rotated",
                },
                ["apiKey"],
            ],
        ];
        for (const [provider, inputs, secretOutputs] of runs) {
            const { text, containsSecrets, provider: loaded } = await shipped(provider);
            expect(containsSecrets).toBe(false);
            for (const secret of api.secrets()) expect(text.includes(secret)).toBe(false);
            const { id, outs } = await loaded.create(inputs);
            // The state's plain fields: everything but the outputs the resource marks secret (lib/supabase/resources.ts).
            const plain = Object.fromEntries(
                Object.entries(outs ?? {}).filter(([k]) => !["accessToken", "create", ...secretOutputs].includes(k)),
            );
            for (const secret of api.secrets())
                expect(JSON.stringify(plain).includes(secret), `${id}: a secret in a plain output`).toBe(false);
            expect((await loaded.read(id, outs)).id).toBe(id);
        }
        expect(project.ssl).toBe(true);
        expect(project.keys.some((k) => k.name === "toolboxai_backend_a1")).toBe(true);
    });

    it(
        "the walkthrough's `supabase projects create` (pinned CLI, SUPABASE_PROFILE) makes a project the program then adopts",
        { timeout: 60_000 },
        async () => {
            const home = mkdtempSync(join(tmpdir(), "supabase-profile-"));
            try {
                // The CLI reaches another API host only through a profile with exactly these four keys.
                writeFileSync(
                    join(home, "profile.yaml"),
                    `name: double\napi_url: ${api.url}\ndashboard_url: ${api.url}/dashboard\nproject_host: supabase.red\n`,
                );
                const password = "walkthrough-bootstrap-password-0123";
                const cli = join(PROJECT_DIR, "node_modules/.bin/supabase");
                const args = [
                    "projects",
                    "create",
                    "toolboxai-prod",
                    "--org-id",
                    "toolboxai-org",
                    "--region",
                    "eu-central-1",
                    "--db-password",
                    password,
                    "--output-format",
                    "json",
                ];
                const { stdout, stderr } = await promisify(execFile)(cli, args, {
                    cwd: home,
                    env: { ...process.env, HOME: home, SUPABASE_PROFILE: join(home, "profile.yaml"), SUPABASE_ACCESS_TOKEN: api.token },
                });
                const created = JSON.parse(stdout.slice(stdout.indexOf("{"), stdout.lastIndexOf("}") + 1)) as { ref: string };
                expect(api.log.find((r) => r.operation === "POST /v1/projects")).toMatchObject({
                    status: 201,
                    body: { organization_slug: "toolboxai-org", region: "eu-central-1" },
                });
                expect(`${stdout}${stderr}`).not.toContain(password);
                const adopted = await shipped(providers.projectProvider);
                const { outs } = await adopted.provider.create({
                    apiUrl: api.url,
                    accessToken: api.token,
                    ref: created.ref,
                    pollSeconds: 0.01,
                });
                expect(outs).toMatchObject({ ref: created.ref, status: "ACTIVE_HEALTHY", name: "toolboxai-prod" });
            } finally {
                rmSync(home, { recursive: true, force: true });
            }
        },
    );

    it("creates the project from a create-mode stack's own inputs, through the shipped provider", { timeout: 60_000 }, async () => {
        // The project resource's inputs exactly as the program builds them from config (token and URL: the double's).
        const ev = await evaluateStack("prod", {
            secrets: { supabaseAccessToken: api.token },
            overrides: { ...CREATE, supabaseApiUrl: api.url },
        });
        const inputs = reveal(byName(ev, "supabase-project").inputs) as Record<string, unknown>;
        delete inputs.__provider;
        const password = (inputs.create as { dbPass: string }).dbPass;
        const { provider } = await shipped(providers.projectProvider);
        const { id, outs } = await provider.create({ ...inputs, pollSeconds: 0.01 });
        const post = api.log.filter((r) => r.operation === "POST /v1/projects").at(-1)!;
        expect(post.status).toBe(201);
        expect(post.body).toMatchObject({
            name: "toolboxai-prod",
            organization_slug: "toolboxai-org",
            region_selection: { type: "specific", code: "eu-central-1" },
            desired_instance_size: "small",
        });
        // The project got the password the credentials component applies and writes to Vault; it is never stored.
        expect((post.body as { db_pass?: string }).db_pass === password, "db_pass is the credentials' password").toBe(true);
        expect(outs).toMatchObject({ ref: id, status: "ACTIVE_HEALTHY", databaseHost: `db.${id}.supabase.co` });
        expect(JSON.stringify(outs).includes(password)).toBe(false);
        // A rotated password (a new create.dbPass) neither replaces nor updates the project.
        const rotated = {
            ...inputs,
            ref: undefined,
            create: { ...(inputs.create as object), dbPass: "rotated-password-0123456789abcdef" },
        };
        expect(await provider.diff(id, outs, rotated)).toMatchObject({ changes: false, replaces: [] });
        // Switching the stack to adopt the created project (its ref set, the creation settings removed) keeps the resource.
        expect(await provider.diff(id, outs, { ...inputs, ref: id, create: undefined })).toMatchObject({ changes: false, replaces: [] });
    });

    it(
        "the shipped key provider keeps the ownership rule: the marker, read back, refuses another stack's key",
        { timeout: 60_000 },
        async () => {
            const project = api.addProject(REF);
            const { provider } = await shipped(providers.apiKeyProvider);
            const inputs = {
                apiUrl: api.url,
                accessToken: api.token,
                timeoutSeconds: 2,
                ref: REF,
                type: "secret",
                name: "toolboxai_worker_a9",
                description: "toolboxai worker (rotation slot a)",
                owner: "toolboxai/prod",
                deleteReason: "rotated",
            };
            const { id, outs } = await provider.create(inputs);
            expect(project.keys.find((k) => k.id === id)?.description).toBe(
                "toolboxai worker (rotation slot a) [managed by pulumi toolboxai/prod]",
            );
            await expect(provider.create({ ...inputs, owner: "toolboxai/staging" })).rejects.toThrow(
                /belongs to the Pulumi stack toolboxai\/prod/,
            );
            await expect(provider.delete(id, { ...outs, owner: "toolboxai/staging" })).rejects.toThrow(/it is not deleted/);
            expect(project.keys.some((k) => k.id === id)).toBe(true);
        },
    );

    it("plans prod with the double's token and URL without showing either secret", async () => {
        const ev = await evaluateStack("prod", { secrets: { supabaseAccessToken: api.token }, overrides: { supabaseApiUrl: api.url } });
        const rendered = {
            text: toPlanText(ev),
            json: JSON.stringify(toPlanJson(ev)),
            outputs: JSON.stringify(reveal(Object.fromEntries(Object.entries(ev.outputs).filter(([, v]) => !(v instanceof SecretValue))))),
        };
        expect(findLeaks(ev, rendered)).toEqual([]);
        for (const text of Object.values(rendered)) expect(text.includes(api.token)).toBe(false);
        expect(byName(ev, "supabase-project").inputs.apiUrl).toBe(api.url);
    });
});
