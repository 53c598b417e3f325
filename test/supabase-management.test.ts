/**
 * The hosted project's dynamic providers (lib/supabase/providers.ts), driven over HTTP against
 * the Management API double (test/support/management-api-double.ts), which validates every
 * request against the spec: adopt and create, each setting applied then drifted and detected,
 * key rotation over two boundaries, every injected fault, and no secret in any error or log.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { passwordSlots, rotationPeriod } from "../lib/credentials";
import {
    apiKeyProvider,
    authSettingsProvider,
    legacyKeysProvider,
    networkRestrictionsProvider,
    poolerProvider,
    projectProvider,
    sslEnforcementProvider,
} from "../lib/supabase/providers";
import { secretKeyName, type KeySlot } from "../lib/supabase/rules";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
// Planted secrets (the token, every key value, the JWT secret, the database passwords) must appear in no error or log.
const double = useManagementApiDouble({ watchConsole: true });
const failure = double.failure;

// Generous on a loaded machine; the hang test sets its own short timeout.
const conn = (timeoutSeconds = 5) => ({ apiUrl: double.api.url, accessToken: double.api.token, timeoutSeconds });

type P = Required<pulumi.dynamic.ResourceProvider>;
const p = <T>(provider: pulumi.dynamic.ResourceProvider) => provider as P & T;

describe("the project: adopt by ref, or create", () => {
    it("adopts an ACTIVE_HEALTHY project by ref and never deletes it", async () => {
        double.api.addProject(REF);
        const { id, outs } = await p(projectProvider).create({ ...conn(), ref: REF });
        expect(id).toBe(REF);
        expect(outs).toMatchObject({ ref: REF, status: "ACTIVE_HEALTHY", databaseHost: `db.${REF}.supabase.co` });
        await p(projectProvider).delete(id, outs);
        expect(double.api.projects.has(REF)).toBe(true);
        expect(double.api.log.map((r) => r.operation)).not.toContain("DELETE /v1/projects/{ref}");
    });

    it("refuses a ref that does not exist, naming the status", async () => {
        expect(await failure(p(projectProvider).create({ ...conn(), ref: "nosuchprojectrefxxxx" }))).toMatch(
            /GET \/v1\/projects\/\{ref\} answered 404: Project not found/,
        );
    });

    it("creates a project with the spec's body and waits for ACTIVE_HEALTHY", async () => {
        const dbPass = "generated-database-password-0123456789";
        const { id, outs } = await p(projectProvider).create({
            ...conn(),
            create: { organizationSlug: "toolboxai-org", name: "toolboxai-prod", region: "eu-central-1", instanceSize: "small", dbPass },
            pollSeconds: 0.01,
        });
        const post = double.api.log.find((r) => r.operation === "POST /v1/projects")!;
        expect(post.status).toBe(201);
        expect(post.body).toMatchObject({
            organization_slug: "toolboxai-org",
            region_selection: { type: "specific", code: "eu-central-1" },
            desired_instance_size: "small",
        });
        expect(double.api.log.filter((r) => r.operation === "GET /v1/projects/{ref}").length).toBe(3);
        expect(outs).toMatchObject({ ref: id, status: "ACTIVE_HEALTHY", region: "eu-central-1" });
        expect(JSON.stringify(outs)).not.toContain(dbPass);
    });

    it("fails clearly on a terminal status, and on one that never reaches ACTIVE_HEALTHY", async () => {
        double.api.addProject(REF, { statuses: ["COMING_UP", "INIT_FAILED"] });
        expect(await failure(p(projectProvider).create({ ...conn(), ref: REF, pollSeconds: 0.01 }))).toMatch(
            /is INIT_FAILED, which it will not leave by itself/,
        );
        double.api.addProject(REF, { statuses: ["COMING_UP"] });
        // Either way it says so: the last look answered before the deadline, or (on a loaded machine)
        // the deadline came while it was under way.
        expect(await failure(p(projectProvider).create({ ...conn(), ref: REF, pollSeconds: 0.05, waitSeconds: 0.3 }))).toMatch(
            /still COMING_UP after 0\.3 s \(expected ACTIVE_HEALTHY\)|did not reach ACTIVE_HEALTHY within 0\.3 s \(last seen COMING_UP;/,
        );
    });
});

describe("settings: applied, drifted out of band, detected by read and diff", () => {
    /** Applies `inputs`, checks the project, changes it out of band, and returns what refresh then shows and diff says. */
    async function cycle<I extends Record<string, unknown>>(provider: P, inputs: I, drift: () => void) {
        const { id, outs } = await provider.create(inputs);
        const clean = await provider.read(id, outs);
        expect((await provider.diff(id, clean.props!, inputs)).changes).toBe(false);
        drift();
        const refreshed = await provider.read(id, outs);
        return { id, outs, refreshed: refreshed.props!, diff: await provider.diff(id, refreshed.props!, inputs) };
    }

    it("SSL enforcement", async () => {
        const project = double.api.addProject(REF);
        const r = await cycle(p(sslEnforcementProvider), { ...conn(), ref: REF, enforced: true }, () => void (project.ssl = false));
        expect(r.refreshed.enforced).toBe(false);
        expect(r.diff).toMatchObject({ changes: true, replaces: [] });
        await p(sslEnforcementProvider).update(r.id, r.refreshed, { ...conn(), ref: REF, enforced: true });
        expect(project.ssl).toBe(true);
    });

    it("network restrictions, IPv4 and IPv6, replaced as a whole", async () => {
        const project = double.api.addProject(REF);
        const inputs = { ...conn(), ref: REF, ipv4: ["203.0.113.0/24"], ipv6: ["2001:db8::/48"] };
        const r = await cycle(p(networkRestrictionsProvider), inputs, () => void project.network.dbAllowedCidrs.push("0.0.0.0/0"));
        expect(double.api.log.find((x) => x.operation.endsWith("/network-restrictions/apply"))!.body).toEqual({
            dbAllowedCidrs: ["203.0.113.0/24"],
            dbAllowedCidrsV6: ["2001:db8::/48"],
        });
        expect(r.refreshed.ipv4).toEqual(["203.0.113.0/24", "0.0.0.0/0"]);
        expect(r.diff.changes).toBe(true);
    });

    it("pooler: transaction mode and pool size; host, port and user come from the API", async () => {
        const project = double.api.addProject(REF);
        const r = await cycle(
            p(poolerProvider),
            { ...conn(), ref: REF, poolMode: "transaction", defaultPoolSize: 20 },
            () => void (project.pooler = { pool_mode: "session", default_pool_size: 15 }),
        );
        expect(r.outs).toMatchObject({
            host: "aws-0-eu-central-1.pooler.supabase.com",
            port: 6543,
            user: `postgres.${REF}`,
            defaultPoolSize: 20,
        });
        expect(r.refreshed).toMatchObject({ poolMode: "session", defaultPoolSize: 15 });
        expect(r.diff.changes).toBe(true);
    });

    it("auth: sends and reads only the settings the deployment owns", async () => {
        const project = double.api.addProject(REF);
        const before = { ...project.auth };
        const settings = { site_url: "https://app.toolboxai.example", disable_signup: true };
        const r = await cycle(
            p(authSettingsProvider),
            { ...conn(), ref: REF, settings },
            () => void (project.auth.site_url = "http://127.0.0.1:3000"),
        );
        expect(double.api.log.find((x) => x.operation === "PATCH /v1/projects/{ref}/config/auth")!.body).toEqual(settings);
        expect(r.refreshed.settings).toEqual({ site_url: "http://127.0.0.1:3000", disable_signup: true });
        expect(r.diff.changes).toBe(true);
        // Everything it does not own is as it was.
        expect({ ...project.auth, site_url: undefined, disable_signup: undefined }).toEqual({
            ...before,
            site_url: undefined,
            disable_signup: undefined,
        });
    });

    it("legacy keys: the JWT secret is readable while they are on; the switch turns them off", async () => {
        const project = double.api.addProject(REF);
        const on = await p(legacyKeysProvider).create({ ...conn(), ref: REF, enabled: true });
        expect(on.outs).toMatchObject({ enabled: true, jwtSecret: project.jwtSecret });
        const off = await p(legacyKeysProvider).update(on.id, on.outs, { ...conn(), ref: REF, enabled: false });
        expect(project.legacyEnabled).toBe(false);
        expect(off.outs).toMatchObject({ enabled: false, jwtSecret: null });
        project.legacyEnabled = true;
        expect(
            (
                await p(legacyKeysProvider).diff(on.id, (await p(legacyKeysProvider).read(on.id, off.outs!)).props!, {
                    ...conn(),
                    ref: REF,
                    enabled: false,
                })
            ).changes,
        ).toBe(true);
    });
});

