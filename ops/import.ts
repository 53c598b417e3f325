/**
 * import: the guide's Database Migration (export the old local PostgreSQL, import into Supabase)
 * as one checked step. The target's schema comes from the migrations; only data moves:
 *   1. compare the source's tables and columns with the target's (the migrated schema), report
 *      every difference; a source table or column the target lacks, or a different type, stops
 *      the import (its data would be lost or mangled);
 *   2. refuse target tables that hold rows unless --truncate;
 *   3. COPY each table (binary, the common columns), tables of one foreign-key level in parallel,
 *      each level after the levels it references. As PostgreSQL's "Populating a Database" advises,
 *      the target's foreign keys and secondary indexes are dropped for the load and recreated after
 *      it (one sort per index, one check per key instead of one per row); loading in foreign-key
 *      order keeps even a failed load consistent, so they can always be recreated;
 *   4. compare row counts and checksums per table.
 * --dry-run stops after 1 and 2 and writes nothing.
 */
import { pipeline } from "node:stream/promises";
import type { Client } from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { foreignKeyOrder, quoteTable, redactUrl, schemaDiff } from "../lib/ops/rules";
import { columnsOf, connect, tableChecksum } from "./db";
import type { Progress } from "./output";

export interface ImportOptions {
    from: string;
    target: string;
    schemas: string[];
    truncate: boolean;
    dryRun: boolean;
    /** Parallel COPY streams within one foreign-key level. */
    jobs: number;
    progress?: Progress;
}

export interface ImportResult {
    ok: boolean;
    dryRun: boolean;
    differences: string[];
    /** Differences that stop the import. */
    blocking: string[];
    /** Tables in load order, by foreign-key level. */
    plan: string[][];
    nonEmpty: string[];
    tables: { table: string; source: number; target: number; checksumsEqual: boolean }[];
    problems: string[];
    copyMs?: number;
}

export class ImportRefused extends Error {}

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

interface Deferred {
    indexes: string[];
    foreignKeys: string[];
}

/** Drops the foreign keys touching the tables and their indexes that back no constraint; returns the DDL that recreates them. */
async function dropForLoad(target: Client, tables: string[]): Promise<Deferred> {
    const fks = (
        await target.query<{ t: string; name: string; def: string }>(
            `select format('%I.%I', fn.nspname, fc.relname) as t, con.conname as name, pg_get_constraintdef(con.oid) as def
             from pg_constraint con
             join pg_class fc on fc.oid = con.conrelid join pg_namespace fn on fn.oid = fc.relnamespace
             join pg_class tc on tc.oid = con.confrelid join pg_namespace tn on tn.oid = tc.relnamespace
             where con.contype = 'f' and (fn.nspname || '.' || fc.relname = any($1) or tn.nspname || '.' || tc.relname = any($1))`,
            [tables],
        )
    ).rows;
    const idx = (
        await target.query<{ name: string; def: string }>(
            `select format('%I.%I', n.nspname, ic.relname) as name, pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace join pg_class ic on ic.oid = i.indexrelid
             where n.nspname || '.' || c.relname = any($1) and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)`,
            [tables],
        )
    ).rows;
    const deferred: Deferred = {
        foreignKeys: fks.map((f) => `alter table ${f.t} add constraint "${f.name.replace(/"/g, '""')}" ${f.def}`),
        indexes: idx.map((i) => i.def),
    };
    await target.query("begin");
    for (const f of fks) await target.query(`alter table ${f.t} drop constraint "${f.name.replace(/"/g, '""')}"`);
    for (const i of idx) await target.query(`drop index ${i.name}`);
    await target.query("commit");
    return deferred;
}

/** Recreates what dropForLoad dropped: indexes in parallel, then the foreign keys (each checks all rows once). */
async function recreate(workers: Client[], target: Client, d: Deferred): Promise<void> {
    const queue = [...d.indexes];
    await Promise.all(
        workers.map(async (w) => {
            for (let ddl = queue.shift(); ddl; ddl = queue.shift()) await w.query(ddl);
        }),
    );
    for (const ddl of d.foreignKeys) await target.query(ddl);
}

async function copyTable(source: Client, target: Client, table: string, columns: string[]): Promise<void> {
    const cols = columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(", ");
    const out = source.query(copyTo(`copy (select ${cols} from only ${quoteTable(table)}) to stdout (format binary)`));
    const into = target.query(copyFrom(`copy ${quoteTable(table)} (${cols}) from stdin (format binary)`));
    await pipeline(out, into);
}

