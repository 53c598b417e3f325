/**
 * The nightly backup: `pg_dump --format=custom` (uncompressed) piped through multi-threaded zstd
 * and streamed to S3 as a multipart upload, then read back and compared. Nothing is written to
 * local disk. The upload is completed only after pg_dump and zstd have both exited 0, so a failed
 * dump never appears under its final name (S3 shows an object only on CompleteMultipartUpload;
 * an aborted or orphaned upload is invisible, and the bucket's lifecycle removes its parts).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import {
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    PutObjectCommand,
    S3Client,
    type PutObjectCommandInput,
    type ServerSideEncryption,
} from "@aws-sdk/client-s3";
import { fromIni } from "@aws-sdk/credential-providers";
import { Upload } from "@aws-sdk/lib-storage";
import { SCHEMA_NAME } from "../lib/backup";
import { manifestKey, MANIFEST_FORMAT, openSnapshotSession, type Manifest, type SnapshotSession } from "./manifest";
import { stopProcess } from "./stopProcess";
import { TRANSACTION_POOLER_PORT } from "../lib/constants";

// The transaction pooler (Supavisor/PgBouncer transaction mode) cannot serve pg_dump's snapshot.
export { TRANSACTION_POOLER_PORT };

export interface JobConfig {
    bucket: string;
    prefix: string;
    region: string;
    sse: "AES256" | "aws:kms";
    kmsKeyId?: string;
    /** zstd level; 1 (multi-threaded) measured smaller than `pg_dump --compress=9` at a fraction of its time (docs/benchmarks.md). */
    compressionLevel: number;
    partSizeMb: number;
    /** read: download the object and compare its SHA-256; head: compare size and encryption only. */
    verify: "read" | "head";
    /** pg_dump --schema patterns; empty: the whole database, as the guide's script. */
    schemas: string[];
    /** S3-compatible endpoint (path-style); unset for AWS. */
    endpoint?: string;
    /** zstd threads: the container's CPUs (0: every core the host has). */
    threads: number;
    /** The whole run (dump, upload, verify) is abandoned after this. */
    timeoutMinutes: number;
    /** An S3 connection idle this long fails the request (then retried). */
    s3TimeoutSeconds: number;
    /** The uploader's key: an AWS shared credentials file, the only identity the job uses. */
    credentialsFile: string;
    pgDump: string;
    /** Holds the snapshot pg_dump joins and counts the manifest's rows in it. */
    psql: string;
    zstd: string;
    database: { host: string; port: number; name: string; user: string };
}

export class JobError extends Error {
    constructor(
        readonly stage: "config" | "dump" | "storage" | "verify" | "aborted",
        message: string,
        /** The object's key, when one exists under it (a failed verification). */
        readonly key?: string,
    ) {
        super(message);
        this.name = "JobError";
    }
}

/** Exit codes a scheduler or operator can tell apart: dump is pg_dump or zstd, aborted a timeout or a signal. */
/** libpq's connect timeout for the job's sessions, unless PGCONNECT_TIMEOUT says otherwise. */
export const CONNECT_TIMEOUT_SECONDS = 30;
export const EXIT_CODES: Record<JobError["stage"], number> = { config: 2, dump: 3, storage: 4, verify: 5, aborted: 6 };

