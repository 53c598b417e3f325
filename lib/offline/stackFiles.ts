/** Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands them to a program. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load as parse } from "js-yaml";

export interface ConfigDeclaration {
    type?: string;
    description?: string;
    default?: unknown;
    secret?: boolean;
}

export interface StackFiles {
    project: string;
    /** Declarations from Pulumi.yaml, keyed by full key (`toolboxai:environment`). */
    declarations: Record<string, ConfigDeclaration>;
    /** Pulumi.yaml defaults, as strings, keyed by full key. */
    defaults: Record<string, string>;
    /** Plain values from the stack file, as strings, keyed by full key. */
    values: Record<string, string>;
    /** Full keys whose stack-file value is encrypted (`secure:`), unreadable offline. */
    secureKeys: string[];
}

/** The CLI passes every config value to the program as a string; objects and arrays as JSON. */
export function configString(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function listStacks(projectDir: string): string[] {
    return readdirSync(projectDir)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

function fullKey(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

export function readStackFiles(projectDir: string, stack: string): StackFiles {
    const stackFile = join(projectDir, `Pulumi.${stack}.yaml`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !existsSync(stackFile)) {
        throw new Error(`unknown stack ${JSON.stringify(stack)}: stacks with a stack file here are ${listStacks(projectDir).join(", ")}`);
    }
    const projectDoc = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, unknown> };
    const project = projectDoc.name;
    const declarations: Record<string, ConfigDeclaration> = {};
    const defaults: Record<string, string> = {};
    for (const [key, decl] of Object.entries(projectDoc.config ?? {})) {
        const d: ConfigDeclaration =
            decl !== null && typeof decl === "object" && !Array.isArray(decl) ? (decl as ConfigDeclaration) : { default: decl };
        declarations[fullKey(project, key)] = d;
        if (d.default !== undefined) defaults[fullKey(project, key)] = configString(d.default);
    }

    const stackDoc = (parse(readFileSync(stackFile, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const values: Record<string, string> = {};
    const secureKeys: string[] = [];
    for (const [key, value] of Object.entries(stackDoc.config ?? {})) {
        const full = fullKey(project, key);
        if (value !== null && typeof value === "object" && "secure" in value) secureKeys.push(full);
        else values[full] = configString(value);
    }
    return { project, declarations, defaults, values, secureKeys };
}
