/** The add-on rules (lib/supabase/addons.ts): which compute carries PITR, and what a plan's entitlements allow. */
import { describe, expect, it } from "vitest";
import { allowedPitrVariants, computeRefusesPitr, PITR_ENTITLEMENT, selectedVariant } from "../lib/supabase/addons";

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
