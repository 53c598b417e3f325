/**
 * supabase/migrations on a real PostgreSQL 15 with Supabase's roles and auth functions
 * reproduced, pushed by the real Supabase CLI with the exact command SupabaseMigrations runs.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import { byName, evaluateStack, PROJECT_DIR } from "./harness";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const CLI = join(PROJECT_DIR, "node_modules", ".bin", "supabase");
const SUPERUSER_PASSWORD = "pg-superuser-test-password";
const AUTH_SQL = readFileSync(join(__dirname, "support", "supabase-auth.sql"), "utf8");
/** The part of AUTH_SQL each further database needs (roles are cluster-wide). */
const AUTH_SCHEMA_SQL = AUTH_SQL.slice(AUTH_SQL.indexOf("-- per database"));

const ALICE = "00000000-0000-4000-a000-00000000a11c"; // owns workspace W and project P
const BOB = "00000000-0000-4000-a000-000000000b0b"; // member of W and P
const CAROL = "00000000-0000-4000-a000-0000000ca201"; // outsider, owns project Q
const W = "00000000-0000-4000-b000-000000000001";
const P = "00000000-0000-4000-c000-000000000001";
const Q = "00000000-0000-4000-c000-000000000002";

let pg: PostgresServer;
const urlOf = (database: string) => `postgresql://postgres@127.0.0.1:${pg.port}/${database}?sslmode=disable`;

async function push(workdir: string, database: string) {
    try {
        const { stdout, stderr } = await run(CLI, ["db", "push", "--db-url", urlOf(database), "--workdir", workdir, "--yes"], {
            env: { ...process.env, PGPASSWORD: SUPERUSER_PASSWORD },
        });
        return { code: 0, output: stdout + stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: e.stdout + e.stderr };
    }
}

async function newDatabase(name: string) {
    await pg.sql(`create database ${name}`);
    await pg.sql(AUTH_SCHEMA_SQL, name);
}

let firstPush: { output: string };
beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`alter role postgres password '${SUPERUSER_PASSWORD}'`);
    await pg.sql(AUTH_SQL);
    // The very command the SupabaseMigrations component runs, with its environment pointed here.
    const command = byName(await evaluateStack("dev"), "migrations-push");
    const env = reveal(command.inputs.environment) as Record<string, string>;
    const { stdout, stderr } = await run("/bin/sh", ["-c", String(command.inputs.create)], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env, SUPABASE_DB_URL: urlOf("postgres"), PGPASSWORD: SUPERUSER_PASSWORD },
    });
    firstPush = { output: stdout + stderr };
    await pg.sql(`
        insert into auth.users (id, email) values ('${ALICE}', 'alice@example.com'), ('${BOB}', 'bob@example.com'), ('${CAROL}', 'carol@example.com');
        insert into public.users (id, email, clerk_id, full_name) values
            ('${ALICE}', 'alice@example.com', 'clerk_alice', 'Alice'), ('${BOB}', 'bob@example.com', 'clerk_bob', 'Bob'), ('${CAROL}', 'carol@example.com', 'clerk_carol', 'Carol');
        insert into public.workspaces (id, name, owner_id) values ('${W}', 'W', '${ALICE}');
        insert into public.workspace_members (workspace_id, user_id) values ('${W}', '${BOB}');
        insert into public.projects (id, owner_id, workspace_id, name) values ('${P}', '${ALICE}', '${W}', 'P'), ('${Q}', '${CAROL}', null, 'Q');
        insert into public.project_members (project_id, user_id) values ('${P}', '${BOB}');
    `);
}, 180_000);
afterAll(async () => pg?.stop());

type Actor = "anon" | "alice" | "bob" | "carol" | "service_role";
const SUB: Record<Actor, string | undefined> = { anon: undefined, alice: ALICE, bob: BOB, carol: CAROL, service_role: undefined };
const ROLE: Record<Actor, string> = {
    anon: "anon",
    alice: "authenticated",
    bob: "authenticated",
    carol: "authenticated",
    service_role: "service_role",
};

