/**
 * `ops drill|doctor --metrics-file` (ops/metricsFile.ts) and the renderers it writes with
 * (lib/monitoring/textfile.ts): the series the RestoreDrillFailed and NetworkBansPresent rules
 * read, in a text `promtool check metrics` accepts, written whole (temp file + rename) into an
 * existing directory under a *.prom name, or refused before the command runs.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { alertRules } from "../lib/monitoring/alerts";
import { OPS_SERIES } from "../lib/monitoring/runtime";
import { banCountsOf, doctorMetrics, drillMetrics } from "../lib/monitoring/textfile";
import { banChecks } from "../lib/supabase/bans";
import { main } from "../ops/cli";
import { metricsTempPath, writeMetricsFile } from "../ops/metricsFile";
import { stoppedDrill } from "./support/stoppedDrill";
import { requireTool } from "./support/tools";

const work = mkdtempSync(join(tmpdir(), "ops-metrics-file-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ENDED = new Date("2026-12-07T04:41:00Z");

/** `promtool check metrics` reads the text on stdin; it exits non-zero on a format error and prints lint problems. */
function promtoolCheckMetrics(text: string): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        const child = execFile(requireTool("promtool"), ["check", "metrics"], { timeout: 30_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
        );
        child.stdin!.end(text);
    });
}

/** The value of an unlabelled series in the text format. */
const valueOf = (text: string, name: string) => text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1];

describe("the renderers", () => {
    it("renders the drill's result, its end and its duration", () => {
        const failed = drillMetrics({ ok: false, finishedAt: ENDED, durationSeconds: 93.5 });
        expect(valueOf(failed, OPS_SERIES.drillLastResult)).toBe("0");
        expect(valueOf(failed, OPS_SERIES.drillLastTimestamp)).toBe(String(ENDED.getTime() / 1000));
        expect(valueOf(failed, OPS_SERIES.drillDuration)).toBe("93.5");
        expect(valueOf(drillMetrics({ ok: true, finishedAt: ENDED, durationSeconds: 1 }), OPS_SERIES.drillLastResult)).toBe("1");
    });

    it("renders doctor's ban counts only when it read the bans", () => {
        const read = doctorMetrics({ finishedAt: ENDED, bans: { addresses: 3, applicationHosts: 1 } });
        expect(valueOf(read, OPS_SERIES.networkBans)).toBe("3");
        expect(valueOf(read, OPS_SERIES.networkBansApplicationHosts)).toBe("1");
        // Not read (hosted checks skipped or failed): no figure rather than a reassuring zero.
        const notRead = doctorMetrics({ finishedAt: ENDED });
        expect(valueOf(notRead, OPS_SERIES.doctorLastTimestamp)).toBe(String(ENDED.getTime() / 1000));
        expect(notRead).not.toContain(OPS_SERIES.networkBans);
        // Application hosts unknown: the total only.
        const total = doctorMetrics({ finishedAt: ENDED, bans: { addresses: 2 } });
        expect(valueOf(total, OPS_SERIES.networkBans)).toBe("2");
        expect(total).not.toContain(OPS_SERIES.networkBansApplicationHosts);
    });

    it("takes the ban counts from doctor's ban checks", () => {
        const checks = banChecks("ref", [{ address: "203.0.113.7" }, { address: "198.51.100.23" }], ["203.0.113.7", "192.0.2.1"]);
        expect(banCountsOf([{ name: "database" }, ...checks])).toEqual({ addresses: 2, applicationHosts: 1 });
        expect(banCountsOf(banChecks("ref", [{ address: "198.51.100.23" }], undefined))).toEqual({
            addresses: 1,
            applicationHosts: undefined,
        });
        expect(banCountsOf([{ name: "network bans" }])).toBeUndefined();
    });

    it("produces the series the alert rules read", () => {
        const rules = alertRules({ runbookUrl: "https://x.example/m.md", rotationEndsAt: ENDED, certificates: [] });
        const expr = (alert: string) => rules.find((r) => r.alert === alert)!.expr;
        const drill = drillMetrics({ ok: false, finishedAt: ENDED, durationSeconds: 1 });
        const doctor = doctorMetrics({ finishedAt: ENDED, bans: { addresses: 1 } });
        expect(expr("RestoreDrillFailed").split(" ")[0]).toBe(OPS_SERIES.drillLastResult);
        expect(valueOf(drill, expr("RestoreDrillFailed").split(" ")[0])).toBe("0");
        expect(valueOf(doctor, expr("NetworkBansPresent").split(" ")[0])).toBe("1");
    });

    it("passes promtool check metrics (format and naming lint)", async () => {
        for (const text of [
            drillMetrics({ ok: true, finishedAt: ENDED, durationSeconds: 12.25 }),
            doctorMetrics({ finishedAt: ENDED, bans: { addresses: 4, applicationHosts: 0 } }),
        ]) {
            const r = await promtoolCheckMetrics(text);
            expect(r, text).toEqual({ code: 0, output: "" });
        }
        // The check can fail: a broken line is refused.
        expect((await promtoolCheckMetrics("toolboxai_broken{ 1\n")).code).not.toBe(0);
    });
});

