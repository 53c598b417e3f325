/**
 * Pure rules of the operations tool (ops/): verdicts, orderings and comparisons, tested directly.
 */
import { Cron } from "croner";

export type Status = "pass" | "warn" | "fail" | "skip";

/** One line of the doctor's table: what was checked, the evidence, and for a failure the fix. */
export interface CheckResult {
    group: string;
    name: string;
    status: Status;
    evidence: string;
    fix?: string;
}

/** Exit codes: 0 all well (warnings included), 1 a check or step failed, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Exit codes of a command stopped by a signal (the shell's 128 + signal number). */
export const EXIT_ON_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;

export function exitCodeOf(results: readonly { status: Status }[]): number {
    return results.some((r) => r.status === "fail") ? EXIT.failed : EXIT.ok;
}

/** Share of max_connections at which the doctor warns (the guide: watch for connection exhaustion). */
export const CONNECTIONS_WARN_RATIO = 0.8;

export function connectionsVerdict(used: number, max: number): Status {
    return used >= max ? "fail" : used >= CONNECTIONS_WARN_RATIO * max ? "warn" : "pass";
}

/** The command an operator runs to end one query; the tool never runs it itself. */
export function terminateCommand(pid: number): string {
    return `psql "$DATABASE_URL" -c 'select pg_terminate_backend(${pid})'`;
}

/** Hours a scheduled backup may take before it counts as late (the backup job's own health grace). */
export const BACKUP_GRACE_HOURS = 6;

/** The time between two runs of a cron schedule (UTC). */
export function scheduleIntervalMs(schedule: string, at: Date = new Date()): number {
    const [a, b] = new Cron(schedule, { timezone: "UTC", paused: true }).nextRuns(2, at);
    if (!a || !b) throw new Error(`schedule ${JSON.stringify(schedule)} has no two next runs`);
    return b.getTime() - a.getTime();
}

/** The newest backup must be younger than one interval plus the grace period. */
export function backupAgeVerdict(
    newestAt: Date,
    now: Date,
    intervalMs: number,
    graceHours = BACKUP_GRACE_HOURS,
): { status: Status; limitHours: number; ageHours: number } {
    const ageHours = (now.getTime() - newestAt.getTime()) / 3600_000;
    const limitHours = intervalMs / 3600_000 + graceHours;
    return { status: ageHours <= limitHours ? "pass" : "fail", limitHours, ageHours };
}

/**
 * The newest object's encryption against the bucket's requirement (AES256 in dev, the stack's KMS
 * key in prod). AWS reports every object's encryption; some S3-compatible stores report none.
 */
export function encryptionVerdict(
    expected: string | undefined,
    kmsKeyArn: string | undefined,
    sse: string | undefined,
    kmsKeyId: string | undefined,
): { status: Status; evidence: string; fix?: string } {
    const policyFix =
        "the bucket policy should have refused this object: check that the bucket policy (lib/backup.ts) is applied (`pulumi up`) and the job's BACKUP_SSE/BACKUP_KMS_KEY_ID";
    if (sse === undefined) {
        return {
            status: "warn",
            evidence: `the store reports no server-side encryption${expected ? ` (expected ${expected})` : ""}`,
            fix: "an S3-compatible store may not report it; on AWS it means the object is unencrypted: check the bucket's default encryption",
        };
    }
    if (expected && sse !== expected) return { status: "fail", evidence: `${sse}, expected ${expected}`, fix: policyFix };
    if (kmsKeyArn && kmsKeyId && kmsKeyId !== kmsKeyArn)
        return { status: "fail", evidence: `${sse} with ${kmsKeyId}, expected ${kmsKeyArn}`, fix: policyFix };
    return { status: "pass", evidence: `${sse}${kmsKeyId ? ` with ${kmsKeyId}` : ""}` };
}

/** A newest backup below this share of the one before means data (or the dump's scope) shrank. */
export const SIZE_DROP_RATIO = 0.5;

