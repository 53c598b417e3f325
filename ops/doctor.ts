/**
 * doctor: the guide's Monitoring and Troubleshooting as checks. Each check gives pass, warn, fail
 * or skip (not configured), one line of evidence, and for a failure the fix. It only reads: it
 * never ends a query, changes a setting or writes to the bucket.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import type { Readable } from "node:stream";
import type { Client } from "pg";
import { CONSUMER_READS, CONSUMERS } from "../lib/credentials";
import { backupLoginVerdict, bypassRlsLogins } from "../lib/databaseRoles";
import { isLoopbackHost } from "../lib/endpoints";
import {
    backupAgeVerdict,
    encryptionVerdict,
    connectionsVerdict,
    enableRlsStatement,
    foreignKeyIndexStatement,
    migrationDiff,
    migrationVersion,
    redactUrl,
    scheduleIntervalMs,
    sizeDropVerdict,
    SIZE_DROP_RATIO,
    terminateCommand,
    terminateStatement,
    type CheckResult,
    type Status,
} from "../lib/ops/rules";
import type { Manifest } from "../backup-job/manifest";
import { getObjectBounded, headBackup, LIST_FIX, listBackups, ManifestError, opsS3Client, readManifest } from "./backups";
import type { Context } from "./context";
import { connect, ConnectError } from "./db";
import { hostedChecks } from "./hosted";
import { VaultError } from "./vault";

export interface DoctorOptions {
    /** Queries running longer than this are listed (and fail the check). */
    longQuerySeconds: number;
    /** Schemas the API exposes: every table in them needs RLS and a policy. */
    exposedSchemas: string[];
    /** Groups not to check (reported as skipped): e.g. redis where its port is not reachable from here. */
    skip?: string[];
    /** The newest backup is downloaded and hashed against its manifest up to this size (MiB); 0: never. */
    backupHashMaxMb?: number;
    now?: Date;
}

/** The groups doctor runs, in its output's order. */
export const DOCTOR_GROUPS = ["database", "pooler", "redis", "vault", "backups", "hosted"] as const;

type Check = Omit<CheckResult, "group">;
/** A group of checks; an extension (the hosted project's) registers one of these. */
export type CheckGroup = (ctx: Context, o: DoctorOptions) => Promise<Check[]>;

const ok = (name: string, evidence: string): Check => ({ name, status: "pass", evidence });
const fail = (name: string, evidence: string, fix: string): Check => ({ name, status: "fail", evidence, fix });
const warn = (name: string, evidence: string, fix: string): Check => ({ name, status: "warn", evidence, fix });
const skip = (name: string, evidence: string): Check => ({ name, status: "skip", evidence });

/** The operator's fix for a failed connection, from the error's code or message. */
export function connectionFix(err: unknown, what = "the database"): string {
    const e = err as { code?: string; message?: string };
    // The driver's words only: the URL in a ConnectError's message (sslrootcert=...certificate.pem) must not sway this.
    const m = err instanceof ConnectError ? err.reason : (e.message ?? "");
    if (e.code === "28P01")
        return `the password is wrong: the one in Vault (database) and the database's differ; run \`pulumi up\` (it applies the password), or pass the right --database-url`;
    if (e.code === "28000")
        return `the server refused this user or address (pg_hba / network restrictions): allow this address in the project's network restrictions`;
    if (e.code === "3D000") return `the database does not exist: check the database name in the URL (stack config supabaseDbName)`;
    if (/self[- ]signed|unable to verify|certificate|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT|hostname/i.test(m) || /CERT/.test(e.code ?? "")) {
        return `the server's certificate is not trusted for this host: give the project's CA (sslrootcert=<file> in the URL, stack config databaseCaCert) and connect by the name on the certificate`;
    }
    if (/does not support SSL|SSL off|no encryption/i.test(m))
        return `the server offers no TLS: enable SSL enforcement, or (local servers only) use sslmode=disable`;
    if (/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|timeout/i.test(`${e.code} ${m}`))
        return `${what} cannot be reached: check host and port, that it is running, and that network restrictions allow this address`;
    return `check the URL of ${what} and the server's log`;
}

