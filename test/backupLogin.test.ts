/**
 * The backup job's login where BYPASSRLS cannot be granted (hosted Supabase on PostgreSQL 15,
 * whose `postgres` is not a superuser), on a real PostgreSQL 15 with a deployer that is not a
 * superuser: the consumer-roles step fails naming the fix and changes nothing; once a superuser
 * has created the backup logins with BYPASSRLS it applies; backupDatabaseLogin owner is the
 * documented fallback. What a backup (pg_dump as the job runs it) does in each case, and what
 * `ops doctor` reports.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import type { Evaluation } from "../lib/offline/evaluate";
import { doctor } from "../ops/doctor";
import type { Context } from "../ops/context";
import { byName, evaluateStack, ofType, PROJECT_DIR } from "./harness";
import { runPlannedCommand } from "./support/plannedCommand";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const DEPLOYER = "deployer";
const DEPLOYER_PASSWORD = "deployer-password-of-the-test-cluster";
const BACKUP_LOGINS = ["toolboxai_backup_a", "toolboxai_backup_b"];

let pg: PostgresServer;
let own: Evaluation;
let owner: Evaluation;

beforeAll(async () => {
    pg = await startPostgres();
    // One evaluation at a time: Pulumi's runtime state is process-global.
    own = await evaluateStack("dev");
    owner = await evaluateStack("dev", { overrides: { backupDatabaseLogin: "owner" } });
    // The deployer as hosted Supabase's postgres on 15: CREATEROLE and BYPASSRLS, not a superuser;
    // it owns the application's table, which has Row Level Security and a policy for the app's role.
    await pg.sql(`
        create role ${DEPLOYER} login createrole bypassrls password '${DEPLOYER_PASSWORD}';
        create role authenticated nologin;
    `);
    // The deployer owns the application's database, as hosted postgres does.
    await pg.sql(`create database app owner ${DEPLOYER}`);
    await pg.sql(
        `
        set role ${DEPLOYER};
        create table public.notes (id int primary key, author text not null, body text not null);
        alter table public.notes enable row level security;
        create policy notes_own on public.notes for select to authenticated using (author = current_user);
        grant select on public.notes to authenticated;
        insert into public.notes values (1, 'alice', 'one'), (2, 'bob', 'two'), (3, 'carol', 'three');
    `,
        "app",
    );
}, 180_000);
afterAll(async () => pg?.stop());

/** The consumer-roles step of an evaluation, run as the provider does, by the deployer against the test cluster. */
async function applyRoles(ev: Evaluation): Promise<{ code: number; output: string }> {
    const { code, stdout, stderr } = await runPlannedCommand(ev, "credentials-consumer-roles", {
        PGHOST: pg.host,
        PGPORT: String(pg.port),
        PGDATABASE: "app",
        PGSSLMODE: "disable",
        PGUSER: DEPLOYER,
        OWNER_PASSWORD: DEPLOYER_PASSWORD,
    });
    return { code, output: stdout + stderr };
}

const loginPasswords = (ev: Evaluation) =>
    JSON.parse((reveal(byName(ev, "credentials-consumer-roles").inputs.environment) as Record<string, string>).LOGIN_PASSWORDS) as Record<
        string,
        string
    >;

/** A backup of the RLS table as the job takes it (pg_dump, row security off): the rows, or pg_dump's error. */
async function backupAs(user: string, password: string): Promise<{ rows: number } | { error: string }> {
    try {
        const { stdout } = await run("pg_dump", ["--data-only", "--no-password", "--table=public.notes", "--lock-wait-timeout=300000"], {
            env: {
                PATH: process.env.PATH,
                PGHOST: pg.host,
                PGPORT: String(pg.port),
                PGDATABASE: "app",
                PGUSER: user,
                PGPASSWORD: password,
            },
        });
        const copy = stdout.slice(stdout.indexOf("COPY public.notes"));
        return { rows: copy.slice(0, copy.indexOf("\\.")).trim().split("\n").length - 1 };
    } catch (err) {
        return { error: String((err as { stderr: string }).stderr).trim() };
    }
}

/** doctor's "backup login" check for a stack whose outputs say `setting` (the database group only). */
async function doctorSays(setting: Context["backupDatabaseLogin"]) {
    const ctx: Context = {
        databaseUrl: `postgresql://${DEPLOYER}:${DEPLOYER_PASSWORD}@${pg.host}:${pg.port}/app?sslmode=disable`,
        schedule: "0 2 * * *",
        migrationsDir: `${PROJECT_DIR}/supabase/migrations`,
        backupDatabaseLogin: setting,
        sources: {},
    };
    const checks = await doctor(ctx, {
        longQuerySeconds: 300,
        exposedSchemas: ["public"],
        skip: ["pooler", "redis", "vault", "backups", "hosted"],
    });
    return checks.find((c) => c.group === "roles" && c.name === "backup login");
}

const managedRoles = () =>
    pg.sql("select coalesce(string_agg(rolname, ',' order by rolname), '') from pg_roles where rolname like 'toolboxai%'");

