/** The settings-table engine (lib/config/schema.ts) on small tables, and facts derived from the real one. */
import { describe, expect, it } from "vitest";
import { neededSecretKeys, SCHEMA, SECRET_KEYS } from "../lib/config";
import { integer } from "../lib/config/parsers";
import { ConfigError, evaluate, Schema } from "../lib/config/schema";

const raw = (values: Record<string, string>, secretKeys: string[] = []) => ({ values, secretKeys: new Set(secretKeys) });

describe("settings table engine", () => {
    const table = new Schema()
        .add("size", integer(1, 9), { type: "integer", doc: "A size.", default: 3 })
        .add("double", integer(1, 99), {
            type: "integer",
            doc: "Twice the size.",
            default: (above) => above.size && above.size * 2,
            check: (v, above) => (above.size && v < above.size ? "must be at least size" : undefined),
        })
        .secret("token", { doc: "A token.", defaultText: "required (secret)", required: "is required" });

    it("applies static and derived defaults, and keeps secrets apart", () => {
        expect(evaluate(table, raw({ token: "t" }, ["token"]))).toEqual({ settings: { size: 3, double: 6 }, secrets: { token: "t" } });
        expect(evaluate(table, raw({ size: "4", token: "t" }, ["token"])).settings).toEqual({ size: 4, double: 8 });
    });

    it("reports every problem at once, masking secrets, with a did-you-mean", () => {
        let error: unknown;
        try {
            evaluate(table, raw({ size: "0", doubl: "5", token: "hunter2" }));
        } catch (err) {
            error = err;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).problems).toEqual([
            { key: "doubl", shown: '"5"', allowed: "is not a setting of this program (did you mean double?)" },
            { key: "token", shown: "[set in plain text]", allowed: "must be set with `pulumi config set --secret token`" },
            { key: "size", shown: '"0"', allowed: "must be an integer from 1 to 9" },
        ]);
        expect((error as Error).message).not.toContain("hunter2");
    });

    it("runs a row's cross-setting check on given values", () => {
        expect(() => evaluate(table, raw({ size: "5", double: "2", token: "t" }, ["token"]))).toThrow(
            /toolboxai:double = "2": must be at least size/,
        );
    });

    it("calls a row that ends without a value, a default or a problem a bug in the table", () => {
        const broken = new Schema().add("orphan", integer(0, 1), { type: "integer", doc: "No default, not required." });
        expect(() => evaluate(broken, raw({}))).toThrow(/Settings table: orphan ended without a value/);
    });
});

describe("the real table", () => {
    it("has each key once, and a doc and a group for each", () => {
        const keys = SCHEMA.rows.map((r) => r.key);
        expect(new Set(keys).size).toBe(keys.length);
        for (const r of SCHEMA.rows) expect([r.key, r.doc.length > 0, r.group.length > 0]).toEqual([r.key, true, true]);
    });

    it("needs the hosted keys only in hosted mode, and never the optional bootstrap password", () => {
        expect(SECRET_KEYS).toContain("databaseBootstrapPassword");
        expect(neededSecretKeys({ environment: "dev" })).toEqual(["vaultToken"]);
        // Hosted: only the Management API token; the project's keys come from the API.
        expect(neededSecretKeys({ environment: "prod" })).toEqual(["vaultToken", "supabaseAccessToken"]);
        expect(neededSecretKeys({ environment: "dev", supabaseMode: "hosted" })).toHaveLength(2);
    });
});