/** Quoted literals removed: the start of a query may hold a password (ALTER ROLE ... PASSWORD '...'). */
export function redactQuery(query: string, length = 60): string {
    return query
        .replace(/\s+/g, " ")
        .replace(/'(?:[^']|'')*'/g, "'…'")
        .replace(/\$([a-z_]*)\$[\s\S]*?\$\1\$/gi, "$$…$$")
        .slice(0, length);
}

/** doctor only reads catalogs: a query that takes longer means a server that stopped answering. */
const QUERY_TIMEOUT_MS = 30_000;

async function databaseChecks(ctx: Context, o: DoctorOptions): Promise<CheckResult[]> {
    const out: CheckResult[] = [];
    const add = (group: string, checks: Check[]) => out.push(...checks.map((c) => ({ group, ...c })));
    if (!ctx.databaseUrl) {
        add("database", [skip("connects", "no database URL: pass --database-url, or --stack with VAULT_ADDR/VAULT_TOKEN")]);
        return out;
    }
    let db: Client;
    try {
        db = await connect(ctx.databaseUrl, "toolboxai-ops-doctor", { queryTimeoutMs: QUERY_TIMEOUT_MS });
    } catch (err) {
        add("database", [fail("connects", (err as Error).message, connectionFix(err))]);
        return out;
    }
    try {
        add("database", [ok("connects", `connected to ${redactUrl(ctx.databaseUrl)} (from ${ctx.sources.database ?? "flag"})`)]);

        // SSL in use, and verified as the sslmode says.
        const sslmode = new URL(ctx.databaseUrl).searchParams.get("sslmode") ?? "prefer";
        const ssl = (
            await db.query<{ ssl: boolean; version: string | null }>("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()")
        ).rows[0];
        const host = new URL(ctx.databaseUrl).hostname.replace(/^\[|\]$/g, "");
        if (!ssl?.ssl && isLoopbackHost(host))
            add("database", [
                warn(
                    "ssl",
                    `not encrypted (sslmode=${sslmode}): a local server on ${host}, as \`supabase start\` serves it`,
                    "hosted projects must use sslmode=verify-full with the project's CA",
                ),
            ]);
        else if (!ssl?.ssl)
            add("database", [
                fail(
                    "ssl",
                    `this connection is not encrypted (sslmode=${sslmode})`,
                    "use sslmode=verify-full with the project's CA (stack config databaseSslMode, databaseCaCert)",
                ),
            ]);
        else if (sslmode === "verify-full" || sslmode === "verify-ca")
            add("database", [ok("ssl", `${ssl.version}, certificate verified (sslmode=${sslmode})`)]);
        else
            add("database", [
                warn(
                    "ssl",
                    `${ssl.version}, certificate NOT verified (sslmode=${sslmode})`,
                    "use sslmode=verify-full with the project's CA (stack config databaseSslMode, databaseCaCert)",
                ),
            ]);

        const version = (await db.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0].v;
        const major = Math.floor(Number(version) / 10000);
        add("database", [
            major >= 15
                ? ok("server version", `PostgreSQL ${major} (${version})`)
                : warn("server version", `PostgreSQL ${major} (${version})`, "upgrade the project to PostgreSQL 15 or later"),
        ]);

        // Connections.
        const conn = (
            await db.query<{ used: string; max: string }>(
                "select (select count(*) from pg_stat_activity) as used, current_setting('max_connections') as max",
            )
        ).rows[0];
        const used = Number(conn.used);
        const max = Number(conn.max);
        const verdict = connectionsVerdict(used, max);
        const connEvidence = `${used} of max_connections ${max} (${Math.round((used / max) * 100)}%)`;
        add("connections", [
            verdict === "pass"
                ? ok("in use", connEvidence)
                : {
                      name: "in use",
                      status: verdict,
                      evidence: connEvidence,
                      fix: "use the pooler (transaction mode, port 6543) for short-lived clients; lower pool sizes (stack config databasePoolSize)",
                  },
        ]);
        const long = (
            await db.query<{ pid: number; seconds: string; query: string; state: string }>(
                `select pid, extract(epoch from now() - query_start)::int::text as seconds, query, state from pg_stat_activity
                 where state <> 'idle' and pid <> pg_backend_pid() and backend_type = 'client backend' and now() - query_start > make_interval(secs => $1)
                 order by query_start`,
                [o.longQuerySeconds],
            )
        ).rows;
        if (long.length === 0) add("connections", [ok("long-running queries", `none over ${o.longQuerySeconds} s`)]);
        else {
            const list = long.map((q) => `pid ${q.pid} ${q.seconds} s ${q.state}: ${redactQuery(q.query)}`).join("; ");
            add("connections", [
                {
                    ...fail(
                        "long-running queries",
                        `${long.length} over ${o.longQuerySeconds} s: ${list}`,
                        `if a query must go, end it yourself (the tool never does): ${long.map((q) => terminateCommand(q.pid)).join(" ; ")}`,
                    ),
                    sql: long.map((q) => terminateStatement(q.pid)),
                },
            ]);
        }

        // Schema: migrations, RLS and policies, foreign-key indexes.
        const files = readdirSync(ctx.migrationsDir)
            .map(migrationVersion)
            .filter((v): v is string => Boolean(v));
        const hasTable = (
            await db.query("select 1 from pg_tables where schemaname = 'supabase_migrations' and tablename = 'schema_migrations'")
        ).rowCount;
        if (!hasTable)
            add("schema", [
                fail(
                    "migrations",
                    "no supabase_migrations.schema_migrations: no migration was ever applied with `supabase db push`",
                    "run `pulumi up` (it runs supabase db push) or `supabase db push --db-url <url>`",
                ),
            ]);
        else {
            const applied = (await db.query<{ version: string }>("select version from supabase_migrations.schema_migrations")).rows.map(
                (r) => r.version,
            );
            const d = migrationDiff(applied, files);
            if (d.missing.length === 0 && d.unknown.length === 0)
                add("schema", [ok("migrations", `${applied.length} applied, equal to supabase/migrations`)]);
            else {
                const parts = [
                    d.missing.length ? `not applied: ${d.missing.join(", ")}` : "",
                    d.unknown.length ? `applied but not in supabase/migrations: ${d.unknown.join(", ")}` : "",
                ]
                    .filter(Boolean)
                    .join("; ");
                add("schema", [
                    fail(
                        "migrations",
                        parts,
                        d.missing.length
                            ? "run `pulumi up` (supabase db push) to apply the missing migrations"
                            : "add the applied migrations to supabase/migrations (supabase migration fetch), or repair the history (supabase migration repair)",
                    ),
                ]);
            }
        }
        // Schema and name apart: either may hold a dot, a space or a quote.
        const tables = (
            await db.query<{ schema: string; name: string; rls: boolean; policies: string }>(
                `select n.nspname as schema, c.relname as name, c.relrowsecurity as rls, (select count(*) from pg_policy p where p.polrelid = c.oid)::text as policies
                 from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p') and n.nspname = any($1) order by 1, 2`,
                [o.exposedSchemas],
            )
        ).rows;
        const noRls = tables.filter((t) => !t.rls);
        const noPolicy = tables.filter((t) => t.rls && t.policies === "0").map((t) => `${t.schema}.${t.name}`);
        const enableRls = noRls.map((t) => enableRlsStatement(t.schema, t.name));
        add("schema", [
            noRls.length === 0
                ? ok("RLS enabled", `on all ${tables.length} tables of ${o.exposedSchemas.join(", ")}`)
                : {
                      ...fail(
                          "RLS enabled",
                          `off on ${noRls.map((t) => `${t.schema}.${t.name}`).join(", ")}`,
                          `add a migration with ${enableRls.join(" ")} (anyone with the anon key can read these tables now)`,
                      ),
                      sql: enableRls,
                  },
            noPolicy.length === 0
                ? ok("policies", `every table with RLS has at least one policy`)
                : fail(
                      "policies",
                      `no policy on ${noPolicy.join(", ")}`,
                      "add a migration with the policies these tables need (with RLS on and no policy, the API can read nothing: an app bug, or a forgotten policy)",
                  ),
        ]);
        const unindexed = (
            await db.query<{ c: string; schema: string; name: string; cols: string[] }>(
                `select con.conname as c, n.nspname as schema, t.relname as name, array_agg(a.attname::text order by k.i) as cols
                 from pg_constraint con
                 cross join lateral unnest(con.conkey) with ordinality k(attnum, i)
                 join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                 join pg_class t on t.oid = con.conrelid
                 join pg_namespace n on n.oid = t.relnamespace
                 where con.contype = 'f' and n.nspname = any($1)
                   and not exists (select 1 from pg_index ix where ix.indrelid = con.conrelid
                                   and (ix.indkey::int2[])[0:array_length(con.conkey, 1) - 1] @> con.conkey and (ix.indkey::int2[])[0:array_length(con.conkey, 1) - 1] <@ con.conkey)
                 group by con.conname, n.nspname, t.relname order by 2, 3, 1`,
                [o.exposedSchemas],
            )
        ).rows;
        const createIndexes = unindexed.map((u) => foreignKeyIndexStatement(u.schema, u.name, u.cols));
        add("schema", [
            unindexed.length === 0
                ? ok("foreign key indexes", "every foreign key has an index leading with its columns")
                : {
                      ...fail(
                          "foreign key indexes",
                          unindexed.map((u) => `${u.schema}.${u.name}(${u.cols.join(", ")}) [${u.c}]`).join(", "),
                          `add a migration with ${createIndexes.join(" ")}`,
                      ),
                      sql: createIndexes,
                  },
        ]);
        add("roles", [await backupLoginCheck(db, ctx)]);
    } finally {
        await db.end().catch(() => undefined);
    }
    return out;
}

