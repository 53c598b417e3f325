/**
 * import: the guide's Database Migration (export the old local PostgreSQL, import into Supabase)
 * as one checked, all-or-nothing step. The target's schema comes from the migrations; only data moves:
 *   1. compare the source's tables and columns with the target's (the migrated schema), report
 *      every difference; a source table or column the target lacks, or a different type, stops
 *      the import (its data would be lost or mangled);
 *   2. refuse target tables that hold rows unless --truncate;
 *   3. in ONE transaction on the target: lock the tables, turn their user triggers off, drop the
 *      foreign keys touching them and the indexes that can be rebuilt, truncate them, COPY every
 *      table (FREEZE) from one snapshot of the source while hashing each stream as it passes,
 *      rebuild the indexes and keys (one sort per index, one check per key, as PostgreSQL's
 *      "Populating a Database" advises), set the sequences, turn the triggers back on, read every
 *      table back and compare its hash with the source stream's (and its structure with what it
 *      was), and COMMIT only if everything matches.
 * A failed step, a failed verification, a lost connection or SIGINT/SIGTERM (the CLI aborts
 * `signal`) rolls that transaction back: the target is exactly as it was. Every session reads and
 * writes under CANONICAL_SETTINGS, so a source in another time zone or date style compares equal.
 * --dry-run stops after 1 and 2 and writes nothing.
 */
import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import type { Client, QueryResult } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import {
    CANONICAL_SETTINGS,
    copyFormat,
    enableTriggerClause,
    sequencePosition,
    targetStateSentence,
    type ColumnTypeInfo,
    type CopyFormat,
    type SequenceState,
} from "../lib/ops/import";
import { foreignKeyOrder, quoteIdent, quoteTable, redactUrl, schemaDiff } from "../lib/ops/rules";
import { columnsOf } from "./db";
import { Connections } from "./importSession";
import type { Progress } from "./output";

/** How long the import waits for a lock on the target's tables before it gives up (the application still using them). */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 30;

export interface ImportOptions {
    from: string;
    target: string;
    schemas: string[];
    truncate: boolean;
    dryRun: boolean;
    /** Processes one index build on the target may use: the session and jobs - 1 parallel workers. */
    jobs: number;
    progress?: Progress;
    /** Aborting stops the import: the target's transaction is rolled back and ImportInterrupted thrown. */
    signal?: AbortSignal;
    /** DEFAULT_LOCK_TIMEOUT_SECONDS unless given. */
    lockTimeoutSeconds?: number;
}

export interface TableResult {
    table: string;
    format: CopyFormat;
    source: number;
    target: number;
    checksumsEqual: boolean;
}

export interface SequenceResult {
    sequence: string;
    /** "schema.table.column" the sequence serves (several, comma-separated, for a shared sequence). */
    column: string;
    /** The source's `last_value` (`is_called`), or null when the source has no sequence for the column(s). */
    source: string | null;
    /** What the target's sequence was set to (`last_value`, `is_called`), read back. */
    target: string;
    basis: "source" | "imported rows";
}

export interface ImportResult {
    ok: boolean;
    dryRun: boolean;
    /** The target's transaction committed: the data, sequences and rebuilt indexes are in. False: the target is as it was. */
    committed: boolean;
    differences: string[];
    /** Differences that stop the import. */
    blocking: string[];
    /** Tables in load order, by foreign-key level. */
    plan: string[][];
    nonEmpty: string[];
    tables: TableResult[];
    sequences: SequenceResult[];
    /** User triggers ("schema.table: trigger") kept off during the load and turned back on. */
    triggers: string[];
    problems: string[];
    copyMs?: number;
    rebuildMs?: number;
    verifyMs?: number;
}

export class ImportRefused extends Error {}

/** The import was stopped by a signal; the message says what state the target is in. */
export class ImportInterrupted extends Error {
    constructor(
        readonly signal: string,
        message: string,
    ) {
        super(message);
        this.name = "ImportInterrupted";
    }
}

