/**
 * Prometheus, Alertmanager and the exporters as part of the Docker runtime
 * (docs/operations/monitoring.md): each one an AppService, hardened as every container (read-only
 * root, its own uid, capabilities dropped, memory and PIDs limits, a health check), its files as
 * 0400 secrets or 0444 configs (Docker secrets and configs in Swarm), on the stack's networks.
 * Prometheus and Alertmanager keep their data on protected volumes. Nothing is published but
 * Prometheus's and Alertmanager's pages, on the host's loopback only (single host).
 */
import * as pulumi from "@pulumi/pulumi";
import type { DockerMode, DockerNetwork, MonitoringReceiver, SwarmEndpointMode } from "../lib/config";
import { gatewayHosts } from "../lib/endpoints";
import { alertmanagerConfig, SLACK_URL_FILE } from "../lib/monitoring/alertmanager";
import { rulesFile, type AlertInputs } from "../lib/monitoring/alerts";
import { nodeExporterArgs, postgresExporterEnv, redisExporterArgs, redisExporterPasswordFile } from "../lib/monitoring/exporters";
import { prometheusCommand, prometheusConfig, type ScrapeInputs } from "../lib/monitoring/prometheus";
import {
    DATA_PATHS,
    MONITORING_ALIASES,
    MONITORING_FILES,
    MONITORING_PORTS,
    MONITORING_UID,
    NODE_EXPORTER_PATHS,
} from "../lib/monitoring/runtime";
import { AppService } from "./AppService";
import type { SwarmRegistryLogin } from "../lib/swarm/resource";

/** The Swarm node label that marks where Prometheus's and Alertmanager's data volumes live. */
export const MONITORING_NODE_LABEL = "toolboxai-monitoring";

export interface MonitoringArgs {
    stack: string;
    mode: DockerMode;
    /** Swarm mode: how the services find each other (vip or dnsrr), as for the application's services. */
    endpointMode: SwarmEndpointMode;
    tags: Record<string, string>;
    dockerHost: string;
    /** Swarm mode: the login for private images (the services' own, components/AppService.ts). */
    registry?: SwarmRegistryLogin;
    networks: { names: Record<DockerNetwork, pulumi.Input<string>>; ids: Record<DockerNetwork, pulumi.Input<string>> };
    images: { prometheus: string; alertmanager: string; redisExporter: string; postgresExporter: string; nodeExporter: string };
    retentionDays: number;
    receiver: { kind: MonitoringReceiver; url?: pulumi.Output<string>; slackChannel?: string };
    /** The hosted project: its ref, its replicas' identifiers, and the metrics key of its own (a secret). */
    hosted?: { ref: pulumi.Input<string>; replicaIdentifiers: pulumi.Input<string[]>; metricsKey: pulumi.Output<string> };
    redis: { username: string; password: pulumi.Output<string>; caCertPem: pulumi.Input<string> };
    /** Local mode: the database postgres_exporter reads, as containers reach it. */
    postgres?: { host: string; port: number; database: string; user: string; sslMode: string; password: pulumi.Output<string> };
    /** The backup job's DNS name, when one runs. */
    backupJob?: string;
    /** The rules' inputs; certificates' ends as Outputs (known once issued). */
    alerts: Omit<AlertInputs, "certificates"> & { certificates: { name: string; notAfter: pulumi.Input<string> }[] };
}

/** Limits per container: Prometheus's head block grows with the series (about 200 per hosted target). */
const LIMITS = {
    prometheus: { memoryMb: 1024, cpus: 1, pidsLimit: 256 },
    alertmanager: { memoryMb: 256, cpus: 0.5, pidsLimit: 128 },
    redisExporter: { memoryMb: 128, cpus: 0.25, pidsLimit: 64 },
    postgresExporter: { memoryMb: 128, cpus: 0.25, pidsLimit: 64 },
    nodeExporter: { memoryMb: 128, cpus: 0.25, pidsLimit: 64 },
} as const;

const health = (port: number, path: string) => ({
    tests: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
    interval: "30s",
    timeout: "5s",
    retries: 3,
    startPeriod: "30s",
});

