/**
 * node-postgres connections as libpq would make them from the same URL (sslmode semantics
 * included), with a connect timeout; and the per-table row counts restore and drill compare (import
 * hashes its COPY streams instead: ops/import.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { quoteTable, redactUrl } from "../lib/ops/rules";

/** libpq's sslmode meanings (require: encrypt, verify-ca/verify-full: check the certificate). */
export function libpqCompatible(url: string): string {
    const u = new URL(url);
    if (u.searchParams.has("sslmode") && !u.searchParams.has("uselibpqcompat")) u.searchParams.set("uselibpqcompat", "true");
    return u.toString();
}

/** How long a connection may take, TCP to ready: a server that accepts and never answers is given up on after this. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A failed connection: names the (redacted) URL; `code` is the server's SQLSTATE or the socket's error code. */
export class ConnectError extends Error {
    readonly code?: string;
    /** The driver's own words (no URL, no password). */
    readonly reason: string;
    constructor(url: string, cause: unknown) {
        const e = cause as { code?: string; message?: string };
        const reason = /timeout expired|connection timeout/i.test(e.message ?? "")
            ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s (timeout expired)`
            : (e.message ?? String(cause));
        super(`cannot connect to ${redactUrl(url)}: ${reason}`, { cause });
        this.name = "ConnectError";
        this.code = e.code;
        this.reason = reason;
    }
}

export async function connect(url: string, applicationName = "toolboxai-ops", options: { queryTimeoutMs?: number } = {}): Promise<Client> {
    const client = new Client({
        connectionString: libpqCompatible(url),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        // A peer that vanishes mid-restore is noticed by TCP instead of waited on forever.
        keepAlive: true,
        application_name: applicationName,
        statement_timeout: 0,
        ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    });
    // An error after connecting (server restart) must not crash the tool: the next query reports it.
    client.on("error", () => undefined);
    try {
        await client.connect();
    } catch (err) {
        // Whatever the connect left behind (socket, timer) must not keep the process alive.
        await client.end().catch(() => undefined);
        throw new ConnectError(url, err);
    }
    return client;
}

/**
 * The URL for psql/pg_restore without its password, which goes to a private password file
 * (PGPASSFILE): never on a command line or in the environment. `cleanup` removes the file.
 */
export function libpqArgs(url: string): { dbname: string; env: NodeJS.ProcessEnv; cleanup: () => void } {
    const u = new URL(url);
    const password = decodeURIComponent(u.password);
    u.password = "";
    if (!password) return { dbname: u.toString(), env: { ...process.env }, cleanup: () => undefined };
    const dir = mkdtempSync(join(tmpdir(), "toolboxai-ops-"));
    const file = join(dir, "pgpass");
    // Any host, port, database and user of this one URL; ':' and '\\' escaped as pgpass requires.
    writeFileSync(file, `*:*:*:*:${password.replace(/([:\\])/g, "\\$1")}\n`, { mode: 0o600 });
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSFILE: file };
    delete env.PGPASSWORD;
    return { dbname: u.toString(), env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Ordinary tables of the given schemas ("schema.table"), sorted. */
export async function listTables(db: Client, schemas: readonly string[]): Promise<string[]> {
    const res = await db.query<{ t: string }>(
        `select n.nspname || '.' || c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' and n.nspname = any($1) order by 1`,
        [schemas],
    );
    return res.rows.map((r) => r.t);
}

export async function rowCount(db: Client, table: string): Promise<number> {
    const res = await db.query<{ n: string }>(`select count(*) as n from only ${quoteTable(table)}`);
    return Number(res.rows[0].n);
}

/** Exact row counts of the given tables. */
export async function rowCounts(db: Client, tables: readonly string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = await rowCount(db, t);
    return out;
}

/** Columns of each table in the schemas: "schema.table" -> column -> type (format_type). */
export async function columnsOf(db: Client, schemas: readonly string[]): Promise<Record<string, Record<string, string>>> {
    const res = await db.query<{ t: string; col: string; type: string }>(
        `select n.nspname || '.' || c.relname as t, a.attname as col, format_type(a.atttypid, a.atttypmod) as type
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'r' and n.nspname = any($1) and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
         order by 1, a.attnum`,
        [schemas],
    );
    const out: Record<string, Record<string, string>> = {};
    for (const r of res.rows) (out[r.t] ??= {})[r.col] = r.type;
    return out;
}
