/**
 * test/support/standin/Dockerfile, the stand-in backend and worker images a newcomer builds without
 * GHCR access (docs/local-development.md, step 6). `docker build` needs debian:bookworm-slim from a
 * registry, so the file is replayed (test/support/dockerfileReplay.ts): every COPY source exists,
 * and what each role's program imports and its health check runs come from Debian packages the
 * file installs, as Debian's own package database (dpkg) says. The real-engine tests build the
 * same role stages on a root filesystem holding those packages (test/support/standinImages.ts)
 * and run them to healthy against the planned Redis (test/engine.test.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_USER } from "../lib/docker";
import { defaultHealthcheck } from "../lib/services";
import { parseStages, replayStage, type ReplayedStage } from "./support/dockerfileReplay";
import { aptInstalls, DOCKERFILE_ROLES, SUITE, STANDIN_DOCKERFILE, stageAlone } from "./support/standinImages";
import { requireTool } from "./support/tools";

const CONTEXT = dirname(STANDIN_DOCKERFILE);
const DOCKERFILE = readFileSync(STANDIN_DOCKERFILE, "utf8");
/** Debian's python3, where python3-celery and python3-redis are installed (scripts/install-test-tools.sh). */
const PYTHON = "/usr/bin/python3";

let workDir: string;
beforeAll(() => {
    requireTool("/usr/lib/python3/dist-packages/celery/__init__.py");
    requireTool("/usr/lib/python3/dist-packages/redis/__init__.py");
    requireTool("curl");
    workDir = mkdtempSync(join(tmpdir(), "standin-image-"));
});
afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** The package stage's apt-get cannot run here (no registry, no base image): it is the one RUN skipped. */
const skipRun = (command: string) => /^\s*apt-get update\b/.test(command);

function replay(dockerfile: string, name: string): Record<string, ReplayedStage> {
    const out: Record<string, ReplayedStage> = {};
    for (const stage of parseStages(dockerfile))
        out[stage.name ?? "final"] = replayStage(stage, { contextDir: CONTEXT, workDir: join(workDir, name), skipRun });
    return out;
}

