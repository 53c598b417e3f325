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
