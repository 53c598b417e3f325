/**
 * Replays a Dockerfile's steps without Docker: each stage gets a directory standing for its root
 * filesystem, COPY copies only the paths it names from the build context, RUN runs its command there.
 * A real `docker build` needs the base images from a registry; this replays what the image adds to them.
 * Instructions it cannot replay faithfully are refused, never skipped (except where a caller says so).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { DockerfileParser } from "dockerfile-ast";

export interface Instruction {
    keyword: string;
    /** Arguments after the flags (JSON form unquoted). */
    args: string[];
    /** The arguments as written (the shell form of RUN). */
    text: string;
    flags: Record<string, string | null>;
    line: number;
}

export interface Stage {
    name?: string;
    base: string;
    instructions: Instruction[];
}

/** The stages of a Dockerfile, parsed by dockerfile-ast (the parser of the VS Code Docker extension). */
export function parseStages(dockerfile: string): Stage[] {
    const stages: Stage[] = [];
    for (const i of DockerfileParser.parse(dockerfile).getInstructions()) {
        const keyword = i.getKeyword();
        const flags = Object.fromEntries(
            ("getFlags" in i ? (i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags() : []).map(
                (f) => [f.getName(), f.getValue()],
            ),
        );
        const text = i.getArgumentsContent() ?? "";
        const raw = i.getArguments().map((a) => a.getValue());
        const json = text.trim().startsWith("[") ? (JSON.parse(text) as string[]) : undefined;
        const line = i.getRange().start.line + 1;
        if (keyword === "FROM") {
            const as = raw.findIndex((a) => a.toUpperCase() === "AS");
            stages.push({ base: raw[0], name: as >= 0 ? raw[as + 1] : undefined, instructions: [] });
            continue;
        }
        if (stages.length === 0) throw new Error(`line ${line}: ${keyword} before the first FROM is not supported by the replay`);
        const args = json ?? raw; // dockerfile-ast leaves the flags (--from=...) out of the arguments
        stages[stages.length - 1].instructions.push({ keyword, args, text, flags, line });
    }
    return stages;
}

export interface ReplayOptions {
    /** The build context (`docker build <context>`). */
    contextDir: string;
    /** A fresh directory for this replay's root filesystems. */
    workDir: string;
    /** Stages replayed before, by name, for `COPY --from`. */
    stages?: Record<string, ReplayedStage>;
    /** Rewrites a RUN command where the base image differs from this machine; the identity by default. */
    adaptRun?: (command: string) => string;
    /** RUN commands not to replay (the caller says why); any other unreplayable step is an error. */
    skipRun?: (command: string) => boolean;
    timeoutMs?: number;
}

export interface ReplayedStage {
    root: string;
    workdir: string;
    /** Context paths the stage's COPY lines named. */
    copiedFromContext: string[];
    entrypoint?: string[];
    cmd?: string[];
    user?: string;
    skippedRuns: string[];
}

export function replayStage(stage: Stage, o: ReplayOptions): ReplayedStage {
    const root = join(o.workDir, `stage-${stage.name ?? "final"}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const inRoot = (p: string) => join(root, p);
    let workdir = "/";
    const env: Record<string, string> = {};
    const result: ReplayedStage = { root, workdir, copiedFromContext: [], skippedRuns: [] };

    for (const i of stage.instructions) {
        const where = `Dockerfile line ${i.line} (${i.keyword} ${i.text})`;
        switch (i.keyword) {
            case "WORKDIR":
                workdir = i.args[0].startsWith("/") ? i.args[0] : join(workdir, i.args[0]);
                mkdirSync(inRoot(workdir), { recursive: true });
                break;
            case "ARG":
            case "ENV":
                for (const pair of i.args) {
                    const [k, ...v] = pair.split("=");
                    if (v.length) env[k] = v.join("=");
                }
                break;
            case "COPY": {
                const from = i.flags.from;
                const sourceRoot = from ? o.stages?.[from]?.root : o.contextDir;
                if (sourceRoot === undefined) throw new Error(`${where}: stage ${from} was not replayed`);
                const sources = i.args.slice(0, -1);
                const destArg = i.args[i.args.length - 1];
                const dest = destArg.startsWith("/") ? destArg : join(workdir, destArg);
                if (sources.length > 1 && !destArg.endsWith("/"))
                    throw new Error(`${where}: several sources need a destination ending in /`);
                for (const source of sources) {
                    if (/[*?[]/.test(source)) throw new Error(`${where}: wildcards are not supported by the replay`);
                    const path = join(sourceRoot, source);
                    if (!existsSync(path))
                        throw new Error(`${where}: ${source} not found ${from ? `in stage ${from}` : "in the build context"}`);
                    if (!from) result.copiedFromContext.push(relative(o.contextDir, path));
                    // Docker copies a directory's contents into the destination; a file into it (dest/) or as it.
                    const target =
                        statSync(path).isDirectory() || !destArg.endsWith("/") ? inRoot(dest) : inRoot(join(dest, basename(source)));
                    mkdirSync(dirname(target), { recursive: true });
                    cpSync(path, target, { recursive: true });
                }
                break;
            }
            case "RUN": {
                const command = i.args.join(" ");
                if (o.skipRun?.(i.text)) {
                    result.skippedRuns.push(i.text);
                    break;
                }
                const adapted = (o.adaptRun ?? ((c: string) => c))(i.text.trim().startsWith("[") ? command : i.text);
                const run = spawnSync("sh", ["-c", adapted], {
                    cwd: inRoot(workdir),
                    // A clean environment: the image's, plus what a shell here needs to find node and npm's cache.
                    env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: process.env.HOME ?? "/root", ...env },
                    encoding: "utf8",
                    timeout: o.timeoutMs ?? 300_000,
                });
                if (run.status !== 0) {
                    const output = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
                    throw new Error(`${where} failed (exit ${run.status ?? run.signal ?? run.error?.message}) as: ${adapted}\n${output}`);
                }
                break;
            }
            case "USER":
                result.user = i.args[0];
                break;
            case "ENTRYPOINT":
                result.entrypoint = i.args;
                break;
            case "CMD":
                result.cmd = i.args;
                break;
            default:
                throw new Error(`${where}: the replay does not support ${i.keyword}`);
        }
    }
    result.workdir = workdir;
    return result;
}