/** Which login the backup job dumps with, and whether it can read every table (lib/databaseRoles.ts). */
async function backupLoginCheck(db: Client, ctx: Context): Promise<Check> {
    const logins = (
        await db.query<{ name: string; canLogin: boolean; bypassRls: boolean }>(
            `select rolname as name, rolcanlogin as "canLogin", rolbypassrls as "bypassRls" from pg_roles where rolname = any($1)`,
            [bypassRlsLogins(["backup"])],
        )
    ).rows;
    // The owner (the deployer) is the database's owner; doctor itself may be logged in as the backend's login.
    const [me] = (
        await db.query<{ name: string; superuser: boolean; createRole: boolean; bypassRls: boolean; version: number }>(
            `select r.rolname as name, r.rolsuper as superuser, r.rolcreaterole as "createRole", r.rolbypassrls as "bypassRls",
                    current_setting('server_version_num')::int as version
             from pg_database d join pg_roles r on r.oid = d.datdba where d.datname = current_database()`,
        )
    ).rows;
    const verdict = backupLoginVerdict({
        setting: ctx.backupDatabaseLogin,
        logins,
        owner: { name: me.name, superuser: me.superuser, bypassRls: me.bypassRls },
        deployer: { superuser: me.superuser, createRole: me.createRole, bypassRls: me.bypassRls, serverVersion: me.version },
    });
    return { name: "backup login", ...verdict };
}

