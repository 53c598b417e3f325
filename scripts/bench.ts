/**
 * `npm run bench`: whole-process time of the prod plan beside loading the Pulumi SDK alone.
 * Runs are interleaved (so that machine noise hits both alike) and summarised by their median.
 * Target: the plan adds at most 30% to the cost of `require("@pulumi/pulumi")`.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const TARGET_RATIO = 1.3;
const projectDir = resolve(__dirname, "..");
const { values } = parseArgs({ options: { runs: { type: "string", default: "15" }, stack: { type: "string", default: "prod" } } });
const runs = Number(values.runs);

function seconds(args: string[], env: NodeJS.ProcessEnv = process.env): number {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: projectDir, env, stdio: ["ignore", "ignore", "pipe"] });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed (${result.status}): ${result.stderr}`);
    return elapsed;
}

const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const sdk = ["-e", "require('@pulumi/pulumi')"];
// For reference, not the target: the SDK alone with the plan's code cache, so the program's own share shows.
const sdkCached = ["-r", "./scripts/register.js", ...sdk];
// Exactly what `npm run plan` runs (its node flags included), so the two cannot drift apart.
const planScript = (JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.plan;
const plan = [...planScript.replace(/^node /, "").split(" "), "--stack", values.stack!];

seconds(plan); // fills the transpile cache, as any earlier plan on this checkout would have
seconds(sdkCached);
const sdkTimes: number[] = [];
const sdkCachedTimes: number[] = [];
const planTimes: number[] = [];
const coldTimes: number[] = [];
for (let i = 0; i < runs; i++) {
    sdkTimes.push(seconds(sdk));
    planTimes.push(seconds(plan));
    sdkCachedTimes.push(seconds(sdkCached));
    if (i < 3) {
        // A fresh clone's first plan: nothing transpiled yet.
        const cache = mkdtempSync(join(tmpdir(), "toolboxai-ts-"));
        coldTimes.push(seconds(plan, { ...process.env, TOOLBOXAI_TS_CACHE: cache }));
        rmSync(cache, { recursive: true, force: true });
    }
}

const base = median(sdkTimes);
const warm = median(planTimes);
const cold = median(coldTimes);
const baseCached = median(sdkCachedTimes);
const ratio = warm / base;
const fmt = (s: number) => `${s.toFixed(3)} s`;
const lines = [
    `Offline plan start-up, stack ${values.stack}: ${runs} interleaved runs each, median wall time (Node ${process.version})`,
    `  node -e "require('@pulumi/pulumi')"        ${fmt(base)}`,
    `  plan (transpile cache warm)               ${fmt(warm)}   ratio ${ratio.toFixed(2)}x`,
    `  plan (first run, empty cache; ${coldTimes.length} runs)     ${fmt(cold)}   ratio ${(cold / base).toFixed(2)}x`,
    `  for reference: the SDK alone with the plan's code cache ${fmt(baseCached)}; the plan is ${(warm / baseCached).toFixed(2)}x that`,
    `  target: plan <= ${TARGET_RATIO.toFixed(2)}x the SDK alone: ${ratio <= TARGET_RATIO ? "met" : "MISSED"}`,
];
process.stdout.write(`${lines.join("\n")}\n`);
process.exit(ratio <= TARGET_RATIO ? 0 : 1);
