/**
 * The backup job's image, replayed: its build stage from only what the Dockerfile's COPY lines name,
 * its RUN steps as written (but `npm ci`, see adaptRun), then the runtime stage's COPY and ENTRYPOINT
 * against that result. `docker build` itself needs node:22 from a registry; the backup-image workflow
 * builds and smoke-tests the real image on every change to these paths.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { minimatch } from "minimatch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "./harness";
import { parseStages, replayStage, type ReplayedStage, type Stage } from "./support/dockerfileReplay";

const DOCKERFILE = readFileSync(join(PROJECT_DIR, "backup-job", "Dockerfile"), "utf8");
/**
 * The one RUN that differs: `npm ci` would fetch and unpack the whole lockfile again (minutes on a busy
 * machine). The project's node_modules is that same install (checked: its .package-lock.json matches the
 * package-lock.json the stage copied), so the stage links it; the sources stay the stage's own copies.
 */
const adaptRun = (command: string) =>
    /^npm ci\b/.test(command) ? `ln -s ${JSON.stringify(join(PROJECT_DIR, "node_modules"))} node_modules` : command;

/** Packages of the installed tree that differ from the lockfile, or that the lockfile requires and the tree lacks. */
function installDrift(lockfile: string): string[] {
    type Packages = Record<string, { version?: string; optional?: boolean; peer?: boolean }>;
    const locked = (JSON.parse(readFileSync(lockfile, "utf8")) as { packages: Packages }).packages;
    const installed = (JSON.parse(readFileSync(join(PROJECT_DIR, "node_modules", ".package-lock.json"), "utf8")) as { packages: Packages })
        .packages;
    const drift = Object.entries(installed)
        .filter(([path, p]) => locked[path]?.version !== p.version)
        .map(([path]) => `installed ${path}`);
    // Optional packages for other platforms (esbuild's) are locked but not installed.
    return drift.concat(
        Object.entries(locked)
            .filter(([path, p]) => path !== "" && !installed[path] && !p.optional && !p.peer)
            .map(([path]) => `missing ${path}`),
    );
}
/** The runtime stage's apt-get step installs pg_dump and zstd into Debian bookworm: only the real build (workflow) can run it. */
const skipRun = (command: string) => command.startsWith("apt-get update");

let workDir: string;

function replay(dockerfile: string, name: string): { build: ReplayedStage; runtime: ReplayedStage } {
    const stages = parseStages(dockerfile);
    const [buildStage, runtimeStage] = stages as [Stage, Stage];
    const dir = join(workDir, name);
    const build = replayStage(buildStage, { contextDir: PROJECT_DIR, workDir: dir, adaptRun });
    const runtime = replayStage(runtimeStage, {
        contextDir: PROJECT_DIR,
        workDir: dir,
        stages: { [buildStage.name ?? "0"]: build },
        skipRun,
    });
    return { build, runtime };
}

describe("backup-job/Dockerfile, replayed", () => {
    let image: { build: ReplayedStage; runtime: ReplayedStage };

    beforeAll(() => {
        workDir = mkdtempSync(join(tmpdir(), "backup-image-"));
        image = replay(DOCKERFILE, "as-written");
    }, 120_000);
    afterAll(() => {
        if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it("has a build stage and a runtime stage, the build stage named for COPY --from", () => {
        const stages = parseStages(DOCKERFILE);
        expect(stages.map((s) => s.name)).toEqual(["build", undefined]);
        expect(stages[1].instructions.filter((i) => i.keyword === "COPY").map((i) => i.flags.from)).toEqual(["build"]);
    });

    it("builds dist/backup-job.js from only the paths its COPY lines name", () => {
        const drift = installDrift(join(image.build.root, image.build.workdir, "package-lock.json"));
        expect(drift, "node_modules does not match package-lock.json (the stage stands in for npm ci with it): run npm ci").toEqual([]);
        expect(image.build.copiedFromContext.sort()).toEqual([
            "backup-job",
            "lib",
            "package-lock.json",
            "package.json",
            "scripts/codeCache.js",
            "scripts/register.js",
        ]);
        expect(existsSync(join(image.build.root, image.build.workdir, "dist", "backup-job.js"))).toBe(true);
    });

    it("gives the entrypoint everything it needs: a self-contained bundle that starts and checks its settings", () => {
        const [interpreter, script] = image.runtime.entrypoint ?? [];
        expect(interpreter).toBe("node");
        const bundle = join(image.runtime.root, script);
        expect(existsSync(bundle), `${script} is not copied into the runtime stage`).toBe(true);
        // The runtime image has no node_modules: every require left in the bundle must be Node's own
        // (the AWS SDK names its optional CRT signer in error messages only: "[require(...)]").
        const requires = [...readFileSync(bundle, "utf8").matchAll(/(?<![[\w.])require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
        expect(requires.filter((m) => !m.startsWith("node:") && !builtinModules.includes(m))).toEqual([]);
        expect(image.runtime.user).toBe("10001:10001");
        expect(image.runtime.cmd).toEqual(["schedule"]);
        expect(image.runtime.skippedRuns).toHaveLength(1);
        // As the workflow's smoke test: no settings, so it exits with the settings code (2) and names one.
        const run = spawnSync(process.execPath, [bundle, "run"], {
            cwd: image.runtime.root,
            env: { PATH: process.env.PATH ?? "" },
            encoding: "utf8",
            timeout: 30_000,
        });
        expect(run.status, run.stderr).toBe(2);
        expect(run.stdout + run.stderr).toMatch(/BACKUP_/);
    });

    it("fails the build when a needed COPY is dropped (the replay can fail)", () => {
        const withoutLib = DOCKERFILE.replace(/^COPY lib lib\n/m, "");
        expect(withoutLib).not.toBe(DOCKERFILE);
        expect(() => replay(withoutLib, "without-lib")).toThrow(/Could not resolve "\.\.\/lib\/backup"/);
    });

    it("is rebuilt by the backup-image workflow whenever a path it copies changes", () => {
        const workflow = load(readFileSync(join(PROJECT_DIR, ".github", "workflows", "backup-image.yml"), "utf8")) as {
            on: Record<string, { paths?: string[] }>;
        };
        for (const event of ["pull_request", "push"]) {
            const paths = workflow.on[event].paths ?? [];
            for (const copied of [...image.build.copiedFromContext, ...image.runtime.copiedFromContext, "backup-job/Dockerfile"]) {
                // A directory is covered when a file inside it is.
                const probe = existsSync(join(PROJECT_DIR, copied, ".")) && !copied.includes(".") ? `${copied}/any/file.ts` : copied;
                expect(
                    paths.some((p) => minimatch(probe, p, { dot: true })),
                    `${event} paths miss ${copied}`,
                ).toBe(true);
            }
        }
    });
});
