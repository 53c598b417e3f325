/**
 * The engine behind the settings table: a typed builder of rows, and one pass that validates them all.
 *
 * Each `add` returns a new schema whose type knows the row, so a row's parser, default and checks see
 * the rows above it, typed, and `Settings` is inferred from the finished table (no second list).
 * Pulumi hands every config value over as a string, so each row parses a string; "" counts as unset.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../constants";

import { type ConfigProblem, type Parsed } from "./parsed";

export { bad, ok, type ConfigProblem, type Parsed } from "./parsed";

export class ConfigError extends pulumi.RunError {
    constructor(readonly problems: readonly ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "ConfigError";
    }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${PROJECT}:${p.key} = ${p.shown}: ${p.allowed}`);
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    return `Invalid stack configuration (${count}); no resource was created:\n${lines.join("\n")}`;
}

/** The settings above a row as parsed so far: a value is missing where it was invalid (its own problem says so). */
export type Above<S> = { readonly [K in keyof S]?: S[K] };

/** For the few rows that report problems under sub-keys (`services.<name>.<field>`) or peek at a raw value. */
export interface Tools {
    given(key: string): string | undefined;
    report(problem: ConfigProblem): void;
}

type YamlValue = string | number | boolean;

/** Reads a setting's raw string, knowing the rows above it. */
export type Parser<T, S> = (raw: string, above: Above<S>, tools: Tools) => Parsed<T>;

/** One setting (its parser is `add`'s second argument, so that the value's type comes from it). */
export interface Row<T, S> {
    /** Its type in Pulumi.yaml (every value arrives as a string and is parsed). */
    type: "string" | "integer" | "boolean";
    doc: string;
    /** When unset: a static value (declared as Pulumi.yaml's default), or one derived from the rows above (per environment). */
    default?: NoInfer<T> | ((above: Above<S>, tools: Tools) => NoInfer<T> | undefined);
    /** What is said when unset and without a default; a function returns undefined where it is not required. */
    required?: string | ((above: Above<S>) => string | undefined);
    /** A rule across settings, on the final value; returns what is allowed when broken. */
    check?: (value: T, above: Above<S>) => string | undefined;
    /** The value may stay undefined (no default, not required). */
    optional?: boolean;
    /** The default as the docs show it, where it is derived; static defaults show themselves. */
    defaultText?: string;
    /** Pulumi.yaml's default where `default` is derived: "" lets a stack leave it unset. Without one, every stack must set it. */
    yamlDefault?: YamlValue;
    /** Not declared in Pulumi.yaml: a declared key without default is required in every stack, and objects can't be typed there. */
    undeclared?: boolean;
}

/** A secret setting: never echoed, must be set with `--secret`, reaches the program only as a secret Output. */
export interface SecretRow<S> {
    doc: string;
    defaultText: string;
    /** Where it is needed; elsewhere its value is ignored. */
    appliesWhen?: (above: Above<S>) => boolean;
    required?: string | ((above: Above<S>) => string | undefined);
    check?: (value: string, above: Above<S>, tools: Tools) => string | undefined;
    undeclared?: boolean;
}

/** A row without its types, as the engine and the docs walk it. */
export interface AnyRow {
    key: string;
    /** The heading it is documented under. */
    group: string;
    type: Row<unknown, unknown>["type"];
    doc: string;
    secret: boolean;
    undeclared: boolean;
    /** Pulumi.yaml's default, if any. */
    yamlDefault?: YamlValue;
    defaultText: string;
    run(values: Record<string, unknown>, tools: Tools, fail: (allowed: string) => void): unknown;
    /** The requirement message under these values, or undefined. */
    requirement(values: Record<string, unknown>): string | undefined;
    optional: boolean;
}

const isStatic = (d: unknown): d is YamlValue => ["string", "number", "boolean"].includes(typeof d);
const requirementOf = <S>(required: string | ((above: Above<S>) => string | undefined) | undefined, above: Above<S>) =>
    typeof required === "function" ? required(above) : required;

export class Schema<S extends object, X extends string = never> {
    constructor(
        readonly rows: readonly AnyRow[] = [],
        private readonly heading = "",
    ) {}

    /** Rows added after this are documented under `heading`. */
    group(heading: string): Schema<S, X> {
        return new Schema(this.rows, heading);
    }

