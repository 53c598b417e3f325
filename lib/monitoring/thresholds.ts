/**
 * Every alert threshold, in one place: the rules (./alerts.ts), the runbook
 * (docs/operations/monitoring.md) and the promtool tests read them from here.
 * Percentages are 0-100; durations are how long a condition must hold before the alert fires.
 */
export const THRESHOLDS = {
    /** Busy CPU (everything but idle), averaged over the host's cores. */
    cpuBusyPercent: { above: 85, for: "10m" },
    /** Memory the kernel can still hand out, against the total. */
    memoryAvailablePercent: { below: 10, for: "10m" },
    /** Free space on a filesystem, against its size. */
    diskAvailablePercent: { below: 15, for: "15m" },
    /** Backends against max_connections: past this, new connections start to fail soon. */
    connectionsPercentOfLimit: { above: 80, for: "5m" },
    /** Supavisor's client connections against the compute's pooler limit (lib/supabase/addons.ts COMPUTE_CONNECTIONS). */
    poolerClientsPercentOfLimit: { above: 80, for: "5m" },
    /** The longest open transaction. */
    longTransactionSeconds: { above: 300, for: "2m" },
    /** A read replica's replay lag. */
    replicationLagSeconds: { above: 60, for: "5m" },
    /** WAL segments waiting to be archived (PITR's source; Supabase ships every 2 minutes). */
    walPendingSegments: { above: 10, for: "10m" },
    /** A scrape target not answering. */
    targetDown: { for: "5m" },
    /** The database answering no query. */
    databaseDown: { for: "1m" },
    /** Past the end of its rotation period by this much, a credential is overdue (a `pulumi up` rotates it). */
    rotationOverdueHours: { above: 24, for: "0m" },
    /** A TLS certificate this close to its end (the program renews 30 days before: lib/redis.ts REDIS_TLS.earlyRenewalHours). */
    tlsExpiryDays: { below: 21, for: "0m" },
    /** The last restore drill recorded this long ago: the weekly drill (.github/workflows/restore-drill.yml) plus a day. */
    restoreDrillAgeHours: { above: 8 * 24, for: "15m" },
    /** The last doctor run (every 15 minutes from the host's crontab) this long ago: the ban figures are stale. */
    doctorAgeMinutes: { above: 60, for: "5m" },
    /** Addresses Supabase's network bans block (repeated failed logins: the circuit breaker after a rotation). */
    networkBans: { above: 0, for: "0m" },
} as const;

export type Threshold = keyof typeof THRESHOLDS;
