/**
 * The backup job's own figures for Prometheus: the scheduler's status file (the same one the health
 * check reads) rendered in the text exposition format, served on MONITORING_PORTS.backupJob.
 * No secret is in the status: times, sizes and results only.
 */
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { BACKUP_SERIES } from "../lib/monitoring/runtime";
import { gaugesText, type Gauge } from "../lib/monitoring/textfile";
import type { Status } from "./job";

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** The status as Prometheus series; a figure not known yet (no attempt so far) is left out, not zero. */
export function backupMetrics(status: Status): string {
    return gaugesText([
        // With no success yet, the scheduler's start: the schedule is judged from then on, as the health check does.
        [
            BACKUP_SERIES.lastSuccess,
            "Time of the last successful backup (or of the scheduler's start, before any).",
            seconds(status.lastSuccessAt ?? status.startedAt),
        ],
        [BACKUP_SERIES.lastAttempt, "Time the last backup started.", status.lastAttemptAt ? seconds(status.lastAttemptAt) : undefined],
        [BACKUP_SERIES.lastFailed, "1 when the last backup failed.", status.lastAttemptAt ? (status.lastError ? 1 : 0) : undefined],
        [
            BACKUP_SERIES.duration,
            "How long the last successful backup took.",
            status.lastDurationMs === undefined ? undefined : status.lastDurationMs / 1000,
        ],
        [BACKUP_SERIES.size, "Bytes stored by the last successful backup (compressed).", status.lastBytes],
        [
            BACKUP_SERIES.verificationOk,
            "1 when the last backup passed its verification, 0 when it failed it.",
            status.lastVerificationOk === undefined ? undefined : Number(status.lastVerificationOk),
        ],
    ] satisfies Gauge[]);
}

/** Serves /metrics from the status file at each request; anything else is 404. */
export function serveMetrics(statusFile: string, port: number, host = "0.0.0.0"): Promise<Server> {
    const server = createServer((req, res) => {
        if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
            res.writeHead(404).end();
            return;
        }
        try {
            const body = backupMetrics(JSON.parse(readFileSync(statusFile, "utf8")) as Status);
            res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body);
        } catch (err) {
            res.writeHead(503, { "content-type": "text/plain" }).end(`no scheduler status at ${statusFile}: ${(err as Error).message}\n`);
        }
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
    });
}