/** The Debian package that owns a file on this machine (usrmerge: /bin and /usr/bin are one). */
function owner(path: string): string | undefined {
    for (const candidate of [path, path.replace(/^\/usr\/(s?bin)\//, "/$1/"), path.replace(/^\/(s?bin)\//, "/usr/$1/")]) {
        const run = spawnSync("dpkg", ["-S", candidate], { encoding: "utf8" });
        const line = run.stdout.split("\n").find((l) => l && !l.startsWith("diversion "));
        if (run.status === 0 && line) return line.split(":")[0];
    }
    return undefined;
}

const essential = (pkg: string) => execFileSync("dpkg-query", ["-W", "-f=${Essential}", pkg], { encoding: "utf8" }) === "yes";

/** Every module a Python file imports, anywhere in it (tasks.py imports redis inside a function). */
function pythonImports(file: string): string[] {
    const script =
        "import ast,sys\nt=ast.parse(open(sys.argv[1]).read())\n" +
        "for n in ast.walk(t):\n" +
        "  if isinstance(n,ast.Import): print(*[a.name.split('.')[0] for a in n.names],sep='\\n')\n" +
        "  elif isinstance(n,ast.ImportFrom) and not n.level: print(n.module.split('.')[0])\n";
    return [...new Set(execFileSync(PYTHON, ["-c", script, file], { encoding: "utf8" }).split("\n").filter(Boolean))];
}

/**
 * What a stage's program imports that the image does not provide: each import is a file copied
 * next to it, Python's standard library, or a module whose file belongs to an installed package.
 */
function unmetImports(stage: ReplayedStage, installed: string[]): string[] {
    const [interpreter, script] = stage.cmd ?? [];
    if (interpreter !== "python3") return [`CMD ${JSON.stringify(stage.cmd)} does not run python3`];
    const stdlib = new Set(
        execFileSync(PYTHON, ["-c", "import sys;print(*sys.stdlib_module_names,sep='\\n')"], { encoding: "utf8" }).split("\n"),
    );
    const unmet: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string): void => {
        if (!existsSync(file)) {
            unmet.push(`${script}: ${file.slice(stage.root.length)} is not in the image`);
            return;
        }
        for (const module of pythonImports(file)) {
            if (seen.has(module)) continue;
            seen.add(module);
            const local = join(dirname(file), `${module}.py`);
            if (existsSync(local)) visit(local);
            else if (existsSync(join(CONTEXT, `${module}.py`))) unmet.push(`${module} (${module}.py is not copied next to ${script})`);
            else if (!stdlib.has(module)) {
                const where = spawnSync(PYTHON, ["-c", `import ${module};print(${module}.__file__)`], { encoding: "utf8" }).stdout.trim();
                const pkg = where ? owner(where) : undefined;
                if (!pkg || !installed.includes(pkg)) unmet.push(`${module} (from Debian package ${pkg ?? "unknown"}, not installed)`);
            }
        }
    };
    visit(join(stage.root, script));
    return unmet;
}

/** The programs a role's health check runs, and whether the image has each (installed or essential). */
function unmetHealthcheck(role: "backend" | "worker", installed: string[]): string[] {
    const [kind, ...rest] = defaultHealthcheck(role);
    // CMD: its first word; CMD-SHELL: sh and the commands the shell line runs.
    const programs = kind === "CMD" ? [rest[0]] : ["sh", ...[...rest[0].matchAll(/\$\(\s*([\w-]+)/g)].map((m) => m[1])];
    return programs.flatMap((program) => {
        const pkg = owner(`/usr/bin/${program}`);
        return pkg && (installed.includes(pkg) || essential(pkg)) ? [] : [`${program} (Debian package ${pkg ?? "unknown"})`];
    });
}

describe("test/support/standin/Dockerfile, replayed", () => {
    it("has a package stage on public Debian (the debootstrap suite) and a stage per role built from it", () => {
        const stages = parseStages(DOCKERFILE);
        expect(stages.map((s) => [s.name, s.base])).toEqual([
            ["packages", `debian:${SUITE}-slim`],
            ["backend", "packages"],
            ["worker", "packages"],
        ]);
        expect(DOCKERFILE_ROLES).toEqual(["backend", "worker"]);
    });

    it("copies only files that exist, runs each role's program as the app user, and needs nothing it does not install", () => {
        const image = replay(DOCKERFILE, "as-written");
        const installed = aptInstalls(DOCKERFILE);
        expect(installed).toContain("curl");
        expect(image.packages.skippedRuns).toHaveLength(1);
        for (const role of DOCKERFILE_ROLES) {
            expect(image[role].copiedFromContext.sort(), role).toEqual(["tasks.py", `${role}.py`].sort());
            expect(image[role].user, role).toBe(APP_USER);
            expect(image[role].cmd, role).toEqual(["python3", `/opt/standin/${role}.py`]);
            expect(unmetImports(image[role], installed), role).toEqual([]);
            expect(unmetHealthcheck(role, installed), role).toEqual([]);
        }
    });

    it("can fail: a package dropped, a program not copied, a health check tool missing", () => {
        const noRedis = DOCKERFILE.replace(" python3-redis ", " ");
        expect(noRedis).not.toBe(DOCKERFILE);
        const image = replay(noRedis, "no-redis");
        expect(unmetImports(image.worker, aptInstalls(noRedis))).toEqual(["redis (from Debian package python3-redis, not installed)"]);

        const noTasks = DOCKERFILE.replace("COPY tasks.py worker.py", "COPY worker.py");
        expect(unmetImports(replay(noTasks, "no-tasks").worker, aptInstalls(noTasks))).toEqual([
            "tasks (tasks.py is not copied next to /opt/standin/worker.py)",
        ]);

        expect(() => replay(DOCKERFILE.replace("COPY tasks.py backend.py", "COPY tasks.py backnd.py"), "typo")).toThrow(
            /backnd\.py not found in the build context/,
        );
        expect(unmetHealthcheck("backend", aptInstalls(DOCKERFILE.replace(" curl ", " ")))).toEqual(["curl (Debian package curl)"]);
    });

    it("is what the real-engine tests build: each role stage as written, on the root filesystem with the same packages", () => {
        for (const role of DOCKERFILE_ROLES) {
            const alone = stageAlone(DOCKERFILE, role, "toolboxai-standin:base");
            expect(alone.split("\n")[0]).toBe("FROM toolboxai-standin:base");
            const [stage] = parseStages(alone);
            const original = parseStages(DOCKERFILE).find((s) => s.name === role);
            expect(stage.instructions.map((i) => [i.keyword, i.text])).toEqual(original?.instructions.map((i) => [i.keyword, i.text]));
        }
        // A role stage on another base would lose what that base adds: refused, not built.
        const onBookworm = DOCKERFILE.replace("FROM packages AS worker", "FROM debian:bookworm-slim AS worker");
        expect(() => stageAlone(onBookworm, "worker", "x")).toThrow(/must build FROM a stage of the file that only installs packages/);
        const extraStep = DOCKERFILE.replace("&& rm -rf /var/lib/apt/lists/*", "&& rm -rf /var/lib/apt/lists/*\nRUN useradd app");
        expect(() => stageAlone(extraStep, "worker", "x")).toThrow(/only installs packages/);
    });
});