const PREFIX = /^[a-z0-9][a-z0-9_-]{0,62}(\/[a-z0-9][a-z0-9_-]{0,62})*$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Reads the job's settings from its environment; every problem is named with its variable, value and what is allowed. */
export function readJobConfig(env: NodeJS.ProcessEnv): JobConfig {
    const problems: string[] = [];
    const get = (name: string) => (env[name] === undefined || env[name] === "" ? undefined : env[name]);
    const need = (name: string, valid: (v: string) => boolean, allowed: string, fallback?: string): string => {
        const value = get(name) ?? fallback;
        if (value === undefined) problems.push(`${name} is not set: ${allowed}`);
        else if (!valid(value)) problems.push(`${name}=${JSON.stringify(value)}: ${allowed}`);
        return value ?? "";
    };
    const int = (min: number, max: number) => (v: string) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max;

    const bucket = need("BACKUP_BUCKET", (v) => BUCKET.test(v), "must be an S3 bucket name");
    const prefix = need(
        "BACKUP_PREFIX",
        (v) => PREFIX.test(v),
        "must be key path segments of lowercase letters, digits, _ or -, joined by /",
    );
    const region = need("AWS_REGION", (v) => /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v), "must be an AWS region code such as eu-central-1");
    const sse = need(
        "BACKUP_SSE",
        (v) => v === "AES256" || v === "aws:kms",
        "must be AES256 or aws:kms (the bucket policy refuses anything else)",
    ) as JobConfig["sse"];
    const kmsKeyId = get("BACKUP_KMS_KEY_ID");
    if (sse === "aws:kms" && !kmsKeyId)
        problems.push("BACKUP_KMS_KEY_ID is not set: required with BACKUP_SSE=aws:kms (the bucket policy demands its key)");
    if (sse === "AES256" && kmsKeyId) problems.push(`BACKUP_KMS_KEY_ID=${JSON.stringify(kmsKeyId)}: only allowed with BACKUP_SSE=aws:kms`);
    const compressionLevel = Number(need("BACKUP_COMPRESSION_LEVEL", int(1, 19), "must be a zstd level from 1 to 19", "1"));
    const partSizeMb = Number(need("BACKUP_PART_SIZE_MB", int(5, 5120), "must be a part size in MiB from 5 to 5120", "16"));
    const verify = need("BACKUP_VERIFY", (v) => v === "read" || v === "head", "must be read or head", "read") as JobConfig["verify"];
    const schemasRaw = get("BACKUP_SCHEMAS");
    const schemas = schemasRaw ? schemasRaw.split(",").map((s) => s.trim()) : [];
    if (schemas.some((s) => !SCHEMA_NAME.test(s)))
        problems.push(`BACKUP_SCHEMAS=${JSON.stringify(schemasRaw)}: must be comma-separated schema names`);
    const threads = Number(need("BACKUP_THREADS", int(0, 256), "must be a number of zstd threads from 0 (every core) to 256", "0"));
    const timeoutMinutes = Number(need("BACKUP_TIMEOUT_MINUTES", int(1, 7 * 24 * 60), "must be minutes from 1 to 10080", "360"));
    const s3TimeoutSeconds = Number(need("BACKUP_S3_TIMEOUT_SECONDS", int(1, 3600), "must be seconds from 1 to 3600", "120"));
    const credentialsFile = need(
        "AWS_SHARED_CREDENTIALS_FILE",
        (v) => v.startsWith("/"),
        "must be the absolute path of the uploader's credentials file",
    );
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
        if (get(name) !== undefined)
            problems.push(`${name} is set: the uploader's key comes only from AWS_SHARED_CREDENTIALS_FILE, never the environment`);
    }
    const endpoint = get("BACKUP_S3_ENDPOINT");
    if (endpoint !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(endpoint))
        problems.push(`BACKUP_S3_ENDPOINT=${JSON.stringify(endpoint)}: must be an http(s):// origin`);

    const host = need("PGHOST", (v) => v.length > 0, "must be the database host (the direct or session connection)");
    const port = Number(need("PGPORT", int(1, 65535), "must be a port number", "5432"));
    if (port === TRANSACTION_POOLER_PORT)
        problems.push(
            `PGPORT=${port}: is the transaction pooler, which cannot hold pg_dump's snapshot; use the direct connection or the session pooler (5432)`,
        );
    const name = need("PGDATABASE", (v) => v.length > 0, "must be the database name");
    const user = need("PGUSER", (v) => v.length > 0, "must be the database user");
    if (get("PGPASSWORD") !== undefined)
        problems.push("PGPASSWORD is set: pass the password as a file (PGPASSFILE), never in the environment");

    if (problems.length > 0) throw new JobError("config", `invalid backup job settings:\n  - ${problems.join("\n  - ")}`);
    return {
        bucket,
        prefix,
        region,
        sse,
        kmsKeyId,
        compressionLevel,
        partSizeMb,
        verify,
        schemas,
        endpoint,
        threads,
        timeoutMinutes,
        s3TimeoutSeconds,
        credentialsFile,
        pgDump: get("BACKUP_PG_DUMP") ?? "pg_dump",
        psql: get("BACKUP_PSQL") ?? "psql",
        zstd: get("BACKUP_ZSTD") ?? "zstd",
        database: { host, port, name, user },
    };
}

