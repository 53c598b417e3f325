/** Names are identity: the URN check of test/plan.test.ts, on small programs renamed with and without aliases. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { lostUrns, planUrns } from "../lib/offline/identity";
import { toPlanJson } from "../lib/offline/render";
import { evaluateProgramInline } from "./harness";

class Part extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:test:Part", name, {}, opts);
        this.registerOutputs({});
    }
}

class Thing extends pulumi.ComponentResource {
    constructor(name: string, child: string, opts?: pulumi.ComponentResourceOptions, childAliases?: pulumi.Input<pulumi.Alias>[]) {
        super("toolboxai:test:Thing", name, {}, opts);
        new Part(`${name}-${child}`, { parent: this, aliases: childAliases });
        this.registerOutputs({});
    }
}

const program = (build: () => void) => evaluateProgramInline(() => (build(), {}));

describe("URNs of a committed plan", () => {
    it("are rebuilt from the plan's types and parents", async () => {
        const plan = toPlanJson(await program(() => new Thing("old", "part")));
        expect(planUrns(plan).sort()).toEqual([
            "urn:pulumi:dev::toolboxai::toolboxai:test:Thing$toolboxai:test:Part::old-part",
            "urn:pulumi:dev::toolboxai::toolboxai:test:Thing::old",
        ]);
    });

    it("are lost when a component is renamed without an alias, with its children", async () => {
        const before = toPlanJson(await program(() => new Thing("old", "part")));
        expect(lostUrns(before, await program(() => new Thing("new", "part")))).toHaveLength(2);
    });

    it("are kept by the component's alias, which its children inherit (name prefix included)", async () => {
        const before = toPlanJson(await program(() => new Thing("old", "part")));
        expect(lostUrns(before, await program(() => new Thing("new", "part", { aliases: [{ name: "old" }] })))).toEqual([]);
    });

    it("are lost when a child is renamed, unless it names its old name", async () => {
        const before = toPlanJson(await program(() => new Thing("old", "part")));
        expect(lostUrns(before, await program(() => new Thing("old", "piece")))).toEqual([
            "urn:pulumi:dev::toolboxai::toolboxai:test:Thing$toolboxai:test:Part::old-part",
        ]);
        expect(lostUrns(before, await program(() => new Thing("old", "piece", undefined, [{ name: "old-part" }])))).toEqual([]);
    });

    it("may be retired on purpose", async () => {
        const before = toPlanJson(await program(() => new Thing("old", "part")));
        expect(lostUrns(before, await program(() => new Thing("new", "part")), planUrns(before))).toEqual([]);
    });
});