async function poolerChecks(ctx: Context): Promise<Check[]> {
    if (!ctx.poolerUrl) return [skip("connects", "no pooler URL: pass --pooler-url, or a stack with poolerEnabled")];
    let db: Client;
    try {
        db = await connect(ctx.poolerUrl, "toolboxai-ops-doctor", { queryTimeoutMs: QUERY_TIMEOUT_MS });
    } catch (err) {
        return [fail("connects", (err as Error).message, connectionFix(err, "the pooler"))];
    }
    try {
        // What a transaction-mode client does: a transaction, then statements outside one; no session state relied on.
        await db.query("begin");
        const inTx = (await db.query<{ n: number }>("select 1 as n")).rows[0].n;
        await db.query("commit");
        const after = (await db.query<{ n: number }>("select 2 as n")).rows[0].n;
        return [
            ok("connects", `connected to ${redactUrl(ctx.poolerUrl)}`),
            inTx === 1 && after === 2
                ? ok("transaction mode", "a transaction and a statement after it ran")
                : fail("transaction mode", "unexpected results", "check the pooler's pool_mode"),
        ];
    } catch (err) {
        return [
            ok("connects", `connected to ${redactUrl(ctx.poolerUrl)}`),
            fail("transaction mode", (err as Error).message, "check the pooler's pool_mode (transaction) and that it reaches the database"),
        ];
    } finally {
        await db.end().catch(() => undefined);
    }
}