describe("--metrics-file", () => {
    it("replaces the file whole and leaves no temporary file behind", () => {
        const path = join(work, "drill.prom");
        writeFileSync(path, "old\n");
        writeMetricsFile(path, "new\n");
        expect(readFileSync(path, "utf8")).toBe("new\n");
        expect(readdirSync(work)).toEqual(["drill.prom"]);
        // Written first beside it (rename is atomic within one filesystem) under a name the collector skips.
        expect(dirname(metricsTempPath(path))).toBe(work);
        expect(metricsTempPath(path)).not.toMatch(/\.prom$/);
    });

    it("refuses, before the command runs, a name the collector would not read or a missing directory", async () => {
        const txt = await main([
            "drill",
            "--bucket",
            "b",
            "--server",
            "postgresql://u@127.0.0.1:9/p",
            "--metrics-file",
            join(work, "d.txt"),
        ]);
        expect(txt.code).toBe(2);
        expect(txt.stderr).toContain(`--metrics-file ${join(work, "d.txt")}: must end in .prom`);
        const missing = join(work, "no-such-dir", "doctor.prom");
        const dir = await main(["doctor", "--database-url", "postgresql://u@127.0.0.1:9/p", "--metrics-file", missing]);
        expect(dir.code).toBe(2);
        expect(dir.stderr).toContain(`--metrics-file ${missing}: its directory ${join(work, "no-such-dir")} must exist`);
        expect(readdirSync(work).filter((f) => f !== "drill.prom")).toEqual([]);
    });

    it("refuses, before the command runs, a directory this user cannot write (as an unprivileged user)", async () => {
        // root may write anywhere: the check runs as the unprivileged user `nobody`, from a bundle in
        // a directory it can read (the checkout may sit in a directory only its owner can enter).
        const base = mkdtempSync(join(tmpdir(), "ops-metrics-ro-"));
        chmodSync(base, 0o755);
        const readOnly = join(base, "textfile");
        mkdirSync(readOnly, { mode: 0o555 });
        chmodSync(readOnly, 0o555);
        const target = join(readOnly, "doctor.prom");
        const bundle = join(base, "check.cjs");
        await build({
            stdin: {
                contents: `import { checkMetricsFile } from "./ops/metricsFile";
try { checkMetricsFile(process.argv[2]); } catch (e) { process.stderr.write(e.constructor.name + ": " + e.message); process.exit(2); }`,
                resolveDir: join(__dirname, ".."),
                loader: "ts",
            },
            bundle: true,
            platform: "node",
            format: "cjs",
            outfile: bundle,
            logLevel: "silent",
        });
        chmodSync(bundle, 0o644);
        const [file, args] =
            process.getuid?.() === 0
                ? ["setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, bundle, target]]
                : [process.execPath, [bundle, target]];
        const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
            execFile(file, args, { cwd: base }, (err, _out, stderr) => resolve({ code: err ? Number(err.code) : 0, stderr })),
        );
        rmSync(base, { recursive: true, force: true });
        // A UsageError: the CLI's exit 2 before the command runs (the missing directory above shows the wiring).
        expect(result.stderr).toContain(`UsageError: --metrics-file ${target}: its directory ${readOnly} must be writable by this user`);
        expect(result.code).toBe(2);
    });

    it("records a drill that stopped with an error as failed", async () => {
        const path = join(work, "stopped.prom");
        const r = await stoppedDrill(path);
        expect(r.code).toBe(1);
        expect(valueOf(readFileSync(path, "utf8"), OPS_SERIES.drillLastResult)).toBe("0");
    });
});
