/**
 * What people see: a padded table on stdout, progress on stderr when it is a terminal. Machines
 * get --json on stdout instead. Nothing here is given a secret to print.
 */
import type { CheckResult } from "../lib/ops/rules";

export interface Progress {
    start(step: string, total?: number): void;
    update(done: number): void;
    done(): void;
}

/** Progress lines on a TTY stderr, rewritten at most a few times a second; silent otherwise. */
export function progress(stream: NodeJS.WriteStream = process.stderr): Progress {
    const enabled = Boolean(stream.isTTY);
    let step = "";
    let total: number | undefined;
    let last = 0;
    const t0 = { at: 0 };
    return {
        start(s, t) {
            step = s;
            total = t;
            t0.at = performance.now();
            if (enabled) stream.write(`${step} ...`);
        },
        update(done) {
            if (!enabled || performance.now() - last < 250) return;
            last = performance.now();
            const pct = total ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : "";
            stream.write(`\r${step}${pct} ${(done / 1048576).toFixed(0)} MiB`);
        },
        done() {
            if (enabled) stream.write(`\r${step} done in ${((performance.now() - t0.at) / 1000).toFixed(1)} s\n`);
        },
    };
}

/** Plain padded columns: readable in a terminal, a log and a CI summary alike. */
export function table(headers: string[], rows: string[][]): string {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const MARK: Record<CheckResult["status"], string> = { pass: "PASS", warn: "WARN", fail: "FAIL", skip: "SKIP" };

export function checksTable(results: CheckResult[]): string {
    const rows = results.map((r) => [MARK[r.status], `${r.group}: ${r.name}`, r.evidence]);
    const fixes = results
        .filter((r) => r.fix && (r.status === "fail" || r.status === "warn"))
        .map((r) => `  ${r.group}: ${r.name}\n    fix: ${r.fix}`);
    return `${table(["", "check", "evidence"], rows)}${fixes.length ? `\n\nfixes:\n${fixes.join("\n")}` : ""}\n`;
}
