/**
 * The stack's settings: one schema, one validation pass, every problem reported at once.
 *
 * Pulumi hands the program every config value as a string (YAML numbers and booleans included),
 * so each setting parses a string. `parseStackConfig` is pure and runs before any resource is
 * created; `loadStackConfig` reads the Pulumi runtime's config and wraps secrets as secret Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { Cron } from "croner";
import { DEFAULT_BACKUP_SCHEDULE, SCHEMA_NAME } from "./backup";
import { containerHost, containerUrl, HOST_GATEWAY_ALIAS, isLoopbackHost } from "./endpoints";
import { ACCESS_TOKEN_PATTERN, DEFAULT_MANAGEMENT_API_URL } from "./supabase/client";
import type { OwnedAuthSettings } from "./supabase/providers";
import { allowsAll, parseCidrs, type SplitCidrs } from "./supabase/rules";

export const PROJECT = "toolboxai";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const SUPABASE_MODES = ["local", "hosted"] as const;
export type SupabaseMode = (typeof SUPABASE_MODES)[number];
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
const ENCRYPTED_SSL_MODES: readonly SslMode[] = ["require", "verify-ca", "verify-full"];

/** Ports of `supabase start` (supabase/config.toml defaults). */
export const LOCAL_SUPABASE = { apiUrl: "http://127.0.0.1:54321", dbHost: "127.0.0.1", dbPort: 54322 } as const;
export const TRANSACTION_POOLER_PORT = 6543;

export const DOCKER_MODES = ["single", "swarm"] as const;
export type DockerMode = (typeof DOCKER_MODES)[number];

/** The guide's compose networks. */
export const DOCKER_NETWORKS = ["frontend", "backend", "cache"] as const;
export type DockerNetwork = (typeof DOCKER_NETWORKS)[number];
export const SERVICE_ROLES = ["backend", "worker", "mcp", "backup"] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** One application service (backend, worker, MCP server) as the stack config describes it. */
export interface ServiceSpec {
    name: string;
    role: ServiceRole;
    image: string;
    command?: string[];
    replicas: number;
    networks: DockerNetwork[];
    /** Published ports; the backend only. Their one target is the port the backend listens on (backendPort). */
    ports: { published: number; target: number }[];
    /** Most processes and threads its containers may hold (CIS Docker 5.28): a fork bomb stops there. */
    pidsLimit: number;
    memoryMb: number;
    cpus: number;
    /** Docker health-check test overriding the role's default (lib/services.ts). */
    healthcheck?: string[];
}

/** The guide's backend port: the default backend publishes it and listens on it. */
export const BACKEND_PORT = 8000;

/** Where the backend listens inside its container: its ports' target (one for all), else the guide's port. */
export function backendPort(spec: Pick<ServiceSpec, "ports">): number {
    return spec.ports[0]?.target ?? BACKEND_PORT;
}

/**
 * Default PIDs limit per role. The pids cgroup counts threads too: a Node or Python server with
 * its thread pools holds tens, a prefork Celery worker a few per child, the backup job Node plus
 * pg_dump and zstd's threads (one per CPU).
 */
export const DEFAULT_PIDS_LIMIT: Record<ServiceRole, number> = { backend: 512, worker: 512, mcp: 256, backup: 128 };
const PIDS_LIMIT_RANGE = { min: 32, max: 32768 };

/** frontend is the only network with a route out: every role reaches Supabase and Vault through it. */
const DEFAULT_NETWORKS: Record<ServiceRole, DockerNetwork[]> = {
    backend: ["frontend", "backend", "cache"],
    worker: ["frontend", "backend", "cache"],
    mcp: ["frontend", "backend"],
    // The dump leaves for the database and S3 outside: nothing internal to reach.
    backup: ["frontend"],
};

/** Non-secret settings, after defaults. */
export interface Settings {
    environment: Environment;
    supabaseMode: SupabaseMode;
    supabaseProjectRef: string | undefined;
    supabaseUrl: string;
    supabaseDbHost: string;
    supabaseDbPort: number;
    supabaseDbName: string;
    supabaseDbUser: string;
    databaseSslMode: SslMode;
    /** PEM of the CA behind the database's certificate (verify-ca, verify-full). */
    databaseCaCert: string | undefined;
    databasePoolSize: number;
    poolerEnabled: boolean;
    poolerHost: string | undefined;
    poolerPort: number;
    poolerUser: string;
    vaultAddress: string;
    vaultMount: string;
    vaultPathPrefix: string;
    vaultMountManaged: boolean;
    rotationPeriodDays: number;
    rotationGeneration: number;
    awsRegion: string;
    backupRetentionDays: number;
    backupPrefix: string;
    backupKms: boolean;
    backupObjectLock: boolean;
    backupObjectLockMode: "GOVERNANCE" | "COMPLIANCE";
    backupObjectLockDays: number;
    backupColdTransitionDays: number;
    /** Cron expression (UTC) of the nightly backup. */
    backupSchedule: string;
    /** Schemas the backup dumps; empty for the whole database. */
    backupSchemas: string[];
    dockerHost: string;
    backendImage: string;
    workerImage: string;
    backupImage: string;
    redisImage: string;
    dockerMode: DockerMode;
    /** Host address the backend's published ports bind to (CIS Docker 5.13); 0.0.0.0 is every interface. */
    backendHostAddress: string;
    /** What the containers use for Supabase, the database and Vault (the host-side settings serve `pulumi up`'s own commands). */
    containerSupabaseUrl: string;
    containerDbHost: string;
    containerVaultAddress: string;
    services: ServiceSpec[];
    networkSubnets: Partial<Record<DockerNetwork, string>>;
    /** Hosted: the Management API the program manages the project through. */
    supabaseApiUrl: string;
    /** Hosted: networks allowed to reach Postgres and the pooler (empty lists block all). */
    databaseAllowedCidrs: SplitCidrs;
    databaseSslEnforced: boolean;
    supabaseLegacyKeysEnabled: boolean;
    /** Hosted: the auth settings this deployment owns (only those set). */
    auth: OwnedAuthSettings;
}

export const SECRET_KEYS = ["vaultToken", "supabaseAccessToken", "databaseBootstrapPassword"] as const;

