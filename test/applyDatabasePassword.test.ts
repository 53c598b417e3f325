/** scripts/apply-database-password.ts against a real PostgreSQL 15: it rotates a role's password, never sends or prints one. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScramVerifier, scramSha256Verifier } from "../lib/databasePassword";
import { PROJECT_DIR } from "./harness";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
/** As SupabaseCredentials runs it, from the project folder. */
const APPLY = ["-r", "./scripts/register.js", "scripts/apply-database-password.ts"];
const pw = (tag: string) => `${tag}${"0123456789abcdefABCDEF".repeat(2)}`.slice(0, 40);
const BOOTSTRAP = "bootstrap-password-of-the-role";
const A = pw("slotA");
const B = pw("slotB");

let pg: PostgresServer;
beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`CREATE ROLE app LOGIN PASSWORD '${BOOTSTRAP}'`);
    // Every statement the server receives goes to its log from here on.
    await pg.sql("ALTER SYSTEM SET log_statement = 'all'");
    await pg.sql("SELECT pg_reload_conf()");
});
afterAll(async () => pg?.stop());

type Env = { NEW_PASSWORD: string; CURRENT_PASSWORD: string; BOOTSTRAP_PASSWORD: string };

async function apply(env: Env) {
    // TOOLBOXAI_TS_CACHE=off: the loader's cache would land in the shared node_modules.
    const base = { PATH: process.env.PATH, TOOLBOXAI_TS_CACHE: "off", PGHOST: pg.host, PGPORT: String(pg.port), PGDATABASE: "postgres", PGUSER: "app", PGSSLMODE: "disable" };
    try {
        const { stdout, stderr } = await run(process.execPath, APPLY, { cwd: PROJECT_DIR, env: { ...base, ...env } });
        return { code: 0, stdout, output: stdout + stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, output: e.stdout + e.stderr };
    }
}

async function logsIn(password: string): Promise<boolean> {
    try {
        await run("psql", ["-X", "-q", "-t", "-c", "select 1"], { env: { PATH: process.env.PATH, PGHOST: pg.host, PGPORT: String(pg.port), PGDATABASE: "postgres", PGUSER: "app", PGPASSWORD: password } });
        return true;
    } catch {
        return false;
    }
}

const serverLog = () => readFileSync(pg.logFile, "utf8");

describe("apply-database-password.ts on PostgreSQL", () => {
    it("first deployment: logs in with the bootstrap password and sets the generated one", async () => {
        const result = await apply({ NEW_PASSWORD: A, CURRENT_PASSWORD: B, BOOTSTRAP_PASSWORD: BOOTSTRAP });
        expect(result.code).toBe(0);
        expect(result.output).toMatch(/rotated/);
        expect(await logsIn(A)).toBe(true);
        expect(await logsIn(BOOTSTRAP)).toBe(false);
    });

    it("sends the server a SCRAM verifier made on the client: the statement log holds no password, and the role stores what was sent", async () => {
        const next = pw("slotBnext");
        const logBefore = serverLog().length;
        const result = await apply({ NEW_PASSWORD: next, CURRENT_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
        expect(result.code).toBe(0);
        expect(await logsIn(next)).toBe(true);
        expect(await logsIn(A)).toBe(false);

        const log = serverLog().slice(logBefore);
        // A boolean, so that a failure doesn't print the log (or the password) itself.
        expect(log.includes(next), "the new password is in the server's log").toBe(false);
        // The log did record the statement (log_statement = all): with the verifier in it.
        const sent = [...log.matchAll(/ALTER ROLE CURRENT_USER WITH PASSWORD '([^']+)'/g)].map((m) => m[1]);
        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatch(/^SCRAM-SHA-256\$4096:/);
        // PostgreSQL kept it as sent (a server-side hash would have a salt of its own), and it is the new password's.
        expect(await pg.sql("select rolpassword from pg_authid where rolname = 'app'")).toBe(sent[0]);
        const { salt, iterations } = parseScramVerifier(sent[0]);
        expect(salt).toHaveLength(16);
        expect(scramSha256Verifier(next, salt, iterations)).toBe(sent[0]);
    });

    it("changes nothing when the database already has the new password", async () => {
        const again = await apply({ NEW_PASSWORD: pw("slotBnext"), CURRENT_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
        expect(again.code).toBe(0);
        expect(again.output).toMatch(/already has the new password/);
    });

    it("fails clearly, without printing a password, when no known password logs in", async () => {
        const wrong = pw("wrongwrong");
        const result = await apply({ NEW_PASSWORD: pw("slotAnew"), CURRENT_PASSWORD: wrong, BOOTSTRAP_PASSWORD: "also-wrong-password" });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/cannot log in to app@127\.0\.0\.1:\d+\/postgres .* set databaseBootstrapPassword/);
        for (const secret of [pw("slotAnew"), wrong, "also-wrong-password"]) expect(result.output.includes(secret), "a password in the output").toBe(false);
    });

    it("refuses a new password that is not letters and digits", async () => {
        const result = await apply({ NEW_PASSWORD: `${pw("x")}'; DROP ROLE app; --`, CURRENT_PASSWORD: pw("slotBnext"), BOOTSTRAP_PASSWORD: "" });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/NEW_PASSWORD must be at least 32 letters and digits/);
        expect(await pg.sql("select count(*) from pg_roles where rolname = 'app'")).toBe("1");
    });
});