describe("secret keys: rotation over two boundaries, with overlap and revocation", () => {
    const DAY = 86_400_000;
    const start = Date.parse("2026-10-01T00:00:00Z");

    /**
     * What the engine does with the two slot resources of one consumer at a `pulumi up`: a slot
     * whose name changed is replaced (create the new key first); then the dependents (Vault, the
     * containers) take the active key; the replaced keys are deleted at the end.
     */
    async function up(state: Map<KeySlot, { id: string; outs: Record<string, unknown> }>, at: number, running: { key?: string }) {
        const slots = passwordSlots(rotationPeriod(new Date(at), 90), 0);
        const replaced: { id: string; outs: Record<string, unknown> }[] = [];
        for (const slot of ["a", "b"] as const) {
            const name = secretKeyName("backend", slot, slots);
            const inputs = {
                ...conn(),
                ref: REF,
                type: "secret",
                name,
                description: "toolboxai backend",
                owner: "toolboxai/prod",
                deleteReason: "rotated by toolboxai (scheduled)",
            };
            const old = state.get(slot);
            if (old && !(await p(apiKeyProvider).diff(old.id, old.outs, inputs)).changes) continue;
            const created = await p(apiKeyProvider).create(inputs);
            state.set(slot, { id: created.id, outs: created.outs ?? {} });
            if (old) replaced.push(old);
        }
        const key = String(state.get(slots.active)!.outs.apiKey);
        // The running containers' key is still valid up to the moment they are replaced.
        const project = double.api.projects.get(REF)!;
        if (running.key) expect(project.keys.map((k) => k.api_key)).toContain(running.key);
        running.key = key;
        for (const old of replaced) await p(apiKeyProvider).delete(old.id, old.outs);
        expect(project.keys.map((k) => k.api_key)).toContain(running.key);
        return slots;
    }

    it("keeps the previous key one period, deletes the one from two periods back, never the one in use", async () => {
        const project = double.api.addProject(REF);
        const state = new Map<KeySlot, { id: string; outs: Record<string, unknown> }>();
        const running: { key?: string } = {};
        const names = () =>
            project.keys
                .filter((k) => k.name.startsWith("toolboxai_backend"))
                .map((k) => k.name)
                .sort();

        const s0 = await up(state, start, running);
        expect(names()).toEqual([secretKeyName("backend", "a", s0), secretKeyName("backend", "b", s0)].sort());
        expect(project.deletedKeys).toEqual([]);
        await up(state, start + DAY, running); // same period: nothing changes
        expect(double.api.log.filter((r) => r.operation === "POST /v1/projects/{ref}/api-keys")).toHaveLength(2);

        // One boundary: one slot gets a new key; the other (in use until now) stays.
        const s1 = await up(state, start + 90 * DAY, running);
        expect(project.deletedKeys).toHaveLength(1);
        expect(names()).toEqual([secretKeyName("backend", "a", s1), secretKeyName("backend", "b", s1)].sort());
        const first = project.deletedKeys[0];
        expect(first).toMatchObject({ wasCompromised: "false", reason: "rotated by toolboxai (scheduled)" });

        // Two boundaries at once (a missed quarter): both slots are new; the old ones go only after the deploy.
        const s3 = await up(state, start + 270 * DAY, running);
        expect(project.deletedKeys).toHaveLength(3);
        expect(names()).toEqual([secretKeyName("backend", "a", s3), secretKeyName("backend", "b", s3)].sort());
        expect(project.deletedKeys.every((d) => d.wasCompromised === "false" && d.reason.length > 0)).toBe(true);
        // The untouched legacy and default keys are still there.
        expect(
            project.keys
                .filter((k) => !k.name.startsWith("toolboxai_"))
                .map((k) => k.name)
                .sort(),
        ).toEqual(["anon", "default", "default", "service_role"]);
    });

    it("adopts a key its own timed-out create made, instead of a second one; refresh drops a key deleted out of band", async () => {
        const project = double.api.addProject(REF);
        const inputs = {
            ...conn(),
            ref: REF,
            type: "secret",
            name: "toolboxai_worker_a1",
            description: "toolboxai worker",
            owner: "toolboxai/prod",
            deleteReason: "rotated",
        };
        const first = await p(apiKeyProvider).create(inputs);
        const again = await p(apiKeyProvider).create(inputs);
        expect(again.id).toBe(first.id);
        project.keys = project.keys.filter((k) => k.id !== first.id);
        expect(await p(apiKeyProvider).read(first.id, first.outs)).toEqual({});
    });
});

