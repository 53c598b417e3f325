/** The backup job's figures for Prometheus (backup-job/metrics.ts): rendered from the scheduler's status, served on /metrics. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backupMetrics, serveMetrics } from "../backup-job/metrics";
import { BACKUP_SERIES } from "../lib/monitoring/runtime";
import { freePort } from "./support/net";

const value = (text: string, series: string) => new RegExp(`^${series} (\\S+)$`, "m").exec(text)?.[1];

describe("backupMetrics", () => {
    it("gives the last success, attempt, duration, size and verification of a run that passed", () => {
        const text = backupMetrics({
            startedAt: "2026-12-01T00:00:00.000Z",
            lastAttemptAt: "2026-12-06T02:00:00.000Z",
            lastSuccessAt: "2026-12-06T02:00:00.000Z",
            lastDurationMs: 42_500,
            lastBytes: 123_456,
            lastVerificationOk: true,
        });
        expect(value(text, BACKUP_SERIES.lastSuccess)).toBe(String(Date.parse("2026-12-06T02:00:00Z") / 1000));
        expect(value(text, BACKUP_SERIES.lastAttempt)).toBe(String(Date.parse("2026-12-06T02:00:00Z") / 1000));
        expect(value(text, BACKUP_SERIES.lastFailed)).toBe("0");
        expect(value(text, BACKUP_SERIES.duration)).toBe("42.5");
        expect(value(text, BACKUP_SERIES.size)).toBe("123456");
        expect(value(text, BACKUP_SERIES.verificationOk)).toBe("1");
        expect(text).toContain(`# TYPE ${BACKUP_SERIES.lastSuccess} gauge`);
    });

    it("says a failed verification and a failed attempt", () => {
        const text = backupMetrics({
            startedAt: "2026-12-01T00:00:00.000Z",
            lastAttemptAt: "2026-12-06T02:00:00.000Z",
            lastSuccessAt: "2026-12-05T02:00:00.000Z",
            lastError: "exit 5",
            lastVerificationOk: false,
        });
        expect(value(text, BACKUP_SERIES.lastFailed)).toBe("1");
        expect(value(text, BACKUP_SERIES.verificationOk)).toBe("0");
        expect(value(text, BACKUP_SERIES.lastSuccess)).toBe(String(Date.parse("2026-12-05T02:00:00Z") / 1000));
    });

    it("before any run: the scheduler's start stands for the last success, and the unknown figures are left out", () => {
        const text = backupMetrics({ startedAt: "2026-12-01T00:00:00.000Z" });
        expect(value(text, BACKUP_SERIES.lastSuccess)).toBe(String(Date.parse("2026-12-01T00:00:00Z") / 1000));
        for (const series of [
            BACKUP_SERIES.lastAttempt,
            BACKUP_SERIES.lastFailed,
            BACKUP_SERIES.duration,
            BACKUP_SERIES.size,
            BACKUP_SERIES.verificationOk,
        ])
            expect(text).not.toContain(series);
    });
});

describe("serveMetrics", () => {
    it("serves the status file as it is at each request, 503 without one, 404 elsewhere", async () => {
        const statusFile = join(mkdtempSync(join(tmpdir(), "toolboxai-backup-metrics-")), "status.json");
        const port = await freePort();
        const server = await serveMetrics(statusFile, port, "127.0.0.1");
        try {
            const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
            expect((await get("/metrics")).status).toBe(503);
            writeFileSync(statusFile, JSON.stringify({ startedAt: "2026-12-01T00:00:00.000Z" }));
            const first = await get("/metrics");
            expect(first.status).toBe(200);
            expect(value(await first.text(), BACKUP_SERIES.lastSuccess)).toBe(String(Date.parse("2026-12-01T00:00:00Z") / 1000));
            writeFileSync(statusFile, JSON.stringify({ startedAt: "2026-12-01T00:00:00.000Z", lastSuccessAt: "2026-12-02T00:00:00.000Z" }));
            expect(value(await (await get("/metrics")).text(), BACKUP_SERIES.lastSuccess)).toBe(
                String(Date.parse("2026-12-02T00:00:00Z") / 1000),
            );
            expect((await get("/")).status).toBe(404);
        } finally {
            server.close();
        }
    });
});
