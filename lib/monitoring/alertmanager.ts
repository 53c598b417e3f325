/**
 * Alertmanager's configuration, generated: one receiver from the stack's config, alerts grouped by
 * component (one incident, one message), and a critical alert silencing the warnings of its own
 * component (a database that is down also has no connections to count).
 *
 * Alertmanager 0.25 (Debian 12's) has no `url_file` for webhooks (it came in 0.26), so the
 * webhook's URL is in this text: the whole file is a secret (0400 file, a Docker secret in Swarm),
 * and Alertmanager publishes no port. Slack reads its URL from a file (`api_url_file`).
 */
import { dump } from "js-yaml";
import { MONITORING_FILES, secretPath } from "./runtime";

export const RECEIVER_KINDS = ["webhook", "slack"] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

/** How long to wait for more alerts of a group before the first message, between messages of a group, and before repeating one. */
export const ALERT_TIMING = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" } as const;

/** The file Slack's receiver reads its webhook URL from. */
export const SLACK_URL_FILE = secretPath("alertmanager_slack_url");

export interface ReceiverInputs {
    /** none: alerts stay in Alertmanager's own page. */
    kind: ReceiverKind | "none";
    /** The webhook's URL (a secret): inline for `webhook`, unused for `slack` (read from SLACK_URL_FILE). */
    webhookUrl?: string;
    /** Slack channel, e.g. #ops-alerts. */
    slackChannel?: string;
    timing?: Partial<Record<keyof typeof ALERT_TIMING, string>>;
}

export const RECEIVER = "team";

export function alertmanagerConfig(i: ReceiverInputs): string {
    const timing = { ...ALERT_TIMING, ...i.timing };
    let receiver: object;
    if (i.kind === "none") receiver = { name: RECEIVER };
    else if (i.kind === "webhook") {
        if (!i.webhookUrl) throw new Error("alertmanagerConfig: a webhook receiver needs its URL");
        receiver = { name: RECEIVER, webhook_configs: [{ url: i.webhookUrl, send_resolved: true }] };
    } else
        receiver = {
            name: RECEIVER,
            slack_configs: [
                {
                    api_url_file: SLACK_URL_FILE,
                    ...(i.slackChannel ? { channel: i.slackChannel } : {}),
                    send_resolved: true,
                    title: "{{ .Status | toUpper }} {{ .CommonLabels.component }}: {{ .CommonLabels.alertname }}",
                    text: "{{ range .Alerts }}{{ .Annotations.summary }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
                },
            ],
        };
    return dump(
        {
            route: {
                receiver: RECEIVER,
                group_by: ["stack", "component"],
                group_wait: timing.groupWait,
                group_interval: timing.groupInterval,
                repeat_interval: timing.repeatInterval,
            },
            inhibit_rules: [
                { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["stack", "component"] },
            ],
            receivers: [receiver],
        },
        { lineWidth: -1, noRefs: true },
    );
}

/** The file name under /run/secrets that holds this configuration. */
export const ALERTMANAGER_CONFIG_FILE = MONITORING_FILES.alertmanagerConfig;
