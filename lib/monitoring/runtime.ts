/**
 * Facts about the monitoring containers shared by the generators, the component and the backup
 * job: ports, paths inside the containers, the user they run as. Loads no SDK (the job's bundle imports it).
 */
import { CONTAINER_FILES_DIR, CONTAINER_SECRETS_DIR } from "../constants";

export const MONITORING_PORTS = {
    prometheus: 9090,
    alertmanager: 9093,
    redisExporter: 9121,
    postgresExporter: 9187,
    backupJob: 9464,
    nodeExporter: 9100,
} as const;

/** The official Prometheus, Alertmanager and exporter images run as nobody; their data directories belong to it. */
export const MONITORING_UID = 65534;

/** Names of the files each container gets (secret ones under /run/secrets, public ones under /etc/toolboxai). */
export const MONITORING_FILES = {
    prometheusConfig: "prometheus.yml",
    rules: "alerts.yml",
    alertmanagerConfig: "alertmanager.yml",
    supabaseMetricsKey: "supabase_metrics_key",
    redisExporterPassword: "redis_exporter_password.json",
    redisCaCert: "redis-ca.crt",
    postgresPassword: "postgres_exporter_password",
} as const;

export const secretPath = (file: string) => `${CONTAINER_SECRETS_DIR}/${file}`;
export const filePath = (file: string) => `${CONTAINER_FILES_DIR}/${file}`;

/** Where Prometheus and Alertmanager keep their data (the protected volume). */
export const DATA_PATHS = { prometheus: "/prometheus", alertmanager: "/alertmanager" } as const;

/** The DNS names the monitoring containers answer to on the networks they share. */
export const MONITORING_ALIASES = {
    prometheus: "prometheus",
    alertmanager: "alertmanager",
    redisExporter: "redis-exporter",
    postgresExporter: "postgres-exporter",
    nodeExporter: "node-exporter",
} as const;

/** Supabase's metrics endpoint of a hosted project or replica (shared/reference: HTTP Basic, user service_role). */
export const SUPABASE_METRICS = { path: "/customer/v1/privileged/metrics", username: "service_role", scrapeInterval: "1m" } as const;

/** The series the backup job serves (backup-job/metrics.ts) and the rules read (./alerts.ts). */
export const BACKUP_SERIES = {
    lastSuccess: "toolboxai_backup_last_success_timestamp_seconds",
    lastAttempt: "toolboxai_backup_last_attempt_timestamp_seconds",
    lastFailed: "toolboxai_backup_last_attempt_failed",
    duration: "toolboxai_backup_last_duration_seconds",
    size: "toolboxai_backup_last_size_bytes",
    verificationOk: "toolboxai_backup_last_verification_ok",
} as const;

/**
 * The series the ops tool writes with `--metrics-file` (lib/monitoring/textfile.ts) for
 * node_exporter's textfile collector, and the rules read (./alerts.ts).
 */
export const OPS_SERIES = {
    drillLastResult: "toolboxai_restore_drill_last_result",
    drillLastTimestamp: "toolboxai_restore_drill_last_run_timestamp_seconds",
    drillDuration: "toolboxai_restore_drill_last_duration_seconds",
    networkBans: "toolboxai_supabase_network_bans",
    networkBansApplicationHosts: "toolboxai_supabase_network_bans_application_hosts",
    doctorLastTimestamp: "toolboxai_doctor_last_run_timestamp_seconds",
} as const;

/**
 * node_exporter on the Docker host: the host's /proc, /sys and root filesystem read-only under
 * /host, and the host directory of `*.prom` files its textfile collector reads (Debian's
 * prometheus-node-exporter package uses the same directory, so either can read what the ops tool writes).
 */
export const NODE_EXPORTER_PATHS = {
    hostTextfileDir: "/var/lib/prometheus/node-exporter",
    textfileDir: "/host/textfile",
    procfs: "/host/proc",
    sysfs: "/host/sys",
    rootfs: "/host/root",
} as const;