async function redisChecks(ctx: Context): Promise<Check[]> {
    if (!ctx.redis) return [skip("TLS PING", "no Redis URL: pass --redis-url (rediss://host:port) or --stack")];
    const { Redis } = await import("ioredis");
    const url = new URL(ctx.redis.url);
    const user = decodeURIComponent(url.username);
    if (!ctx.redis.password)
        return [
            fail(
                "TLS PING",
                `no password for ${user}`,
                "pass --redis-password-file, or --stack with VAULT_ADDR/VAULT_TOKEN (Vault secret redis)",
            ),
        ];
    const client = new Redis({
        host: url.hostname,
        port: Number(url.port || 6380),
        username: user,
        password: ctx.redis.password,
        tls: { ...(ctx.redis.caPem ? { ca: ctx.redis.caPem } : {}), servername: url.hostname },
        lazyConnect: true,
        connectTimeout: 10_000,
        // A server that completes TLS and then never answers: the PING gives up instead of waiting.
        commandTimeout: 10_000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: false,
    });
    let lastError: Error | undefined;
    client.on("error", (err: Error) => (lastError = err));
    try {
        await client.connect();
        const pong = await client.ping();
        return [
            pong === "PONG"
                ? ok("TLS PING", `${user}@${url.host}: PONG over TLS, CA ${ctx.redis.caPem ? "given" : "system"}`)
                : fail("TLS PING", `answered ${pong}`, "check the Redis server"),
        ];
    } catch (err) {
        const e = lastError ?? (err as Error);
        const m = e.message;
        const fix = /certificate|self[- ]signed|unable to verify|CERT/i.test(`${m} ${(e as { code?: string }).code ?? ""}`)
            ? "the server's certificate is not signed by the CA given: use the stack's CA (output docker.redisCaCertPem, or --redis-ca <file>)"
            : /WRONGPASS|NOAUTH|invalid username-password/i.test(m)
              ? `${user}'s password differs from the server's ACL: run \`pulumi up\` (it rewrites the ACL file) or check --redis-password-file`
              : /NOPERM/i.test(m)
                ? `${user} may not PING: the ACL file's healthcheck line`
                : "Redis cannot be reached over TLS: check host, port (6380) and that it runs";
        return [fail("TLS PING", `${user}@${url.host}: ${m}`, fix)];
    } finally {
        // After a failed connect the stream is gone already: disconnect() would then arm a 2 s timer
        // (ioredis' disconnectTimeout) that nothing clears, holding the process that long.
        if (client.status !== "end") client.disconnect();
    }
}

