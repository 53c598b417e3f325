/**
 * A failed `command` prints its stdout and stderr in the error, whatever `logging` says
 * (pulumi-command commandOutputs.go). Both commands that handle the database password are made to
 * fail for real against PostgreSQL 15, run exactly as planned (the `create` string under /bin/sh
 * with the planned environment, as the provider runs it), and neither stream may hold a secret.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresUrl } from "../lib/postgres";
import type { Evaluation } from "../lib/offline/evaluate";
import { secretTexts } from "../lib/offline/leaks";
import { reveal } from "../lib/offline/values";
import { byName, evaluateStack, PROJECT_DIR } from "./harness";
import { freePort } from "./support/net";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const ROLE = "app";
const BOOTSTRAP = "bootstrap-password-for-failure-tests";
/** The role's real password when a test wants every login to fail: no planned value. */
const UNRELATED = "unrelated-password-nobody-planned-0000";

let pg: PostgresServer;
const dirs: string[] = [];
beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${UNRELATED}'`);
});
afterAll(async () => {
    await pg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** dev's plan, pointed at the test server (or at a port where nothing listens). */
async function plan(port: number, settings: Record<string, string> = {}): Promise<Evaluation> {
    return evaluateStack("dev", {
        overrides: { supabaseDbPort: String(port), supabaseDbUser: ROLE, ...settings },
        secrets: { databaseBootstrapPassword: BOOTSTRAP },
    });
}

/** Runs a planned command as pulumi-command does: `/bin/sh -c <create>`, the planned environment on top of the provider's. */
async function runPlanned(ev: Evaluation, name: string, cwd = PROJECT_DIR) {
    const command = byName(ev, name);
    const environment = reveal(command.inputs.environment) as Record<string, string>;
    // TOOLBOXAI_TS_CACHE=off: the loader's cache would land in the shared node_modules.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TOOLBOXAI_TS_CACHE: "off", ...environment };
    try {
        const { stdout, stderr } = await run("/bin/sh", ["-c", String(command.inputs.create)], { cwd, env, timeout: 120_000 });
        return { code: 0, output: stdout + stderr, environment };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: `${e.stdout}${e.stderr}`, environment };
    }
}

/**
 * Every secret of the stack, each variable the command was given, and the direct URL with the
 * password, in plain and percent-encoded form: none may appear in the output.
 */
function secretsOf(ev: Evaluation, environment: Record<string, string>, secretVariables: string[]): string[] {
    const texts = new Set(secretTexts(ev).keys());
    for (const name of secretVariables) if (environment[name]) texts.add(environment[name]);
    const password = environment.PGPASSWORD ?? environment.NEW_PASSWORD;
    const url = new URL(environment.SUPABASE_DB_URL ?? `postgresql://${ROLE}@127.0.0.1:${pg.port}/postgres`);
    texts.add(postgresUrl({ user: ROLE, password, host: url.hostname, port: Number(url.port), database: "postgres", sslMode: "disable" }));
    for (const t of [...texts]) texts.add(encodeURIComponent(t));
    return [...texts].filter((t) => t.length >= 8);
}

function expectNoSecret(output: string, secrets: string[]) {
    const found = secrets.filter((s) => output.includes(s));
    // Names only: the assertion message must not print the secret either.
    expect(
        found.map((s) => `[secret of ${s.length} characters]`),
        output.replace(new RegExp(secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g"), "[secret]"),
    ).toEqual([]);
}

const APPLY_SECRETS = ["NEW_PASSWORD", "STANDBY_PASSWORD", "BOOTSTRAP_PASSWORD"];
// SUPABASE_DB_URL carries no password (that is the point): the URL with it is checked by secretsOf.
const PUSH_SECRETS = ["PGPASSWORD"];

describe("password step (scripts/apply-database-password.ts) failing for real: no secret in stdout or stderr", () => {
    it("no password it knows logs in", async () => {
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${UNRELATED}'`);
        const ev = await plan(pg.port);
        const result = await runPlanned(ev, "credentials-apply-database-password");
        expect(result.code).toBe(1);
        expect(result.output).toMatch(/cannot log in to app@127\.0\.0\.1:\d+\/postgres/);
        expectNoSecret(result.output, secretsOf(ev, result.environment, APPLY_SECRETS));
    });

    it("the server is down", async () => {
        const ev = await plan(await freePort());
        const result = await runPlanned(ev, "credentials-apply-database-password");
        expect(result.code).toBe(1);
        expect(result.output).toMatch(/cannot log in/);
        expectNoSecret(result.output, secretsOf(ev, result.environment, APPLY_SECRETS));
    });

    it("it logs in, but the server refuses ALTER ROLE", async () => {
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${BOOTSTRAP}'`);
        await pg.sql(`ALTER ROLE ${ROLE} SET default_transaction_read_only = on`);
        try {
            const ev = await plan(pg.port);
            const result = await runPlanned(ev, "credentials-apply-database-password");
            expect(result.code).toBe(1);
            expect(result.output).toMatch(/ALTER ROLE failed for app@127\.0\.0\.1/);
            expectNoSecret(result.output, secretsOf(ev, result.environment, APPLY_SECRETS));
        } finally {
            await pg.sql(`ALTER ROLE ${ROLE} RESET default_transaction_read_only`);
        }
    });
});

describe("migration push (supabase db push) failing for real: no secret in stdout or stderr", () => {
    /** A project folder for the push: the planned `--workdir "."` and CLI path, with these migrations. */
    function workdir(migrations: Record<string, string>): string {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-push-"));
        dirs.push(dir);
        mkdirSync(join(dir, "supabase", "migrations"), { recursive: true });
        writeFileSync(join(dir, "supabase", "config.toml"), 'project_id = "toolboxai"\n');
        for (const [file, sql] of Object.entries(migrations)) writeFileSync(join(dir, "supabase", "migrations", file), sql);
        symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"));
        return dir;
    }
    const GOOD = { "20260101000000_good.sql": "create table failure_test_ok (id int);\n" };

    it("the password is wrong", async () => {
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${UNRELATED}'`);
        const ev = await plan(pg.port);
        const result = await runPlanned(ev, "migrations-push", workdir(GOOD));
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/password authentication failed/);
        expectNoSecret(result.output, secretsOf(ev, result.environment, PUSH_SECRETS));
    });

    it("the server is down", async () => {
        const ev = await plan(await freePort());
        const result = await runPlanned(ev, "migrations-push", workdir(GOOD));
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/failed to connect/);
        expectNoSecret(result.output, secretsOf(ev, result.environment, PUSH_SECRETS));
    });

    it("a migration is bad", async () => {
        const ev = await plan(pg.port);
        const planned = reveal(byName(ev, "migrations-push").inputs.environment) as Record<string, string>;
        // The role has the password the push was planned with; only the SQL is wrong.
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${planned.PGPASSWORD}'`);
        await pg.sql(`GRANT CREATE ON DATABASE postgres TO ${ROLE}; GRANT CREATE ON SCHEMA public TO ${ROLE}`);
        const result = await runPlanned(
            ev,
            "migrations-push",
            workdir({ ...GOOD, "20260102000000_bad.sql": "create tabel broken (id int);\n" }),
        );
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/syntax error at or near "tabel"/);
        expectNoSecret(result.output, secretsOf(ev, result.environment, PUSH_SECRETS));
    });
});

