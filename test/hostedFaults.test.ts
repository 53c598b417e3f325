/**
 * The faults of #22's "Done when" that the other files leave out, against the spec-validating
 * Management API double: a replica whose setup fails after it was accepted, a 402 (the plan does
 * not include it) on a replica setup and on a resize, rate limits on a replica setup and on the
 * point-in-time restore, and a replica added by hand (drift detected by the read). Each ends in a
 * clear error or a bounded retry, and nothing is applied twice or half.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { computeProvider, readReplicasProvider, type ComputeInputs, type ReplicasInputs } from "../lib/supabase/providers";
import { restorePointInTime } from "../ops/pitr";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const double = useManagementApiDouble({ watchConsole: true });
const failure = double.failure;
const replicas = readReplicasProvider as Required<pulumi.dynamic.ResourceProvider>;
const compute = computeProvider as Required<pulumi.dynamic.ResourceProvider>;
const api = () => ({ apiUrl: double.api.url, accessToken: double.api.token, timeoutSeconds: 5, ref: REF });
const replicaInputs = (regions: string[], waitSeconds = 30): ReplicasInputs => ({ ...api(), regions, pollSeconds: 0.01, waitSeconds });
const computeInputs = (size: string): ComputeInputs => ({ ...api(), size, poolSize: 20, pollSeconds: 0.01 });
const SETUP = "POST /v1/projects/{ref}/read-replicas/setup";
const ADDONS = "PATCH /v1/projects/{ref}/billing/addons";
const RESTORE = "POST /v1/projects/{ref}/database/backups/restore-pitr";
const sent = (operation: string) => double.api.log.filter((r) => r.operation === operation);

describe("read replicas: faults", () => {
    it("a replica whose setup fails after it was accepted ends `up` at once with how to replace it, sent once", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" }, replicaSetupFails: true });
        const started = Date.now();
        const message = await failure(replicas.create(replicaInputs(["eu-west-1"])));
        expect(message).toMatch(
            new RegExp(
                `the read replica ${REF}-rr-eu-west-1-[a-z]+ in eu-west-1 failed to set up \\(INIT_READ_REPLICA_FAILED\\); done before it: setting up a replica in eu-west-1\\. ` +
                    `It serves nothing: remove it .*read-replicas/remove \\{"database_identifier": "${REF}-rr-eu-west-1-[a-z]+"\\}\\), then run \`pulumi up\` again`,
            ),
        );
        // Not at the end of the 30 s wait: at the first look.
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(sent(SETUP)).toHaveLength(1);
        // The read shows no serving replica: the next `up` sees the difference.
        const read = await replicas.read(`${REF}/read-replicas`, replicaInputs(["eu-west-1"]));
        expect(read.props).toMatchObject({ regions: [] });
        expect(project.replicas).toHaveLength(1);
    });

    it("a 402 on the setup (the plan does not include replicas) is a clear error, sent once, nothing set up", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        double.api.inject({ operation: SETUP, status: 402, message: "Read replicas are not available on your organization's plan." });
        expect(await failure(replicas.create(replicaInputs(["eu-west-1"])))).toMatch(
            /setting up a replica in eu-west-1 failed \(Supabase Management API POST \/v1\/projects\/\{ref\}\/read-replicas\/setup answered 402: Read replicas are not available on your organization's plan\.\); no step before it/,
        );
        expect(sent(SETUP)).toHaveLength(1);
        expect(project.replicas).toEqual([]);
    });

    it("waits out one rate limit and sets up exactly one replica; gives up after 3 attempts with none", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        double.api.inject({ operation: SETUP, status: 429, resetSeconds: 0 });
        await replicas.create(replicaInputs(["eu-west-1"]));
        expect(sent(SETUP).map((r) => r.status)).toEqual([429, 201]);
        expect(project.replicas.map((r) => r.region)).toEqual(["eu-west-1"]);

        const other = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        double.api.log.length = 0;
        double.api.inject({ operation: SETUP, status: 429, resetSeconds: 0, times: 3 });
        expect(await failure(replicas.create(replicaInputs(["eu-west-1"])))).toMatch(
            /read-replicas\/setup failed after 3 attempts: rate limited \(429\)/,
        );
        expect(sent(SETUP).map((r) => r.status)).toEqual([429, 429, 429]);
        expect(other.replicas).toEqual([]);
    });

    it("detects a replica added by hand by its read, and removes it", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        const { id, outs } = await replicas.create(replicaInputs(["eu-west-1"]));
        project.replicas.push({ identifier: `${REF}-rr-us-east-1-handx`, region: "us-east-1" });
        const read = await replicas.read(id, outs as ReplicasInputs);
        expect([...(read.props!.regions as string[])].sort()).toEqual(["eu-west-1", "us-east-1"]);
        expect((await replicas.diff(id, read.props!, replicaInputs(["eu-west-1"]))).changes).toBe(true);
        await replicas.update(id, read.props!, replicaInputs(["eu-west-1"]));
        expect(project.replicas.map((r) => r.region)).toEqual(["eu-west-1"]);
    });
});

describe("compute: a 402", () => {
    it("is a clear error with the API's message, the size unchanged", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: ADDONS, status: 402, message: "Your organization's plan does not allow this compute size." });
        expect(await failure(compute.create(computeInputs("small")))).toMatch(
            /answered 402: Your organization's plan does not allow this compute size\./,
        );
        expect(sent(ADDONS)).toHaveLength(1);
        expect(project.addons.compute).toBe("ci_micro");
    });
});

describe("point-in-time restore: rate limits", () => {
    const withPitr = () =>
        double.api.addProject("abcdefghijklmnopqrst", {
            addons: { compute: "ci_small", pitr: "pitr_7" },
            pitrWindow: { earliest: Date.UTC(2026, 11, 7, 0, 0) / 1000, latest: Date.UTC(2026, 11, 7, 11, 58) / 1000 },
        });
    const hosted = () => ({
        ref: "abcdefghijklmnopqrst",
        apiUrl: double.api.url,
        token: double.api.token,
        tokenSource: "SUPABASE_ACCESS_TOKEN",
    });

    it("a 429 on the restore is waited out and the restore sent once more, restoring once", async () => {
        const project = withPitr();
        double.api.inject({ operation: RESTORE, status: 429, resetSeconds: 0 });
        const r = await restorePointInTime(hosted(), {
            time: "2026-12-07T10:30:00Z",
            confirm: "abcdefghijklmnopqrst",
            dryRun: false,
            pollMs: 10,
        });
        expect(r.ok).toBe(true);
        expect(sent(RESTORE).map((x) => x.status)).toEqual([429, 201]);
        expect(project.restoredTo).toEqual([1796639400]);
    });

    it("gives up after 3 rate-limited attempts with no restore started", async () => {
        const project = withPitr();
        double.api.inject({ operation: RESTORE, status: 429, resetSeconds: 0, times: 3 });
        expect(
            await failure(
                restorePointInTime(hosted(), { time: "2026-12-07T10:30:00Z", confirm: "abcdefghijklmnopqrst", dryRun: false, pollMs: 10 }),
            ),
        ).toMatch(/restore-pitr failed after 3 attempts: rate limited \(429\)/);
        expect(project.restoredTo).toEqual([]);
        expect(project.statuses).toEqual(["ACTIVE_HEALTHY"]);
    });
});
