/**
 * Composition root: read the validated config, wire the components, export the stack outputs.
 * Config validation throws before any resource is registered, so bad config never half-applies.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, settled, SYSTEM_TRUST } from "./lib/config";
import { CONSUMERS, currentTime, METRICS_KEY_HOLDER, passwordSlots, rotationKeeper, rotationPeriod } from "./lib/credentials";
import { dockerName } from "./lib/docker";
import { COMPUTE_CONNECTIONS } from "./lib/supabase/addons";
import { readMigrations } from "./lib/migrations";
import { DATABASE_CONSUMERS } from "./lib/databaseRoles";
import { stackTags } from "./lib/naming";
import { backendInternalUrl as internalUrl, serviceRuntime } from "./lib/services";
import { configPoolSizeWarning } from "./lib/supabase/addons";
import { hostedApiUrl, hostedDbHost, keyOwner } from "./lib/supabase/rules";
import { AppService } from "./components/AppService";
import { BackupBucket } from "./components/BackupBucket";
import { DockerNetworks } from "./components/DockerNetworks";
import { Monitoring } from "./components/Monitoring";
import { Providers } from "./components/Providers";
import { RedisServer } from "./components/RedisServer";
import { SupabaseCredentials } from "./components/SupabaseCredentials";
import { SupabaseMigrations } from "./components/SupabaseMigrations";
import { SupabaseProject } from "./components/SupabaseProject";

const config = loadStackConfig();
// Checked with the config, before any resource: a misnamed migration never half-applies a stack.
const migrationFiles = readMigrations("supabase/migrations");
const { settings } = config;
const stack = pulumi.getStack();

const tags = stackTags(stack, settings.environment);
/** The login for private images: the Docker provider's, and the Swarm services' (sent with each create and update). */
const registry =
    settings.registryAddress && config.secrets.registry ? { address: settings.registryAddress, ...config.secrets.registry } : undefined;
const providers = new Providers("providers", {
    vaultAddress: settings.vaultAddress,
    vaultToken: config.secrets.vaultToken,
    awsRegion: settings.awsRegion,
    tags,
    dockerHost: settings.dockerHost,
    vaultCaCertFile: settings.vaultCaCert === SYSTEM_TRUST ? undefined : settings.vaultCaCert,
    registry,
});

const period = rotationPeriod(currentTime(), settings.rotationPeriodDays);
// The database password, the backup uploader's access keys and the hosted secret keys share the two-slot rotation.
const slots = passwordSlots(period, settings.rotationGeneration);
// Creating: the new project's database password is the credentials component's (it lands in Vault);
// that component is built below, so the password is handed over through a deferred Output.
const [projectDbPassword, resolveProjectDbPassword] = pulumi.deferredOutput<string>();
// Supabase's 40 % advice is a warning; a pool above the pooler's limit is refused by the config.
const poolAdvice =
    settings.supabaseMode === "hosted" ? configPoolSizeWarning(settings.databasePoolSize, settings.supabaseInstanceSize) : undefined;
if (poolAdvice) void pulumi.log.warn(poolAdvice);
// Hosted: the project, its settings and its keys through the Management API (docs/hosted-project.md).
const hosted =
    settings.supabaseMode === "hosted"
        ? new SupabaseProject("supabase", {
              apiUrl: settings.supabaseApiUrl,
              accessToken: config.secrets.supabaseAccessToken!,
              ref: settings.supabaseProjectRef,
              create: settings.supabaseOrganizationSlug
                  ? {
                        organizationSlug: settings.supabaseOrganizationSlug,
                        name: settings.supabaseProjectName!,
                        region: settings.supabaseRegion!,
                        instanceSize: settings.supabaseInstanceSize,
                        dbPass: projectDbPassword,
                    }
                  : undefined,
              instanceSize: settings.supabaseInstanceSize,
              sslEnforced: settings.databaseSslEnforced,
              // Required in hosted mode: the config refuses a hosted stack without it.
              allowedCidrs: settings.databaseAllowedCidrs!,
              // The guide's transaction mode; Supavisor's pool per user and database sized like the application's.
              pooler: { poolMode: "transaction", defaultPoolSize: settings.databasePoolSize },
              // Only the auth settings the stack sets: the rest are left alone.
              auth: Object.fromEntries(
                  Object.entries({
                      site_url: settings.authSiteUrl,
                      uri_allow_list: settings.authUriAllowList,
                      jwt_exp: settings.authJwtExp,
                      disable_signup: settings.authDisableSignup,
                  }).filter(([, v]) => v !== undefined),
              ),
              // Monitoring's metrics key rotates with them, in its own two slots.
              consumers: settings.monitoringEnabled ? [...CONSUMERS, METRICS_KEY_HOLDER] : CONSUMERS,
              // The secret keys rotate with the database password's slots: one step per period or generation.
              slots,
              legacyKeysEnabled: settings.supabaseLegacyKeysEnabled,
              pitr: settings.supabasePitr,
              readReplicas: settings.supabaseReadReplicas,
              // Two stacks on one project must not share (and delete) each other's keys.
              keyOwner: keyOwner(pulumi.getProject(), stack),
          })
        : undefined;
