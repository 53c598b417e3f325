/**
 * The generated monitoring configuration through Prometheus's and Alertmanager's own checkers
 * (Debian's prometheus and prometheus-alertmanager packages): `promtool check config`,
 * `promtool check rules`, `amtool check-config`, and `promtool test rules` with, for every alert,
 * a synthetic series that fires it and a healthy one that does not. The series straddle each
 * threshold closely and the expected labels and summaries are written out: moving a threshold
 * or changing a label fails here.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dump } from "js-yaml";
import { describe, expect, it } from "vitest";
import { alertRules, rulesFile, type AlertInputs } from "../lib/monitoring/alerts";
import { alertmanagerConfig } from "../lib/monitoring/alertmanager";
import { prometheusConfig } from "../lib/monitoring/prometheus";
import { MONITORING_FILES, OPS_SERIES } from "../lib/monitoring/runtime";
import { requireTool } from "./support/tools";

const run = promisify(execFile);
const HOUR = 3600_000;
const RUNBOOK = "https://git.example/infra/docs/operations/monitoring.md";
/**
 * Times from the Unix epoch, where promtool's synthetic series start; the deadlines fall within a
 * few hours of it (promtool evaluates every minute up to the case's time).
 */
const INPUTS: AlertInputs = {
    runbookUrl: RUNBOOK,
    backupSchedule: "0 2 * * *",
    poolerClientLimit: 200,
    // Overdue 24 h after the period's end: at 2 h.
    rotationEndsAt: new Date(-22 * HOUR),
    // Warned 21 days before the end: at 2 h.
    certificates: [{ name: "redis-server", notAfter: new Date((21 * 24 + 2) * HOUR) }],
};

type Labels = Record<string, string>;
interface Case {
    /** Series, promtool's notation (`metric{labels}` and `values`). */
    series: { series: string; values: string }[];
    evalTime: string;
}
interface AlertCase {
    fires: Case & { labels: Labels; summary: string };
    healthy: Case;
}

const supabase = 'job="supabase",instance="ref.supabase.co"';
const at = (evalTime: string, ...series: [string, string][]): Case => ({
    evalTime,
    series: series.map(([s, values]) => ({ series: s, values })),
});
const fires = (c: Case, labels: Labels, summary: string) => ({ ...c, labels, summary });