const ROLES_SECRETS = ["OWNER_PASSWORD", "LOGIN_PASSWORDS"];

describe("consumer roles step (scripts/apply-consumer-roles.ts) failing for real: no secret in stdout or stderr", () => {
    it("the owner's password is wrong", async () => {
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${UNRELATED}'`);
        const ev = await plan(pg.port);
        const result = await runPlanned(ev, "credentials-consumer-roles");
        expect(result.code).toBe(1);
        // The step reads the deployer's powers first: the wrong password fails that first login.
        expect(result.output).toMatch(/could not read the roles as app@127\.0\.0\.1:\d+\/postgres \(nothing was changed\)/);
        const secrets = secretsOf(ev, result.environment, ROLES_SECRETS);
        // Each login's password on its own, besides the JSON that carries them.
        expectNoSecret(result.output, [
            ...secrets,
            ...Object.values(JSON.parse(result.environment.LOGIN_PASSWORDS) as Record<string, string>),
        ]);
    });

    it("it logs in, but the owner may not create roles: the server's error, no statement, no verifier", async () => {
        // With the owner's login for backups no BYPASSRLS is needed, so the step goes on to CREATE ROLE
        // (without it, PostgreSQL 15 refuses a non-superuser earlier: test/backupLogin.test.ts).
        const ev = await plan(pg.port, { backupDatabaseLogin: "owner" });
        const planned = reveal(byName(ev, "credentials-consumer-roles").inputs.environment) as Record<string, string>;
        await pg.sql(`ALTER ROLE ${ROLE} PASSWORD '${planned.OWNER_PASSWORD}'`);
        const result = await runPlanned(ev, "credentials-consumer-roles");
        expect(result.code).toBe(1);
        expect(result.output).toMatch(/ERROR: {2}permission denied to create role/);
        expect(result.output).not.toMatch(/SCRAM-SHA-256\$/);
        expectNoSecret(result.output, [
            ...secretsOf(ev, result.environment, ROLES_SECRETS),
            ...Object.values(JSON.parse(planned.LOGIN_PASSWORDS) as Record<string, string>),
        ]);
        expect(await pg.sql("select count(*) from pg_roles where rolname like 'toolboxai%'")).toBe("0");
    });
});
