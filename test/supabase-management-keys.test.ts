/**
 * The API key provider (lib/supabase/providers.ts) against the double: a key's description is
 * changed in place (PATCH, the key and its value stay), and a key says which stack owns it: another
 * stack's key is never adopted, changed or deleted, a key made by hand is not adopted, and this
 * stack's own key (a lost create reply, a key from before the markers) still is.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { apiKeyProvider } from "../lib/supabase/providers";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const PROD = "toolboxai/prod";
const STAGING = "toolboxai/staging";
const double = useManagementApiDouble();
const failure = double.failure;

const keys = apiKeyProvider as Required<pulumi.dynamic.ResourceProvider>;
const inputs = (overrides: Record<string, unknown> = {}) => ({
    apiUrl: double.api.url,
    accessToken: double.api.token,
    timeoutSeconds: 5,
    ref: REF,
    type: "secret",
    name: "toolboxai_backend_a7",
    description: "toolboxai backend (rotation slot a)",
    owner: PROD,
    deleteReason: "scheduled rotation",
    ...overrides,
});
const calls = (method: string) => double.api.log.filter((r) => r.operation.startsWith(`${method} /v1/projects/{ref}/api-keys`));
const stored = (id: string) => double.api.projects.get(REF)!.keys.find((k) => k.id === id);

describe("a key's description changes in place", () => {
    it("diff plans an update, not a replacement; update PATCHes the spec's body; the key, its id and value stay", async () => {
        double.api.addProject(REF);
        const created = await keys.create(inputs());
        const value = stored(created.id)!.api_key;
        expect(stored(created.id)!.description).toBe("toolboxai backend (rotation slot a) [managed by pulumi toolboxai/prod]");

        const edited = inputs({ description: "toolboxai backend API (rotation slot a)" });
        expect(await keys.diff(created.id, created.outs!, edited)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        double.api.log.length = 0;
        const updated = await keys.update(created.id, created.outs!, edited);

        const patches = calls("PATCH");
        expect(patches).toHaveLength(1);
        // The double validated it against UpdateApiKeyBody; only the description is sent.
        expect(patches[0]).toMatchObject({
            path: `/v1/projects/${REF}/api-keys/${created.id}`,
            status: 200,
            body: { description: "toolboxai backend API (rotation slot a) [managed by pulumi toolboxai/prod]" },
        });
        expect(Object.keys(patches[0].body as object)).toEqual(["description"]);
        expect(calls("POST")).toEqual([]);
        expect(calls("DELETE")).toEqual([]);
        expect(double.api.projects.get(REF)!.deletedKeys).toEqual([]);
        expect(stored(created.id)!.api_key === value, "the key's value is unchanged").toBe(true);
        expect(updated.outs).toMatchObject({ keyId: created.id, description: "toolboxai backend API (rotation slot a)", owner: PROD });
        expect(updated.outs!.apiKey === value, "the output keeps the same value").toBe(true);

        // Refresh reads the text back without the marker: no further change.
        const refreshed = await keys.read(created.id, updated.outs!);
        expect(refreshed.props).toMatchObject({ description: "toolboxai backend API (rotation slot a)", owner: PROD });
        expect((await keys.diff(created.id, refreshed.props!, edited)).changes).toBe(false);
    });

    it("a text edited in the dashboard shows as drift and is set back in place", async () => {
        double.api.addProject(REF);
        const created = await keys.create(inputs());
        stored(created.id)!.description = "someone's note";
        const refreshed = (await keys.read(created.id, created.outs!)).props!;
        expect(refreshed).toMatchObject({ description: "someone's note", owner: null });
        expect(await keys.diff(created.id, refreshed, inputs())).toMatchObject({ changes: true, replaces: [] });
        await keys.update(created.id, refreshed, inputs());
        expect(stored(created.id)!.description).toBe("toolboxai backend (rotation slot a) [managed by pulumi toolboxai/prod]");
    });

    it("a new name or type is still a new key (rotation); a new connection changes nothing", async () => {
        double.api.addProject(REF);
        const { id, outs } = await keys.create(inputs());
        expect((await keys.diff(id, outs!, inputs({ name: "toolboxai_backend_a8" }))).replaces).toEqual(["name"]);
        expect((await keys.diff(id, outs!, inputs({ type: "publishable" }))).replaces).toEqual(["type"]);
        double.api.log.length = 0;
        await keys.update(id, outs!, inputs({ timeoutSeconds: 7 }));
        expect(calls("PATCH")).toEqual([]);
    });
});

describe("a key says which stack owns it", () => {
    it("create refuses a key of the same name another stack made, and says what to do", async () => {
        const project = double.api.addProject(REF);
        const prod = await keys.create(inputs());
        double.api.log.length = 0;
        const message = await failure(keys.create(inputs({ owner: STAGING })));
        expect(message).toMatch(
            /the secret API key toolboxai_backend_a7 of project toolboxaiprodprojref belongs to the Pulumi stack toolboxai\/prod .*not to toolboxai\/staging: this stack does not adopt it/,
        );
        expect(message).toMatch(
            /give this stack its own project \(supabaseProjectRef\), or, if the stack toolboxai\/prod no longer exists, delete the key/,
        );
        expect(calls("POST")).toEqual([]);
        expect(project.keys.filter((k) => k.name === "toolboxai_backend_a7").map((k) => k.id)).toEqual([prod.id]);
    });

    it("update and delete leave another stack's key alone", async () => {
        const project = double.api.addProject(REF);
        const prod = await keys.create(inputs());
        const before = structuredClone(stored(prod.id));
        // Staging holds the same key in its state (two stacks that adopted one key before the markers).
        const stagingState = { ...prod.outs!, owner: STAGING };
        double.api.log.length = 0;
        expect(await failure(keys.update(prod.id, stagingState, inputs({ owner: STAGING, description: "staging's text" })))).toMatch(
            /belongs to the Pulumi stack toolboxai\/prod.*: its description is not changed/,
        );
        expect(await failure(keys.delete(prod.id, stagingState))).toMatch(
            /belongs to the Pulumi stack toolboxai\/prod.*: it is not deleted\. .*pulumi state delete/,
        );
        expect(calls("PATCH")).toEqual([]);
        expect(calls("DELETE")).toEqual([]);
        expect(stored(prod.id)).toEqual(before);
        expect(project.deletedKeys).toEqual([]);
        // Its owner deletes it.
        await keys.delete(prod.id, prod.outs!);
        expect(project.deletedKeys.map((d) => d.key.id)).toEqual([prod.id]);
    });

    it("a key of the same name made by hand (no marker) is not adopted either", async () => {
        const project = double.api.addProject(REF);
        const byHand = { ...project.keys.find((k) => k.type === "secret")!, id: "0b5e7d43-5a4e-4c58-9d43-2f1c2f6b1a11" };
        project.keys.push({ ...byHand, name: "toolboxai_backend_a7", description: "made in the dashboard", api_key: "sb_secret_byhand" });
        const message = await failure(keys.create(inputs()));
        expect(message).toMatch(/exists, but its description has no owner marker.*does not adopt it/);
        expect(message).toMatch(/end its description with \[managed by pulumi toolboxai\/prod\]/);
        expect(calls("POST")).toEqual([]);
    });

    it("this stack's own key is adopted (a create whose reply was lost), and its text brought up to date", async () => {
        const project = double.api.addProject(REF);
        const first = await keys.create(inputs({ description: "older text" }));
        double.api.log.length = 0;
        const again = await keys.create(inputs());
        expect(again.id).toBe(first.id);
        expect(calls("POST")).toEqual([]);
        expect(calls("PATCH")).toHaveLength(1);
        expect(stored(first.id)!.description).toBe("toolboxai backend (rotation slot a) [managed by pulumi toolboxai/prod]");
        expect(project.keys.filter((k) => k.name === "toolboxai_backend_a7")).toHaveLength(1);
    });

    it("a key from before the markers, in this stack's state: the next update marks it, and this stack may delete it", async () => {
        const project = double.api.addProject(REF);
        const old = await keys.create(inputs());
        // What the older program stored and made: no owner, the text without a marker.
        stored(old.id)!.description = "toolboxai backend (rotation slot a, managed by Pulumi)";
        const oldState: Record<string, unknown> = { ...old.outs!, description: "toolboxai backend (rotation slot a, managed by Pulumi)" };
        delete oldState.owner;
        expect(await keys.diff(old.id, oldState, inputs())).toMatchObject({ changes: true, replaces: [] });
        await keys.update(old.id, oldState, inputs());
        expect(stored(old.id)!.description).toBe("toolboxai backend (rotation slot a) [managed by pulumi toolboxai/prod]");

        const unmarked = await keys.create(inputs({ name: "toolboxai_backend_b7" }));
        stored(unmarked.id)!.description = "toolboxai backend (rotation slot b, managed by Pulumi)";
        await keys.delete(unmarked.id, { ...unmarked.outs!, owner: undefined });
        expect(project.deletedKeys.map((d) => d.key.id)).toEqual([unmarked.id]);
    });

    it("a key another stack marked since shows as a change on refresh, and the update refuses it", async () => {
        double.api.addProject(REF);
        const prod = await keys.create(inputs());
        stored(prod.id)!.description = "toolboxai backend [managed by pulumi toolboxai/staging]";
        const refreshed = (await keys.read(prod.id, prod.outs!)).props!;
        expect(refreshed).toMatchObject({ owner: STAGING, description: "toolboxai backend" });
        expect((await keys.diff(prod.id, refreshed, inputs())).changes).toBe(true);
        expect(await failure(keys.update(prod.id, refreshed, inputs()))).toMatch(/belongs to the Pulumi stack toolboxai\/staging/);
    });
});
