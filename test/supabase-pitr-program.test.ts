/**
 * supabasePitr in the program: prod's plan gets the PITR add-on as a resource of the hosted project
 * only when the stack sets it (unset, the add-on is left alone, and prod's committed plan is unchanged).
 */
import { describe, expect, it } from "vitest";
import { SecretValue } from "../lib/offline/values";
import { byName, evaluateStack, ofType } from "./harness";

const PITR = "pulumi-nodejs:dynamic/toolboxai:SupabasePitr";

describe("the PITR add-on in prod's plan", () => {
    it("is a resource after the project, with the variant set and the token secret", async () => {
        const ev = await evaluateStack("prod", { overrides: { supabasePitr: "pitr_14" } });
        const pitr = byName(ev, "supabase-pitr");
        expect(pitr.type).toBe(PITR);
        expect(pitr.inputs).toMatchObject({ ref: "toolboxaiprodprojref", variant: "pitr_14", apiUrl: "https://api.supabase.com" });
        expect(pitr.inputs.accessToken).toBeInstanceOf(SecretValue);
        expect(pitr.parentUrn).toBe(byName(ev, "supabase").urn);
        expect(pitr.options.dependencies).toContain(byName(ev, "supabase-project").urn);
    });

    it("is absent when supabasePitr is unset", async () => {
        expect(ofType(await evaluateStack("prod"), PITR)).toEqual([]);
    });
});
