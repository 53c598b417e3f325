/**
 * Stand-in images for the real-engine tests, built without a registry: ONE Debian minbase root
 * filesystem (debootstrap) holding redis-server, Celery, curl, Node and coreutils, cached as a tar
 * under ~/.cache/toolboxai-test-images/<hash of what goes in>/ so that later runs only import it,
 * then one small image per role (Dockerfile: the role's program and command), tagged as each
 * image name the plan uses.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Engine } from "./docker";
import { requireTool } from "./tools";

const run = promisify(execFile);

/** What goes into the root filesystem; a change here makes a new cache entry. */
const SUITE = "bookworm";
const PACKAGES = ["redis-server", "redis-tools", "python3-celery", "python3-redis", "curl", "nodejs", "ca-certificates"];
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
const STANDIN_DIR = join(__dirname, "standin");
export const BASE_IMAGE = "toolboxai-standin:base";

export type Role = "redis" | "backend" | "worker" | "backup";

/** The Dockerfile of each role's stand-in: the base plus its program. */
const DOCKERFILES: Record<Role, string> = {
    redis: `FROM ${BASE_IMAGE}\nWORKDIR /data\nCMD ["redis-server"]\n`,
    backend: `FROM ${BASE_IMAGE}\nCOPY tasks.py backend.py /opt/standin/\nCMD ["python3", "/opt/standin/backend.py"]\n`,
    worker: `FROM ${BASE_IMAGE}\nCOPY tasks.py worker.py /opt/standin/\nCMD ["python3", "/opt/standin/worker.py"]\n`,
    backup: `FROM ${BASE_IMAGE}\nCOPY backup-job.js /app/backup-job.js\nCMD ["node", "/app/backup-job.js"]\n`,
};

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
            writeFileSync(dockerfile, DOCKERFILES[role]);
            await engine.cli(["build", "-q", "-f", dockerfile, "-t", tag, STANDIN_DIR]);
            built.set(role, tag);
        }
        await engine.cli(["tag", built.get(role)!, name]);
    }
}
