/**
 * Monitoring (docs/operations/monitoring.md): Prometheus, Alertmanager and the exporters in the
 * Docker runtime. Off unless a stack turns it on: it needs a receiver the team has made (a
 * webhook or Slack URL, a secret) before alerts reach anyone.
 */
import { RECEIVER_KINDS } from "../monitoring/alertmanager";
import { boolean, httpUrl, image, integer, oneOf } from "./parsers";
import { secretSettings } from "./secrets";
import { bad, ok } from "./schema";

export const MONITORING_RECEIVERS = [...RECEIVER_KINDS, "none"] as const;
export type MonitoringReceiver = (typeof MONITORING_RECEIVERS)[number];

/** Upstream images, pinned; their busybox `wget` serves the health checks. */
export const MONITORING_IMAGES = {
    prometheusImage: "prom/prometheus:v2.53.2",
    alertmanagerImage: "prom/alertmanager:v0.27.0",
    redisExporterImage: "oliver006/redis_exporter:v1.62.0-alpine",
    postgresExporterImage: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
    nodeExporterImage: "prom/node-exporter:v1.8.2",
} as const;

const pinnedInProd = (raw: string, s: { environment?: string }) => image(s.environment === "prod")(raw);

export const monitoringSettings = secretSettings
    .group("Monitoring (docs/operations/monitoring.md)")
    .add("monitoringEnabled", boolean, {
        type: "boolean",
        doc: "Run Prometheus, Alertmanager and the exporters beside the services, and alert on the rules of lib/monitoring/alerts.ts.",
        default: false,
    })
    .add("monitoringReceiver", oneOf(MONITORING_RECEIVERS), {
        type: "string",
        doc: "Where Alertmanager sends: webhook (monitoringReceiverUrl gets the JSON of each group), slack (an incoming webhook), or none (alerts only in Alertmanager's own page).",
        default: "webhook",
    })
    .add("monitoringSlackChannel", (raw) => (/^#[\w-]{1,80}$/.test(raw) ? ok(raw) : bad<string>("must be a channel such as #ops-alerts")), {
        type: "string",
        optional: true,
        yamlDefault: "",
        doc: "Slack channel when monitoringReceiver is slack; the webhook's own channel when unset.",
        defaultText: "the webhook's channel",
    })
    .add("monitoringRunbookUrl", httpUrl(false), {
        type: "string",
        optional: true,
        yamlDefault: "",
        doc: "Where the team reads docs/operations/monitoring.md (e.g. the repository's page of it): each alert links its section there.",
        defaultText: "the path docs/operations/monitoring.md",
    })
    .add("prometheusRetentionDays", integer(1, 3650), {
        type: "integer",
        doc: "Days Prometheus keeps its series on its data volume.",
        default: 15,
    })
    .add("prometheusImage", pinnedInProd, {
        type: "string",
        doc: "Prometheus image; same pinning rule as backendImage.",
        default: MONITORING_IMAGES.prometheusImage,
    })
    .add("alertmanagerImage", pinnedInProd, {
        type: "string",
        doc: "Alertmanager image; same pinning rule as backendImage.",
        default: MONITORING_IMAGES.alertmanagerImage,
    })
    .add("redisExporterImage", pinnedInProd, {
        type: "string",
        doc: "redis_exporter image (with a shell and wget for its health check: the -alpine variant); same pinning rule as backendImage.",
        default: MONITORING_IMAGES.redisExporterImage,
    })
    .add("postgresExporterImage", pinnedInProd, {
        type: "string",
        doc: "postgres_exporter image (local mode: the hosted project serves its own metrics); same pinning rule as backendImage.",
        default: MONITORING_IMAGES.postgresExporterImage,
    })
    .add("nodeExporterImage", pinnedInProd, {
        type: "string",
        doc: "node_exporter image (the Docker host's figures and the ops tool's textfile metrics); same pinning rule as backendImage.",
        default: MONITORING_IMAGES.nodeExporterImage,
    })
    .secret("monitoringReceiverUrl", {
        doc: "The receiver's URL (monitoringReceiver webhook or slack): it authorises whoever holds it to post, so it is a secret.",
        defaultText: "required when monitoring sends to a receiver (secret)",
        undeclared: true,
        appliesWhen: (s) => s.monitoringEnabled === true && s.monitoringReceiver !== "none",
        required: (s) =>
            s.monitoringEnabled === true && s.monitoringReceiver !== "none"
                ? `is required when monitoringEnabled is true and monitoringReceiver is ${s.monitoringReceiver}: set it with \`pulumi config set --secret monitoringReceiverUrl <url>\`, or set monitoringReceiver none`
                : undefined,
        check: (v) => (httpUrl(true)(v).ok ? undefined : "must be an https:// URL with a host"),
    });
