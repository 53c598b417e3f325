/**
 * The workers' and MCP servers' default health check, run for real by the shells their images
 * have: dash (Debian's /bin/sh) and busybox ash with busybox's own `date` and `stat` (Alpine).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { requireTool } from "./support/tools";
import { defaultHealthcheck, HEARTBEAT_FILE, HEARTBEAT_MAX_AGE_SECONDS, heartbeatCheck } from "../lib/services";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "toolboxai-heartbeat-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onPath = (name: string) =>
    (process.env.PATH ?? "")
        .split(delimiter)
        .map((d) => join(d, name))
        .find((p) => existsSync(p));
// Missing busybox fails the file with one line naming it and its install command.
const busybox = requireTool("busybox");

/** A directory where sh, date, stat, [ and test are all busybox, and nothing else is on PATH. */
function busyboxOnly(): string {
    const bin = join(dir, "busybox-bin");
    mkdirSync(bin);
    for (const applet of ["sh", "date", "stat", "[", "test"]) symlinkSync(busybox, join(bin, applet));
    return bin;
}

const SHELLS: { name: string; id: string; sh: string; path?: string }[] = [
    { name: "/bin/sh", id: "sh", sh: "/bin/sh" },
    ...(onPath("dash") ? [{ name: "dash", id: "dash", sh: onPath("dash")! }] : []),
    { name: "busybox ash", id: "busybox", sh: join(busyboxOnly(), "sh"), path: join(dir, "busybox-bin") },
];

async function check(sh: { sh: string; path?: string }, file: string): Promise<{ code: number; stderr: string }> {
    const command = heartbeatCheck(file);
    try {
        const { stderr } = await run(sh.sh, ["-c", command], { env: sh.path ? { PATH: sh.path } : process.env });
        return { code: 0, stderr };
    } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
    }
}

/** A heartbeat file last touched `ageSeconds` ago. */
function heartbeat(name: string, ageSeconds: number): string {
    const file = join(dir, name);
    writeFileSync(file, "");
    const at = Date.now() / 1000 - ageSeconds;
    utimesSync(file, at, at);
    return file;
}

describe.each(SHELLS)("heartbeat check under $name", (sh) => {
    it("passes while the heartbeat is fresh", async () => {
        expect(await check(sh, heartbeat(`fresh-${sh.id}`, 0))).toEqual({ code: 0, stderr: "" });
        expect(await check(sh, heartbeat(`recent-${sh.id}`, HEARTBEAT_MAX_AGE_SECONDS - 15))).toEqual({ code: 0, stderr: "" });
    });

    it("fails once the heartbeat is stale", async () => {
        expect((await check(sh, heartbeat(`stale-${sh.id}`, HEARTBEAT_MAX_AGE_SECONDS + 1))).code).not.toBe(0);
        expect((await check(sh, heartbeat(`old-${sh.id}`, 3600))).code).not.toBe(0);
    });

    it("fails, cleanly, when there is no heartbeat file", async () => {
        expect(await check(sh, join(dir, `missing-${sh.id}`))).toEqual({ code: 1, stderr: "" });
    });

    it("fails when the path is not a file", async () => {
        const sub = join(dir, `a-directory-${sh.id}`);
        mkdirSync(sub);
        expect((await check(sh, sub)).code).not.toBe(0);
    });
});

describe("heartbeat contract", () => {
    it("is what workers and MCP servers get by default, on the writable /tmp tmpfs", () => {
        expect(HEARTBEAT_FILE.startsWith("/tmp/")).toBe(true);
        for (const role of ["worker", "mcp"] as const)
            expect(defaultHealthcheck(role)).toEqual(["CMD-SHELL", heartbeatCheck(HEARTBEAT_FILE)]);
        expect(defaultHealthcheck("backend")).toEqual(["CMD", "curl", "-f", "http://localhost:8000/health"]);
    });

    it("refuses a path that the shell would split or expand", () => {
        expect(() => heartbeatCheck("/tmp/my heartbeat")).toThrow(/plain absolute path/);
        expect(() => heartbeatCheck("/tmp/$(reboot)")).toThrow(/plain absolute path/);
    });
});