    add<K extends string, T, O extends boolean = false>(
        key: K,
        parse: Parser<T, S>,
        row: Row<T, S> & { optional?: O },
    ): Schema<S & { [P in K]: O extends true ? T | undefined : T }, X> {
        const staticDefault = isStatic(row.default) ? row.default : undefined;
        const yamlDefault = row.yamlDefault ?? staticDefault;
        const any: AnyRow = {
            key,
            group: this.heading,
            type: row.type,
            doc: row.doc,
            secret: false,
            undeclared: row.undeclared ?? false,
            yamlDefault,
            defaultText: row.defaultText ?? (staticDefault === undefined ? "required" : String(staticDefault)),
            optional: row.optional ?? false,
            requirement: (values) => requirementOf(row.required, values as Above<S>),
            run(values, tools, fail) {
                const above = values as Above<S>;
                const raw = tools.given(key);
                let value: T | undefined;
                if (raw === undefined) {
                    const d = row.default;
                    value = typeof d === "function" ? (d as (a: Above<S>, t: Tools) => T | undefined)(above, tools) : d;
                    const required = value === undefined ? requirementOf(row.required, above) : undefined;
                    if (required !== undefined) fail(required);
                } else {
                    const parsed = parse(raw, above, tools);
                    if (parsed.ok) value = parsed.value;
                    else fail(parsed.allowed);
                }
                const broken = value === undefined ? undefined : row.check?.(value, above);
                if (broken !== undefined) fail(broken);
                return value;
            },
        };
        return new Schema([...this.rows, any], this.heading);
    }

    secret<K extends string>(key: K, row: SecretRow<S>): Schema<S, X | K> {
        const any: AnyRow = {
            key,
            group: this.heading,
            type: "string",
            doc: row.doc,
            secret: true,
            undeclared: row.undeclared ?? false,
            defaultText: row.defaultText,
            optional: true,
            requirement: (values) =>
                (row.appliesWhen?.(values as Above<S>) ?? true) ? requirementOf(row.required, values as Above<S>) : undefined,
            run(values, tools, fail) {
                const above = values as Above<S>;
                if (!(row.appliesWhen?.(above) ?? true)) return undefined;
                const value = tools.given(key);
                if (value === undefined) {
                    const required = requirementOf(row.required, above);
                    if (required !== undefined) fail(required);
                    return undefined;
                }
                const broken = row.check?.(value, above, tools);
                if (broken !== undefined) fail(broken);
                return value;
            },
        };
        return new Schema([...this.rows, any], this.heading);
    }
}

/** Raw config as Pulumi delivers it: key (without the `toolboxai:` namespace) to string. */
export interface RawConfig {
    values: Readonly<Record<string, string | undefined>>;
    /** Keys that were set with `pulumi config set --secret`. */
    secretKeys: ReadonlySet<string>;
}

type Settled<S> = { [K in keyof S]: S[K] };

/**
 * Validates every row in order and returns the settings with defaults applied and the secrets apart,
 * or throws one ConfigError listing every problem.
 */
export function evaluate<S extends object, X extends string>(
    schema: Schema<S, X>,
    raw: RawConfig,
    /** Settings of earlier versions: key to what replaced them. */
    retired: Readonly<Record<string, string>> = {},
): { settings: Settled<S>; secrets: Partial<Record<X, string>> } {
    const problems: ConfigProblem[] = [];
    const secretKeys = new Set(schema.rows.filter((r) => r.secret).map((r) => r.key));
    const known = new Set(schema.rows.map((r) => r.key));
    const given = (key: string): string | undefined => {
        const v = raw.values[key];
        return v === undefined || v === "" ? undefined : v;
    };
    /** Shows a bad value without ever echoing a secret. */
    const show = (key: string, v: string | undefined) =>
        v === undefined ? "(missing)" : secretKeys.has(key) ? `[secret, ${v.length} characters]` : JSON.stringify(v);

    for (const key of Object.keys(raw.values)) {
        if (retired[key])
            problems.push({ key, shown: raw.secretKeys.has(key) ? "[secret]" : show(key, raw.values[key]), allowed: retired[key] });
        else if (!known.has(key)) {
            const hint = closestKey(key, known);
            problems.push({
                key,
                shown: show(key, raw.values[key]),
                allowed: `is not a setting of this program${hint ? ` (did you mean ${hint}?)` : ""}`,
            });
        }
    }
    for (const key of secretKeys) {
        if (given(key) !== undefined && !raw.secretKeys.has(key)) {
            problems.push({ key, shown: "[set in plain text]", allowed: `must be set with \`pulumi config set --secret ${key}\`` });
        }
    }

    const tools: Tools = { given, report: (p) => problems.push(p) };
    const settings: Record<string, unknown> = {};
    const secrets: Record<string, string> = {};
    for (const row of schema.rows) {
        const value = row.run(settings, tools, (allowed) => problems.push({ key: row.key, shown: show(row.key, given(row.key)), allowed }));
        if (row.secret) {
            if (typeof value === "string") secrets[row.key] = value;
        } else settings[row.key] = value;
    }
    if (problems.length > 0) throw new ConfigError(problems);
    // A required row left without a value and without a problem is a bug in the table, not in the stack.
    const unset = schema.rows.filter((r) => !r.optional && settings[r.key] === undefined).map((r) => r.key);
    if (unset.length > 0)
        throw new Error(`Settings table: ${unset.join(", ")} ended without a value; give each a default or a required message`);
    return { settings: settings as Settled<S>, secrets: secrets as Partial<Record<X, string>> };
}

function closestKey(key: string, known: ReadonlySet<string>): string | undefined {
    const lower = key.toLowerCase();
    return [...known].find((k) => k.toLowerCase() === lower || k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase()));
}
