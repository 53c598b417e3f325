/** scripts/apply-database-password.sh against a real PostgreSQL 15: it rotates a role's password and never prints one. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, "..", "scripts", "apply-database-password.sh");
const pw = (tag: string) => `${tag}${"0123456789abcdefABCDEF".repeat(2)}`.slice(0, 40);
const BOOTSTRAP = "bootstrap-password-of-the-role";
const A = pw("slotA");
const B = pw("slotB");

let pg: PostgresServer;
beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`CREATE ROLE app LOGIN PASSWORD '${BOOTSTRAP}'`);
});
afterAll(async () => pg?.stop());

async function apply(env: { NEW_PASSWORD: string; CURRENT_PASSWORD: string; BOOTSTRAP_PASSWORD: string }) {
    const base = { PATH: process.env.PATH, PGHOST: pg.host, PGPORT: String(pg.port), PGDATABASE: "postgres", PGUSER: "app", PGSSLMODE: "disable" };
    try {
        const { stdout, stderr } = await run("bash", [SCRIPT], { env: { ...base, ...env } });
        return { code: 0, output: stdout + stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: e.stdout + e.stderr };
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

describe("apply-database-password.sh on PostgreSQL", () => {
    it("first deployment: logs in with the bootstrap password and sets the generated one", async () => {
        const result = await apply({ NEW_PASSWORD: A, CURRENT_PASSWORD: B, BOOTSTRAP_PASSWORD: BOOTSTRAP });
        expect(result.code).toBe(0);
        expect(result.output).toMatch(/rotated/);
        expect(await logsIn(A)).toBe(true);
        expect(await logsIn(BOOTSTRAP)).toBe(false);
    });

    it("rotation: logs in with the previous slot's password and sets the other slot's", async () => {
        const next = pw("slotBnext");
        const result = await apply({ NEW_PASSWORD: next, CURRENT_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
        expect(result.code).toBe(0);
        expect(await logsIn(next)).toBe(true);
        expect(await logsIn(A)).toBe(false);
        // Running again changes nothing.
        const again = await apply({ NEW_PASSWORD: next, CURRENT_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
        expect(again.code).toBe(0);
        expect(again.output).toMatch(/already has the new password/);
    });

    it("fails clearly, without printing a password, when no known password logs in", async () => {
        const wrong = pw("wrongwrong");
        const result = await apply({ NEW_PASSWORD: pw("slotAnew"), CURRENT_PASSWORD: wrong, BOOTSTRAP_PASSWORD: "also-wrong-password" });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/cannot log in to app@127\.0\.0\.1:\d+\/postgres .* set databaseBootstrapPassword/);
        for (const secret of [pw("slotAnew"), wrong, "also-wrong-password"]) expect(result.output).not.toContain(secret);
    });

    it("refuses a new password that is not letters and digits (it goes into an SQL literal)", async () => {
        const result = await apply({ NEW_PASSWORD: `${pw("x")}'; DROP ROLE app; --`, CURRENT_PASSWORD: pw("slotBnext"), BOOTSTRAP_PASSWORD: "" });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/NEW_PASSWORD must be at least 32 letters and digits/);
        expect(await pg.sql("select count(*) from pg_roles where rolname = 'app'")).toBe("1");
    });
});
