/**
 * The pure rules behind two client fixes: which stack owns an API key (lib/supabase/rules.ts), and
 * how a reply that is not the API's JSON is recognised and shown (lib/supabase/client.ts); and the
 * owner the program gives prod's keys.
 */
import { describe, expect, it } from "vitest";
import { bodyPreview, isJsonContentType } from "../lib/supabase/client";
import { keyOwner, keyOwnership, markedKeyDescription, parseKeyDescription } from "../lib/supabase/rules";
import { evaluateStack, ofType } from "./harness";

describe("the owner marker in a key's description", () => {
    it("is the text, then [managed by pulumi <project>/<stack>], and reads back as both", () => {
        const stored = markedKeyDescription("toolboxai worker (rotation slot b)", "toolboxai/prod");
        expect(stored).toBe("toolboxai worker (rotation slot b) [managed by pulumi toolboxai/prod]");
        expect(parseKeyDescription(stored)).toEqual({ description: "toolboxai worker (rotation slot b)", owner: "toolboxai/prod" });
        // Marking again replaces the marker instead of adding a second.
        expect(markedKeyDescription(stored, "toolboxai/staging")).toBe(
            "toolboxai worker (rotation slot b) [managed by pulumi toolboxai/staging]",
        );
    });

    it("tells this stack's key from another's and from one without a marker", () => {
        const prod = markedKeyDescription("x", "toolboxai/prod");
        expect(keyOwnership(prod, "toolboxai/prod")).toEqual({ kind: "ours" });
        expect(keyOwnership(prod, "toolboxai/prod-eu")).toEqual({ kind: "other", owner: "toolboxai/prod" });
        expect(keyOwnership(prod, "other/prod")).toEqual({ kind: "other", owner: "toolboxai/prod" });
        for (const unmarked of [null, undefined, "", "Legacy anon API key", "toolboxai backend (rotation slot a, managed by Pulumi)"])
            expect(keyOwnership(unmarked, "toolboxai/prod")).toEqual({ kind: "unmarked" });
        // Only a marker at the very end counts: one quoted in the middle of the text does not.
        expect(keyOwnership("see [managed by pulumi toolboxai/prod] for details", "toolboxai/prod")).toEqual({ kind: "unmarked" });
    });

    it("names the owner as <project>/<stack>, and refuses a name the marker cannot carry", () => {
        expect(keyOwner("toolboxai", "prod")).toBe("toolboxai/prod");
        expect(() => keyOwner("toolboxai", "prod stack")).toThrow(/"toolboxai\/prod stack" cannot mark an API key's owner/);
        expect(() => keyOwner("toolboxai", "a]b")).toThrow(/cannot mark/);
    });

    it("prod's keys are all marked as toolboxai/prod's in the plan", async () => {
        const ev = await evaluateStack("prod");
        const keys = ofType(ev, "pulumi-nodejs:dynamic/toolboxai:SupabaseApiKey");
        expect(keys).toHaveLength(5);
        for (const key of keys) {
            expect(key.inputs.owner, key.name).toBe("toolboxai/prod");
            // The marker is added by the provider: the planned text stays free of it.
            expect(parseKeyDescription(String(key.inputs.description)).owner, key.name).toBeNull();
        }
    });
});

describe("a reply that is not the API's JSON", () => {
    it("is recognised by its content type", () => {
        for (const json of ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json"])
            expect(isJsonContentType(json), json).toBe(true);
        for (const other of [null, "", "text/html; charset=utf-8", "text/plain", "application/jsonl", "application/json-seq", "text/json"])
            expect(isJsonContentType(other), String(other)).toBe(false);
    });

    it("is shown by its first bytes: flattened, without secrets, at most 120 characters", () => {
        const token = `sbp_${"ab".repeat(20)}`;
        expect(bodyPreview(`<html>\r\n\t<p>token ${token}, key sb_secret_abcDEF-123</p>\u0000</html>`, token)).toBe(
            '"<html> <p>token [redacted], key [redacted]</p> </html>"',
        );
        const long = bodyPreview("x".repeat(500), token);
        expect(long).toBe(`"${"x".repeat(120)}..."`);
        // A secret across the cut is removed before the cut, never half shown.
        const preview = bodyPreview(`${"y".repeat(110)}${token}`, token);
        expect(preview).not.toMatch(/sbp_/);
        expect(preview).toBe(`"${"y".repeat(110)}[redacted]"`);
    });
});
