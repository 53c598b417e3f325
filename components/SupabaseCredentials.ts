import * as pulumi from "@pulumi/pulumi";
import { Command } from "@pulumi/command/local/command";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { AuthBackendRole } from "@pulumi/vault/approle/authBackendRole";
import { AuthBackendRoleSecretId } from "@pulumi/vault/approle/authBackendRoleSecretId";
import { AuthBackend } from "@pulumi/vault/authBackend";
import { SecretV2 } from "@pulumi/vault/kv/secretV2";
import { Mount } from "@pulumi/vault/mount";
import { Policy } from "@pulumi/vault/policy";
import type { SslMode, SupabaseMode } from "../lib/config";
import {
    appRoleLimits,
    appRoleMountTune,
    CONSUMER_READS,
    CONSUMERS,
    readOnlyPolicy,
    REDIS_USERS,
    signSupabaseKey,
    supabaseKeyClaims,
    vaultObjectName,
    type Consumer,
    type PasswordSlots,
    type RedisUser,
    type RotationPeriod,
    redisUsername,
} from "../lib/credentials";
import { postgresUrl } from "../lib/postgres";
import { loginRole, SLOTS, type DatabaseConsumer, type Slot } from "../lib/databaseRoles";
import { vaultKvPath, vaultSecretName } from "../lib/naming";

export interface SupabaseCredentialsArgs {
    /** local: generate the JWT secret and sign the API keys; hosted: the project's own keys. Decides which resources exist, so it is a plain value. */
    mode: SupabaseMode;
    /** Supabase API URL, stored in Vault as `url`. */
    supabaseUrl: pulumi.Input<string>;
    /** Direct (session) connection, port 5432 in hosted projects. */
    direct: { host: pulumi.Input<string>; port: pulumi.Input<number>; database: pulumi.Input<string>; user: pulumi.Input<string> };
    /** Transaction pooler, when the applications use it. */
    pooler?: { host: pulumi.Input<string>; port: pulumi.Input<number>; user: pulumi.Input<string> };
    /** libpq sslmode carried by every connection string. */
    sslMode: pulumi.Input<SslMode>;
    /** Application connection pool size, stored beside the password. */
    poolSize: pulumi.Input<number>;
    /** Hosted mode: the project's keys from the Management API (components/SupabaseProject.ts). */
    hostedKeys?: {
        publishableKey: pulumi.Input<string>;
        /** The active secret key of each consumer. */
        secretKeys: Record<Consumer, pulumi.Input<string>>;
        /** The legacy JWT secret while the legacy keys are on, else "". */
        jwtSecret: pulumi.Input<string>;
    };
    /** KV v2 mount, and whether this component creates it. Plain values: they name resources. */
    vault: { mount: string; pathPrefix: string; manageMount: boolean };
    /** The current rotation period, its keeper (period index and generation), and the database password slots. */
    rotation: { period: RotationPeriod; keeper: string; periodDays: number; slots: PasswordSlots };
    /** The database role's password before this program managed it; used once, at the first deployment. */
    bootstrapPassword?: pulumi.Input<string>;
    /** Containers per consumer sharing its secret-id (sizes the secret-id's use limit). */
    replicas?: Partial<Record<Consumer, number>>;
    /** Path of scripts/apply-database-password.ts, run with Node and the TypeScript loader where `pulumi up` runs (needs psql). */
    applyScript: string;
    /** The consumers that log in to the database, each with its own roles (lib/databaseRoles.ts); plain: they name resources. */
    databaseConsumers: readonly DatabaseConsumer[];
    /** Path of scripts/apply-consumer-roles.ts, run like applyScript. */
    rolesScript: string;
}

/** The Redis users of the design before the rotation slots: each also accepts that design's password. */
const USERS_BEFORE_SLOTS: readonly RedisUser[] = ["backend", "worker", "healthcheck"];

