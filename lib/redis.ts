/**
 * Redis server configuration and ACL file, generated from the credentials: TLS only on 6380,
 * the default user off, one user per consumer with the least command set it needs, and a
 * health-check user that may only PING.
 */
import { createHash } from "node:crypto";
import { CONTAINER_SECRETS_DIR } from "./constants";
import type { RedisUser } from "./credentials";

export const REDIS_TLS_PORT = 6380;

/**
 * The URL a consumer is given: TLS (`rediss`), its user, database 0, and no password (that comes
 * from REDIS_PASSWORD_FILE). `host` is the `redis` alias on the cache network.
 */
export function redisUrl(username: string, host = "redis", port = REDIS_TLS_PORT): string {
    return `rediss://${encodeURIComponent(username)}@${host}:${port}/0`;
}

/** Paths inside the Redis container (the official image runs as uid/gid 999). */
export const REDIS_PATHS = {
    config: "/etc/redis/redis.conf",
    acl: "/etc/redis/users.acl",
    caCert: "/etc/redis/ca.crt",
    serverCert: "/etc/redis/server.crt",
    serverKey: "/etc/redis/server.key",
    healthcheckPassword: `${CONTAINER_SECRETS_DIR}/redis_healthcheck_password`,
    deployerPassword: `${CONTAINER_SECRETS_DIR}/redis_deployer_password`,
    data: "/data",
} as const;
export const REDIS_UID = 999;
/**
 * PIDs limit of the Redis container (CIS Docker 5.28): redis-server runs a main thread, three
 * background I/O threads and, while saving, one forked child; 64 leaves room for io-threads.
 */
export const REDIS_PIDS_LIMIT = 64;

/** The TLS material RedisServer asks @pulumi/tls for (the real tests make the same with openssl). */
export const REDIS_TLS = {
    algorithm: "ECDSA",
    ecdsaCurve: "P256",
    caCommonName: "toolboxai Redis CA",
    caValidityHours: 5 * 365 * 24,
    serverValidityHours: 365 * 24,
    /** Renewed by `pulumi up` when less than this remains. */
    earlyRenewalHours: 30 * 24,
    /** The DNS alias clients use on the cache network, plus loopback for the health check. */
    dnsNames: ["redis", "localhost"],
    ipAddresses: ["127.0.0.1"],
} as const;

/** What a Celery worker needs beyond the data categories; each one is tested by taking it away (test/celery.test.ts). */
export const CELERY_WORKER_EXTRAS = ["evalsha", "script|load", "publish", "psubscribe", "unsubscribe"] as const;

/** What redis_exporter runs: INFO for nearly every series, the slow log and latency, its client name (no PING: it connects without). */
export const REDIS_EXPORTER_COMMANDS = ["info", "slowlog|get", "slowlog|len", "latency|latest", "client|setname"] as const;

/**
 * What each ACL user may run. Categories are Redis's own (`ACL CAT`); `-@dangerous` comes last
 * so that FLUSHALL, CONFIG, KEYS, DEBUG and the like stay out whatever the categories before it hold.
 * `-function`: FUNCTION FLUSH/LOAD/DELETE sit in `@write`, not `@dangerous`, and nothing here uses them.
 */
export const REDIS_COMMANDS: Record<RedisUser, string> = {
    // API caching, rate limits, sessions, pub/sub notifications; as a Celery producer it sends tasks,
    // waits for results (SUBSCRIBE) and uses remote control: all inside these categories.
    backend: "~* &* -@all +@read +@write +@transaction +@pubsub +@connection -function -@dangerous",
    // A Celery worker (Redis as broker and result backend): queues (lists, streams) and their
    // bookkeeping, plus what kombu and Celery run beyond data commands (docs/redis-acl.md):
    // EVALSHA and SCRIPT LOAD for redis-py's lock around kombu's unacked restore (scripts run under
    // this same ACL, so they grant no other command; EVAL itself is not needed), PUBLISH for results,
    // events and remote-control replies, PSUBSCRIBE for the remote-control mailbox, UNSUBSCRIBE for
    // a clean shutdown. Channels are `&*`: Celery derives their names from the database number and
    // its exchange names, and a channel holds no stored data.
    worker: `~* &* -@all +@read +@write +@list +@stream +@transaction +@connection ${CELERY_WORKER_EXTRAS.map((c) => `+${c}`).join(" ")} -function -@dangerous`,
    healthcheck: "resetkeys resetchannels -@all +ping",
    // redis_exporter (docs/operations/monitoring.md) with `-config-command=-`: what it runs on each
    // scrape, read from Redis's ACL LOG against a user with none (test/redisExporterAcl.test.ts).
    exporter: `resetkeys resetchannels -@all ${REDIS_EXPORTER_COMMANDS.map((c) => `+${c}`).join(" ")}`,
};

/** Redis stores `#<sha256 hex>` in place of a password: the ACL file holds no plain password. */
export function aclPasswordHash(password: string): string {
    return createHash("sha256").update(password).digest("hex");
}

