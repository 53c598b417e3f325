/**
 * Pure rules of `ops restore --point-in-time`: the time asked for, the recoverable window the
 * backups endpoint reports, and the read replicas that must be gone before a restore.
 */

/** An ISO 8601 time with its zone (Z or an offset): a time without one would mean this machine's zone. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The time asked for, or the problem with the flag's value. */
export function parseRecoveryTime(raw: string): { ok: true; unix: number } | { ok: false; problem: string } {
    const ms = Date.parse(raw);
    if (!ISO_WITH_ZONE.test(raw) || Number.isNaN(ms))
        return {
            ok: false,
            problem: `--point-in-time ${JSON.stringify(raw)}: must be an ISO 8601 time with its zone, such as 2026-12-07T10:30:00Z or 2026-12-07T11:30:00+01:00`,
        };
    // The API takes whole seconds: a fraction is dropped, never rounded into the future.
    return { ok: true, unix: Math.floor(ms / 1000) };
}

export interface RecoverableWindow {
    earliestUnix: number;
    latestUnix: number;
}

/** The window from GET /v1/projects/{ref}/database/backups, or why there is none. */
export function recoverableWindow(backups: {
    pitr_enabled: boolean;
    physical_backup_data: { earliest_physical_backup_date_unix?: number; latest_physical_backup_date_unix?: number };
}): { ok: true; window: RecoverableWindow } | { ok: false; problem: string } {
    if (!backups.pitr_enabled)
        return {
            ok: false,
            problem:
                "PITR is not enabled for this project: turn it on with `pulumi config set supabasePitr pitr_7` and `pulumi up` (docs/hosted-project.md); times before that cannot be recovered",
        };
    const { earliest_physical_backup_date_unix: earliest, latest_physical_backup_date_unix: latest } = backups.physical_backup_data;
    if (earliest === undefined || latest === undefined)
        return {
            ok: false,
            problem: "the project reports PITR on but no recovery point yet: the first one appears within minutes of turning it on",
        };
    return { ok: true, window: { earliestUnix: earliest, latestUnix: latest } };
}

export const isoOf = (unix: number) => new Date(unix * 1000).toISOString().replace(".000Z", "Z");

/** Why `unix` cannot be recovered to, or undefined when it is inside the window (both ends included). */
export function outsideWindow(unix: number, window: RecoverableWindow): string | undefined {
    const span = `the recoverable window is ${isoOf(window.earliestUnix)} to ${isoOf(window.latestUnix)}`;
    if (unix < window.earliestUnix)
        return `${isoOf(unix)} is before the earliest recovery point: ${span} (a longer window needs a larger supabasePitr variant, from now on)`;
    if (unix > window.latestUnix)
        return `${isoOf(unix)} is after the latest recovery point: ${span} (WAL is shipped every 2 minutes: wait, or choose an earlier time)`;
    return undefined;
}

/** The read replicas in the pooler list (database_type READ_REPLICA): a restore is refused while any exists. */
export function readReplicasOf(pooler: readonly { database_type: string; identifier: string }[]): string[] {
    return pooler.filter((p) => p.database_type === "READ_REPLICA").map((p) => p.identifier);
}

/** How long the project was down, from the restore request to ACTIVE_HEALTHY, as people read it. */
export function describeDowntime(ms: number): string {
    const seconds = Math.round(ms / 1000);
    return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

type Check = { name: string; status: "pass" | "warn" | "fail"; evidence: string; fix?: string };

/** WAL ships every 2 minutes: a latest recovery point older than this means archiving has stalled. */
export const RECOVERY_POINT_MAX_AGE_SECONDS = 10 * 60;

/** doctor's check of PITR: on, and how old the latest recovery point is. */
export function recoveryCheck(backups: Parameters<typeof recoverableWindow>[0], nowUnix: number): Check {
    const name = "point-in-time recovery";
    const found = recoverableWindow(backups);
    if (!found.ok)
        return backups.pitr_enabled
            ? {
                  name,
                  status: "warn",
                  evidence: found.problem,
                  fix: "run doctor again in a few minutes; if it stays so, ask Supabase support",
              }
            : {
                  name,
                  status: "warn",
                  evidence: "PITR is off: only the daily backups (and this stack's S3 dumps) can restore the project, to their own times",
                  fix: "`pulumi config set supabasePitr pitr_7` (Pro plan, compute Small or larger) and `pulumi up` (docs/hosted-project.md)",
              };
    const age = nowUnix - found.window.latestUnix;
    const window = `window ${isoOf(found.window.earliestUnix)} to ${isoOf(found.window.latestUnix)}`;
    return age > RECOVERY_POINT_MAX_AGE_SECONDS
        ? {
              name,
              status: "fail",
              evidence: `the latest recovery point is ${describeDowntime(age * 1000)} old (WAL ships every 2 minutes); ${window}`,
              fix: "WAL archiving looks stalled: check the project's status and disk in the dashboard, and ask Supabase support",
          }
        : {
              name,
              status: "pass",
              evidence: `on; the latest recovery point is ${describeDowntime(Math.max(0, age) * 1000)} old; ${window}`,
          };
}
