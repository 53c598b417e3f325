/**
 * The backup job, bundled exactly as the image runs it, against a real PostgreSQL 15 and a real
 * S3-compatible server (s3rver) on loopback: a dump restores with identical data, and every fault
 * exits non-zero with a clear error and leaves nothing under a final name.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../backup-job/build";
import { parseManifest } from "../backup-job/manifest";
import {
    backupKey,
    dumpCommands,
    healthProblem,
    readJobConfig,
    TRANSACTION_POOLER_PORT,
    uploadParams,
    type Status,
} from "../backup-job/job";
import { reveal } from "../lib/offline/values";
import { byName, containerEnv, evaluateStack, PROJECT_DIR, uploadsOf } from "./harness";
import { freePort } from "./support/net";
import { requireTool } from "./support/tools";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { backupJobEnv, createAppDatabase, restoreFromS3 } from "./support/backup";
import { makePki, type Pki } from "./support/redis";
import { S3RVER_ACCESS_KEY_ID, startS3, type S3Server } from "./support/s3";

const run = promisify(execFile);
const DB_PASSWORD = "backup-test-db-password-5b1f0c";
const AWS_SECRET = "backup-test-aws-secret-8e2d71";
const BUCKET = "toolboxai-test-backups";

let pg: PostgresServer;
let s3: S3Server;
let work: string;
let bundle: string;
let pki: Pki;
let otherPki: Pki;
/** An "S3" that accepts connections and never answers. */
const stalled: { server?: Server; port: number; sockets: Socket[] } = { port: 0, sockets: [] };

function writeSecretFile(name: string, content: string): string {
    const file = join(work, name);
    writeFileSync(file, content);
    // libpq ignores a password file others can read.
    chmodSync(file, 0o600);
    return file;
}

/** The job's environment as the container gets it, pointed at the loopback servers; nothing inherited. */
function jobEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return backupJobEnv({ work, pgPort: pg.port, s3Endpoint: s3.endpoint, bucket: BUCKET }, overrides);
}

interface JobRun {
    code: number | null;
    stdout: string;
    stderr: string;
    /** The last JSON line the job printed (report or failure). */
    record: Record<string, unknown>;
}

function runJob(env: Record<string, string>, whileRunning?: (child: ChildProcess) => Promise<void>): Promise<JobRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bundle, "run"], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        const during = whileRunning?.(child).catch(reject);
        child.on("error", reject);
        child.on("close", async (code) => {
            await during;
            const json = `${stdout}\n${stderr}`.split("\n").filter((l) => l.startsWith("{"));
            resolve({ code, stdout, stderr, record: json.length ? (JSON.parse(json[json.length - 1]) as Record<string, unknown>) : {} });
        });
    });
}

/** Row count and an order-independent checksum of every table in the application's and auth's schemas. */
async function tableChecksums(database: string): Promise<Record<string, string>> {
    const tables = (
        await pg.sql(
            "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname in ('auth', 'public', 'private') order by 1",
            database,
        )
    )
        .split("\n")
        .filter(Boolean);
    const out: Record<string, string> = {};
    for (const table of tables) {
        out[table] = await pg.sql(
            `select count(*) || ' rows, md5 ' || coalesce(md5(string_agg(t::text, E'\\n' order by t::text)), '-') from ${table} t`,
            database,
        );
    }
    return out;
}

/** What the migrations set up for security: RLS flags and policies must survive a restore too. */
async function securityCatalog(database: string): Promise<string> {
    return pg.sql(
        `select string_agg(x, E'\\n' order by x) from (
            select format('rls %s.%s %s', n.nspname, c.relname, c.relrowsecurity) x from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'private') and c.relkind = 'r'
            union all select format('policy %s.%s %s %s %s', schemaname, tablename, policyname, cmd, qual) from pg_policies
        ) s`,
        database,
    );
}