/** A Redis ACL user: the password its consumer is given (the active slot's) and every password Redis accepts. */
export interface RedisLogin {
    username: string;
    password: pulumi.Output<string>;
    passwords: pulumi.Output<string>[];
}

/** A consumer's database login: the active slot's role and its password. */
export interface DatabaseLogin {
    user: string;
    password: pulumi.Output<string>;
}

export interface AppRoleCredentials {
    /** Not secret by itself (Vault treats it as an identifier). */
    roleId: pulumi.Output<string>;
    secretId: pulumi.Output<string>;
}

/**
 * Every credential of the guide, generated or taken from secret config, stored in Vault KV v2 at
 * the guide's paths, with a read-only policy and an AppRole per consumer. Generated secrets
 * carry the rotation keeper: the first `pulumi up` of a new period regenerates them and rewrites
 * Vault, and every consumer that takes them as inputs is replaced with the new values.
 */
export class SupabaseCredentials extends pulumi.ComponentResource {
    /** The owner's password: the deployer's alone (apply steps, migration push), never a container's. */
    readonly databasePassword: pulumi.Output<string>;
    /** Each consumer's login for this rotation step. */
    readonly databaseLogins: Partial<Record<DatabaseConsumer, DatabaseLogin>>;
    /** The owner's direct connection URL (the deployer's: migrations, ops). */
    readonly directUrl: pulumi.Output<string>;
    /** Transaction pooler URL (port 6543), when a pooler is configured. */
    readonly poolerUrl: pulumi.Output<string> | undefined;
    readonly jwtSecret: pulumi.Output<string>;
    readonly anonKey: pulumi.Output<string>;
    readonly serviceRoleKey: pulumi.Output<string>;
    /** Hosted mode: each consumer's own secret key (local mode: none, the service_role key serves). */
    readonly consumerKeys: Partial<Record<Consumer, pulumi.Output<string>>>;
    readonly redisUsers: Record<RedisUser, RedisLogin>;
    /** KV paths as `vault kv get` takes them. */
    readonly vaultPaths: { supabase: string; database: string; redis: string } & Record<`redis/${Consumer}`, string>;
    readonly policyNames: Record<Consumer, pulumi.Output<string>>;
    readonly appRoleMount: pulumi.Output<string>;
    readonly appRoles: Record<Consumer, AppRoleCredentials>;