export class Monitoring extends pulumi.ComponentResource {
    /** Container or service names, by part. */
    readonly runtimeNames: Record<string, pulumi.Output<string>[]>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:monitoring:Monitoring", name, {}, opts);
        const child = { parent: this };
        const uid = String(MONITORING_UID);
        const single = args.mode === "single";
        // The pages on the host's loopback (reach them through an SSH tunnel); Swarm's ingress would publish on every node.
        const onLoopback = (port: number) => (single ? [{ published: port, target: port }] : []);
        const common = {
            stack: args.stack,
            mode: args.mode,
            endpointMode: args.endpointMode,
            networks: args.networks,
            tags: args.tags,
            dockerHost: args.dockerHost,
            registry: args.registry,
            hostAddress: "127.0.0.1",
            uid,
        };
        const service = (
            part: string,
            spec: {
                name: string;
                image: string;
                command: string[];
                networks: DockerNetwork[];
                ports?: { published: number; target: number }[];
            } & (typeof LIMITS)[keyof typeof LIMITS],
            rest: {
                environment?: Record<string, pulumi.Input<string>>;
                secretFiles?: Record<string, pulumi.Input<string>>;
                files?: Record<string, pulumi.Input<string>>;
                healthcheck: ReturnType<typeof health>;
                hosts?: { host: string; ip: string }[];
                data?: string;
                hostMounts?: { hostPath: string; containerPath: string }[];
            },
        ) =>
            new AppService(
                `${name}-${part}`,
                {
                    ...common,
                    spec: { ...spec, role: "monitoring", replicas: 1, ports: spec.ports ?? [] },
                    environment: rest.environment ?? {},
                    secretFiles: rest.secretFiles ?? {},
                    files: rest.files ?? {},
                    healthcheck: rest.healthcheck,
                    hosts: rest.hosts,
                    data: rest.data
                        ? { volume: `${spec.name}-data`, containerPath: rest.data, swarmNodeLabel: MONITORING_NODE_LABEL }
                        : undefined,
                    hostMounts: rest.hostMounts && { paths: rest.hostMounts, swarmNodeLabel: MONITORING_NODE_LABEL },
                },
                child,
            );

        const scrape: pulumi.Output<ScrapeInputs> = pulumi
            .all([args.hosted?.ref, args.hosted?.replicaIdentifiers])
            .apply(([ref, replicas]) => ({
                stack: args.stack,
                hosted:
                    ref === undefined
                        ? undefined
                        : {
                              scheme: "https" as const,
                              targets: [
                                  { address: `${ref}.supabase.co`, role: "primary" as const },
                                  ...(replicas ?? []).map((id) => ({ address: `${id}.supabase.co`, role: "replica" as const })),
                              ],
                          },
                backupJob: args.backupJob,
                redisExporter: true,
                postgresExporter: args.postgres !== undefined,
                nodeExporter: true,
            }));
        // Strings through the Outputs (an Output's value is unwrapped deeply: a Date would not survive), Dates in the rules' inputs.
        const rules = pulumi.all(args.alerts.certificates.map((c) => pulumi.output(c.notAfter))).apply((ends) =>
            rulesFile({
                ...args.alerts,
                certificates: args.alerts.certificates.map((c, n) => ({ name: c.name, notAfter: new Date(ends[n]) })),
            }),
        );

        const prometheus = service(
            "prometheus",
            {
                name: MONITORING_ALIASES.prometheus,
                image: args.images.prometheus,
                command: prometheusCommand(args.retentionDays),
                // frontend: the hosted endpoint and the backup job; backend: Alertmanager and the exporters.
                networks: ["frontend", "backend"],
                ports: onLoopback(MONITORING_PORTS.prometheus),
                ...LIMITS.prometheus,
            },
            {
                files: { [MONITORING_FILES.prometheusConfig]: scrape.apply(prometheusConfig), [MONITORING_FILES.rules]: rules },
                secretFiles: args.hosted ? { [MONITORING_FILES.supabaseMetricsKey]: args.hosted.metricsKey } : {},
                healthcheck: health(MONITORING_PORTS.prometheus, "/-/healthy"),
                data: DATA_PATHS.prometheus,
            },
        );

