/**
 * The backup job's metrics endpoint (backup-job/metrics.ts, the job's own code) serving a planted
 * scheduler status: the engine test bundles this with esbuild and runs it in a container.
 */
import { writeFileSync } from "node:fs";
import { serveMetrics } from "../../../backup-job/metrics";
import { MONITORING_PORTS } from "../../../lib/monitoring/runtime";

const STATUS_FILE = "/tmp/backup-status.json";
writeFileSync(STATUS_FILE, process.env.PLANTED_STATUS ?? "");
void serveMetrics(STATUS_FILE, MONITORING_PORTS.backupJob);
process.on("SIGTERM", () => process.exit(0));