/** Settings of earlier versions, refused with what replaced them. */
const RETIRED_KEYS: Record<string, string> = {
    supabaseAnonKey: "is no longer used: the publishable key comes from the Management API (supabaseAccessToken); remove it with `pulumi config rm supabaseAnonKey`",
    supabaseServiceRoleKey: "is no longer used: each consumer gets a secret key from the Management API (supabaseAccessToken); remove it with `pulumi config rm supabaseServiceRoleKey`",
    supabaseJwtSecret: "is no longer used: the legacy JWT secret is read from the Management API while supabaseLegacyKeysEnabled is true; remove it with `pulumi config rm supabaseJwtSecret`",
};
export type SecretKey = (typeof SECRET_KEYS)[number];

/** The secret settings a stack needs, judged from its raw values (offline placeholders are given only for these). */
export function neededSecretKeys(values: Readonly<Record<string, string | undefined>>): SecretKey[] {
    const hosted = values.supabaseMode ? values.supabaseMode === "hosted" : values.environment === "prod";
    // databaseBootstrapPassword is optional (first deployment only): no placeholder for it.
    return hosted ? ["vaultToken", "supabaseAccessToken"] : ["vaultToken"];
}

/** Validated config with secrets still in plain text: only this module and its tests hold it. */
export interface ParsedConfig {
    settings: Settings;
    secrets: Partial<Record<SecretKey, string>>;
}

/** What the rest of the program receives: secrets only as secret Outputs. */
export interface StackConfig {
    settings: Settings;
    secrets: {
        vaultToken: pulumi.Output<string>;
        /** The database role's password before this program managed it (first deployment only). */
        databaseBootstrapPassword?: pulumi.Output<string>;
        /** Hosted mode: the Management API token (keys come from the API). */
        supabaseAccessToken?: pulumi.Output<string>;
    };
}

/** Raw config as Pulumi delivers it: key (without the `toolboxai:` namespace) to string. */
export interface RawConfig {
    values: Readonly<Record<string, string | undefined>>;
    /** Keys that were set with `pulumi config set --secret`. */
    secretKeys: ReadonlySet<string>;
}

export interface ConfigProblem {
    key: string;
    /** The bad value as shown to the user; secrets are never echoed. */
    shown: string;
    allowed: string;
}

