/**
 * The backup bucket as the operations tool reads it: the backups under the prefix, their
 * manifests, and an object streamed through `zstd -dc` into a consumer while its SHA-256 is taken.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type GetObjectCommandOutput } from "@aws-sdk/client-s3";
import { fromIni } from "@aws-sdk/credential-providers";
import { backupKey } from "../backup-job/job";
import { manifestKey, parseManifest, type Manifest } from "../backup-job/manifest";
import { redactUrl } from "../lib/ops/rules";
import type { Context } from "./context";

export type S3Settings = NonNullable<Context["s3"]>;

export function opsS3Client(s: S3Settings): S3Client {
    return new S3Client({
        region: s.region,
        ...(s.endpoint ? { endpoint: s.endpoint, forcePathStyle: true } : {}),
        // The operator's own identity (default chain), or the file given: never a key on the command line.
        ...(s.credentialsFile ? { credentials: fromIni({ filepath: s.credentialsFile, configFilepath: s.credentialsFile }) } : {}),
        // socketTimeout: how long a socket may stay silent, also while a body streams.
        requestHandler: { connectionTimeout: 10_000, socketTimeout: 30_000 },
        maxAttempts: 3,
    });
}

/** A listing, a HEAD, a manifest, or a download's headers: bounded as a whole, retries included. */
export const S3_CALL_TIMEOUT_MS = 10_000;

export class S3TimeoutError extends Error {
    override name = "TimeoutError";
}

/** Runs one S3 call under its deadline; a silent endpoint becomes an error naming it, not a wait. */
async function bounded<T>(s: S3Settings, what: string, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), S3_CALL_TIMEOUT_MS);
    try {
        return await call(deadline.signal);
    } catch (err) {
        if (deadline.signal.aborted)
            throw new S3TimeoutError(
                `${what}: no answer from ${s.endpoint ? redactUrl(s.endpoint) : "S3"} within ${S3_CALL_TIMEOUT_MS / 1000} s`,
                {
                    cause: err,
                },
            );
        throw err;
    } finally {
        clearTimeout(timer);
    }
}

/**
 * GetObject with its headers under the deadline; the body then streams for as long as it takes
 * (a body that stalls ends with the client's socketTimeout).
 */
export function getObjectBounded(client: S3Client, s: S3Settings, key: string): Promise<GetObjectCommandOutput> {
    return bounded(s, `get s3://${s.bucket}/${key}`, (abortSignal) =>
        client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }), { abortSignal }),
    );
}

export interface BackupObject {
    key: string;
    bytes: number;
    lastModified?: Date;
    /** When the backup was taken, from its key. */
    takenAt: Date;
}

const DUMP_KEY = /\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.dump$/;

/** What to check when the bucket cannot be listed. */
export const LIST_FIX = "check --bucket, --region, --s3-endpoint and that your identity may s3:ListBucket on the prefix";

/** Every backup under the prefix, newest first (keys sort by time: backupKey). */
export async function listBackups(client: S3Client, s: S3Settings): Promise<BackupObject[]> {
    const out: BackupObject[] = [];
    let ContinuationToken: string | undefined;
    do {
        const page = await bounded(s, `list s3://${s.bucket}/${s.prefix}/`, (abortSignal) =>
            client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: `${s.prefix}/`, ContinuationToken }), { abortSignal }),
        );
        for (const o of page.Contents ?? []) {
            const m = o.Key ? DUMP_KEY.exec(o.Key) : null;
            if (!m || o.Key !== backupKey(s.prefix, new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])))) continue;
            out.push({
                key: o.Key!,
                bytes: o.Size ?? 0,
                lastModified: o.LastModified,
                takenAt: new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])),
            });
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out.sort((a, b) => (a.key < b.key ? 1 : -1));
}

/** `latest` or a key; errors name the bucket and what to pass instead. */
export async function pickBackup(client: S3Client, s: S3Settings, key: string): Promise<BackupObject> {
    let all: BackupObject[];
    try {
        all = await listBackups(client, s);
    } catch (err) {
        throw new Error(`cannot list s3://${s.bucket}/${s.prefix}/ (${(err as Error).name}: ${(err as Error).message}): ${LIST_FIX}`, {
            cause: err,
        });
    }
    if (key === "latest") {
        if (!all[0])
            throw new Error(`no backup under s3://${s.bucket}/${s.prefix}/: check --bucket/--prefix, or that the backup job has run`);
        return all[0];
    }
    const found = all.find((b) => b.key === key);
    if (!found) throw new Error(`no backup ${key} in s3://${s.bucket}/${s.prefix}/ (newest: ${all[0]?.key ?? "none"})`);
    return found;
}