async function vaultChecks(ctx: Context): Promise<Check[]> {
    if (!ctx.vault) return [skip("AppRoles", "no Vault: pass --stack (or --outputs) with VAULT_ADDR and VAULT_TOKEN")];
    const v = ctx.vault;
    const all = [...new Set(Object.values(CONSUMER_READS).flat())];
    const out: Check[] = [];
    for (const consumer of CONSUMERS) {
        const name = `${consumer} AppRole`;
        let session: Awaited<ReturnType<typeof v.client.appRoleToken>>;
        try {
            session = await v.client.appRoleToken(v.appRoleMount, consumer);
        } catch (err) {
            out.push(
                fail(
                    name,
                    `login: ${(err as Error).message}`,
                    "the AppRole or the operator's token: run `pulumi up`; the operator's token needs read on auth/<approle>/role/<name>/role-id and update on .../secret-id",
                ),
            );
            continue;
        }
        const as = v.client.withToken(session.token);
        const problems: string[] = [];
        const own = CONSUMER_READS[consumer];
        for (const leaf of all) {
            const path = `${v.mount}/data/${v.pathPrefix}/${leaf}`;
            try {
                await as.readKv(v.mount, `${v.pathPrefix}/${leaf}`);
                if (!own.includes(leaf)) problems.push(`may read ${path}, another consumer's`);
            } catch (err) {
                if (own.includes(leaf)) problems.push(`cannot read its own ${path}: ${(err as Error).message}`);
                else if (!(err instanceof VaultError && err.status === 403))
                    problems.push(`reading ${path} failed other than with 403: ${(err as Error).message}`);
            }
        }
        await session.cleanup();
        out.push(
            problems.length === 0
                ? ok(name, `logs in, reads ${own.join(", ")}, refused the rest`)
                : fail(
                      name,
                      problems.join("; "),
                      "run `pulumi up`: it rewrites the consumers' policies (lib/credentials.ts CONSUMER_READS)",
                  ),
        );
    }
    return out;
}

/** doctor hashes the newest backup up to this size by default (it downloads the whole object to do so). */
export const DEFAULT_BACKUP_HASH_MAX_MB = 1024;

interface ObjectInspection {
    /** `zstd -dc | pg_restore --list` read the dump's table of contents. */
    toc: { ok: boolean; entries: number; error: string };
    /** The SHA-256 of the whole object, when asked for and read to its end. */
    sha256?: string;
    bytes: number;
    /** Why the whole object could not be read (a stalled or broken download). */
    readError?: string;
}

/**
 * One pass over the object: every byte is hashed, and the bytes go through `zstd -dc | pg_restore
 * --list` until pg_restore has read the table of contents. Without `whole`, the download stops there.
 * The children and the body are ended on every path.
 */