export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${PROJECT}:${p.key} = ${p.shown}: ${p.allowed}`);
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    return `Invalid stack configuration (${count}); no resource was created:\n${lines.join("\n")}`;
}

/** Describes one setting for Pulumi.yaml, the README and the validator. */
export interface SettingDoc {
    key: string;
    type: "string" | "integer" | "boolean";
    description: string;
    /** Not declared in Pulumi.yaml: a declared key without default is required in every stack, and objects can't be typed there. */
    undeclared?: true;
    /** Static default, declared in Pulumi.yaml; per-environment defaults are described in `defaultText`. */
    staticDefault?: string | number | boolean;
    defaultText: string;
    secret?: boolean;
}

export const SETTING_DOCS: readonly SettingDoc[] = [
    { key: "environment", type: "string", description: "Deployment environment: dev, staging or prod.", defaultText: "required" },
    { key: "supabaseMode", type: "string", description: "local (`supabase start`, keys generated) or hosted (supabase.com project, managed through the Management API). prod must be hosted.", defaultText: "hosted in prod, else local" },
    { key: "supabaseProjectRef", type: "string", description: "Hosted project ref (20 lowercase letters).", staticDefault: "", defaultText: "required when hosted" },
    { key: "supabaseUrl", type: "string", description: "Supabase API URL.", staticDefault: "", defaultText: `local: ${LOCAL_SUPABASE.apiUrl}; hosted: https://<ref>.supabase.co` },
    { key: "supabaseDbHost", type: "string", description: "Direct database host (migrations and backups use it, never the pooler).", staticDefault: "", defaultText: `local: ${LOCAL_SUPABASE.dbHost}; hosted: db.<ref>.supabase.co` },
    { key: "supabaseDbPort", type: "integer", description: "Direct database port.", defaultText: `local: ${LOCAL_SUPABASE.dbPort}; hosted: 5432` },
    { key: "supabaseDbName", type: "string", description: "Database name.", staticDefault: "postgres", defaultText: "postgres" },
    { key: "supabaseDbUser", type: "string", description: "Database user for the direct connection.", staticDefault: "postgres", defaultText: "postgres" },
    { key: "databaseSslMode", type: "string", description: "libpq sslmode for every connection string; hosted requires require, verify-ca or verify-full.", defaultText: "hosted: require; local: disable" },
    { key: "databaseCaCert", type: "string", description: "PEM of the CA that signed the database's certificate, for verify-ca and verify-full (Supabase: Database Settings > SSL Configuration). Containers get it as a file.", staticDefault: "", defaultText: "none; required by verify-ca and verify-full" },
    { key: "databasePoolSize", type: "integer", description: "Application connection pool size (1-1000).", staticDefault: 20, defaultText: "20" },
    { key: "poolerEnabled", type: "boolean", description: "Applications connect through the transaction pooler.", defaultText: "hosted: true; local: false" },
    { key: "poolerHost", type: "string", description: "Local mode: transaction pooler host (hosted: from the Management API).", staticDefault: "", defaultText: "local: required when poolerEnabled; hosted: from the API" },
    { key: "poolerPort", type: "integer", description: "Local mode: transaction pooler port (hosted: from the Management API).", staticDefault: TRANSACTION_POOLER_PORT, defaultText: String(TRANSACTION_POOLER_PORT) },
    { key: "poolerUser", type: "string", description: "Local mode: pooler user (hosted: from the Management API).", staticDefault: "", defaultText: "local: postgres; hosted: from the API" },
    { key: "vaultAddress", type: "string", description: "Vault server URL (https in prod).", defaultText: "required" },
    { key: "vaultMount", type: "string", description: "KV v2 mount path.", staticDefault: "secret", defaultText: "secret" },
    { key: "vaultPathPrefix", type: "string", description: "Path prefix under the mount; must differ between stacks sharing a Vault.", staticDefault: PROJECT, defaultText: PROJECT },
    { key: "vaultMountManaged", type: "boolean", description: "The program creates the KV v2 mount (true) or uses an existing one (false, e.g. a Vault dev server's `secret/`).", staticDefault: false, defaultText: "false" },
    { key: "rotationPeriodDays", type: "integer", description: "Generated secrets rotate at fixed boundaries of this many days (the guide's quarterly rotation).", staticDefault: 90, defaultText: "90" },
    { key: "rotationGeneration", type: "integer", description: "Raise by one to rotate every generated secret at the next `pulumi up`.", staticDefault: 0, defaultText: "0" },
    { key: "awsRegion", type: "string", description: "AWS region of the backup bucket.", defaultText: "required" },
    { key: "backupRetentionDays", type: "integer", description: "Days a backup is kept (1-3650).", defaultText: "prod: 30; else 7" },
    { key: "backupPrefix", type: "string", description: "Key prefix of the backups in the bucket.", staticDefault: "supabase", defaultText: "supabase" },
    { key: "backupKms", type: "boolean", description: "Encrypt backups with a customer-managed KMS key (rotation on, bucket key on) instead of SSE-S3.", defaultText: "prod: true; else false" },
    { key: "backupObjectLock", type: "boolean", description: "S3 Object Lock on the bucket (turned on later, it is enabled on the existing bucket; AWS never turns it off, false only drops the default retention).", defaultText: "prod: true; else false" },
    { key: "backupObjectLockMode", type: "string", description: "GOVERNANCE or COMPLIANCE.", staticDefault: "GOVERNANCE", defaultText: "GOVERNANCE" },
    { key: "backupObjectLockDays", type: "integer", description: "Default lock retention in days; shorter than backupRetentionDays.", staticDefault: 0, defaultText: "backupRetentionDays - 1" },
    { key: "backupColdTransitionDays", type: "integer", description: "Days before backups move to STANDARD_IA; 0 for never. Only where it saves money: at least 30, and 30 days before expiry.", staticDefault: 0, defaultText: "0" },
    { key: "backupSchedule", type: "string", description: "When the backup job runs: a cron expression in UTC (5 fields).", staticDefault: DEFAULT_BACKUP_SCHEDULE, defaultText: `${DEFAULT_BACKUP_SCHEDULE} (02:00 UTC daily)` },
    { key: "backupSchemas", type: "string", description: "Comma-separated schemas the backup dumps; empty dumps the whole database, as the guide's script.", staticDefault: "", defaultText: "whole database" },
    { key: "dockerHost", type: "string", description: "Docker engine: unix:// socket or ssh://user@host (plain tcp:// is refused).", staticDefault: "unix:///var/run/docker.sock", defaultText: "unix:///var/run/docker.sock" },
    { key: "backendImage", type: "string", description: "Backend image; prod needs an explicit tag other than latest, or a digest.", defaultText: "required" },
    { key: "workerImage", type: "string", description: "Worker image; same pinning rule as backendImage.", defaultText: "required" },
    { key: "backupImage", type: "string", description: "Backup job image, built from backup-job/Dockerfile; same pinning rule as backendImage.", staticDefault: "", defaultText: "required when a backup service runs" },
    { key: "redisImage", type: "string", description: "Redis image; same pinning rule as backendImage.", defaultText: "required" },
    { key: "dockerMode", type: "string", description: "single: containers on one Docker host; swarm: Swarm services, Docker secrets and overlay networks.", staticDefault: "single", defaultText: "single" },
    { key: "backendHostAddress", type: "string", description: "Host IP address the backend's published port binds to, e.g. 127.0.0.1 behind a reverse proxy on the same host. Single mode only: Swarm's ingress publishes on every node's interfaces.", staticDefault: "0.0.0.0", defaultText: "0.0.0.0 (every interface, as the guide's compose file)" },
    { key: "containerSupabaseUrl", type: "string", description: "Supabase API URL as the containers reach it (supabaseUrl serves commands on the host).", staticDefault: "", defaultText: `supabaseUrl, a loopback host replaced by ${HOST_GATEWAY_ALIAS}` },
    { key: "containerDbHost", type: "string", description: "Database host as the containers reach it, in their DATABASE_URL and pgpass file (supabaseDbHost serves commands on the host).", staticDefault: "", defaultText: `supabaseDbHost, a loopback host replaced by ${HOST_GATEWAY_ALIAS}` },
    { key: "containerVaultAddress", type: "string", description: "Vault URL as the containers reach it (vaultAddress serves the program itself).", staticDefault: "", defaultText: `vaultAddress, a loopback host replaced by ${HOST_GATEWAY_ALIAS}` },
    { key: "services", type: "string", undeclared: true, description: `Application services as a JSON object: name to {role: backend|worker|mcp|backup, image, command, replicas, networks, ports, memoryMb, cpus, pidsLimit, healthcheck}. Unset: one backend (port ${BACKEND_PORT}), one worker and the backup job.`, staticDefault: "", defaultText: "backend + worker + backup" },
    { key: "networkSubnets", type: "string", undeclared: true, description: "Optional JSON object of network to IPv4 CIDR, e.g. {\"backend\": \"172.30.1.0/24\"}.", staticDefault: "", defaultText: "Docker assigns" },
    { key: "vaultToken", type: "string", secret: true, description: "Vault token the program uses to write secrets and policies.", defaultText: "required (secret)" },
    { key: "supabaseAccessToken", type: "string", undeclared: true, secret: true, description: "Supabase personal access token (sbp_...) the program manages the hosted project with; never logged or output.", defaultText: "required when hosted (secret)" },
    { key: "supabaseApiUrl", type: "string", description: "Supabase Management API base URL (https; http only on loopback, for tests).", staticDefault: DEFAULT_MANAGEMENT_API_URL, defaultText: DEFAULT_MANAGEMENT_API_URL },
    { key: "databaseAllowedCidrs", type: "string", description: "Hosted: comma-separated IPv4 and IPv6 CIDRs allowed to reach Postgres and the pooler (not the HTTPS API); `none` blocks every address.", staticDefault: "", defaultText: "required when hosted" },
    { key: "databaseAllowAll", type: "boolean", description: "Confirms 0.0.0.0/0 or ::/0 in databaseAllowedCidrs in prod.", staticDefault: false, defaultText: "false" },
    { key: "databaseSslEnforced", type: "boolean", description: "Hosted: the project refuses database connections without TLS (required in prod).", staticDefault: true, defaultText: "true" },
    { key: "supabaseLegacyKeysEnabled", type: "boolean", description: "Hosted: keep the legacy anon/service_role keys and the readable JWT secret; false once nothing uses them (docs/hosted-project.md).", staticDefault: true, defaultText: "true" },
    { key: "authSiteUrl", type: "string", undeclared: true, description: "Hosted: auth site_url, set only if given.", defaultText: "left alone" },
    { key: "authUriAllowList", type: "string", undeclared: true, description: "Hosted: auth uri_allow_list (comma-separated redirect URLs), set only if given.", defaultText: "left alone" },
    { key: "authJwtExp", type: "integer", undeclared: true, description: "Hosted: auth jwt_exp in seconds (60-604800), set only if given.", defaultText: "left alone" },
    { key: "authDisableSignup", type: "boolean", undeclared: true, description: "Hosted: auth disable_signup, set only if given.", defaultText: "left alone" },
    { key: "databaseBootstrapPassword", type: "string", undeclared: true, secret: true, description: "The database role's current password, for the first deployment only: the program logs in with it once to set the generated password (local `supabase start`: postgres).", defaultText: "optional (secret)" },
];