/** The manifest could not be read; `missing` when there is none (a backup from before manifests, or its writing failed). */
export class ManifestError extends Error {
    constructor(
        message: string,
        readonly missing: boolean,
        options?: ErrorOptions,
    ) {
        super(message, options);
        this.name = "ManifestError";
    }
}

export async function readManifest(client: S3Client, s: S3Settings, dumpKey: string): Promise<Manifest> {
    const key = manifestKey(dumpKey);
    let text: string;
    try {
        text = await bounded(s, `get s3://${s.bucket}/${key}`, async (abortSignal) => {
            const res = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }), { abortSignal });
            return res.Body!.transformToString();
        });
    } catch (err) {
        const missing = (err as Error).name === "NoSuchKey";
        throw new ManifestError(
            `cannot read the manifest s3://${s.bucket}/${key} (${(err as Error).name}${missing ? "" : `: ${(err as Error).message}`}): without it the dump's SHA-256 and row counts are unknown; backups taken before manifests existed can only be restored by hand (docs/operations/ops-tool.md)`,
            missing,
            { cause: err },
        );
    }
    try {
        return parseManifest(text, `s3://${s.bucket}/${key}`);
    } catch (err) {
        throw new ManifestError((err as Error).message, false, { cause: err });
    }
}

export async function headBackup(client: S3Client, s: S3Settings, key: string) {
    return bounded(s, `head s3://${s.bucket}/${key}`, (abortSignal) =>
        client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: key }), { abortSignal }),
    );
}

/**
 * Downloads the object to `file` (zstd-compressed, as stored) while hashing it, so that nothing
 * is restored before the whole object is known to be the one the backup job wrote.
 */
export async function downloadVerified(
    client: S3Client,
    s: S3Settings,
    key: string,
    file: string,
    expectedSha256: string,
    onProgress?: (bytes: number) => void,
): Promise<{ bytes: number; sha256: string }> {
    const res = await getObjectBounded(client, s, key);
    const hash = createHash("sha256");
    let bytes = 0;
    const body = res.Body as Readable;
    body.on("data", (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
        onProgress?.(bytes);
    });
    await pipeline(body, createWriteStream(file));
    const sha256 = hash.digest("hex");
    if (sha256 !== expectedSha256)
        throw new Error(
            `s3://${s.bucket}/${key}: SHA-256 ${sha256} differs from the manifest's ${expectedSha256}: the object is corrupt or not the one the backup job wrote; the target was not touched`,
        );
    return { bytes, sha256 };
}

/** Runs a command, resolving with its exit, stdout and the tail of stderr. */
export function runTool(
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; stdinFile?: string; stdin?: Readable } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        let child: ChildProcess;
        try {
            child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
        } catch (err) {
            resolve({ code: null, stdout: "", stderr: (err as Error).message });
            return;
        }
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-8000)));
        child.stdin!.on("error", () => undefined);
        child.once("error", (err) =>
            resolve({ code: null, stdout, stderr: `${cmd} could not start: ${err.message} (install it: see docs/operations/ops-tool.md)` }),
        );
        child.once("close", (code) => resolve({ code, stdout, stderr }));
        const input = opts.stdin ?? (opts.stdinFile ? createReadStream(opts.stdinFile) : undefined);
        if (input) input.pipe(child.stdin!).on("error", () => undefined);
        else child.stdin!.end();
    });
}

/** Decompresses a stored dump to a plain custom-format file pg_restore can read in parallel (-j needs a seekable file). */
export async function decompress(compressed: string, out: string): Promise<void> {
    const r = await runTool("zstd", ["-d", "-q", "-f", "-T0", compressed, "-o", out]);
    if (r.code !== 0) throw new Error(`zstd -d failed (${r.code ?? "not started"}): ${r.stderr.trim()}`);
}
