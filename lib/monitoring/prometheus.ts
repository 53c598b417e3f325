/**
 * Prometheus's configuration, generated. Passwords are never in it: basic auth reads its password
 * from a secret file (`password_file`), so the configuration text, Prometheus's /config page and
 * its status API show a path only.
 */
import { dump } from "js-yaml";
import { DATA_PATHS, filePath, MONITORING_ALIASES, MONITORING_FILES, MONITORING_PORTS, secretPath, SUPABASE_METRICS } from "./runtime";

export interface ScrapeInputs {
    /** The stack: an external label on every series and alert. */
    stack: string;
    /** The hosted project's metrics endpoint and each replica's (`<ref>.supabase.co`), with their role; absent when not hosted. */
    hosted?: { scheme: "https" | "http"; targets: { address: string; role: "primary" | "replica" }[] };
    /** The backup job's DNS name (every replica answers it; Swarm: `tasks.<service>`); absent when none runs. */
    backupJob?: string;
    redisExporter: boolean;
    postgresExporter: boolean;
    /** node_exporter on the Docker host: the host's figures and the ops tool's (its textfile collector). */
    nodeExporter?: boolean;
    /** How often to scrape and evaluate the rules (other than the hosted endpoint, which Supabase asks to scrape once a minute). */
    interval?: string;
    /** The hosted endpoint's scrape interval. */
    hostedInterval?: string;
}

export const PROMETHEUS_INTERVAL = "30s";

export function prometheusConfig(i: ScrapeInputs): string {
    const interval = i.interval ?? PROMETHEUS_INTERVAL;
    const jobs: object[] = [{ job_name: "prometheus", static_configs: [{ targets: [`localhost:${MONITORING_PORTS.prometheus}`] }] }];
    if (i.hosted && i.hosted.targets.length > 0)
        jobs.push({
            job_name: "supabase",
            scheme: i.hosted.scheme,
            metrics_path: SUPABASE_METRICS.path,
            scrape_interval: i.hostedInterval ?? SUPABASE_METRICS.scrapeInterval,
            basic_auth: { username: SUPABASE_METRICS.username, password_file: secretPath(MONITORING_FILES.supabaseMetricsKey) },
            static_configs: (["primary", "replica"] as const)
                .map((role) => ({ targets: i.hosted!.targets.filter((t) => t.role === role).map((t) => t.address), labels: { role } }))
                .filter((c) => c.targets.length > 0),
        });
    if (i.redisExporter)
        jobs.push({
            job_name: "redis",
            static_configs: [{ targets: [`${MONITORING_ALIASES.redisExporter}:${MONITORING_PORTS.redisExporter}`] }],
        });
    if (i.postgresExporter)
        jobs.push({
            job_name: "postgres",
            static_configs: [{ targets: [`${MONITORING_ALIASES.postgresExporter}:${MONITORING_PORTS.postgresExporter}`] }],
        });
    if (i.nodeExporter)
        jobs.push({
            job_name: "node",
            static_configs: [{ targets: [`${MONITORING_ALIASES.nodeExporter}:${MONITORING_PORTS.nodeExporter}`] }],
        });
    if (i.backupJob)
        // Every replica of the job answers the name: each becomes a target of its own.
        jobs.push({
            job_name: "backup",
            dns_sd_configs: [{ names: [i.backupJob], type: "A", port: MONITORING_PORTS.backupJob, refresh_interval: interval }],
        });
    return dump(
        {
            global: { scrape_interval: interval, evaluation_interval: interval, external_labels: { stack: i.stack } },
            rule_files: [filePath(MONITORING_FILES.rules)],
            alerting: {
                alertmanagers: [{ static_configs: [{ targets: [`${MONITORING_ALIASES.alertmanager}:${MONITORING_PORTS.alertmanager}`] }] }],
            },
            scrape_configs: jobs,
        },
        { lineWidth: -1, noRefs: true },
    );
}

/** Prometheus's command line: the generated files, the data volume, the console templates where the official image has them. */
export function prometheusCommand(retentionDays: number): string[] {
    return [
        `--config.file=${filePath(MONITORING_FILES.prometheusConfig)}`,
        `--storage.tsdb.path=${DATA_PATHS.prometheus}`,
        `--storage.tsdb.retention.time=${retentionDays}d`,
        `--web.listen-address=:${MONITORING_PORTS.prometheus}`,
        "--web.console.templates=/usr/share/prometheus/consoles",
        "--web.console.libraries=/usr/share/prometheus/console_libraries",
    ];
}
