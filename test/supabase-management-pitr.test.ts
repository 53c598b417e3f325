/**
 * The PITR add-on's provider (lib/supabase/providers.ts pitrProvider) against the spec-validating
 * Management API double: the bodies the spec requires, the read that sees a change made in the
 * dashboard, the checks of compute and plan before anything is sent, and the faults (402, 400,
 * rate limits), each ending in a clear error or a bounded retry with the add-on unchanged.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { pitrProvider, type PitrInputs } from "../lib/supabase/providers";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const double = useManagementApiDouble({ watchConsole: true });
const failure = double.failure;
const provider = pitrProvider as Required<pulumi.dynamic.ResourceProvider>;

const inputs = (variant: PitrInputs["variant"]): PitrInputs => ({
    apiUrl: double.api.url,
    accessToken: double.api.token,
    timeoutSeconds: 5,
    ref: REF,
    variant,
});
const ADDONS = "/billing/addons";
const sent = () => double.api.log.filter((r) => r.operation !== "GET /v1/projects/{ref}/billing/addons" && r.path.includes(ADDONS));
// The plans set by one test must not reach the next (the suite clears projects, log and faults).
beforeEach(() => double.api.pitrVariants.clear());
const small = () => double.api.addProject(REF, { addons: { compute: "ci_small" } });

describe("PITR as a setting", () => {
    it("checks compute and plan, then sends the spec's body, and reads the variant and its price back", async () => {
        small();
        const { id, outs } = await provider.create(inputs("pitr_7"));
        expect(id).toBe(`${REF}/pitr`);
        expect(double.api.log.map((r) => `${r.operation} ${r.status}`)).toEqual([
            "GET /v1/projects/{ref}/billing/addons 200",
            "GET /v1/projects/{ref} 200",
            "GET /v1/organizations/{slug}/entitlements 200",
            "PATCH /v1/projects/{ref}/billing/addons 200",
            "GET /v1/projects/{ref}/billing/addons 200",
        ]);
        expect(double.api.log[2].path).toBe("/v1/organizations/toolboxai-org/entitlements");
        expect(double.api.log[3].body).toEqual({ addon_type: "pitr", addon_variant: "pitr_7" });
        expect(double.api.projects.get(REF)!.addons.pitr).toBe("pitr_7");
        expect(outs).toMatchObject({ variant: "pitr_7", computeVariant: "ci_small", monthlyPriceUsd: 100 });
    });

    it("sends nothing when the project already has the variant", async () => {
        double.api.addProject(REF, { addons: { compute: "ci_small", pitr: "pitr_14" } });
        const { outs } = await provider.create(inputs("pitr_14"));
        expect(double.api.log.map((r) => r.operation)).toEqual([
            "GET /v1/projects/{ref}/billing/addons",
            "GET /v1/projects/{ref}/billing/addons",
        ]);
        expect(outs).toMatchObject({ variant: "pitr_14", monthlyPriceUsd: 200 });
    });

    it("detects a variant changed or removed in the dashboard by its read, and puts it back", async () => {
        const project = small();
        const { id, outs } = await provider.create(inputs("pitr_7"));
        project.addons.pitr = "pitr_28";
        const changed = await provider.read(id, outs as PitrInputs);
        expect(changed.props).toMatchObject({ variant: "pitr_28", monthlyPriceUsd: 400 });
        expect((await provider.diff(id, changed.props!, inputs("pitr_7"))).changes).toBe(true);
        delete project.addons.pitr;
        const removed = await provider.read(id, outs as PitrInputs);
        expect(removed.props).toMatchObject({ variant: "off", monthlyPriceUsd: 0 });
        expect((await provider.diff(id, removed.props!, inputs("pitr_7"))).changes).toBe(true);
        await provider.update(id, removed.props!, inputs("pitr_7"));
        expect(project.addons.pitr).toBe("pitr_7");
        expect((await provider.diff(id, (await provider.read(id, outs as PitrInputs)).props!, inputs("pitr_7"))).changes).toBe(false);
    });

    it("turns PITR off with the DELETE of the selected variant, and leaves it on when the resource is deleted", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small", pitr: "pitr_14" } });
        await provider.delete(`${REF}/pitr`, inputs("pitr_14"));
        expect(project.addons.pitr).toBe("pitr_14");
        const { outs } = await provider.update(`${REF}/pitr`, inputs("pitr_14"), inputs("off"));
        expect(sent().map((r) => `${r.operation} ${r.path.split("/").pop()}`)).toEqual([
            "DELETE /v1/projects/{ref}/billing/addons/{addon_variant} pitr_14",
        ]);
        expect(project.addons.pitr).toBeUndefined();
        expect(outs).toMatchObject({ variant: "off" });
    });
});

describe("read back after the change", () => {
    it("fails when the API accepted the change but the project does not show it", async () => {
        double.api.addProject(REF, { addons: { compute: "ci_small" }, addonChangesPending: true });
        expect(await failure(provider.create(inputs("pitr_7")))).toMatch(
            /Supabase accepted supabasePitr = pitr_7 for toolboxaiprodprojref, but the project reports off: run `pulumi up` again/,
        );
    });
});

describe("refused before anything is sent", () => {
    it("refuses PITR on a Micro project, naming the setting, the compute and the fix", async () => {
        double.api.addProject(REF);
        const message = await failure(provider.create(inputs("pitr_7")));
        expect(message).toMatch(
            /supabasePitr = pitr_7 cannot be applied to toolboxaiprodprojref: the project's compute is ci_micro, and PITR needs Small or larger/,
        );
        expect(message).toMatch(/pulumi config set supabasePitr off/);
        expect(sent()).toEqual([]);
    });

    it("refuses a variant the organization's plan does not allow, listing what it allows", async () => {
        small();
        double.api.pitrVariants.set("toolboxai-org", []);
        expect(await failure(provider.create(inputs("pitr_7")))).toMatch(
            /supabasePitr = pitr_7 is not allowed by the plan of organization toolboxai-org \(it allows no PITR variant\): move the organization to Pro or above/,
        );
        double.api.pitrVariants.set("toolboxai-org", ["pitr_7"]);
        expect(await failure(provider.create(inputs("pitr_28")))).toMatch(/it allows pitr_7\).*choose one of pitr_7/);
        expect(sent()).toEqual([]);
        expect(double.api.projects.get(REF)!.addons.pitr).toBeUndefined();
    });
});

describe("faults", () => {
    it("explains a 402 (the plan does not pay for it) and leaves PITR as it was", async () => {
        const project = double.api.addProject(REF, { addons: { compute: "ci_small", pitr: "pitr_7" } });
        double.api.inject({ operation: "PATCH /v1/projects/{ref}/billing/addons", status: 402, message: "Payment required" });
        const message = await failure(provider.update(`${REF}/pitr`, inputs("pitr_7"), inputs("pitr_28")));
        expect(message).toMatch(
            /supabasePitr = pitr_28 was refused for toolboxaiprodprojref \(.*answered 402: Payment required\); PITR stays pitr_7/,
        );
        expect(message).toMatch(/move it to Pro or above/);
        expect(project.addons.pitr).toBe("pitr_7");
        expect(sent().map((r) => r.operation)).toEqual(["PATCH /v1/projects/{ref}/billing/addons"]);
    });

    it("explains a 400 with the API's message", async () => {
        const project = small();
        double.api.inject({
            operation: "PATCH /v1/projects/{ref}/billing/addons",
            status: 400,
            message: "PITR is not available in this region.",
        });
        const message = await failure(provider.create(inputs("pitr_14")));
        expect(message).toMatch(
            /answered 400: PITR is not available in this region\.\); PITR stays off\. check the project's compute size/,
        );
        expect(project.addons.pitr).toBeUndefined();
    });

    it("waits out one rate limit and applies once; gives up after its attempts with nothing applied", async () => {
        const project = small();
        double.api.inject({ operation: "PATCH /v1/projects/{ref}/billing/addons", status: 429, resetSeconds: 0 });
        await provider.create(inputs("pitr_7"));
        expect(sent().map((r) => r.status)).toEqual([429, 200]);
        expect(project.addons.pitr).toBe("pitr_7");

        double.api.log.length = 0;
        double.api.inject({ operation: "PATCH /v1/projects/{ref}/billing/addons", status: 429, resetSeconds: 0, times: 3 });
        const message = await failure(provider.update(`${REF}/pitr`, inputs("pitr_7"), inputs("pitr_14")));
        expect(message).toMatch(/PATCH \/v1\/projects\/\{ref\}\/billing\/addons failed after 3 attempts: rate limited \(429\)/);
        expect(sent().map((r) => r.status)).toEqual([429, 429, 429]);
        expect(project.addons.pitr).toBe("pitr_7");
    });
});
