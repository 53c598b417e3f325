/**
 * The tools the real-server tests spawn, checked before they are spawned: a missing tool is one
 * line naming it and the command that installs it, never an unhandled `spawn ENOENT`.
 * The tool-to-package table is scripts/install-test-tools.sh itself, so the two cannot drift.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

export const INSTALL_SCRIPT = "scripts/install-test-tools.sh";
const SCRIPT_PATH = join(__dirname, "..", "..", INSTALL_SCRIPT);

/** The script's `"<probe>:<package>"` entries: a command name or an absolute path (glob). */
export function installTable(script = readFileSync(SCRIPT_PATH, "utf8")): Map<string, string> {
    const table = new Map<string, string>();
    for (const [, probe, pkg] of script.matchAll(/^\s*"([^":]+):([^"]+)"\s*$/gm))
        table.set(probe, pkg.replace("${pg/postgresql/postgresql-client}", "postgresql-client").replace("$pg", "postgresql"));
    return table;
}

/** Thrown for a missing tool; its message is the one line the reader needs. */
export class MissingToolError extends Error {}

/** Where `probe` is (on PATH, or the absolute path or glob as listed), else a MissingToolError. */
export function requireTool(probe: string, env: NodeJS.ProcessEnv = process.env): string {
    const pkg = installTable().get(probe);
    if (!pkg) throw new Error(`${probe} is not listed in ${INSTALL_SCRIPT}: add "${probe}:<debian package>" there`);
    const found = probe.startsWith("/")
        ? expand(probe)
        : (env.PATH ?? "")
              .split(delimiter)
              .filter(Boolean)
              .map((d) => join(d, probe))
              .find((p) => existsSync(p));
    if (!found)
        throw new MissingToolError(
            `${probe} not found (Debian package ${pkg}): run \`bash ${INSTALL_SCRIPT}\` or \`npm run test:all\`, which installs it`,
        );
    return found;
}

/** An absolute path whose segments may hold `*` (Node 20 has no fs.globSync); the last match in sort order. */
function expand(pattern: string): string | undefined {
    let paths = ["/"];
    for (const segment of pattern.split("/").filter(Boolean)) {
        if (!segment.includes("*")) {
            paths = paths.map((p) => join(p, segment)).filter((p) => existsSync(p));
            continue;
        }
        const re = new RegExp(
            `^${segment
                .split("*")
                .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
                .join(".*")}$`,
        );
        paths = paths.flatMap((p) =>
            existsSync(p)
                ? readdirSync(p)
                      .filter((name) => re.test(name))
                      .map((name) => join(p, name))
                : [],
        );
    }
    return paths.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).at(-1);
}