// Adopting, the endpoints follow from the configured ref; creating, from the new project's ref, so
// everything that uses them (password apply step, migrations, containers) comes after the project.
const endpoints =
    hosted && !settings.supabaseProjectRef
        ? { supabaseUrl: hosted.ref.apply(hostedApiUrl), dbHost: hosted.ref.apply(hostedDbHost) }
        : undefined;
const supabaseUrlOf: pulumi.Input<string> = endpoints?.supabaseUrl ?? settled(settings.supabaseUrl, "supabaseUrl");
const dbHostOf: pulumi.Input<string> = endpoints?.dbHost ?? settled(settings.supabaseDbHost, "supabaseDbHost");
const pooler = hosted
    ? settings.poolerEnabled
        ? hosted.pooler
        : undefined
    : settings.poolerEnabled && settings.poolerHost
      ? { host: settings.poolerHost, port: settings.poolerPort, user: settled(settings.poolerUser, "poolerUser") }
      : undefined;
const credentials = new SupabaseCredentials(
    "credentials",
    {
        mode: settings.supabaseMode,
        supabaseUrl: supabaseUrlOf,
        direct: {
            host: dbHostOf,
            port: settings.supabaseDbPort,
            database: settings.supabaseDbName,
            user: settings.supabaseDbUser,
        },
        pooler,
        sslMode: settings.databaseSslMode,
        poolSize: settings.databasePoolSize,
        hostedKeys: hosted && { publishableKey: hosted.publishableKey, secretKeys: hosted.secretKeys, jwtSecret: hosted.jwtSecret },
        vault: { mount: settings.vaultMount, pathPrefix: settings.vaultPathPrefix, manageMount: settings.vaultMountManaged },
        rotation: {
            period,
            keeper: rotationKeeper(period, settings.rotationGeneration),
            periodDays: settings.rotationPeriodDays,
            slots,
        },
        bootstrapPassword: config.secrets.databaseBootstrapPassword,
        replicas: {
            backend: settings.services.filter((spec) => spec.role === "backend").reduce((n, spec) => n + spec.replicas, 0),
            worker: settings.services.filter((spec) => spec.role === "worker").reduce((n, spec) => n + spec.replicas, 0),
        },
        applyScript: "scripts/apply-database-password.ts",
        // Every role that logs in to the database has its own roles; a role no service has any more loses its logins.
        // backupDatabaseLogin owner: the backup job keeps the owner's login, so it has no roles of its own.
        // monitoring: postgres_exporter, which runs in local mode only (hosted projects serve their own metrics).
        databaseConsumers: DATABASE_CONSUMERS.filter((consumer) =>
            consumer === "monitoring"
                ? settings.monitoringEnabled && settings.supabaseMode === "local"
                : settings.services.some((spec) => spec.role === consumer) &&
                  !(consumer === "backup" && settings.backupDatabaseLogin === "owner"),
        ),
        rolesScript: "scripts/apply-consumer-roles.ts",
    },
    { providers: [providers.vault] },
);
resolveProjectDbPassword(credentials.databasePassword);