/** Tables grouped by foreign-key depth: a level references only earlier levels. */
export function levels(order: string[], references: { from: string; to: string }[]): string[][] {
    const depth = new Map<string, number>();
    for (const t of order) {
        const deps = references.filter((r) => r.from === t && r.to !== t && depth.has(r.to)).map((r) => depth.get(r.to)!);
        depth.set(t, deps.length ? Math.max(...deps) + 1 : 0);
    }
    const out: string[][] = [];
    for (const t of order) (out[depth.get(t)!] ??= []).push(t);
    return out;
}

async function references(db: Client, schemas: string[]): Promise<{ from: string; to: string }[]> {
    const res = await db.query<{ f: string; t: string }>(
        `select fn.nspname || '.' || fc.relname as f, tn.nspname || '.' || tc.relname as t
         from pg_constraint con
         join pg_class fc on fc.oid = con.conrelid join pg_namespace fn on fn.oid = fc.relnamespace
         join pg_class tc on tc.oid = con.confrelid join pg_namespace tn on tn.oid = tc.relnamespace
         where con.contype = 'f' and fn.nspname = any($1)`,
        [schemas],
    );
    return res.rows.map((r) => ({ from: r.f, to: r.t }));
}

/** Sets CANONICAL_SETTINGS for the session (one round trip). */
export async function useCanonicalSettings(db: Client): Promise<void> {
    const entries = Object.entries(CANONICAL_SETTINGS);
    await db.query("select set_config(k, v, false) from unnest($1::text[], $2::text[]) as s(k, v)", [
        entries.map(([k]) => k),
        entries.map(([, v]) => v),
    ]);
}

/** The columns' types on the target, resolved as copyFormat needs them. */
async function columnTypes(db: Client, tables: string[]): Promise<Record<string, ColumnTypeInfo[]>> {
    const types = new Map(
        (
            await db.query<{ oid: string; typtype: string; typbasetype: string; typelem: string; typlen: number; binary_io: boolean }>(
                "select oid, typtype, typbasetype, typelem, typlen, typsend <> 0 and typreceive <> 0 as binary_io from pg_type",
            )
        ).rows.map((t) => [Number(t.oid), { ...t, typbasetype: Number(t.typbasetype), typelem: Number(t.typelem) }]),
    );
    const base = (oid: number) => {
        let t = types.get(oid)!;
        while (t.typtype === "d") t = types.get(t.typbasetype)!;
        return t;
    };
    const cols = await db.query<{ t: string; col: string; type: string; typid: string }>(
        `select n.nspname || '.' || c.relname as t, a.attname as col, format_type(a.atttypid, a.atttypmod) as type, a.atttypid as typid
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
         where n.nspname || '.' || c.relname = any($1) and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''`,
        [tables],
    );
    const out: Record<string, ColumnTypeInfo[]> = {};
    for (const r of cols.rows) {
        const b = base(Number(r.typid));
        const isArray = b.typlen === -1 && b.typelem !== 0;
        (out[r.t] ??= []).push({
            column: r.col,
            type: r.type,
            typtype: b.typtype,
            binaryIo: b.binary_io,
            element: isArray ? { oid: b.typelem, typtype: types.get(b.typelem)!.typtype } : undefined,
        });
    }
    return out;
}

interface SequenceLink {
    table: string;
    column: string;
    sequence: string;
    increment: bigint;
    integral: boolean;
}

