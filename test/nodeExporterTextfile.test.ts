/**
 * The ops tool's results reach Prometheus through node_exporter's textfile collector (Debian's
 * prometheus-node-exporter, with the program's arguments): `ops doctor --metrics-file` against the
 * Management API double (a project with bans) and `ops drill --metrics-file` (a drill that fails)
 * write their files into a temporary directory; node_exporter serves their series, with no
 * textfile error. Only the textfile collector runs, to keep it quick.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeExporterArgs } from "../lib/monitoring/exporters";
import { OPS_SERIES } from "../lib/monitoring/runtime";
import { metricsTempPath } from "../ops/metricsFile";
import { useHostedDoctor } from "./support/hosted-doctor";
import { useManagementApiDouble } from "./support/management-api-suite";
import { freePort } from "./support/net";
import { stoppedDrill } from "./support/stoppedDrill";
import { requireTool } from "./support/tools";

const REF = "abcdefghijklmnopqrst";
const APP = "203.0.113.7";
const double = useManagementApiDouble();
const hosted = useHostedDoctor(double, REF);
const textfiles = mkdtempSync(join(tmpdir(), "node-exporter-textfile-"));
let exporter: ChildProcess;
let port: number;
let log = "";

beforeAll(async () => {
    port = await freePort();
    const args = nodeExporterArgs({ textfileDir: textfiles, paths: { procfs: "/proc", sysfs: "/sys", rootfs: "/" } }).map((a) =>
        a.startsWith("--web.listen-address=") ? `--web.listen-address=127.0.0.1:${port}` : a,
    );
    exporter = spawn(requireTool("/usr/bin/prometheus-node-exporter"), ["--collector.disable-defaults", "--collector.textfile", ...args], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    exporter.stdout!.on("data", (d) => (log += d));
    exporter.stderr!.on("data", (d) => (log += d));
});
afterAll(() => {
    exporter?.kill("SIGTERM");
    rmSync(textfiles, { recursive: true, force: true });
});

/** node_exporter's /metrics, once it answers. */
async function scrape(): Promise<string> {
    for (let attempt = 0; ; attempt++) {
        try {
            const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
            return await res.text();
        } catch (err) {
            if (attempt > 50 || exporter.exitCode !== null)
                throw new Error(`node_exporter did not answer: ${String(err)}\n${log}`, { cause: err });
            await new Promise((r) => setTimeout(r, 100));
        }
    }
}

const valueOf = (metrics: string, name: string) => metrics.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1];

describe("node_exporter's textfile collector serves what the ops tool wrote", () => {
    it("the bans doctor read, and a drill that failed", async () => {
        double.api.addProject(REF, {
            ssl: true,
            legacyEnabled: false,
            bans: [APP, "198.51.100.23", "198.51.100.24"].map((address) => ({ address, identifier: "supavisor", type: "auth_failures" })),
        });
        const doctor = await hosted.doctor({ applicationEgressIpv4: [APP, "192.0.2.1"] }, [
            "--metrics-file",
            join(textfiles, "doctor.prom"),
        ]);
        expect(doctor.get(`network ban on application host ${APP}`)?.status).toBe("fail");
        const drill = await stoppedDrill(join(textfiles, "drill.prom"));
        expect(drill.code).toBe(1);
        // A file being written (the writer's temporary name) is not read.
        writeFileSync(metricsTempPath(join(textfiles, "drill.prom")), "half a li");

        const metrics = await scrape();
        expect(valueOf(metrics, OPS_SERIES.networkBans)).toBe("3");
        expect(valueOf(metrics, OPS_SERIES.networkBansApplicationHosts)).toBe("1");
        expect(valueOf(metrics, OPS_SERIES.drillLastResult)).toBe("0");
        expect(Number(valueOf(metrics, OPS_SERIES.drillLastTimestamp))).toBeGreaterThan(Date.now() / 1000 - 120);
        expect(Number(valueOf(metrics, OPS_SERIES.doctorLastTimestamp))).toBeGreaterThan(Date.now() / 1000 - 120);
        expect(metrics).toMatch(/^node_textfile_scrape_error 0$/m);
        expect(metrics).toContain(`node_textfile_mtime_seconds{file="${join(textfiles, "doctor.prom")}"}`);
    });
});
