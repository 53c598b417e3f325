/**
 * What each application role receives: the guide's environment variables, with every secret
 * turned into a file under /run/secrets that a `*_FILE` (or libpq's PGPASSFILE) variable names.
 */
import * as pulumi from "@pulumi/pulumi";
import { BACKEND_PORT, backendPort, settled, type ServiceRole, type ServiceSpec, type Settings } from "./config";
import type { Consumer } from "./credentials";
import { awsCredentialsFile } from "./backup";
import { CONTAINER_FILES_DIR as FILES, CONTAINER_SECRETS_DIR as SECRETS } from "./constants";
import { pgpassLine } from "./docker";
import { postgresUrl } from "./postgres";
import { containerHost, gatewayHosts } from "./endpoints";
import { redisUrl } from "./redis";
import { poolerLogin, type DatabaseConsumer } from "./databaseRoles";

export interface RuntimeSecrets {
    /** Each consumer's own database login for this rotation step (never the owner's). */
    databaseLogins: Partial<Record<DatabaseConsumer, { user: string; password: pulumi.Output<string> }>>;
    /** The owner's login: given only to the backup job, and only with backupDatabaseLogin owner. */
    ownerLogin: { user: string; password: pulumi.Output<string> };
    anonKey: pulumi.Output<string>;
    serviceRoleKey: pulumi.Output<string>;
    /** Hosted: each consumer's own Supabase secret key. */
    consumerKeys?: Partial<Record<Consumer, pulumi.Output<string>>>;
    /** Hosted: the transaction pooler as the Management API reports it. */
    pooler?: { host: pulumi.Output<string>; port: pulumi.Output<number>; user: pulumi.Output<string> };
    /** Hosted, creating: the API URL and direct database host of the new project (public hosts), in place of the settings'. */
    endpoints?: { supabaseUrl: pulumi.Output<string>; dbHost: pulumi.Output<string> };
    redisUsers: Record<Consumer, { username: string; password: pulumi.Output<string> }>;
    appRoles: Record<Consumer, { roleId: pulumi.Output<string>; secretId: pulumi.Output<string> }>;
    redisCaCertPem: pulumi.Output<string>;
    /** Where the backup job writes, and the uploader's key (its only AWS identity). */
    backup: {
        bucketName: pulumi.Output<string>;
        kmsKeyArn?: pulumi.Output<string>;
        accessKeyId: pulumi.Output<string>;
        secretAccessKey: pulumi.Output<string>;
    };
}

export interface ServiceRuntime {
    environment: Record<string, pulumi.Input<string>>;
    secretFiles: Record<string, pulumi.Input<string>>;
    files: Record<string, pulumi.Input<string>>;
    healthcheck: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod?: string };
    /** Extra /etc/hosts entries: host.docker.internal where an endpoint uses it. */
    hosts: { host: string; ip: string }[];
}

/**
 * The connection the applications use, as seen from inside their containers: the transaction
 * pooler when it is on (a loopback pooler host becomes host.docker.internal), else the direct one.
 */
export function appDatabase(s: Settings): { host: string; port: number; user: string; database: string } {
    return s.poolerEnabled && s.poolerHost
        ? { host: containerHost(s.poolerHost), port: s.poolerPort, user: settled(s.poolerUser, "poolerUser"), database: s.supabaseDbName }
        : {
              host: settled(s.containerDbHost, "containerDbHost"),
              port: s.supabaseDbPort,
              user: s.supabaseDbUser,
              database: s.supabaseDbName,
          };
}

/** Workers and MCP servers show they are alive by touching this file; /tmp is their writable tmpfs. */
export const HEARTBEAT_FILE = "/tmp/healthy";
/** A heartbeat older than this is a failed check (the contract: touch it at least every 20 s). */
export const HEARTBEAT_MAX_AGE_SECONDS = 60;

/**
 * A POSIX sh command (dash, busybox ash; no bashisms) that fails when `file` is missing or its
 * mtime is `maxAgeSeconds` old or older. It only reads, so it works on a read-only root filesystem;
 * it needs `date +%s` and `stat -c %Y` (GNU coreutils or busybox) in the image.
 */
export function heartbeatCheck(file: string = HEARTBEAT_FILE, maxAgeSeconds: number = HEARTBEAT_MAX_AGE_SECONDS): string {
    if (!/^\/[\w./-]+$/.test(file)) throw new Error(`heartbeat file must be a plain absolute path, got ${JSON.stringify(file)}`);
    return `[ -f ${file} ] && [ $(( $(date +%s) - $(stat -c %Y ${file}) )) -lt ${maxAgeSeconds} ]`;
}

/**
 * The check a role gets unless its service sets `healthcheck`. Not `kill -0 1`: with `init: true`
 * PID 1 is docker-init, which lives as long as the container, so that check could never fail.
 */
