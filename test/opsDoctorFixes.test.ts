/**
 * Every SQL fix doctor prints runs as printed. A real PostgreSQL 15 holds a schema, tables and
 * columns whose names have mixed case, spaces, dots, double quotes and a keyword; doctor finds
 * each problem that comes with SQL (RLS off, a foreign key without an index, a long-running
 * query), the test runs each printed statement with psql, as an operator would paste it, and
 * doctor must then pass that check.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../ops/cli";
import { startPostgres, type PostgresServer } from "./support/postgres";

// PostgreSQL's own quoting, for the set-up only (the tool's quoting is what is under test).
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const SCHEMA = 'My "Odd" Schema.v2';
const AUDIT = "Audit Trail";
const KEYWORD = "select";
const PROJECTS = 'Pro"jects';
const INVOICES = "InVoices.2024";
const DB = "odd";
const PASSWORD = "fixes-test-password-51d0";

let pg: PostgresServer;
let work: string;

type Check = { group: string; name: string; status: string; evidence: string; fix?: string; sql?: string[] };

async function doctor(...extra: string[]): Promise<{ code: number; checks: Check[]; text: string }> {
    const args = [
        "doctor",
        "--database-url",
        `postgresql://postgres:${PASSWORD}@127.0.0.1:${pg.port}/${DB}?sslmode=disable`,
        "--exposed-schemas",
        SCHEMA,
        "--migrations-dir",
        work,
        "--skip",
        "pooler,redis,vault,backups,hosted",
        ...extra,
    ];
    const [json, table] = await Promise.all([main([...args, "--json"], {}), main(args, {})]);
    return { code: json.code, checks: (JSON.parse(json.stdout) as { checks: Check[] }).checks, text: table.stdout };
}

const sleeping = async () => (await pg.sql("select count(*) from pg_stat_activity where query = 'select pg_sleep(120)'")) === "1";

const find = (checks: Check[], group: string, name: string) => checks.find((c) => c.group === group && c.name === name)!;

/** Runs each statement the check printed, as printed, and returns them. */
async function runPrintedFix(c: Check, text: string): Promise<string[]> {
    expect(c.sql?.length).toBeGreaterThan(0);
    for (const statement of c.sql!) {
        // The statement is in the fix people read, verbatim: that text is what gets pasted.
        expect(c.fix).toContain(statement);
        expect(text).toContain(statement);
        await pg.sql(statement, DB);
    }
    return c.sql!;
}

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolboxai-fixes-"));
    pg = await startPostgres();
    await pg.sql(`alter role postgres password '${PASSWORD}'`);
    await pg.sql(`create database ${DB}`);
    await pg.sql(
        `create schema ${q(SCHEMA)};
         create table ${q(SCHEMA)}.${q(AUDIT)} (${q("Event Id")} int primary key, ${q('Wh"o')} text);
         create table ${q(SCHEMA)}.${q(KEYWORD)} (id int primary key);
         create table ${q(SCHEMA)}.${q(PROJECTS)} (id int, ${q("Tenant Id")} int, primary key (id, ${q("Tenant Id")}));
         create table ${q(SCHEMA)}.${q(INVOICES)} (
             ${q("Invoice Id")} int primary key,
             ${q("ProjectRef")} int,
             ${q('Te"nant Id')} int,
             foreign key (${q("ProjectRef")}, ${q('Te"nant Id')}) references ${q(SCHEMA)}.${q(PROJECTS)} (id, ${q("Tenant Id")})
         );
         -- A policy on every table, so that enabling RLS is the whole fix.
         create policy p on ${q(SCHEMA)}.${q(AUDIT)} using (true);
         create policy p on ${q(SCHEMA)}.${q(KEYWORD)} using (true);
         create policy p on ${q(SCHEMA)}.${q(PROJECTS)} using (true);
         create policy p on ${q(SCHEMA)}.${q(INVOICES)} using (true);
         alter table ${q(SCHEMA)}.${q(PROJECTS)} enable row level security;
         alter table ${q(SCHEMA)}.${q(INVOICES)} enable row level security;`,
        DB,
    );
}, 120_000);

afterAll(async () => {
    await pg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
});

describe("doctor's printed fixes, for names that need quoting", () => {
    it("RLS: the printed alter table statements run and the check then passes", async () => {
        const before = await doctor();
        const rls = find(before.checks, "schema", "RLS enabled");
        expect(rls).toMatchObject({ status: "fail", evidence: `off on ${SCHEMA}.${AUDIT}, ${SCHEMA}.${KEYWORD}` });
        expect(await runPrintedFix(rls, before.text)).toHaveLength(2);
        const after = await doctor();
        expect(find(after.checks, "schema", "RLS enabled").status).toBe("pass");
        expect(find(after.checks, "schema", "policies").status).toBe("pass");
    }, 60_000);

    it("foreign key indexes: the printed create index (two odd columns, in the key's order) runs and the check then passes", async () => {
        const before = await doctor();
        const fk = find(before.checks, "schema", "foreign key indexes");
        expect(fk.status).toBe("fail");
        expect(fk.evidence).toContain(`${SCHEMA}.${INVOICES}(ProjectRef, Te"nant Id)`);
        await runPrintedFix(fk, before.text);
        const after = await doctor();
        expect(find(after.checks, "schema", "foreign key indexes").status).toBe("pass");
        // The index leads with the key's columns in the key's order (a reversed index would not pass the check).
        expect(
            await pg.sql(
                `select indexdef from pg_indexes where schemaname = '${SCHEMA.replace(/'/g, "''")}' and tablename = '${INVOICES}' and indexname <> '${INVOICES}_pkey'`,
                DB,
            ),
        ).toContain(`("ProjectRef", "Te""nant Id")`);
    }, 60_000);

    it("long-running queries: the printed pg_terminate_backend ends the query and the check then passes", async () => {
        const sleeper = spawn(
            "psql",
            ["-X", "-h", "127.0.0.1", "-p", String(pg.port), "-U", "postgres", "-d", DB, "-c", "select pg_sleep(120)"],
            { env: { ...process.env, PGPASSWORD: PASSWORD }, stdio: "ignore" },
        );
        const ended = new Promise((resolve) => sleeper.once("close", resolve));
        try {
            for (let i = 0; i < 100 && !(await sleeping()); i++) await new Promise((r) => setTimeout(r, 50));
            await new Promise((r) => setTimeout(r, 1200));
            const before = await doctor("--long-query-seconds", "1");
            const long = find(before.checks, "connections", "long-running queries");
            expect(long.status).toBe("fail");
            await runPrintedFix(long, before.text);
            await ended;
            const after = await doctor("--long-query-seconds", "1");
            expect(find(after.checks, "connections", "long-running queries").status).toBe("pass");
        } finally {
            sleeper.kill("SIGTERM");
        }
    }, 60_000);
});
