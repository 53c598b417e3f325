/**
 * `npm run plan:diff -- --stack dev --base base.plan.json`: this branch's offline plan against a
 * base plan (the base branch's committed plans/<stack>.plan.json), as Markdown, with the monthly
 * cost difference when compute, PITR or read replicas change (lib/offline/cost.ts).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { costDiff, costMarkdown } from "../lib/offline/cost";
import { diffMarkdown, diffPlans } from "../lib/offline/diff";
import type { PlanJson } from "../lib/offline/render";

const { values } = parseArgs({
    options: {
        stack: { type: "string" },
        base: { type: "string" },
        head: { type: "string" },
        "cost-only": { type: "boolean", default: false },
    },
});
if (!values.stack || !values.base) {
    process.stderr.write("usage: npm run plan:diff -- --stack <stack> --base <base plan json> [--head <head plan json>] [--cost-only]\n");
    process.exit(2);
}
const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as PlanJson;
const head = read(values.head ?? resolve(__dirname, "..", "plans", `${values.stack}.plan.json`));
const base = read(values.base);
// --cost-only: the cost section alone (nothing when nothing billed changes), for branches' previews, whose resource diff is Pulumi's own comment.
process.stdout.write(
    values["cost-only"] ? costMarkdown(costDiff(base, head)) : diffMarkdown(values.stack, diffPlans(base, head), costDiff(base, head)),
);