async function restore(key: string, database: string): Promise<void> {
    // The restore docs/operations/backup-and-restore.md documents: zstd -dc | pg_restore.
    const result = await restoreFromS3(pg, { client: s3.client, bucket: BUCKET }, key, database, {
        ...process.env,
        PGPASSFILE: join(work, "pgpass"),
    });
    expect(result).toEqual({ code: 0, errors: "" });
}

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolboxai-backup-"));
    // TLS on, so that verify-full with the stack's databaseCaCert can be checked (plain still works).
    [pki, otherPki] = await Promise.all([makePki(work, "db"), makePki(work, "other")]);
    [bundle, pg, s3] = await Promise.all([
        buildBackupJob(join(work, "backup-job.js")),
        startPostgres({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey } }),
        startS3([BUCKET]),
    ]);
    stalled.server = createServer((socket) => stalled.sockets.push(socket));
    await new Promise<void>((resolve) => stalled.server!.listen(0, "127.0.0.1", resolve));
    stalled.port = (stalled.server.address() as { port: number }).port;
    await pg.sql(`alter role postgres password '${DB_PASSWORD}'`);
    writeSecretFile("pgpass", `127.0.0.1:*:*:postgres:${DB_PASSWORD}\n`);
    writeSecretFile("aws_credentials", `[default]\naws_access_key_id = ${S3RVER_ACCESS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET}\n`);
    writeFileSync(join(work, "aws_config"), "");
    // A Supabase-shaped database: the platform's roles and auth schema, the real migrations, seeded.
    await createAppDatabase(pg, "app", { scale: 2000, projectsPerUser: 3 });
    // Two tables of hard-to-compress text (about 60 MB compressed): failures strike while pg_dump
    // is still writing and several 5 MiB parts are already uploaded.
    await pg.sql("create database bulk");
    await pg.sql(
        `create table a_first as select g as id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) as payload from generate_series(1, 400000) g;
         create table b_second as select * from a_first;`,
        "bulk",
    );
}, 180_000);

/** The job's database sessions still open (none may outlive a failed run). */
const backupSessions = () => pg.sql("select count(*) from pg_stat_activity where application_name = 'toolboxai-backup'");