async function inspectObject(body: Readable, whole: boolean): Promise<ObjectInspection> {
    const zstd = spawn("zstd", ["-dc", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
    // zstd's output goes straight to pg_restore (no Node stream between them to stall).
    const list = spawn("pg_restore", ["--list"], { stdio: [zstd.stdout, "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    zstd.stdin.on("error", () => undefined);
    for (const c of [zstd, list]) {
        c.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
        c.on("error", (err) => (stderr += `${err.message} (install zstd and the PostgreSQL client)`));
    }
    list.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const ended = (c: ChildProcess) =>
        new Promise<number | null>((resolve) => {
            c.once("close", resolve);
            // A tool that could not start emits error, and close may never follow.
            c.once("error", () => resolve(null));
        });
    let tocRead = false;
    const listEnded = ended(list).then((code) => {
        tocRead = true;
        // The table of contents is at the start: zstd is not needed after it.
        zstd.stdin.destroy();
        zstd.kill("SIGTERM");
        if (!whole) body.destroy();
        return code;
    });
    /** zstd may take more (or is gone); the listeners go with the wait, however many waits a large object needs. */
    const writable = () =>
        new Promise<void>((resolve) => {
            const done = () => {
                zstd.stdin.off("drain", done).off("close", done);
                resolve();
            };
            zstd.stdin.once("drain", done).once("close", done);
        });
    const hash = createHash("sha256");
    let bytes = 0;
    let readError: string | undefined;
    try {
        try {
            for await (const chunk of body as AsyncIterable<Buffer>) {
                hash.update(chunk);
                bytes += chunk.length;
                if (!tocRead && !zstd.stdin.write(chunk)) await Promise.race([writable(), listEnded]);
            }
        } catch (err) {
            // Ending the download on purpose after the table of contents is no error.
            if (whole || !tocRead) readError = (err as Error).message;
        }
        if (!tocRead) zstd.stdin.end();
        const code = await listEnded;
        const entries = stdout.split("\n").filter((l) => /^\d+;/.test(l)).length;
        return {
            toc: {
                ok: code === 0 && entries > 0,
                entries,
                error: stderr.trim().split("\n").slice(-2).join(" | ") || `pg_restore exit ${code}`,
            },
            sha256: whole && !readError ? hash.digest("hex") : undefined,
            bytes,
            readError,
        };
    } finally {
        body.destroy();
        zstd.kill("SIGTERM");
        list.kill("SIGTERM");
    }
}

async function backupChecks(ctx: Context, o: DoctorOptions): Promise<Check[]> {
    if (!ctx.s3) return [skip("newest backup", "no bucket: pass --bucket (and --s3-endpoint for S3-compatible stores) or --stack")];
    const s = ctx.s3;
    const client = opsS3Client(s);
    try {
        let backups;
        try {
            backups = await listBackups(client, s);
        } catch (err) {
            return [
                fail(
                    "newest backup",
                    `cannot list s3://${s.bucket}/${s.prefix}/: ${(err as Error).name}: ${(err as Error).message}`,
                    LIST_FIX,
                ),
            ];
        }
        const [newest, previous] = backups;
        if (!newest)
            return [
                fail(
                    "newest backup",
                    `no backup under s3://${s.bucket}/${s.prefix}/`,
                    "check the backup service's logs (docker service logs / docker logs of the backup container) and its health",
                ),
            ];
        const now = o.now ?? new Date();
        const age = backupAgeVerdict(newest.takenAt, now, scheduleIntervalMs(ctx.schedule, now));
        const out: Check[] = [];
        const ageEvidence = `${newest.key}, ${age.ageHours.toFixed(1)} h old (limit ${age.limitHours} h: schedule "${ctx.schedule}" plus grace)`;
        out.push(
            age.status === "pass"
                ? ok("newest backup", ageEvidence)
                : fail(
                      "newest backup",
                      ageEvidence,
                      "the nightly backup is not running or failing: check the backup container's health and logs (event backup.failed names the stage)",
                  ),
        );

        const head = await headBackup(client, s, newest.key);
        const enc = encryptionVerdict(s.sse, s.kmsKeyArn, head.ServerSideEncryption, head.SSEKMSKeyId);
        out.push({ name: "encryption", ...enc });

        const size = sizeDropVerdict(newest.bytes, previous?.bytes);
        const sizeEvidence = previous
            ? `${newest.bytes} bytes, the one before ${previous.bytes} bytes (${((newest.bytes / previous.bytes) * 100).toFixed(0)}%)`
            : `${newest.bytes} bytes, no earlier backup to compare`;
        out.push(
            size === "pass"
                ? ok("size", sizeEvidence)
                : fail(
                      "size",
                      sizeEvidence,
                      `the newest backup is below ${SIZE_DROP_RATIO * 100}% of the one before: check for deleted data (restore both into scratch databases with ops restore and compare), or a narrower BACKUP_SCHEMAS`,
                  ),
        );

        // The manifest's SHA-256 is of the stored (compressed) object, as the backup job streamed it.
        let manifest: Manifest | undefined;
        let hashCheck: Check | undefined;
        try {
            manifest = await readManifest(client, s, newest.key);
        } catch (err) {
            hashCheck =
                err instanceof ManifestError && err.missing
                    ? warn(
                          "SHA-256",
                          `no manifest beside ${newest.key}: its SHA-256 cannot be checked (a backup from before manifests, or writing it failed)`,
                          "take a new backup (docker exec <backup container> node /app/backup-job.js run) and check the job's log for stage storage; ops restore needs the manifest",
                      )
                    : fail("SHA-256", (err as Error).message, "the manifest is unreadable: take a new backup and check the job's log");
        }
        const maxBytes = (o.backupHashMaxMb ?? DEFAULT_BACKUP_HASH_MAX_MB) * 1048576;
        if (manifest && manifest.bytes !== newest.bytes)
            hashCheck = fail(
                "SHA-256",
                `${newest.key} is ${newest.bytes} bytes, its manifest says ${manifest.bytes}: the object is not the one the backup job wrote`,
                CORRUPT_FIX,
            );
        else if (manifest && newest.bytes > maxBytes)
            hashCheck = skip(
                "SHA-256",
                `not checked: ${(newest.bytes / 1048576).toFixed(0)} MiB is above --backup-hash-max-mb ${o.backupHashMaxMb ?? DEFAULT_BACKUP_HASH_MAX_MB}; run ops drill (it checks the hash), or raise the limit`,
            );
        const whole = Boolean(manifest) && !hashCheck;

        const object = await getObjectBounded(client, s, newest.key);
        const read = await inspectObject(object.Body as Readable, whole);
        out.push(
            read.toc.ok
                ? ok("pg_restore --list", `${read.toc.entries} entries in its table of contents`)
                : fail(
                      "pg_restore --list",
                      read.toc.error,
                      "the object does not read as a pg_dump archive: run `ops drill`; take a new backup (docker exec <backup container> node /app/backup-job.js run)",
                  ),
        );
        if (whole && manifest) {
            if (read.sha256 === undefined)
                hashCheck = fail(
                    "SHA-256",
                    `${newest.key}: the download broke off after ${read.bytes} of ${newest.bytes} bytes (${read.readError ?? "unknown"})`,
                    "run doctor again; if it persists, check the network to the bucket",
                );
            else
                hashCheck =
                    read.sha256 === manifest.sha256
                        ? ok("SHA-256", `${read.bytes} bytes hashed: ${read.sha256}, equal to the manifest's`)
                        : fail(
                              "SHA-256",
                              `${newest.key}: SHA-256 ${read.sha256} differs from the manifest's ${manifest.sha256} (same size: the bytes changed)`,
                              CORRUPT_FIX,
                          );
        }
        out.push(hashCheck!);
        return out;
    } finally {
        client.destroy();
    }
}

const CORRUPT_FIX =
    "the newest backup is corrupt: do not rely on it; take a new backup now (docker exec <backup container> node /app/backup-job.js run), then find out what changed the object (bucket versioning keeps the written version)";

/** Further groups (an extension registers its own); the hosted project's group is built in (ops/hosted.ts). */
export const extraCheckGroups: { group: string; run: CheckGroup }[] = [];

export async function doctor(ctx: Context, o: DoctorOptions): Promise<CheckResult[]> {
    const tag = (group: string) => (checks: Check[]) => checks.map((c) => ({ group, ...c }));
    const guard = async (group: string, run: () => Promise<Check[]>): Promise<CheckResult[]> => {
        try {
            return tag(group)(await run());
        } catch (err) {
            return [
                {
                    group,
                    name: "checks",
                    status: "fail" as Status,
                    evidence: `unexpected error: ${(err as Error).message}`,
                    fix: "see the error; report it if it persists",
                },
            ];
        }
    };
    const skipped = (group: string) => (o.skip ?? []).includes(group);
    const skipAll = (group: string) => Promise.resolve(tag(group)([skip("checks", "skipped (--skip)")]));
    const groups = await Promise.all([
        skipped("database")
            ? skipAll("database")
            : databaseChecks(ctx, o).catch((err: unknown) => [
                  {
                      group: "database",
                      name: "checks",
                      status: "fail" as Status,
                      evidence: `unexpected error: ${(err as Error).message}`,
                      fix: "see the error",
                  },
              ]),
        skipped("pooler") ? skipAll("pooler") : guard("pooler", () => poolerChecks(ctx)),
        skipped("redis") ? skipAll("redis") : guard("redis", () => redisChecks(ctx)),
        skipped("vault") ? skipAll("vault") : guard("vault", () => vaultChecks(ctx)),
        skipped("backups") ? skipAll("backups") : guard("backups", () => backupChecks(ctx, o)),
        skipped("hosted") ? skipAll("hosted") : guard("hosted", () => hostedChecks(ctx)),
        ...extraCheckGroups.map((g) => guard(g.group, () => g.run(ctx, o))),
    ]);
    return groups.flat();
}