describe("the backup's login on PostgreSQL 15 with a deployer that is not a superuser", () => {
    it("own-role: the step fails before any change, naming every fix; no WARNING, no password in its output", async () => {
        const result = await applyRoles(own);
        expect(result.code).not.toBe(0);
        expect(result.output).toContain(
            "the backup logins toolboxai_backup_a, toolboxai_backup_b need BYPASSRLS (pg_dump refuses every table with Row Level Security without it): on PostgreSQL 15 only a superuser may grant BYPASSRLS, and deployer is not one",
        );
        expect(result.output).toContain("Nothing was changed");
        expect(result.output).toContain("backupDatabaseLogin owner");
        expect(result.output).not.toContain("WARNING");
        for (const password of [DEPLOYER_PASSWORD, ...Object.values(loginPasswords(own))])
            expect(result.output.includes(password), "a password in the output").toBe(false);
        expect(await managedRoles()).toBe("");
        expect(await doctorSays("own-role")).toMatchObject({
            status: "fail",
            evidence: expect.stringContaining("the next backup fails") as string,
        });
    });

    it("own-role after a superuser (Supabase support) created the backup logins with BYPASSRLS: applied; the backup reads every row", async () => {
        await pg.sql(BACKUP_LOGINS.map((l) => `create role ${l} login bypassrls;`).join("\n"));
        const result = await applyRoles(own);
        expect(result.code, result.output).toBe(0);
        expect(
            await pg.sql(
                "select string_agg(rolname || ':' || rolbypassrls, ',' order by rolname) from pg_roles where rolname like 'toolboxai_backup_%'",
            ),
        ).toBe("toolboxai_backup_a:true,toolboxai_backup_b:true");
        const passwords = loginPasswords(own);
        for (const login of BACKUP_LOGINS) expect(await backupAs(login, passwords[login]), login).toEqual({ rows: 3 });
        expect(await doctorSays("own-role")).toMatchObject({
            status: "pass",
            evidence: expect.stringContaining("toolboxai_backup_a, toolboxai_backup_b log in with BYPASSRLS") as string,
        });
    });

    it("a backup login without BYPASSRLS: the backup fails loudly on the RLS table (never a dump with rows missing); doctor fails it", async () => {
        await pg.sql("alter role toolboxai_backup_b nobypassrls");
        try {
            const backup = await backupAs("toolboxai_backup_b", loginPasswords(own).toolboxai_backup_b);
            expect(backup).toEqual({
                error: expect.stringMatching(/query would be affected by row-level security policy for table "notes"/) as string,
            });
            expect(await doctorSays("own-role")).toMatchObject({
                status: "fail",
                evidence: expect.stringContaining("toolboxai_backup_b is missing, without LOGIN or without BYPASSRLS") as string,
            });
        } finally {
            await pg.sql("alter role toolboxai_backup_b bypassrls");
        }
    });

    it("owner (the fallback): the backup job gets the owner's login and no roles of its own; the backup reads every row; doctor warns", async () => {
        const step = reveal(byName(owner, "credentials-consumer-roles").inputs.environment) as Record<string, string>;
        expect(step.CONSUMERS).toBe("backend,worker");
        const ownerPassword = (reveal(byName(owner, "credentials-apply-database-password").inputs.environment) as Record<string, string>)
            .NEW_PASSWORD;
        const holders = ofType(owner, "docker:index/container:Container").flatMap((c) =>
            ((reveal(c.inputs.uploads) as { file: string; content: string }[] | undefined) ?? [])
                .filter((u) => u.content.includes(ownerPassword))
                .map((u) => ({ where: `${c.name}:${u.file}`, user: u.content.trim().split(":")[3] })),
        );
        // Only the backup job holds it, as its pgpass line for the owner.
        expect(holders).toEqual([{ where: expect.stringMatching(/backup.*:.*\/pgpass$/) as string, user: "postgres" }]);

        const result = await applyRoles(owner);
        expect(result.code, result.output).toBe(0);
        // The backup's own logins, which the stack no longer uses, lose LOGIN.
        expect(
            await pg.sql(
                "select string_agg(rolname || ':' || rolcanlogin, ',' order by rolname) from pg_roles where rolname like 'toolboxai_backup_%'",
            ),
        ).toBe("toolboxai_backup_a:false,toolboxai_backup_b:false");
        expect(await backupAs(DEPLOYER, DEPLOYER_PASSWORD)).toEqual({ rows: 3 });
        expect(await doctorSays("owner")).toMatchObject({
            status: "warn",
            evidence: "backupDatabaseLogin owner: the backup job logs in as deployer (PostgreSQL 15), whose password its container holds",
            fix: expect.stringContaining("after upgrading to PostgreSQL 17, set backupDatabaseLogin own-role") as string,
        });
        // An owner without BYPASSRLS could not dump the tables it does not own: doctor fails that.
        await pg.sql(`alter role ${DEPLOYER} nobypassrls`);
        try {
            expect(await doctorSays("owner")).toMatchObject({
                status: "fail",
                evidence: expect.stringContaining("deployer has no BYPASSRLS") as string,
            });
        } finally {
            await pg.sql(`alter role ${DEPLOYER} bypassrls`);
        }
    });
});
