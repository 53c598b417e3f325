/**
 * Each consumer's own database roles (scripts/apply-consumer-roles.ts, lib/databaseRoles.ts) on a
 * real PostgreSQL 15 with Supabase's roles reproduced and the application's migration pushed:
 * the backend's and worker's logins are held by Row Level Security and may not change the schema,
 * the backup login dumps what a restore needs and writes nothing, a removed consumer's logins
 * lose LOGIN, and a deployer that is not a superuser (as hosted Supabase's `postgres`) can run it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import { byName, evaluateStack, PROJECT_DIR } from "./harness";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const OWNER_PASSWORD = "owner-password-of-the-test-cluster";
const AUTH_SQL = readFileSync(join(__dirname, "support", "supabase-auth.sql"), "utf8");
const AUTH_SCHEMA_SQL = AUTH_SQL.slice(AUTH_SQL.indexOf("-- per database"));
const ALICE = "00000000-0000-4000-a000-00000000a11c";
const BOB = "00000000-0000-4000-a000-000000000b0b";
const W = "00000000-0000-4000-b000-000000000001";
const P = "00000000-0000-4000-c000-000000000001";

let pg: PostgresServer;
/** The dev stack's consumer-roles command and its environment, as the program plans them. */
let command: { script: string; env: Record<string, string>; passwords: Record<string, string> };

beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`alter role postgres password '${OWNER_PASSWORD}'`);
    await pg.sql(AUTH_SQL);
    const ev = await evaluateStack("dev");
    const push = byName(ev, "migrations-push");
    await run("/bin/sh", ["-c", String(push.inputs.create)], {
        cwd: PROJECT_DIR,
        env: {
            ...process.env,
            ...(reveal(push.inputs.environment) as Record<string, string>),
            SUPABASE_DB_URL: `postgresql://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`,
            PGPASSWORD: OWNER_PASSWORD,
        },
    });
    await pg.sql(`
        insert into auth.users (id, email) values ('${ALICE}', 'alice@example.com'), ('${BOB}', 'bob@example.com');
        insert into public.users (id, email, clerk_id, full_name) values ('${ALICE}', 'alice@example.com', 'clerk_alice', 'Alice'), ('${BOB}', 'bob@example.com', 'clerk_bob', 'Bob');
        insert into public.workspaces (id, name, owner_id) values ('${W}', 'W', '${ALICE}');
        insert into public.projects (id, owner_id, workspace_id, name) values ('${P}', '${ALICE}', '${W}', 'P');
    `);
    const roles = byName(ev, "credentials-consumer-roles");
    const env = reveal(roles.inputs.environment) as Record<string, string>;
    command = { script: String(roles.inputs.create), env, passwords: JSON.parse(env.LOGIN_PASSWORDS) as Record<string, string> };
    // Each case may run alone (-t): the roles exist before any of them.
    expect((await applyRoles()).code).toBe(0);
}, 180_000);
afterAll(async () => pg?.stop());

/** Runs the command as the provider does (/bin/sh -c, from the project folder), against the test cluster. */
async function applyRoles(overrides: Record<string, string> = {}) {
    const env = {
        PATH: process.env.PATH,
        TOOLBOXAI_TS_CACHE: "off",
        ...command.env,
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGUSER: "postgres",
        OWNER_PASSWORD,
        ...overrides,
    };
    try {
        const { stdout, stderr } = await run("/bin/sh", ["-c", command.script], { cwd: PROJECT_DIR, env });
        return { code: 0, output: stdout + stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: e.stdout + e.stderr };
    }
}

async function connect(login: string, database = "postgres"): Promise<Client> {
    const client = new Client({ host: pg.host, port: pg.port, database, user: login, password: command.passwords[login] });
    await client.connect();
    return client;
}

