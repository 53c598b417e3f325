/**
 * The compute size's provider (lib/supabase/providers.ts computeProvider) against the
 * spec-validating Management API double: an adopted project resized through the compute add-on
 * (waiting out the restart), the size read back (a dashboard change is drift), and
 * databasePoolSize refused above the compute's pooler limit before anything is sent.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { computeProvider, type ComputeInputs } from "../lib/supabase/providers";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const double = useManagementApiDouble({ watchConsole: true });
const failure = double.failure;
const provider = computeProvider as Required<pulumi.dynamic.ResourceProvider>;

const inputs = (size: string | undefined, poolSize = 20): ComputeInputs => ({
    apiUrl: double.api.url,
    accessToken: double.api.token,
    timeoutSeconds: 5,
    ref: REF,
    size,
    poolSize,
    pollSeconds: 0.01,
});
const changes = () => double.api.log.filter((r) => r.operation === "PATCH /v1/projects/{ref}/billing/addons");

describe("compute size", () => {
    it("resizes an adopted project with the spec's body, waits through RESIZING, and reads the new limits", async () => {
        const project = double.api.addProject(REF);
        const { id, outs } = await provider.create(inputs("small"));
        expect(id).toBe(`${REF}/compute`);
        expect(changes().map((r) => r.body)).toEqual([{ addon_type: "compute_instance", addon_variant: "ci_small" }]);
        expect(project.addons.compute).toBe("ci_small");
        // RESIZING seen, then ACTIVE_HEALTHY: two looks at the project after the PATCH.
        expect(double.api.log.filter((r) => r.operation === "GET /v1/projects/{ref}").length).toBe(2);
        expect(outs).toMatchObject({ size: "small", actualSize: "small", connectionsDirect: 90, connectionsPooler: 400 });
    });

    it("sends nothing when the size is already right, or when the stack leaves it alone, and still reads the limits", async () => {
        double.api.addProject(REF, { addons: { compute: "ci_medium" } });
        const managed = await provider.create(inputs("medium"));
        const unmanaged = await provider.create(inputs(undefined));
        expect(changes()).toEqual([]);
        expect(managed.outs).toMatchObject({ size: "medium", connectionsDirect: 120, connectionsPooler: 600 });
        expect(unmanaged.outs).toMatchObject({ size: undefined, actualSize: "medium", connectionsPooler: 600 });
    });

    it("detects a size changed in the dashboard by its read, and sets it back", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small" } });
        const { id, outs } = await provider.create(inputs("small"));
        project.addons.compute = "ci_large";
        const read = await provider.read(id, outs as ComputeInputs);
        expect(read.props).toMatchObject({ size: "large", connectionsDirect: 160 });
        expect((await provider.diff(id, read.props!, inputs("small"))).changes).toBe(true);
        await provider.update(id, read.props!, inputs("small"));
        expect(project.addons.compute).toBe("ci_small");
    });

    it("refuses a pool above the pooler's client limit of the target size, sending nothing", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_medium" } });
        const message = await failure(provider.create(inputs("micro", 201)));
        expect(message).toMatch(
            /databasePoolSize = 201 is above the 200 client connections the pooler of compute micro accepts: lower databasePoolSize, or raise supabaseInstanceSize/,
        );
        expect(await failure(provider.create(inputs(undefined, 601)))).toMatch(
            /above the 600 client connections the pooler of compute medium/,
        );
        expect(changes()).toEqual([]);
        expect(project.addons.compute).toBe("ci_medium");
    });

    it("fails when the resize was accepted but the project does not show it", async () => {
        double.api.addProject(REF, { addonChangesPending: true });
        expect(await failure(provider.create(inputs("large")))).toMatch(
            /Supabase accepted supabaseInstanceSize = large for toolboxaiprodprojref, but the project reports micro/,
        );
    });

    it("gives up after its attempts on rate limits, with the size unchanged", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: "PATCH /v1/projects/{ref}/billing/addons", status: 429, resetSeconds: 0, times: 3 });
        expect(await failure(provider.create(inputs("small")))).toMatch(/failed after 3 attempts: rate limited \(429\)/);
        expect(changes().map((r) => r.status)).toEqual([429, 429, 429]);
        expect(project.addons.compute).toBe("ci_micro");
    });
});