/** Sequences serving the tables' columns: owned by a column (serial, identity) or named in its default. */
async function sequenceLinks(db: Client, tables: string[]): Promise<SequenceLink[]> {
    const res = await db.query<{ t: string; col: string; seq: string; inc: string; integral: boolean }>(
        `select distinct n.nspname || '.' || c.relname as t, a.attname as col, format('%I.%I', sn.nspname, s.relname) as seq,
                sq.seqincrement::text as inc, a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) as integral
         from (
             select d.refobjid as relid, d.refobjsubid as attnum, d.objid as seqid from pg_depend d
             where d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i') and d.refobjsubid > 0
             union
             select ad.adrelid, ad.adnum, d.refobjid from pg_attrdef ad
             join pg_depend d on d.classid = 'pg_attrdef'::regclass and d.objid = ad.oid and d.refclassid = 'pg_class'::regclass
         ) link
         join pg_class s on s.oid = link.seqid and s.relkind = 'S' join pg_namespace sn on sn.oid = s.relnamespace
         join pg_sequence sq on sq.seqrelid = s.oid
         join pg_class c on c.oid = link.relid join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = link.relid and a.attnum = link.attnum
         where n.nspname || '.' || c.relname = any($1)
         order by 1, 2, 3`,
        [tables],
    );
    return res.rows.map((r) => ({ table: r.t, column: r.col, sequence: r.seq, increment: BigInt(r.inc), integral: r.integral }));
}

const sequenceSql = (sequence: string) => `select last_value::text as l, is_called as c from ${sequence}`;
const toState = (row: { l: string; c: boolean }): SequenceState => ({ lastValue: BigInt(row.l), isCalled: row.c });

const stateText = (s: SequenceState) => `${s.lastValue} (${s.isCalled ? "called" : "not called"})`;

/**
 * Everything about the tables' structure the load takes apart and rebuilds, one line each:
 * constraints, indexes (and their flags and comments), user triggers and their modes, NOT NULL
 * columns. Compared before and after: the commit needs them equal.
 */
async function structure(c: Connections, oids: string[]): Promise<string[]> {
    const res = await c.write<{ s: string }>(
        `select 'constraint ' || k.conrelid::regclass || ' ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid)
                || coalesce(' comment ' || obj_description(k.oid, 'pg_constraint'), '') as s
         from pg_constraint k where k.conrelid = any($1) or k.confrelid = any($1)
         union all
         select 'index ' || pg_get_indexdef(i.indexrelid) || case when i.indisclustered then ' clustered' else '' end
                || case when i.indisvalid then '' else ' invalid' end || case when i.indisreplident then ' replica identity' else '' end
                || coalesce(' comment ' || obj_description(i.indexrelid, 'pg_class'), '')
         from pg_index i where i.indrelid = any($1)
         union all
         select 'trigger ' || t.tgrelid::regclass || ' ' || quote_ident(t.tgname) || ' ' || t.tgenabled::text
         from pg_trigger t where t.tgrelid = any($1) and not t.tgisinternal
         union all
         select 'not null ' || a.attrelid::regclass || '.' || quote_ident(a.attname)
         from pg_attribute a where a.attrelid = any($1) and a.attnum > 0 and not a.attisdropped and a.attnotnull
         order by 1`,
        [oids],
    );
    return res.rows.map((r) => r.s);
}

/** User triggers that fire on the tables, turned off for the load; returns what turns them back on. */
async function disableTriggers(c: Connections, oids: string[]): Promise<{ names: string[]; enable: string[] }> {
    const triggers = (
        await c.write<{ t: string; name: string; mode: string; label: string }>(
            `select format('%I.%I', n.nspname, r.relname) as t, tg.tgname as name, tg.tgenabled as mode, n.nspname || '.' || r.relname || ': ' || tg.tgname as label
             from pg_trigger tg join pg_class r on r.oid = tg.tgrelid join pg_namespace n on n.oid = r.relnamespace
             where tg.tgrelid = any($1) and not tg.tgisinternal and tg.tgenabled <> 'D' order by 4`,
            [oids],
        )
    ).rows;
    for (const t of triggers) await c.write(`alter table ${t.t} disable trigger ${quoteIdent(t.name)}`);
    return {
        names: triggers.map((t) => t.label),
        enable: triggers.map((t) => `alter table ${t.t} ${enableTriggerClause(t.mode)} ${quoteIdent(t.name)}`),
    };
}