export function defaultHealthcheck(role: ServiceRole, port: number = BACKEND_PORT): string[] {
    if (role === "backend") return ["CMD", "curl", "-f", `http://localhost:${port}/health`];
    // Healthy while the last scheduled backup succeeded and none is overdue (backup-job/main.ts).
    if (role === "backup") return ["CMD", "node", "/app/backup-job.js", "health"];
    return ["CMD-SHELL", heartbeatCheck()];
}

/** The backend as services on the backend network reach it: its name and the port it listens on. */
export function backendInternalUrl(spec: Pick<ServiceSpec, "name" | "ports">): string {
    return `http://${spec.name}:${backendPort(spec)}`;
}

/** The spec's `healthcheck` overrides the role's default test; timings stay the role's. */
export function serviceRuntime(
    spec: Pick<ServiceSpec, "role" | "ports" | "healthcheck">,
    s: Settings,
    secrets: RuntimeSecrets,
): ServiceRuntime {
    const { role, healthcheck } = spec;
    if (role === "backup") return backupRuntime(s, secrets, healthcheck);
    const environment: Record<string, pulumi.Input<string>> = {
        SUPABASE_URL: secrets.endpoints?.supabaseUrl ?? settled(s.containerSupabaseUrl, "containerSupabaseUrl"),
        VAULT_ADDR: s.containerVaultAddress,
        NODE_ENV: s.environment === "prod" ? "production" : "development",
    };
    const secretFiles: Record<string, pulumi.Input<string>> = {};
    const files: Record<string, pulumi.Input<string>> = {};
    // A created project's hosts are public: no gateway entry for them.
    const reached = [
        ...(secrets.endpoints ? [] : [new URL(settled(s.containerSupabaseUrl, "containerSupabaseUrl")).hostname]),
        new URL(s.containerVaultAddress).hostname,
    ];
    // Backend and workers hit the database, Redis and Vault; MCP servers get none of their secrets.
    if (role === "backend" || role === "worker") {
        const consumer: Consumer = role;
        // Hosted with the pooler on: its endpoint comes from the Management API (a public host).
        const apiPooler = s.poolerEnabled && secrets.pooler ? secrets.pooler : undefined;
        const login = consumerLogin(secrets, consumer);
        const owner: { host: pulumi.Input<string>; port: pulumi.Input<number>; user: pulumi.Input<string>; database: string } = apiPooler
            ? { ...apiPooler, database: s.supabaseDbName }
            : secrets.endpoints
              ? { host: secrets.endpoints.dbHost, port: s.supabaseDbPort, user: s.supabaseDbUser, database: s.supabaseDbName }
              : appDatabase(s);
        // The same endpoint as the owner's, as the consumer's own login (through a pooler: its name for that login).
        const db = {
            ...owner,
            user: pulumi
                .output(owner.user)
                .apply((user) => (user === s.supabaseDbUser ? login.user : poolerLogin(user, s.supabaseDbUser, login.user))),
        };
        if (!apiPooler && !secrets.endpoints) reached.push(String(db.host));
        // No password in the URL: libpq (and node-postgres) read it from PGPASSFILE, whose line
        // must name the same host as the URL.
        const params = databaseTrust(s, environment, files);
        environment.DATABASE_URL = pulumi
            .all([db.user, db.host, db.port])
            .apply(([user, host, port]) => postgresUrl({ user, host, port, database: db.database, sslMode: s.databaseSslMode, params }));
        environment.DATABASE_POOL_SIZE = String(s.databasePoolSize);
        environment.PGPASSFILE = `${SECRETS}/pgpass`;
        secretFiles.pgpass = pulumi
            .all([login.password, db.host, db.port, db.user])
            .apply(([pw, host, port, user]) => pgpassLine(host, port, db.database, user, pw));
        const redisUser = secrets.redisUsers[consumer];
        environment.REDIS_URL = redisUrl(redisUser.username);
        environment.REDIS_PASSWORD_FILE = `${SECRETS}/redis_password`;
        environment.REDIS_CA_FILE = `${FILES}/redis-ca.crt`;
        secretFiles.redis_password = redisUser.password;
        files["redis-ca.crt"] = secrets.redisCaCertPem;
        environment.VAULT_ROLE_ID_FILE = `${SECRETS}/vault_role_id`;
        environment.VAULT_SECRET_ID_FILE = `${SECRETS}/vault_secret_id`;
        secretFiles.vault_role_id = secrets.appRoles[consumer].roleId;
        secretFiles.vault_secret_id = secrets.appRoles[consumer].secretId;
        // Hosted: the worker has a Supabase secret key of its own (the backend's is below).
        const ownKey = secrets.consumerKeys?.[consumer];
        if (consumer === "worker" && ownKey) {
            environment.SUPABASE_SERVICE_KEY_FILE = `${SECRETS}/supabase_service_key`;
            secretFiles.supabase_service_key = ownKey;
        }
    }
    if (role === "backend") {
        environment.SUPABASE_SERVICE_KEY_FILE = `${SECRETS}/supabase_service_key`;
        environment.SUPABASE_ANON_KEY_FILE = `${SECRETS}/supabase_anon_key`;
        secretFiles.supabase_service_key = secrets.serviceRoleKey;
        secretFiles.supabase_anon_key = secrets.anonKey;
    }
    const tests = healthcheck ?? defaultHealthcheck(role, backendPort(spec));
    // The backend's timings are the guide's; the others give the first heartbeat 30 s.
    const timing =
        role === "backend"
            ? { interval: "30s", timeout: "10s", retries: 3, startPeriod: "20s" }
            : { interval: "30s", timeout: "5s", retries: 3, startPeriod: "30s" };
    return { environment, secretFiles, files, healthcheck: { tests, ...timing }, hosts: gatewayHosts(reached) };
}

