/**
 * Pure rules of `ops import` (ops/import.ts): the session settings both sides read and write
 * under, which COPY format a table can travel in, where a sequence must stand afterwards, and how
 * a trigger is turned back on. Tested directly in test/opsImportRules.test.ts.
 */

/**
 * Settings under which every value has exactly one text form, set on every import session (source
 * and target): timestamps in UTC and ISO, intervals in PostgreSQL's style, floats with every
 * digit, bytea in hex, money in the C locale. The data then travels and is compared in the same
 * form whatever the servers' or databases' own settings (a source in another time zone or date
 * style included).
 */
export const CANONICAL_SETTINGS: Readonly<Record<string, string>> = {
    TimeZone: "UTC",
    DateStyle: "ISO, YMD",
    IntervalStyle: "postgres",
    extra_float_digits: "3",
    bytea_output: "hex",
    lc_monetary: "C",
    client_encoding: "UTF8",
    // A sequential scan then starts at a table's first page: the target reads a freshly loaded
    // table back in the order it was written, which the stream checksum relies on.
    synchronize_seqscans: "off",
};

export type CopyFormat = "binary" | "text";

/** A column's type as the catalog describes it (domains resolved to their base type). */
export interface ColumnTypeInfo {
    column: string;
    /** format_type of the declared type, for messages. */
    type: string;
    /** pg_type.typtype of the base type: b base, c composite, e enum, r range, m multirange, p pseudo. */
    typtype: string;
    /** The base type has binary send and receive functions. */
    binaryIo: boolean;
    /** For an array: its element type (the declared element, before resolving a domain). */
    element?: { oid: number; typtype: string };
}

/**
 * Type OIDs below this are assigned from PostgreSQL's own catalog files: the same type has the
 * same OID in every database (FirstGenbkiObjectId). Anything created later (enums, composites,
 * domains, extension types, information_schema's domains) gets a per-database OID.
 */
export const FIRST_PER_DATABASE_OID = 10_000;

/**
 * Binary COPY where it is portable, text otherwise. Binary COPY writes arrays with their element
 * type's OID and composites with each field's type OID: between two databases those differ for
 * every type that is not built in, so such a table travels (and is compared) as text, which the
 * canonical settings make exact. A type without binary I/O can only go as text.
 */
export function copyFormat(columns: readonly ColumnTypeInfo[]): { format: CopyFormat; reason?: string } {
    for (const c of columns) {
        if (!c.binaryIo) return { format: "text", reason: `column ${c.column} (${c.type}) has no binary input/output` };
        if (c.typtype === "c") return { format: "text", reason: `column ${c.column} (${c.type}) is a composite type` };
        if (c.element && (c.element.oid >= FIRST_PER_DATABASE_OID || c.element.typtype === "c" || c.element.typtype === "d"))
            return { format: "text", reason: `column ${c.column} (${c.type}) is an array of a type created in the database` };
    }
    return { format: "binary" };
}

/** A sequence's state as `select last_value, is_called from <sequence>` reads it. */
export interface SequenceState {
    lastValue: bigint;
    isCalled: boolean;
}

export interface SequencePosition extends SequenceState {
    /** Why it stands there: the source's sequence, or past the imported rows' highest (lowest) value. */
    basis: "source" | "imported rows";
}

/**
 * Where a sequence must stand after the import: where the source's stood, unless its next value
 * would collide with an imported row (the source sequence is behind its data, or the source has
 * none); then just past the imported rows' highest value (lowest, for a descending sequence).
 * A sequence several columns share takes the furthest of their source sequences and rows.
 * Undefined: nothing to set (no source sequence and no imported rows).
 */
export function sequencePosition(
    sources: readonly SequenceState[],
    increment: bigint,
    importedValues: readonly bigint[],
): SequencePosition | undefined {
    if (increment === 0n) throw new Error("a sequence's increment cannot be 0");
    const beyond = (a: bigint, b: bigint) => (increment > 0n ? a > b : a < b);
    const next = (s: SequenceState) => (s.isCalled ? s.lastValue + increment : s.lastValue);
    const source = sources.reduce<SequenceState | undefined>((best, s) => (!best || beyond(next(s), next(best)) ? s : best), undefined);
    const extreme = importedValues.reduce<bigint | undefined>((best, v) => (best === undefined || beyond(v, best) ? v : best), undefined);
    const pastRows: SequencePosition | undefined =
        extreme === undefined ? undefined : { lastValue: extreme, isCalled: true, basis: "imported rows" };
    if (!source) return pastRows;
    return extreme === undefined || beyond(next(source), extreme) ? { ...source, basis: "source" } : pastRows;
}

/** The ALTER TABLE words that turn a trigger back on in its pg_trigger.tgenabled mode. */
export function enableTriggerClause(tgenabled: string): string {
    const clause: Record<string, string> = { O: "enable trigger", A: "enable always trigger", R: "enable replica trigger" };
    const c = clause[tgenabled];
    if (!c) throw new Error(`trigger mode ${JSON.stringify(tgenabled)} is not one that fires (O, A or R)`);
    return c;
}

/** Where the target stands when an import ends early: nothing of it is committed unless "committed". */
export type TargetState =
    "untouched" | "in transaction" | "rolled back" | "closed before commit" | "committing" | "commit unknown" | "committed";

/** The sentence that tells the operator what the target holds after an import that did not complete. */
export function targetStateSentence(state: TargetState): string {
    switch (state) {
        case "untouched":
            return "nothing was written to the target";
        case "in transaction":
        case "rolled back":
            return "the target's transaction was rolled back: the target is exactly as it was before the import";
        case "closed before commit":
            return "the connection to the target was closed before COMMIT, so the server rolled the transaction back: the target is exactly as it was before the import";
        case "committing":
        case "commit unknown":
            return "the connection to the target was lost during COMMIT: the import is either complete or not there at all; compare the target's row counts with the source's before running it again";
        case "committed":
            return "the import was committed";
    }
}
