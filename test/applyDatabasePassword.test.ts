/**
 * scripts/apply-database-password.ts against a real PostgreSQL 15: it rotates a role's password
 * without sending the password to the server, logs in with what the database really has after
 * any rotation jump, and prints nothing but the applied password on stdout (for its own state).
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScramVerifier, scramSha256Verifier } from "../lib/databasePassword";
import { reveal } from "../lib/offline/values";
import { rotationPeriod } from "../lib/credentials";
import { byName, evaluateStack, PROJECT_DIR, TEST_CLOCK } from "./harness";
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

type Env = { NEW_PASSWORD: string; STANDBY_PASSWORD: string; BOOTSTRAP_PASSWORD: string; PULUMI_COMMAND_STDOUT?: string };

/** The script's outcome; `stdout` is what the command resource would keep (the provider trims one newline). */
async function exec(file: string, args: string[], env: Record<string, string | undefined>) {
    // TOOLBOXAI_TS_CACHE=off: the loader's cache would land in the shared node_modules.
    const base = {
        PATH: process.env.PATH,
        TOOLBOXAI_TS_CACHE: "off",
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGDATABASE: "postgres",
        PGUSER: "app",
        PGSSLMODE: "disable",
    };
    try {
        const { stdout, stderr } = await run(file, args, { cwd: PROJECT_DIR, env: { ...base, ...env } });
        return { code: 0, stdout: stdout.replace(/\n$/, ""), output: stdout + stderr, stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, output: e.stdout + e.stderr, stderr: e.stderr };
    }
}

const apply = (env: Env) => exec(process.execPath, APPLY, env);

async function logsIn(password: string, user = "app"): Promise<boolean> {
    try {
        await run("psql", ["-X", "-q", "-t", "-c", "select 1"], {
            env: {
                PATH: process.env.PATH,
                PGHOST: pg.host,
                PGPORT: String(pg.port),
                PGDATABASE: "postgres",
                PGUSER: user,
                PGPASSWORD: password,
            },
        });
        return true;
    } catch {
        return false;
    }
}

const serverLog = () => readFileSync(pg.logFile, "utf8");

describe("apply-database-password.ts on PostgreSQL", () => {
    it("first deployment: logs in with the bootstrap password, sets the generated one, and prints only that on stdout", async () => {
        const result = await apply({ NEW_PASSWORD: A, STANDBY_PASSWORD: B, BOOTSTRAP_PASSWORD: BOOTSTRAP });
        expect(result.code).toBe(0);
        expect(result.stderr).toMatch(/rotated/);
        expect(result.stdout === A, "stdout is exactly the applied password").toBe(true);
        expect(await logsIn(A)).toBe(true);
        expect(await logsIn(BOOTSTRAP)).toBe(false);
    });

    it("sends the server a SCRAM verifier made on the client: the statement log holds no password, and the role stores what was sent", async () => {
        const next = pw("slotBnext");
        const logBefore = serverLog().length;
        // A rotation of one step, the other slot's password known but not the last output (an older state).
        const result = await apply({ NEW_PASSWORD: next, STANDBY_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
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
        const again = await apply({ NEW_PASSWORD: pw("slotBnext"), STANDBY_PASSWORD: A, BOOTSTRAP_PASSWORD: "" });
        expect(again.code).toBe(0);
        expect(again.stderr).toMatch(/already has the new password/);
        // Still what the database has: the next run logs in with it.
        expect(again.stdout === pw("slotBnext")).toBe(true);
    });

    it("fails clearly, without printing a password, when no known password logs in", async () => {
        const wrong = pw("wrongwrong");
        const result = await apply({
            NEW_PASSWORD: pw("slotAnew"),
            STANDBY_PASSWORD: wrong,
            BOOTSTRAP_PASSWORD: "also-wrong-password",
            PULUMI_COMMAND_STDOUT: pw("lastwrong"),
        });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/cannot log in to app@127\.0\.0\.1:\d+\/postgres .* set databaseBootstrapPassword/);
        for (const secret of [pw("slotAnew"), wrong, "also-wrong-password", pw("lastwrong")])
            expect(result.output.includes(secret), "a password in the output").toBe(false);
    });

    it("refuses a new password that is not letters and digits", async () => {
        const result = await apply({
            NEW_PASSWORD: `${pw("x")}'; DROP ROLE app; --`,
            STANDBY_PASSWORD: pw("slotBnext"),
            BOOTSTRAP_PASSWORD: "",
        });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/NEW_PASSWORD must be at least 32 letters and digits/);
        expect(await pg.sql("select count(*) from pg_roles where rolname = 'app'")).toBe("1");
    });
});

describe("the command as SupabaseCredentials wires it, run as the provider runs it", () => {
    const ROLE = "jumper";
    const BOOTSTRAP_ROLE = "bootstrap-password-of-jumper";
    beforeAll(async () => pg.sql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${BOOTSTRAP_ROLE}'`));

    /** The dev stack's apply command at `now`, with its connection pointed at the test server. */
    async function command(options: { now: string; overrides?: Record<string, string>; bootstrap?: string }) {
        const ev = await evaluateStack("dev", {
            now: options.now,
            overrides: options.overrides,
            secrets: options.bootstrap ? { databaseBootstrapPassword: options.bootstrap } : {},
        });
        const resource = byName(ev, "credentials-apply-database-password");
        const env: Record<string, string> = {
            ...(reveal(resource.inputs.environment) as Record<string, string>),
            PGHOST: pg.host,
            PGPORT: String(pg.port),
            PGUSER: ROLE,
        };
        return { resource, env };
    }
    /** What the provider does: /bin/sh -c <command>, the resource's environment, and on updates its previous stdout. */
    const provider = (script: unknown, env: Record<string, string>, previousStdout?: string) =>
        exec("/bin/sh", ["-c", String(script)], {
            ...env,
            ...(previousStdout === undefined ? {} : { PULUMI_COMMAND_STDOUT: previousStdout }),
        });

    it("logs in with the password it applied last after the rotation jumped two steps (both slots regenerated), twice over", async () => {
        const period = rotationPeriod(new Date(TEST_CLOCK), 90);
        const first = await command({ now: TEST_CLOCK, bootstrap: BOOTSTRAP_ROLE });
        const created = await provider(first.resource.inputs.create, first.env);
        expect(created.code).toBe(0);
        expect(created.stdout === first.env.NEW_PASSWORD).toBe(true);

        // Two periods skipped; then rotationGeneration raised by two. Neither slot, nor a bootstrap password, still knows the applied one.
        const later = new Date(period.startsAt.getTime() + 2 * 90 * 86_400_000).toISOString();
        let previous = created.stdout;
        for (const step of [{ now: later }, { now: later, overrides: { rotationGeneration: "2" } }]) {
            const { resource, env } = await command(step);
            expect(
                [env.NEW_PASSWORD, env.STANDBY_PASSWORD, env.BOOTSTRAP_PASSWORD].includes(previous),
                "the program still knows the applied password",
            ).toBe(false);
            expect(resource.inputs.addPreviousOutputInEnv).toBe(true);
            const updated = await provider(resource.inputs.update, env, previous);
            expect(updated.code, updated.stderr).toBe(0);
            expect(await logsIn(env.NEW_PASSWORD, ROLE)).toBe(true);
            expect(await logsIn(previous, ROLE)).toBe(false);
            previous = updated.stdout;
            expect(previous === env.NEW_PASSWORD).toBe(true);
        }
    });
});