/**
 * The backup job (backup-job/): libpq's variables for the direct connection (never the pooler),
 * the bucket and the encryption its policy demands, the schedule; the database password and the
 * uploader's key as files.
 */
function backupRuntime(s: Settings, secrets: RuntimeSecrets, healthcheck?: string[]): ServiceRuntime {
    // owner: where the deployer may not grant BYPASSRLS (docs/operations/database-roles.md#backup).
    const login = s.backupDatabaseLogin === "owner" ? secrets.ownerLogin : consumerLogin(secrets, "backup");
    const db = { port: s.supabaseDbPort, database: s.supabaseDbName, user: login.user };
    const host: pulumi.Input<string> = secrets.endpoints?.dbHost ?? settled(s.containerDbHost, "containerDbHost");
    const environment: Record<string, pulumi.Input<string>> = {
        PGHOST: host,
        PGPORT: String(db.port),
        PGDATABASE: db.database,
        PGUSER: db.user,
        PGSSLMODE: s.databaseSslMode,
        PGPASSFILE: `${SECRETS}/pgpass`,
        AWS_REGION: s.awsRegion,
        AWS_SHARED_CREDENTIALS_FILE: `${SECRETS}/aws_credentials`,
        BACKUP_BUCKET: secrets.backup.bucketName,
        BACKUP_PREFIX: s.backupPrefix,
        BACKUP_SSE: s.backupKms ? "aws:kms" : "AES256",
        BACKUP_SCHEDULE: s.backupSchedule,
        // zstd would size its threads from the host's cores, not the container's CPU limit.
        BACKUP_THREADS: String(Math.max(1, Math.ceil(s.services.find((spec) => spec.role === "backup")?.cpus ?? 1))),
    };
    if (s.backupKms && secrets.backup.kmsKeyArn) environment.BACKUP_KMS_KEY_ID = secrets.backup.kmsKeyArn;
    if (s.backupSchemas.length > 0) environment.BACKUP_SCHEMAS = s.backupSchemas.join(",");
    const files: Record<string, pulumi.Input<string>> = {};
    databaseTrust(s, environment, files);
    const secretFiles: Record<string, pulumi.Input<string>> = {
        pgpass: pulumi.all([login.password, host]).apply(([pw, h]) => pgpassLine(h, db.port, db.database, db.user, pw)),
        aws_credentials: pulumi
            .all([secrets.backup.accessKeyId, secrets.backup.secretAccessKey])
            .apply(([id, key]) => awsCredentialsFile(id, key)),
    };
    const tests = healthcheck ?? defaultHealthcheck("backup");
    return {
        environment,
        secretFiles,
        files,
        healthcheck: { tests, interval: "5m", timeout: "10s", retries: 1, startPeriod: "1m" },
        hosts: gatewayHosts(secrets.endpoints ? [] : [settled(s.containerDbHost, "containerDbHost")]),
    };
}

function consumerLogin(secrets: RuntimeSecrets, consumer: DatabaseConsumer): { user: string; password: pulumi.Output<string> } {
    const login = secrets.databaseLogins[consumer];
    if (!login) throw new Error(`no database login for ${consumer}: SupabaseCredentials' databaseConsumers must list it`);
    return login;
}

/**
 * With databaseCaCert (verify-ca, verify-full), the CA as a public file that libpq finds through
 * PGSSLROOTCERT; returns the matching URL parameter for DATABASE_URL (node-postgres reads it too).
 */
function databaseTrust(
    s: Settings,
    environment: Record<string, pulumi.Input<string>>,
    files: Record<string, pulumi.Input<string>>,
): Record<string, string> {
    if (!s.databaseCaCert) return {};
    files["database-ca.crt"] = s.databaseCaCert;
    environment.PGSSLROOTCERT = `${FILES}/database-ca.crt`;
    return { sslrootcert: `${FILES}/database-ca.crt` };
}
