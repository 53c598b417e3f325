/**
 * The nightly drift check: the clock pinned to the last `pulumi up` (so rotation never shows as a
 * change), and the preview's changes sorted into drift and scheduled certificate renewal.
 * The fixtures follow `pulumi preview --json` (pulumi display/json.go previewDigest) and
 * `pulumi stack history --json` (updateInfoJSON); no Pulumi CLI runs here.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { rotationPeriod } from "../lib/credentials";
import { classifyPreview, describeChanges, historyTime, lastDeployTime, type PreviewStep } from "../lib/drift";
import { reveal } from "../lib/offline/values";
import { evaluateStack, PROJECT_DIR, TEST_CLOCK } from "./harness";

const run = promisify(execFile);
const urn = (type: string, name: string) => `urn:pulumi:prod::toolboxai::${type}::${name}`;
const CA = urn("toolboxai:cache:RedisServer$tls:index/selfSignedCert:SelfSignedCert", "redis-ca");
const CERT = urn("toolboxai:cache:RedisServer$tls:index/locallySignedCert:LocallySignedCert", "redis-server-cert");
const REDIS = urn("toolboxai:cache:RedisServer$docker:index/container:Container", "redis-server");
const BACKEND = urn("toolboxai:app:AppService$docker:index/container:Container", "app-backend-0");
const BUCKET = urn("toolboxai:storage:BackupBucket$aws:s3/bucket:Bucket", "backups-bucket");

const step = (op: string, u: string, type: string, reasons: string[] = [], dependencies: string[] = []): PreviewStep => ({
    op,
    urn: u,
    oldState: { type, dependencies },
    newState: { type, dependencies },
    ...(op === "update" ? { diffReasons: reasons } : { diffReasons: reasons, replaceReasons: reasons }),
});
/** A replacement as the engine lists it: create-replacement, replace, delete-replaced for one URN. */
const replacement = (u: string, type: string, reasons: string[], dependencies: string[] = []) =>
    ["create-replacement", "replace", "delete-replaced"].map((op) => step(op, u, type, reasons, dependencies));
const renewal = replacement(CERT, "tls:index/locallySignedCert:LocallySignedCert", ["readyForRenewal"], [CA]);
const redisTakesCert = replacement(REDIS, "docker:index/container:Container", ["uploads"], [CERT]);
const backendTakesRedis = replacement(BACKEND, "docker:index/container:Container", ["uploads"], [REDIS]);
const same = [step("same", CA, "tls:index/selfSignedCert:SelfSignedCert"), step("same", BUCKET, "aws:s3/bucket:Bucket")];

