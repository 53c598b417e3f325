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
    /** The SQL statements the fix holds, each as printed in it (for --json readers and the tests that run them). */
    sql?: string[];
    /** Figures the check measured (for --json readers and `--metrics-file`): network bans' counts, see lib/monitoring/textfile.ts. */
    counts?: Record<string, number>;
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

/** The statement that ends one backend's query; the tool never runs it itself. */
export function terminateStatement(pid: number): string {
    return `select pg_terminate_backend(${Math.trunc(pid)});`;
}

/** The command an operator runs to end one query. */
export function terminateCommand(pid: number): string {
    return `psql "$DATABASE_URL" -c '${terminateStatement(pid)}'`;
}

export function enableRlsStatement(schema: string, table: string): string {
    return `alter table ${qualifiedName(schema, table)} enable row level security;`;
}

/** An index leading with a foreign key's columns, in the key's order. */
export function foreignKeyIndexStatement(schema: string, table: string, columns: readonly string[]): string {
    return `create index on ${qualifiedName(schema, table)} (${columns.map(quoteIdent).join(", ")});`;
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

/**
 * PostgreSQL's quoting of one identifier (quote_ident, always applied): double quotes around it,
 * inner double quotes doubled. Any name stays one identifier: mixed case, spaces, quotes, dots,
 * keywords. The one quoting rule for every SQL the tool runs or prints.
 */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** A schema-qualified name, each part quoted on its own: `"schema"."name"`. */
export function qualifiedName(schema: string, name: string): string {
    return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Quotes a "schema.table" name for SQL (split at the first dot: the manifest's and import's table keys). */
export function quoteTable(name: string): string {
    const dot = name.indexOf(".");
    return qualifiedName(name.slice(0, dot), name.slice(dot + 1));
}

const MASK = "***";
/** libpq also takes a password as a query parameter (`?password=`, `&sslpassword=`). */
const QUERY_PASSWORD = /[?&](?:ssl)?password=/i;

/**
 * A URL fit for output, whatever it holds: everything between the scheme's `//` and the LAST `@`
 * is masked (user and password), and everything after a `password=` query parameter. Deliberately
 * not the WHATWG URL parser: a password pasted unencoded may hold `#`, `@`, `/`, `?` or `:`, and
 * a parser would end the authority inside it and print the rest as host, path or fragment. A host
 * never holds an `@`, so the password always lies before the last one; an `@` in the query masks
 * more than needed, which is the safe way to be wrong.
 */
export function redactUrl(text: string): string {
    const start = /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/)?/.exec(text)?.[0].length ?? 0;
    const masked = new Array<boolean>(text.length).fill(false);
    const lastAt = text.lastIndexOf("@");
    for (let i = start; i < lastAt; i++) masked[i] = true;
    const query = QUERY_PASSWORD.exec(text.slice(start));
    if (query) for (let i = start + query.index + query[0].length; i < text.length; i++) masked[i] = true;
    let out = "";
    for (let i = 0; i < text.length; i++) {
        if (!masked[i]) out += text[i];
        else if (!masked[i - 1]) out += MASK;
    }
    return out;
}

/** What a URL flag points at: a PostgreSQL database, Redis over TLS, or an HTTP service (S3, Vault, the Management API). */
export type UrlKind = "postgres" | "redis" | "http";

const URL_KINDS: Record<UrlKind, { schemes: string[]; allowed: string }> = {
    postgres: {
        schemes: ["postgresql", "postgres"],
        allowed:
            "a postgresql:// (or postgres://) URL with a host and an optional port from 1 to 65535; special characters in the user or password percent-encoded (encodeURIComponent)",
    },
    redis: {
        schemes: ["rediss"],
        allowed: "a rediss:// URL (doctor PINGs Redis over TLS) with a host and an optional port from 1 to 65535",
    },
    http: {
        schemes: ["http", "https"],
        allowed: "an http:// or https:// URL with a host and an optional port from 1 to 65535, without user, password, query or fragment",
    },
};

/**
 * What is wrong with a URL given for `kind`, in words ending with what is allowed; undefined when
 * it is fine. Never holds the URL itself (the caller shows it through redactUrl).
 */
export function urlProblem(value: string, kind: UrlKind): string | undefined {
    const { schemes, allowed } = URL_KINDS[kind];
    const problem = (what: string) => `${what}; allowed: ${allowed}`;
    if (value.trim() === "") return problem("is empty");
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value)?.[1].toLowerCase();
    if (!scheme) return problem("is not a URL (no scheme://)");
    if (!schemes.includes(scheme)) return problem(`the scheme ${scheme}:// is not allowed`);
    // The port as written (the URL parser only says "Invalid URL" for 99999): after the authority's
    // last '@' as a parser sees it, or after the value's last '@' when an unencoded password cut it short.
    const rest = value.slice(scheme.length + 3);
    const authority = rest.split(/[/?#]/)[0];
    for (const hostPort of [authority.slice(authority.lastIndexOf("@") + 1), rest.slice(rest.lastIndexOf("@") + 1).split(/[/?#]/)[0]]) {
        const port = /^(?:\[[^\]]*\]|[^:]*):(\d+)$/.exec(hostPort)?.[1];
        if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return problem(`port ${port} is not from 1 to 65535`);
    }
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return problem(
            "does not parse as a URL (a password with # / ? @ : or % must be percent-encoded: encodeURIComponent, or %23 %2F %3F %40 %3A %25)",
        );
    }
    if (url.hostname === "") return problem("has no host");
    // A '#' or an '@' after the host: an unencoded '#', '/' or '?' in the password cut the URL short.
    if (value.includes("#")) return problem("holds a '#' (a password's '#' must be percent-encoded as %23)");
    if (url.pathname.includes("@"))
        return problem("holds an '@' after the host (a password's '/' or '@' must be percent-encoded: %2F, %40)");
    if (kind === "http" && (url.username || url.password || url.search))
        return problem("holds a user, password or query (credentials never go in this URL)");
    for (const part of [url.username, url.password, url.pathname]) {
        try {
            decodeURIComponent(part);
        } catch {
            return problem("holds a '%' that starts no percent-encoding (write a literal '%' as %25)");
        }
    }
    return undefined;
}