afterAll(async () => {
    for (const socket of stalled.sockets) socket.destroy();
    stalled.server?.close();
    await Promise.all([pg?.stop(), s3?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
});

describe("backup job settings and naming", () => {
    it("names the object <prefix>/<UTC timestamp>.dump", () => {
        expect(backupKey("supabase", new Date("2026-11-25T02:00:07.123Z"))).toBe("supabase/20261125T020007Z.dump");
        expect(backupKey("a/b", new Date("2027-01-02T03:04:05Z"))).toBe("a/b/20270102T030405Z.dump");
    });

    it("dumps uncompressed custom format for zstd, and never puts a password on a command line", () => {
        const config = readJobConfig({ ...jobEnv(), BACKUP_SCHEMAS: "public,private" });
        const { pgDump, zstd } = dumpCommands(config);
        expect(pgDump).toEqual(
            expect.arrayContaining(["--format=custom", "--compress=0", "--no-password", "--schema=public", "--schema=private"]),
        );
        expect(zstd).toEqual(["-1", "-T0", "-q", "-c"]);
        expect([...pgDump, ...zstd].join(" ")).not.toMatch(/password=|PGPASSWORD|postgresql:\/\//);
    });

    it.each([
        [{ PGPORT: String(TRANSACTION_POOLER_PORT) }, /PGPORT=6543: is the transaction pooler/],
        [{ PGPASSWORD: DB_PASSWORD }, /PGPASSWORD is set: pass the password as a file/],
        [{ BACKUP_SSE: "aws:kms" }, /BACKUP_KMS_KEY_ID is not set: required with BACKUP_SSE=aws:kms/],
        [{ BACKUP_SSE: "aws:kms:dsse" }, /BACKUP_SSE="aws:kms:dsse": must be AES256 or aws:kms/],
        [{ BACKUP_PREFIX: "../x" }, /BACKUP_PREFIX="\.\.\/x": must be key path segments/],
        [{ BACKUP_COMPRESSION_LEVEL: "25" }, /BACKUP_COMPRESSION_LEVEL="25": must be a zstd level from 1 to 19/],
        [{ BACKUP_BUCKET: "" }, /BACKUP_BUCKET is not set/],
        [
            { AWS_SECRET_ACCESS_KEY: AWS_SECRET },
            /AWS_SECRET_ACCESS_KEY is set: the uploader's key comes only from AWS_SHARED_CREDENTIALS_FILE/,
        ],
        [{ AWS_SHARED_CREDENTIALS_FILE: "" }, /AWS_SHARED_CREDENTIALS_FILE is not set/],
        [{ BACKUP_THREADS: "-1" }, /BACKUP_THREADS="-1": must be a number of zstd threads/],
    ])("refuses %o with a clear error", (overrides, message) => {
        expect(() => readJobConfig(jobEnv(overrides))).toThrow(message);
        // The password is never echoed back.
        try {
            readJobConfig(jobEnv(overrides));
        } catch (err) {
            expect((err as Error).message).not.toContain(DB_PASSWORD);
        }
    });

    it("reports the scheduler unhealthy after a failed run or a missed one", () => {
        const started = "2026-11-24T12:00:00.000Z";
        const due = new Date("2026-11-25T02:00:00Z");
        // Nothing due yet since the scheduler started.
        expect(healthProblem({ startedAt: started }, new Date("2026-11-24T02:00:00Z"))).toBeUndefined();
        expect(healthProblem({ startedAt: started }, due)).toMatch(/due at 2026-11-25T02:00:00.000Z has not succeeded/);
        expect(healthProblem({ startedAt: started, lastSuccessAt: "2026-11-24T02:10:00.000Z" }, due)).toMatch(/has not succeeded/);
        expect(healthProblem({ startedAt: started, lastSuccessAt: "2026-11-25T02:10:00.000Z" }, due)).toBeUndefined();
        expect(healthProblem({ startedAt: started, lastAttemptAt: "2026-11-25T02:00:00.000Z", lastError: "exit 3" }, undefined)).toMatch(
            /failed: exit 3/,
        );
        expect(
            healthProblem(
                {
                    startedAt: started,
                    lastAttemptAt: "2026-11-25T02:00:00.000Z",
                    lastError: "exit 3",
                    lastSuccessAt: "2026-11-25T03:00:00.000Z",
                },
                due,
            ),
        ).toBeUndefined();
    });

    it("sends the encryption the bucket policy demands: AES256 in dev, the bucket's KMS key in prod", () => {
        const body = new PassThrough();
        expect(uploadParams(readJobConfig(jobEnv()), "supabase/x.dump", body)).toMatchObject({
            Bucket: BUCKET,
            Key: "supabase/x.dump",
            Body: body,
            ServerSideEncryption: "AES256",
        });
        expect(uploadParams(readJobConfig(jobEnv()), "k", body).SSEKMSKeyId).toBeUndefined();
        const kms = "arn:aws:kms:eu-central-1:123456789012:key/0f0e0d0c-0b0a-0908-0706-050403020100";
        expect(uploadParams(readJobConfig(jobEnv({ BACKUP_SSE: "aws:kms", BACKUP_KMS_KEY_ID: kms })), "k", body)).toMatchObject({
            ServerSideEncryption: "aws:kms",
            SSEKMSKeyId: kms,
        });
    });
});

describe("backup job against PostgreSQL and S3", () => {
    it("streams a dump that restores into a fresh database with identical row counts and checksums", async () => {
        const result = await runJob(jobEnv());
        expect(result.stderr.split("\n").filter((l) => l.startsWith("{"))).toEqual([]);
        expect(result.code).toBe(0);
        const report = result.record;
        expect(report).toMatchObject({ event: "backup.completed", bucket: BUCKET, verified: "read" });
        expect(report.key).toMatch(/^supabase\/\d{8}T\d{6}Z\.dump$/);
        expect(report.bytes).toBeGreaterThan(100_000);
        expect(report.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(await s3.keys(BUCKET)).toContain(report.key);

        await restore(String(report.key), "restored");
        const [source, restored] = await Promise.all([tableChecksums("app"), tableChecksums("restored")]);
        expect(Object.keys(source)).toEqual(
            expect.arrayContaining(["auth.users", "public.users", "public.projects", "public.project_members", "public.workspace_members"]),
        );
        expect(source["public.projects"]).toMatch(/^6000 rows/);
        expect(restored).toEqual(source);
        expect(await securityCatalog("restored")).toBe(await securityCatalog("app"));
        // Neither secret reaches the job's output.
        expect(result.stdout + result.stderr).not.toContain(DB_PASSWORD);
        expect(result.stdout + result.stderr).not.toContain(AWS_SECRET);
        // The report's read-back hash is the stored object's.
        const stored = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: String(report.key) }));
        const storedSha = createHash("sha256")
            .update(Buffer.from(await stored.Body!.transformToByteArray()))
            .digest("hex");
        expect(report.readBackSha256).toBe(storedSha);
        expect(report.sha256).toBe(storedSha);

        // The manifest beside it: the dump's SHA-256, and the row counts of the dump's own snapshot.
        expect(report.manifestKey).toBe(`${String(report.key)}.manifest.json`);
        const stored2 = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: String(report.manifestKey) }));
        const manifest = parseManifest(await stored2.Body!.transformToString(), "manifest");
        expect(manifest).toMatchObject({ key: report.key, sha256: storedSha, bytes: report.bytes });
        for (const [table, summary] of Object.entries(source)) expect(`${manifest.tables[table]} rows`).toBe(summary.split(",")[0]);
        expect(report.tables).toBe(Object.keys(manifest.tables).length);
        // The manifest key is not taken for a dump by anything that looks for the newest backup.
        expect(String(report.manifestKey)).not.toMatch(/\.dump$/);
    }, 120_000);

    it("verifies the server with databaseCaCert under verify-full, as the container gets it", async () => {
        // The CA file and variables the backup container gets for a stack with verify-full.
        const ev = await evaluateStack("prod", {
            overrides: { databaseSslMode: "verify-full", databaseCaCert: readFileSync(pki.caCert, "utf8") },
        });
        const job = byName(ev, "app-backup-0");
        const env = containerEnv(job);
        const caFile = (reveal(uploadsOf(ev, job)) as { file: string; content: string }[]).find((u) => u.file === env.PGSSLROOTCERT)!;
        writeFileSync(join(work, "database-ca.crt"), caFile.content);
        const trusted = await runJob(jobEnv({ PGSSLMODE: env.PGSSLMODE, PGSSLROOTCERT: join(work, "database-ca.crt") }));
        expect(trusted.record).toMatchObject({ event: "backup.completed" });
        expect(trusted.code).toBe(0);
        // A server certificate from another CA is refused, before any byte is dumped.
        const before = await s3.keys(BUCKET);
        const distrusted = await runJob(jobEnv({ PGSSLMODE: env.PGSSLMODE, PGSSLROOTCERT: otherPki.caCert }));
        expect(distrusted.record).toMatchObject({ event: "backup.failed", stage: "dump" });
        expect(String(distrusted.record.error)).toMatch(/certificate verify failed/);
        expect(await s3.keys(BUCKET)).toEqual(before);
    }, 120_000);

    describe("faults: clear error, non-zero exit, nothing under a final name", () => {
        const faults: [string, () => Promise<Record<string, string>>, number, string, RegExp][] = [
            [
                "database down",
                async () => ({ PGPORT: String(await freePort()) }),
                3,
                "dump",
                /cannot open the dump's database session: .*(Connection refused|could not connect)/,
            ],
            [
                "wrong password",
                async () => ({ PGPASSFILE: writeSecretFile("pgpass-wrong", "127.0.0.1:*:*:postgres:not-the-password\n") }),
                3,
                "dump",
                /cannot open the dump's database session: .*password authentication failed for user "postgres"/,
            ],
            [
                "S3 down",
                async () => ({ BACKUP_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` }),
                4,
                "storage",
                /upload of s3:\/\/toolboxai-test-backups\/supabase\/\d{8}T\d{6}Z\.dump failed: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
            ],
            [
                "bucket missing",
                async () => ({ BACKUP_BUCKET: "toolboxai-no-such-bucket" }),
                4,
                "storage",
                /bucket toolboxai-no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+ \(NoSuchBucket\)/,
            ],
            [
                "credentials denied",
                async () => ({
                    AWS_SHARED_CREDENTIALS_FILE: writeSecretFile(
                        "aws-unknown",
                        `[default]\naws_access_key_id = AKIAUNKNOWNKEY000000\naws_secret_access_key = ${AWS_SECRET}\n`,
                    ),
                }),
                4,
                "storage",
                /the uploader's credentials were refused by http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId 403\)/,
            ],
        ];
        it.each(faults)(
            "%s",
            async (_name, overrides, code, stage, message) => {
                const before = await s3.keys(BUCKET);
                const result = await runJob(jobEnv(await overrides()));
                expect(result.record).toMatchObject({ event: "backup.failed", stage });
                expect(String(result.record.error)).toMatch(message);
                expect(result.code).toBe(code);
                expect(result.stdout).toBe("");
                expect(await s3.keys(BUCKET)).toEqual(before);
                expect(result.stdout + result.stderr).not.toContain(DB_PASSWORD);
                expect(result.stdout + result.stderr).not.toContain(AWS_SECRET);
            },
            60_000,
        );

        it.each([
            ["S3 down", async () => ({ BACKUP_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` }), /cannot reach/],
            ["bucket missing", async () => ({ BACKUP_BUCKET: "toolboxai-no-such-bucket" }), /does not exist/],
            [
                "S3 stalls",
                async () => ({ BACKUP_S3_ENDPOINT: `http://127.0.0.1:${stalled.port}`, BACKUP_S3_TIMEOUT_SECONDS: "1" }),
                /stopped answering/,
            ],
        ])(
            "%s while pg_dump is still writing: a storage error, and pg_dump stopped",
            async (_name, overrides, message) => {
                const before = await s3.keys(BUCKET);
                const result = await runJob(jobEnv({ PGDATABASE: "bulk", ...(await overrides()) }));
                expect(result.record).toMatchObject({ event: "backup.failed", stage: "storage" });
                expect(String(result.record.error)).toMatch(message);
                expect(result.code).toBe(4);
                expect(await backupSessions()).toBe("0");
                expect(await s3.keys(BUCKET)).toEqual(before);
            },
            120_000,
        );

        it("S3 stalls while the dump has more to write: the run still ends, it does not wait on full pipes", async () => {
            // A pg_dump that never stops writing: when the upload gives up, data is still queued in
            // both pipes. A child whose output nobody reads any more never reports "close".
            const endless = join(work, "endless-pg_dump");
            writeFileSync(endless, "#!/bin/sh\nexec cat /dev/urandom\n", { mode: 0o755 });
            let hung = false;
            let watchdog: NodeJS.Timeout | undefined;
            const result = await runJob(
                jobEnv({ BACKUP_PG_DUMP: endless, BACKUP_S3_ENDPOINT: `http://127.0.0.1:${stalled.port}`, BACKUP_S3_TIMEOUT_SECONDS: "1" }),
                async (child) => {
                    // The job gives up within seconds; one that is still running after 40 s hangs for good.
                    watchdog = setTimeout(() => (hung = child.kill("SIGKILL")), 40_000);
                },
            );
            clearTimeout(watchdog);
            expect(hung, "the job was still running 40 s after S3 stopped answering").toBe(false);
            expect(result.record).toMatchObject({ event: "backup.failed", stage: "storage" });
            expect(String(result.record.error)).toMatch(/stopped answering/);
            expect(result.code).toBe(4);
            expect(await backupSessions()).toBe("0");
        }, 60_000);

        it("zstd that cannot start fails the run at once, and stops pg_dump", async () => {
            const result = await runJob(jobEnv({ PGDATABASE: "bulk", BACKUP_ZSTD: join(work, "no-such-zstd") }));
            expect(result.record).toMatchObject({ event: "backup.failed", stage: "dump" });
            expect(String(result.record.error)).toMatch(/zstd could not start: spawn .*no-such-zstd ENOENT/);
            expect(result.code).toBe(3);
            expect(await backupSessions()).toBe("0");
        }, 60_000);

        it("SIGTERM while the database session opens aborts at once: exit 6, nothing dumped or stored", async () => {
            // A psql that takes 5 s to connect: the signal comes first.
            const slowPsql = join(work, "slow-psql");
            const psql = requireTool("psql");
            // It leaves a mark when it starts, so the signal comes while it connects, however slowly the job started.
            const started = join(work, "slow-psql-started");
            rmSync(started, { force: true });
            writeFileSync(slowPsql, `#!/bin/sh\ntouch ${started}\nsleep 5\nexec ${psql} "$@"\n`, { mode: 0o755 });
            const before = await s3.keys(BUCKET);
            let signalledAt = 0;
            const result = await runJob(jobEnv({ BACKUP_PSQL: slowPsql }), async (child) => {
                while (!existsSync(started)) await new Promise((r) => setTimeout(r, 20));
                signalledAt = Date.now();
                child.kill("SIGTERM");
            });
            expect(result.record).toMatchObject({ event: "backup.failed", stage: "aborted", error: "backup interrupted" });
            expect(result.code).toBe(6);
            // Well before the 5 s the psql would take: the run did not wait for it.
            expect(Date.now() - signalledAt).toBeLessThan(4_000);
            expect(await s3.keys(BUCKET)).toEqual(before);
        }, 60_000);

        it("SIGTERM mid-dump aborts: exit 6, nothing stored, no session left", async () => {
            const before = await s3.keys(BUCKET);
            let signalled = false;
            const result = await runJob(jobEnv({ PGDATABASE: "bulk" }), async (child) => {
                for (let i = 0; i < 1500 && !signalled; i++) {
                    if (
                        (await pg.sql(
                            "select count(*) from pg_stat_activity where application_name = 'toolboxai-backup' and query ilike 'COPY public.b_second%'",
                        )) === "1"
                    ) {
                        signalled = child.kill("SIGTERM");
                    } else await new Promise((r) => setTimeout(r, 20));
                }
            });
            expect(signalled).toBe(true);
            expect(result.record).toMatchObject({ event: "backup.failed", stage: "aborted", error: "backup interrupted" });
            expect(result.code).toBe(6);
            expect(await backupSessions()).toBe("0");
            expect(await s3.keys(BUCKET)).toEqual(before);
        }, 120_000);

        it("a dump that dies after parts were uploaded never completes the object", async () => {
            // Two tables of hard-to-compress text: the first streams several 5 MiB parts before the
            // second's COPY starts, which is when the dump's connection is killed.
            const before = await s3.keys(BUCKET);
            let killed = "";
            const result = await runJob(jobEnv({ PGDATABASE: "bulk" }), async () => {
                for (let i = 0; i < 1500 && !killed; i++) {
                    killed = await pg.sql(
                        "select pg_terminate_backend(pid)::text from pg_stat_activity where application_name = 'toolboxai-backup' and query ilike 'COPY public.b_second%'",
                    );
                    if (!killed) await new Promise((r) => setTimeout(r, 20));
                }
            });
            expect(killed).toBe("true");
            expect(result.record).toMatchObject({ event: "backup.failed", stage: "dump" });
            expect(String(result.record.error)).toMatch(/pg_dump failed \(exit 1\): .*(terminat|server closed the connection)/i);
            expect(result.code).toBe(3);
            expect(await s3.keys(BUCKET)).toEqual(before);
        }, 120_000);
    });
});