describe("classifying a preview", () => {
    it("finds nothing in a preview of same steps", () => {
        const c = classifyPreview({ steps: same });
        expect(c).toEqual({ drift: [], renewals: [], followingRenewal: [] });
        expect(describeChanges(c)).toBe("No changes.\n");
    });

    it("calls a certificate renewal and everything it feeds scheduled, not drift", () => {
        const c = classifyPreview({ steps: [...same, ...renewal, ...redisTakesCert, ...backendTakesRedis] });
        expect(c.drift).toEqual([]);
        expect(c.renewals).toEqual([CERT]);
        expect(c.followingRenewal.sort()).toEqual([BACKEND, REDIS].sort());
    });

    it("calls a change nobody scheduled drift, even beside a renewal", () => {
        const edited = step("update", BUCKET, "aws:s3/bucket:Bucket", ["versioning"]);
        const c = classifyPreview({ steps: [...renewal, ...redisTakesCert, edited] });
        expect(c.drift).toEqual([{ urn: BUCKET, ops: ["update"], reasons: ["versioning"] }]);
        expect(c.renewals).toEqual([CERT]);
        expect(describeChanges(c)).toMatch(
            /^Drift: 1 resource\(s\)[\s\S]*backups-bucket`: update \(versioning\)[\s\S]*Scheduled: 1 certificate/,
        );
    });

    it("calls a certificate replaced for another reason drift, and what takes it drift too", () => {
        const c = classifyPreview({
            steps: [...replacement(CERT, "tls:index/locallySignedCert:LocallySignedCert", ["dnsNames"], [CA]), ...redisTakesCert],
        });
        expect(c.drift.map((d) => d.urn)).toEqual([CERT, REDIS]);
        expect(c.renewals).toEqual([]);
    });

    it("calls a container that changes on its own drift, even if it also takes a certificate", () => {
        // Depending on something that does not change is no excuse.
        const c = classifyPreview({ steps: [...same, ...replacement(REDIS, "docker:index/container:Container", ["cpus"], [CERT])] });
        expect(c.drift.map((d) => d.urn)).toEqual([REDIS]);
    });
});

describe("the clock of the last deploy", () => {
    const history = [
        { version: 9, kind: "refresh", result: "succeeded", startTime: "2026-11-26 05:17:00 +0000 UTC" },
        { version: 8, kind: "update", result: "failed", startTime: "2026-11-25 18:00:00 +0000 UTC" },
        { version: 7, kind: "update", result: "succeeded", startTime: "2026-11-20 09:30:12 +0000 UTC" },
        { version: 6, kind: "update", result: "succeeded", startTime: "2026-10-01T08:00:00Z" },
    ];

    it("is the start of the newest successful update, whatever the CLI's time format", () => {
        expect(lastDeployTime(history)).toBe("2026-11-20T09:30:12.000Z");
        expect(historyTime("2026-11-20 10:30:12.5 +0100 CET").toISOString()).toBe("2026-11-20T09:30:12.500Z");
        expect(historyTime(1_795_000_000).toISOString()).toBe(new Date(1_795_000_000_000).toISOString());
        expect(() => historyTime("yesterday")).toThrow(/cannot read the time "yesterday"/);
        expect(() => lastDeployTime(history.filter((h) => h.kind !== "update" || h.result !== "succeeded"))).toThrow(
            /no successful `pulumi up`/,
        );
    });

    it("evaluates the program as that deploy did, across a rotation boundary: rotation is never drift", async () => {
        const deployedAt = TEST_CLOCK;
        const later = rotationPeriod(new Date(deployedAt), 90).endsAt.toISOString();
        const state = async (now: string) => JSON.stringify((await evaluateStack("prod", { now })).resources.map((r) => reveal(r.inputs)));
        const deployed = await state(deployedAt);
        // The check pins TOOLBOXAI_NOW to the deploy: the same program, nothing to report.
        expect(await state(lastDeployTime([{ kind: "update", result: "succeeded", startTime: deployedAt }]))).toBe(deployed);
        // Unpinned, the same night would see every rotated secret: the `due` step's business, not drift.
        expect(await state(later)).not.toBe(deployed);
    });
});

describe("scripts/drift.ts, as the workflow runs it", () => {
    const dir = mkdtempSync(join(tmpdir(), "toolboxai-drift-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const script = async (args: string[], files: Record<string, unknown>) => {
        for (const [name, content] of Object.entries(files))
            writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
        const output = join(dir, "github-output");
        writeFileSync(output, "");
        const env = { PATH: process.env.PATH, TOOLBOXAI_TS_CACHE: "off", GITHUB_OUTPUT: output };
        try {
            const { stdout } = await run(
                process.execPath,
                ["-r", "./scripts/register.js", "scripts/drift.ts", ...args.map((a) => (a in files ? join(dir, a) : a))],
                { cwd: PROJECT_DIR, env },
            );
            return { code: 0, stdout, stderr: "", outputs: readFileSync(output, "utf8") };
        } catch (err) {
            const e = err as { code: number; stdout: string; stderr: string };
            return { code: e.code, stdout: e.stdout, stderr: e.stderr, outputs: readFileSync(output, "utf8") };
        }
    };

    it("prints the pinned clock for $GITHUB_OUTPUT", async () => {
        const r = await script(["last-deploy", "history.json"], {
            "history.json": [{ kind: "update", result: "succeeded", startTime: "2026-11-20 09:30:12 +0000 UTC" }],
        });
        expect(r).toMatchObject({ code: 0, stdout: "TOOLBOXAI_NOW=2026-11-20T09:30:12.000Z\n" });
    });

    it("fails on drift, passes a renewal as scheduled, and says so in $GITHUB_OUTPUT", async () => {
        const drift = await script(["classify", "preview.json"], {
            "preview.json": { steps: [step("update", BUCKET, "aws:s3/bucket:Bucket", ["versioning"])] },
        });
        expect(drift).toMatchObject({ code: 1, outputs: "drift=true\nscheduled=false\n" });
        const renew = await script(["classify", "preview.json"], { "preview.json": { steps: [...renewal, ...redisTakesCert] } });
        expect(renew).toMatchObject({ code: 0, outputs: "drift=false\nscheduled=true\n" });
        expect(renew.stdout).toMatch(/Scheduled: 1 certificate/);
        const due = await script(["due", "preview.json"], {
            "preview.json": {
                steps: [
                    step(
                        "replace",
                        urn("random:index/randomPassword:RandomPassword", "credentials-jwt-secret"),
                        "random:index/randomPassword:RandomPassword",
                        ["keepers"],
                    ),
                ],
            },
        });
        expect(due).toMatchObject({ code: 0, outputs: "due=true\n" });
    });

    it("reports output that is not the preview's JSON with a clear message, as neither drift nor clean", async () => {
        const r = await script(["classify", "preview.json"], { "preview.json": "error: could not reach vault.toolboxai.internal\n" });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
            /is not the JSON of pulumi preview --json \(did the command fail\? its first line: "error: could not reach vault/,
        );
    });
});
