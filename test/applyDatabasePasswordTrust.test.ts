/**
 * scripts/apply-database-password.ts against a real PostgreSQL 15 whose TCP connections are
 * `trust`ed: any password logs in, so a login proves nothing. The step must not report that the
 * role "already has the new password" on such a login; it proves it from the stored SCRAM verifier
 * where it can read it (a superuser), and applies the password where it cannot.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScramVerifier, scramSha256Verifier } from "../lib/databasePassword";
import { PROJECT_DIR } from "./harness";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const APPLY = ["-r", "./scripts/register.js", "scripts/apply-database-password.ts"];
const pw = (tag: string) => `${tag}${"0123456789abcdefABCDEF".repeat(2)}`.slice(0, 40);
const OLD = pw("old");
const NEW = pw("new");

let pg: PostgresServer;
beforeAll(async () => {
    pg = await startPostgres({ hostAuth: "trust" });
    // `app` stands for hosted Supabase's `postgres`: not a superuser, so pg_authid is closed to it.
    await pg.sql(`CREATE ROLE app LOGIN PASSWORD '${OLD}'`);
    await pg.sql(`CREATE ROLE admin LOGIN SUPERUSER PASSWORD '${OLD}'`);
    await pg.sql("ALTER SYSTEM SET log_statement = 'all'");
    await pg.sql("SELECT pg_reload_conf()");
});
afterAll(async () => pg?.stop());

async function apply(user: string, newPassword: string) {
    const env = {
        PATH: process.env.PATH,
        TOOLBOXAI_TS_CACHE: "off",
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGDATABASE: "postgres",
        PGUSER: user,
        PGSSLMODE: "disable",
        NEW_PASSWORD: newPassword,
        STANDBY_PASSWORD: OLD,
        BOOTSTRAP_PASSWORD: "",
    };
    try {
        const { stdout, stderr } = await run(process.execPath, APPLY, { cwd: PROJECT_DIR, env });
        return { code: 0, stdout, stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
}

/** What the role really has, read as the cluster's superuser. */
const stored = (role: string) => pg.sql(`select rolpassword from pg_authid where rolname = '${role}'`);
async function hasPassword(role: string, password: string): Promise<boolean> {
    const verifier = await stored(role);
    const { salt, iterations } = parseScramVerifier(verifier);
    return scramSha256Verifier(password, salt, iterations) === verifier;
}
const alterStatements = (log: string, role: string) => log.split("\n").filter((l) => l.includes("ALTER ROLE") && l.includes(role)).length;
const serverLog = () => readFileSync(pg.logFile, "utf8");

describe("apply-database-password.ts where the server lets any password in (trust)", () => {
    it("a role that cannot read pg_authid: the new password is applied, not assumed", async () => {
        expect(await hasPassword("app", OLD)).toBe(true);
        const result = await apply("app", NEW);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).not.toMatch(/already has the new password/);
        expect(result.stderr).toMatch(/without asking for a password \(trust or peer\)/);
        expect(result.stdout === NEW, "stdout is the applied password").toBe(true);
        expect(await hasPassword("app", NEW), "the role has the new password").toBe(true);
    });

    it("a superuser that already has the new password: proven by its SCRAM verifier, nothing sent", async () => {
        await pg.sql(`ALTER ROLE admin PASSWORD '${NEW}'`);
        const before = await stored("admin");
        const logBefore = serverLog().length;
        const result = await apply("admin", NEW);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toMatch(/already has the new password \(its SCRAM verifier in pg_authid matches\)/);
        expect(await stored("admin")).toBe(before);
        expect(alterStatements(serverLog().slice(logBefore), "CURRENT_USER")).toBe(0);
    });

    it("a superuser with another password: the login alone does not pass for proof, the verifier check fails, and the password is applied", async () => {
        await pg.sql(`ALTER ROLE admin PASSWORD '${OLD}'`);
        const result = await apply("admin", NEW);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).not.toMatch(/already has/);
        expect(await hasPassword("admin", NEW)).toBe(true);
    });
});