const KEY_STAMP = /\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.dump$/;

/** When the newest backup under the prefix was taken (from its key), or undefined if there is none. */
export async function latestBackupAt(client: S3Client, c: JobConfig): Promise<Date | undefined> {
    let latest: string | undefined;
    let ContinuationToken: string | undefined;
    do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: c.bucket, Prefix: `${c.prefix}/`, ContinuationToken }));
        for (const { Key } of page.Contents ?? []) if (Key && KEY_STAMP.test(Key) && (!latest || Key > latest)) latest = Key;
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const m = latest ? KEY_STAMP.exec(latest) : null;
    return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
}

/** `<prefix>/<UTC timestamp>.dump`, e.g. supabase/20261125T020000Z.dump: sorts by time, no characters that need quoting. */
export function backupKey(prefix: string, at: Date): string {
    const stamp = at
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z")
        .replace(/[-:]/g, "");
    return `${prefix}/${stamp}.dump`;
}

export interface Report {
    event: "backup.completed";
    bucket: string;
    key: string;
    /** Bytes stored (compressed). */
    bytes: number;
    sha256: string;
    durationMs: number;
    startedAt: string;
    verified: JobConfig["verify"];
    /** SHA-256 of the object as read back from S3 (verify=read). */
    readBackSha256?: string;
    /** The manifest beside the dump: its SHA-256 and row counts per table, for restore. */
    manifestKey: string;
    tables: number;
}

/** The command lines: no password on either (libpq reads PGPASSFILE). */
export function dumpCommands(c: JobConfig, snapshot?: string): { pgDump: string[]; zstd: string[] } {
    return {
        pgDump: [
            "--format=custom",
            "--compress=0",
            "--no-password",
            "--lock-wait-timeout=300000",
            ...(snapshot ? [`--snapshot=${snapshot}`] : []),
            ...c.schemas.map((s) => `--schema=${s}`),
        ],
        zstd: [`-${c.compressionLevel}`, `-T${c.threads}`, "-q", "-c"],
    };
}

interface ChildExit {
    name: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    spawnError?: string;
}

function exitOf(child: ChildProcess, name: string): Promise<ChildExit> {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        // The tail is what explains a failure.
        stderr = (stderr + chunk).slice(-4000);
    });
    return new Promise((resolve) => {
        // A process that could not start emits no close; one that did, never this.
        child.once("error", (err) => resolve({ name, code: null, signal: null, stderr, spawnError: err.message }));
        child.once("close", (code, signal) => resolve({ name, code, signal, stderr }));
    });
}

/** Explains an S3 failure in the operator's terms; the SDK's own message is kept. */
export function describeStorageError(err: unknown, c: JobConfig): string {
    const e = err as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const code = e.Code ?? e.name ?? "Error";
    const status = e.$metadata?.httpStatusCode;
    const where = c.endpoint ?? `S3 in ${c.region}`;
    if (code === "NoSuchBucket" || (status === 404 && code !== "NoSuchKey"))
        return `bucket ${c.bucket} does not exist at ${where} (${code})`;
    if (["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"].includes(code)) {
        return `the uploader's credentials were refused by ${where} (${code}${status ? ` ${status}` : ""}): check the key in Vault`;
    }
    if (code === "AccessDenied" || status === 403) {
        return `${where} denied the request (${code}${status ? ` ${status}` : ""}): the uploader's policy, or the bucket policy (encryption header, KMS key, TLS)`;
    }
    if (e.code && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(e.code)) return `cannot reach ${where}: ${e.message}`;
    if (code === "TimeoutError" || e.code === "ETIMEDOUT")
        return `${where} stopped answering (no data for the socket timeout): ${e.message}`;
    return `${code}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? String(err)}`;
}

