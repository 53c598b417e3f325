/**
 * The PR preview's money (#22): the offline plan diff states the monthly cost difference when
 * compute, PITR or read replicas change (lib/offline/cost.ts, scripts/plan-diff.ts), priced from
 * the add-ons list's prices (ADDON_PRICES, checked here against Supabase's recorded reply), and
 * says nothing about money when none of them changes.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { costDiff, costMarkdown } from "../lib/offline/cost";
import { diffMarkdown, diffPlans } from "../lib/offline/diff";
import { toPlanJson, type PlanJson } from "../lib/offline/render";
import { ADDON_PRICES, monthlyUsd } from "../lib/supabase/addons";
import { evaluateStack, PROJECT_DIR } from "./harness";

const run = promisify(execFile);
// Each stack evaluation takes seconds: one per distinct set of overrides.
const plans = new Map<string, Promise<PlanJson>>();
const plan = (overrides: Record<string, string>): Promise<PlanJson> => {
    const key = JSON.stringify(overrides);
    if (!plans.has(key)) plans.set(key, evaluateStack("prod", { overrides }).then(toPlanJson));
    return plans.get(key)!;
};

let work: string;

/** `npm run plan:diff` as CI runs it, on two plans written to the temporary directory; its stdout. */
async function planDiffScript(base: PlanJson, head: PlanJson, ...flags: string[]): Promise<string> {
    writeFileSync(join(work, "base.json"), JSON.stringify(base));
    writeFileSync(join(work, "head.json"), JSON.stringify(head));
    const args = [
        "-r",
        "./scripts/register.js",
        "scripts/plan-diff.ts",
        "--stack",
        "prod",
        "--base",
        join(work, "base.json"),
        "--head",
        join(work, "head.json"),
        ...flags,
    ];
    const env = { ...process.env, TOOLBOXAI_TS_CACHE: join(work, "cache") };
    return (await run(process.execPath, args, { cwd: PROJECT_DIR, env })).stdout;
}
beforeAll(() => void (work = mkdtempSync(join(tmpdir(), "plan-cost-"))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("add-on prices", () => {
    const recorded = JSON.parse(
        readFileSync(
            join(__dirname, "support", "management-api-recorded", "GET_v1_projects___PROJECT_REF___billing_addons.default.response.json"),
            "utf8",
        ),
    ) as {
        body: {
            available_addons: {
                type: string;
                variants: { id: string; price: { amount: number; interval: string; description: string } }[];
            }[];
        };
    };
    const variants = recorded.body.available_addons
        .filter((a) => a.type === "compute_instance" || a.type === "pitr")
        .flatMap((a) => a.variants);

    it("are the recorded add-ons list's, for every compute and PITR variant", () => {
        expect(Object.keys(ADDON_PRICES).sort()).toEqual(variants.map((v) => v.id).sort());
        for (const v of variants) expect(ADDON_PRICES[v.id], v.id).toEqual({ amount: v.price.amount, interval: v.price.interval });
    });

    it('a month of an hourly price is the API\'s own "~$N/month", rounded', () => {
        for (const v of variants) {
            const stated = Number(/\$([\d.]+)\/month/.exec(v.price.description)![1]);
            expect(Math.round(monthlyUsd(ADDON_PRICES[v.id])), v.id).toBe(stated);
        }
        expect(monthlyUsd(ADDON_PRICES.ci_small)).toBe(15.04);
        expect(monthlyUsd(ADDON_PRICES.pitr_7)).toBe(100);
    });
});

describe("the plan diff's monthly cost difference", () => {
    let small: PlanJson;
    beforeAll(async () => void (small = await plan({ supabaseInstanceSize: "small" })), 60_000);

    it("compute small to medium and PITR on: +$44.97 and +$100.00, +$144.97 in all", async () => {
        const head = await plan({ supabaseInstanceSize: "medium", supabasePitr: "pitr_7" });
        const c = costDiff(small, head);
        expect(c).toEqual({
            lines: [
                { what: "compute", before: "small", after: "medium", deltaUsd: 44.97 },
                { what: "PITR", before: "off", after: "pitr_7", deltaUsd: 100 },
            ],
            totalDeltaUsd: 144.97,
            unknown: [],
        });
        const markdown = diffMarkdown("prod", diffPlans(small, head), c);
        expect(markdown).toContain("**Monthly cost of the hosted project's add-ons: +$144.97 a month**");
        expect(markdown).toContain("- compute: small → medium: +$44.97 a month");
        expect(markdown).toContain("- PITR: off → pitr_7: +$100.00 a month");
        // Back again is the same amount, negative.
        expect(costDiff(head, small).totalDeltaUsd).toBe(-144.97);
    }, 60_000);

    it("a read replica costs the primary's compute", async () => {
        const head = await plan({ supabaseInstanceSize: "small", supabaseReadReplicas: "eu-west-1" });
        expect(costDiff(small, head)).toMatchObject({
            lines: [{ what: "read replicas", before: "0", after: "1 (eu-west-1)", deltaUsd: 15.04 }],
            totalDeltaUsd: 15.04,
        });
    }, 60_000);

    it("says the price is unknown when the compute size is left unset", async () => {
        const unset = await plan({});
        const c = costDiff(unset, small);
        expect(c.totalDeltaUsd).toBeUndefined();
        expect(costMarkdown(c)).toMatch(/not fully known[\s\S]*compute: unset → small: price unknown[\s\S]*not priced: compute/);
    }, 60_000);

    it("says nothing about money when compute, PITR and replicas are unchanged", async () => {
        const head = await plan({ supabaseInstanceSize: "small", backupRetentionDays: "9" });
        const c = costDiff(small, head);
        expect(c.lines).toEqual([]);
        const markdown = diffMarkdown("prod", diffPlans(small, head), c);
        expect(markdown).toMatch(/to change/);
        expect(markdown).not.toMatch(/cost|\$|price/i);
    }, 60_000);

    it("npm run plan:diff prints it, from two plan files", async () => {
        const head = await plan({ supabaseInstanceSize: "medium", supabasePitr: "pitr_7" });
        const stdout = await planDiffScript(small, head);
        expect(stdout).toContain("+$144.97 a month");
    }, 60_000);
});

describe("the cost in pull requests", () => {
    type Workflow = { jobs: Record<string, { if?: string; steps?: { run?: string }[] }> };
    const pr = () => load(readFileSync(join(PROJECT_DIR, ".github", "workflows", "pull-request.yml"), "utf8")) as Workflow;

    it("branches get the cost section as its own comment, only when it is not empty; forks get it in the offline diff", () => {
        const job = pr().jobs["cost-comment"];
        expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
        const script = job.steps?.map((s) => s.run ?? "").join("\n") ?? "";
        expect(script).toContain("npm run --silent plan:diff -- --stack prod --base base.plan.json --cost-only > cost.md");
        expect(script).toMatch(/if \[ -s cost\.md \]; then[\s\S]*gh pr comment "\$PR_NUMBER"/);
        expect(pr().jobs["offline-plan-diff"].steps?.some((s) => s.run?.includes("npm run --silent plan:diff"))).toBe(true);
    });

    it("--cost-only prints the cost section alone, and nothing when nothing billed changes", async () => {
        const small = await plan({ supabaseInstanceSize: "small" });
        const costOnly = (head: PlanJson) => planDiffScript(small, head, "--cost-only");
        expect(await costOnly(await plan({ supabaseInstanceSize: "small", supabasePitr: "pitr_14" }))).toMatch(
            /^\*\*Monthly cost of the hosted project's add-ons: \+\$200\.00 a month\*\*/,
        );
        expect(await costOnly(await plan({ supabaseInstanceSize: "small", backupRetentionDays: "9" }))).toBe("");
    }, 60_000);
});
