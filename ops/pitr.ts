/**
 * `ops restore --point-in-time <ISO time> --confirm <ref>`: a point-in-time restore of the hosted
 * project through the Management API. Before anything is sent it reads the recoverable window
 * (GET database/backups) and the read replicas (GET config/database/pooler) and refuses a time
 * outside the window or a project with replicas; then one POST restore-pitr, and the project
 * followed through RESTORING to ACTIVE_HEALTHY (or RESTORE_FAILED), with the downtime measured.
 * `--dry-run` stops after the checks and prints what would be sent.
 */
import {
    describeDowntime,
    isoOf,
    outsideWindow,
    parseRecoveryTime,
    readReplicasOf,
    recoverableWindow,
    type RecoverableWindow,
} from "../lib/ops/pitr";
import { accepted, ACCESS_TOKEN_PATTERN, managementClient, unwrap } from "../lib/supabase/client";
import { HEALTHY_STATUS, TERMINAL_STATUSES } from "../lib/supabase/rules";
import { UsageError, type Context } from "./context";
import { RefusedError } from "./restore";

export interface PitrRestoreOptions {
    /** --point-in-time, as given. */
    time: string;
    /** --confirm: must be the project's ref. */
    confirm: string | undefined;
    dryRun: boolean;
    /** How often to look at the project while it restores, and for how long in all (default 5 s, 2 h). */
    pollMs?: number;
    waitMs?: number;
    /** Per request (default 30 s). */
    timeoutMs?: number;
}

export interface PitrRestoreResult {
    ok: boolean;
    ref: string;
    target: string;
    targetUnix: number;
    window: { earliest: string; latest: string };
    dryRun: boolean;
    /** What was (or, dry, would be) sent. */
    request: { operation: string; body: { recovery_time_target_unix: number } };
    /** The statuses seen while following the restore, in order, each once. */
    statuses: string[];
    finalStatus?: string;
    downtimeMs?: number;
    downtime?: string;
}

const RESTORE_OP = "POST /v1/projects/{ref}/database/backups/restore-pitr";

function replicasAdvice(ref: string, replicas: string[]): string {
    return (
        `project ${ref} has read replicas (${replicas.join(", ")}), and Supabase restores only a project without any: ` +
        `remove each first (\`pulumi config set supabaseReadReplicas none\` and \`pulumi up\`; or the dashboard's Database > Replicas, or POST /v1/projects/${ref}/read-replicas/remove {"database_identifier": "<id>"}), ` +
        "run this again, and add them back once the project is ACTIVE_HEALTHY (set supabaseReadReplicas to the regions again and `pulumi up`; each new replica copies the restored database)"
    );
}