/** Runs one statement as PostgREST would for `actor` (role and JWT claims set in the transaction), then rolls back. */
async function as(actor: Actor, sql: string): Promise<{ rows: number } | { denied: string }> {
    const client = new Client({
        host: pg.host,
        port: pg.port,
        database: "postgres",
        user: "authenticator",
        password: "authenticator-test-password",
    });
    await client.connect();
    try {
        await client.query("begin");
        await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
            ROLE[actor],
            JSON.stringify({ role: ROLE[actor], ...(SUB[actor] ? { sub: SUB[actor] } : {}) }),
        ]);
        const result = await client.query(sql);
        return { rows: result.rowCount ?? 0 };
    } catch (err) {
        return { denied: (err as { code?: string }).code ?? String(err) };
    } finally {
        await client.query("rollback").catch(() => undefined);
        await client.end();
    }
}

const allowed = (rows: number) => ({ rows });
const none = { rows: 0 };
const denied = { denied: "42501" };

// [what, actor, statement, expected]: expected is rows affected/returned, or denied (42501: no grant, or a WITH CHECK violation).
const MATRIX: [string, Actor, string, { rows: number } | { denied: string }][] = [
    // users
    ["user reads own row", "alice", `select 1 from users where id = '${ALICE}'`, allowed(1)],
    ["ATTACK: user reads another user's row", "alice", `select 1 from users where id = '${BOB}'`, none],
    ["user sees only themselves", "carol", "select 1 from users", allowed(1)],
    ["anon reads users", "anon", "select 1 from users", denied],
    ["service_role reads all users", "service_role", "select 1 from users", allowed(3)],
    ["user updates own name", "bob", `update users set full_name = 'B' where id = '${BOB}'`, allowed(1)],
    ["ATTACK: user updates another user's row", "bob", `update users set full_name = 'x' where id = '${ALICE}'`, none],
    ["ATTACK: user changes own clerk_id", "bob", `update users set clerk_id = 'clerk_alice2' where id = '${BOB}'`, denied],
    ["user inserts a users row", "carol", `insert into users (id, email) values ('${CAROL}', 'c2@example.com')`, denied],
    ["user deletes own row", "alice", `delete from users where id = '${ALICE}'`, denied],
    ["anon updates users", "anon", "update users set full_name = 'x'", denied],
    // projects
    ["owner reads project", "alice", `select 1 from projects where id = '${P}'`, allowed(1)],
    ["member reads project", "bob", `select 1 from projects where id = '${P}'`, allowed(1)],
    ["outsider reads project", "carol", `select 1 from projects where id = '${P}'`, none],
    ["anon reads projects", "anon", "select 1 from projects", denied],
    ["service_role reads all projects", "service_role", "select 1 from projects", allowed(2)],
    ["user creates own project", "carol", `insert into projects (owner_id, name) values ('${CAROL}', 'mine')`, allowed(1)],
    [
        "ATTACK: user creates a project owned by someone else",
        "carol",
        `insert into projects (owner_id, name) values ('${ALICE}', 'yours')`,
        denied,
    ],
    [
        "ATTACK: outsider creates a project in someone else's workspace",
        "carol",
        `insert into projects (owner_id, workspace_id, name) values ('${CAROL}', '${W}', 'in W')`,
        denied,
    ],
    [
        "workspace member creates a project in the workspace",
        "bob",
        `insert into projects (owner_id, workspace_id, name) values ('${BOB}', '${W}', 'in W')`,
        allowed(1),
    ],
    ["owner renames project", "alice", `update projects set name = 'P2' where id = '${P}'`, allowed(1)],
    ["member renames project", "bob", `update projects set name = 'P2' where id = '${P}'`, none],
    ["ATTACK: member changes owner_id", "bob", `update projects set owner_id = '${BOB}' where id = '${P}'`, denied],
    ["ATTACK: owner gives the project away via owner_id", "alice", `update projects set owner_id = '${CAROL}' where id = '${P}'`, denied],
    [
        "ATTACK: outsider moves own project into someone else's workspace",
        "carol",
        `update projects set workspace_id = '${W}' where id = '${Q}'`,
        denied,
    ],
    ["member deletes project", "bob", `delete from projects where id = '${P}'`, none],
    ["owner deletes project", "alice", `delete from projects where id = '${P}'`, allowed(1)],
    ["anon deletes projects", "anon", "delete from projects", denied],
    // project_members
    ["owner lists members", "alice", `select 1 from project_members where project_id = '${P}'`, allowed(1)],
    ["member lists co-members", "bob", `select 1 from project_members where project_id = '${P}'`, allowed(1)],
    ["outsider lists members", "carol", `select 1 from project_members where project_id = '${P}'`, none],
    ["owner adds a member", "alice", `insert into project_members (project_id, user_id) values ('${P}', '${CAROL}')`, allowed(1)],
    [
        "ATTACK: outsider joins someone else's project",
        "carol",
        `insert into project_members (project_id, user_id) values ('${P}', '${CAROL}')`,
        denied,
    ],
    ["ATTACK: member adds someone", "bob", `insert into project_members (project_id, user_id) values ('${P}', '${CAROL}')`, denied],
    [
        "ATTACK: member promotes themselves",
        "bob",
        `update project_members set role = 'editor' where project_id = '${P}' and user_id = '${BOB}'`,
        none,
    ],
    [
        "ATTACK: member moves membership to another user",
        "bob",
        `update project_members set user_id = '${CAROL}' where project_id = '${P}'`,
        denied,
    ],
    ["member leaves", "bob", `delete from project_members where project_id = '${P}' and user_id = '${BOB}'`, allowed(1)],
    ["outsider removes a member", "carol", `delete from project_members where project_id = '${P}'`, none],
    ["anon joins a project", "anon", `insert into project_members (project_id, user_id) values ('${P}', '${CAROL}')`, denied],
    // workspaces
    ["owner reads workspace", "alice", `select 1 from workspaces where id = '${W}'`, allowed(1)],
    ["member reads workspace", "bob", `select 1 from workspaces where id = '${W}'`, allowed(1)],
    ["outsider reads workspace", "carol", `select 1 from workspaces where id = '${W}'`, none],
    ["user creates own workspace", "carol", `insert into workspaces (name, owner_id) values ('C', '${CAROL}')`, allowed(1)],
    [
        "ATTACK: user creates a workspace owned by someone else",
        "carol",
        `insert into workspaces (name, owner_id) values ('C', '${ALICE}')`,
        denied,
    ],
    ["member renames workspace", "bob", `update workspaces set name = 'x' where id = '${W}'`, none],
    ["owner renames workspace", "alice", `update workspaces set name = 'x' where id = '${W}'`, allowed(1)],
    ["ATTACK: owner changes workspace owner_id", "alice", `update workspaces set owner_id = '${BOB}' where id = '${W}'`, denied],
    ["member deletes workspace", "bob", `delete from workspaces where id = '${W}'`, none],
    ["anon reads workspaces", "anon", "select 1 from workspaces", denied],
    // workspace_members
    ["member lists workspace members", "bob", `select 1 from workspace_members where workspace_id = '${W}'`, allowed(1)],
    ["outsider lists workspace members", "carol", `select 1 from workspace_members where workspace_id = '${W}'`, none],
    [
        "ATTACK: outsider joins someone else's workspace",
        "carol",
        `insert into workspace_members (workspace_id, user_id) values ('${W}', '${CAROL}')`,
        denied,
    ],
    [
        "ATTACK: member makes themselves admin",
        "bob",
        `update workspace_members set role = 'admin' where workspace_id = '${W}' and user_id = '${BOB}'`,
        none,
    ],
    [
        "owner adds a workspace member",
        "alice",
        `insert into workspace_members (workspace_id, user_id) values ('${W}', '${CAROL}')`,
        allowed(1),
    ],
    ["member leaves workspace", "bob", `delete from workspace_members where workspace_id = '${W}' and user_id = '${BOB}'`, allowed(1)],
    ["anon reads workspace members", "anon", "select 1 from workspace_members", denied],
    [
        "service_role manages memberships",
        "service_role",
        `insert into workspace_members (workspace_id, user_id) values ('${W}', '${CAROL}')`,
        allowed(1),
    ],
];

