/**
 * Where the tool's endpoints and credentials come from: the stack's outputs (`pulumi stack output
 * --json --show-secrets`, or --outputs <file>), credentials from Vault by the paths in those
 * outputs, and flags, which win over both. Nothing here prints a secret.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEFAULT_BACKUP_SCHEDULE } from "../lib/backup";
import type { BackupDatabaseLogin } from "../lib/config/backup";
import { managementUrl, projectRef } from "../lib/config/parsers";
import { redisUsername } from "../lib/credentials";
import { redactUrl, urlProblem } from "../lib/ops/rules";
import { postgresUrl } from "../lib/postgres";
import { parseIpv4List } from "../lib/supabase/bans";
import { DEFAULT_MANAGEMENT_API_URL } from "../lib/supabase/client";
import type { SplitCidrs } from "../lib/supabase/rules";
import { VaultClient, VaultError } from "./vault";

const run = promisify(execFile);

export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

/** The flags every command shares (strings as parseArgs gives them). */
export interface CommonFlags {
    stack?: string;
    outputs?: string;
    "database-url"?: string;
    "pooler-url"?: string;
    "s3-endpoint"?: string;
    bucket?: string;
    prefix?: string;
    region?: string;
    "aws-credentials-file"?: string;
    "redis-url"?: string;
    "redis-ca"?: string;
    "redis-password-file"?: string;
    "vault-addr"?: string;
    schedule?: string;
    "migrations-dir"?: string;
    "project-ref"?: string;
    "management-api-url"?: string;
    "access-token-file"?: string;
    /** The application hosts' egress IPv4 addresses (comma-separated): doctor fails when one is banned. */
    "app-ipv4"?: string;
}

/** The parts of the stack outputs (index.ts) the tool reads. */
export interface StackOutputs {
    database?: {
        host: string;
        port: number;
        name: string;
        sslMode: string;
        /** Absent in a stack deployed before it was an output. */
        ownerUser?: string;
        pooler: { host: string; port: number; user: string } | null;
    };
    vault?: { address: string; mount: string; pathPrefix: string; appRoleMount: string; policies: Record<string, string> };
    backup?: {
        bucketName: string;
        region: string;
        prefix: string;
        kmsKeyArn: string | null;
        schedule: string | null;
        /** Absent in a stack deployed before the setting existed. */
        databaseLogin?: BackupDatabaseLogin;
    };
    docker?: { redisEndpoint: string; redisCaCertPem: string };
    /** null for a local stack (no hosted project). */
    supabaseProject?: {
        ref: string;
        managementApiUrl: string;
        legacyKeysEnabled?: boolean;
        databaseAllowedCidrs?: SplitCidrs;
        /** applicationEgressIpv4; null when not set. */
        applicationEgressIpv4?: string[] | null;
    } | null;
}

export interface Context {
    /** doctor's database: read-only where the stack gives it (the backup's login), or what --database-url says. */
    databaseUrl?: string;
    /** import's target: the owner of the stack's tables, or what --database-url says. */
    ownerDatabaseUrl?: string;
    poolerUrl?: string;
    s3?: {
        endpoint?: string;
        bucket: string;
        prefix: string;
        region: string;
        credentialsFile?: string;
        sse?: "AES256" | "aws:kms";
        kmsKeyArn?: string;
    };
    schedule: string;
    /** The backup job's database login as the stack set it (backupDatabaseLogin); absent without stack outputs. */
    backupDatabaseLogin?: BackupDatabaseLogin;
    redis?: { url: string; caPem?: string; password?: string };
    vault?: { client: VaultClient; mount: string; pathPrefix: string; appRoleMount: string };
    migrationsDir: string;
    /** The hosted project the Management API checks look at; absent: why the group is skipped. */
    hosted?: {
        ref: string;
        apiUrl: string;
        /** Undefined when neither SUPABASE_ACCESS_TOKEN nor --access-token-file gives one. */
        token?: string;
        /** Where the token came from, named in errors (never the value). */
        tokenSource: string;
        /** What the stack applied; absent when the outputs do not say (flags only). */
        expectedCidrs?: SplitCidrs;
        expectedLegacyKeys?: boolean;
        /** The application hosts' addresses (--app-ipv4, else the stack's applicationEgressIpv4); absent: unknown. */
        applicationHosts?: string[];
    };
    hostedSkipReason?: string;
    /** Where each setting came from, for the doctor's evidence. */
    sources: Record<string, "flag" | "stack" | "vault">;
}