export const KNOWN_KEYS: ReadonlySet<string> = new Set(SETTING_DOCS.map((d) => d.key));

// ---------------------------------------------------------------------------------------------
// Field parsers. Each returns the value or a Problem's "allowed" text.

type Parsed<T> = { ok: true; value: T } | { ok: false; allowed: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(allowed: string): Parsed<T> => ({ ok: false, allowed });

function oneOf<T extends string>(allowed: readonly T[]) {
    return (raw: string): Parsed<T> =>
        (allowed as readonly string[]).includes(raw) ? ok(raw as T) : bad(`must be one of ${allowed.join(", ")}`);
}

function integer(min: number, max: number) {
    return (raw: string): Parsed<number> => {
        if (!/^-?\d+$/.test(raw.trim())) return bad(`must be an integer from ${min} to ${max}`);
        const n = Number(raw);
        return n >= min && n <= max ? ok(n) : bad(`must be an integer from ${min} to ${max}`);
    };
}

const port = integer(1, 65535);

function boolean(raw: string): Parsed<boolean> {
    if (raw === "true") return ok(true);
    if (raw === "false") return ok(false);
    return bad("must be true or false");
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A literal IPv4 or IPv6 address (no hostname: Docker binds to addresses). */
function hostAddress(raw: string): Parsed<string> {
    return isIP(raw) ? ok(raw) : bad("must be an IP address of the Docker host, such as 127.0.0.1, 10.0.0.5 or 0.0.0.0 (every interface)");
}

function hostname(raw: string): Parsed<string> {
    return HOSTNAME.test(raw) || IPV4.test(raw) ? ok(raw) : bad("must be a DNS hostname or IPv4 address");
}

/** Wraps a parser: the value must not point at loopback, which inside a container is the container. */
function reachableFromContainer(parse: (raw: string) => Parsed<string>, hostOf: (value: string) => string) {
    return (raw: string): Parsed<string> => {
        const r = parse(raw);
        if (r.ok && isLoopbackHost(hostOf(r.value))) {
            return bad(`must be reachable from inside a container, where ${hostOf(r.value)} is the container itself: use ${HOST_GATEWAY_ALIAS} for the Docker host, or the service's address`);
        }
        return r;
    };
}
const urlHost = (url: string) => new URL(url).hostname;

function httpUrl(requireHttps: boolean) {
    return (raw: string): Parsed<string> => {
        const allowed = requireHttps ? "must be an https:// URL with a host" : "must be an http:// or https:// URL with a host";
        let url: URL;
        try {
            url = new URL(raw);
        } catch {
            return bad(allowed);
        }
        const schemes = requireHttps ? ["https:"] : ["http:", "https:"];
        if (!schemes.includes(url.protocol) || url.hostname === "" || url.username || url.password) return bad(allowed);
        if (url.search || url.hash) return bad(`${allowed}, without query or fragment`);
        return ok(raw.replace(/\/+$/, ""));
    };
}

const IDENTIFIER = /^[a-z_][a-z0-9_.$-]{0,62}$/;
function identifier(raw: string): Parsed<string> {
    return IDENTIFIER.test(raw) ? ok(raw) : bad("must be a PostgreSQL identifier: lowercase letters, digits, _ . $ -, at most 63 characters");
}

const PATH_SEGMENT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
function vaultMount(raw: string): Parsed<string> {
    return PATH_SEGMENT.test(raw) ? ok(raw) : bad("must be one path segment of lowercase letters, digits, _ or - (e.g. secret)");
}

function vaultPathPrefix(raw: string): Parsed<string> {
    const segments = raw.split("/");
    return segments.every((s) => PATH_SEGMENT.test(s))
        ? ok(raw)
        : bad("must be path segments of lowercase letters, digits, _ or - joined by /, with no '..', spaces or empty segments");
}

/** https, or http on loopback only (a local double of the API in tests). */
function managementUrl(raw: string): Parsed<string> {
    const r = httpUrl(false)(raw);
    if (!r.ok) return r;
    const url = new URL(r.value);
    if (url.protocol !== "https:" && !isLoopbackHost(url.hostname)) return bad("must be an https:// URL (http:// only on a loopback host)");
    return r;
}

const PROJECT_REF = /^[a-z]{20}$/;
function projectRef(raw: string): Parsed<string> {
    return PROJECT_REF.test(raw) ? ok(raw) : bad("must be a Supabase project ref: 20 lowercase letters");
}

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
function awsRegion(raw: string): Parsed<string> {
    return AWS_REGION.test(raw) ? ok(raw) : bad("must be an AWS region code such as eu-central-1");
}

function dockerHost(raw: string): Parsed<string> {
    if (/^unix:\/\/\/\S+$/.test(raw)) return ok(raw);
    if (/^ssh:\/\/([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(raw)) return ok(raw);
    return bad("must be unix:///path/to/docker.sock or ssh://user@host[:port]; plain tcp:// would expose the engine unencrypted");
}

// Docker reference grammar (distribution/reference), simplified to what registries accept.
const IMAGE = /^(?<repo>[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*)(:(?<tag>[\w][\w.-]{0,127}))?(@(?<digest>sha256:[a-f0-9]{64}))?$/;
function image_(pinned: boolean) {
    return (raw: string): Parsed<string> => {
        const m = IMAGE.exec(raw);
        if (!m?.groups) return bad("must be an image reference such as ghcr.io/org/app:1.2.3 or name@sha256:<64 hex>");
        const { tag, digest } = m.groups;
        if (pinned && !digest && (!tag || tag === "latest")) {
            return bad("must be pinned in prod: an explicit tag other than latest, or @sha256:<digest>");
        }
        return ok(raw);
    };
}

function caCertificate(raw: string): Parsed<string> {
    const allowed = "must be a PEM CA certificate (-----BEGIN CERTIFICATE----- ...)";
    try {
        // node:crypto parses it as the TLS stack will; a leaf certificate cannot anchor verification.
        const cert = new X509Certificate(raw);
        return cert.ca ? ok(`${raw.trim()}\n`) : bad(`${allowed}; this one is not a CA (basicConstraints CA:FALSE)`);
    } catch {
        return bad(allowed);
    }
}

function cronSchedule(raw: string): Parsed<string> {
    const allowed = "must be a 5-field cron expression in UTC such as 0 2 * * * (minute hour day month weekday)";
    if (raw.trim().split(/\s+/).length !== 5) return bad(allowed);
    try {
        // croner is what the job schedules with: what parses here runs there.
        new Cron(raw, { paused: true, timezone: "UTC" });
        return ok(raw.trim());
    } catch {
        return bad(allowed);
    }
}

function schemaList(raw: string): Parsed<string[]> {
    const schemas = raw.split(",").map((s) => s.trim());
    return schemas.every((s) => SCHEMA_NAME.test(s)) ? ok(schemas) : bad("must be comma-separated schema names such as public,private");
}

function parseJsonObject(key: string, raw: string, problems: ConfigProblem[]): Record<string, unknown> | undefined {
    try {
        const value = JSON.parse(raw);
        if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
        // Reported below.
    }
    problems.push({ key, shown: JSON.stringify(raw), allowed: "must be a JSON object (in the stack file, a YAML mapping)" });
    return undefined;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SERVICE_FIELDS = ["role", "image", "command", "replicas", "networks", "ports", "memoryMb", "cpus", "pidsLimit", "healthcheck"];

/** A Docker health-check test that runs something: exec form, or one shell command. NONE is refused. */
function isHealthcheckTest(v: unknown): v is string[] {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.trim() === "")) return false;
    return (v[0] === "CMD" && v.length >= 2) || (v[0] === "CMD-SHELL" && v.length === 2);
}

/** Parses `services`; each problem is keyed `services.<name>.<field>`. */
function parseServices(
    raw: string | undefined,
    d: { images: Partial<Record<ServiceRole, string>>; pinned: boolean; swarm: boolean },
    problems: ConfigProblem[],
): ServiceSpec[] {
    const specs: Record<string, unknown> =
        raw === undefined
            ? { backend: { role: "backend", ports: [{ published: BACKEND_PORT, target: BACKEND_PORT }] }, worker: { role: "worker" }, backup: { role: "backup", cpus: 2, memoryMb: 1024 } }
            : (parseJsonObject("services", raw, problems) ?? {});
    const out: ServiceSpec[] = [];
    for (const [name, value] of Object.entries(specs)) {
        const at = (field?: string) => `services.${name}${field ? `.${field}` : ""}`;
        const complain = (field: string | undefined, v: unknown, allowed: string) => problems.push({ key: at(field), shown: JSON.stringify(v) ?? "(missing)", allowed });
        if (!SERVICE_NAME.test(name)) {
            complain(undefined, name, "must be named with lowercase letters, digits and -, starting with a letter (at most 31 characters)");
            continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            complain(undefined, value, "must be an object with role, image, replicas, ...");
            continue;
        }
        const v = value as Record<string, unknown>;
        for (const field of Object.keys(v)) if (!SERVICE_FIELDS.includes(field)) complain(field, v[field], `is not a service field; allowed: ${SERVICE_FIELDS.join(", ")}`);
        const role = v.role as ServiceRole;
        if (!(SERVICE_ROLES as readonly string[]).includes(String(v.role))) {
            complain("role", v.role, `must be one of ${SERVICE_ROLES.join(", ")}`);
            continue;
        }
        const defaultImage = d.images[role];
        let image = defaultImage ?? "";
        if (v.image !== undefined) {
            const r = typeof v.image === "string" ? image_(d.pinned)(v.image) : bad<string>("must be an image reference");
            if (r.ok) image = r.value;
            else complain("image", v.image, r.allowed);
        } else if (role === "mcp") complain("image", undefined, "is required for an mcp service");
        else if (role === "backup" && !image && (v.replicas ?? 1) !== 0) complain("image", undefined, "is required for the backup job: set backupImage (built from backup-job/Dockerfile), or replicas: 0");
        const replicas = v.replicas ?? 1;
        if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 50) complain("replicas", v.replicas, "must be an integer from 0 to 50");
        // Two schedulers would take every backup twice.
        else if (role === "backup" && (replicas as number) > 1) complain("replicas", v.replicas, "must be 0 or 1 for the backup job");
        const networks = (v.networks ?? DEFAULT_NETWORKS[role]) as unknown;
        if (!Array.isArray(networks) || networks.some((n) => !(DOCKER_NETWORKS as readonly string[]).includes(n))) {
            complain("networks", v.networks, `must be a list of ${DOCKER_NETWORKS.join(", ")}`);
        }
        const ports = (v.ports ?? []) as unknown;
        const portOk = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
        if (!Array.isArray(ports) || ports.some((p) => p === null || typeof p !== "object" || !portOk(p.published) || !portOk(p.target))) {
            complain("ports", v.ports, "must be a list of {published, target} port numbers");
        } else if (ports.length > 0 && role !== "backend") {
            complain("ports", v.ports, "may only be set on the backend: other services are reached on the internal networks");
        } else if (ports.length > 0 && replicas !== 1 && !d.swarm) {
            complain("ports", v.ports, "need replicas: 1 on a single Docker host (two containers cannot publish one host port)");
        } else if (new Set(ports.map((p) => p.target)).size > 1) {
            complain("ports", v.ports, "must all have the same target: the backend listens on one port, which its health check and backendInternalUrl use");
        }
        const command = v.command;
        if (command !== undefined && (!Array.isArray(command) || command.some((c) => typeof c !== "string"))) complain("command", command, "must be a list of strings");
        const memoryMb = v.memoryMb ?? 512;
        if (!Number.isInteger(memoryMb) || (memoryMb as number) < 64 || (memoryMb as number) > 65536) complain("memoryMb", v.memoryMb, "must be an integer from 64 to 65536");
        const cpus = v.cpus ?? 1;
        if (typeof cpus !== "number" || cpus <= 0 || cpus > 64) complain("cpus", v.cpus, "must be a number above 0 and at most 64");
        const pidsLimit = v.pidsLimit ?? DEFAULT_PIDS_LIMIT[role];
        if (!Number.isInteger(pidsLimit) || (pidsLimit as number) < PIDS_LIMIT_RANGE.min || (pidsLimit as number) > PIDS_LIMIT_RANGE.max) {
            complain("pidsLimit", v.pidsLimit, `must be an integer from ${PIDS_LIMIT_RANGE.min} to ${PIDS_LIMIT_RANGE.max} (processes and threads per container; unlimited is refused)`);
        }
        const healthcheck = v.healthcheck;
        if (healthcheck !== undefined && !isHealthcheckTest(healthcheck)) {
            complain("healthcheck", healthcheck, 'must be ["CMD", "<program>", "<argument>", ...] or ["CMD-SHELL", "<one shell command>"]: a check that can fail (NONE is refused)');
        }
        out.push({ name, role, image, command: command as string[] | undefined, replicas: replicas as number, networks: networks as DockerNetwork[], ports: ports as ServiceSpec["ports"], memoryMb: memoryMb as number, cpus: cpus as number, pidsLimit: pidsLimit as number, ...(isHealthcheckTest(healthcheck) ? { healthcheck } : {}) });
    }
    const backends = out.filter((s) => s.role === "backend").map((s) => s.name);
    if (backends.length > 1) problems.push({ key: "services", shown: JSON.stringify(backends), allowed: "may hold at most one service with role backend" });
    const backups = out.filter((s) => s.role === "backup").map((s) => s.name);
    if (backups.length > 1) problems.push({ key: "services", shown: JSON.stringify(backups), allowed: "may hold at most one service with role backup" });
    return out;
}

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/;
function parseSubnets(raw: string | undefined, problems: ConfigProblem[]): Partial<Record<DockerNetwork, string>> {
    if (raw === undefined) return {};
    const value = parseJsonObject("networkSubnets", raw, problems) ?? {};
    const out: Partial<Record<DockerNetwork, string>> = {};
    for (const [network, cidr] of Object.entries(value)) {
        if (!(DOCKER_NETWORKS as readonly string[]).includes(network)) problems.push({ key: `networkSubnets.${network}`, shown: JSON.stringify(cidr), allowed: `is not a network; allowed: ${DOCKER_NETWORKS.join(", ")}` });
        else if (typeof cidr !== "string" || !CIDR.test(cidr)) problems.push({ key: `networkSubnets.${network}`, shown: JSON.stringify(cidr), allowed: "must be an IPv4 CIDR such as 172.30.1.0/24" });
        else out[network as DockerNetwork] = cidr;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

/** Shows a bad value without ever echoing a secret. */
function show(key: string, raw: string | undefined): string {
    if (raw === undefined) return "(missing)";
    if ((SECRET_KEYS as readonly string[]).includes(key)) return `[secret, ${raw.length} characters]`;
    return JSON.stringify(raw);
}

function closestKey(key: string): string | undefined {
    const lower = key.toLowerCase();
    return [...KNOWN_KEYS].find((k) => k.toLowerCase() === lower || k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase()));
}

/** Validates every setting and returns them with defaults applied, or throws one ConfigError listing all problems. */
export function parseStackConfig(raw: RawConfig): ParsedConfig {
    const problems: ConfigProblem[] = [];
    const given = (key: string): string | undefined => {
        const v = raw.values[key];
        return v === undefined || v === "" ? undefined : v;
    };
    const fail = (key: string, allowed: string): undefined => {
        problems.push({ key, shown: show(key, given(key)), allowed });
        return undefined;
    };
    /** Parses `key` if given; otherwise returns the default (undefined means "required"). */
    function field<T>(key: string, parse: (s: string) => Parsed<T>, fallback: T | undefined, requiredText?: string): T | undefined {
        const v = given(key);
        if (v === undefined) {
            if (fallback === undefined && requiredText) return fail(key, requiredText);
            return fallback;
        }
        const r = parse(v);
        return r.ok ? r.value : fail(key, r.allowed);
    }

    for (const key of Object.keys(raw.values)) {
        if (RETIRED_KEYS[key]) problems.push({ key, shown: raw.secretKeys.has(key) ? "[secret]" : show(key, raw.values[key]), allowed: RETIRED_KEYS[key] });
        else if (!KNOWN_KEYS.has(key)) {
            const hint = closestKey(key);
            problems.push({ key, shown: show(key, raw.values[key]), allowed: `is not a setting of this program${hint ? ` (did you mean ${hint}?)` : ""}` });
        }
    }
    for (const key of SECRET_KEYS) {
        if (given(key) !== undefined && !raw.secretKeys.has(key)) {
            problems.push({ key, shown: "[set in plain text]", allowed: `must be set with \`pulumi config set --secret ${key}\`` });
        }
    }

    const environment = field("environment", oneOf(ENVIRONMENTS), undefined, `is required: one of ${ENVIRONMENTS.join(", ")}`);
    const isProd = environment === "prod";
    const supabaseMode = field("supabaseMode", oneOf(SUPABASE_MODES), isProd ? "hosted" : "local");
    if (isProd && supabaseMode === "local") fail("supabaseMode", "must be hosted when environment is prod");
    const hosted = supabaseMode === "hosted";

    // Defaults derived from the ref stay undefined while the ref is missing: its own problem says so.
    const ref = field("supabaseProjectRef", projectRef, undefined, hosted ? "is required when supabaseMode is hosted: the 20-letter project ref" : undefined);
    const supabaseUrl = field("supabaseUrl", httpUrl(hosted), hosted ? (ref && `https://${ref}.supabase.co`) : LOCAL_SUPABASE.apiUrl);
    const supabaseDbHost = field("supabaseDbHost", hostname, hosted ? (ref && `db.${ref}.supabase.co`) : LOCAL_SUPABASE.dbHost);
    const supabaseDbPort = field("supabaseDbPort", port, hosted ? 5432 : LOCAL_SUPABASE.dbPort);
    if (supabaseDbPort === TRANSACTION_POOLER_PORT) {
        fail("supabaseDbPort", `must be the direct or session port (5432), not the transaction pooler's ${TRANSACTION_POOLER_PORT}: migrations and dumps need a session`);
    }
    const supabaseDbName = field("supabaseDbName", identifier, "postgres");
    const supabaseDbUser = field("supabaseDbUser", identifier, "postgres");

    const databaseSslMode = field("databaseSslMode", oneOf(SSL_MODES), hosted ? "require" : "disable");
    if (hosted && databaseSslMode && !ENCRYPTED_SSL_MODES.includes(databaseSslMode)) {
        fail("databaseSslMode", `must be one of ${ENCRYPTED_SSL_MODES.join(", ")} when supabaseMode is hosted`);
    }
    const verifying = databaseSslMode === "verify-ca" || databaseSslMode === "verify-full";
    const databaseCaCert = field("databaseCaCert", caCertificate, undefined, verifying ? `is required when databaseSslMode is ${databaseSslMode}: the PEM of the CA that signed the database's certificate` : undefined);
    const databasePoolSize = field("databasePoolSize", integer(1, 1000), 20);
    const poolerEnabled = field("poolerEnabled", boolean, hosted);
    // Hosted: the pooler's host, port and user come from the Management API.
    for (const key of hosted ? ["poolerHost", "poolerPort", "poolerUser"] : []) {
        // poolerPort's declared default is the transaction pooler's port: that one is no copy.
        const copied = given(key) !== undefined && !(key === "poolerPort" && given(key) === String(TRANSACTION_POOLER_PORT));
        if (copied) fail(key, `comes from the Management API when supabaseMode is hosted: remove it with \`pulumi config rm ${key}\``);
    }
    const poolerHost = hosted ? undefined : field("poolerHost", hostname, undefined, poolerEnabled ? "is required when poolerEnabled is true: the pooler host" : undefined);
    const poolerPort = hosted ? TRANSACTION_POOLER_PORT : field("poolerPort", port, TRANSACTION_POOLER_PORT);
    const poolerUser = hosted ? (ref && `postgres.${ref}`) : field("poolerUser", identifier, "postgres");

    const supabaseApiUrl = field("supabaseApiUrl", managementUrl, DEFAULT_MANAGEMENT_API_URL);
    const databaseSslEnforced = field("databaseSslEnforced", boolean, true);
    if (isProd && databaseSslEnforced === false) fail("databaseSslEnforced", "must be true in prod: the guide requires TLS to the database");
    const supabaseLegacyKeysEnabled = field("supabaseLegacyKeysEnabled", boolean, true);
    const databaseAllowAll = field("databaseAllowAll", boolean, false);
    let databaseAllowedCidrs: SplitCidrs = { ipv4: [], ipv6: [] };
    const cidrsRaw = given("databaseAllowedCidrs");
    if (hosted && cidrsRaw === undefined) {
        fail("databaseAllowedCidrs", "is required when supabaseMode is hosted: the networks allowed to reach the database, e.g. 203.0.113.0/24,2001:db8::/48 (`none` blocks every address)");
    } else if (cidrsRaw !== undefined && cidrsRaw.trim() !== "none") {
        const entries = cidrsRaw.split(",").map((e) => e.trim());
        const { cidrs, problems: bad } = parseCidrs(entries.filter((e) => e !== ""));
        if (entries.some((e) => e === "")) fail("databaseAllowedCidrs", "has an empty entry: list CIDRs separated by commas, or `none` to block every address");
        else if (bad.length > 0) fail("databaseAllowedCidrs", bad.join("; "));
        else if (isProd && allowsAll(cidrs) && !databaseAllowAll) fail("databaseAllowedCidrs", "opens the database to every address (0.0.0.0/0 or ::/0): refused in prod unless databaseAllowAll is true");
        databaseAllowedCidrs = cidrs;
    }
    const auth: OwnedAuthSettings = {};
    const siteUrl = field("authSiteUrl", httpUrl(false), undefined);
    if (siteUrl !== undefined) auth.site_url = siteUrl;
    const uriAllowList = given("authUriAllowList");
    if (uriAllowList !== undefined) auth.uri_allow_list = uriAllowList;
    const jwtExp = field("authJwtExp", integer(60, 604800), undefined);
    if (jwtExp !== undefined) auth.jwt_exp = jwtExp;
    const disableSignup = field("authDisableSignup", boolean, undefined);
    if (disableSignup !== undefined) auth.disable_signup = disableSignup;

    const vaultAddress = field("vaultAddress", httpUrl(isProd), undefined, "is required: the Vault server URL");
    const vaultMountValue = field("vaultMount", vaultMount, "secret");
    const vaultPathPrefixValue = field("vaultPathPrefix", vaultPathPrefix, PROJECT);
    const vaultMountManaged = field("vaultMountManaged", boolean, false);
    const rotationPeriodDays = field("rotationPeriodDays", integer(1, 3650), 90);
    const rotationGeneration = field("rotationGeneration", integer(0, 1_000_000), 0);
    const awsRegionValue = field("awsRegion", awsRegion, undefined, "is required: an AWS region code such as eu-central-1");
    const backupRetentionDays = field("backupRetentionDays", integer(1, 3650), isProd ? 30 : 7);
    const backupPrefix = field("backupPrefix", vaultPathPrefix, "supabase");
    const backupKms = field("backupKms", boolean, isProd);
    const backupObjectLock = field("backupObjectLock", boolean, isProd);
    const backupObjectLockMode = field("backupObjectLockMode", oneOf(["GOVERNANCE", "COMPLIANCE"] as const), "GOVERNANCE");
    const lockDaysRaw = field("backupObjectLockDays", integer(0, 3650), 0);
    const backupObjectLockDays = lockDaysRaw === 0 && backupRetentionDays ? Math.max(1, backupRetentionDays - 1) : lockDaysRaw;
    if (backupObjectLock && backupRetentionDays && backupObjectLockDays !== undefined && backupObjectLockDays >= backupRetentionDays) {
        fail("backupObjectLockDays", `must be shorter than backupRetentionDays (${backupRetentionDays}): a locked backup could not expire`);
    }
    const backupColdTransitionDays = field("backupColdTransitionDays", integer(0, 3650), 0);
    if (backupColdTransitionDays && backupRetentionDays && (backupColdTransitionDays < 30 || backupRetentionDays - backupColdTransitionDays < 30)) {
        fail("backupColdTransitionDays", `must be 0, or at least 30 and at least 30 days before expiry (backupRetentionDays ${backupRetentionDays}): STANDARD_IA bills 30 days minimum`);
    }
    const backupSchedule = field("backupSchedule", cronSchedule, DEFAULT_BACKUP_SCHEDULE);
    const backupSchemas = field("backupSchemas", schemaList, []);
    const dockerHostValue = field("dockerHost", dockerHost, "unix:///var/run/docker.sock");
    const requiredImage = "is required: an image reference such as ghcr.io/org/app:1.2.3";
    const backendImage = field("backendImage", image_(isProd), undefined, requiredImage);
    const workerImage = field("workerImage", image_(isProd), undefined, requiredImage);
    const redisImage = field("redisImage", image_(isProd), undefined, requiredImage);
    const backupImage = field("backupImage", image_(isProd), undefined);

    const dockerMode = field("dockerMode", oneOf(DOCKER_MODES), "single");
    const backendHostAddress = field("backendHostAddress", hostAddress, "0.0.0.0");
    if (dockerMode === "swarm" && backendHostAddress && backendHostAddress !== "0.0.0.0") {
        fail("backendHostAddress", "must stay 0.0.0.0 in swarm mode: Swarm's ingress publishes on every node's interfaces (restrict it with the nodes' firewall, or use dockerMode single)");
    }
    // Defaults follow the host-side settings; those stay undefined when invalid (their own problem says so).
    const containerSupabaseUrl = field("containerSupabaseUrl", reachableFromContainer(httpUrl(hosted), urlHost), supabaseUrl && containerUrl(supabaseUrl));
    const containerDbHost = field("containerDbHost", reachableFromContainer(hostname, (h) => h), supabaseDbHost && containerHost(supabaseDbHost));
    const containerVaultAddress = field("containerVaultAddress", reachableFromContainer(httpUrl(isProd), urlHost), vaultAddress && containerUrl(vaultAddress));
    const services = parseServices(given("services"), { images: { backend: backendImage, worker: workerImage, backup: backupImage ?? given("backupImage") }, pinned: isProd, swarm: dockerMode === "swarm" }, problems);
    const networkSubnets = parseSubnets(given("networkSubnets"), problems);

    const secrets: Partial<Record<SecretKey, string>> = {};
    const vaultToken = given("vaultToken");
    if (vaultToken === undefined) fail("vaultToken", "is required: set it with `pulumi config set --secret vaultToken <token>`");
    else secrets.vaultToken = vaultToken;
    if (given("databaseBootstrapPassword") !== undefined) secrets.databaseBootstrapPassword = given("databaseBootstrapPassword");
    if (hosted) {
        const token = given("supabaseAccessToken");
        if (token === undefined) fail("supabaseAccessToken", "is required when supabaseMode is hosted: make a personal access token (docs/hosted-project.md) and set it with `pulumi config set --secret supabaseAccessToken <token>`");
        else if (!ACCESS_TOKEN_PATTERN.test(token)) fail("supabaseAccessToken", "must be a Supabase personal access token: sbp_ followed by 40 hex digits");
        else secrets.supabaseAccessToken = token;
    }

    if (problems.length > 0) throw new ConfigError(problems);
    // Every value below is defined: a missing one would have added a problem above.
    const settings: Settings = {
        environment: environment!,
        supabaseMode: supabaseMode!,
        supabaseProjectRef: ref,
        supabaseUrl: supabaseUrl!,
        supabaseDbHost: supabaseDbHost!,
        supabaseDbPort: supabaseDbPort!,
        supabaseDbName: supabaseDbName!,
        supabaseDbUser: supabaseDbUser!,
        databaseSslMode: databaseSslMode!,
        databaseCaCert,
        databasePoolSize: databasePoolSize!,
        poolerEnabled: poolerEnabled!,
        poolerHost,
        poolerPort: poolerPort!,
        poolerUser: poolerUser!,
        vaultAddress: vaultAddress!,
        vaultMount: vaultMountValue!,
        vaultPathPrefix: vaultPathPrefixValue!,
        vaultMountManaged: vaultMountManaged!,
        rotationPeriodDays: rotationPeriodDays!,
        rotationGeneration: rotationGeneration!,
        awsRegion: awsRegionValue!,
        backupRetentionDays: backupRetentionDays!,
        backupPrefix: backupPrefix!,
        backupKms: backupKms!,
        backupObjectLock: backupObjectLock!,
        backupObjectLockMode: backupObjectLockMode!,
        backupObjectLockDays: backupObjectLockDays!,
        backupColdTransitionDays: backupColdTransitionDays!,
        backupSchedule: backupSchedule!,
        backupSchemas: backupSchemas!,
        dockerHost: dockerHostValue!,
        backendImage: backendImage!,
        workerImage: workerImage!,
        backupImage: backupImage ?? "",
        redisImage: redisImage!,
        dockerMode: dockerMode!,
        backendHostAddress: backendHostAddress!,
        containerSupabaseUrl: containerSupabaseUrl!,
        containerDbHost: containerDbHost!,
        containerVaultAddress: containerVaultAddress!,
        services,
        networkSubnets,
        supabaseApiUrl: supabaseApiUrl!,
        databaseAllowedCidrs,
        databaseSslEnforced: databaseSslEnforced!,
        supabaseLegacyKeysEnabled: supabaseLegacyKeysEnabled!,
        auth,
    };
    return { settings, secrets };
}

/** Reads this project's settings from the Pulumi runtime (the CLI, or `setAllConfig` under mocks). */
export function readRawConfig(): RawConfig {
    const prefix = `${PROJECT}:`;
    const values: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(prefix)) values[fullKey.slice(prefix.length)] = value;
    }
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    const secretKeys = new Set(Object.keys(values).filter((k) => runtime.isConfigSecret?.(`${prefix}${k}`) ?? false));
    return { values, secretKeys };
}

/** Validated settings with secrets wrapped as secret Outputs. Throws ConfigError before any resource exists. */
export function loadStackConfig(raw: RawConfig = readRawConfig()): StackConfig {
    const { settings, secrets } = parseStackConfig(raw);
    const secret = (v: string | undefined): pulumi.Output<string> => pulumi.secret(v ?? "");
    return {
        settings,
        secrets: {
            vaultToken: secret(secrets.vaultToken),
            databaseBootstrapPassword: secrets.databaseBootstrapPassword === undefined ? undefined : secret(secrets.databaseBootstrapPassword),
            supabaseAccessToken: settings.supabaseMode === "hosted" ? secret(secrets.supabaseAccessToken) : undefined,
        },
    };
}
