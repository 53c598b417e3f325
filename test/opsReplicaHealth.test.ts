/**
 * doctor's check of each read replica's health (lib/ops/replicaHealth.ts, ops/hosted.ts) against
 * the spec-validating Management API double: the pooler names the replicas, the organization's
 * project list gives each database's status; a failed setup or an unhealthy replica fails with
 * what to do, one still coming up warns.
 */
import { describe, expect, it } from "vitest";
import { replicaHealthChecks } from "../lib/ops/replicaHealth";
import { useHostedDoctor } from "./support/hosted-doctor";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "abcdefghijklmnopqrst";
const EU = `${REF}-rr-eu-west-1-abcde`;
const US = `${REF}-rr-us-east-1-fghij`;
const double = useManagementApiDouble();
const hosted = useHostedDoctor(double, REF);
const doctor = () => hosted.doctor();

const withReplicas = (statuses: Record<string, string> = {}) =>
    double.api.addProject(REF, {
        ssl: true,
        legacyEnabled: false,
        addons: { compute: "ci_small" },
        replicas: [
            { identifier: EU, region: "eu-west-1" },
            { identifier: US, region: "us-east-1" },
        ],
        replicaStatuses: statuses,
    });

describe("replica health rules", () => {
    const db = (identifier: string, status: string) => ({ identifier, type: "READ_REPLICA" as const, status, region: "eu-west-1" });

    it("passes a healthy replica, warns one coming up, fails a failed setup or an unhealthy one with the remedy", () => {
        const [healthy, up, failed, unhealthy] = replicaHealthChecks(
            REF,
            ["a", "b", "c", "d"],
            [db("a", "ACTIVE_HEALTHY"), db("b", "INIT_READ_REPLICA"), db("c", "INIT_READ_REPLICA_FAILED"), db("d", "ACTIVE_UNHEALTHY")],
        );
        expect(healthy).toEqual({ name: "read replica a", status: "pass", evidence: "ACTIVE_HEALTHY in eu-west-1" });
        expect(up).toMatchObject({ status: "warn", evidence: "INIT_READ_REPLICA in eu-west-1: not serving reads yet" });
        expect(failed).toMatchObject({ status: "fail", fix: expect.stringContaining('read-replicas/remove {"database_identifier": "c"}') });
        expect(unhealthy).toMatchObject({
            status: "fail",
            fix: expect.stringMatching(/replication lag .* then `pulumi up` sets up a new one/),
        });
    });

    it("includes a replica being set up that the pooler does not list yet, and says when the status is unknown", () => {
        expect(replicaHealthChecks(REF, [], [db("new", "INIT_READ_REPLICA")])).toMatchObject([
            { name: "read replica new", status: "warn" },
        ]);
        expect(replicaHealthChecks(REF, ["a"], undefined)).toMatchObject([
            { status: "warn", evidence: expect.stringMatching(/status is unknown/) },
        ]);
        expect(replicaHealthChecks(REF, [], [])).toEqual([{ name: "read replicas", status: "pass", evidence: "none" }]);
    });
});

describe("ops doctor: read replicas' health", () => {
    it("one check per replica from the organization's project list", async () => {
        withReplicas();
        const r = await doctor();
        expect(r.get(`read replica ${EU}`)).toMatchObject({ status: "pass", evidence: "ACTIVE_HEALTHY in eu-west-1" });
        expect(r.get(`read replica ${US}`)).toMatchObject({ status: "pass", evidence: "ACTIVE_HEALTHY in us-east-1" });
        const list = double.api.log.filter((x) => x.operation === "GET /v1/organizations/{slug}/projects");
        expect(list.map((x) => [x.path, x.query])).toEqual([["/v1/organizations/toolboxai-org/projects", { offset: "0", limit: "100" }]]);
    });

    it("fails a replica whose setup failed, with how to replace it, and warns one still coming up", async () => {
        withReplicas({ [EU]: "INIT_READ_REPLICA_FAILED", [US]: "INIT_READ_REPLICA" });
        const r = await doctor();
        expect(r.code).toBe(1);
        expect(r.get(`read replica ${EU}`)).toMatchObject({
            status: "fail",
            evidence: "INIT_READ_REPLICA_FAILED in eu-west-1: its setup failed and it serves nothing",
            fix: expect.stringContaining(`POST /v1/projects/${REF}/read-replicas/remove {"database_identifier": "${EU}"}`),
        });
        expect(r.get(`read replica ${US}`)?.status).toBe("warn");
    });

    it("says the status is unknown when the project list fails, and still runs the advisors", async () => {
        withReplicas();
        double.api.inject({ operation: "GET /v1/organizations/{slug}/projects", status: 404, message: "Not found" });
        const r = await doctor();
        expect(r.get(`read replica ${EU}`)).toMatchObject({ status: "warn", evidence: expect.stringMatching(/status is unknown/) });
        expect(r.names).toContain("security advisors");
    });

    it('no replica: one passing check, "none"; a replica the pooler does not list yet still shows', async () => {
        double.api.addProject(REF, { ssl: true, legacyEnabled: false });
        expect((await doctor()).get("read replicas")).toEqual(expect.objectContaining({ status: "pass", evidence: "none" }));
        const p = withReplicas({ [EU]: "INIT_READ_REPLICA" });
        p.replicas = p.replicas.slice(0, 1);
        expect((await doctor()).get(`read replica ${EU}`)).toMatchObject({
            status: "warn",
            evidence: "INIT_READ_REPLICA in eu-west-1: not serving reads yet",
        });
    });
});