/** One statement as `login`, acting for `sub` (request.jwt.claims, as the application sets it), rolled back. */
async function as(login: string, sql: string, sub?: string): Promise<{ rows: number } | { denied: string }> {
    const client = await connect(login);
    try {
        await client.query("begin");
        if (sub) await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub, role: "authenticated" })]);
        const result = await client.query(sql);
        return { rows: result.rowCount ?? 0 };
    } catch (err) {
        return { denied: (err as { code?: string }).code ?? String(err) };
    } finally {
        await client.query("rollback").catch(() => undefined);
        await client.end();
    }
}
const denied = { denied: "42501" };

describe("each consumer's own roles on PostgreSQL", () => {
    it("creates the roles (twice: idempotent), prints no password, and every login logs in with its password", async () => {
        for (let i = 0; i < 2; i++) {
            const result = await applyRoles();
            expect(result.code, result.output).toBe(0);
            for (const password of [OWNER_PASSWORD, ...Object.values(command.passwords)])
                expect(result.output.includes(password), "a password in the output").toBe(false);
        }
        const roles = await pg.sql(
            "select rolname || ':' || rolcanlogin || ':' || rolsuper || ':' || rolbypassrls from pg_roles where rolname like 'toolboxai%' order by 1",
        );
        expect(roles.split("\n")).toEqual([
            "toolboxai_backend:false:false:false",
            "toolboxai_backend_a:true:false:false",
            "toolboxai_backend_b:true:false:false",
            "toolboxai_backup:false:false:false",
            "toolboxai_backup_a:true:false:true",
            "toolboxai_backup_b:true:false:true",
            "toolboxai_worker:false:false:false",
            "toolboxai_worker_a:true:false:false",
            "toolboxai_worker_b:true:false:false",
        ]);
        for (const login of Object.keys(command.passwords)) expect(await as(login, "select 1"), login).toEqual({ rows: 1 });
        // They own nothing.
        expect(
            await pg.sql("select count(*) from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname like 'toolboxai%'"),
        ).toBe("0");
    });

    it.each(["toolboxai_backend_a", "toolboxai_worker_b"])("%s: held by Row Level Security (the attack cases), no DDL", async (login) => {
        expect(await as(login, `select 1 from users where id = '${ALICE}'`, ALICE)).toEqual({ rows: 1 });
        // ATTACK: another user's row, another user's project, a column the app may not write.
        expect(await as(login, `select 1 from users where id = '${BOB}'`, ALICE)).toEqual({ rows: 0 });
        expect(await as(login, "select 1 from users")).toEqual({ rows: 0 });
        expect(await as(login, `select 1 from projects where id = '${P}'`, BOB)).toEqual({ rows: 0 });
        expect(await as(login, `update users set full_name = 'x' where id = '${ALICE}'`, BOB)).toEqual({ rows: 0 });
        expect(await as(login, `update users set clerk_id = 'c' where id = '${BOB}'`, BOB)).toEqual(denied);
        expect(await as(login, `update users set full_name = 'B' where id = '${BOB}'`, BOB)).toEqual({ rows: 1 });
        // No DDL, not an owner.
        expect(await as(login, "create table public.intruder (id int)")).toEqual(denied);
        expect(await as(login, "drop table public.users")).toEqual(denied);
        expect(await as(login, "alter table public.users disable row level security")).toEqual(denied);
        expect(await as(login, "create schema intruder")).toEqual(denied);
    });

    it("backup: cannot write; its dump restores identical data", async () => {
        const login = "toolboxai_backup_a";
        expect(await as(login, "select 1 from users")).toEqual({ rows: 2 });
        expect(await as(login, `update users set full_name = 'x'`)).toEqual(denied);
        expect(await as(login, `insert into auth.users (id, email) values (gen_random_uuid(), 'x@example.com')`)).toEqual(denied);
        expect(await as(login, "delete from projects")).toEqual(denied);
        expect(await as(login, "create table public.intruder (id int)")).toEqual(denied);

        const dir = mkdtempSync(join(tmpdir(), "toolboxai-roles-"));
        try {
            const dump = join(dir, "public.dump");
            await run("pg_dump", ["--format=custom", "--schema=public", "--schema=private", "--file", dump], {
                env: {
                    PATH: process.env.PATH,
                    PGHOST: pg.host,
                    PGPORT: String(pg.port),
                    PGDATABASE: "postgres",
                    PGUSER: login,
                    PGPASSWORD: command.passwords[login],
                },
            });
            await pg.sql("create database restored");
            await pg.sql(AUTH_SCHEMA_SQL, "restored");
            await pg.sql(
                `insert into auth.users (id, email) values ('${ALICE}', 'alice@example.com'), ('${BOB}', 'bob@example.com')`,
                "restored",
            );
            await pg.sql("drop schema public cascade", "restored");
            await run("pg_restore", ["--no-owner", "-h", pg.host, "-p", String(pg.port), "-U", "postgres", "-d", "restored", dump], {
                env: { PATH: process.env.PATH, PGPASSWORD: OWNER_PASSWORD },
            }).catch((err: { stderr: string }) => {
                throw new Error(`pg_restore: ${err.stderr}`);
            });
            const contents = (database: string) =>
                pg.sql(
                    "select string_agg(t, '|' order by t) from (select 'users:' || md5(string_agg(u::text, ',' order by u::text)) as t from public.users u union all select 'workspaces:' || md5(string_agg(w::text, ',' order by w::text)) from public.workspaces w union all select 'projects:' || md5(string_agg(p::text, ',' order by p::text)) from public.projects p) s",
                    database,
                );
            expect(await contents("restored")).toBe(await contents("postgres"));
            expect(await contents("restored")).toMatch(/^projects:[0-9a-f]{32}\|users:[0-9a-f]{32}\|workspaces:[0-9a-f]{32}$/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a removed consumer's logins lose LOGIN; running it with the consumer again gives it back", async () => {
        const removed = await applyRoles({ CONSUMERS: "backend,backup" });
        expect(removed.code, removed.output).toBe(0);
        expect(
            await pg.sql(
                "select string_agg(rolname || ':' || rolcanlogin, ',' order by rolname) from pg_roles where rolname like 'toolboxai_worker%'",
            ),
        ).toBe("toolboxai_worker:false,toolboxai_worker_a:false,toolboxai_worker_b:false");
        await expect(connect("toolboxai_worker_a")).rejects.toThrow(/not permitted to log in/);
        // A role the program did not make is left alone, whatever its name.
        await pg.sql("create role toolboxai_someone_else login");
        await applyRoles({ CONSUMERS: "backend" });
        expect(await pg.sql("select rolcanlogin from pg_roles where rolname = 'toolboxai_someone_else'")).toBe("t");
        expect(await pg.sql("select rolcanlogin from pg_roles where rolname = 'toolboxai_backup_b'")).toBe("f");
        expect((await applyRoles()).code).toBe(0);
        expect(await as("toolboxai_worker_a", "select 1")).toEqual({ rows: 1 });
    });

    it("runs as a deployer that is not a superuser (hosted Supabase's postgres) once the backup logins have BYPASSRLS: applied, no warning", async () => {
        await pg.sql("create role deployer login createrole password 'deployer-password-of-the-test'");
        // PostgreSQL 15 lets a CREATEROLE role alter only roles that are not superusers; the roles exist already from above.
        const result = await applyRoles({ PGUSER: "deployer", OWNER_PASSWORD: "deployer-password-of-the-test" });
        expect(result.code, result.output).toBe(0);
        expect(result.output).not.toContain("WARNING");
        // Granted by the superuser's run above; the deployer's run leaves it (test/backupLogin.test.ts: where it is missing).
        expect(
            await pg.sql(
                "select string_agg(rolname || ':' || rolbypassrls, ',' order by rolname) from pg_roles where rolname like 'toolboxai_backup_%'",
            ),
        ).toBe("toolboxai_backup_a:true,toolboxai_backup_b:true");
        expect(await as("toolboxai_backend_b", `select 1 from users where id = '${ALICE}'`, ALICE)).toEqual({ rows: 1 });
    });
});
