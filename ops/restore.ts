/**
 * restore and drill: a backup from the bucket into a database, checked end to end.
 *   1. the target is checked first (read-only): tables in the restored schemas refuse it unless --clean;
 *   2. the object is downloaded and its SHA-256 compared with the manifest's, before the target is touched;
 *   3. pg_restore -j <cores> from the decompressed file (parallel restore needs a seekable file), with
 *      the session settings of a bulk load;
 *   4. the row count of every table in the manifest is compared with the target's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { countMismatches, quoteIdent, redactUrl } from "../lib/ops/rules";
import { decompress, downloadVerified, opsS3Client, pickBackup, readManifest, runTool, type S3Settings } from "./backups";
import { connect, CONNECT_TIMEOUT_MS, libpqArgs, listTables, rowCounts } from "./db";
import type { Progress } from "./output";

export interface RestoreOptions {
    s3: S3Settings;
    key: string;
    target: string;
    clean: boolean;
    jobs?: number;
    /** Where the downloaded and decompressed dump are kept during the restore (removed after). */
    workDir?: string;
    progress?: Progress;
}

export interface RestoreResult {
    ok: boolean;
    key: string;
    takenAt: string;
    sha256: string;
    bytes: number;
    jobs: number;
    downloadMs: number;
    restoreMs: number;
    tables: { table: string; manifest: number; restored: number | null; ok: boolean }[];
    problems: string[];
}

/** Session settings for a bulk load: no waiting on WAL flushes, more memory for index builds. */
export const BULK_LOAD_PGOPTIONS = "-c synchronous_commit=off -c maintenance_work_mem=512MB -c statement_timeout=0 -c lock_timeout=0";

export class RefusedError extends Error {}

export async function restore(o: RestoreOptions): Promise<RestoreResult> {
    const client = opsS3Client(o.s3);
    try {
        return await restoreWith(client, o);
    } finally {
        // Its sockets (a download cut short included) must not outlive the command.
        client.destroy();
    }
}

async function restoreWith(client: S3Client, o: RestoreOptions): Promise<RestoreResult> {
    const backup = await pickBackup(client, o.s3, o.key);
    const manifest = await readManifest(client, o.s3, backup.key);
    const schemas = [...new Set(Object.keys(manifest.tables).map((t) => t.slice(0, t.indexOf("."))))];

    const db = await connect(o.target);
    try {
        const existing = await listTables(db, schemas);
        if (existing.length > 0 && !o.clean) {
            throw new RefusedError(
                `the target ${redactUrl(o.target)} already has ${existing.length} table(s) in the restored schemas (${existing.slice(0, 5).join(", ")}${existing.length > 5 ? ", ..." : ""}): restore into an empty database, or pass --clean to drop and recreate what the backup holds`,
            );
        }
    } finally {
        await db.end();
    }

    const work = mkdtempSync(join(o.workDir ?? tmpdir(), "toolboxai-restore-"));
    const pg = libpqArgs(o.target);
    try {
        const t0 = performance.now();
        o.progress?.start(`download ${backup.key}`, manifest.bytes);
        const { bytes, sha256 } = await downloadVerified(client, o.s3, backup.key, join(work, "backup.dump.zst"), manifest.sha256, (n) =>
            o.progress?.update(n),
        );
        await decompress(join(work, "backup.dump.zst"), join(work, "backup.dump"));
        rmSync(join(work, "backup.dump.zst"));
        o.progress?.done();
        const downloadMs = performance.now() - t0;

        const jobs = o.jobs ?? Math.max(2, availableParallelism());
        const t1 = performance.now();
        o.progress?.start(`pg_restore -j ${jobs}`);
        const args = [
            "--no-password",
            "--exit-on-error",
            `--jobs=${jobs}`,
            ...(o.clean ? ["--clean", "--if-exists"] : []),
            `--dbname=${pg.dbname}`,
            join(work, "backup.dump"),
        ];
        const r = await runTool("pg_restore", args, {
            // libpq waits for a connection forever unless told otherwise.
            env: {
                ...pg.env,
                PGOPTIONS: BULK_LOAD_PGOPTIONS,
                PGAPPNAME: "toolboxai-ops-restore",
                PGCONNECT_TIMEOUT: String(CONNECT_TIMEOUT_MS / 1000),
            },
        });
        o.progress?.done();
        if (r.code !== 0)
            throw new Error(`pg_restore failed (${r.code ?? "not started"}): ${r.stderr.trim().split("\n").slice(-5).join(" | ")}`);
        const restoreMs = performance.now() - t1;

        const after = await connect(o.target);
        let actual: Record<string, number>;
        try {
            const present = new Set(await listTables(after, schemas));
            actual = await rowCounts(
                after,
                Object.keys(manifest.tables).filter((t) => present.has(t)),
            );
        } finally {
            await after.end();
        }
        const problems = countMismatches(manifest.tables, actual);
        return {
            ok: problems.length === 0,
            key: backup.key,
            takenAt: backup.takenAt.toISOString(),
            sha256,
            bytes,
            jobs,
            downloadMs: Math.round(downloadMs),
            restoreMs: Math.round(restoreMs),
            tables: Object.keys(manifest.tables)
                .sort()
                .map((table) => ({
                    table,
                    manifest: manifest.tables[table],
                    restored: actual[table] ?? null,
                    ok: actual[table] === manifest.tables[table],
                })),
            problems,
        };
    } finally {
        pg.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}

export interface DrillResult extends RestoreResult {
    scratchDatabase: string;
    /** How old the backup was when the drill ran. */
    backupAgeHours: number;
    /** Download, decompress, restore and verification: the recovery time the drill met. */
    rtoSeconds: number;
    kept: boolean;
}

/** The scratch database's name: never one that exists already in practice, valid unquoted. */
export function scratchName(now: Date): string {
    return `toolboxai_drill_${now.toISOString().replace(/\D/g, "").slice(0, 14)}`;
}

/** Restores the newest backup into a new scratch database on `server` (a URL of any database there), verifies it, and drops it unless `keep`. */
export async function drill(
    o: Omit<RestoreOptions, "target" | "clean" | "key"> & { server: string; keep?: boolean; now?: Date },
): Promise<DrillResult> {
    const now = o.now ?? new Date();
    const name = scratchName(now);
    const admin = await connect(o.server);
    try {
        await admin.query(`create database ${quoteIdent(name)}`);
    } finally {
        await admin.end();
    }
    const target = new URL(o.server);
    target.pathname = `/${name}`;
    const t0 = performance.now();
    let result: DrillResult | undefined;
    let failure: unknown;
    try {
        const restored = await restore({ ...o, key: "latest", target: target.toString(), clean: false });
        result = {
            ...restored,
            scratchDatabase: name,
            backupAgeHours: Math.round(((now.getTime() - new Date(restored.takenAt).getTime()) / 3600_000) * 10) / 10,
            rtoSeconds: Math.round((performance.now() - t0) / 100) / 10,
            kept: Boolean(o.keep),
        };
    } catch (err) {
        failure = err;
    }
    if (!o.keep) {
        const drop = `drop database if exists ${quoteIdent(name)} with (force);`;
        try {
            const again = await connect(o.server);
            try {
                await again.query(drop);
            } finally {
                await again.end();
            }
        } catch (err) {
            // Said, not swallowed: the scratch database would otherwise stay unnoticed.
            const left = `the scratch database ${name} was left on the server (${(err as Error).message}): drop it by hand: ${drop}`;
            failure = new Error(failure ? `${(failure as Error).message}; ${left}` : left, { cause: err });
        }
    }
    if (failure) throw failure;
    return result!;
}
