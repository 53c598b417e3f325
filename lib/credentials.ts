/**
 * Pure rules for the credentials: rotation periods, connection strings, Vault layout and
 * least-privilege policies, AppRole limits, and the Supabase API keys' JWT claims.
 */

const DAY_MS = 86_400_000;

export interface RotationPeriod {
    /** Number of whole periods since the Unix epoch: the keeper that rotates generated secrets. */
    index: number;
    startsAt: Date;
    endsAt: Date;
}

/** The rotation period `now` falls in. Boundaries are fixed (multiples of the period since 1970), not "90 days after the last deploy". */
export function rotationPeriod(now: Date, periodDays: number): RotationPeriod {
    if (!Number.isInteger(periodDays) || periodDays < 1)
        throw new Error(`rotation period must be a whole number of days >= 1, got ${periodDays}`);
    const length = periodDays * DAY_MS;
    const index = Math.floor(now.getTime() / length);
    return { index, startsAt: new Date(index * length), endsAt: new Date((index + 1) * length) };
}

/** The keeper of every generated secret: a change regenerates them all. */
export function rotationKeeper(period: RotationPeriod, generation: number): string {
    return `${period.index}.${generation}`;
}

/** The clock for rotation. TOOLBOXAI_NOW (ISO 8601) pins it, for reproducible plans and tests. */
export function currentTime(env: NodeJS.ProcessEnv = process.env): Date {
    const pinned = env.TOOLBOXAI_NOW;
    if (pinned === undefined || pinned === "") return new Date();
    const at = new Date(pinned);
    if (Number.isNaN(at.getTime()))
        throw new Error(`TOOLBOXAI_NOW must be an ISO 8601 time such as 2026-01-01T00:00:00Z, got ${JSON.stringify(pinned)}`);
    return at;
}

/** Consumers of the secrets: each gets an AppRole and a policy. */
export const CONSUMERS = ["backend", "worker"] as const;
export type Consumer = (typeof CONSUMERS)[number];

/** The hosted project's secret key that only Prometheus uses (the metrics endpoint's password), rotated as the consumers' keys. */
export const METRICS_KEY_HOLDER = "metrics";
/** Who gets a hosted secret key of its own. */
export type KeyHolder = Consumer | typeof METRICS_KEY_HOLDER;

/** Redis ACL users: one per consumer, one that may only PING (health checks), one for redis_exporter (monitoring). */
export const REDIS_USERS = [...CONSUMERS, "healthcheck", "exporter"] as const;
export type RedisUser = (typeof REDIS_USERS)[number];

/** The guide's Redis user naming (`rediss://toolboxai_backend@redis:6380`). */
export function redisUsername(user: RedisUser): string {
    return `toolboxai_${user}`;
}

/**
 * What each consumer may read, as secret names under the prefix. The backend serves the API and
 * needs the Supabase keys; each reads its own database login (`database/<consumer>`), never the
 * owner's (`database`, the deployer's); the worker needs its own Redis user and (hosted) its own
 * Supabase secret key (`supabase/<consumer>`). Each reads
 * its own Redis user's secret (`redis/<consumer>`), not the aggregate `redis` of all users.
 */
export const CONSUMER_READS: Record<Consumer, readonly string[]> = {
    backend: ["supabase", "supabase/backend", "database/backend", "redis/backend"],
    worker: ["supabase/worker", "database/worker", "redis/worker"],
};

/** Vault names derived from the path prefix: `toolboxai/dev` becomes `toolboxai-dev`. */
export function vaultObjectName(pathPrefix: string, suffix: string): string {
    return `${pathPrefix.replace(/\//g, "-")}-${suffix}`;
}

/**
 * A consumer's policy: `read` on `<mount>/data/<prefix>/<leaf>` for its own secrets, and the two
 * token paths every token needs once the default policy is off (renewing and looking up itself).
 */
export function readOnlyPolicy(mount: string, pathPrefix: string, leaves: readonly string[]): string {
    const reads = leaves.map((leaf) => `path "${mount}/data/${pathPrefix}/${leaf}" {\n  capabilities = ["read"]\n}\n`);
    return [...reads, ...TOKEN_SELF_STATEMENTS].join("\n");
}

/** What the default policy would have given, limited to the token's own renewal and lookup. */
export const TOKEN_SELF_STATEMENTS = [
    'path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n',
    'path "auth/token/lookup-self" {\n  capabilities = ["read"]\n}\n',
];

