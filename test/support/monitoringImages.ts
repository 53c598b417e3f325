/**
 * Images for the monitoring engine test, built without a registry: the stand-in Debian base
 * (./standinImages.ts) plus the files of Debian's own packages (prometheus,
 * prometheus-alertmanager, prometheus-redis-exporter, as installed by scripts/install-test-tools.sh),
 * and busybox's wget for the planned health checks; one image per part, tagged as the planned
 * image names. The doubles (hosted metrics endpoint, webhook receiver, the backup job's metrics)
 * run on the base with Node.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { MONITORING_UID } from "../../lib/monitoring/runtime";
import type { Engine } from "./docker";
import { BASE_IMAGE, rootfsTar } from "./standinImages";
import { requireTool } from "./tools";

const run = promisify(execFile);

export type MonitoringPart = "prometheus" | "alertmanager" | "redisExporter";
/** Each part's package, and its program (the image's entrypoint), checked to be installed. */
const PARTS: Record<MonitoringPart, { program: () => string; pkg: string }> = {
    prometheus: { program: () => requireTool("/usr/bin/prometheus"), pkg: "prometheus" },
    alertmanager: { program: () => requireTool("/usr/bin/prometheus-alertmanager"), pkg: "prometheus-alertmanager" },
    redisExporter: { program: () => requireTool("/usr/bin/prometheus-redis-exporter"), pkg: "prometheus-redis-exporter" },
};
export const DOUBLES_IMAGE = "toolboxai-standin:monitoring-doubles";

/** A package's regular files, as dpkg lists them; documentation, service units and the command-line tools (promtool, amtool) left out. */
async function packageFiles(pkg: string): Promise<string[]> {
    const { stdout } = await run("dpkg", ["-L", pkg]);
    return stdout
        .split("\n")
        .filter((p) => p.startsWith("/") && !/^\/(usr\/share\/(doc|man)|lib\/systemd|etc\/init\.d)\//.test(p))
        .filter((p) => !["/usr/bin/promtool", "/usr/bin/amtool"].includes(p))
        .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
}

/** Builds each part's image on the stand-in base (imported by loadStandinImages first) and tags it under the given names. */
export async function loadMonitoringImages(engine: Engine, names: Record<string, MonitoringPart>): Promise<void> {
    const busybox = requireTool("busybox");
    const context = mkdtempSync(join(engine.host.replace("unix://", "").replace(/docker\.sock$/, ""), "monitoring-images-"));
    try {
        // The base is loadStandinImages's (the Redis stand-in is built on it): imported once.
        await engine
            .cli(["image", "inspect", BASE_IMAGE])
            .catch(async () => engine.cli(["import", await rootfsTar(), BASE_IMAGE], { timeoutMs: 300_000 }));
        // wget for the health checks; the data directories as the official images have them (nobody's).
        const extra = join(context, "extra");
        mkdirSync(join(extra, "usr/local/bin"), { recursive: true });
        copyFileSync(busybox, join(extra, "usr/local/bin/busybox"));
        symlinkSync("busybox", join(extra, "usr/local/bin/wget"));
        for (const dir of ["prometheus", "alertmanager"]) mkdirSync(join(extra, dir));
        await run("tar", ["-C", extra, "-cf", join(context, "extra.tar"), "usr"]);
        await run("tar", [
            "-C",
            extra,
            "--owner",
            String(MONITORING_UID),
            "--group",
            String(MONITORING_UID),
            "-rf",
            join(context, "extra.tar"),
            "prometheus",
            "alertmanager",
        ]);
        const built = new Map<MonitoringPart, string>();
        for (const [name, part] of Object.entries(names)) {
            if (!built.has(part)) {
                const { program, pkg } = PARTS[part];
                const probe = program();
                writeFileSync(join(context, `${part}.list`), (await packageFiles(pkg)).map((p) => p.slice(1)).join("\n"));
                await run("tar", ["-C", "/", "-cf", join(context, `${part}.tar`), "-T", join(context, `${part}.list`)], {
                    maxBuffer: 16 << 20,
                });
                writeFileSync(
                    join(context, `Dockerfile.${part}`),
                    `FROM ${BASE_IMAGE}\nADD extra.tar /\nADD ${part}.tar /\nENTRYPOINT ["${probe}"]\n`,
                );
                const tag = `toolboxai-standin:monitoring-${part.toLowerCase()}`;
                await engine.cli(["build", "-q", "-f", join(context, `Dockerfile.${part}`), "-t", tag, context]);
                built.set(part, tag);
            }
            await engine.cli(["tag", built.get(part)!, name]);
        }
        // The doubles: plain Node scripts, and the backup job's metrics code bundled as the job's image bundles it.
        const doubles = join(context, "doubles");
        mkdirSync(doubles);
        copyFileSync(join(__dirname, "monitoring", "doubles.js"), join(doubles, "doubles.js"));
        await build({
            entryPoints: [join(__dirname, "monitoring", "backupMetricsDouble.ts")],
            bundle: true,
            platform: "node",
            target: "node18",
            outfile: join(doubles, "backup-metrics.js"),
            logLevel: "silent",
        });
        writeFileSync(join(doubles, "Dockerfile"), `FROM ${BASE_IMAGE}\nCOPY doubles.js backup-metrics.js /app/\n`);
        await engine.cli(["build", "-q", "-t", DOUBLES_IMAGE, doubles]);
    } finally {
        rmSync(context, { recursive: true, force: true });
    }
}
