import { describe, expect, it } from "vitest";
import { diffMarkdown, diffPlans } from "../lib/offline/diff";
import { toPlanJson } from "../lib/offline/render";
import { evaluateStack } from "./harness";

describe("offline plan diff (forks' pull requests)", () => {
    it("reports nothing between identical plans", async () => {
        const plan = toPlanJson(await evaluateStack("dev"));
        const d = diffPlans(plan, plan);
        expect(d).toEqual({ added: [], removed: [], changed: [], outputs: [] });
        expect(diffMarkdown("dev", d)).toMatch(/No resource or output changes/);
    });

    it("reports added, removed and changed resources with the changed inputs, secrets hidden", async () => {
        const base = toPlanJson(await evaluateStack("dev"));
        const head = toPlanJson(
            await evaluateStack("dev", {
                overrides: {
                    services: JSON.stringify({
                        backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
                        worker: { role: "worker", replicas: 2 },
                        backup: { role: "backup" },
                    }),
                    databasePoolSize: "30",
                },
            }),
        );
        const d = diffPlans(base, head);
        expect(d.added.map((r) => r.name)).toEqual(expect.arrayContaining(["app-worker-1"]));
        expect(d.removed).toEqual([]);
        const markdown = diffMarkdown("dev", d);
        expect(markdown).toMatch(/`\+` docker:index\/container:Container `app-worker-1`/);
        expect(markdown).toMatch(/to add/);
        expect(markdown).toMatch(/output `database`/);
        expect(markdown).not.toMatch(/offline-placeholder/);
        const removed = diffPlans(head, base);
        expect(removed.removed.map((r) => r.name)).toEqual(expect.arrayContaining(["app-worker-1"]));
    });
});

describe("offline plan diff: resources changed in place", () => {
    it("names each changed resource once, with the changed field's path, its old and new value, and counts it", async () => {
        const base = toPlanJson(await evaluateStack("dev"));
        const head = toPlanJson(await evaluateStack("dev", { overrides: { backupRetentionDays: "9" } }));
        const d = diffPlans(base, head);
        expect(d.added).toEqual([]);
        expect(d.removed).toEqual([]);
        const changedNames = d.changed.map((c) => c.resource.name);
        expect(changedNames.length).toBeGreaterThan(0);
        expect(new Set(changedNames).size).toBe(changedNames.length);
        const fields = d.changed.flatMap((c) => c.fields.map((f) => ({ name: c.resource.name, ...f })));
        // Every reported field really differs, and the retention appears with both values.
        for (const f of fields) expect(JSON.stringify(f.before), f.path).not.toBe(JSON.stringify(f.after));
        // The retention is in the lifecycle rules: the rules array is reported whole, old and new.
        const rules = fields.find((f) => f.name === "backups-lifecycle" && f.path === "inputs.rules");
        expect(JSON.stringify(rules?.before)).toContain('"expiration":{"days":7}');
        expect(JSON.stringify(rules?.after)).toContain('"expiration":{"days":9}');
        const markdown = diffMarkdown("dev", d);
        expect(markdown).toContain(`**0 to add, ${d.changed.length} to change, 0 to delete**`);
        for (const c of d.changed) expect(markdown).toContain(`- \`~\` ${c.resource.type} \`${c.resource.name}\``);
        expect(markdown).toMatch(/^ {2}- `inputs\.rules`: \[.*"days":7.*→ \[.*"days":9/m);
    });
});