const backups = new BackupBucket(
    "backups",
    {
        bucketPrefix: `toolboxai-${stack}-backups-`,
        prefix: settings.backupPrefix,
        retentionDays: settings.backupRetentionDays,
        kms: settings.backupKms,
        objectLock: settings.backupObjectLock ? { mode: settings.backupObjectLockMode, days: settings.backupObjectLockDays } : undefined,
        coldTransitionDays: settings.backupColdTransitionDays,
        vault: { mount: settings.vaultMount, name: `${settings.vaultPathPrefix}/backup` },
        keySlots: slots,
    },
    { providers: [providers.aws, providers.vault], dependsOn: [credentials] },
);

// Over the direct connection (config refuses the transaction pooler's port), after the
// credentials component has applied the database password.
const migrations = new SupabaseMigrations("migrations", {
    workdir: ".",
    migrations: migrationFiles,
    cli: "node_modules/.bin/supabase",
    host: dbHostOf,
    port: settings.supabaseDbPort,
    database: settings.supabaseDbName,
    user: settings.supabaseDbUser,
    sslMode: settings.databaseSslMode,
    password: credentials.databasePassword,
    after: [credentials],
});

const onDocker = { providers: [providers.docker] };
const networks = new DockerNetworks("networks", { stack, tags, subnets: settings.networkSubnets, mode: settings.dockerMode }, onDocker);
const redis = new RedisServer(
    "redis",
    {
        stack,
        mode: settings.dockerMode,
        image: settings.redisImage,
        networks: { names: [networks.names.cache, networks.names.backend], ids: [networks.ids.cache, networks.ids.backend] },
        users: credentials.redisUsers,
        tags,
        dockerHost: settings.dockerHost,
        registry,
        nodeLabel: settings.redisNodeLabel,
        endpointMode: settings.swarmEndpointMode,
    },
    onDocker,
);
const services = settings.services.map((spec) => {
    const runtime = serviceRuntime(spec, settings, {
        databaseLogins: credentials.databaseLogins,
        ownerLogin: { user: settings.supabaseDbUser, password: credentials.databasePassword },
        anonKey: credentials.anonKey,
        serviceRoleKey: credentials.serviceRoleKey,
        consumerKeys: credentials.consumerKeys,
        pooler: hosted?.pooler,
        endpoints,
        redisUsers: credentials.redisUsers,
        appRoles: credentials.appRoles,
        redisCaCertPem: redis.caCertPem,
        backup: { bucketName: backups.bucketName, kmsKeyArn: backups.kmsKeyArn, ...backups.uploaderCredentials },
    });
    return new AppService(
        `app-${spec.name}`,
        {
            stack,
            mode: settings.dockerMode,
            spec,
            networks: { names: networks.names, ids: networks.ids },
            tags,
            dockerHost: settings.dockerHost,
            registry,
            hostAddress: settings.backendHostAddress,
            rotationSlot: slots.active,
            endpointMode: settings.swarmEndpointMode,
            ...runtime,
        },
        { ...onDocker, dependsOn: [redis, migrations] },
    );
});

const backupService = settings.services.find((spec) => spec.role === "backup" && spec.replicas > 0);
if (settings.monitoringEnabled)
    new Monitoring(
        "monitoring",
        {
            stack,
            mode: settings.dockerMode,
            endpointMode: settings.swarmEndpointMode,
            tags,
            dockerHost: settings.dockerHost,
            registry,
            networks: { names: networks.names, ids: networks.ids },
            images: {
                prometheus: settings.prometheusImage,
                alertmanager: settings.alertmanagerImage,
                redisExporter: settings.redisExporterImage,
                postgresExporter: settings.postgresExporterImage,
                nodeExporter: settings.nodeExporterImage,
            },
            retentionDays: settings.prometheusRetentionDays,
            receiver: {
                kind: settings.monitoringReceiver,
                url: config.secrets.monitoringReceiverUrl,
                slackChannel: settings.monitoringSlackChannel,
            },
            hosted: hosted && {
                ref: hosted.ref,
                replicaIdentifiers: hosted.readReplicas?.apply((replicas) => replicas.map((r) => r.identifier)) ?? [],
                metricsKey: hosted.secretKeys[METRICS_KEY_HOLDER]!,
            },
            redis: { ...credentials.redisUsers.exporter, caCertPem: redis.caCertPem },
            postgres:
                settings.supabaseMode === "local"
                    ? {
                          host: settled(settings.containerDbHost, "containerDbHost"),
                          port: settings.supabaseDbPort,
                          database: settings.supabaseDbName,
                          // Its own pg_monitor login, never the owner's (docs/operations/database-roles.md).
                          user: credentials.databaseLogins.monitoring!.user,
                          sslMode: settings.databaseSslMode,
                          password: credentials.databaseLogins.monitoring!.password,
                      }
                    : undefined,
            // Every replica answers the service's name (Swarm: the tasks' name).
            backupJob:
                backupService && (settings.dockerMode === "swarm" ? `tasks.${dockerName(stack, backupService.name)}` : backupService.name),
            alerts: {
                runbookUrl: settings.monitoringRunbookUrl ?? "docs/operations/monitoring.md",
                backupSchedule: backupService ? settings.backupSchedule : undefined,
                poolerClientLimit:
                    hosted && settings.poolerEnabled && settings.supabaseInstanceSize
                        ? COMPUTE_CONNECTIONS[settings.supabaseInstanceSize]?.pooler
                        : undefined,
                rotationEndsAt: period.endsAt,
                certificates: redis.certificates,
            },
        },
        { ...onDocker, dependsOn: [redis] },
    );

