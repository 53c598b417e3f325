/**
 * What the backup tests and `npm run bench:backup` share: a Supabase-shaped database (the
 * platform's roles and auth schema reproduced, the real migrations, seeded like the application),
 * and the restore the README documents, `zstd -dc | pg_restore`, straight from S3.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { PostgresServer } from "./postgres";
import { requireTool } from "./tools";

const PROJECT_DIR = join(__dirname, "..", "..");

/** Creates `database` and fills it: `scale` users, each with a workspace and `projectsPerUser` projects. */
export async function createAppDatabase(
    pg: PostgresServer,
    database: string,
    seed: { scale: number; projectsPerUser: number },
): Promise<void> {
    await pg.sql(`create database ${database}`);
    await pg.sqlFile(join(__dirname, "supabase-auth.sql"), {}, database);
    const migrations = join(PROJECT_DIR, "supabase", "migrations");
    for (const file of readdirSync(migrations).sort()) await pg.sqlFile(join(migrations, file), {}, database);
    await pg.sqlFile(join(__dirname, "seed.sql"), { scale: seed.scale, projects_per_user: seed.projectsPerUser }, database);
}

/** Creates `database` with the migrated schema and no data: what `supabase db push` leaves on a new project (roles already in the cluster). */
export async function createMigratedDatabase(pg: PostgresServer, database: string, workDir: string): Promise<void> {
    await pg.sql(`create database ${database}`);
    const setup = readFileSync(join(__dirname, "supabase-auth.sql"), "utf8");
    const perDatabase = join(workDir, `${database}-auth-schema.sql`);
    writeFileSync(perDatabase, setup.slice(setup.indexOf("-- per database")));
    await pg.sqlFile(perDatabase, {}, database);
    const migrations = join(PROJECT_DIR, "supabase", "migrations");
    for (const file of readdirSync(migrations).sort()) await pg.sqlFile(join(migrations, file), {}, database);
}

/** Restores the object at `key` into a new `database`: returns pg_restore's exit code and error output. */
export async function restoreFromS3(
    pg: PostgresServer,
    s3: { client: S3Client; bucket: string },
    key: string,
    database: string,
    env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; errors: string }> {
    const [zstdPath, pgRestore] = [requireTool("zstd"), requireTool("pg_restore")];
    await pg.sql(`create database ${database}`);
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    const zstd = spawn(zstdPath, ["-dc"], { stdio: ["pipe", "pipe", "inherit"] });
    const restorer = spawn(pgRestore, ["--exit-on-error", "-h", pg.host, "-p", String(pg.port), "-U", "postgres", "-d", database], {
        env,
        stdio: ["pipe", "ignore", "pipe"],
    });
    let errors = "";
    restorer.stderr.on("data", (c: Buffer) => (errors += c.toString()));
    const exited = new Promise<number | null>((resolve) => restorer.on("close", resolve));
    zstd.stdout.pipe(restorer.stdin);
    await pipeline(object.Body as Readable, zstd.stdin);
    return { code: await exited, errors };
}

/** Runs the backup job's bundle (`node <bundle> run`): its exit code and the JSON report it prints last. */
export function runBackupJob(
    bundle: string,
    env: Record<string, string>,
): Promise<{ code: number | null; report: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [bundle, "run"], { env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr.on("data", (c: Buffer) => (out += c.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, report: JSON.parse(out.trim().split("\n").pop() ?? "{}") as Record<string, unknown> }));
    });
}

/**
 * The backup job's environment as its container gets it, pointed at loopback servers; nothing
 * inherited. Expects `pgpass`, `aws_credentials` and `aws_config` in `work`.
 */
export function backupJobEnv(
    o: { work: string; pgPort: number; s3Endpoint: string; bucket: string },
    overrides: Record<string, string> = {},
): Record<string, string> {
    return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: o.work,
        PGHOST: "127.0.0.1",
        PGPORT: String(o.pgPort),
        PGDATABASE: "app",
        PGUSER: "postgres",
        PGSSLMODE: "disable",
        PGPASSFILE: join(o.work, "pgpass"),
        AWS_REGION: "eu-central-1",
        AWS_SHARED_CREDENTIALS_FILE: join(o.work, "aws_credentials"),
        AWS_CONFIG_FILE: join(o.work, "aws_config"),
        BACKUP_BUCKET: o.bucket,
        BACKUP_PREFIX: "supabase",
        BACKUP_SSE: "AES256",
        BACKUP_S3_ENDPOINT: o.s3Endpoint,
        BACKUP_PART_SIZE_MB: "5",
        ...overrides,
    };
}
