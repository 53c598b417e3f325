/**
 * vitest global setup: the suite must leave the working tree as it found it. Tests write to
 * temporary directories; a file a test leaves in the repository (a fixture written to the
 * current directory, a report) would be committed by the next `git add -A`. What `git status`
 * lists after the run but did not list before fails the run, naming the paths.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "../..");

/** `git status --porcelain` entries (ignored files excluded), or undefined outside a git checkout. */
export function dirtyPaths(root = ROOT): Set<string> | undefined {
    try {
        const out = execFileSync("git", ["status", "--porcelain=v1", "-z", "--untracked-files=all"], {
            cwd: root,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        });
        return new Set(out.split("\0").filter(Boolean));
    } catch {
        return undefined;
    }
}

/** Entries present after the run and not before. */
export function leftBehind(before: ReadonlySet<string>, after: ReadonlySet<string>): string[] {
    return [...after].filter((entry) => !before.has(entry)).sort();
}

const REGISTERED = Symbol.for("toolboxai.cleanTree");

export default function setup(): (() => void) | undefined {
    // Each vitest project runs the global setup; one check per run is enough.
    const g = globalThis as { [REGISTERED]?: boolean };
    if (g[REGISTERED]) return undefined;
    g[REGISTERED] = true;
    const before = dirtyPaths();
    return () => {
        const after = dirtyPaths();
        if (!before || !after) return;
        const left = leftBehind(before, after);
        if (!left.length) return;
        // A teardown's exception is only logged by vitest; the exit code is what CI reads.
        process.exitCode = 1;
        process.stderr.write(`\nthe tests left the working tree dirty (write to a temporary directory instead):\n  ${left.join("\n  ")}\n`);
    };
}
