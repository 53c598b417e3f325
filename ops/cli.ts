/**
 * The operations tool: `npm run ops -- <command> [options]` or the `toolboxai-ops` bin.
 *   doctor   checks database, pooler, connections, schema, Redis, Vault, backups and the hosted project
 *   restore  restores a backup (verified by SHA-256 first) and compares row counts with its manifest
 *   drill    restores the newest backup into a scratch database, verifies it, reports its age and the RTO
 *   import   copies an old database's data into the migrated schema in one transaction, committed only if verified
 *   unban    lifts the hosted project's network ban on one IPv4 address (after a rotation left a host banned)
 * Exit codes: 0 all well, 1 a check or step failed, 2 bad usage, 130/143 import stopped by
 * SIGINT/SIGTERM (its target rolled back). docs/operations/ops-tool.md.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { EXIT, exitCodeOf, redactUrl, urlProblem, type CheckResult, type UrlKind } from "../lib/ops/rules";
import { resolveContext, UsageError, type CommonFlags } from "./context";
import { DEFAULT_BACKUP_HASH_MAX_MB, doctor, DOCTOR_GROUPS } from "./doctor";
import { ImportRefused } from "./import";
import { runImport } from "./importCommand";
import { checksTable, progress, table } from "./output";
import { banCountsOf, doctorMetrics, drillMetrics } from "../lib/monitoring/textfile";
import { checkMetricsFile, writeMetricsFile } from "./metricsFile";
import { liftBan, unbanReport } from "./bans";
import { pitrReport, restorePointInTime } from "./pitr";
import { drill, RefusedError, restore, type RestoreResult } from "./restore";

const COMMON = {
    stack: { type: "string" },
    outputs: { type: "string" },
    "database-url": { type: "string" },
    "pooler-url": { type: "string" },
    "s3-endpoint": { type: "string" },
    bucket: { type: "string" },
    prefix: { type: "string" },
    region: { type: "string" },
    "aws-credentials-file": { type: "string" },
    "redis-url": { type: "string" },
    "redis-ca": { type: "string" },
    "redis-password-file": { type: "string" },
    "vault-addr": { type: "string" },
    schedule: { type: "string" },
    "migrations-dir": { type: "string" },
    "project-ref": { type: "string" },
    "management-api-url": { type: "string" },
    "access-token-file": { type: "string" },
    "app-ipv4": { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
} as const;

const COMMANDS = {
    doctor: {
        "long-query-seconds": { type: "string", default: "300" },
        "exposed-schemas": { type: "string", default: "public" },
        skip: { type: "string", default: "" },
        "backup-hash-max-mb": { type: "string", default: String(DEFAULT_BACKUP_HASH_MAX_MB) },
        "metrics-file": { type: "string" },
    },
    restore: {
        key: { type: "string", default: "latest" },
        target: { type: "string" },
        clean: { type: "boolean", default: false },
        jobs: { type: "string" },
        "work-dir": { type: "string" },
        // The hosted project's point-in-time restore (ops/pitr.ts).
        "point-in-time": { type: "string" },
        confirm: { type: "string" },
        "dry-run": { type: "boolean", default: false },
    },
    drill: {
        server: { type: "string" },
        keep: { type: "boolean", default: false },
        jobs: { type: "string" },
        "work-dir": { type: "string" },
        "metrics-file": { type: "string" },
    },
    unban: {
        address: { type: "string" },
        confirm: { type: "string" },
        "dry-run": { type: "boolean", default: false },
    },
    import: {
        from: { type: "string" },
        schemas: { type: "string", default: "public" },
        truncate: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        jobs: { type: "string" },
    },
} as const;

type Command = keyof typeof COMMANDS;

export const USAGE = `usage: ops <doctor|restore|drill|import|unban> [options]   (docs/operations/ops-tool.md)
  where things are:  --stack <name> | --outputs <file>   (credentials from Vault: VAULT_ADDR, VAULT_TOKEN)
                     --database-url --pooler-url --s3-endpoint --bucket --prefix --region --aws-credentials-file
                     --redis-url --redis-ca --redis-password-file --vault-addr --schedule --migrations-dir
                     --project-ref --management-api-url --access-token-file   (or SUPABASE_ACCESS_TOKEN; never the token as a flag)
                     --app-ipv4 <addresses>   (the application hosts' egress IPv4; default the stack's applicationEgressIpv4)
  doctor   [--long-query-seconds 300] [--exposed-schemas public] [--skip redis,vault,...] [--backup-hash-max-mb 1024] [--metrics-file <dir>/doctor.prom]
  restore  --target <database url> [--key latest|<key>] [--clean] [--jobs N] [--work-dir DIR]
  restore  --point-in-time <ISO time with zone> --confirm <project ref> [--dry-run]   (the hosted project, in place)
  drill    --server <database url> [--keep] [--jobs N] [--work-dir DIR] [--metrics-file <dir>/drill.prom]
  import   --from <old database url> [--schemas public] [--truncate] [--dry-run] [--jobs N]
  unban    --address <IPv4> --confirm <project ref> [--dry-run]   (lifts the hosted project's network ban on that address)
  --json   machine-readable result on stdout
  --metrics-file  also write the result for node_exporter's textfile collector (docs/operations/monitoring.md)
exit codes: 0 all well, 1 a check or step failed, 2 bad usage, 130/143 import stopped by SIGINT/SIGTERM (target rolled back)`;

function positiveInt(name: string, value: string | undefined, fallback: number, max = 256, min = 1): number {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
        throw new UsageError(`--${name} ${JSON.stringify(value)}: must be a whole number from ${min} to ${max}`);
    return Number(value);
}

function need(name: string, value: string | undefined, what: string): string {
    if (!value) throw new UsageError(`--${name} is required: ${what}`);
    return value;
}

/** Every flag that takes a URL, and what it must point at. */
const URL_FLAGS: Record<string, UrlKind> = {
    "database-url": "postgres",
    "pooler-url": "postgres",
    from: "postgres",
    target: "postgres",
    server: "postgres",
    "redis-url": "redis",
    "s3-endpoint": "http",
    "vault-addr": "http",
    "management-api-url": "http",
};