/**
 * Drops the foreign keys touching the tables, and the indexes (primary keys and unique constraints
 * included) that nothing else depends on; returns the DDL that rebuilds them: indexes first, then
 * the keys. Kept as they are: a replica-identity index, one in its own tablespace, one with
 * per-column statistics targets, an invalid one, and what a partition inherits from its parent.
 */
async function dropForLoad(c: Connections, oids: string[]): Promise<{ indexes: string[]; foreignKeys: string[] }> {
    const comment = (what: string, text: string | null) => (text === null ? [] : [`comment on ${what} is ${quoteLiteral(text)}`]);
    const fks = (
        await c.write<{ t: string; name: string; def: string; comment: string | null }>(
            `select format('%I.%I', n.nspname, r.relname) as t, k.conname as name, pg_get_constraintdef(k.oid) as def,
                    obj_description(k.oid, 'pg_constraint') as comment
             from pg_constraint k join pg_class r on r.oid = k.conrelid join pg_namespace n on n.oid = r.relnamespace
             where k.contype = 'f' and (k.conrelid = any($1) or k.confrelid = any($1)) and k.conparentid = 0`,
            [oids],
        )
    ).rows;
    for (const f of fks) await c.write(`alter table ${f.t} drop constraint ${quoteIdent(f.name)}`);
    const idx = (
        await c.write<{
            t: string;
            index: string;
            index_name: string;
            def: string;
            con: string | null;
            condef: string | null;
            clustered: boolean;
            con_comment: string | null;
            idx_comment: string | null;
        }>(
            `select format('%I.%I', n.nspname, r.relname) as t, format('%I.%I', n.nspname, ic.relname) as index, ic.relname as index_name, pg_get_indexdef(i.indexrelid) as def,
                    k.conname as con, pg_get_constraintdef(k.oid) as condef, i.indisclustered as clustered,
                    obj_description(k.oid, 'pg_constraint') as con_comment, obj_description(i.indexrelid, 'pg_class') as idx_comment
             from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class r on r.oid = i.indrelid join pg_namespace n on n.oid = r.relnamespace
             left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = i.indrelid and k.contype in ('p', 'u', 'x')
             where i.indrelid = any($1) and i.indisvalid and not i.indisreplident and ic.reltablespace = 0 and not ic.relispartition
               and not exists (select 1 from pg_attribute a where a.attrelid = i.indexrelid and coalesce(a.attstattarget, -1) >= 0)
               and not exists (select 1 from pg_constraint o where o.conindid = i.indexrelid and o.contype not in ('p', 'u', 'x', 'f'))
               -- nothing but the constraint itself and foreign keys (dropped above) depends on the index or its constraint
               and not exists (select 1 from pg_depend d where d.refclassid = 'pg_class'::regclass and d.refobjid = i.indexrelid
                               and not (d.classid = 'pg_constraint'::regclass and exists (select 1 from pg_constraint f where f.oid = d.objid and f.contype = 'f')))
               and (k.oid is null or not exists (select 1 from pg_depend d where d.refclassid = 'pg_constraint'::regclass and d.refobjid = k.oid
                               and not (d.classid = 'pg_class'::regclass and d.objid = i.indexrelid)))
             order by k.contype nulls last, 2`,
            [oids],
        )
    ).rows;
    const indexes: string[] = [];
    for (const i of idx) {
        await c.write(i.con ? `alter table ${i.t} drop constraint ${quoteIdent(i.con)}` : `drop index ${i.index}`);
        indexes.push(i.con ? `alter table ${i.t} add constraint ${quoteIdent(i.con)} ${i.condef}` : i.def);
        if (i.clustered) indexes.push(`alter table ${i.t} cluster on ${quoteIdent(i.index_name)}`);
        if (i.con) indexes.push(...comment(`constraint ${quoteIdent(i.con)} on ${i.t}`, i.con_comment));
        indexes.push(...comment(`index ${i.index}`, i.idx_comment));
    }
    return {
        indexes,
        foreignKeys: fks.flatMap((f) => [
            `alter table ${f.t} add constraint ${quoteIdent(f.name)} ${f.def}`,
            ...comment(`constraint ${quoteIdent(f.name)} on ${f.t}`, f.comment),
        ]),
    };
}

