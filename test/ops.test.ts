/**
 * The operations tool against real servers on loopback: PostgreSQL 15 with TLS, redis-server
 * with TLS and the generated ACL, s3rver holding the backup job's real objects (the job's bundle
 * is run, exactly as the image runs it). doctor passes on a healthy setup and fails each planted
 * fault with its named check and fix; restore and drill give identical data; import moves an
 * old-style database into the migrated schema. No secret ever reaches the tool's output.
 */
import { execFile, spawn } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../backup-job/build";
import { backupKey } from "../backup-job/job";
import { manifestKey } from "../backup-job/manifest";
import { aclFile, redisConf } from "../lib/redis";
import { main, type Outcome } from "../ops/cli";
import { backupJobEnv, createAppDatabase, createMigratedDatabase, runBackupJob } from "./support/backup";
import { makePki, startRedis, type Pki, type RedisServerProcess } from "./support/redis";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { S3RVER_ACCESS_KEY_ID, startS3, type S3Server } from "./support/s3";

const run = promisify(execFile);
const DB_PASSWORD = "ops-test-db-password-7c41e9";
const AWS_SECRET = "ops-test-aws-secret-2b9d55";
const REDIS_USERS = {
    backend: { username: "toolboxai_backend", password: "OpsBackendPassword0123456789abcdefghijk" },
    worker: { username: "toolboxai_worker", password: "OpsWorkerPassword0123456789abcdefghijkl" },
    healthcheck: { username: "toolboxai_healthcheck", password: "OpsHealthPassword0123456789abcdefghijk" },
    exporter: { username: "toolboxai_exporter", password: "OpsExporterPassword0123456789abcdefghi" },
};
const BUCKET = "toolboxai-ops-backups";
const SECRETS = [DB_PASSWORD, AWS_SECRET, ...Object.values(REDIS_USERS).map((u) => u.password)];

let pg: PostgresServer;
let s3: S3Server;
let redis: RedisServerProcess;
let work: string;
let bundle: string;
let dbPki: Pki;
let otherPki: Pki;
let latest: { key: string; bytes: number };
/** Every output the tool produced: checked for secrets at the end. */
const outputs: string[] = [];

const dbUrl = (database: string, tls = true) =>
    `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${pg.port}/${database}?sslmode=${tls ? `verify-full&sslrootcert=${encodeURIComponent(dbPki.caCert)}` : "disable"}`;

/** Where the backups are, as every backup command takes it. */
const backupFlags = () => ["--bucket", BUCKET, "--s3-endpoint", s3.endpoint, "--aws-credentials-file", join(work, "aws_credentials")];

async function ops(...argv: string[]): Promise<Outcome & { json: Record<string, unknown> }> {
    const o = await main(argv, {});
    outputs.push(o.stdout, o.stderr);
    let json: Record<string, unknown> = {};
    if (argv.includes("--json")) json = JSON.parse(o.stdout) as Record<string, unknown>;
    return { ...o, json };
}

/** The flags that point doctor at the healthy setup; a test overrides one to plant its fault. */
function doctorArgs(overrides: Record<string, string> = {}): string[] {
    const flags: Record<string, string> = {
        "--database-url": dbUrl("app"),
        "--pooler-url": dbUrl("app"),
        "--s3-endpoint": s3.endpoint,
        "--bucket": BUCKET,
        "--prefix": "supabase",
        "--aws-credentials-file": join(work, "aws_credentials"),
        "--redis-url": `rediss://127.0.0.1:${redis.port}`,
        "--redis-ca": redis.pki.caCert,
        "--redis-password-file": join(work, "redis_password"),
        ...overrides,
    };
    return ["doctor", "--json", ...Object.entries(flags).flat()];
}

type Check = { group: string; name: string; status: string; evidence: string; fix?: string };
const checks = (json: Record<string, unknown>) => json.checks as Check[];
const check = (json: Record<string, unknown>, group: string, name: string) =>
    checks(json).find((c) => c.group === group && c.name === name)!;

function runJob(env: Record<string, string>): Promise<{ code: number | null; report: Record<string, unknown> }> {
    return runBackupJob(bundle, env);
}

