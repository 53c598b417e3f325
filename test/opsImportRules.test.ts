/** The pure rules of `ops import` (lib/ops/import.ts). The import itself: test/opsImport.test.ts. */
import { describe, expect, it } from "vitest";
import { copyFormat, enableTriggerClause, sequencePosition, targetStateSentence, type ColumnTypeInfo } from "../lib/ops/import";
import { EXIT_ON_SIGNAL, quoteIdent, quoteTable } from "../lib/ops/rules";

const column = (over: Partial<ColumnTypeInfo>): ColumnTypeInfo => ({ column: "c", type: "integer", typtype: "b", binaryIo: true, ...over });

describe("ops import rules", () => {
    it("copies built-in types (and arrays of them, enums, ranges) in binary, anything that embeds a per-database OID as text", () => {
        expect(copyFormat([column({}), column({ type: "text[]", element: { oid: 25, typtype: "b" } }), column({ typtype: "e" })])).toEqual({
            format: "binary",
        });
        expect(copyFormat([column({ typtype: "r" })]).format).toBe("binary");
        expect(copyFormat([column({ column: "m", type: "mood[]", element: { oid: 16_500, typtype: "e" } })])).toEqual({
            format: "text",
            reason: "column m (mood[]) is an array of a type created in the database",
        });
        expect(copyFormat([column({ type: "pair", typtype: "c" })]).format).toBe("text");
        // information_schema's domains are created at initdb time: their OIDs are not fixed either.
        expect(copyFormat([column({ element: { oid: 13_000, typtype: "d" } })]).format).toBe("text");
        expect(copyFormat([column({ element: { oid: 9_999, typtype: "c" } })]).format).toBe("text");
        expect(copyFormat([column({ binaryIo: false, type: "weird" })]).reason).toBe("column c (weird) has no binary input/output");
    });

    it("puts a sequence where the source's stood, unless an imported row is at or past its next value", () => {
        const at = (lastValue: bigint, isCalled = true) => ({ lastValue, isCalled });
        // Far above the data: as the source had it, called or not.
        expect(sequencePosition([at(5000n)], 1n, [40n])).toEqual({ lastValue: 5000n, isCalled: true, basis: "source" });
        expect(sequencePosition([at(41n, false)], 1n, [40n])).toEqual({ lastValue: 41n, isCalled: false, basis: "source" });
        // Next value 40 would collide with the imported 40: past the rows instead.
        expect(sequencePosition([at(40n, false)], 1n, [40n])).toEqual({ lastValue: 40n, isCalled: true, basis: "imported rows" });
        expect(sequencePosition([at(3n)], 1n, [40n])).toMatchObject({ lastValue: 40n, basis: "imported rows" });
        // With a step of 10, 35 + 10 = 45 is clear of 40.
        expect(sequencePosition([at(35n)], 10n, [40n])).toMatchObject({ lastValue: 35n, basis: "source" });
        // Descending: the next value must be below the lowest imported.
        expect(sequencePosition([at(-5n)], -1n, [-10n, -3n])).toMatchObject({ lastValue: -10n, basis: "imported rows" });
        expect(sequencePosition([at(-50n)], -1n, [-10n])).toMatchObject({ lastValue: -50n, basis: "source" });
        // No source sequence: past the rows; no rows either: nothing to set. No rows: the source's.
        expect(sequencePosition([], 1n, [7n])).toEqual({ lastValue: 7n, isCalled: true, basis: "imported rows" });
        expect(sequencePosition([], 1n, [])).toBeUndefined();
        expect(sequencePosition([at(1n, false)], 1n, [])).toMatchObject({ lastValue: 1n, isCalled: false });
        // A sequence two tables share: past the higher table, from the furthest source sequence.
        expect(sequencePosition([at(90n), at(100n, false), at(20n)], 1n, [])).toMatchObject({ lastValue: 100n, isCalled: false });
        expect(sequencePosition([at(100n, false), at(100n)], 1n, [])).toMatchObject({ lastValue: 100n, isCalled: true });
        expect(sequencePosition([at(60n)], 1n, [50n, 70n, 10n])).toMatchObject({ lastValue: 70n, basis: "imported rows" });
        // Beyond JavaScript's safe integers: bigint all the way (as numbers, ...992 + 1 would equal ...993 rounded).
        expect(sequencePosition([at(9_007_199_254_740_992n)], 1n, [9_007_199_254_740_993n])).toEqual({
            lastValue: 9_007_199_254_740_993n,
            isCalled: true,
            basis: "imported rows",
        });
        expect(() => sequencePosition([], 0n, [1n])).toThrow(/increment cannot be 0/);
    });

    it("turns each trigger back on in the mode it had", () => {
        expect(enableTriggerClause("O")).toBe("enable trigger");
        expect(enableTriggerClause("A")).toBe("enable always trigger");
        expect(enableTriggerClause("R")).toBe("enable replica trigger");
        expect(() => enableTriggerClause("D")).toThrow(/not one that fires/);
    });

    it("says what the target holds, and exits 128 + the signal's number", () => {
        expect(targetStateSentence("untouched")).toBe("nothing was written to the target");
        for (const s of ["in transaction", "rolled back", "closed before commit"] as const)
            expect(targetStateSentence(s)).toMatch(/the target is exactly as it was before the import$/);
        expect(targetStateSentence("commit unknown")).toMatch(/compare the target's row counts/);
        expect(EXIT_ON_SIGNAL).toEqual({ SIGINT: 130, SIGTERM: 143 });
    });

    it("quotes any identifier", () => {
        expect(quoteIdent('Event "Kind"')).toBe('"Event ""Kind"""');
        expect(quoteTable('Odd Schema.Audit "Trail" Log')).toBe('"Odd Schema"."Audit ""Trail"" Log"');
    });
});
