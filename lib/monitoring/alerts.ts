/**
 * The alert rules, generated: what the guide watches on the dashboard (CPU, memory, disk,
 * connections, long queries, replication, WAL), and what only this program knows (the backup
 * schedule, the rotation period, its certificates). Numbers come from ./thresholds.ts; each alert
 * links its runbook section in docs/operations/monitoring.md (the heading is the alert's name).
 */
import { dump } from "js-yaml";
import { BACKUP_GRACE_HOURS, scheduleIntervalMs } from "../ops/rules";
import { BACKUP_SERIES, OPS_SERIES } from "./runtime";
import { THRESHOLDS } from "./thresholds";

/** What the rules need to know about this stack. */
export interface AlertInputs {
    /** Where docs/operations/monitoring.md is read (a repository URL to the file, or the path itself). */
    runbookUrl: string;
    /** The backup job's cron schedule (UTC); absent when no backup job runs. */
    backupSchedule?: string;
    /** The compute's pooler client limit (hosted); absent when the pooler is not watched. */
    poolerClientLimit?: number;
    /** The end of the current rotation period (lib/credentials.ts rotationPeriod). */
    rotationEndsAt: Date;
    /** The certificates the program issues, by name, with their end of validity. */
    certificates: { name: string; notAfter: Date }[];
}

export type Severity = "critical" | "warning";
/** What an alert is about: Alertmanager groups by it, and a critical alert silences the warnings of its component. */
export type Component = "database" | "host" | "pooler" | "cache" | "backup" | "credentials" | "tls" | "network" | "monitoring";

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: Severity; component: Component } & Record<string, string>;
    annotations: { summary: string; runbook_url: string };
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** A runbook link: the section whose heading is the alert's name (GitHub's anchor: lower case). */
export function runbookLink(runbookUrl: string, alert: string): string {
    return `${runbookUrl}#${alert.toLowerCase()}`;
}

/** The newest backup may be one schedule interval plus the job's grace period old (as `ops doctor` judges it). */
export function backupMaxAgeSeconds(schedule: string): number {
    return Math.round(scheduleIntervalMs(schedule) / 1000 + BACKUP_GRACE_HOURS * 3600);
}

