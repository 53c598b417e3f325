/**
 * Stand-in images for the real-engine tests, built without a registry: ONE Debian minbase root
 * filesystem (debootstrap) holding redis-server, Celery, curl, Node and coreutils, cached as a tar
 * under ~/.cache/toolboxai-test-images/<hash of what goes in>/ so that later runs only import it,
 * then one small image per role, tagged as each image name the plan uses. Backend and worker are
 * the role stages of the committed ./standin/Dockerfile (the one newcomers build without GHCR
 * access), built on this root filesystem instead of its public base: there is no registry here.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DockerfileParser } from "dockerfile-ast";
import type { Engine } from "./docker";
import { requireTool } from "./tools";

const run = promisify(execFile);

const STANDIN_DIR = join(__dirname, "standin");
/** The stand-in backend and worker images' one definition (docs/local-development.md, step 6). */
export const STANDIN_DOCKERFILE = join(STANDIN_DIR, "Dockerfile");
/** The Dockerfile's stages that are images of their own; each builds `FROM` its package stage. */
export const DOCKERFILE_ROLES = ["backend", "worker"] as const;

/** The packages a Dockerfile's `apt-get install` lines install (every RUN, every stage). */
export function aptInstalls(dockerfile: string): string[] {
    const packages: string[] = [];
    for (const i of DockerfileParser.parse(dockerfile).getInstructions()) {
        if (i.getKeyword() !== "RUN") continue;
        // dockerfile-ast joins the line continuations.
        for (const m of (i.getArgumentsContent() ?? "").matchAll(/\bapt-get\s+install\s+([^;&|]*)/g))
            packages.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith("-")));
    }
    return packages;
}

/**
 * One stage of a Dockerfile as a Dockerfile of its own: its instructions as written, its FROM
 * replaced by `base`, which must hold what the stage's own base adds. So the stage must build FROM
 * a stage of the file that only installs packages (aptInstalls), and copy nothing from another.
 */
export function stageAlone(dockerfile: string, stage: string, base: string): string {
    const parsed = DockerfileParser.parse(dockerfile);
    const froms = parsed.getFROMs();
    const at = froms.findIndex((f) => f.getBuildStage() === stage);
    if (at < 0) throw new Error(`the Dockerfile has no stage ${stage} (stages: ${froms.map((f) => f.getBuildStage()).join(", ")})`);
    const parent = froms.findIndex((f) => f.getBuildStage() === froms[at].getImageName());
    const parentOnlyInstalls =
        parent >= 0 &&
        parsed
            .getInstructions()
            .filter((i) => i.getKeyword() !== "FROM")
            .filter((i) => {
                const line = i.getRange().start.line;
                return (
                    line > froms[parent].getRange().start.line &&
                    (parent + 1 >= froms.length || line < froms[parent + 1].getRange().start.line)
                );
            })
            .every((i) => i.getKeyword() === "RUN" && /\bapt-get\s+install\b/.test(i.getArgumentsContent() ?? ""));
    if (!parentOnlyInstalls)
        throw new Error(`stage ${stage} must build FROM a stage of the file that only installs packages, not ${froms[at].getImageName()}`);
    const lines = dockerfile.split("\n");
    const end = at + 1 < froms.length ? froms[at + 1].getRange().start.line : lines.length;
    const body = lines.slice(froms[at].getRange().start.line + 1, end).join("\n");
    if (/^\s*COPY\s+--from/im.test(body)) throw new Error(`stage ${stage} copies from another stage: it cannot be built alone`);
    return `FROM ${base}\n${body.trimEnd()}\n`;
}

