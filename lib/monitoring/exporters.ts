/**
 * The exporters' command lines and files: redis_exporter as its own ACL user over TLS, its
 * password from a file (never the command line or the environment), and postgres_exporter in
 * local mode with its password from a file.
 */
import { REDIS_TLS_PORT } from "../redis";
import { filePath, MONITORING_FILES, MONITORING_PORTS, NODE_EXPORTER_PATHS, secretPath } from "./runtime";

export const REDIS_EXPORTER_ADDRESS = `rediss://redis:${REDIS_TLS_PORT}`;

/** redis_exporter's arguments. `-config-command=-`: no CONFIG GET (an admin command; INFO has what the rules need). */
export function redisExporterArgs(o: { address?: string; user: string; passwordFile?: string; caCertFile?: string }): string[] {
    return [
        `-redis.addr=${o.address ?? REDIS_EXPORTER_ADDRESS}`,
        `-redis.user=${o.user}`,
        `-redis.password-file=${o.passwordFile ?? secretPath(MONITORING_FILES.redisExporterPassword)}`,
        `-tls-ca-cert-file=${o.caCertFile ?? filePath(MONITORING_FILES.redisCaCert)}`,
        "-config-command=-",
        `-web.listen-address=:${MONITORING_PORTS.redisExporter}`,
    ];
}

/** redis_exporter's password file: a JSON object of the Redis address to its password. */
export function redisExporterPasswordFile(password: string, address = REDIS_EXPORTER_ADDRESS): string {
    return `${JSON.stringify({ [address]: password })}\n`;
}

/** postgres_exporter's environment (local mode): where the database is, as whom; the password is a file. */
export function postgresExporterEnv(o: {
    host: string;
    port: number;
    database: string;
    user: string;
    sslMode: string;
}): Record<string, string> {
    return {
        DATA_SOURCE_URI: `${o.host}:${o.port}/${encodeURIComponent(o.database)}?sslmode=${o.sslMode}`,
        DATA_SOURCE_USER: o.user,
        DATA_SOURCE_PASS_FILE: secretPath(MONITORING_FILES.postgresPassword),
        PG_EXPORTER_WEB_LISTEN_ADDRESS: `:${MONITORING_PORTS.postgresExporter}`,
    };
}

/**
 * node_exporter's arguments: the host's /proc, /sys and root filesystem where the container mounts
 * them, and the textfile collector on the directory the ops tool writes `*.prom` files into.
 * The container has its own network namespace, so the network collectors would describe the
 * container, not the host: they are off.
 */
export function nodeExporterArgs(o: { textfileDir?: string; paths?: { procfs: string; sysfs: string; rootfs: string } } = {}): string[] {
    const paths = o.paths ?? NODE_EXPORTER_PATHS;
    return [
        `--path.procfs=${paths.procfs}`,
        `--path.sysfs=${paths.sysfs}`,
        `--path.rootfs=${paths.rootfs}`,
        `--collector.textfile.directory=${o.textfileDir ?? NODE_EXPORTER_PATHS.textfileDir}`,
        "--no-collector.netdev",
        "--no-collector.netstat",
        "--no-collector.sockstat",
        "--no-collector.arp",
        `--web.listen-address=:${MONITORING_PORTS.nodeExporter}`,
    ];
}