/** One firing and one healthy case per alert; labels are the alert's full label set. */
const CASES: Record<string, AlertCase> = {
    DatabaseDown: {
        fires: fires(
            at("2m", [`pg_up{${supabase}}`, "0x5"]),
            { severity: "critical", component: "database", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: the database answers no query",
        ),
        healthy: at("2m", [`pg_up{${supabase}}`, "1x5"]),
    },
    ScrapeTargetDown: {
        fires: fires(
            at("6m", ['up{job="redis",instance="redis-exporter:9121"}', "0x10"]),
            { severity: "warning", component: "monitoring", job: "redis", instance: "redis-exporter:9121" },
            "redis redis-exporter:9121: Prometheus cannot scrape this target",
        ),
        healthy: at("6m", ['up{job="redis",instance="redis-exporter:9121"}', "1x10"]),
    },
    HostCpuBusy: {
        // Idle seconds growing 6 per minute on one core: 90 % busy; 12 per minute: 80 %.
        fires: fires(
            at("16m", [`node_cpu_seconds_total{${supabase},cpu="0",mode="idle"}`, "0+6x20"]),
            { severity: "warning", component: "host", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: CPU 90% busy (above 85%)",
        ),
        healthy: at("16m", [`node_cpu_seconds_total{${supabase},cpu="0",mode="idle"}`, "0+12x20"]),
    },
    HostMemoryLow: {
        fires: fires(
            at("11m", [`node_memory_MemAvailable_bytes{${supabase}}`, "8x15"], [`node_memory_MemTotal_bytes{${supabase}}`, "100x15"]),
            { severity: "warning", component: "host", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: 8% of memory available (below 10%)",
        ),
        healthy: at("11m", [`node_memory_MemAvailable_bytes{${supabase}}`, "12x15"], [`node_memory_MemTotal_bytes{${supabase}}`, "100x15"]),
    },
    DiskFilling: {
        fires: fires(
            at(
                "16m",
                [`node_filesystem_avail_bytes{${supabase},mountpoint="/data",fstype="ext4"}`, "13x20"],
                [`node_filesystem_size_bytes{${supabase},mountpoint="/data",fstype="ext4"}`, "100x20"],
            ),
            { severity: "warning", component: "host", job: "supabase", instance: "ref.supabase.co", mountpoint: "/data", fstype: "ext4" },
            "supabase ref.supabase.co /data: 13% of the disk free (below 15%)",
        ),
        healthy: at(
            "16m",
            [`node_filesystem_avail_bytes{${supabase},mountpoint="/data",fstype="ext4"}`, "17x20"],
            [`node_filesystem_size_bytes{${supabase},mountpoint="/data",fstype="ext4"}`, "100x20"],
        ),
    },
    ConnectionsNearLimit: {
        // Two databases' backends summed against max_connections 50: 42 is 84 %, 38 is 76 %.
        fires: fires(
            at(
                "6m",
                [`pg_stat_database_num_backends{${supabase},datname="postgres"}`, "40x10"],
                [`pg_stat_database_num_backends{${supabase},datname="app"}`, "2x10"],
                [`max_connections_connection_count{${supabase}}`, "50x10"],
            ),
            { severity: "warning", component: "database", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: connections at 84% of max_connections (above 80%)",
        ),
        healthy: at(
            "6m",
            [`pg_stat_database_num_backends{${supabase},datname="postgres"}`, "36x10"],
            [`pg_stat_database_num_backends{${supabase},datname="app"}`, "2x10"],
            [`max_connections_connection_count{${supabase}}`, "50x10"],
        ),
    },
    PoolerClientsNearLimit: {
        fires: fires(
            at("6m", [`supavisor_connections_active{${supabase}}`, "168x10"]),
            { severity: "warning", component: "pooler", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: pooler clients at 84% of the compute's 200 (above 80%)",
        ),
        healthy: at("6m", [`supavisor_connections_active{${supabase}}`, "152x10"]),
    },
    LongRunningTransaction: {
        fires: fires(
            at("3m", [`pg_stat_activity_xact_runtime{${supabase},datname="postgres"}`, "330x5"]),
            { severity: "warning", component: "database", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: a transaction has run 330 s (above 300 s)",
        ),
        healthy: at("3m", [`pg_stat_activity_xact_runtime{${supabase},datname="postgres"}`, "270x5"]),
    },
    ReplicationLag: {
        fires: fires(
            at("6m", [`physical_replication_lag_physical_replication_lag_seconds{${supabase}}`, "70x10"]),
            { severity: "warning", component: "database", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: the replica lags 70 s (above 60 s)",
        ),
        healthy: at("6m", [`physical_replication_lag_physical_replication_lag_seconds{${supabase}}`, "50x10"]),
    },
    WalArchiveBacklog: {
        fires: fires(
            at("11m", [`pg_ls_archive_statusdir_wal_pending_count{${supabase}}`, "12x15"]),
            { severity: "warning", component: "database", job: "supabase", instance: "ref.supabase.co" },
            "supabase ref.supabase.co: 12 WAL segments wait to be archived (above 10): point-in-time recovery falls behind",
        ),
        healthy: at("11m", [`pg_ls_archive_statusdir_wal_pending_count{${supabase}}`, "8x15"]),
    },
    RedisDown: {
        fires: fires(
            at("2m", ['redis_up{job="redis",instance="redis-exporter:9121"}', "0x5"]),
            { severity: "critical", component: "cache", job: "redis", instance: "redis-exporter:9121" },
            "redis-exporter:9121: Redis answers no command",
        ),
        healthy: at("2m", ['redis_up{job="redis",instance="redis-exporter:9121"}', "1x5"]),
    },
    BackupVerificationFailed: {
        fires: fires(
            at("1m", ['toolboxai_backup_last_verification_ok{job="backup",instance="10.0.0.5:9464"}', "0x3"]),
            { severity: "critical", component: "backup", job: "backup", instance: "10.0.0.5:9464" },
            "10.0.0.5:9464: the last backup failed its verification",
        ),
        healthy: at("1m", ['toolboxai_backup_last_verification_ok{job="backup",instance="10.0.0.5:9464"}', "1x3"]),
    },
    BackupStale: {
        // Daily plus 6 h grace: 30 h (108000 s). The last success 100000 s before 0: stale at 2 h 30 m, not at 2 h.
        fires: fires(
            at("150m", ['toolboxai_backup_last_success_timestamp_seconds{job="backup",instance="10.0.0.5:9464"}', "-100000x200"]),
            { severity: "critical", component: "backup", job: "backup", instance: "10.0.0.5:9464" },
            "10.0.0.5:9464: the last backup is older than its schedule (0 2 * * *) plus 6 h",
        ),
        healthy: at("2h", ['toolboxai_backup_last_success_timestamp_seconds{job="backup",instance="10.0.0.5:9464"}', "-100000x200"]),
    },
    // As node_exporter's textfile collector serves what `ops drill --metrics-file` and `ops doctor --metrics-file` wrote.
    RestoreDrillFailed: {
        fires: fires(
            at("1m", [`${OPS_SERIES.drillLastResult}{job="node",instance="node-exporter:9100"}`, "0x3"]),
            { severity: "critical", component: "backup", job: "node", instance: "node-exporter:9100" },
            "the last restore drill failed: the backups may not restore",
        ),
        healthy: at("1m", [`${OPS_SERIES.drillLastResult}{job="node",instance="node-exporter:9100"}`, "1x3"]),
    },
    RestoreDrillOverdue: {
        // 192 h is 691200 s: a drill recorded 700000 s before 0 is overdue from the start, one 600000 s before is not.
        fires: fires(
            at("20m", [`${OPS_SERIES.drillLastTimestamp}{job="node",instance="node-exporter:9100"}`, "-700000x30"]),
            { severity: "warning", component: "backup", job: "node", instance: "node-exporter:9100" },
            "no restore drill recorded for more than 192 h: the weekly drill did not run, or its result did not reach the host",
        ),
        healthy: at("20m", [`${OPS_SERIES.drillLastTimestamp}{job="node",instance="node-exporter:9100"}`, "-690000x30"]),
    },
    ApplicationHostBanned: {
        fires: fires(
            at("1m", [`${OPS_SERIES.networkBansApplicationHosts}{job="node",instance="node-exporter:9100"}`, "1x3"]),
            { severity: "critical", component: "network", job: "node", instance: "node-exporter:9100" },
            "1 of the application's own hosts are banned from the project: their database logins are refused",
        ),
        healthy: at("1m", [`${OPS_SERIES.networkBansApplicationHosts}{job="node",instance="node-exporter:9100"}`, "0x3"]),
    },
    DoctorOverdue: {
        // 60 minutes is 3600 s: a run 3000 s before 0 is past it from 10 m on, and fires after 5 m more (at 15 m): silent at 14 m.
        fires: fires(
            at("20m", [`${OPS_SERIES.doctorLastTimestamp}{job="node",instance="node-exporter:9100"}`, "-3000x30"]),
            { severity: "warning", component: "monitoring", job: "node", instance: "node-exporter:9100" },
            "ops doctor has not recorded a run for more than 60 minutes: the ban figures are stale",
        ),
        healthy: at("14m", [`${OPS_SERIES.doctorLastTimestamp}{job="node",instance="node-exporter:9100"}`, "-3000x30"]),
    },
    NetworkBansPresent: {
        fires: fires(
            at("1m", [`${OPS_SERIES.networkBans}{job="node",instance="node-exporter:9100"}`, "1x3"]),
            { severity: "warning", component: "network", job: "node", instance: "node-exporter:9100" },
            "1 addresses are banned from the project (failed logins: a consumer on an old password?)",
        ),
        healthy: at("1m", [`${OPS_SERIES.networkBans}{job="node",instance="node-exporter:9100"}`, "0x3"]),
    },
    CredentialRotationOverdue: {
        // The period ended 22 h before 0: overdue 24 h later, at 2 h.
        fires: fires(
            at("150m"),
            { severity: "warning", component: "credentials" },
            "the credentials' rotation period ended 1969-12-31T02:00:00.000Z: run `pulumi up` to rotate them",
        ),
        healthy: at("90m"),
    },
    TlsCertificateExpiring: {
        // Valid until day 21 plus 2 h: 21 days before is 2 h.
        fires: fires(
            at("150m"),
            { severity: "warning", component: "tls", certificate: "redis-server" },
            "the redis-server certificate ends 1970-01-22T02:00:00.000Z (less than 21 days left): run `pulumi up` to renew it",
        ),
        healthy: at("90m"),
    },
};

function promtoolTests(cases: Record<string, AlertCase>, rulesFileName: string): string {
    const test = (alertname: string, c: Case, expAlerts: object[]) => ({
        interval: "1m",
        input_series: c.series,
        alert_rule_test: [{ eval_time: c.evalTime, alertname, exp_alerts: expAlerts }],
    });
    return dump({
        rule_files: [rulesFileName],
        evaluation_interval: "1m",
        tests: Object.entries(cases).flatMap(([alertname, c]) => [
            test(alertname, c.fires, [
                {
                    exp_labels: c.fires.labels,
                    exp_annotations: { summary: c.fires.summary, runbook_url: `${RUNBOOK}#${alertname.toLowerCase()}` },
                },
            ]),
            test(alertname, c.healthy, []),
        ]),
    });
}

async function promtool(args: string[], cwd: string): Promise<string> {
    const bin = requireTool("promtool");
    try {
        const { stdout, stderr } = await run(bin, args, { cwd, timeout: 60_000 });
        return stdout + stderr;
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string; message: string };
        throw new Error(`promtool ${args.join(" ")} failed: ${err.stdout ?? ""}${err.stderr ?? err.message}`, { cause: e });
    }
}

describe("the generated monitoring configuration, checked by promtool and amtool", () => {
    it("promtool test rules: every alert fires on its synthetic series and stays silent on a healthy one", async () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-promtool-"));
        writeFileSync(join(dir, "alerts.yml"), rulesFile(INPUTS));
        writeFileSync(join(dir, "tests.yml"), promtoolTests(CASES, "alerts.yml"));
        // Every generated alert has its two cases, and no case names an alert that is not generated.
        expect(Object.keys(CASES).sort()).toEqual(
            alertRules(INPUTS)
                .map((r) => r.alert)
                .sort(),
        );
        const out = await promtool(["test", "rules", "tests.yml"], dir);
        expect(out).toContain("SUCCESS");
    });

    it("promtool check rules passes on the generated rules; each alert has a summary and a runbook link", async () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-promtool-"));
        writeFileSync(join(dir, "alerts.yml"), rulesFile(INPUTS));
        expect(await promtool(["check", "rules", "alerts.yml"], dir)).toMatch(/SUCCESS: \d+ rules found/);
        for (const rule of alertRules(INPUTS)) {
            expect(rule.annotations.summary, rule.alert).not.toBe("");
            expect(rule.annotations.runbook_url, rule.alert).toBe(`${RUNBOOK}#${rule.alert.toLowerCase()}`);
        }
    });

    it("promtool check config passes on the generated configuration, with its rule and password files in place", async () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-promtool-"));
        const config = prometheusConfig({
            stack: "dev",
            hosted: {
                scheme: "https",
                targets: [
                    { address: "ref.supabase.co", role: "primary" },
                    { address: "ref-rr-eu.supabase.co", role: "replica" },
                ],
            },
            backupJob: "backup",
            redisExporter: true,
            postgresExporter: true,
        });
        // The container's paths, moved under the temporary directory: promtool opens the files they name.
        for (const sub of ["etc/toolboxai", "run/secrets"]) mkdirSync(join(dir, sub), { recursive: true });
        writeFileSync(join(dir, "etc/toolboxai", MONITORING_FILES.rules), rulesFile(INPUTS));
        writeFileSync(join(dir, "run/secrets", MONITORING_FILES.supabaseMetricsKey), "sb_secret_not_a_real_key");
        writeFileSync(
            join(dir, "prometheus.yml"),
            config.replaceAll("/etc/toolboxai/", `${dir}/etc/toolboxai/`).replaceAll("/run/secrets/", `${dir}/run/secrets/`),
        );
        const out = await promtool(["check", "config", "prometheus.yml"], dir);
        expect(out).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
        expect(out).toMatch(/SUCCESS: \d+ rules found/);
    });

    it("amtool check-config passes on the generated Alertmanager configuration, for each receiver kind", async () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-amtool-"));
        const amtool = requireTool("amtool");
        for (const [name, config] of [
            ["webhook.yml", alertmanagerConfig({ kind: "webhook", webhookUrl: "https://hooks.example/T0/B0/not-a-secret" })],
            ["slack.yml", alertmanagerConfig({ kind: "slack", slackChannel: "#ops-alerts" })],
        ] as const) {
            writeFileSync(join(dir, name), config);
            const { stdout } = await run(amtool, ["check-config", name], { cwd: dir, timeout: 30_000 });
            expect(stdout).toContain(`Checking '${name}'  SUCCESS`);
            expect(stdout).toContain(" - 1 inhibit rules");
        }
    });
});