export function s3Client(c: JobConfig): S3Client {
    return new S3Client({
        region: c.region,
        ...(c.endpoint ? { endpoint: c.endpoint, forcePathStyle: true } : {}),
        // The one identity: the uploader's key file. Never the environment or instance metadata.
        credentials: fromIni({ filepath: c.credentialsFile, configFilepath: c.credentialsFile }),
        // A stalled S3 must fail the request (and so the run), not hang while pg_dump holds its snapshot.
        requestHandler: { connectionTimeout: 10_000, socketTimeout: c.s3TimeoutSeconds * 1000 },
        maxAttempts: 3,
    });
}

/** What every upload carries: the encryption the bucket policy demands, and how to restore it. */
export function uploadParams(c: JobConfig, key: string, body: Readable): PutObjectCommandInput {
    return {
        Bucket: c.bucket,
        Key: key,
        Body: body,
        ContentType: "application/zstd",
        ServerSideEncryption: c.sse as ServerSideEncryption,
        ...(c.kmsKeyId ? { SSEKMSKeyId: c.kmsKeyId } : {}),
        Metadata: { format: "pg_dump-custom+zstd", "restore-with": "zstd -dc | pg_restore" },
    };
}

function describeExit(r: {
    name: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    spawnError?: string;
}): string {
    if (r.spawnError) return `${r.name} could not start: ${r.spawnError}`;
    const detail = r.stderr.trim().split("\n").slice(-3).join(" | ") || (r.signal ? `killed by ${r.signal}` : `exit ${r.code}`);
    return `${r.name} failed (${r.signal ?? `exit ${r.code}`}): ${detail}`;
}

/**
 * Dumps, compresses and uploads in one stream; resolves with the report, or rejects with a
 * JobError naming the failed stage. Whatever fails first decides the stage; both child
 * processes are stopped at once on any failure, so pg_dump never holds its snapshot for nothing.
 */
