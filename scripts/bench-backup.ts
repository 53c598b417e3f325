/**
 * npm run bench:backup [-- --size-gb 1 --rounds 3] [--import-only]
 *
 * On a synthetic database of at least --size-gb GiB, shaped like the application's tables (the
 * real migrations, seeded with uuids, text, jsonb and timestamps), measures interleaved runs of
 *   job:   the backup job's bundle (pg_dump -Fc -Z0 | zstd -T0 -1, streamed to S3, read back)
 *   guide: the guide's script (pg_dump --format=custom --compress=9 to a file, then upload it)
 * against the same PostgreSQL and S3-compatible server on loopback, and prints wall time, object
 * size and restore time of each, and the ratios. Target: job >= 2x faster, size <= 1.15x.
 * Then, on the same database, the operations tool against the guide's way:
 *   restore: `ops restore` (download, SHA-256, pg_restore -j <cores>) vs `pg_restore -d` with one job
 *            (the guide's file, downloaded first); target >= 2x faster
 *   import:  `ops import` (one transaction: COPY, index and key rebuild, sequences, every table read
 *            back and compared before COMMIT) vs `pg_dump --data-only | psql` into the same
 *            migrated schema, interleaved rounds; target >= 3x faster with the verification
 *            included. It also prints the floor: the ratio without the verification, and of the
 *            copy alone.
 * --import-only skips the backup rounds and the restores (for iterating on the import).
 */