export function sizeDropVerdict(newest: number, previous: number | undefined): Status {
    if (previous === undefined || previous === 0) return "pass";
    return newest < SIZE_DROP_RATIO * previous ? "fail" : "pass";
}

/** Applied migration versions against the files: what is missing from the database, and what it has unknown to the files. */
export function migrationDiff(applied: readonly string[], files: readonly string[]): { missing: string[]; unknown: string[] } {
    const a = new Set(applied);
    const f = new Set(files);
    return { missing: files.filter((v) => !a.has(v)).sort(), unknown: applied.filter((v) => !f.has(v)).sort() };
}

/** The version of a migration file name, as the Supabase CLI records it (`<version>_<name>.sql`). */
export function migrationVersion(file: string): string | undefined {
    return /^(\d+)_.*\.sql$/.exec(file)?.[1];
}

/** "schema.table" -> column name -> type. */
export type Columns = Record<string, Record<string, string>>;

/** Every difference between an old database's tables and columns and the migrated schema, in words. */
export function schemaDiff(source: Columns, target: Columns): string[] {
    const out: string[] = [];
    for (const table of Object.keys(source).sort()) {
        const t = target[table];
        if (!t) {
            out.push(`table ${table} exists in the source but not in the migrated schema`);
            continue;
        }
        for (const [column, type] of Object.entries(source[table])) {
            if (!(column in t)) out.push(`column ${table}.${column} (${type}) exists in the source but not in the migrated schema`);
            else if (t[column] !== type)
                out.push(`column ${table}.${column} is ${type} in the source, ${t[column]} in the migrated schema`);
        }
        for (const [column, type] of Object.entries(t)) {
            if (!(column in source[table]))
                out.push(`column ${table}.${column} (${type}) exists in the migrated schema but not in the source`);
        }
    }
    for (const table of Object.keys(target).sort())
        if (!source[table]) out.push(`table ${table} exists in the migrated schema but not in the source`);
    return out;
}

/**
 * Tables in foreign-key order: every table after the tables it references (self-references
 * ignored: rows of one table load in one COPY). A cycle is an error naming its tables.
 */
export function foreignKeyOrder(tables: readonly string[], references: readonly { from: string; to: string }[]): string[] {
    const deps = new Map(tables.map((t) => [t, new Set<string>()]));
    for (const { from, to } of references) if (from !== to && deps.has(from) && deps.has(to)) deps.get(from)!.add(to);
    const order: string[] = [];
    const done = new Set<string>();
    const visiting = new Set<string>();
    const visit = (t: string, path: string[]) => {
        if (done.has(t)) return;
        if (visiting.has(t))
            throw new Error(
                `foreign keys form a cycle: ${[...path.slice(path.indexOf(t)), t].join(" -> ")}; load these tables by hand with constraints deferred`,
            );
        visiting.add(t);
        for (const d of [...deps.get(t)!].sort()) visit(d, [...path, t]);
        visiting.delete(t);
        done.add(t);
        order.push(t);
    };
    for (const t of [...tables].sort()) visit(t, []);
    return order;
}

/** Row counts of a restore against the backup's manifest: each table that differs, in words. */
export function countMismatches(expected: Record<string, number>, actual: Record<string, number>): string[] {
    return Object.keys(expected)
        .sort()
        .filter((t) => actual[t] !== expected[t])
        .map((t) => `${t}: manifest ${expected[t]} rows, restored ${actual[t] ?? "missing"}`);
}

/** Quotes one SQL identifier (any name: mixed case, spaces, quotes). */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a "schema.table" name for SQL. */
export function quoteTable(name: string): string {
    const dot = name.indexOf(".");
    return `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}`;
}

/** A URL with its password replaced, fit for output. */
export function redactUrl(url: string): string {
    try {
        const u = new URL(url);
        if (u.password) u.password = "***";
        return u.toString();
    } catch {
        return "(unparseable URL)";
    }
}