describe("initial migration, pushed by the real Supabase CLI", () => {
    it("was applied by SupabaseMigrations' own command", async () => {
        expect(firstPush.output).toMatch(/Applying migration 20261125070000_initial_schema\.sql|Finished supabase db push/);
        expect(await pg.sql("select version || ' ' || name from supabase_migrations.schema_migrations")).toBe(
            "20261125070000 initial_schema",
        );
    });

    it.each(MATRIX)("%s (%s)", async (_what, actor, sql, expected) => {
        expect(await as(actor, sql)).toEqual(expected);
    });

    it("enables RLS on every table in public (a new table without it fails here)", async () => {
        const tables = (
            await pg.sql(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1",
            )
        ).split("\n");
        expect(tables).toEqual(["project_members", "projects", "users", "workspace_members", "workspaces"]);
        expect(
            await pg.sql(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity",
            ),
        ).toBe("");
    });

    it("gives every table policies for authenticated only, and keeps anon out by grants", async () => {
        expect(await pg.sql("select count(*) from pg_policies where schemaname = 'public' and roles <> '{authenticated}'")).toBe("0");
        expect(
            await pg.sql("select count(*) from information_schema.role_table_grants where table_schema = 'public' and grantee = 'anon'"),
        ).toBe("0");
    });

    it("checks membership through SECURITY DEFINER helpers with a pinned search_path, outside the API schema", async () => {
        const helpers = (
            await pg.sql(
                "select p.proname || ' ' || p.prosecdef || ' ' || array_to_string(p.proconfig, ',') from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'private' order by 1",
            )
        ).split("\n");
        expect(helpers).toEqual([
            'is_project_member true search_path=""',
            'is_project_owner true search_path=""',
            'is_workspace_member true search_path=""',
            'is_workspace_owner true search_path=""',
        ]);
        expect(await pg.sql("select has_schema_privilege('anon', 'private', 'usage')")).toBe("f");
    });

    it("indexes the guide's columns and every column a policy or helper filters on", async () => {
        const leading = new Set(
            (
                await pg.sql(
                    "select t.relname || '.' || a.attname from pg_index i join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0] where n.nspname = 'public'",
                )
            ).split("\n"),
        );
        for (const column of [
            "users.email",
            "users.clerk_id",
            "users.id",
            "projects.owner_id",
            "projects.created_at",
            "projects.id",
            "projects.workspace_id",
            "workspace_members.user_id",
            "workspace_members.workspace_id",
            "workspaces.owner_id",
            "workspaces.id",
            "project_members.project_id",
            "project_members.user_id",
        ]) {
            expect(leading.has(column), column).toBe(true);
        }
    });

    it("pushes again as a no-op", async () => {
        const again = await push(PROJECT_DIR, "postgres");
        expect(again.code).toBe(0);
        expect(again.output).toMatch(/Remote database is up to date/);
        expect(await pg.sql("select count(*) from supabase_migrations.schema_migrations")).toBe("1");
    });
});

