import type { ChildProcess } from "node:child_process";

/** How long a stopped child gets between SIGTERM and SIGKILL. */
export const KILL_AFTER_MS = 10_000;

/**
 * Stops a child for good: SIGTERM, SIGKILL if it is still running after KILL_AFTER_MS, and its
 * pipes closed. A child reports "close" only once its pipes are, and a pipe that still holds data
 * nobody reads (or that a grandchild keeps open) never closes: without this, whatever waits on
 * the child's end would wait for ever.
 */
export function stopProcess(child: ChildProcess): void {
    child.kill("SIGTERM");
    setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, KILL_AFTER_MS).unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
}