export async function restorePointInTime(hosted: Context["hosted"], o: PitrRestoreOptions): Promise<PitrRestoreResult> {
    if (!hosted)
        throw new UsageError(
            "--point-in-time restores the hosted project: pass --stack (or --outputs) of a hosted stack, or --project-ref",
        );
    const ref = hosted.ref;
    // Before any request: the flags alone can be wrong.
    if (o.confirm !== ref)
        throw new UsageError(
            `--confirm ${o.confirm === undefined ? "is missing" : JSON.stringify(o.confirm)}: a point-in-time restore replaces project ${ref}'s database; pass --confirm ${ref} to confirm`,
        );
    const time = parseRecoveryTime(o.time);
    if (!time.ok) throw new UsageError(time.problem);
    if (!hosted.token || !ACCESS_TOKEN_PATTERN.test(hosted.token))
        throw new UsageError(
            `no usable Management API token from ${hosted.tokenSource}: export SUPABASE_ACCESS_TOKEN (sbp_...) or pass --access-token-file`,
        );
    const token = hosted.token;
    const api = managementClient({ baseUrl: hosted.apiUrl, token, timeoutMs: o.timeoutMs ?? 30_000 });
    const path = { params: { path: { ref } } };

    const backups = unwrap("GET /v1/projects/{ref}/database/backups", await api.GET("/v1/projects/{ref}/database/backups", path), token);
    const found = recoverableWindow(backups);
    if (!found.ok) throw new RefusedError(`project ${ref}: ${found.problem}`);
    const window: RecoverableWindow = found.window;
    const outside = outsideWindow(time.unix, window);
    if (outside) throw new RefusedError(`project ${ref}: ${outside}`);
    const pooler = unwrap(
        "GET /v1/projects/{ref}/config/database/pooler",
        await api.GET("/v1/projects/{ref}/config/database/pooler", path),
        token,
    );
    const replicas = readReplicasOf(pooler);
    if (replicas.length > 0) throw new RefusedError(replicasAdvice(ref, replicas));

    const body = { recovery_time_target_unix: time.unix };
    const result: PitrRestoreResult = {
        ok: true,
        ref,
        target: isoOf(time.unix),
        targetUnix: time.unix,
        window: { earliest: isoOf(window.earliestUnix), latest: isoOf(window.latestUnix) },
        dryRun: o.dryRun,
        request: { operation: RESTORE_OP, body },
        statuses: [],
    };
    if (o.dryRun) return result;

    const started = Date.now();
    // Not retried on a 5xx or timeout (the client never repeats a POST): a second restore would start over.
    accepted(RESTORE_OP, await api.POST("/v1/projects/{ref}/database/backups/restore-pitr", { ...path, body }), token);
    const deadline = started + (o.waitMs ?? 2 * 60 * 60 * 1000);
    const pollMs = o.pollMs ?? 5000;
    let left = false;
    for (;;) {
        const project = unwrap("GET /v1/projects/{ref}", await api.GET("/v1/projects/{ref}", path), token);
        if (result.statuses.at(-1) !== project.status) result.statuses.push(project.status);
        // The restore has begun once the project leaves ACTIVE_HEALTHY; a healthy answer before that is the old database.
        if (project.status !== HEALTHY_STATUS) left = true;
        if (left && project.status === HEALTHY_STATUS) break;
        if ((TERMINAL_STATUSES as readonly string[]).includes(project.status)) {
            result.ok = false;
            result.finalStatus = project.status;
            result.downtimeMs = Date.now() - started;
            result.downtime = describeDowntime(result.downtimeMs);
            return result;
        }
        if (Date.now() + pollMs > deadline)
            throw new Error(
                `project ${ref} is still ${project.status} after ${describeDowntime(Date.now() - started)}: the restore goes on at Supabase; follow it in the dashboard or with \`ops doctor\``,
            );
        await new Promise((r) => setTimeout(r, pollMs));
    }
    result.finalStatus = HEALTHY_STATUS;
    result.downtimeMs = Date.now() - started;
    result.downtime = describeDowntime(result.downtimeMs);
    return result;
}

/** The report for people. */
export function pitrReport(r: PitrRestoreResult): string {
    const lines = [
        `project ${r.ref}: restore to ${r.target} (unix ${r.targetUnix}); recoverable window ${r.window.earliest} to ${r.window.latest}; no read replicas`,
    ];
    if (r.dryRun)
        return `${[
            ...lines,
            `dry run: nothing sent. It would send ${r.request.operation} ${JSON.stringify(r.request.body)},`,
            "then the project is unreachable (status RESTORING) until it is ACTIVE_HEALTHY again; data written after the target time is lost.",
        ].join("\n")}\n`;
    lines.push(`sent ${r.request.operation} ${JSON.stringify(r.request.body)}; statuses: ${r.statuses.join(" -> ")}`);
    lines.push(
        r.ok
            ? `restored: ACTIVE_HEALTHY after ${r.downtime} of downtime (from the request to healthy)`
            : `the restore FAILED: the project is ${r.finalStatus} after ${r.downtime}; contact Supabase support with the project ref and the target time`,
    );
    return `${lines.join("\n")}\n`;
}
