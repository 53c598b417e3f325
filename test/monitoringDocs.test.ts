/** Every alert's runbook link lands on a section of docs/operations/monitoring.md, and its table lists every alert with its severity. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertRules } from "../lib/monitoring/alerts";

const doc = readFileSync(join(__dirname, "..", "docs", "operations", "monitoring.md"), "utf8");
const rules = alertRules({
    runbookUrl: "docs/operations/monitoring.md",
    backupSchedule: "0 2 * * *",
    poolerClientLimit: 200,
    rotationEndsAt: new Date("2027-01-01T00:00:00Z"),
    certificates: [{ name: "redis-server", notAfter: new Date("2027-06-01T00:00:00Z") }],
});

describe("the monitoring runbook", () => {
    it.each(rules.map((r) => [r.alert, r] as const))("has a section for %s, where its link points", (alert, rule) => {
        // GitHub's anchor for `### Name` is the lower-cased name: the link's fragment.
        expect(doc).toMatch(new RegExp(`^### ${alert}$`, "m"));
        expect(rule.annotations.runbook_url).toBe(`docs/operations/monitoring.md#${alert.toLowerCase()}`);
        expect(doc).toMatch(new RegExp(`^\\| ${alert} +\\| ${rule.labels.severity} +\\|`, "m"));
    });
});