function quoteLiteral(text: string): string {
    return `'${text.replace(/'/g, "''")}'`;
}

/** A Transform that hashes (SHA-256) and counts what passes through it. */
function hashing(onBytes?: (total: number) => void): { tap: Transform; digest: () => string } {
    const hash = createHash("sha256");
    let total = 0;
    const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            total += chunk.length;
            onBytes?.(total);
            done(null, chunk);
        },
    });
    return { tap, digest: () => hash.digest("hex") };
}

export async function importData(o: ImportOptions): Promise<ImportResult> {
    const conns = new Connections(o.signal);
    try {
        const source = await conns.open(o.from);
        const target = await conns.open(o.target);
        await Promise.all([useCanonicalSettings(source), useCanonicalSettings(target)]);
        const [srcCols, dstCols] = await Promise.all([columnsOf(source, o.schemas), columnsOf(target, o.schemas)]);
        const differences = schemaDiff(srcCols, dstCols);
        const blocking = differences.filter((d) => / exists in the source but not| in the source, /.test(d));
        const tables = Object.keys(srcCols).filter((t) => dstCols[t]);
        const refs = await references(target, o.schemas);
        const plan = levels(foreignKeyOrder(tables, refs), refs);
        const nonEmpty = await rowsIn((sql) => target.query(sql), tables);
        const result: ImportResult = {
            ok: blocking.length === 0,
            dryRun: o.dryRun,
            committed: false,
            differences,
            blocking,
            plan,
            nonEmpty,
            tables: [],
            sequences: [],
            triggers: [],
            problems: [],
        };
        if (o.dryRun) {
            if (nonEmpty.length && !o.truncate)
                result.problems.push(`target tables hold rows: ${nonEmpty.join(", ")} (pass --truncate to empty them first)`);
            result.ok = blocking.length === 0 && result.problems.length === 0;
            return result;
        }
        if (blocking.length)
            throw new ImportRefused(
                `the source does not fit the migrated schema; nothing was written:\n  - ${blocking.join("\n  - ")}\nadd a migration that makes room for this data, or drop it from the source first`,
            );
        if (nonEmpty.length && !o.truncate)
            throw new ImportRefused(
                `target ${redactUrl(o.target)} already has rows in ${nonEmpty.join(", ")}; nothing was written: pass --truncate to empty these tables first`,
            );
        const common = (t: string) => Object.keys(srcCols[t]).filter((c) => c in dstCols[t]);
        await load(conns, source, target, o, result, plan.flat(), common);
        return result;
    } catch (err) {
        if (conns.state === "committed") throw err;
        await conns.rollback();
        const where = targetStateSentence(conns.state);
        if (conns.aborted)
            throw new ImportInterrupted(
                conns.signalName,
                `import interrupted by ${conns.signalName}: ${where}${conns.state === "commit unknown" ? "" : "; run the same command again to import"}`,
            );
        const e = err as Error;
        // A refusal before the transaction already says that nothing was written.
        if (!(e instanceof ImportRefused && conns.state === "untouched")) e.message = `${e.message}; ${where}`;
        throw e;
    } finally {
        await conns.closeAll();
    }
}

/** Tables that hold at least one row. */
async function rowsIn(query: (sql: string) => Promise<QueryResult<{ e: boolean }>>, tables: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const t of tables) if ((await query(`select exists (select 1 from only ${quoteTable(t)}) as e`)).rows[0].e) out.push(t);
    return out;
}