/** Every URL flag given is checked before anything connects; the value is shown only redacted. */
function checkUrlFlags(values: Record<string, string | boolean | undefined>): void {
    for (const [flag, kind] of Object.entries(URL_FLAGS)) {
        const value = values[flag];
        if (typeof value !== "string") continue;
        const problem = urlProblem(value, kind);
        if (problem) throw new UsageError(`--${flag} ${JSON.stringify(redactUrl(value))}: ${problem}`);
    }
}

/** Flags naming a file or directory that must exist before anything starts. */
const PATH_FLAGS: Record<string, "file" | "directory"> = {
    "aws-credentials-file": "file",
    "migrations-dir": "directory",
    "work-dir": "directory",
};

function checkPathFlags(values: Record<string, string | boolean | undefined>): void {
    for (const [flag, kind] of Object.entries(PATH_FLAGS)) {
        const path = values[flag];
        if (typeof path !== "string") continue;
        let isKind: boolean;
        try {
            isKind = kind === "file" ? statSync(path).isFile() : statSync(path).isDirectory();
        } catch (err) {
            throw new UsageError(
                `--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"}); must be an existing ${kind}`,
            );
        }
        if (!isKind) throw new UsageError(`--${flag} ${path}: must be an existing ${kind}`);
    }
}

/**
 * parseArgs' own messages repeat a stray argument verbatim (it may be a URL with a password):
 * these name the flag or the argument's position only.
 */
function commandLineProblem(err: unknown, args: string[], options: NonNullable<ParseArgsConfig["options"]>): string {
    const code = (err as { code?: string }).code;
    const { tokens } = parseArgs({ args, options, strict: false, tokens: true, allowPositionals: true });
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
        const unknown = tokens.find((t) => t.kind === "option" && !(t.name in options));
        return `unknown option ${unknown?.kind === "option" ? unknown.rawName : ""}`.trim();
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
        const stray = tokens.find((t) => t.kind === "positional");
        const where = stray ? `word ${stray.index + 2} after "ops"; ` : "";
        return `unexpected argument (${where}not shown: it may hold a password): every value follows its flag, as in --from <url>`;
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
        for (const t of tokens) {
            if (t.kind !== "option" || !(t.name in options)) continue;
            if (options[t.name].type === "boolean" && t.value !== undefined) return `${t.rawName} takes no value`;
            if (options[t.name].type === "string" && t.value === undefined) return `${t.rawName} needs a value`;
            if (options[t.name].type === "string" && !t.inlineValue && t.value?.startsWith("-"))
                return `${t.rawName}: its value starts with "-"; write it as ${t.rawName}=<value>`;
        }
    }
    return `cannot read the command line (${code ?? "error"})`;
}