    constructor(name: string, args: SupabaseCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:security:SupabaseCredentials", name, {}, opts);
        const child = { parent: this };
        const keepers = { rotation: args.rotation.keeper };
        const { mount, pathPrefix } = args.vault;

        // Letters and digits only: safe in a URL and an SQL literal without encoding; 40 of them carry ~238 bits.
        const password = (resourceName: string, passwordKeepers: Record<string, string> = keepers) =>
            new RandomPassword(
                resourceName,
                { length: 40, special: false, minLower: 2, minUpper: 2, minNumeric: 2, keepers: passwordKeepers },
                child,
            ).result;

        // Two slots: after a rotation of one step the inactive one still holds the password the database has.
        const { slots } = args.rotation;
        const slotA = password(`${name}-database-password-a`, { slot: slots.keepers.a });
        const slotB = password(`${name}-database-password-b`, { slot: slots.keepers.b });
        this.databasePassword = pulumi.secret(slots.active === "a" ? slotA : slotB);
        const applyCommand = `node -r ./scripts/register.js ${args.applyScript}`;
        // libpq's variables for the owner's direct connection: both apply steps log in as the owner.
        const ownerConnection = {
            PGHOST: args.direct.host,
            PGPORT: pulumi.output(args.direct.port).apply(String),
            PGDATABASE: args.direct.database,
            PGUSER: args.direct.user,
            PGSSLMODE: args.sslMode,
        };
        const applyPassword = new Command(
            `${name}-apply-database-password`,
            {
                // No triggers: a new password is an update of this resource, never a replacement, so that
                // the provider hands the script its previous stdout (the password it applied last), which a
                // new resource would not have. That is what the database has, however many rotation steps
                // (both slots regenerated) passed since the last `pulumi up`.
                create: applyCommand,
                update: applyCommand,
                addPreviousOutputInEnv: true,
                // Secrets go through the environment, never the command line.
                environment: {
                    ...ownerConnection,
                    NEW_PASSWORD: this.databasePassword,
                    STANDBY_PASSWORD: pulumi.secret(slots.active === "a" ? slotB : slotA),
                    BOOTSTRAP_PASSWORD: pulumi.secret(args.bootstrapPassword ?? ""),
                },
                // stdout is the applied password: never logged, kept only as a secret output. The
                // script's messages are on stderr, and psql's own errors are discarded by it.
                logging: "stderr",
            },
            { ...child, additionalSecretOutputs: ["stdout"] },
        );
        // Each consumer's two logins follow the owner's slots: a step gives the standby login a new
        // password and moves the consumer to it, while the other login (what running containers
        // use) keeps its password until the next step.
        const loginPasswords: Record<string, pulumi.Output<string>> = {};
        const databaseLogins: Partial<Record<DatabaseConsumer, DatabaseLogin>> = {};
        for (const consumer of args.databaseConsumers) {
            const bySlot = {} as Record<Slot, pulumi.Output<string>>;
            for (const slot of SLOTS) {
                bySlot[slot] = pulumi.secret(password(`${name}-${consumer}-login-password-${slot}`, { slot: slots.keepers[slot] }));
                loginPasswords[loginRole(consumer, slot)] = bySlot[slot];
            }
            databaseLogins[consumer] = { user: loginRole(consumer, slots.active), password: bySlot[slots.active] };
        }
        this.databaseLogins = databaseLogins;
        const rolesCommand = `node -r ./scripts/register.js ${args.rolesScript}`;
        const consumerRoles = new Command(
            `${name}-consumer-roles`,
            {
                create: rolesCommand,
                update: rolesCommand,
                environment: {
                    ...ownerConnection,
                    OWNER_PASSWORD: this.databasePassword,
                    CONSUMERS: args.databaseConsumers.join(","),
                    LOGIN_PASSWORDS: pulumi.secret(pulumi.all(loginPasswords).apply((p) => JSON.stringify(p))),
                },
                logging: "stderr",
            },
            { ...child, dependsOn: [applyPassword] },
        );
        const url = (e: { host: pulumi.Input<string>; port: pulumi.Input<number>; user: pulumi.Input<string> }) =>
            pulumi.secret(
                pulumi
                    .all([e.user, this.databasePassword, e.host, e.port, args.direct.database, args.sslMode])
                    .apply(([user, pw, host, port, database, sslMode]) =>
                        postgresUrl({ user, password: pw, host, port, database, sslMode }),
                    ),
            );
        this.directUrl = url(args.direct);
        this.poolerUrl = args.pooler ? url(args.pooler) : undefined;

        if (args.mode === "hosted") {
            if (!args.hostedKeys)
                throw new pulumi.ResourceError(
                    "hosted mode needs the project's keys from the Management API (hostedKeys, from SupabaseProject)",
                    this,
                );
            const keys = args.hostedKeys;
            this.jwtSecret = pulumi.secret(keys.jwtSecret);
            // The guide's anon_key and service_role_key fields now carry the rotatable keys.
            this.anonKey = pulumi.secret(keys.publishableKey);
            this.serviceRoleKey = pulumi.secret(keys.secretKeys.backend);
            this.consumerKeys = Object.fromEntries(CONSUMERS.map((c) => [c, pulumi.secret(keys.secretKeys[c])]));
        } else {
            // Self-hosted keys: HS256 JWTs signed with a generated secret, dated by the rotation period.
            this.jwtSecret = pulumi.secret(new RandomPassword(`${name}-jwt-secret`, { length: 64, special: false, keepers }, child).result);
            const sign = (role: "anon" | "service_role") =>
                pulumi.secret(this.jwtSecret.apply((secret) => signSupabaseKey(secret, supabaseKeyClaims(role, args.rotation.period))));
            this.anonKey = sign("anon");
            this.serviceRoleKey = sign("service_role");
            this.consumerKeys = {};
        }

        // Two passwords per Redis user, on the same slots: Redis accepts both, so the consumers still
        // running with the other slot's password keep logging in until the next step.
        this.redisUsers = Object.fromEntries(
            REDIS_USERS.map((user) => {
                const bySlot = Object.fromEntries(
                    SLOTS.map((slot) => [
                        slot,
                        pulumi.secret(password(`${name}-redis-${user}-password-${slot}`, { slot: slots.keepers[slot] })),
                    ]),
                ) as Record<Slot, pulumi.Output<string>>;
                // The single per-step password of the design before the slots (same name and inputs, so the
                // same value in an existing stack's state): accepted, never given to a consumer, so that the
                // first `up` with the slots restarts Redis without refusing the consumers it has not replaced
                // yet. Regenerated at every step; to be retired once every stack has had that `up`.
                // Users added since (the exporter's) never had one.
                const previousDesign = USERS_BEFORE_SLOTS.includes(user) ? [pulumi.secret(password(`${name}-redis-${user}-password`))] : [];
                const passwords = [...SLOTS.map((slot) => bySlot[slot]), ...previousDesign];
                return [user, { username: redisUsername(user), password: bySlot[slots.active], passwords }];
            }),
        ) as Record<RedisUser, RedisLogin>;

        const kvMount = args.vault.manageMount
            ? new Mount(
                  `${name}-kv`,
                  { path: mount, type: "kv", options: { version: "2" }, description: `KV v2 for ${pathPrefix} (managed by Pulumi)` },
                  child,
              ).path
            : pulumi.output(mount);
        // Vault gets a new password only after the database accepts it.
        const secret = (leaf: string, data: pulumi.Input<Record<string, pulumi.Input<string>>>) =>
            new SecretV2(
                `${name}-kv-${leaf.replace(/\//g, "-")}`,
                {
                    mount: kvMount,
                    name: vaultSecretName(pathPrefix, leaf),
                    dataJson: pulumi.secret(pulumi.output(data).apply((d) => JSON.stringify(d))),
                    // `pulumi destroy` removes every version, not just the latest.
                    deleteAllVersions: true,
                },
                { ...child, dependsOn: [applyPassword, consumerRoles] },
            );

        // Exactly the guide's fields; database_url is the backend's own login (the only reader of this secret).
        const supabaseSecret = secret("supabase", {
            url: args.supabaseUrl,
            anon_key: this.anonKey,
            service_role_key: this.serviceRoleKey,
            database_url: databaseLogins.backend
                ? pulumi.secret(
                      pulumi
                          .all([databaseLogins.backend.password, args.direct.host, args.direct.port, args.direct.database, args.sslMode])
                          .apply(([pw, host, port, database, sslMode]) =>
                              postgresUrl({ user: databaseLogins.backend!.user, password: pw, host, port, database, sslMode }),
                          ),
                  )
                : "",
            jwt_secret: this.jwtSecret,
        });
        // The owner's: read by the deployer (and the ops tool run with its token), by no consumer's policy.
        const databaseSecret = secret("database", {
            password: this.databasePassword,
            provider: "supabase",
            // `vault kv put ... connection_pool_size=20` stores a string; so do we.
            connection_pool_size: pulumi.output(args.poolSize).apply(String),
        });
        const consumerDatabaseSecrets = CONSUMERS.filter((c) => databaseLogins[c]).map((c) =>
            secret(`database/${c}`, {
                username: databaseLogins[c]!.user,
                password: databaseLogins[c]!.password,
                provider: "supabase",
                connection_pool_size: pulumi.output(args.poolSize).apply(String),
            }),
        );
        const redisSecret = secret(
            "redis",
            Object.fromEntries(REDIS_USERS.map((u) => [this.redisUsers[u].username, this.redisUsers[u].password])),
        );
        const consumerRedisSecrets = CONSUMERS.map((consumer) =>
            secret(`redis/${consumer}`, { username: this.redisUsers[consumer].username, password: this.redisUsers[consumer].password }),
        );
        // Hosted: each consumer's own secret key, readable by that consumer only.
        const consumerKeySecrets = CONSUMERS.filter((c) => this.consumerKeys[c]).map((c) =>
            secret(`supabase/${c}`, { secret_key: this.consumerKeys[c]! }),
        );
        const leafPath = (leaf: string) => vaultKvPath(mount, pathPrefix, leaf);
        this.vaultPaths = {
            supabase: leafPath("supabase"),
            database: leafPath("database"),
            redis: leafPath("redis"),
            "redis/backend": leafPath("redis/backend"),
            "redis/worker": leafPath("redis/worker"),
        };

        // Vault caps each secret-id's TTL at this mount's max lease TTL (768 h untuned): tuned to the secret-id's life.
        const approle = new AuthBackend(
            `${name}-approle`,
            {
                type: "approle",
                path: vaultObjectName(pathPrefix, "approle"),
                description: `AppRoles of ${pathPrefix} consumers (managed by Pulumi)`,
                tune: appRoleMountTune(appRoleLimits(args.rotation.periodDays)),
            },
            child,
        );
        this.appRoleMount = approle.path;
        const policyNames = {} as Record<Consumer, pulumi.Output<string>>;
        const appRoles = {} as Record<Consumer, AppRoleCredentials>;
        for (const consumer of CONSUMERS) {
            const limits = appRoleLimits(args.rotation.periodDays, args.replicas?.[consumer] ?? 1);
            const policy = new Policy(
                `${name}-${consumer}-policy`,
                { name: vaultObjectName(pathPrefix, consumer), policy: readOnlyPolicy(mount, pathPrefix, CONSUMER_READS[consumer]) },
                child,
            );
            const role = new AuthBackendRole(
                `${name}-${consumer}-role`,
                {
                    backend: approle.path,
                    roleName: consumer,
                    tokenPolicies: [policy.name],
                    tokenNoDefaultPolicy: true,
                    tokenType: "service",
                    tokenTtl: limits.tokenTtl,
                    tokenMaxTtl: limits.tokenMaxTtl,
                    secretIdTtl: limits.secretIdTtl,
                    secretIdNumUses: limits.secretIdNumUses,
                },
                child,
            );
            // A new secret-id every rotation period: the metadata carries the keeper.
            const secretId = new AuthBackendRoleSecretId(
                `${name}-${consumer}-secret-id`,
                { backend: approle.path, roleName: role.roleName, metadata: JSON.stringify({ consumer, rotation: args.rotation.keeper }) },
                // The provider reads ttl and num_uses back from Vault (num_uses counting down with each
                // login) and would replace the secret-id on every up (terraform-provider-vault#2425); the
                // role sets both, and rotation replaces the secret-id through its metadata.
                { ...child, replaceOnChanges: ["metadata"], ignoreChanges: ["ttl", "numUses"] },
            );
            policyNames[consumer] = policy.name;
            appRoles[consumer] = { roleId: role.roleId, secretId: pulumi.secret(secretId.secretId) };
        }
        this.policyNames = policyNames;
        this.appRoles = appRoles;

        this.registerOutputs({
            directUrl: this.directUrl,
            poolerUrl: this.poolerUrl,
            vaultPaths: this.vaultPaths,
            policyNames: this.policyNames,
            appRoleMount: this.appRoleMount,
            appRoles: this.appRoles,
            secrets: [
                supabaseSecret.id,
                databaseSecret.id,
                ...consumerDatabaseSecrets.map((s) => s.id),
                redisSecret.id,
                ...consumerRedisSecrets.map((s) => s.id),
                ...consumerKeySecrets.map((s) => s.id),
            ],
        });
    }
}