function jobEnv(database: string, prefix: string): Record<string, string> {
    return backupJobEnv(
        { work, pgPort: pg.port, s3Endpoint: s3.endpoint, bucket: BUCKET },
        { PGDATABASE: database, BACKUP_PREFIX: prefix },
    );
}

/** Row count and an order-independent checksum of every table (computed here, not by the tool). */
async function tableChecksums(database: string, schemas = ["auth", "public"]): Promise<Record<string, string>> {
    const list = schemas.map((s) => `'${s}'`).join(", ");
    const tables = (
        await pg.sql(`select format('%I.%I', schemaname, tablename) from pg_tables where schemaname in (${list}) order by 1`, database)
    )
        .split("\n")
        .filter(Boolean);
    const out: Record<string, string> = {};
    for (const table of tables)
        out[table] = await pg.sql(
            `select count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '-') from ${table} t`,
            database,
        );
    return out;
}

async function copyObject(from: string, to: string): Promise<void> {
    await s3.client.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${from}`, Key: to }));
}

const tableCount = async (database: string) =>
    Number(await pg.sql("select count(*) from pg_tables where schemaname in ('auth', 'public')", database));

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolboxai-ops-"));
    [dbPki, otherPki] = await Promise.all([makePki(work, "db"), makePki(work, "other")]);
    [bundle, pg, s3, redis] = await Promise.all([
        buildBackupJob(join(work, "backup-job.js")),
        startPostgres({ tls: { certFile: dbPki.serverCert, keyFile: dbPki.serverKey } }),
        startS3([BUCKET]),
        startRedis(redisConf(), aclFile(REDIS_USERS)),
    ]);
    await pg.sql(`alter role postgres password '${DB_PASSWORD}'`);
    const secret = (name: string, content: string) => {
        writeFileSync(join(work, name), content);
        chmodSync(join(work, name), 0o600);
    };
    secret("pgpass", `127.0.0.1:*:*:postgres:${DB_PASSWORD}\n`);
    secret("aws_credentials", `[default]\naws_access_key_id = ${S3RVER_ACCESS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET}\n`);
    secret("redis_password", `${REDIS_USERS.healthcheck.password}\n`);
    writeFileSync(join(work, "aws_config"), "");

    await createAppDatabase(pg, "app", { scale: 600, projectsPerUser: 3 });
    // What `supabase db push` records.
    const versions = readdirSync(join(__dirname, "..", "supabase", "migrations")).map((f) => f.split("_")[0]);
    await pg.sql(
        `create schema supabase_migrations; create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
         insert into supabase_migrations.schema_migrations (version) values ${versions.map((v) => `('${v}')`).join(", ")}`,
        "app",
    );
    const result = await runJob(jobEnv("app", "supabase"));
    expect(result.code).toBe(0);
    latest = { key: String(result.report.key), bytes: Number(result.report.bytes) };
}, 240_000);

afterAll(async () => {
    await Promise.all([pg?.stop(), s3?.stop(), redis?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
});

describe("ops doctor", () => {
    it("passes every check on a healthy setup (no hosted project here: that group is skipped, test/opsHosted.test.ts checks it)", async () => {
        const r = await ops(...doctorArgs());
        const notPassing = checks(r.json).filter((c) => c.status !== "pass" && !(c.group === "vault" || c.group === "hosted"));
        // s3rver reports no server-side encryption (AWS always does): the one warning here, said as such.
        expect(notPassing).toEqual([
            // Flags only: no stack outputs say which login the backup job uses (test/backupLogin.test.ts checks each case).
            expect.objectContaining({ group: "roles", name: "backup login", status: "skip" }),
            expect.objectContaining({
                group: "backups",
                name: "encryption",
                status: "warn",
                evidence: "the store reports no server-side encryption",
            }),
        ]);
        expect(r.code).toBe(0);
        expect(check(r.json, "database", "ssl").evidence).toMatch(/TLSv1\.[23], certificate verified \(sslmode=verify-full\)/);
        expect(check(r.json, "backups", "newest backup").evidence).toContain(latest.key);
        expect(check(r.json, "backups", "pg_restore --list").evidence).toMatch(/^\d+ entries/);
        expect(check(r.json, "hosted", "Management API checks")).toMatchObject({
            status: "skip",
            evidence: expect.stringContaining("no hosted project") as string,
        });
        // The table for people says the same.
        const table = await ops(...doctorArgs().filter((a) => a !== "--json"));
        expect(table.stdout).toMatch(/PASS\s+redis: TLS PING/);
        expect(table.code).toBe(0);
    }, 60_000);

    it("fails RLS off on one table, naming the table and the statement that fixes it", async () => {
        await pg.sql("alter table public.projects disable row level security", "app");
        try {
            const r = await ops(...doctorArgs());
            expect(r.code).toBe(1);
            expect(check(r.json, "schema", "RLS enabled")).toMatchObject({ status: "fail", evidence: "off on public.projects" });
            expect(check(r.json, "schema", "RLS enabled").fix).toContain('alter table "public"."projects" enable row level security;');
        } finally {
            await pg.sql("alter table public.projects enable row level security", "app");
        }
    }, 60_000);

    it("fails a table without a policy, and a foreign key without an index", async () => {
        await pg.sql(
            "create table public.notes (id int primary key, project_id uuid references public.projects (id)); alter table public.notes enable row level security",
            "app",
        );
        try {
            const r = await ops(...doctorArgs());
            expect(r.code).toBe(1);
            expect(check(r.json, "schema", "policies")).toMatchObject({ status: "fail", evidence: "no policy on public.notes" });
            expect(check(r.json, "schema", "foreign key indexes")).toMatchObject({ status: "fail" });
            expect(check(r.json, "schema", "foreign key indexes").evidence).toContain("notes(project_id)");
            expect(check(r.json, "schema", "foreign key indexes").fix).toContain('create index on "public"."notes" ("project_id");');
        } finally {
            await pg.sql("drop table public.notes", "app");
        }
    }, 60_000);

    it("fails a missing migration", async () => {
        const dir = join(work, "migrations-ahead");
        cpSync(join(__dirname, "..", "supabase", "migrations"), dir, { recursive: true });
        writeFileSync(join(dir, "20270101000000_add_notes.sql"), "select 1;\n");
        const r = await ops(...doctorArgs({ "--migrations-dir": dir }));
        expect(r.code).toBe(1);
        expect(check(r.json, "schema", "migrations")).toMatchObject({ status: "fail", evidence: "not applied: 20270101000000" });
        expect(check(r.json, "schema", "migrations").fix).toMatch(/supabase db push/);
    }, 60_000);

    it("fails a stale backup", async () => {
        await copyObject(latest.key, backupKey("stale", new Date(Date.now() - 3 * 86_400_000)));
        const r = await ops(...doctorArgs({ "--prefix": "stale" }));
        expect(r.code).toBe(1);
        expect(check(r.json, "backups", "newest backup")).toMatchObject({ status: "fail" });
        expect(check(r.json, "backups", "newest backup").evidence).toMatch(/72\.\d h old \(limit 30 h/);
        expect(check(r.json, "backups", "newest backup").fix).toMatch(/backup container's health and logs/);
    }, 60_000);

    it("fails a shrunken backup: the job's dump of a much smaller database after a full one", async () => {
        await copyObject(latest.key, backupKey("shrunk", new Date(Date.now() - 3_600_000)));
        // Roles are cluster-wide: a second Supabase-shaped database is a copy of the first, cut down.
        await pg.sql("create database tiny template app");
        await pg.sql("delete from auth.users where id not in (select id from auth.users order by id limit 20)", "tiny");
        expect((await runJob(jobEnv("tiny", "shrunk"))).code).toBe(0);
        const r = await ops(...doctorArgs({ "--prefix": "shrunk" }));
        expect(r.code).toBe(1);
        expect(check(r.json, "backups", "size")).toMatchObject({ status: "fail" });
        expect(check(r.json, "backups", "size").fix).toMatch(/below 50% of the one before/);
        expect(check(r.json, "backups", "newest backup").status).toBe("pass");
    }, 60_000);

    it("fails an object pg_restore cannot read", async () => {
        await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: backupKey("garbage", new Date()), Body: Buffer.alloc(4096, 7) }));
        const r = await ops(...doctorArgs({ "--prefix": "garbage" }));
        expect(r.code).toBe(1);
        expect(check(r.json, "backups", "pg_restore --list")).toMatchObject({ status: "fail" });
    }, 60_000);

    it("lists a long-running query with its pid and the command to end it, and never ends it itself", async () => {
        const sleeper = spawn(
            "psql",
            ["-X", "-h", "127.0.0.1", "-p", String(pg.port), "-U", "postgres", "-d", "app", "-c", "select pg_sleep(60)"],
            { env: { ...process.env, PGPASSFILE: join(work, "pgpass") }, stdio: "ignore" },
        );
        try {
            let pid = "";
            for (let i = 0; i < 100 && !pid; i++) {
                pid = await pg.sql("select pid from pg_stat_activity where query like 'select pg_sleep(60)%'");
                if (!pid) await new Promise((r) => setTimeout(r, 50));
            }
            await new Promise((r) => setTimeout(r, 1200));
            const r = await ops(...doctorArgs({ "--long-query-seconds": "1" }));
            expect(r.code).toBe(1);
            const c = check(r.json, "connections", "long-running queries");
            expect(c.status).toBe("fail");
            expect(c.evidence).toContain(`pid ${pid} `);
            expect(c.evidence).toContain("select pg_sleep(60)");
            expect(c.fix).toContain(`select pg_terminate_backend(${pid})`);
            expect(await pg.sql(`select count(*) from pg_stat_activity where pid = ${pid}`)).toBe("1");
        } finally {
            sleeper.kill("SIGTERM");
            await pg.sql("select pg_terminate_backend(pid) from pg_stat_activity where query like 'select pg_sleep(60)%'");
        }
    }, 60_000);

    it("fails Redis with another CA, naming the CA as the fix", async () => {
        const r = await ops(...doctorArgs({ "--redis-ca": otherPki.caCert }));
        expect(r.code).toBe(1);
        expect(check(r.json, "redis", "TLS PING")).toMatchObject({ status: "fail" });
        expect(check(r.json, "redis", "TLS PING").fix).toMatch(/not signed by the CA given/);
    }, 60_000);

    it("fails Redis with a wrong password", async () => {
        writeFileSync(join(work, "redis_wrong"), "not-the-password\n");
        const r = await ops(...doctorArgs({ "--redis-password-file": join(work, "redis_wrong") }));
        expect(check(r.json, "redis", "TLS PING")).toMatchObject({ status: "fail" });
        expect(check(r.json, "redis", "TLS PING").fix).toMatch(/password differs from the server's ACL/);
    }, 60_000);

    it("fails a wrong database password, and a server certificate from another CA", async () => {
        const wrong = await ops(...doctorArgs({ "--database-url": dbUrl("app").replace(DB_PASSWORD, "wrong-password") }));
        expect(wrong.code).toBe(1);
        expect(check(wrong.json, "database", "connects")).toMatchObject({ status: "fail" });
        expect(check(wrong.json, "database", "connects").evidence).toMatch(/password authentication failed/);
        expect(check(wrong.json, "database", "connects").fix).toMatch(/the password is wrong/);
        expect(check(wrong.json, "database", "connects").evidence).not.toContain("wrong-password");

        const ca = await ops(
            ...doctorArgs({
                "--database-url": dbUrl("app").replace(encodeURIComponent(dbPki.caCert), encodeURIComponent(otherPki.caCert)),
            }),
        );
        expect(check(ca.json, "database", "connects")).toMatchObject({ status: "fail" });
        expect(check(ca.json, "database", "connects").fix).toMatch(/certificate is not trusted/);
    }, 60_000);

    it("warns when TLS is used but the certificate is not verified, and when a local server has no TLS", async () => {
        const unverified = await ops(...doctorArgs({ "--database-url": dbUrl("app").replace(/sslmode=.*$/, "sslmode=require") }));
        expect(check(unverified.json, "database", "ssl")).toMatchObject({
            status: "warn",
            evidence: expect.stringMatching(/certificate NOT verified \(sslmode=require\)/),
        });
        const plain = await ops(...doctorArgs({ "--database-url": dbUrl("app", false) }));
        expect(check(plain.json, "database", "ssl")).toMatchObject({
            status: "warn",
            evidence: expect.stringMatching(/not encrypted \(sslmode=disable\): a local server/),
        });
    }, 60_000);

    it("exits 2 on bad usage, naming the flag", async () => {
        expect(await ops("doctor", "--no-such-flag")).toMatchObject({ code: 2 });
        const bad = await ops(...doctorArgs({ "--long-query-seconds": "soon" }));
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/--long-query-seconds "soon": must be a whole number/);
        expect(await ops("frobnicate")).toMatchObject({ code: 2 });
        expect((await ops("doctor")).stderr).toMatch(/nothing to check/);
    });
});

describe("ops restore and drill", () => {
    it("restores the latest backup with the manifest's row counts and the source's exact data", async () => {
        await pg.sql("create database restored");
        const r = await ops("restore", "--json", ...backupFlags(), "--target", dbUrl("restored"));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.json).toMatchObject({ ok: true, key: latest.key, problems: [] });
        expect((r.json.tables as { table: string; manifest: number }[]).find((t) => t.table === "public.projects")?.manifest).toBe(1800);
        expect(await tableChecksums("restored")).toEqual(await tableChecksums("app"));
    }, 120_000);

    it("refuses a target with tables in the restored schemas unless --clean", async () => {
        const base = ["restore", ...backupFlags(), "--target", dbUrl("restored")];
        const refused = await ops(...base);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/restore refused: the target .* already has \d+ table\(s\) in the restored schemas .* pass --clean/);
        await pg.sql("delete from public.project_members", "restored");
        const cleaned = await ops(...base, "--clean");
        expect(cleaned.code).toBe(0);
        expect(cleaned.stdout).toMatch(/every table's row count equals the manifest's/);
        expect(await tableChecksums("restored")).toEqual(await tableChecksums("app"));
    }, 120_000);

    it("fails a corrupted object on its hash without touching the target", async () => {
        const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: latest.key }));
        const bytes = Buffer.from(await object.Body!.transformToByteArray());
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        const key = backupKey("corrupt", new Date());
        await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
        const manifest = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: manifestKey(latest.key) }));
        await s3.client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey(key), Body: await manifest.Body!.transformToString() }),
        );
        await pg.sql("create database untouched");
        const r = await ops(
            "restore",
            "--bucket",
            BUCKET,
            "--prefix",
            "corrupt",
            "--s3-endpoint",
            s3.endpoint,
            "--aws-credentials-file",
            join(work, "aws_credentials"),
            "--target",
            dbUrl("untouched"),
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/SHA-256 [0-9a-f]{64} differs from the manifest's [0-9a-f]{64}: .*the target was not touched/);
        expect(await tableCount("untouched")).toBe(0);
    }, 120_000);

    it("drill restores the newest backup into a scratch database, reports its age and RTO, and drops it", async () => {
        const r = await ops("drill", "--json", ...backupFlags(), "--server", dbUrl("postgres"));
        expect(r.code).toBe(0);
        expect(r.json).toMatchObject({ ok: true, key: latest.key, kept: false, problems: [] });
        expect(r.json.rtoSeconds).toBeGreaterThan(0);
        expect(r.json.backupAgeHours).toBeLessThan(1);
        expect(await pg.sql(`select count(*) from pg_database where datname = '${String(r.json.scratchDatabase)}'`)).toBe("0");
    }, 120_000);

    it("drill --keep leaves the scratch database with the source's exact data", async () => {
        const r = await ops("drill", "--json", "--keep", ...backupFlags(), "--server", dbUrl("postgres"));
        expect(r.code).toBe(0);
        const scratch = String(r.json.scratchDatabase);
        expect(await tableChecksums(scratch)).toEqual(await tableChecksums("app"));
        await pg.sql(`drop database ${scratch}`);
    }, 120_000);
});

describe("ops import", () => {
    beforeAll(async () => {
        // The old local database: the same data, none of Supabase's setup (no RLS, policies, helpers or migration history).
        await pg.sql("create database legacy template app");
        await pg.sql(
            "drop schema private cascade; drop schema supabase_migrations cascade; alter table public.users disable row level security; alter table public.projects disable row level security",
            "legacy",
        );
        // The migrated schema, empty: what `supabase db push` leaves on a new project.
        await createMigratedDatabase(pg, "fresh", work);
        // An old database that drifted from the schema.
        await pg.sql("create database drifted template legacy");
        await pg.sql(
            "alter table public.projects add column legacy_flag boolean; alter table public.users drop column clerk_id; alter table public.workspaces alter column name type varchar(100); create table public.old_audit (id int)",
            "drifted",
        );
    }, 120_000);

    const importArgs = (from: string, ...rest: string[]) => [
        "import",
        "--json",
        "--from",
        dbUrl(from, false),
        "--database-url",
        dbUrl("fresh"),
        "--schemas",
        "auth,public",
        ...rest,
    ];

    it("dry run reports every planted schema difference and writes nothing", async () => {
        const r = await ops(...importArgs("drifted", "--dry-run"));
        expect(r.code).toBe(1);
        expect(r.json.differences).toEqual(
            expect.arrayContaining([
                "column public.projects.legacy_flag (boolean) exists in the source but not in the migrated schema",
                "column public.users.clerk_id (text) exists in the migrated schema but not in the source",
                "column public.workspaces.name is character varying(100) in the source, text in the migrated schema",
                "table public.old_audit exists in the source but not in the migrated schema",
            ]),
        );
        expect(await pg.sql("select count(*) from public.users", "fresh")).toBe("0");
        // Without --dry-run the same differences stop it before any row is written.
        const refused = await ops(...importArgs("drifted"));
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/import refused: the source does not fit the migrated schema; nothing was written/);
        expect(await pg.sql("select count(*) from auth.users", "fresh")).toBe("0");
    }, 60_000);

    it("copies an old-style database in foreign-key order with identical counts and checksums", async () => {
        const dry = await ops(...importArgs("legacy", "--dry-run"));
        expect(dry.code).toBe(0);
        const plan = (dry.json.plan as string[][]).flat();
        expect(plan.indexOf("auth.users")).toBeLessThan(plan.indexOf("public.users"));
        expect(plan.indexOf("public.users")).toBeLessThan(plan.indexOf("public.workspaces"));
        expect(plan.indexOf("public.projects")).toBeLessThan(plan.indexOf("public.project_members"));

        const r = await ops(...importArgs("legacy"));
        expect(r.code).toBe(0);
        expect((r.json.tables as { checksumsEqual: boolean }[]).every((t) => t.checksumsEqual)).toBe(true);
        expect(await tableChecksums("fresh")).toEqual(await tableChecksums("legacy"));
        // The indexes and foreign keys dropped for the load are all back, exactly as the migrations made them.
        await createMigratedDatabase(pg, "pristine", work);
        const catalog = (database: string) =>
            pg.sql(
                `select string_agg(d, E'\n' order by d) from (
                    select indexdef as d from pg_indexes where schemaname in ('auth', 'public')
                    union all select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint where connamespace in ('auth'::regnamespace, 'public'::regnamespace)
                ) s`,
                database,
            );
        expect(await catalog("fresh")).toBe(await catalog("pristine"));
        expect(await catalog("fresh")).toMatch(/FOREIGN KEY \(owner_id\) REFERENCES (public\.)?users\(id\) ON DELETE CASCADE/);
    }, 120_000);

    it("refuses non-empty target tables unless --truncate", async () => {
        const refused = await ops(...importArgs("legacy"));
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/already has rows in .*public\.users.* pass --truncate/);
        const again = await ops(...importArgs("legacy", "--truncate"));
        expect(again.code).toBe(0);
        expect(await tableChecksums("fresh")).toEqual(await tableChecksums("legacy"));
    }, 120_000);
});

describe("ops as a command", () => {
    it("runs as the package's bin and prints no secret anywhere", async () => {
        const bin = join(__dirname, "..", "ops", "bin.js");
        const res = await run(process.execPath, [bin, ...doctorArgs()]).catch((e: { stdout: string; stderr: string; code: number }) => e);
        outputs.push(res.stdout, res.stderr);
        expect(JSON.parse(res.stdout)).toMatchObject({ ok: true });
        for (const secret of SECRETS) for (const out of outputs) expect(out).not.toContain(secret);
        expect(outputs.length).toBeGreaterThan(20);
    }, 60_000);
});
