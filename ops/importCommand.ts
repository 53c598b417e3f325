/**
 * `ops import` as a command: runs importData with SIGINT and SIGTERM turned into an orderly stop
 * (the target's transaction rolled back, every connection closed, exit 130 or 143 with a line
 * saying what state the target is in), and the report people and machines read.
 */
import { EXIT, EXIT_ON_SIGNAL } from "../lib/ops/rules";
import { importData, ImportInterrupted, type ImportOptions, type ImportResult } from "./import";
import { table } from "./output";

type Signal = keyof typeof EXIT_ON_SIGNAL;

export interface ImportOutcome {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs the import; a first SIGINT or SIGTERM stops it and waits for the rollback, a second one
 * exits at once (the server still rolls back the transaction of a closed connection).
 */
export async function runImport(options: Omit<ImportOptions, "signal">, json: boolean): Promise<ImportOutcome> {
    const controller = new AbortController();
    const onSignal = (signal: Signal) => {
        if (controller.signal.aborted) {
            process.stderr.write(`${signal} again: exiting now; the target's server rolls back the uncommitted transaction\n`);
            process.exit(EXIT_ON_SIGNAL[signal]);
        }
        process.stderr.write(`${signal}: stopping the import and rolling back the target's transaction ...\n`);
        controller.abort(signal);
    };
    const handlers = (Object.keys(EXIT_ON_SIGNAL) as Signal[]).map((s) => [s, () => onSignal(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    try {
        const r = await importData({ ...options, signal: controller.signal });
        return { code: r.ok ? EXIT.ok : EXIT.failed, stdout: json ? `${JSON.stringify(r)}\n` : importReport(r), stderr: "" };
    } catch (e) {
        if (!(e instanceof ImportInterrupted)) throw e;
        const code = EXIT_ON_SIGNAL[e.signal as Signal] ?? EXIT.failed;
        return {
            code,
            stdout: json ? `${JSON.stringify({ ok: false, interrupted: e.signal, error: e.message })}\n` : "",
            stderr: `${e.message}\n`,
        };
    } finally {
        for (const [s, h] of handlers) process.off(s, h);
    }
}

const seconds = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;

/** The import's report for people. */
export function importReport(r: ImportResult): string {
    const outcome = r.dryRun
        ? "dry run: nothing written"
        : r.committed
          ? `imported and committed: copy ${seconds(r.copyMs)}, indexes, keys and sequences ${seconds(r.rebuildMs)}, verification ${seconds(r.verifyMs)}`
          : "NOT imported: the verification failed, so the target's transaction was rolled back: the target is exactly as it was before the import";
    const lines = [
        outcome,
        `load order (foreign-key levels): ${r.plan.map((l, i) => `${i + 1}: ${l.join(", ")}`).join("; ")}`,
        r.differences.length
            ? `schema differences (source vs migrated schema):\n  ${r.differences.join("\n  ")}`
            : "schema: the source's tables and columns equal the migrated schema's",
        ...(r.blocking.length ? [`these stop the import: ${r.blocking.length}`] : []),
        ...(r.nonEmpty.length ? [`target tables with rows: ${r.nonEmpty.join(", ")}${r.dryRun ? "" : " (truncated)"}`] : []),
        ...(r.tables.length
            ? [
                  table(
                      ["table", "copy", "source rows", "target rows", "checksum"],
                      r.tables.map((t) => [t.table, t.format, String(t.source), String(t.target), t.checksumsEqual ? "equal" : "DIFFERS"]),
                  ),
              ]
            : []),
        ...(r.sequences.length
            ? [
                  table(
                      ["sequence", "column", "source", "target", "set from"],
                      r.sequences.map((s) => [
                          s.sequence,
                          s.column,
                          s.source ?? "(none)",
                          s.target,
                          s.basis === "source" ? "the source" : "the imported rows",
                      ]),
                  ),
              ]
            : []),
        ...(r.triggers.length
            ? [`user triggers kept off during the load (they did not run for the imported rows), on again: ${r.triggers.join(", ")}`]
            : []),
        ...(r.problems.length ? [`problems:\n  ${r.problems.join("\n  ")}`] : []),
    ];
    return `${lines.join("\n")}\n`;
}
