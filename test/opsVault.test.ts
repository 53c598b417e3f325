/**
 * doctor's Vault check against a stand-in for Vault's HTTP API (no Vault server is available to
 * the tests): AppRole role-id, secret-id, login and KV v2 reads, each token allowed exactly the
 * `read` paths of the policy the program generates (lib/credentials.ts readOnlyPolicy). A stand-in
 * written from Vault's API documentation, not Vault itself: it checks the tool's flow and verdicts.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSUMER_READS, readOnlyPolicy, type Consumer } from "../lib/credentials";
import { DEFAULT_MIGRATIONS_DIR, type Context } from "../ops/context";
import { doctor } from "../ops/doctor";
import { VaultClient } from "../ops/vault";

const ROOT = "root-token-for-the-stand-in-3f9a";
const MOUNT = "secret";
const PREFIX = "toolboxai-dev";
const APPROLE = "toolboxai-dev-approle";

/** The policy each role carries; a test swaps one to plant a fault. */
const policies: Record<Consumer, string> = { backend: "", worker: "" };
const readable = (policy: string) => [...policy.matchAll(/path "([^"]+)" \{\n {2}capabilities = \["read"\]/g)].map((m) => m[1]);
const tokens = new Map<string, Consumer>();
const secretIds = new Map<string, Consumer>();
let server: Server;
let address: string;
let destroyed = 0;

beforeAll(async () => {
    server = createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
            const send = (status: number, json?: object) => {
                res.writeHead(status, { "Content-Type": "application/json" });
                res.end(json ? JSON.stringify(json) : "");
            };
            const token = String(req.headers["x-vault-token"] ?? "");
            const path = (req.url ?? "").replace(/^\/v1\//, "");
            const role = /^auth\/([^/]+)\/role\/(backend|worker)\/(role-id|secret-id|secret-id-accessor\/destroy)$/.exec(path);
            if (role && role[1] === APPROLE) {
                if (token !== ROOT) return send(403, { errors: ["permission denied"] });
                const consumer = role[2] as Consumer;
                if (role[3] === "role-id") return send(200, { data: { role_id: `role-${consumer}` } });
                if (role[3] === "secret-id") {
                    const id = `sid-${consumer}-${Math.random()}`;
                    secretIds.set(id, consumer);
                    return send(200, { data: { secret_id: id, secret_id_accessor: `acc-${id}` } });
                }
                destroyed++;
                return send(204);
            }
            if (path === `auth/${APPROLE}/login` && req.method === "POST") {
                const { role_id, secret_id } = JSON.parse(body) as { role_id: string; secret_id: string };
                const consumer = secretIds.get(secret_id);
                if (!consumer || role_id !== `role-${consumer}`) return send(400, { errors: ["invalid role or secret ID"] });
                secretIds.delete(secret_id);
                const t = `tok-${consumer}-${Math.random()}`;
                tokens.set(t, consumer);
                return send(200, { auth: { client_token: t } });
            }
            if (req.method === "GET" && path.startsWith(`${MOUNT}/data/`)) {
                const consumer = tokens.get(token);
                if (token !== ROOT && (!consumer || !readable(policies[consumer]).includes(path)))
                    return send(403, { errors: ["1 error occurred:\n\t* permission denied\n\n"] });
                return send(200, { data: { data: { value: "stored" } } });
            }
            send(404, { errors: [] });
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    address = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server?.close());

function context(): Context {
    return {
        schedule: "0 2 * * *",
        migrationsDir: DEFAULT_MIGRATIONS_DIR,
        sources: {},
        vault: { client: new VaultClient(address, ROOT), mount: MOUNT, pathPrefix: PREFIX, appRoleMount: APPROLE },
    };
}

const vaultChecks = async () =>
    (
        await doctor(context(), { longQuerySeconds: 300, exposedSchemas: ["public"], skip: ["database", "pooler", "redis", "backups"] })
    ).filter((c) => c.group === "vault");

describe("doctor: Vault AppRoles", () => {
    it("passes when each consumer reads exactly its own paths", async () => {
        for (const c of ["backend", "worker"] as const) policies[c] = readOnlyPolicy(MOUNT, PREFIX, CONSUMER_READS[c]);
        const checks = await vaultChecks();
        expect(checks.map((c) => [c.name, c.status])).toEqual([
            ["backend AppRole", "pass"],
            ["worker AppRole", "pass"],
        ]);
        // Each single-use secret-id made for the check is destroyed afterwards.
        expect(destroyed).toBe(2);
    });

    it("fails a consumer that may read another consumer's secret, and one refused its own", async () => {
        policies.worker = readOnlyPolicy(MOUNT, PREFIX, [...CONSUMER_READS.worker, "supabase"]);
        policies.backend = readOnlyPolicy(MOUNT, PREFIX, ["supabase"]);
        const [backend, worker] = await vaultChecks();
        expect(worker).toMatchObject({
            status: "fail",
            evidence: expect.stringContaining(`may read ${MOUNT}/data/${PREFIX}/supabase, another consumer's`),
        });
        expect(backend).toMatchObject({
            status: "fail",
            evidence: expect.stringContaining(`cannot read its own ${MOUNT}/data/${PREFIX}/database`),
        });
        expect(worker.fix).toMatch(/pulumi up/);
    });

    it("fails when the operator's token may not create secret-ids, without printing the token", async () => {
        const ctx = context();
        ctx.vault!.client = new VaultClient(address, "not-the-root-token-77");
        const checks = (
            await doctor(ctx, { longQuerySeconds: 300, exposedSchemas: ["public"], skip: ["database", "pooler", "redis", "backups"] })
        ).filter((c) => c.group === "vault");
        expect(checks[0]).toMatchObject({
            status: "fail",
            evidence: expect.stringMatching(
                /login: GET auth\/toolboxai-dev-approle\/role\/backend\/role-id: HTTP 403 \(permission denied\)/,
            ),
        });
        expect(JSON.stringify(checks)).not.toContain("not-the-root-token-77");
    });
});