/** Every alert rule for the stack, in a stable order. */
export function alertRules(i: AlertInputs): AlertRule[] {
    const t = THRESHOLDS;
    const rule = (
        alert: string,
        severity: Severity,
        component: Component,
        expr: string,
        forDuration: string,
        summary: string,
        extra = {},
    ) => ({
        alert,
        expr,
        for: forDuration,
        labels: { severity, component, ...extra },
        annotations: { summary, runbook_url: runbookLink(i.runbookUrl, alert) },
    });
    const rules: AlertRule[] = [
        rule(
            "DatabaseDown",
            "critical",
            "database",
            "pg_up == 0",
            t.databaseDown.for,
            "{{ $labels.job }} {{ $labels.instance }}: the database answers no query",
        ),
        rule(
            "ScrapeTargetDown",
            "warning",
            "monitoring",
            "up == 0",
            t.targetDown.for,
            "{{ $labels.job }} {{ $labels.instance }}: Prometheus cannot scrape this target",
        ),
        rule(
            "HostCpuBusy",
            "warning",
            "host",
            `100 * (1 - avg by (job, instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))) > ${t.cpuBusyPercent.above}`,
            t.cpuBusyPercent.for,
            `{{ $labels.job }} {{ $labels.instance }}: CPU {{ $value | printf "%.0f" }}% busy (above ${t.cpuBusyPercent.above}%)`,
        ),
        rule(
            "HostMemoryLow",
            "warning",
            "host",
            `100 * node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < ${t.memoryAvailablePercent.below}`,
            t.memoryAvailablePercent.for,
            `{{ $labels.job }} {{ $labels.instance }}: {{ $value | printf "%.0f" }}% of memory available (below ${t.memoryAvailablePercent.below}%)`,
        ),
        rule(
            "DiskFilling",
            "warning",
            "host",
            `100 * node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs"} / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs"} < ${t.diskAvailablePercent.below}`,
            t.diskAvailablePercent.for,
            `{{ $labels.job }} {{ $labels.instance }} {{ $labels.mountpoint }}: {{ $value | printf "%.0f" }}% of the disk free (below ${t.diskAvailablePercent.below}%)`,
        ),
        rule(
            "ConnectionsNearLimit",
            "warning",
            "database",
            `100 * sum by (job, instance) (pg_stat_database_num_backends) / on (job, instance) max by (job, instance) (max_connections_connection_count) > ${t.connectionsPercentOfLimit.above}`,
            t.connectionsPercentOfLimit.for,
            `{{ $labels.job }} {{ $labels.instance }}: connections at {{ $value | printf "%.0f" }}% of max_connections (above ${t.connectionsPercentOfLimit.above}%)`,
        ),
        rule(
            "LongRunningTransaction",
            "warning",
            "database",
            `max by (job, instance) (pg_stat_activity_xact_runtime) > ${t.longTransactionSeconds.above}`,
            t.longTransactionSeconds.for,
            `{{ $labels.job }} {{ $labels.instance }}: a transaction has run {{ $value | printf "%.0f" }} s (above ${t.longTransactionSeconds.above} s)`,
        ),
        rule(
            "ReplicationLag",
            "warning",
            "database",
            `max by (job, instance) (physical_replication_lag_physical_replication_lag_seconds) > ${t.replicationLagSeconds.above}`,
            t.replicationLagSeconds.for,
            `{{ $labels.job }} {{ $labels.instance }}: the replica lags {{ $value | printf "%.0f" }} s (above ${t.replicationLagSeconds.above} s)`,
        ),
        rule(
            "WalArchiveBacklog",
            "warning",
            "database",
            `max by (job, instance) (pg_ls_archive_statusdir_wal_pending_count) > ${t.walPendingSegments.above}`,
            t.walPendingSegments.for,
            `{{ $labels.job }} {{ $labels.instance }}: {{ $value }} WAL segments wait to be archived (above ${t.walPendingSegments.above}): point-in-time recovery falls behind`,
        ),
        rule("RedisDown", "critical", "cache", "redis_up == 0", t.databaseDown.for, "{{ $labels.instance }}: Redis answers no command"),
        rule(
            "BackupVerificationFailed",
            "critical",
            "backup",
            `${BACKUP_SERIES.verificationOk} == 0`,
            "0m",
            "{{ $labels.instance }}: the last backup failed its verification",
        ),
        rule(
            "RestoreDrillFailed",
            "critical",
            "backup",
            `${OPS_SERIES.drillLastResult} == 0`,
            "0m",
            "the last restore drill failed: the backups may not restore",
        ),
        rule(
            "RestoreDrillOverdue",
            "warning",
            "backup",
            `time() - ${OPS_SERIES.drillLastTimestamp} > ${t.restoreDrillAgeHours.above} * 3600`,
            t.restoreDrillAgeHours.for,
            `no restore drill recorded for more than ${t.restoreDrillAgeHours.above} h: the weekly drill did not run, or its result did not reach the host`,
        ),
        rule(
            "ApplicationHostBanned",
            "critical",
            "network",
            `${OPS_SERIES.networkBansApplicationHosts} > 0`,
            "0m",
            "{{ $value }} of the application's own hosts are banned from the project: their database logins are refused",
        ),
        rule(
            "DoctorOverdue",
            "warning",
            "monitoring",
            `time() - ${OPS_SERIES.doctorLastTimestamp} > ${t.doctorAgeMinutes.above} * 60`,
            t.doctorAgeMinutes.for,
            `ops doctor has not recorded a run for more than ${t.doctorAgeMinutes.above} minutes: the ban figures are stale`,
        ),
        rule(
            "NetworkBansPresent",
            "warning",
            "network",
            `${OPS_SERIES.networkBans} > ${t.networkBans.above}`,
            t.networkBans.for,
            "{{ $value }} addresses are banned from the project (failed logins: a consumer on an old password?)",
        ),
    ];
    if (i.poolerClientLimit !== undefined)
        rules.push(
            rule(
                "PoolerClientsNearLimit",
                "warning",
                "pooler",
                `100 * sum by (job, instance) (supavisor_connections_active) / ${i.poolerClientLimit} > ${t.poolerClientsPercentOfLimit.above}`,
                t.poolerClientsPercentOfLimit.for,
                `{{ $labels.job }} {{ $labels.instance }}: pooler clients at {{ $value | printf "%.0f" }}% of the compute's ${i.poolerClientLimit} (above ${t.poolerClientsPercentOfLimit.above}%)`,
            ),
        );
    if (i.backupSchedule !== undefined) {
        const maxAge = backupMaxAgeSeconds(i.backupSchedule);
        rules.push(
            rule(
                "BackupStale",
                "critical",
                "backup",
                `time() - ${BACKUP_SERIES.lastSuccess} > ${maxAge}`,
                "0m",
                `{{ $labels.instance }}: the last backup is older than its schedule (${i.backupSchedule}) plus ${BACKUP_GRACE_HOURS} h`,
            ),
        );
    }
    // Facts the program knows at deploy time: the next `pulumi up` moves them, so they fire only when none came.
    const overdueAt = seconds(i.rotationEndsAt) + t.rotationOverdueHours.above * 3600;
    rules.push(
        rule(
            "CredentialRotationOverdue",
            "warning",
            "credentials",
            `vector(time()) > ${overdueAt}`,
            t.rotationOverdueHours.for,
            `the credentials' rotation period ended ${i.rotationEndsAt.toISOString()}: run \`pulumi up\` to rotate them`,
        ),
    );
    for (const cert of i.certificates)
        rules.push(
            rule(
                "TlsCertificateExpiring",
                "warning",
                "tls",
                `vector(time()) > ${seconds(cert.notAfter) - t.tlsExpiryDays.below * 86400}`,
                t.tlsExpiryDays.for,
                `the ${cert.name} certificate ends ${cert.notAfter.toISOString()} (less than ${t.tlsExpiryDays.below} days left): run \`pulumi up\` to renew it`,
                { certificate: cert.name },
            ),
        );
    return rules;
}

/** The rules file Prometheus loads (`rule_files`). */
export function rulesFile(i: AlertInputs): string {
    return dump({ groups: [{ name: "toolboxai", rules: alertRules(i) }] }, { lineWidth: -1, noRefs: true, sortKeys: false });
}