async function load(
    c: Connections,
    source: Client,
    target: Client,
    o: ImportOptions,
    result: ImportResult,
    tables: string[],
    common: (table: string) => string[],
): Promise<void> {
    const step = <T>(name: string, work: () => Promise<T>): Promise<T> => {
        o.progress?.start(name);
        return work().then((v) => {
            o.progress?.done();
            return v;
        });
    };
    // The source is read in one repeatable-read snapshot.
    await source.query("begin isolation level repeatable read read only");
    await c.begin(target, o.target);
    const oids = (await c.write<{ oid: string }>("select unnest($1::text[])::regclass::oid as oid", [tables.map(quoteTable)])).rows.map(
        (r) => r.oid,
    );
    const lockTimeout = o.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS;
    await step("lock the target's tables", async () => {
        await c.write(`set local lock_timeout = '${lockTimeout}s'`);
        await c.write(`set local maintenance_work_mem = '512MB'`);
        await c.write(`set local max_parallel_maintenance_workers = ${Math.max(0, o.jobs - 1)}`);
        // A lost tool is noticed within seconds even in the middle of a long statement (PostgreSQL 14+).
        await c.write(
            "select set_config('client_connection_check_interval', '2s', true) where current_setting('server_version_num')::int >= 140000",
        );
        try {
            await c.write(`lock table ${tables.map(quoteTable).join(", ")} in access exclusive mode`);
        } catch (err) {
            if ((err as { code?: string }).code !== "55P03") throw err;
            throw new Error(
                `could not lock the target's tables within ${lockTimeout} s: another session (the application?) is using them; stop it and run the import again`,
                { cause: err },
            );
        }
    });
    // Rows that arrived since the check, under the lock now: never truncated without --truncate.
    const arrived = o.truncate ? [] : await rowsIn((sql) => c.write(sql), tables);
    if (arrived.length)
        throw new ImportRefused(`rows arrived in ${arrived.join(", ")} since the check: pass --truncate to empty these tables first`);

    const before = await structure(c, oids);
    const triggers = await disableTriggers(c, oids);
    result.triggers = triggers.names;
    const rebuild = await dropForLoad(c, oids);
    // Truncated in this transaction even when empty: COPY FREEZE needs it, and the rows then lie in the order they were written.
    await c.write(`truncate ${tables.map(quoteTable).join(", ")}`);

    const links = await sequenceLinks(target, tables);
    const sourceLinks = await sequenceLinks(source, tables);
    const sourceStates = new Map<string, SequenceState>();
    for (const l of sourceLinks)
        sourceStates.set(
            `${l.table}\u0000${l.column}`,
            toState((await source.query<{ l: string; c: boolean }>(sequenceSql(l.sequence))).rows[0]),
        );

    const types = await columnTypes(target, tables);
    const copied = new Map<string, { format: CopyFormat; rows: number; hash: string; columns: string }>();
    const t0 = performance.now();
    for (const [i, table] of tables.entries()) {
        const cols = common(table);
        const byName = new Map(types[table].map((t) => [t.column, t]));
        const format = copyFormat(cols.map((col) => byName.get(col)!)).format;
        const list = cols.map(quoteIdent).join(", ");
        o.progress?.start(`copy ${i + 1}/${tables.length}: ${table}`);
        const { tap, digest } = hashing((bytes) => o.progress?.update(bytes));
        let rows = 0;
        await c.copy(() => {
            const out = source.query(
                copyTo(`copy ${quoteTable(table)} (${list}) to stdout${format === "binary" ? " (format binary)" : ""}`),
            );
            out.on("end", () => (rows = out.rowCount));
            const into = target.query(
                copyFrom(`copy ${quoteTable(table)} (${list}) from stdin (${format === "binary" ? "format binary, " : ""}freeze)`),
            );
            return [out, tap, into];
        });
        copied.set(table, { format, rows, hash: digest(), columns: list });
        o.progress?.done();
    }
    result.copyMs = Math.round(performance.now() - t0);

    const t1 = performance.now();
    await step("rebuild indexes and foreign keys", async () => {
        for (const ddl of [...rebuild.indexes, ...rebuild.foreignKeys]) await c.write(ddl);
    });
    const wanted = new Map<string, SequenceState>();
    await step("set sequences", async () => {
        // One sequence may serve several columns (a shared id sequence): it is set once, past all of them.
        for (const sequence of [...new Set(links.map((l) => l.sequence))]) {
            const served = links.filter((l) => l.sequence === sequence);
            const { increment } = served[0];
            const sources: SequenceState[] = [];
            const values: bigint[] = [];
            for (const l of served) {
                const from = sourceStates.get(`${l.table}\u0000${l.column}`);
                if (from) sources.push(from);
                if (!l.integral) continue;
                const v = (
                    await c.write<{ v: string | null }>(
                        `select ${increment > 0n ? "max" : "min"}(${quoteIdent(l.column)})::text as v from only ${quoteTable(l.table)}`,
                    )
                ).rows[0].v;
                if (v !== null) values.push(BigInt(v));
            }
            const position = sequencePosition(sources, increment, values);
            if (!position) continue;
            const columns = served.map((l) => `${l.table}.${l.column}`).join(", ");
            // RESTART gives the sequence new storage in this transaction, so the setval after it is rolled back with it.
            await c.write(`alter sequence ${sequence} restart`);
            try {
                await c.write("select setval($1::regclass, $2::bigint, $3)", [sequence, String(position.lastValue), position.isCalled]);
            } catch (err) {
                throw new Error(`setting sequence ${sequence} (${columns}) to ${position.lastValue} failed: ${(err as Error).message}`, {
                    cause: err,
                });
            }
            wanted.set(sequence, position);
            result.sequences.push({
                sequence,
                column: columns,
                source: sources.length ? sources.map(stateText).join(", ") : null,
                target: "",
                basis: position.basis,
            });
        }
        for (const ddl of triggers.enable) await c.write(ddl);
    });
    result.rebuildMs = Math.round(performance.now() - t1);

    const t2 = performance.now();
    await step("verify: read every table back", async () => {
        const after = await structure(c, oids);
        const lost = before.filter((s) => !after.includes(s));
        const gained = after.filter((s) => !before.includes(s));
        for (const s of lost) result.problems.push(`the target's structure lost: ${s}`);
        for (const s of gained) result.problems.push(`the target's structure gained: ${s}`);
        for (const table of tables) {
            const sent = copied.get(table)!;
            const { tap, digest } = hashing();
            let back = 0;
            await c.copy(() => {
                const out = target.query(
                    copyTo(`copy ${quoteTable(table)} (${sent.columns}) to stdout${sent.format === "binary" ? " (format binary)" : ""}`),
                );
                out.on("end", () => (back = out.rowCount));
                return [out, tap, new Writable({ write: (_chunk, _encoding, done) => done() })];
            });
            const equal = digest() === sent.hash;
            result.tables.push({ table, format: sent.format, source: sent.rows, target: back, checksumsEqual: equal });
            if (sent.rows !== back) result.problems.push(`${table}: ${sent.rows} rows in the source, ${back} in the target`);
            else if (!equal) result.problems.push(`${table}: checksums differ (same row count)`);
        }
        for (const s of result.sequences) {
            const now = toState((await c.write<{ l: string; c: boolean }>(sequenceSql(s.sequence))).rows[0]);
            s.target = stateText(now);
            const w = wanted.get(s.sequence)!;
            if (now.lastValue !== w.lastValue || now.isCalled !== w.isCalled)
                result.problems.push(`sequence ${s.sequence}: ${stateText(now)}, expected ${stateText(w)}`);
        }
    });
    result.verifyMs = Math.round(performance.now() - t2);
    // Only read: nothing of the import depends on this commit.
    await source.query("commit").catch(() => undefined);
    if (result.problems.length) {
        await c.rollback();
        result.ok = false;
        return;
    }
    await c.commit();
    result.committed = true;
    result.ok = true;
}
