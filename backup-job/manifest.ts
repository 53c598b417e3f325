/**
 * The backup's manifest: row counts per table taken in the very snapshot pg_dump dumps, and the
 * dump's SHA-256, stored as a small JSON object beside the dump (`<key>.manifest.json`), so that a
 * restore can check the object it downloads and the rows it loaded.
 *
 * One psql session (psql honours every libpq variable pg_dump does: PGPASSFILE, PGSSLMODE,
 * PGSSLROOTCERT) opens a repeatable-read transaction and exports its snapshot; pg_dump joins it
 * with --snapshot, and the counts run in the same transaction while the dump streams.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { stopProcess } from "./stopProcess";

export const MANIFEST_FORMAT = "toolboxai-backup-manifest/1";

/** `<dump key>.manifest.json`: beside the dump, under the uploader's prefix, never matched as a dump itself. */
export function manifestKey(dumpKey: string): string {
    return `${dumpKey}.manifest.json`;
}

export interface Manifest {
    format: typeof MANIFEST_FORMAT;
    key: string;
    bytes: number;
    sha256: string;
    startedAt: string;
    /** Schemas dumped; empty: the whole database. */
    schemas: string[];
    /** "schema.table" -> rows, in the dump's snapshot. */
    tables: Record<string, number>;
}

/** Reads a manifest back, refusing anything that is not one (a restore must not trust a stray object). */
export function parseManifest(text: string, where: string): Manifest {
    let m: Partial<Manifest>;
    try {
        m = JSON.parse(text) as Partial<Manifest>;
    } catch (err) {
        throw new Error(`${where} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const tablesOk = m.tables && typeof m.tables === "object" && Object.values(m.tables).every((n) => Number.isInteger(n) && n >= 0);
    if (m.format !== MANIFEST_FORMAT || !/^[0-9a-f]{64}$/.test(m.sha256 ?? "") || !Number.isInteger(m.bytes) || !tablesOk) {
        throw new Error(`${where} is not a ${MANIFEST_FORMAT} manifest (format, sha256, bytes and tables are required)`);
    }
    return m as Manifest;
}

/** Every ordinary table (partitions included, partitioned parents hold no rows) in the dumped schemas. */
export function countQuery(schemas: string[]): string {
    const filter = schemas.length ? `and n.nspname in (${schemas.map((s) => `'${s.replace(/'/g, "''")}'`).join(", ")})` : "";
    return `select format('select %L || E''\\t'' || count(*) from only %I.%I', n.nspname || '.' || c.relname, n.nspname, c.relname)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%' ${filter}
order by n.nspname, c.relname \\gexec`;
}

export interface SnapshotSession {
    /** The exported snapshot id, for pg_dump --snapshot. */
    snapshot: string;
    countRows(schemas: string[]): Promise<Record<string, number>>;
    /** Ends the transaction and the session. */
    close(): Promise<void>;
    /** Stops the session at once (a failed or aborted run). */
    kill(): void;
}

/**
 * Opens the session and exports its snapshot; rejects with psql's own error (connection, TLS,
 * password), or at once when `signal` aborts before the snapshot is taken.
 */
export async function openSnapshotSession(psql: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<SnapshotSession> {
    const child: ChildProcess = spawn(psql, ["-X", "-q", "-t", "-A", "--no-password", "-v", "ON_ERROR_STOP=1"], {
        env,
        stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let stderr = "";
    let ended: string | undefined;
    const waiters: (() => void)[] = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        wake();
    });
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.stdin!.on("error", () => undefined);
    const exited = new Promise<void>((resolve) => {
        child.once("error", (err) => {
            ended = `psql could not start: ${err.message}`;
            wake();
            resolve();
        });
        child.once("close", (code, signal) => {
            ended ??= `psql (snapshot session) ended (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`;
            wake();
            resolve();
        });
    });
    let marker = 0;
    /** Runs SQL and returns its output lines, up to a marker echoed after it. */
    const run = async (sql: string): Promise<string[]> => {
        const tag = `__toolboxai_done_${++marker}__`;
        child.stdin!.write(`${sql}\n\\echo ${tag}\n`);
        for (;;) {
            const at = out.indexOf(`${tag}\n`);
            if (at >= 0) {
                const lines = out.slice(0, at).split("\n").filter(Boolean);
                out = out.slice(at + tag.length + 1);
                return lines;
            }
            if (ended) throw new Error(ended);
            await new Promise<void>((r) => waiters.push(r));
        }
    };
    const onAbort = () => stopProcess(child);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
        const [snapshot] = await run("begin isolation level repeatable read read only;\nselect pg_export_snapshot();");
        if (!/^[0-9A-F-]+$/i.test(snapshot ?? "")) throw new Error(`psql returned no snapshot id: ${JSON.stringify(snapshot)}`);
        return {
            snapshot,
            async countRows(schemas) {
                const tables: Record<string, number> = {};
                for (const line of await run(countQuery(schemas))) {
                    const [name, count] = line.split("\t");
                    if (name && /^\d+$/.test(count ?? "")) tables[name] = Number(count);
                }
                return tables;
            },
            async close() {
                child.stdin!.end("commit;\n\\q\n");
                await exited;
            },
            kill() {
                stopProcess(child);
            },
        };
    } catch (err) {
        child.kill("SIGTERM");
        throw err;
    } finally {
        signal?.removeEventListener("abort", onAbort);
    }
}