        const receiverFiles: Record<string, pulumi.Input<string>> = {};
        const url = args.receiver.url ?? pulumi.output("");
        receiverFiles[MONITORING_FILES.alertmanagerConfig] = pulumi.secret(
            url.apply((webhookUrl) =>
                args.receiver.kind === "none"
                    ? alertmanagerConfig({ kind: "none" })
                    : alertmanagerConfig({ kind: args.receiver.kind, webhookUrl, slackChannel: args.receiver.slackChannel }),
            ),
        );
        if (args.receiver.kind === "slack") receiverFiles[SLACK_URL_FILE.split("/").pop()!] = url;
        const alertmanager = service(
            "alertmanager",
            {
                name: MONITORING_ALIASES.alertmanager,
                image: args.images.alertmanager,
                command: [
                    `--config.file=/run/secrets/${MONITORING_FILES.alertmanagerConfig}`,
                    `--storage.path=${DATA_PATHS.alertmanager}`,
                    `--web.listen-address=:${MONITORING_PORTS.alertmanager}`,
                    // One Alertmanager: no gossip port.
                    "--cluster.listen-address=",
                ],
                // backend: Prometheus reaches it; frontend: the receiver is outside.
                networks: ["frontend", "backend"],
                ports: onLoopback(MONITORING_PORTS.alertmanager),
                ...LIMITS.alertmanager,
            },
            { secretFiles: receiverFiles, healthcheck: health(MONITORING_PORTS.alertmanager, "/-/healthy"), data: DATA_PATHS.alertmanager },
        );

        const redisExporter = service(
            "redis-exporter",
            {
                name: MONITORING_ALIASES.redisExporter,
                image: args.images.redisExporter,
                command: redisExporterArgs({ user: args.redis.username }),
                // cache: Redis; backend: Prometheus.
                networks: ["cache", "backend"],
                ...LIMITS.redisExporter,
            },
            {
                secretFiles: { [MONITORING_FILES.redisExporterPassword]: args.redis.password.apply((p) => redisExporterPasswordFile(p)) },
                files: { [MONITORING_FILES.redisCaCert]: args.redis.caCertPem },
                healthcheck: health(MONITORING_PORTS.redisExporter, "/health"),
            },
        );

        // The Docker host's figures, and the ops tool's (drill, doctor) from the host's textfile directory.
        const nodeExporter = service(
            "node-exporter",
            {
                name: MONITORING_ALIASES.nodeExporter,
                image: args.images.nodeExporter,
                command: nodeExporterArgs(),
                // backend: Prometheus; it reaches nothing itself.
                networks: ["backend"],
                ...LIMITS.nodeExporter,
            },
            {
                healthcheck: health(MONITORING_PORTS.nodeExporter, "/"),
                hostMounts: [
                    { hostPath: "/proc", containerPath: NODE_EXPORTER_PATHS.procfs },
                    { hostPath: "/sys", containerPath: NODE_EXPORTER_PATHS.sysfs },
                    { hostPath: "/", containerPath: NODE_EXPORTER_PATHS.rootfs },
                    { hostPath: NODE_EXPORTER_PATHS.hostTextfileDir, containerPath: NODE_EXPORTER_PATHS.textfileDir },
                ],
            },
        );

        const parts: Record<string, AppService> = { prometheus, alertmanager, redisExporter, nodeExporter };
        if (args.postgres) {
            const pg = args.postgres;
            parts.postgresExporter = service(
                "postgres-exporter",
                {
                    name: MONITORING_ALIASES.postgresExporter,
                    image: args.images.postgresExporter,
                    command: [],
                    // The local database is on the host (host.docker.internal); Prometheus reaches it on frontend.
                    networks: ["frontend"],
                    ...LIMITS.postgresExporter,
                },
                {
                    environment: postgresExporterEnv(pg),
                    secretFiles: { [MONITORING_FILES.postgresPassword]: pg.password },
                    healthcheck: health(MONITORING_PORTS.postgresExporter, "/"),
                    hosts: gatewayHosts([pg.host]),
                },
            );
        }
        this.runtimeNames = Object.fromEntries(Object.entries(parts).map(([part, s]) => [part, s.runtimeNames]));
        this.registerOutputs({ runtimeNames: this.runtimeNames });
    }
}