/** What goes into the root filesystem; a change here makes a new cache entry. */
export const SUITE = "bookworm";
/** Redis and the backup job's stand-ins, plus what the stand-in Dockerfile installs for backend and worker. */
const PACKAGES = ["redis-server", "redis-tools", ...aptInstalls(readFileSync(STANDIN_DOCKERFILE, "utf8")), "nodejs"];
/** Shell run in the root filesystem's directory after debootstrap (part of the cache key). */
const PREPARE = [
    // Smaller tar, faster import.
    "rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc usr/share/man usr/share/info",
    // As in the official redis image: /data belongs to uid 999, and there is no /etc/redis (the
    // program mounts a volume there; Debian's root-owned 2770 directory would be copied into it).
    "rm -rf etc/redis && mkdir -p data && chown 999:999 data",
    // runc mounts a tmpfs with the mode of the image's directory: non-root users need 1777.
    "chmod 1777 tmp",
].join(" && ");
const MIRROR = process.env.TOOLBOXAI_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "toolboxai-test-images");
export const BASE_IMAGE = "toolboxai-standin:base";

export type Role = "redis" | "backend" | "worker" | "backup";

/** The Dockerfile of each role's stand-in: the base plus its program. */
function roleDockerfile(role: Role): string {
    if (role === "redis") return `FROM ${BASE_IMAGE}\nWORKDIR /data\nCMD ["redis-server"]\n`;
    if (role === "backup") return `FROM ${BASE_IMAGE}\nCOPY backup-job.js /app/backup-job.js\nCMD ["node", "/app/backup-job.js"]\n`;
    return stageAlone(readFileSync(STANDIN_DOCKERFILE, "utf8"), role, BASE_IMAGE);
}

/** The cached root filesystem tar, built with debootstrap on first use (a minute or two, network to the Debian mirror). */
export async function rootfsTar(): Promise<string> {
    const key = createHash("sha256")
        .update(JSON.stringify([SUITE, PACKAGES, PREPARE]))
        .digest("hex")
        .slice(0, 16);
    const dir = join(CACHE_DIR, key);
    const tar = join(dir, "rootfs.tar");
    if (existsSync(tar)) return tar;
    requireTool("/usr/sbin/debootstrap");
    mkdirSync(dir, { recursive: true });
    const work = join(dir, `build-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    try {
        await run("/usr/sbin/debootstrap", ["--variant=minbase", `--include=${PACKAGES.join(",")}`, SUITE, join(work, "rootfs"), MIRROR], {
            timeout: 600_000,
            maxBuffer: 64 << 20,
        }).catch((e: { stderr?: string; stdout?: string; message: string }) => {
            throw new Error(
                `debootstrap of the stand-in root filesystem failed (mirror ${MIRROR}; set TOOLBOXAI_DEBIAN_MIRROR for another): ${e.message}\n${String(e.stdout ?? "").slice(-2000)}`,
            );
        });
        await run("sh", ["-c", PREPARE], { cwd: join(work, "rootfs") });
        await run("tar", ["-C", join(work, "rootfs"), "-cf", join(work, "rootfs.tar"), "."], { timeout: 300_000 });
        // Atomic: a concurrent or interrupted run never sees half a tar.
        renameSync(join(work, "rootfs.tar"), tar);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
    return tar;
}

/** Imports the root filesystem and tags a stand-in of each role under every name given for it. */
export async function loadStandinImages(engine: Engine, names: Record<string, Role>): Promise<void> {
    const tar = await rootfsTar();
    await engine.cli(["import", tar, BASE_IMAGE], { timeoutMs: 300_000 });
    const built = new Map<Role, string>();
    for (const [name, role] of Object.entries(names)) {
        if (!built.has(role)) {
            const tag = `toolboxai-standin:${role}`;
            const dockerfile = join(engine.host.replace("unix://", "").replace(/docker\.sock$/, ""), `Dockerfile.${role}`);
            writeFileSync(dockerfile, roleDockerfile(role));
            await engine.cli(["build", "-q", "-f", dockerfile, "-t", tag, STANDIN_DIR]);
            built.set(role, tag);
        }
        await engine.cli(["tag", built.get(role)!, name]);
    }
}
