/** The add-on rules (lib/supabase/addons.ts): which compute carries PITR, what a plan allows, and pool size against the compute. */
import { describe, expect, it } from "vitest";
import {
    allowedPitrVariants,
    COMPUTE_CONNECTIONS,
    computeRefusesPitr,
    computeVariantOf,
    configPoolSizeWarning,
    PITR_ENTITLEMENT,
    poolSizeRefusal,
    sizeOfComputeVariant,
    selectedVariant,
} from "../lib/supabase/addons";
import { SUPABASE_INSTANCE_SIZES } from "../lib/supabase/rules";

const price = { description: "$100/month", type: "fixed" as const, interval: "monthly" as const, amount: 100 };

describe("PITR and the compute size", () => {
    it("refuses Micro, Nano and no compute add-on, and allows Small and larger", () => {
        expect(computeRefusesPitr("ci_micro")).toMatch(/compute is ci_micro, and PITR needs Small or larger/);
        expect(computeRefusesPitr("ci_nano")).toMatch(/needs Small or larger/);
        expect(computeRefusesPitr(undefined)).toMatch(/Nano \(no compute add-on\)/);
        for (const size of ["ci_small", "ci_medium", "ci_4xlarge"]) expect(computeRefusesPitr(size)).toBeUndefined();
    });

    it("finds the selected variant of one add-on type", () => {
        const selected = [
            { type: "compute_instance" as const, variant: { id: "ci_small" as const, name: "Small", price } },
            { type: "pitr" as const, variant: { id: "pitr_14" as const, name: "14 days", price } },
        ];
        expect(selectedVariant(selected, "pitr")).toBe("pitr_14");
        expect(selectedVariant(selected, "compute_instance")).toBe("ci_small");
        expect(selectedVariant(selected.slice(0, 1), "pitr")).toBeUndefined();
    });
});

describe("what the organization's plan allows", () => {
    const entitlement = (hasAccess: boolean, set: string[], enabled = true) => ({
        feature: { key: PITR_ENTITLEMENT as "pitr.available_variants", type: "set" as const },
        hasAccess,
        type: "set" as const,
        config: { enabled, set },
    });

    it("lists the variants of the pitr entitlement", () => {
        expect(allowedPitrVariants([entitlement(true, ["pitr_7", "pitr_14"])])).toEqual(["pitr_7", "pitr_14"]);
    });

    it("allows none without access, when disabled, or when the entitlement is missing (Free)", () => {
        expect(allowedPitrVariants([entitlement(false, ["pitr_7"])])).toEqual([]);
        expect(allowedPitrVariants([entitlement(true, ["pitr_7"], false)])).toEqual([]);
        expect(allowedPitrVariants([])).toEqual([]);
        expect(
            allowedPitrVariants([
                {
                    feature: { key: "instances.read_replicas", type: "boolean" },
                    hasAccess: true,
                    type: "boolean",
                    config: { enabled: true },
                },
            ]),
        ).toEqual([]);
    });
});

describe("pool size against the compute's connection limits", () => {
    it("refuses above the pooler's client limit, not at it", () => {
        expect(poolSizeRefusal(200, "micro", COMPUTE_CONNECTIONS.micro)).toBeUndefined();
        expect(poolSizeRefusal(201, "micro", COMPUTE_CONNECTIONS.micro)).toMatch(
            /above the 200 client connections the pooler of compute micro/,
        );
    });

    it("warns above 40 % of the direct connections, not at it", () => {
        // Micro: 60 direct, 40 % is 24; the guide's 20 is within it.
        expect(configPoolSizeWarning(20, "micro")).toBeUndefined();
        expect(configPoolSizeWarning(24, "micro")).toBeUndefined();
        expect(configPoolSizeWarning(25, "micro")).toMatch(
            /databasePoolSize 25 is above 40 % \(24\) of the 60 direct connections of compute micro/,
        );
        expect(configPoolSizeWarning(36, "small")).toBeUndefined();
        expect(configPoolSizeWarning(37, "small")).toMatch(/\(36\) of the 90/);
        expect(configPoolSizeWarning(500, undefined)).toBeUndefined();
        expect(configPoolSizeWarning(500, "nano")).toBeUndefined();
    });

    it("knows the limits of every size the API sells as a compute add-on, and maps sizes to variants both ways", () => {
        for (const size of SUPABASE_INSTANCE_SIZES.filter((s) => s !== "nano")) expect(COMPUTE_CONNECTIONS[size], size).toBeDefined();
        expect(computeVariantOf("2xlarge")).toBe("ci_2xlarge");
        expect(sizeOfComputeVariant("ci_2xlarge")).toBe("2xlarge");
        expect(sizeOfComputeVariant(undefined)).toBe("nano");
    });
});
