/**
 * The backup job's entry point (bundled into the image as backup-job.js):
 *   run       one backup now; prints the report line, exits non-zero on failure
 *   schedule  runs a backup at each BACKUP_SCHEDULE time (cron, UTC) until stopped
 *   health    exits 0 if the scheduler's last backup succeeded and none is overdue
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { Cron } from "croner";
import { DEFAULT_BACKUP_SCHEDULE } from "../lib/backup";
import { MONITORING_PORTS } from "../lib/monitoring/runtime";
import { EXIT_CODES, healthProblem, JobError, latestBackupAt, readJobConfig, runBackup, s3Client, type Report, type Status } from "./job";
import { serveMetrics } from "./metrics";

const STATUS_FILE = process.env.BACKUP_STATUS_FILE || "/tmp/backup-status.json";
const SCHEDULE = process.env.BACKUP_SCHEDULE || DEFAULT_BACKUP_SCHEDULE;
/** How long a scheduled backup may take before the health check calls it overdue. */
const GRACE_MS = 6 * 3600_000;

function line(stream: NodeJS.WriteStream, record: object): void {
    stream.write(`${JSON.stringify(record)}\n`);
}

/** SIGTERM/SIGINT (docker stop, a Swarm update) abort a running backup cleanly: children stopped, upload aborted. */
const interrupted = new AbortController();

async function once(onReport?: (report: Report) => void): Promise<number> {
    const started = new Date();
    try {
        const report = await runBackup(readJobConfig(process.env), { signal: interrupted.signal });
        line(process.stdout, report);
        onReport?.(report);
        return 0;
    } catch (err) {
        const e = err instanceof JobError ? err : new JobError("storage", String((err as Error)?.stack ?? err));
        line(process.stderr, {
            event: "backup.failed",
            stage: e.stage,
            error: e.message,
            ...(e.key ? { key: e.key } : {}),
            startedAt: started.toISOString(),
            durationMs: Date.now() - started.getTime(),
        });
        return EXIT_CODES[e.stage];
    }
}

function writeStatus(status: Status): void {
    writeFileSync(`${STATUS_FILE}.tmp`, JSON.stringify(status));
    renameSync(`${STATUS_FILE}.tmp`, STATUS_FILE);
}

async function schedule(): Promise<void> {
    // Fail at start, not at 02:00, on bad settings.
    const config = readJobConfig(process.env);
    const status: Status = { startedAt: new Date().toISOString() };
    // A restarted (or rescheduled) scheduler picks up from the newest backup in the bucket, so a
    // missed run stays visible in the health check; with none, it judges runs from now on.
    try {
        const latest = await latestBackupAt(s3Client(config), config);
        if (latest) status.startedAt = status.lastSuccessAt = latest.toISOString();
    } catch (err) {
        line(process.stderr, { event: "backup.history-unavailable", error: (err as Error).message });
    }
    writeStatus(status);
    // Prometheus reads the same status (docs/operations/monitoring.md); 0 turns the endpoint off.
    const metricsPort = Number(process.env.BACKUP_METRICS_PORT ?? MONITORING_PORTS.backupJob);
    // Backups matter more than their figures: a port already taken is said, and the schedule runs on.
    const metrics =
        metricsPort > 0
            ? await serveMetrics(STATUS_FILE, metricsPort).catch((err: Error) => {
                  line(process.stderr, { event: "backup.metrics-unavailable", port: metricsPort, error: err.message });
                  return undefined;
              })
            : undefined;
    const job = new Cron(
        SCHEDULE,
        {
            timezone: "UTC",
            protect: true,
            catch: (err: unknown) => line(process.stderr, { event: "backup.scheduler-error", error: String(err) }),
        },
        async () => {
            status.lastAttemptAt = new Date().toISOString();
            const code = await once((report) => {
                status.lastDurationMs = report.durationMs;
                status.lastBytes = report.bytes;
            });
            if (code === 0) {
                status.lastSuccessAt = status.lastAttemptAt;
                status.lastVerificationOk = true;
                delete status.lastError;
            } else {
                status.lastError = `exit ${code}`;
                if (code === EXIT_CODES.verify) status.lastVerificationOk = false;
            }
            writeStatus(status);
        },
    );
    line(process.stdout, { event: "backup.scheduled", schedule: SCHEDULE, timezone: "UTC", nextRun: job.nextRun()?.toISOString() });
    const stop = () => {
        job.stop();
        metrics?.close();
        // A run in progress ends with its own backup.failed line (stage aborted), then the process exits.
        interrupted.abort();
        if (!job.isBusy()) process.exit(0);
        else setInterval(() => job.isBusy() || process.exit(0), 100);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
}

function health(): number {
    let status: Status;
    try {
        status = JSON.parse(readFileSync(STATUS_FILE, "utf8")) as Status;
    } catch {
        process.stderr.write(`no scheduler status at ${STATUS_FILE}\n`);
        return 1;
    }
    const schedule = new Cron(SCHEDULE, { timezone: "UTC", paused: true });
    // A backup may take GRACE_MS, or until the next one is due if they come more often.
    const [next, afterNext] = schedule.nextRuns(2);
    const grace = next && afterNext ? Math.min(GRACE_MS, afterNext.getTime() - next.getTime()) : GRACE_MS;
    // The latest scheduled time old enough that its backup should have finished by now.
    const [due] = schedule.previousRuns(1, new Date(Date.now() - grace));
    const problem = healthProblem(status, due);
    if (problem) process.stderr.write(`${problem}\n`);
    return problem ? 1 : 0;
}

async function main(): Promise<void> {
    const command = process.argv[2];
    try {
        if (command === "run") {
            process.once("SIGTERM", () => interrupted.abort());
            process.once("SIGINT", () => interrupted.abort());
            process.exitCode = await once();
        } else if (command === "schedule") await schedule();
        else if (command === "health") process.exitCode = health();
        else {
            process.stderr.write(`usage: backup-job run | schedule | health (got ${JSON.stringify(command ?? "")})\n`);
            process.exitCode = 2;
        }
    } catch (err) {
        const e = err instanceof JobError ? err : new JobError("config", (err as Error).message);
        line(process.stderr, { event: "backup.failed", stage: e.stage, error: e.message });
        process.exitCode = EXIT_CODES[e.stage];
    }
}

void main();