import { spawn } from "node:child_process";
import { chmodSync, createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { buildBackupJob } from "../backup-job/build";
import { main as ops } from "../ops/cli";
import { createAppDatabase, createMigratedDatabase, restoreFromS3 } from "../test/support/backup";
import { startPostgres, type PostgresServer } from "../test/support/postgres";
import { S3RVER_ACCESS_KEY_ID, startS3, type S3Server } from "../test/support/s3";

const BUCKET = "toolboxai-bench-backups";
const PASSWORD = "bench-database-password";

function option(name: string, fallback: number): number {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdout: "ignore" | "pipe" = "ignore"): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { env, stdio: ["ignore", stdout, "pipe"] });
        let out = "";
        let err = "";
        child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-2000)}`))));
    });
}

/**
 * CPU seconds of a process (/proc/<pid>/stat): its own, and its exited children's. Linux counts
 * them in USER_HZ ticks, 100 a second.
 */
function cpuOf(pid: number | "self"): { own: number; children: number } {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return { own: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Sample {
    wallMs: number;
    bytes: number;
    key: string;
}

async function main(): Promise<void> {
    const sizeGb = option("size-gb", 1);
    const rounds = option("rounds", 3);
    const importOnly = process.argv.includes("--import-only");
    const work = mkdtempSync(join(tmpdir(), "toolboxai-bench-backup-"));
    let pg: PostgresServer | undefined;
    let s3: S3Server | undefined;
    try {
        const bundle = await buildBackupJob(join(work, "backup-job.js"));
        [pg, s3] = await Promise.all([startPostgres(), startS3([BUCKET])]);
        const db = pg;
        const store = s3;
        await db.sql(`alter role postgres password '${PASSWORD}'`);
        const pgpass = join(work, "pgpass");
        writeFileSync(pgpass, `127.0.0.1:*:*:postgres:${PASSWORD}\n`);
        chmodSync(pgpass, 0o600);
        const credentials = join(work, "aws_credentials");
        writeFileSync(credentials, `[default]\naws_access_key_id = ${S3RVER_ACCESS_KEY_ID}\naws_secret_access_key = bench\n`);
        writeFileSync(join(work, "aws_config"), "");
        const pgEnv = {
            PATH: process.env.PATH,
            HOME: work,
            PGHOST: "127.0.0.1",
            PGPORT: String(db.port),
            PGUSER: "postgres",
            PGDATABASE: "app",
            PGSSLMODE: "disable",
            PGPASSFILE: pgpass,
        };

        // The database: Supabase's auth schema reproduced, the real migrations, seeded until big enough.
        const started = performance.now();
        const target = sizeGb * 1024 ** 3;
        // About 4.7 KiB of table and index per seeded user (measured): one pass, a little over the target.
        await createAppDatabase(db, "app", { scale: Math.ceil((target / 4700) * 1.05), projectsPerUser: 5 });
        const size = Number(await db.sql("select pg_database_size('app')"));
        if (size < target) throw new Error(`seeded only ${mib(size)}, below the ${sizeGb} GiB asked for`);
        const rows = await db.sql(
            "select string_agg(relname || ' ' || n_live_tup, ', ' order by relname) from pg_stat_user_tables where schemaname in ('public', 'auth')",
            "app",
        );
        console.log(`database: ${mib(size)} (pg_database_size), ${rows}; seeded in ${seconds(performance.now() - started)}`);
        console.log(
            `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), node ${process.version}, PostgreSQL ${await db.sql("show server_version")}`,
        );

        // The operations tool: restore of the job's object, and import of the same data.
        const url = (database: string) => `postgresql://postgres:${PASSWORD}@127.0.0.1:${db.port}/${database}?sslmode=disable`;
        // Exact counts (n_live_tup is an estimate after ANALYZE of a large table).
        const count = async (database: string) => {
            const tables = (
                await db.sql(
                    "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname in ('public', 'auth') order by 1",
                    database,
                )
            ).split("\n");
            return (await Promise.all(tables.map(async (t) => `${t}=${await db.sql(`select count(*) from ${t}`, database)}`))).join(",");
        };
        let backupMet = true;
        let restoreRatio = Infinity;
        if (!importOnly) {
            const job = async (): Promise<Sample> => {
                const t0 = performance.now();
                const env = {
                    ...pgEnv,
                    AWS_REGION: "eu-central-1",
                    AWS_SHARED_CREDENTIALS_FILE: credentials,
                    AWS_CONFIG_FILE: join(work, "aws_config"),
                    BACKUP_BUCKET: BUCKET,
                    BACKUP_PREFIX: "job",
                    BACKUP_SSE: "AES256",
                    BACKUP_S3_ENDPOINT: store.endpoint,
                    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
                };
                const report = JSON.parse((await exec(process.execPath, [bundle, "run"], env, "pipe")).trim().split("\n").pop()!) as {
                    key: string;
                    bytes: number;
                };
                return { wallMs: performance.now() - t0, bytes: report.bytes, key: report.key };
            };
            let guideRun = 0;
            const guide = async (): Promise<Sample> => {
                const t0 = performance.now();
                const file = join(work, `backup_${guideRun++}.dump`);
                await exec(
                    "pg_dump",
                    ["-h", "127.0.0.1", "-U", "postgres", "-d", "app", "--format=custom", "--compress=9", "-f", file],
                    pgEnv,
                );
                const key = `guide/${file.split("/").pop()}`;
                // `aws s3 cp`'s defaults: 8 MiB parts, 10 in flight.
                await new Upload({
                    client: store.client,
                    params: { Bucket: BUCKET, Key: key, Body: createReadStream(file), ServerSideEncryption: "AES256" },
                    partSize: 8 * 1048576,
                    queueSize: 10,
                }).done();
                const bytes = (await store.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength ?? 0;
                const wallMs = performance.now() - t0;
                rmSync(file);
                return { wallMs, bytes, key };
            };

            const samples: Record<"job" | "guide", Sample[]> = { job: [], guide: [] };
            for (let round = 0; round < rounds; round++) {
                // Alternate which goes first, so neither always gets the warmer cache.
                const order = round % 2 === 0 ? (["guide", "job"] as const) : (["job", "guide"] as const);
                for (const method of order) {
                    const sample = await (method === "job" ? job() : guide());
                    samples[method].push(sample);
                    console.log(`round ${round + 1} ${method.padEnd(5)} wall ${seconds(sample.wallMs)}  object ${mib(sample.bytes)}`);
                }
            }

            // Restore each method's last object into a fresh database, the way its own docs say (the guide; docs/operations/backup-and-restore.md).
            const restoreMs: Record<"job" | "guide", number> = { job: 0, guide: 0 };
            for (const method of ["guide", "job"] as const) {
                const key = samples[method][samples[method].length - 1].key;
                const database = `restore_${method}`;
                const t0 = performance.now();
                if (method === "guide") {
                    // The guide restores from a local file: download, then pg_restore.
                    await db.sql(`create database ${database}`);
                    const object = await store.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
                    const file = join(work, "restore.dump");
                    await pipeline(object.Body as Readable, createWriteStream(file));
                    await exec("pg_restore", ["--exit-on-error", "-h", "127.0.0.1", "-U", "postgres", "-d", database, file], pgEnv);
                    rmSync(file);
                } else {
                    const restored = await restoreFromS3(db, { client: store.client, bucket: BUCKET }, key, database, pgEnv);
                    if (restored.code !== 0) throw new Error(`pg_restore of the job's dump failed: ${restored.errors}`);
                }
                restoreMs[method] = performance.now() - t0;
                const count = await db.sql("select count(*) from public.projects", database);
                console.log(`restore ${method.padEnd(5)} ${seconds(restoreMs[method])} (public.projects: ${count} rows)`);
            }

            const wall = { job: median(samples.job.map((s) => s.wallMs)), guide: median(samples.guide.map((s) => s.wallMs)) };
            const bytes = { job: median(samples.job.map((s) => s.bytes)), guide: median(samples.guide.map((s) => s.bytes)) };
            const speedup = wall.guide / wall.job;
            const sizeRatio = bytes.job / bytes.guide;
            console.log("");
            console.log(`median of ${rounds}   wall      object      restore`);
            console.log(`guide          ${seconds(wall.guide).padEnd(9)} ${mib(bytes.guide).padEnd(11)} ${seconds(restoreMs.guide)}`);
            console.log(`job            ${seconds(wall.job).padEnd(9)} ${mib(bytes.job).padEnd(11)} ${seconds(restoreMs.job)}`);
            console.log(
                `ratios         ${speedup.toFixed(2)}x faster, size ${sizeRatio.toFixed(3)}x, restore ${(restoreMs.guide / restoreMs.job).toFixed(2)}x faster`,
            );
            const met = speedup >= 2 && sizeRatio <= 1.15;
            console.log(`target (>= 2x faster, <= 1.15x size): ${met ? "met" : "NOT met"}`);
            backupMet = met;

            await db.sql("create database restore_ops");
            const t0 = performance.now();
            const restored = await ops([
                "restore",
                "--json",
                "--bucket",
                BUCKET,
                "--prefix",
                "job",
                "--s3-endpoint",
                store.endpoint,
                "--aws-credentials-file",
                credentials,
                "--key",
                samples.job[samples.job.length - 1].key,
                "--target",
                url("restore_ops"),
                "--work-dir",
                work,
            ]);
            const opsRestoreMs = performance.now() - t0;
            if (restored.code !== 0) throw new Error(`ops restore failed: ${restored.stderr}`);
            const restoredJson = JSON.parse(restored.stdout) as { jobs: number; problems: string[] };
            console.log(
                `restore ops   ${seconds(opsRestoreMs)} (pg_restore -j ${restoredJson.jobs}; row counts differing from the manifest: ${restoredJson.problems.length})`,
            );

            restoreRatio = restoreMs.guide / opsRestoreMs;
            console.log(
                `restore         guide ${seconds(restoreMs.guide)}, ops ${seconds(opsRestoreMs)}: ${restoreRatio.toFixed(2)}x faster (target >= 2x: ${restoreRatio >= 2 ? "met" : "NOT met"})`,
            );
        }

        // Interleaved rounds, as for the backup: the guide's single session suffers more from a busy machine than the import.
        // Also the CPU seconds each way takes (the server's backends and workers, which the postmaster reaps,
        // and the client's: pg_dump and psql, or this process), a figure the machine's other load does not change.
        const postmaster = Number(
            readFileSync(
                `/proc/${await db.sql("select pid from pg_stat_activity where backend_type = 'checkpointer'")}/status`,
                "utf8",
            ).match(/^PPid:\s+(\d+)/m)![1],
        );
        const cpuNow = async () => {
            // Every backend of the way measured has exited (and been reaped) first.
            while (
                (await db.sql(
                    "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
                )) !== "0"
            )
                await new Promise((r) => setTimeout(r, 100));
            const self = cpuOf("self");
            return cpuOf(postmaster).children + self.own + self.children;
        };
        const guideImports: { wallMs: number; cpu: number }[] = [];
        const opsImports: { wallMs: number; cpu: number; copyMs: number; rebuildMs: number; verifyMs: number }[] = [];
        let same = true;
        for (let round = 0; round < rounds; round++) {
            const order = round % 2 === 0 ? (["guide", "ops"] as const) : (["ops", "guide"] as const);
            for (const method of order) {
                const database = `import_${method}`;
                await createMigratedDatabase(db, database, work);
                const cpu0 = await cpuNow();
                const t = performance.now();
                if (method === "guide") {
                    await exec(
                        "bash",
                        [
                            "-o",
                            "pipefail",
                            "-c",
                            `pg_dump --data-only --schema=auth --schema=public -d app | psql -X -q -v ON_ERROR_STOP=1 -d ${database}`,
                        ],
                        pgEnv,
                    );
                    const wallMs = performance.now() - t;
                    guideImports.push({ wallMs, cpu: (await cpuNow()) - cpu0 });
                    console.log(
                        `round ${round + 1} import guide ${seconds(wallMs)} (pg_dump --data-only | psql), ${guideImports[guideImports.length - 1].cpu.toFixed(1)} CPU-s`,
                    );
                    continue;
                }
                const imported = await ops([
                    "import",
                    "--json",
                    "--from",
                    url("app"),
                    "--database-url",
                    url(database),
                    "--schemas",
                    "auth,public",
                ]);
                const wallMs = performance.now() - t;
                if (imported.code !== 0) throw new Error(`ops import failed: ${imported.stderr}${imported.stdout}`);
                const r = JSON.parse(imported.stdout) as { copyMs: number; rebuildMs: number; verifyMs: number; committed: boolean };
                same &&= r.committed;
                opsImports.push({ wallMs, cpu: (await cpuNow()) - cpu0, ...r });
                console.log(
                    `round ${round + 1} import ops   ${seconds(wallMs)}: copy ${seconds(r.copyMs)}, indexes, keys and sequences ${seconds(r.rebuildMs)}, verification (every table read back and compared) ${seconds(r.verifyMs)}, schema checks, locks and commit ${seconds(wallMs - r.copyMs - r.rebuildMs - r.verifyMs)}; ${opsImports[opsImports.length - 1].cpu.toFixed(1)} CPU-s`,
                );
            }
            same &&= (await count("import_guide")) === (await count("import_ops"));
            for (const method of ["guide", "ops"]) await db.sql(`drop database import_${method}`);
        }

        const guideImportMs = median(guideImports.map((g) => g.wallMs));
        const opsImportMs = median(opsImports.map((o) => o.wallMs));
        const importRatio = guideImportMs / opsImportMs;
        console.log("");
        console.log(`import, median of ${rounds}: guide ${seconds(guideImportMs)}, ops ${seconds(opsImportMs)}`);
        console.log(
            `import          ${importRatio.toFixed(2)}x faster than the guide, verification included (target >= 3x: ${importRatio >= 3 ? "met" : "NOT met"})`,
        );
        // What the import could reach at best on this machine: without its verification, and the copy alone.
        const unverifiedMs = median(opsImports.map((o) => o.wallMs - o.verifyMs));
        const copyMs = median(opsImports.map((o) => o.copyMs));
        console.log(
            `import floor    without the verification ${(guideImportMs / unverifiedMs).toFixed(2)}x; the copy alone ${(guideImportMs / copyMs).toFixed(2)}x`,
        );
        const [guideCpu, opsCpu] = [median(guideImports.map((g) => g.cpu)), median(opsImports.map((o) => o.cpu))];
        console.log(
            `import CPU      guide ${guideCpu.toFixed(1)} CPU-s, ops ${opsCpu.toFixed(1)} CPU-s: ${(guideCpu / opsCpu).toFixed(2)}x less work, verification included`,
        );
        console.log(`same data in both imports (row counts), every round: ${same ? "yes" : "NO"}`);
        process.exitCode = backupMet && restoreRatio >= 2 && importRatio >= 3 && same ? 0 : 1;
    } finally {
        await Promise.all([pg?.stop(), s3?.stop()]);
        rmSync(work, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
});
