/**
 * Series in Prometheus's text exposition format: the backup job serves them, and the ops tool
 * writes them (`--metrics-file`) for node_exporter's textfile collector on the Docker host, which is
 * how `RestoreDrillFailed` and `NetworkBansPresent` get their data. Times, counts and results only:
 * never a secret.
 */
import { OPS_SERIES } from "./runtime";

/** One gauge: its name, its help text, and its value (left out when not known, not written as zero). */
export type Gauge = [name: string, help: string, value: number | undefined];

/** Gauges without labels, in the text format; an unknown or non-finite value leaves its gauge out. */
export function gaugesText(gauges: readonly Gauge[]): string {
    return gauges
        .filter(([, , value]) => value !== undefined && Number.isFinite(value))
        .map(([name, help, value]) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`)
        .join("");
}

const seconds = (d: Date) => d.getTime() / 1000;

/** `ops drill`'s result: ok is false when it failed, including when it stopped before it could verify. */
export function drillMetrics(r: { ok: boolean; finishedAt: Date; durationSeconds: number }): string {
    return gaugesText([
        [
            OPS_SERIES.drillLastResult,
            "1 when the last restore drill restored and verified the newest backup, 0 when it failed.",
            Number(r.ok),
        ],
        [OPS_SERIES.drillLastTimestamp, "Time the last restore drill ended.", seconds(r.finishedAt)],
        [OPS_SERIES.drillDuration, "How long the last restore drill took (download, verify, restore, count).", r.durationSeconds],
    ]);
}

/**
 * `ops doctor`'s figures. The ban counts only when doctor read the bans (the hosted checks ran):
 * a doctor run that could not read them must not report zero bans. The application hosts' count
 * only when the stack names them.
 */
export function doctorMetrics(r: { finishedAt: Date; bans?: DoctorBans }): string {
    return gaugesText([
        [OPS_SERIES.doctorLastTimestamp, "Time the last ops doctor run ended.", seconds(r.finishedAt)],
        [OPS_SERIES.networkBans, "Addresses the hosted project's network bans block, as ops doctor last read them.", r.bans?.addresses],
        [
            OPS_SERIES.networkBansApplicationHosts,
            "Application hosts among the banned addresses, as ops doctor last read them.",
            r.bans?.applicationHosts,
        ],
    ]);
}

/** The ban counts among doctor's results, when it read the bans (lib/supabase/bans.ts banChecks). */
export function banCountsOf(results: readonly { name: string; counts?: Record<string, number> }[]): DoctorBans | undefined {
    const counts = results.find((r) => r.counts?.bannedAddresses !== undefined)?.counts;
    return counts && { addresses: counts.bannedAddresses, applicationHosts: counts.bannedApplicationHosts };
}

export type DoctorBans = { addresses: number; applicationHosts?: number };