/**
 * The deployer's user, for `pulumi up` only (through `docker exec` in the Redis container, whose
 * secret volume holds its password): it may change users (ACL SETUSER) and nothing else, so a
 * rotation changes passwords on the running server instead of restarting it.
 */
export const REDIS_DEPLOYER = "toolboxai_deployer";
const DEPLOYER_COMMANDS = "resetkeys resetchannels -@all +acl|setuser";

export interface AclUser {
    username: string;
    /** The password the user's consumer is given. */
    password: string;
    /** Every password the server accepts for it (both rotation slots during the overlap); `password` alone when absent. */
    passwords?: readonly string[];
}

/** `#<hash>` of each accepted password, in a fixed order. */
function passwordHashes(user: AclUser): string {
    return [...new Set(user.passwords ?? [user.password])].map((p) => `#${aclPasswordHash(p)}`).join(" ");
}

export function aclFile(users: Record<RedisUser, AclUser>, deployerPassword?: string): string {
    const lines = ["user default off resetpass resetkeys resetchannels -@all"];
    for (const user of Object.keys(REDIS_COMMANDS) as RedisUser[]) {
        lines.push(`user ${users[user].username} on resetpass ${passwordHashes(users[user])} ${REDIS_COMMANDS[user]}`);
    }
    if (deployerPassword !== undefined)
        lines.push(`user ${REDIS_DEPLOYER} on resetpass #${aclPasswordHash(deployerPassword)} ${DEPLOYER_COMMANDS}`);
    return `${lines.join("\n")}\n`;
}

/**
 * redis-cli's input (one command a line) that gives each user, on the running server, the
 * passwords the ACL file gives it. ACL SETUSER changes the user in place: its other rules stay and
 * its open connections stay open (ACL LOAD would drop them).
 */
export function aclPasswordCommands(users: Record<RedisUser, AclUser>): string {
    return (Object.keys(REDIS_COMMANDS) as RedisUser[])
        .map((user) => `ACL SETUSER ${users[user].username} resetpass ${passwordHashes(users[user])}`)
        .join("\n")
        .concat("\n");
}

/** The deployer's command (run by `/bin/sh -c` where `pulumi up` runs): the script below in the Redis container, stdin passed through. */
export function aclApplyCommand(container: string): string {
    if (!/^[\w.-]+$/.test(container)) throw new Error(`not a Docker container name: ${JSON.stringify(container)}`);
    return `docker exec -i ${container} sh -c '${aclApplyScript().replace(/'/g, "'\\''")}'`;
}

/**
 * The POSIX sh the deployer runs in the Redis container (`docker exec -i`), commands on stdin: as
 * the deployer's user over TLS, its password read from its file (never on a command line). A
 * server that was just (re)created may not listen yet: it tries for 30 s, then fails printing the
 * server's last replies unless every reply was OK.
 */
export function aclApplyScript(
    where: { caCert: string; passwordFile: string; port: number } = {
        caCert: REDIS_PATHS.caCert,
        passwordFile: REDIS_PATHS.deployerPassword,
        port: REDIS_TLS_PORT,
    },
): string {
    const cli = `redis-cli --tls --cacert ${where.caCert} -p ${where.port} --user ${REDIS_DEPLOYER} --no-auth-warning`;
    return [
        'commands="$(cat)"; tries=0; while :; do',
        `out="$(printf '%s\\n' "$commands" | REDISCLI_AUTH="$(cat ${where.passwordFile})" ${cli} 2>&1)";`,
        `if [ -n "$out" ] && ! printf '%s\\n' "$out" | grep -qv '^OK$'; then exit 0; fi;`,
        `tries=$((tries + 1)); if [ "$tries" -ge 30 ]; then printf '%s\\n' "$out" >&2; exit 1; fi; sleep 1; done`,
    ].join(" ");
}

export function redisConf(): string {
    return [
        "# Generated by Pulumi (toolboxai:cache:RedisServer). TLS only: the plain port is off.",
        "port 0",
        `tls-port ${REDIS_TLS_PORT}`,
        `tls-cert-file ${REDIS_PATHS.serverCert}`,
        `tls-key-file ${REDIS_PATHS.serverKey}`,
        `tls-ca-cert-file ${REDIS_PATHS.caCert}`,
        // Clients prove who they are with ACL passwords; they verify the server with the CA.
        "tls-auth-clients no",
        'tls-protocols "TLSv1.2 TLSv1.3"',
        "tls-prefer-server-ciphers yes",
        `aclfile ${REDIS_PATHS.acl}`,
        "protected-mode yes",
        "bind 0.0.0.0",
        // The official image's working directory is /data, where the data volume is mounted.
        "dir ./",
        "appendonly yes",
        "appendfsync everysec",
        "save 900 1 300 10 60 10000",
        "maxmemory-policy noeviction",
        "",
    ].join("\n");
}