export interface Outcome {
    code: number;
    stdout: string;
    stderr: string;
}

function restoreRows(r: RestoreResult): string {
    return table(
        ["table", "manifest", "restored", ""],
        r.tables.map((t) => [t.table, String(t.manifest), t.restored === null ? "missing" : String(t.restored), t.ok ? "ok" : "DIFFERS"]),
    );
}

/** restore's and drill's report for people: the summary, the row-count table, and what differs. */
function restoreReport(summary: string, r: RestoreResult): string {
    const verdict = r.problems.length
        ? `\nrow counts differ:\n  ${r.problems.join("\n  ")}\n`
        : "\nevery table's row count equals the manifest's\n";
    return `${summary}\n\n${restoreRows(r)}\n${verdict}`;
}

/** Runs one command line; returns what to print and the exit code (the bin and the tests share this). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
    const command = argv[0] as Command;
    const err = (code: number, message: string, json: boolean): Outcome =>
        json
            ? { code, stdout: `${JSON.stringify({ ok: false, error: message })}\n`, stderr: `${message}\n` }
            : { code, stdout: "", stderr: `${message}\n` };
    if (!command || command === ("--help" as Command) || command === ("-h" as Command))
        return { code: command ? EXIT.ok : EXIT.usage, stdout: command ? `${USAGE}\n` : "", stderr: command ? "" : `${USAGE}\n` };
    if (!(command in COMMANDS)) return err(EXIT.usage, `unknown command ${JSON.stringify(command)}\n${USAGE}`, false);
    let values: Record<string, string | boolean | undefined>;
    const options = { ...COMMON, ...COMMANDS[command] };
    try {
        values = parseArgs({ args: argv.slice(1), options, strict: true, allowPositionals: false }).values as Record<
            string,
            string | boolean | undefined
        >;
    } catch (e) {
        return err(EXIT.usage, `${commandLineProblem(e, argv.slice(1), options)}\n${USAGE}`, argv.includes("--json"));
    }
    const json = Boolean(values.json);
    if (values.help) return { code: EXIT.ok, stdout: `${USAGE}\n`, stderr: "" };
    const progressOut = json ? undefined : progress();
    try {
        checkUrlFlags(values);
        checkPathFlags(values);
        const metricsFile = values["metrics-file"] as string | undefined;
        if (metricsFile !== undefined) checkMetricsFile(metricsFile);
        // The hosted project's commands need neither Vault nor a database password (least privilege).
        const hostedOnly = command === "unban" || (command === "restore" && values["point-in-time"] !== undefined);
        const ctx = await resolveContext(values as CommonFlags, env, { hostedOnly });
        if (command === "doctor") {
            const longQuerySeconds = positiveInt("long-query-seconds", values["long-query-seconds"] as string, 300, 86_400);
            const exposedSchemas = String(values["exposed-schemas"])
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean);
            const skip = String(values.skip)
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean);
            const unknown = skip.filter((g) => !(DOCTOR_GROUPS as readonly string[]).includes(g));
            if (unknown.length) throw new UsageError(`--skip ${unknown.join(",")}: must be groups of ${DOCTOR_GROUPS.join(", ")}`);
            const backupHashMaxMb = positiveInt(
                "backup-hash-max-mb",
                values["backup-hash-max-mb"] as string,
                DEFAULT_BACKUP_HASH_MAX_MB,
                1 << 20,
                0,
            );
            const results: CheckResult[] = await doctor(ctx, { longQuerySeconds, exposedSchemas, skip, backupHashMaxMb });
            if (results.every((r) => r.status === "skip"))
                throw new UsageError(
                    "nothing to check: pass --stack (or --outputs) with VAULT_ADDR/VAULT_TOKEN, or the endpoints (--database-url, --bucket, --redis-url, --project-ref, ...)",
                );
            const code = exitCodeOf(results);
            const report = json ? `${JSON.stringify({ ok: code === 0, checks: results })}\n` : checksTable(results);
            // A file that cannot be written fails the command, but the checks' results are still printed.
            if (metricsFile !== undefined)
                try {
                    writeMetricsFile(metricsFile, doctorMetrics({ finishedAt: new Date(), bans: banCountsOf(results) }));
                } catch (err) {
                    return { code: EXIT.failed, stdout: report, stderr: `${(err as Error).message}\n` };
                }
            return { code, stdout: report, stderr: "" };
        }
        if (command === "restore" && values["point-in-time"] === undefined && (values.confirm !== undefined || values["dry-run"]))
            throw new UsageError("--confirm and --dry-run belong to --point-in-time (the hosted project's restore)");
        if (command === "restore" && values["point-in-time"] !== undefined) {
            if (values.target !== undefined) throw new UsageError("--point-in-time restores the hosted project in place: drop --target");
            const r = await restorePointInTime(ctx.hosted, {
                time: String(values["point-in-time"]),
                confirm: values.confirm as string | undefined,
                dryRun: Boolean(values["dry-run"]),
            });
            return { code: r.ok ? EXIT.ok : EXIT.failed, stdout: json ? `${JSON.stringify(r)}\n` : pitrReport(r), stderr: "" };
        }
        if (command === "unban") {
            const r = await liftBan(ctx.hosted, {
                address: values.address as string | undefined,
                confirm: values.confirm as string | undefined,
                dryRun: Boolean(values["dry-run"]),
            });
            return { code: EXIT.ok, stdout: json ? `${JSON.stringify(r)}\n` : unbanReport(r), stderr: "" };
        }
        if (command === "restore" || command === "drill") {
            if (!ctx.s3)
                throw new UsageError("no bucket: pass --bucket (with --s3-endpoint for an S3-compatible store) or --stack/--outputs");
            const jobs = positiveInt("jobs", values.jobs as string | undefined, Math.max(2, availableParallelism()));
            const common = { s3: ctx.s3, jobs, workDir: values["work-dir"] as string | undefined, progress: progressOut };
            if (command === "restore") {
                const target = need("target", values.target as string, "the database URL to restore into");
                const r = await restore({ ...common, key: String(values.key), target, clean: Boolean(values.clean) });
                const summary = `restored ${r.key} (${r.bytes} bytes, SHA-256 ${r.sha256} matches the manifest) into ${redactUrl(target)} with ${r.jobs} jobs: download ${(r.downloadMs / 1000).toFixed(1)} s, pg_restore ${(r.restoreMs / 1000).toFixed(1)} s`;
                return {
                    code: r.ok ? EXIT.ok : EXIT.failed,
                    stdout: json ? `${JSON.stringify(r)}\n` : restoreReport(summary, r),
                    stderr: "",
                };
            }
            const server = need("server", values.server as string, "a database URL on the server to create the scratch database on");
            const startedAt = Date.now();
            // A drill that stops with an error failed too: the alert must hear of it.
            const recordDrill = (ok: boolean) =>
                metricsFile !== undefined &&
                writeMetricsFile(
                    metricsFile,
                    drillMetrics({ ok, finishedAt: new Date(), durationSeconds: (Date.now() - startedAt) / 1000 }),
                );
            const r = await drill({ ...common, server, keep: Boolean(values.keep) }).catch((e: unknown) => {
                // The drill's own error is what the operator needs: a failed write is added to it, never put in its place.
                try {
                    recordDrill(false);
                } catch (writeErr) {
                    if (e instanceof Error) e.message = `${e.message} (and ${(writeErr as Error).message})`;
                }
                throw e;
            });
            recordDrill(r.ok);
            const summary = `drill: ${r.key}, ${r.backupAgeHours} h old, restored into ${r.scratchDatabase}${r.kept ? " (kept)" : " (dropped)"} in ${r.rtoSeconds} s (download, verify, restore and count: the RTO this backup allows)`;
            return {
                code: r.ok ? EXIT.ok : EXIT.failed,
                stdout: json ? `${JSON.stringify(r)}\n` : restoreReport(summary, r),
                stderr: "",
            };
        }
        // import
        const from = need("from", values.from as string, "the old database's URL");
        const target = need(
            "database-url",
            ctx.ownerDatabaseUrl,
            "the target database, as the owner of its tables (or --stack with Vault)",
        );
        const schemas = String(values.schemas)
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
        const jobs = positiveInt("jobs", values.jobs as string | undefined, Math.max(2, availableParallelism()));
        return await runImport(
            { from, target, schemas, truncate: Boolean(values.truncate), dryRun: Boolean(values["dry-run"]), jobs, progress: progressOut },
            json,
        );
    } catch (e) {
        if (e instanceof UsageError) return err(EXIT.usage, e.message, json);
        const kind = e instanceof RefusedError || e instanceof ImportRefused ? "refused" : "failed";
        return err(EXIT.failed, `${command} ${kind}: ${(e as Error).message}`, json);
    }
}
