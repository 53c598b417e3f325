/**
 * What each application role receives: the guide's environment variables, with every secret
 * turned into a file under /run/secrets that a `*_FILE` (or libpq's PGPASSFILE) variable names.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ServiceRole, Settings } from "./config";
import type { Consumer } from "./credentials";
import { awsCredentialsFile } from "./backup";
import { pgpassLine } from "./docker";
import { REDIS_TLS_PORT } from "./redis";

const SECRETS = "/run/secrets";
const FILES = "/etc/toolboxai";

export interface RuntimeSecrets {
    databasePassword: pulumi.Output<string>;
    anonKey: pulumi.Output<string>;
    serviceRoleKey: pulumi.Output<string>;
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
}

/** The connection the applications use: the transaction pooler when it is on, else the direct one. */
export function appDatabase(s: Settings): { host: string; port: number; user: string; database: string } {
    return s.poolerEnabled && s.poolerHost
        ? { host: s.poolerHost, port: s.poolerPort, user: s.poolerUser, database: s.supabaseDbName }
        : { host: s.supabaseDbHost, port: s.supabaseDbPort, user: s.supabaseDbUser, database: s.supabaseDbName };
}

export function serviceRuntime(role: ServiceRole, s: Settings, secrets: RuntimeSecrets): ServiceRuntime {
    if (role === "backup") return backupRuntime(s, secrets);
    const environment: Record<string, pulumi.Input<string>> = {
        SUPABASE_URL: s.supabaseUrl,
        VAULT_ADDR: s.vaultAddress,
        NODE_ENV: s.environment === "prod" ? "production" : "development",
    };
    const secretFiles: Record<string, pulumi.Input<string>> = {};
    const files: Record<string, pulumi.Input<string>> = {};
    // Backend and workers hit the database, Redis and Vault; MCP servers get none of their secrets.
    if (role === "backend" || role === "worker") {
        const consumer: Consumer = role;
        const db = appDatabase(s);
        // No password in the URL: libpq (and node-postgres) read it from PGPASSFILE.
        environment.DATABASE_URL = `postgresql://${encodeURIComponent(db.user)}@${db.host}:${db.port}/${encodeURIComponent(db.database)}?sslmode=${s.databaseSslMode}`;
        environment.DATABASE_POOL_SIZE = String(s.databasePoolSize);
        environment.PGPASSFILE = `${SECRETS}/pgpass`;
        secretFiles.pgpass = secrets.databasePassword.apply((pw) => pgpassLine(db.host, db.port, db.database, db.user, pw));
        const redisUser = secrets.redisUsers[consumer];
        environment.REDIS_URL = `rediss://${redisUser.username}@redis:${REDIS_TLS_PORT}/0`;
        environment.REDIS_PASSWORD_FILE = `${SECRETS}/redis_password`;
        environment.REDIS_CA_FILE = `${FILES}/redis-ca.crt`;
        secretFiles.redis_password = redisUser.password;
        files["redis-ca.crt"] = secrets.redisCaCertPem;
        environment.VAULT_ROLE_ID_FILE = `${SECRETS}/vault_role_id`;
        environment.VAULT_SECRET_ID_FILE = `${SECRETS}/vault_secret_id`;
        secretFiles.vault_role_id = secrets.appRoles[consumer].roleId;
        secretFiles.vault_secret_id = secrets.appRoles[consumer].secretId;
    }
    if (role === "backend") {
        environment.SUPABASE_SERVICE_KEY_FILE = `${SECRETS}/supabase_service_key`;
        environment.SUPABASE_ANON_KEY_FILE = `${SECRETS}/supabase_anon_key`;
        secretFiles.supabase_service_key = secrets.serviceRoleKey;
        secretFiles.supabase_anon_key = secrets.anonKey;
    }
    const healthcheck =
        role === "backend"
            ? // The guide's check.
              { tests: ["CMD", "curl", "-f", "http://localhost:8000/health"], interval: "30s", timeout: "10s", retries: 3, startPeriod: "20s" }
            : // No HTTP endpoint: the main process must be alive.
              { tests: ["CMD-SHELL", "kill -0 1"], interval: "30s", timeout: "5s", retries: 3 };
    return { environment, secretFiles, files, healthcheck };
}

/**
 * The backup job (backup-job/): libpq's variables for the direct connection (never the pooler),
 * the bucket and the encryption its policy demands, the schedule; the database password and the
 * uploader's key as files.
 */
function backupRuntime(s: Settings, secrets: RuntimeSecrets): ServiceRuntime {
    const environment: Record<string, pulumi.Input<string>> = {
        PGHOST: s.supabaseDbHost,
        PGPORT: String(s.supabaseDbPort),
        PGDATABASE: s.supabaseDbName,
        PGUSER: s.supabaseDbUser,
        PGSSLMODE: s.databaseSslMode,
        PGPASSFILE: `${SECRETS}/pgpass`,
        AWS_REGION: s.awsRegion,
        AWS_SHARED_CREDENTIALS_FILE: `${SECRETS}/aws_credentials`,
        BACKUP_BUCKET: secrets.backup.bucketName,
        BACKUP_PREFIX: s.backupPrefix,
        BACKUP_SSE: s.backupKms ? "aws:kms" : "AES256",
        BACKUP_SCHEDULE: s.backupSchedule,
    };
    if (s.backupKms && secrets.backup.kmsKeyArn) environment.BACKUP_KMS_KEY_ID = secrets.backup.kmsKeyArn;
    if (s.backupSchemas.length > 0) environment.BACKUP_SCHEMAS = s.backupSchemas.join(",");
    const secretFiles: Record<string, pulumi.Input<string>> = {
        pgpass: secrets.databasePassword.apply((pw) => pgpassLine(s.supabaseDbHost, s.supabaseDbPort, s.supabaseDbName, s.supabaseDbUser, pw)),
        aws_credentials: pulumi.all([secrets.backup.accessKeyId, secrets.backup.secretAccessKey]).apply(([id, key]) => awsCredentialsFile(id, key)),
    };
    // Healthy while the last scheduled backup succeeded and none is overdue (backup-job/main.ts).
    const healthcheck = { tests: ["CMD", "node", "/app/backup-job.js", "health"], interval: "5m", timeout: "10s", retries: 1, startPeriod: "1m" };
    return { environment, secretFiles, files: {}, healthcheck };
}
