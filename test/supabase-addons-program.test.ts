/**
 * The add-ons in the program: prod's plan gets the PITR add-on only when the stack sets it (unset,
 * it is left alone), and always the compute size, before the pooler and PITR that depend on it.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SecretValue } from "../lib/offline/values";
import { byName, evaluateStack, ofType } from "./harness";

const PITR = "pulumi-nodejs:dynamic/toolboxai:SupabasePitr";
const COMPUTE = "pulumi-nodejs:dynamic/toolboxai:SupabaseCompute";

describe("the PITR add-on in prod's plan", () => {
    it("is a resource after the project, with the variant set and the token secret", async () => {
        const ev = await evaluateStack("prod", { overrides: { supabasePitr: "pitr_14" } });
        const pitr = byName(ev, "supabase-pitr");
        expect(pitr.type).toBe(PITR);
        expect(pitr.inputs).toMatchObject({ ref: "toolboxaiprodprojref", variant: "pitr_14", apiUrl: "https://api.supabase.com" });
        expect(pitr.inputs.accessToken).toBeInstanceOf(SecretValue);
        expect(pitr.parentUrn).toBe(byName(ev, "supabase").urn);
        expect(pitr.options.dependencies).toEqual(
            expect.arrayContaining([byName(ev, "supabase-project").urn, byName(ev, "supabase-compute").urn]),
        );
    });

    it("is absent when supabasePitr is unset", async () => {
        expect(ofType(await evaluateStack("prod"), PITR)).toEqual([]);
    });
});

describe("the compute size in prod's plan", () => {
    afterEach(() => vi.restoreAllMocks());

    it("is read (size left alone) when supabaseInstanceSize is unset, and checks the pool before the pooler", async () => {
        const ev = await evaluateStack("prod");
        const compute = byName(ev, "supabase-compute");
        expect(compute.type).toBe(COMPUTE);
        expect(compute.inputs).toMatchObject({ ref: "toolboxaiprodprojref", poolSize: 20 });
        expect(compute.inputs.size).toBeUndefined();
        expect(compute.inputs.accessToken).toBeInstanceOf(SecretValue);
        expect(byName(ev, "supabase-pooler").options.dependencies).toContain(compute.urn);
    });

    it("carries supabaseInstanceSize for an adopted project, and warns above 40 % of its direct connections", async () => {
        const warn = vi.spyOn(pulumi.log, "warn");
        const ev = await evaluateStack("prod", { overrides: { supabaseInstanceSize: "micro", databasePoolSize: "30" }, fresh: true });
        expect(byName(ev, "supabase-compute").inputs).toMatchObject({ size: "micro", poolSize: 30 });
        expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(
            expect.arrayContaining([
                expect.stringMatching(/databasePoolSize 30 is above 40 % \(24\) of the 60 direct connections of compute micro/),
            ]),
        );
    });
});

describe("read replicas in prod's plan", () => {
    it("are a resource after the compute when supabaseReadReplicas is set; the output says null when they are not managed", async () => {
        const ev = await evaluateStack("prod", { overrides: { supabaseReadReplicas: "eu-west-1" } });
        const replicas = byName(ev, "supabase-read-replicas");
        expect(replicas.inputs).toMatchObject({ ref: "toolboxaiprodprojref", regions: ["eu-west-1"] });
        expect(replicas.options.dependencies).toContain(byName(ev, "supabase-compute").urn);
        expect((await evaluateStack("prod")).outputs.supabaseProject).toMatchObject({ readReplicas: null });
    });
});
