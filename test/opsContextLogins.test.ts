/**
 * Which database login each ops command gets from a stack (ops/context.ts): doctor the backup's
 * read-only login when Vault has it (else the backend's), import the owner of the tables; a flag
 * wins for both. Against a small KV v2 double of Vault over HTTP (the tests run no Vault server).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveContext } from "../ops/context";

const TOKEN = "test-deployer-token";
let server: Server;
let address: string;
let work: string;
/** KV v2 data by path under the mount, as `vault kv put` would hold it. */
let secrets: Record<string, Record<string, string>>;

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolboxai-ops-context-"));
    server = createServer((req, res) => {
        const path = /^\/v1\/secret\/data\/(.+)$/.exec(req.url ?? "")?.[1];
        const data = path && req.headers["x-vault-token"] === TOKEN ? secrets[path] : undefined;
        res.writeHead(data ? 200 : 404, { "Content-Type": "application/json" });
        res.end(JSON.stringify(data ? { data: { data } } : { errors: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(work, { recursive: true, force: true });
});

function outputsFile(): string {
    const file = join(work, "outputs.json");
    writeFileSync(
        file,
        JSON.stringify({
            database: {
                host: "db.example.internal",
                port: 5432,
                name: "postgres",
                sslMode: "require",
                ownerUser: "postgres",
                pooler: null,
            },
            vault: { address, mount: "secret", pathPrefix: "toolboxai-prod", appRoleMount: "approle", policies: {} },
        }),
    );
    return file;
}

const userOf = (url: string | undefined) => (url ? decodeURIComponent(new URL(url).username) : undefined);

describe("the database login each ops command gets from a stack", () => {
    it("doctor: the backup's read-only login; import: the owner", async () => {
        secrets = {
            "toolboxai-prod/database": { password: "owner-password-0123456789abcdef" },
            "toolboxai-prod/database/backup": { username: "toolboxai_backup_b", password: "backup-password-0123456789abcdef" },
            "toolboxai-prod/supabase": { database_url: "postgresql://toolboxai_backend_b:pw@db.example.internal:5432/postgres" },
        };
        const ctx = await resolveContext({ outputs: outputsFile() }, { VAULT_TOKEN: TOKEN });
        expect(userOf(ctx.databaseUrl)).toBe("toolboxai_backup_b");
        expect(new URL(ctx.databaseUrl!).host).toBe("db.example.internal:5432");
        expect(userOf(ctx.ownerDatabaseUrl)).toBe("postgres");
        expect(ctx.sources.database).toBe("vault");
    });

    it("a stack without the backup's own login (backupDatabaseLogin owner): doctor falls back to the backend's login", async () => {
        secrets = {
            "toolboxai-prod/database": { password: "owner-password-0123456789abcdef" },
            "toolboxai-prod/supabase": { database_url: "postgresql://toolboxai_backend_a:pw@db.example.internal:5432/postgres" },
        };
        const ctx = await resolveContext({ outputs: outputsFile() }, { VAULT_TOKEN: TOKEN });
        expect(userOf(ctx.databaseUrl)).toBe("toolboxai_backend_a");
        expect(userOf(ctx.ownerDatabaseUrl)).toBe("postgres");
    });

    it("--database-url wins for both", async () => {
        const ctx = await resolveContext(
            { outputs: outputsFile(), "database-url": "postgresql://someone@h:5432/d" },
            { VAULT_TOKEN: TOKEN },
        );
        expect([userOf(ctx.databaseUrl), userOf(ctx.ownerDatabaseUrl)]).toEqual(["someone", "someone"]);
    });
});