/** AppRole limits: short tokens; secret-ids that expire and are replaced with the rotation. */
export interface AppRoleLimits {
    tokenTtl: number;
    tokenMaxTtl: number;
    secretIdTtl: number;
    secretIdNumUses: number;
}

const TOKEN_TTL_S = 3600;
const TOKEN_MAX_TTL_S = 4 * 3600;
/** Restarts a consumer may make within a secret-id's life, beyond its regular re-logins. */
const RESTART_ALLOWANCE = 100;

/** `replicas`: how many containers log in with the same secret-id. */
export function appRoleLimits(periodDays: number, replicas = 1): AppRoleLimits {
    // A secret-id outlives its period by one more, so that one missed `pulumi up` does not lock consumers out.
    const secretIdTtl = 2 * periodDays * 86_400;
    return {
        tokenTtl: TOKEN_TTL_S,
        tokenMaxTtl: TOKEN_MAX_TTL_S,
        secretIdTtl,
        // Each replica logs in once per token lifetime (renewed up to the max TTL) over the
        // secret-id's life, plus restarts: enough for every replica, while a stolen secret-id wears out.
        secretIdNumUses: Math.max(1, replicas) * (Math.ceil(secretIdTtl / TOKEN_MAX_TTL_S) + RESTART_ALLOWANCE),
    };
}

/**
 * A whole number of seconds as the Vault provider reads a duration back: Go's `Duration.String()`
 * shortened by its `util.ShortDur` ("4320h0m0s" becomes "4320h", "1h30m0s" becomes "1h30m").
 * Sending this form means a refresh finds what was sent, whether or not the provider also keeps
 * the configured text (terraform-provider-vault `flattenVaultDuration`, `mergeAuthMethodTune`).
 */
export function vaultDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`a Vault duration must be whole seconds >= 0, got ${seconds}`);
    if (seconds === 0) return "0s";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const sec = seconds % 60;
    const full = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
    return full.replace(/m0s$/, "m").replace(/h0m$/, "h");
}

/**
 * Tuning of the AppRole auth mount. Vault caps a secret-id's TTL at the mount's max lease TTL
 * (768 h unless tuned): the mount's maximum must cover the secret-id's life. The default lease is
 * the token's TTL, which the roles set anyway.
 */
export function appRoleMountTune(limits: AppRoleLimits): { maxLeaseTtl: string; defaultLeaseTtl: string } {
    return {
        maxLeaseTtl: vaultDuration(Math.max(limits.secretIdTtl, limits.tokenMaxTtl)),
        defaultLeaseTtl: vaultDuration(limits.tokenTtl),
    };
}

export type SupabaseRole = "anon" | "service_role";

/** Claims of a self-hosted Supabase API key: valid from its period's start until the end of the next period. */
export function supabaseKeyClaims(
    role: SupabaseRole,
    period: RotationPeriod,
): { role: SupabaseRole; iss: string; iat: number; exp: number } {
    const iat = Math.floor(period.startsAt.getTime() / 1000);
    const length = Math.floor((period.endsAt.getTime() - period.startsAt.getTime()) / 1000);
    return { role, iss: "supabase", iat, exp: iat + 2 * length };
}

/** Signs a Supabase API key as an HS256 JWT (jose), deterministically for the same secret and claims. */
export async function signSupabaseKey(jwtSecret: string, claims: ReturnType<typeof supabaseKeyClaims>): Promise<string> {
    // Loaded here so that stacks that don't sign (hosted) don't pay for it at start-up.
    const { SignJWT } = await import("jose");
    return new SignJWT({ role: claims.role })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(claims.iss)
        .setIssuedAt(claims.iat)
        .setExpirationTime(claims.exp)
        .sign(new TextEncoder().encode(jwtSecret));
}

/**
 * The database password alternates between two generated slots, A and B. At each step of the
 * rotation counter (period index + generation) exactly one slot is regenerated and becomes
 * active; the other keeps the password the database has now, which the apply step can log in
 * with to set the new one. A move of two steps or more between two `pulumi up`s regenerates
 * both: then the apply step logs in with the password it applied last (kept in its own state).
 */
export interface PasswordSlots {
    /** Keepers of slot A and slot B. */
    keepers: { a: string; b: string };
    active: "a" | "b";
}

export function passwordSlots(period: RotationPeriod, generation: number): PasswordSlots {
    const counter = period.index + generation;
    return {
        keepers: { a: String(Math.floor((counter + 1) / 2)), b: String(Math.floor(counter / 2)) },
        active: counter % 2 === 1 ? "a" : "b",
    };
}