describe("faults: a clear error or a bounded retry, and nothing half-applied", () => {
    it("401 and 403 name supabaseAccessToken and the missing permission", async () => {
        double.api.addProject(REF);
        expect(
            await failure(p(sslEnforcementProvider).create({ ...conn(), accessToken: `sbp_${"0".repeat(40)}`, ref: REF, enforced: true })),
        ).toMatch(
            /refused PUT \/v1\/projects\/\{ref\}\/ssl-enforcement \(401\): the access token in toolboxai:supabaseAccessToken is not valid/,
        );
        double.api.inject({ operation: "POST /v1/projects/{ref}/api-keys", status: 403 });
        const message = await failure(
            p(apiKeyProvider).create({
                ...conn(),
                ref: REF,
                type: "secret",
                name: "toolboxai_backend_a1",
                description: "x",
                owner: "toolboxai/prod",
                deleteReason: "x",
            }),
        );
        expect(message).toMatch(/\(403\): the access token in toolboxai:supabaseAccessToken lacks a permission \(api_gateway_keys_write\)/);
        expect(double.api.projects.get(REF)!.keys.map((k) => k.name)).not.toContain("toolboxai_backend_a1");
    });

    it("429 waits for X-RateLimit-Reset, then succeeds", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: "PUT /v1/projects/{ref}/ssl-enforcement", status: 429, resetSeconds: 1 });
        const t0 = Date.now();
        await p(sslEnforcementProvider).create({ ...conn(), ref: REF, enforced: true });
        expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
        expect(double.api.log.map((r) => r.status)).toEqual([429, 200]);
        expect(project.ssl).toBe(true);
    });

    it("a 500 on a read is retried with backoff, a bounded number of times", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: "GET /v1/projects/{ref}/ssl-enforcement", status: 500, times: 2 });
        const ok = await p(sslEnforcementProvider).read(`${REF}/ssl-enforcement`, { ...conn(), ref: REF, enforced: true });
        expect(ok.props!.enforced).toBe(false);
        double.api.inject({ operation: "GET /v1/projects/{ref}/ssl-enforcement", status: 500, times: 5 });
        expect(await failure(p(sslEnforcementProvider).read(`${REF}/ssl-enforcement`, { ...conn(), ref: REF, enforced: true }))).toMatch(
            /failed after 3 attempts: server error 500/,
        );
    }, 20_000);

    it("a 500 on a change is not repeated, and changes nothing", async () => {
        const project = double.api.addProject(REF);
        const before = structuredClone(project.auth);
        double.api.inject({ operation: "PATCH /v1/projects/{ref}/config/auth", status: 500 });
        expect(
            await failure(p(authSettingsProvider).create({ ...conn(), ref: REF, settings: { site_url: "https://app.toolboxai.example" } })),
        ).toMatch(/not retried, because it changes the project/);
        expect(double.api.log.filter((r) => r.operation === "PATCH /v1/projects/{ref}/config/auth")).toHaveLength(1);
        expect(project.auth).toEqual(before);
    });

    it("a hang hits the timeout: reads retry, changes do not", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: "GET /v1/projects/{ref}", hang: true, times: 3 });
        expect(await failure(p(projectProvider).create({ ...conn(0.5), ref: REF }))).toMatch(
            /GET \/v1\/projects\/\{ref\} failed after 3 attempts: no answer within 0.5 s/,
        );
        double.api.inject({ operation: "POST /v1/projects/{ref}/network-restrictions/apply", hang: true });
        expect(
            await failure(p(networkRestrictionsProvider).create({ ...conn(0.5), ref: REF, ipv4: ["203.0.113.0/24"], ipv6: [] })),
        ).toMatch(/not retried.*no answer within 0.5 s/);
        expect(double.api.log.filter((r) => r.operation.endsWith("/apply"))).toHaveLength(1);
        expect(double.api.projects.get(REF)!.network.dbAllowedCidrs).toEqual(["0.0.0.0/0"]);
    }, 20_000);

    it("a 404 on a setting names the operation", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: "GET /v1/projects/{ref}/config/database/pooler", status: 404 });
        expect(
            await failure(p(poolerProvider).read(`${REF}/pooler`, { ...conn(), ref: REF, poolMode: "transaction", defaultPoolSize: 20 })),
        ).toMatch(/GET \/v1\/projects\/\{ref\}\/config\/database\/pooler answered 404/);
    });

    it("the double refuses a body the spec refuses (so the providers' bodies are checked)", async () => {
        double.api.addProject(REF);
        expect(
            await failure(
                p(apiKeyProvider).create({
                    ...conn(),
                    ref: REF,
                    type: "secret",
                    name: "Bad-Name",
                    description: "x",
                    owner: "toolboxai/prod",
                    deleteReason: "x",
                }),
            ),
        ).toMatch(/answered 400: body does not match the spec/);
    });
});