export async function importData(o: ImportOptions): Promise<ImportResult> {
    const source = await connect(o.from, "toolboxai-ops-import");
    // A refused target must not leave the source open: the process would never exit.
    const target = await connect(o.target, "toolboxai-ops-import").catch(async (err: unknown) => {
        await source.end().catch(() => undefined);
        throw err;
    });
    try {
        const [srcCols, dstCols] = await Promise.all([columnsOf(source, o.schemas), columnsOf(target, o.schemas)]);
        const differences = schemaDiff(srcCols, dstCols);
        const blocking = differences.filter((d) => / exists in the source but not| in the source, /.test(d));
        const tables = Object.keys(srcCols).filter((t) => dstCols[t]);
        const refs = await references(target, o.schemas);
        const plan = levels(foreignKeyOrder(tables, refs), refs);
        const nonEmpty: string[] = [];
        for (const t of tables)
            if ((await target.query(`select exists (select 1 from only ${quoteTable(t)}) as e`)).rows[0].e) nonEmpty.push(t);
        const result: ImportResult = {
            ok: blocking.length === 0,
            dryRun: o.dryRun,
            differences,
            blocking,
            plan,
            nonEmpty,
            tables: [],
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
        // The source is read in one repeatable-read snapshot, shared by every parallel reader.
        await source.query("begin isolation level repeatable read read only");
        const snapshot = (await source.query<{ s: string }>("select pg_export_snapshot() as s")).rows[0].s;
        const t0 = performance.now();
        if (nonEmpty.length && o.truncate) await target.query(`truncate ${nonEmpty.map(quoteTable).join(", ")}`);
        const deferred = await dropForLoad(target, tables);
        const workers: { src: Client; dst: Client }[] = [];
        let failure: unknown;
        try {
            for (let i = 0; i < Math.max(1, o.jobs); i++) {
                const src = await connect(o.from, "toolboxai-ops-import");
                const dst = await connect(o.target, "toolboxai-ops-import").catch(async (err: unknown) => {
                    await src.end().catch(() => undefined);
                    throw err;
                });
                // Listed before their first query: the finally below ends them whatever fails next.
                workers.push({ src, dst });
                await src.query("begin isolation level repeatable read read only");
                await src.query(`set transaction snapshot '${snapshot.replace(/'/g, "''")}'`);
                await dst.query("set synchronous_commit = off; set maintenance_work_mem = '512MB'");
            }
            for (const [i, level] of plan.entries()) {
                o.progress?.start(`copy level ${i + 1}/${plan.length}: ${level.join(", ")}`);
                const queue = [...level];
                await Promise.all(
                    workers.map(async (w) => {
                        for (let t = queue.shift(); t; t = queue.shift()) await copyTable(w.src, w.dst, t, common(t));
                    }),
                );
                o.progress?.done();
            }
        } catch (err) {
            failure = err;
        } finally {
            // Recreated whether the copy worked or not: the target never stays without its keys and indexes.
            o.progress?.start("recreate indexes and foreign keys");
            try {
                await recreate(workers.length ? workers.map((w) => w.dst) : [target], target, deferred);
            } catch (err) {
                failure ??= err;
                failure = new Error(
                    `${(failure as Error).message}; recreating the target's indexes and foreign keys failed (${(err as Error).message}): run these by hand:\n${[...deferred.indexes, ...deferred.foreignKeys].map((d) => `  ${d};`).join("\n")}`,
                    { cause: err },
                );
            }
            o.progress?.done();
            for (const w of workers) {
                await w.src.query("commit").catch(() => undefined);
                await Promise.all([w.src.end().catch(() => undefined), w.dst.end().catch(() => undefined)]);
            }
        }
        if (failure) throw failure;
        result.copyMs = Math.round(performance.now() - t0);

        // Verified against the same snapshot the copy read.
        // One pass per side (the checksum carries the count), source and target at once.
        for (const t of plan.flat()) {
            const cols = common(t);
            const [ss, ts] = await Promise.all([tableChecksum(source, t, cols), tableChecksum(target, t, cols)]);
            const [sc, tc] = [Number(ss.split(":")[0]), Number(ts.split(":")[0])];
            result.tables.push({ table: t, source: sc, target: tc, checksumsEqual: ss === ts });
            if (sc !== tc) result.problems.push(`${t}: ${sc} rows in the source, ${tc} in the target`);
            else if (ss !== ts) result.problems.push(`${t}: checksums differ (same row count)`);
        }
        await source.query("commit");
        result.ok = result.problems.length === 0;
        return result;
    } finally {
        await Promise.all([source.end().catch(() => undefined), target.end().catch(() => undefined)]);
    }
}