export async function runBackup(
    c: JobConfig,
    opts: { now?: () => Date; client?: S3Client; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<Report> {
    const now = opts.now ?? (() => new Date());
    const started = now();
    const t0 = performance.now();
    const key = backupKey(c.prefix, started);
    const client = opts.client ?? s3Client(c);
    const env = {
        // libpq waits for ever on a connection that gets no answer; the environment may say otherwise.
        PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_SECONDS),
        ...(opts.env ?? process.env),
        PGHOST: c.database.host,
        PGPORT: String(c.database.port),
        PGDATABASE: c.database.name,
        PGUSER: c.database.user,
        PGAPPNAME: "toolboxai-backup",
    };
    // The manifest's row counts are taken in the snapshot pg_dump dumps: identical by construction.
    let session: SnapshotSession;
    try {
        // A signal while the session opens stops psql at once.
        session = await openSnapshotSession(c.psql, env, opts.signal);
    } catch (err) {
        if (opts.signal?.aborted) throw new JobError("aborted", "backup interrupted");
        // The same connection pg_dump would make (libpq, same variables): its error is the dump's.
        throw new JobError("dump", `cannot open the dump's database session: ${(err as Error).message}`);
    }
    const commands = dumpCommands(c, session.snapshot);
    const counting = session.countRows(c.schemas);
    // Judged after the upload; a failure before then must not go unhandled.
    counting.catch(() => undefined);
    const dump = spawn(c.pgDump, commands.pgDump, { env, stdio: ["ignore", "pipe", "pipe"] });
    const compress = spawn(c.zstd, commands.zstd, { stdio: ["pipe", "pipe", "pipe"] });
    const dumpExit = exitOf(dump, "pg_dump");
    const compressExit = exitOf(compress, "zstd");
    // zstd closing early makes pg_dump fail with EPIPE; both exits are judged below.
    compress.stdin!.on("error", () => undefined);
    dump.stdout!.on("error", () => undefined);
    dump.stdout!.pipe(compress.stdin!);

    const hash = createHash("sha256");
    let bytes = 0;
    const body = new PassThrough();
    const output = compress.stdout as Readable;
    output.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
    });
    output.pipe(body, { end: false });

    const cancel = new AbortController();
    /** Set once the job gives up: the children's failures after that are its own doing. */
    let givingUp = false;
    let dumpFailure: JobError | undefined;
    // Once the job gives up, the children's output no longer matters (the failure is judged
    // already), and their pipes must not keep the exits below waiting: see stopProcess.
    const stopChildren = () => {
        session.kill();
        stopProcess(dump);
        stopProcess(compress);
    };
    const judge = (exit: ChildExit) => {
        if (exit.code === 0 || givingUp || dumpFailure) return;
        dumpFailure = new JobError("dump", describeExit(exit));
        stopChildren();
        // The upload sees the error instead of an end: it aborts, and completes nothing.
        body.destroy(dumpFailure);
    };
    void dumpExit.then(judge);
    void compressExit.then(judge);
    // The body ends, and so the upload completes, only once both processes have exited 0.
    void Promise.all([dumpExit, compressExit]).then(() => {
        if (!dumpFailure && !givingUp) body.end();
    });

    let aborted: string | undefined;
    const abort = (why: string) => {
        aborted ??= why;
        cancel.abort();
        stopChildren();
        body.destroy(new JobError("aborted", why));
    };
    const timer = setTimeout(() => abort(`timed out after ${c.timeoutMinutes} minutes`), c.timeoutMinutes * 60_000);
    const onSignal = () => abort("interrupted");
    opts.signal?.addEventListener("abort", onSignal, { once: true });
    // A signal that came as the session opened, after the race above was decided.
    if (opts.signal?.aborted) onSignal();

    const upload = new Upload({
        client,
        params: uploadParams(c, key, body),
        partSize: c.partSizeMb * 1024 * 1024,
        queueSize: 4,
        leavePartsOnError: false,
        abortController: cancel,
    });
    try {
        try {
            await upload.done();
        } catch (err) {
            // A dump that failed first is why the upload failed; otherwise the upload failed first.
            const cause = dumpFailure;
            givingUp = true;
            stopChildren();
            await Promise.all([dumpExit, compressExit]);
            if (aborted) throw new JobError("aborted", `backup ${aborted}`);
            if (cause) throw cause;
            throw new JobError("storage", `upload of s3://${c.bucket}/${key} failed: ${describeStorageError(err, c)}`);
        }
        const sha256 = hash.digest("hex");
        let readBackSha256: string | undefined;
        try {
            readBackSha256 = await verify(client, c, key, bytes, sha256, cancel.signal);
        } catch (err) {
            // A timeout or signal during the read-back is an abort, not a bad object.
            if (aborted) throw new JobError("aborted", `backup ${aborted}`, key);
            throw err;
        }
        if (aborted) throw new JobError("aborted", `backup ${aborted}`, key);
        let tables: Record<string, number>;
        try {
            tables = await counting;
            await session.close();
        } catch (err) {
            throw new JobError(
                "dump",
                `s3://${c.bucket}/${key} is stored, but counting its rows failed, so it has no manifest: ${(err as Error).message}`,
                key,
            );
        }
        const manifest: Manifest = {
            format: MANIFEST_FORMAT,
            key,
            bytes,
            sha256,
            startedAt: started.toISOString(),
            schemas: c.schemas,
            tables,
        };
        const mKey = manifestKey(key);
        try {
            // The same encryption as the dump: the bucket policy refuses anything else.
            const { ServerSideEncryption, SSEKMSKeyId } = uploadParams(c, mKey, new PassThrough());
            await client.send(
                new PutObjectCommand({
                    Bucket: c.bucket,
                    Key: mKey,
                    ServerSideEncryption,
                    SSEKMSKeyId,
                    Body: JSON.stringify(manifest),
                    ContentType: "application/json",
                }),
                { abortSignal: cancel.signal },
            );
        } catch (err) {
            if (aborted) throw new JobError("aborted", `backup ${aborted}`, key);
            throw new JobError(
                "storage",
                `s3://${c.bucket}/${key} is stored, but its manifest ${mKey} could not be written: ${describeStorageError(err, c)}`,
                key,
            );
        }
        return {
            event: "backup.completed",
            bucket: c.bucket,
            key,
            bytes,
            sha256,
            durationMs: Math.round(performance.now() - t0),
            startedAt: started.toISOString(),
            verified: c.verify,
            ...(readBackSha256 ? { readBackSha256 } : {}),
            manifestKey: mKey,
            tables: Object.keys(tables).length,
        };
    } finally {
        session.kill();
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onSignal);
    }
}

