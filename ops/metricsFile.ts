/**
 * `--metrics-file <path>`: a command's figures for node_exporter's textfile collector
 * (docs/operations/monitoring.md). Written whole or not at all: a temporary file in the same
 * directory, then a rename, so the collector never reads half a file.
 */
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "./context";

/** Checked before the command runs: a drill takes an hour, and its result must not be lost to a typo. */
export function checkMetricsFile(path: string): void {
    if (!path.endsWith(".prom"))
        throw new UsageError(`--metrics-file ${path}: must end in .prom (node_exporter's textfile collector reads only *.prom files)`);
    const dir = dirname(path);
    let isDir = false;
    try {
        isDir = statSync(dir).isDirectory();
    } catch {
        /* reported below */
    }
    if (!isDir) throw new UsageError(`--metrics-file ${path}: its directory ${dir} must exist (the textfile collector's directory)`);
    try {
        accessSync(dir, constants.W_OK);
    } catch {
        throw new UsageError(
            `--metrics-file ${path}: its directory ${dir} must be writable by this user (create it owned by the user that runs ops: docs/operations/monitoring.md)`,
        );
    }
}

/** Where the file is written first: the same directory (a rename within one filesystem is atomic), a name the collector skips (not *.prom). */
export function metricsTempPath(path: string): string {
    return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

export function writeMetricsFile(path: string, text: string): void {
    const temp = metricsTempPath(path);
    try {
        // 0644: node_exporter runs as its own user and must read it.
        writeFileSync(temp, text, { mode: 0o644 });
        renameSync(temp, path);
    } catch (err) {
        rmSync(temp, { force: true });
        throw new Error(`cannot write --metrics-file ${path}: ${(err as Error).message}`, { cause: err });
    }
}