describe("the scheduler's health across restarts", () => {
    /** Starts `schedule`, waits for its first status, stops it, and returns the status it wrote. */
    async function scheduleOnce(prefix: string): Promise<Status> {
        const statusFile = join(work, `status-${prefix}.json`);
        const child = spawn(process.execPath, [bundle, "schedule"], {
            env: jobEnv({ BACKUP_PREFIX: prefix, BACKUP_STATUS_FILE: statusFile }),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        const exited = new Promise((resolve) => child.on("close", resolve));
        for (let i = 0; i < 200 && !out.includes('"backup.scheduled"'); i++) await new Promise((r) => setTimeout(r, 25));
        expect(out).toContain('"backup.scheduled"');
        child.kill("SIGTERM");
        await exited;
        return JSON.parse(readFileSync(statusFile, "utf8")) as Status;
    }

    const health = (statusFile: string) =>
        run(process.execPath, [bundle, "health"], { env: jobEnv({ BACKUP_STATUS_FILE: statusFile }) }).then(
            () => ({ code: 0, stderr: "" }),
            (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
        );

    it("picks up the newest backup in the bucket, so a missed run stays unhealthy after a restart", async () => {
        const day = 86_400_000;
        const older = backupKey("restarted", new Date(Date.now() - 5 * day));
        const newest = backupKey("restarted", new Date(Date.now() - 3 * day));
        for (const Key of [older, newest, "restarted/notes.txt"])
            await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }));
        const status = await scheduleOnce("restarted");
        expect(backupKey("restarted", new Date(status.lastSuccessAt!))).toBe(newest);
        // Three days without a backup: whatever the time of day, the daily 02:00 run is overdue.
        const result = await health(join(work, "status-restarted.json"));
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/the backup due at .* has not succeeded/);
    });

    it("starts judging from now when the bucket holds no backup yet, and is healthy after a success", async () => {
        const status = await scheduleOnce("fresh");
        expect(status.lastSuccessAt).toBeUndefined();
        expect(Date.now() - Date.parse(status.startedAt)).toBeLessThan(60_000);
        expect((await health(join(work, "status-fresh.json"))).code).toBe(0);
        writeFileSync(
            join(work, "status-ok.json"),
            JSON.stringify({ startedAt: "2020-01-01T00:00:00.000Z", lastSuccessAt: new Date().toISOString() }),
        );
        expect((await health(join(work, "status-ok.json"))).code).toBe(0);
    });
});

describe("the bundle", () => {
    it("is what package.json builds and the image runs", () => {
        const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> };
        expect(pkg.scripts["build:backup-job"]).toContain("backup-job/build.ts");
        const dockerfile = readFileSync(join(PROJECT_DIR, "backup-job", "Dockerfile"), "utf8");
        expect(dockerfile).toMatch(/npm run build:backup-job/);
        expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/backup-job\.js"\]/);
    });

    it("prints usage and exits 2 on an unknown command", async () => {
        const failed = await run(process.execPath, [bundle, "nonsense"]).catch((e: { code: number; stderr: string }) => e);
        expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining("usage: backup-job run | schedule | health") });
    });
});