/** Checks that the stored object is the one streamed: size and encryption, and (read) every byte. */
async function verify(
    client: S3Client,
    c: JobConfig,
    key: string,
    bytes: number,
    sha256: string,
    abortSignal: AbortSignal,
): Promise<string | undefined> {
    // The object exists under its final name now: the failure names it, for an operator to judge.
    const fail = (what: string) => new JobError("verify", `s3://${c.bucket}/${key}: ${what}`, key);
    let head;
    try {
        head = await client.send(new HeadObjectCommand({ Bucket: c.bucket, Key: key }), { abortSignal });
    } catch (err) {
        throw fail(`cannot read back the object: ${describeStorageError(err, c)}`);
    }
    if (head.ContentLength !== bytes) throw fail(`stored ${head.ContentLength} bytes, streamed ${bytes}`);
    // AWS reports the encryption of every object; some S3-compatible servers report none.
    if (head.ServerSideEncryption !== undefined && head.ServerSideEncryption !== c.sse)
        throw fail(`stored with ${head.ServerSideEncryption}, expected ${c.sse}`);
    if (c.kmsKeyId && head.SSEKMSKeyId !== undefined && head.SSEKMSKeyId !== c.kmsKeyId)
        throw fail(`encrypted with ${head.SSEKMSKeyId}, expected ${c.kmsKeyId}`);
    if (c.verify === "head") return undefined;
    const readBack = createHash("sha256");
    try {
        const object = await client.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }), { abortSignal });
        for await (const chunk of object.Body as Readable) readBack.update(chunk as Buffer);
    } catch (err) {
        throw fail(`cannot read back the object: ${describeStorageError(err, c)}`);
    }
    const got = readBack.digest("hex");
    if (got !== sha256) throw fail(`read back SHA-256 ${got}, streamed ${sha256}`);
    return got;
}

export interface Status {
    lastAttemptAt?: string;
    lastSuccessAt?: string;
    lastError?: string;
    startedAt: string;
    /** The last successful backup's duration and stored size. */
    lastDurationMs?: number;
    lastBytes?: number;
    /** Whether the last backup that reached verification passed it. */
    lastVerificationOk?: boolean;
}

/**
 * The scheduler's health: unhealthy when the last attempt failed, or when `due` (the latest
 * scheduled time at least the grace period old) came while this scheduler ran and no backup has
 * succeeded since.
 */
export function healthProblem(status: Status, due: Date | undefined): string | undefined {
    if (status.lastError && status.lastAttemptAt && (!status.lastSuccessAt || status.lastSuccessAt < status.lastAttemptAt)) {
        return `last backup at ${status.lastAttemptAt} failed: ${status.lastError}`;
    }
    if (due && due.toISOString() >= status.startedAt && (!status.lastSuccessAt || status.lastSuccessAt < due.toISOString())) {
        return `the backup due at ${due.toISOString()} has not succeeded`;
    }
    return undefined;
}