describe("a migration that fails halfway", () => {
    let workdir: string;
    beforeAll(async () => {
        workdir = mkdtempSync(join(tmpdir(), "toolboxai-supabase-"));
        cpSync(join(PROJECT_DIR, "supabase"), join(workdir, "supabase"), { recursive: true });
        await newDatabase("halfway");
    });
    afterAll(() => rmSync(workdir, { recursive: true, force: true }));

    it("leaves the earlier migrations applied and the failed one absent, and a fixed re-run completes", async () => {
        const migrations = join(workdir, "supabase", "migrations");
        writeFileSync(
            join(migrations, "20261126000000_add_notes.sql"),
            "create table public.notes (id bigint primary key);\nalter table public.notes enable row level security;\n",
        );
        const broken = join(migrations, "20261127000000_add_tags.sql");
        writeFileSync(
            broken,
            "create table public.tags (id bigint primary key);\nalter table public.tags add column owner uuid references public.no_such_table (id);\n",
        );

        const failed = await push(workdir, "halfway");
        expect(failed.code).not.toBe(0);
        expect(failed.output).toMatch(/no_such_table/);
        const versions = () =>
            pg.sql("select string_agg(version, ',' order by version) from supabase_migrations.schema_migrations", "halfway");
        expect(await versions()).toBe("20261125070000,20261126000000");
        expect(await pg.sql("select to_regclass('public.notes') is not null, to_regclass('public.tags') is null", "halfway")).toBe("t|t");

        writeFileSync(broken, "create table public.tags (id bigint primary key);\nalter table public.tags enable row level security;\n");
        const fixed = await push(workdir, "halfway");
        expect(fixed.code).toBe(0);
        expect(await versions()).toBe("20261125070000,20261126000000,20261127000000");
    });
});