export const environment = settings.environment;
export const supabaseUrl = supabaseUrlOf;
// Public by Supabase's design, but stored as a secret here: consumers get it as a secret.
export const supabaseAnonKey = credentials.anonKey;
export const database = {
    host: dbHostOf,
    port: settings.supabaseDbPort,
    name: settings.supabaseDbName,
    sslMode: settings.databaseSslMode,
    poolSize: settings.databasePoolSize,
    ownerUser: settings.supabaseDbUser,
    pooler: pooler ?? null,
};
// Identifiers only: no token or key.
export const supabaseProject = hosted
    ? {
          ref: hosted.ref,
          managementApiUrl: settings.supabaseApiUrl,
          secretKeyNames: hosted.keyNames,
          legacyKeysEnabled: settings.supabaseLegacyKeysEnabled,
          databaseAllowedCidrs: settings.databaseAllowedCidrs,
          // For doctor: a ban on one of these is the application locked out; null: not set.
          applicationEgressIpv4: settings.applicationEgressIpv4 ?? null,
          // Read-only connections for consumers that can use them (the Data API reads go there by itself); null: not managed.
          readReplicas: hosted.readReplicas ?? null,
      }
    : null;
export const vault = {
    address: settings.vaultAddress,
    mount: settings.vaultMount,
    pathPrefix: settings.vaultPathPrefix,
    supabasePath: credentials.vaultPaths.supabase,
    databasePath: credentials.vaultPaths.database,
    redisPath: credentials.vaultPaths.redis,
    appRoleMount: credentials.appRoleMount,
    policies: credentials.policyNames,
};
export const credentialsRotation = {
    periodDays: settings.rotationPeriodDays,
    periodIndex: period.index,
    nextRotationAfter: period.endsAt.toISOString(),
};
export const awsRegion = providers.aws.region;
export const backup = {
    bucketName: backups.bucketName,
    bucketArn: backups.bucketArn,
    region: settings.awsRegion,
    prefix: settings.backupPrefix,
    kmsKeyArn: backups.kmsKeyArn ?? null,
    uploaderCredentialsPath: backups.credentialsPath,
    schedule: settings.services.some((spec) => spec.role === "backup" && spec.replicas > 0) ? settings.backupSchedule : null,
    databaseLogin: settings.backupDatabaseLogin,
};
export const docker = {
    mode: settings.dockerMode,
    networks: networks.names,
    redisEndpoint: redis.endpoint,
    redisCaCertPem: redis.caCertPem,
    services: Object.fromEntries(
        settings.services.map((spec, i) => [
            spec.name,
            { role: spec.role, replicas: spec.replicas, runtimeNames: services[i].runtimeNames },
        ]),
    ),
};
const backendService = settings.services.find((spec) => spec.role === "backend");
export const backendInternalUrl = backendService ? internalUrl(backendService) : null;
export const databaseMigrations = { applied: migrations.migrations, hash: migrations.migrationsHash };
