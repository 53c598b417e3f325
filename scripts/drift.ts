/**
 * The nightly drift check's two steps (see docs/workflows.md):
 *
 *   node -r ./scripts/register.js scripts/drift.ts last-deploy history.json
 *     reads `pulumi stack history --json` and prints TOOLBOXAI_NOW=<start of the last successful up>,
 *     for $GITHUB_OUTPUT: the preview then evaluates the rotation clock as that up did.
 *   node -r ./scripts/register.js scripts/drift.ts classify preview.json
 *     reads `pulumi preview --json` and prints what changes, as drift or as scheduled (certificate
 *     renewal). Writes drift=<bool> and scheduled=<bool> to $GITHUB_OUTPUT when set.
 *   node -r ./scripts/register.js scripts/drift.ts due preview.json
 *     reads the preview made with the real clock (after a clean check) and prints what a `pulumi up`
 *     would change now: a rotation or renewal that is due. Writes due=<bool> to $GITHUB_OUTPUT.
 *
 * Exit codes: 0 no drift (scheduled changes allowed), 1 drift, 2 unreadable input.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { classifyPreview, describeChanges, lastDeployTime, type HistoryEntry, type PreviewDigest } from "../lib/drift";

function readJson(path: string | undefined, what: string): unknown {
    if (!path) throw new Error(`usage: drift.ts ${what === "history" ? "last-deploy <history.json>" : "classify <preview.json>"}`);
    const text = readFileSync(path, "utf8");
    try {
        return JSON.parse(text);
    } catch {
        throw new Error(
            `${path} is not the JSON of pulumi ${what === "history" ? "stack history --json" : "preview --json"} (did the command fail? its first line: ${JSON.stringify(text.split("\n")[0].slice(0, 200))})`,
        );
    }
}

function main(argv: string[]): number {
    const [command, path] = argv;
    if (command === "last-deploy") {
        process.stdout.write(`TOOLBOXAI_NOW=${lastDeployTime(readJson(path, "history") as HistoryEntry[])}\n`);
        return 0;
    }
    if (command === "classify") {
        const changes = classifyPreview(readJson(path, "preview") as PreviewDigest);
        process.stdout.write(describeChanges(changes));
        const drift = changes.drift.length > 0;
        if (process.env.GITHUB_OUTPUT)
            appendFileSync(process.env.GITHUB_OUTPUT, `drift=${drift}\nscheduled=${changes.renewals.length > 0}\n`);
        return drift ? 1 : 0;
    }
    if (command === "due") {
        const changes = classifyPreview(readJson(path, "preview") as PreviewDigest);
        const due = changes.drift.length + changes.renewals.length > 0;
        // With the real clock every change is scheduled: the pinned check before it found no drift.
        process.stdout.write(
            due
                ? `Due now: ${[...changes.drift.map((d) => d.urn), ...changes.renewals, ...changes.followingRenewal].length} resource(s) change with the real clock (rotation or renewal): approve the scheduled \`pulumi up\`.\n`
                : "Nothing due.\n",
        );
        if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `due=${due}\n`);
        return 0;
    }
    throw new Error(`unknown command ${JSON.stringify(command)}: use last-deploy, classify or due`);
}

try {
    process.exitCode = main(process.argv.slice(2));
} catch (err) {
    process.stderr.write(`drift.ts: ${(err as Error).message}\n`);
    process.exitCode = 2;
}