/** A file a flag names; a missing or unreadable one is a usage error naming the flag (never the content). */
function readFlagFile(flag: string, path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch (err) {
        throw new UsageError(`--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
}

export const DEFAULT_MIGRATIONS_DIR = join(__dirname, "..", "supabase", "migrations");

export async function loadOutputs(flags: CommonFlags): Promise<StackOutputs | undefined> {
    if (flags.outputs) {
        try {
            return JSON.parse(readFileSync(flags.outputs, "utf8")) as StackOutputs;
        } catch (err) {
            throw new UsageError(`--outputs ${flags.outputs}: cannot read stack outputs JSON (${(err as Error).message})`);
        }
    }
    if (!flags.stack) return undefined;
    try {
        const { stdout } = await run("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", flags.stack], {
            timeout: 60_000,
            maxBuffer: 1 << 24,
        });
        return JSON.parse(stdout) as StackOutputs;
    } catch (err) {
        const e = err as { code?: string; stderr?: string; message: string };
        if (e.code === "ENOENT")
            throw new UsageError(
                `--stack ${flags.stack}: the pulumi CLI is not installed; install it (https://www.pulumi.com/docs/install/) or pass --outputs <file> from \`pulumi stack output --json --show-secrets\``,
            );
        // stderr of pulumi names the problem (not logged in, no such stack); it holds no secret.
        throw new UsageError(
            `--stack ${flags.stack}: pulumi stack output failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-2).join(" ")}`,
        );
    }
}

/**
 * Resolves every endpoint: flags first, then the stack's outputs with credentials from Vault.
 * `hostedOnly` (unban, restore --point-in-time): only the hosted project, which needs no Vault and
 * no database password; an unreachable Vault must not stop them in an incident.
 */
export async function resolveContext(
    flags: CommonFlags,
    env: NodeJS.ProcessEnv = process.env,
    options: { hostedOnly?: boolean } = {},
): Promise<Context> {
    const outputs = await loadOutputs(flags);
    const sources: Context["sources"] = {};
    const ctx: Context = {
        schedule: flags.schedule ?? outputs?.backup?.schedule ?? DEFAULT_BACKUP_SCHEDULE,
        backupDatabaseLogin: outputs?.backup?.databaseLogin,
        migrationsDir: flags["migrations-dir"] ?? DEFAULT_MIGRATIONS_DIR,
        sources,
    };
    if (options.hostedOnly) {
        resolveHosted(ctx, flags, outputs, env);
        return ctx;
    }

    const vaultAddr = flags["vault-addr"] ?? env.VAULT_ADDR ?? outputs?.vault?.address;
    // The flag was checked with the others (ops/cli.ts); the environment's value is checked here, by its name.
    if (!flags["vault-addr"] && env.VAULT_ADDR !== undefined && outputs?.vault) {
        const problem = urlProblem(env.VAULT_ADDR, "http");
        if (problem) throw new UsageError(`VAULT_ADDR ${JSON.stringify(redactUrl(env.VAULT_ADDR))}: ${problem}`);
    }
    if (outputs?.vault && vaultAddr && env.VAULT_TOKEN) {
        ctx.vault = {
            client: new VaultClient(vaultAddr, env.VAULT_TOKEN),
            mount: outputs.vault.mount,
            pathPrefix: outputs.vault.pathPrefix,
            appRoleMount: outputs.vault.appRoleMount,
        };
    }
    const kv = async (leaf: string): Promise<Record<string, string> | undefined> =>
        ctx.vault ? ctx.vault.client.readKv(ctx.vault.mount, `${ctx.vault.pathPrefix}/${leaf}`) : undefined;

    // Database: each command gets the least it needs (docs/operations/database-roles.md#what-the-ops-tool-logs-in-as).
    // doctor only reads: the backup's read-only login, which reads every table (else the backend's
    // login in supabase.database_url, which reads no migration history); import writes as the owner.
    const direct = outputs?.database;
    const at = (user: string, password: string) =>
        postgresUrl({ user, password, host: direct!.host, port: direct!.port, database: direct!.name, sslMode: direct!.sslMode });
    if (flags["database-url"]) {
        [ctx.databaseUrl, sources.database] = [flags["database-url"], "flag"];
        ctx.ownerDatabaseUrl = flags["database-url"];
    } else if (ctx.vault) {
        // A stack without the backup's own login (backupDatabaseLogin owner, or no backup job) has no such path.
        const backup = direct
            ? await kv("database/backup").catch((err: unknown) => {
                  if (err instanceof VaultError && err.status === 404) return undefined;
                  throw err;
              })
            : undefined;
        const url = backup?.username && backup.password ? at(backup.username, backup.password) : (await kv("supabase"))?.database_url;
        if (url) [ctx.databaseUrl, sources.database] = [url, "vault"];
        const owner = direct?.ownerUser ? (await kv("database"))?.password : undefined;
        if (owner) ctx.ownerDatabaseUrl = at(direct!.ownerUser!, owner);
    }
    if (flags["pooler-url"]) [ctx.poolerUrl, sources.pooler] = [flags["pooler-url"], "flag"];
    else if (outputs?.database?.pooler && ctx.vault) {
        const password = (await kv("database"))?.password;
        const p = outputs.database.pooler;
        if (password) {
            const url = postgresUrl({
                user: p.user,
                password,
                host: p.host,
                port: p.port,
                database: outputs.database.name,
                sslMode: outputs.database.sslMode,
            });
            [ctx.poolerUrl, sources.pooler] = [url, "vault"];
        }
    }

    const b = outputs?.backup;
    const bucket = flags.bucket ?? b?.bucketName;
    if (bucket) {
        ctx.s3 = {
            endpoint: flags["s3-endpoint"],
            bucket,
            prefix: flags.prefix ?? b?.prefix ?? "supabase",
            region: flags.region ?? b?.region ?? env.AWS_REGION ?? "eu-central-1",
            credentialsFile: flags["aws-credentials-file"],
            sse: b ? (b.kmsKeyArn ? "aws:kms" : "AES256") : undefined,
            kmsKeyArn: b?.kmsKeyArn ?? undefined,
        };
        sources.s3 = flags.bucket ? "flag" : "stack";
    }

    const redisUrl =
        flags["redis-url"] ??
        (outputs?.docker?.redisEndpoint ? `rediss://${outputs.docker.redisEndpoint.replace(/^rediss?:\/\//, "")}` : undefined);
    if (redisUrl) {
        const caPem = flags["redis-ca"] ? readFlagFile("redis-ca", flags["redis-ca"]) : outputs?.docker?.redisCaCertPem;
        let password: string | undefined;
        // The health-check user, which may only PING, unless the URL names another.
        const url = new URL(redisUrl);
        if (!url.username) url.username = redisUsername("healthcheck");
        if (flags["redis-password-file"]) password = readFlagFile("redis-password-file", flags["redis-password-file"]).trim();
        else if (ctx.vault) password = (await kv("redis"))?.[decodeURIComponent(url.username)];
        ctx.redis = { url: url.toString(), caPem, password };
        sources.redis = flags["redis-url"] ? "flag" : "stack";
    }
    resolveHosted(ctx, flags, outputs, env);
    return ctx;
}

/**
 * The hosted project: --project-ref and --management-api-url win over the stack's supabaseProject
 * output. The token comes from SUPABASE_ACCESS_TOKEN or --access-token-file only: a flag value
 * would sit in the shell history and the process list.
 */
function resolveHosted(ctx: Context, flags: CommonFlags, outputs: StackOutputs | undefined, env: NodeJS.ProcessEnv): void {
    const project = outputs?.supabaseProject ?? undefined;
    const ref = flags["project-ref"] ?? project?.ref;
    if (flags["project-ref"] !== undefined) {
        const r = projectRef(flags["project-ref"]);
        if (!r.ok) throw new UsageError(`--project-ref ${JSON.stringify(flags["project-ref"])}: ${r.allowed}`);
    }
    const apiUrl = flags["management-api-url"] ?? project?.managementApiUrl ?? DEFAULT_MANAGEMENT_API_URL;
    if (flags["management-api-url"] !== undefined) {
        const r = managementUrl(flags["management-api-url"]);
        if (!r.ok) throw new UsageError(`--management-api-url ${JSON.stringify(redactUrl(flags["management-api-url"]))}: ${r.allowed}`);
    }
    let token: string | undefined;
    let tokenSource = "SUPABASE_ACCESS_TOKEN";
    if (flags["access-token-file"]) {
        tokenSource = `--access-token-file ${flags["access-token-file"]}`;
        try {
            token = readFileSync(flags["access-token-file"], "utf8").trim();
        } catch (err) {
            throw new UsageError(`${tokenSource}: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`);
        }
    } else token = env.SUPABASE_ACCESS_TOKEN?.trim() || undefined;
    if (!ref) {
        ctx.hostedSkipReason =
            outputs?.supabaseProject === null
                ? "local stack: its supabaseProject output is null (supabaseMode local), there is no hosted project to check"
                : "no hosted project: pass --stack (or --outputs) of a hosted stack, or --project-ref with SUPABASE_ACCESS_TOKEN";
        return;
    }
    let applicationHosts = project && project.ref === ref ? (project.applicationEgressIpv4 ?? undefined) : undefined;
    if (flags["app-ipv4"] !== undefined) {
        const r = parseIpv4List(flags["app-ipv4"]);
        if (!r.ok) throw new UsageError(`--app-ipv4 ${JSON.stringify(flags["app-ipv4"])}: ${r.problem}`);
        applicationHosts = r.addresses;
    }
    ctx.hosted = {
        applicationHosts,
        ref,
        apiUrl,
        token,
        tokenSource,
        // A flag naming another project: the stack's expectations are not that project's.
        expectedCidrs: project && project.ref === ref ? project.databaseAllowedCidrs : undefined,
        expectedLegacyKeys: project && project.ref === ref ? project.legacyKeysEnabled : undefined,
    };
    ctx.sources.hosted = flags["project-ref"] ? "flag" : "stack";
}
