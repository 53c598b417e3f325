/**
 * Read replicas: the rules (lib/supabase/replicas.ts), and the provider (readReplicasProvider)
 * against the spec-validating Management API double: set up and removed with the spec's bodies,
 * read back from the pooler list (a replica removed by hand is drift), refused before any change
 * when the compute does not allow them, and a failed setup ending in an error that says what was done.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { readReplicasProvider, type ReplicasInputs } from "../lib/supabase/providers";
import { parseReplicaRegions, regionOfReplica, replicaChanges, replicaCountRefusal, replicaLimit } from "../lib/supabase/replicas";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const double = useManagementApiDouble({ watchConsole: true });
const failure = double.failure;
const provider = readReplicasProvider as Required<pulumi.dynamic.ResourceProvider>;
const inputs = (regions: string[]): ReplicasInputs => ({
    apiUrl: double.api.url,
    accessToken: double.api.token,
    timeoutSeconds: 5,
    ref: REF,
    regions,
    pollSeconds: 0.01,
    waitSeconds: 2,
});
const sent = () => double.api.log.filter((r) => r.operation.startsWith("POST /v1/projects/{ref}/read-replicas/"));

describe("the rules", () => {
    it("parses regions from the spec's enum, none, and refuses unknown or repeated ones", () => {
        expect(parseReplicaRegions("eu-west-1, us-east-1")).toEqual({ ok: true, regions: ["eu-west-1", "us-east-1"] });
        expect(parseReplicaRegions("none")).toEqual({ ok: true, regions: [] });
        expect(parseReplicaRegions("eu-west-9")).toMatchObject({
            ok: false,
            problem: expect.stringMatching(/"eu-west-9" is not a region: use us-east-1/),
        });
        expect(parseReplicaRegions("eu-west-1,eu-west-1")).toMatchObject({ ok: false, problem: expect.stringMatching(/eu-west-1 twice/) });
    });

    it("allows none below Small, 2 below xlarge and 5 from it", () => {
        expect([
            replicaLimit("micro"),
            replicaLimit("small"),
            replicaLimit("large"),
            replicaLimit("xlarge"),
            replicaLimit("48xlarge"),
        ]).toEqual([0, 2, 2, 5, 5]);
        expect(replicaCountRefusal(1, "micro")).toMatch(/need compute Small or larger/);
        expect(replicaCountRefusal(3, "large")).toMatch(/3 read replicas exceed the 2 compute large allows/);
        expect(replicaCountRefusal(2, "small")).toBeUndefined();
    });

    it("reads the region from an identifier and plans the changes by region", () => {
        expect(regionOfReplica("abcdefghijklmnopqrst-rr-us-west-1-abcde")).toBe("us-west-1");
        expect(regionOfReplica("something-else")).toBeUndefined();
        expect(
            replicaChanges(
                [
                    { identifier: "a", region: "eu-west-1" },
                    { identifier: "b", region: "us-east-1" },
                    { identifier: "c", region: undefined },
                ],
                ["eu-west-1", "ap-south-1"],
            ),
        ).toEqual({ remove: ["b", "c"], add: ["ap-south-1"] });
    });
});

describe("read replicas against the double", () => {
    it("sets up one per region with the spec's body, and outputs each read-only connection", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        const { id, outs } = await provider.create(inputs(["eu-west-1", "us-east-1"]));
        expect(id).toBe(`${REF}/read-replicas`);
        expect(sent().map((r) => r.body)).toEqual([{ read_replica_region: "eu-west-1" }, { read_replica_region: "us-east-1" }]);
        expect(project.replicas.map((r) => r.region)).toEqual(["eu-west-1", "us-east-1"]);
        expect(outs!.replicas).toEqual(
            project.replicas.map((r) => ({
                identifier: r.identifier,
                region: r.region,
                host: `aws-0-${r.region}.pooler.supabase.com`,
                port: 6543,
                user: `postgres.${REF}`,
                database: "postgres",
            })),
        );
    });

    it("detects a replica removed by hand by its read, and sets it up again", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        const { id, outs } = await provider.create(inputs(["eu-west-1"]));
        project.replicas = [];
        const read = await provider.read(id, outs as ReplicasInputs);
        expect(read.props).toMatchObject({ regions: [], replicas: [] });
        expect((await provider.diff(id, read.props!, inputs(["eu-west-1"]))).changes).toBe(true);
        await provider.update(id, read.props!, inputs(["eu-west-1"]));
        expect(project.replicas.map((r) => r.region)).toEqual(["eu-west-1"]);
    });

    it("removes with the spec's body what is no longer listed (none removes all)", async () => {
        const project = double.api.addProject(REF, {
            addons: { compute: "ci_small" },
            replicas: [{ identifier: `${REF}-rr-eu-west-1-abcde`, region: "eu-west-1" }],
        });
        const { outs } = await provider.update(`${REF}/read-replicas`, inputs(["eu-west-1"]), inputs([]));
        expect(sent().map((r) => [r.operation, r.body])).toEqual([
            ["POST /v1/projects/{ref}/read-replicas/remove", { database_identifier: `${REF}-rr-eu-west-1-abcde` }],
        ]);
        expect(project.replicas).toEqual([]);
        expect(outs).toMatchObject({ regions: [], replicas: [] });
    });

    it("refuses replicas the compute does not allow, sending nothing", async () => {
        double.api.addProject(REF);
        expect(await failure(provider.create(inputs(["eu-west-1"])))).toMatch(
            /supabaseReadReplicas = eu-west-1: read replicas need compute Small or larger, and the compute is micro/,
        );
        double.api.addProject(REF, { addons: { compute: "ci_small" } });
        expect(await failure(provider.create(inputs(["eu-west-1", "us-east-1", "ap-south-1"])))).toMatch(/3 read replicas exceed the 2/);
        expect(sent()).toEqual([]);
    });

    it("a failed setup says what was done and how to finish, and is not repeated", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        double.api.inject({
            operation: "POST /v1/projects/{ref}/read-replicas/setup",
            status: 500,
            message: "Failed to set up read replica",
        });
        const message = await failure(provider.create(inputs(["eu-west-1"])));
        expect(message).toMatch(
            /setting up a replica in eu-west-1 failed \(.*server error 500: Failed to set up read replica.*\); no step before it\. Run `pulumi up` again/,
        );
        expect(sent().length).toBe(1);
        expect(project.replicas).toEqual([]);
    });

    it("a setup failing after a removal names the removal that was done", async () => {
        const project = double.api.addProject(REF, {
            addons: { compute: "ci_small" },
            replicas: [{ identifier: `${REF}-rr-us-east-1-abcde`, region: "us-east-1" }],
        });
        double.api.inject({ operation: "POST /v1/projects/{ref}/read-replicas/setup", status: 500 });
        expect(await failure(provider.update(`${REF}/read-replicas`, inputs(["us-east-1"]), inputs(["eu-west-1"])))).toMatch(
            new RegExp(`setting up a replica in eu-west-1 failed .*; done before it: removing replica ${REF}-rr-us-east-1-abcde\\.`),
        );
        expect(project.replicas).toEqual([]);
    });
});
