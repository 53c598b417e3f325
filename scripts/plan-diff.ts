/**
 * `npm run plan:diff -- --stack dev --base base.plan.json`: this branch's offline plan against a
 * base plan (the base branch's committed plans/<stack>.plan.json), as Markdown.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { diffMarkdown, diffPlans } from "../lib/offline/diff";
import type { PlanJson } from "../lib/offline/render";

const { values } = parseArgs({ options: { stack: { type: "string" }, base: { type: "string" }, head: { type: "string" } } });
if (!values.stack || !values.base) {
    process.stderr.write("usage: npm run plan:diff -- --stack <stack> --base <base plan json> [--head <head plan json>]\n");
    process.exit(2);
}
const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as PlanJson;
const head = read(values.head ?? resolve(__dirname, "..", "plans", `${values.stack}.plan.json`));
process.stdout.write(diffMarkdown(values.stack, diffPlans(read(values.base), head)));
