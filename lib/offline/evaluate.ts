/**
 * Evaluates the whole program for one stack file, offline, under `pulumi.runtime.setMocks`,
 * and records what it would ask the engine for: every resource's type, name, parent, inputs
 * and options, and the stack outputs.
 *
 * It stands in for the engine where the mocks fall short (see the shared reference):
 * - it marks `additionalSecretOutputs` secret, as the real engine does;
 * - it records parents and resource options, which mocks don't pass to `newResource`;
 * - it rejects duplicate URNs, as the real engine does;
 * - it resolves each resource's aliases to URNs, with those inherited from its parents' aliases
 *   (the rule of the SDK's `inheritedChildAlias`, which the engine applies to structured aliases);
 * - it answers invokes it does not model with an error instead of an empty result;
 * - it does not serialize dynamic providers' code (seconds each, and no part of the plan): their
 *   `__provider` input reads OFFLINE_DYNAMIC_PROVIDER. test/supabase-management-program.test.ts
 *   serializes them as the engine does and checks the code for secrets.
 * This is the desired state only; it knows nothing of what is deployed.
 */
import * as pulumi from "@pulumi/pulumi";
import * as settingsModule from "@pulumi/pulumi/runtime/settings";
import { createRequire } from "node:module";
import { neededSecretKeys } from "../config";
import { currentTime } from "../credentials";
import { readStackFiles, type StackFiles } from "./stackFiles";
import { mockId, mockOutputs } from "./mockProviders";
import { fromWire, resolveDeep, reveal, SecretValue } from "./values";

export interface RecordedOptions {
    protect?: boolean;
    retainOnDelete?: boolean;
    deleteBeforeReplace?: boolean;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
    /** A value whose change makes the engine replace the resource (rotation). */
    replacementTrigger?: unknown;
    /** Earlier names (or URNs) the program aliases the resource to: a rename that keeps its state. */
    aliases?: string[];
    /** URN of the explicit provider, if any. */
    provider?: string;
    /** URNs this resource depends on, explicitly or through its inputs. */
    dependencies: string[];
}

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    parentUrn?: string;
    custom: boolean;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    /** Outputs the provider marks secret itself (additionalSecretOutputs): where secrets originate. */
    secretOutputs: string[];
    options: RecordedOptions;
    /** The URNs this resource may have had before (its `aliases`, and those inherited from its parents'). */
    aliases: string[];
}

export interface Evaluation {
    project: string;
    stack: string;
    resources: RecordedResource[];
    outputs: Record<string, unknown>;
    /** Secret settings that were not readable offline and were given placeholder values. */
    placeholderSecrets: string[];
    /** The time the program's clock read (ISO 8601). */
    clock: string;
    /** Values of the settings that are not secret (a secret object may hold them too: they are not leaks). */
    plainConfig: Record<string, string>;
    /** Plain text of every secret setting the program was given (for leak checks; never rendered). */
    secretConfig: Record<string, string>;
}

export interface EvaluateOptions {
    /** Folder holding Pulumi.yaml and the stack files. */
    projectDir: string;
    stack: string;
    /** Imports the program (fresh) and returns its exports: the stack outputs. */
    load: () => unknown;
    /** Settings (keys without namespace) replacing the stack file's; `undefined` removes one. */
    overrides?: Record<string, string | undefined>;
    /** Settings set as secrets (keys without namespace). */
    secrets?: Record<string, string>;
    /** Give secret settings the stack file can't provide offline a placeholder (default true). */
    placeholders?: boolean;
    /** What StackReferences read: stack name to its outputs, and which of them are secret. */
    stackReferences?: Record<string, { outputs: Record<string, unknown>; secretOutputNames: string[] }>;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getProtect(): boolean;
    hasProtect?(): boolean;
    getRetainondelete(): boolean;
    hasRetainondelete?(): boolean;
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
    getAdditionalsecretoutputsList(): string[];
    getDependenciesList(): string[];
    getAliasesList(): AliasMessage[];
    getAliasurnsList(): string[];
}
interface AliasMessage {
    getUrn(): string;
    getSpec():
        | { getName(): string; getType(): string; getStack(): string; getProject(): string; getParenturn(): string; getNoparent(): boolean }
        | undefined;
}
type Callback = (err: unknown, response: unknown) => void;

/** The program's own renames; the type aliases provider SDKs add to every resource of a renamed type are left out. */
function renamedFrom(req: RegisterRequest): string[] | undefined {
    const names = req
        .getAliasesList()
        .map((a) => a.getUrn() || (a.getSpec()?.getName() ?? ""))
        .filter((n) => n !== "");
    return names.length ? names : undefined;
}
interface Monitor {
    registerResource(req: RegisterRequest, callback: Callback): void;
}

const SIG = pulumi.runtime.specialSigKey;

function qualifiedType(urn: string): string {
    return urn.split("::")[2];
}

export const OFFLINE_DYNAMIC_PROVIDER = "[dynamic provider code: serialized at deployment, not offline]";

type Serialize = (f: unknown, args?: unknown) => Promise<{ text: string; containsSecrets: boolean }>;
const closureModule = createRequire(__filename)("@pulumi/pulumi/runtime/closure/serializeClosure") as { serializeFunction: Serialize };

function makeUrn(stack: string, project: string, parentUrn: string | undefined, type: string, name: string): string {
    const parentType = parentUrn ? `${qualifiedType(parentUrn)}$` : "";
    return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`;
}

/** An alias as the engine resolves it: unset parts of a spec are the resource's own. */
function aliasUrn(alias: AliasMessage, at: { stack: string; project: string; type: string; name: string; parentUrn?: string }): string {
    const spec = alias.getSpec();
    if (!spec) return alias.getUrn();
    const parent = spec.getNoparent() ? undefined : spec.getParenturn() || at.parentUrn;
    return makeUrn(
        spec.getStack() || at.stack,
        spec.getProject() || at.project,
        parent,
        spec.getType() || at.type,
        spec.getName() || at.name,
    );
}

/**
 * A child's aliases: its own, plus one per alias of its parent (its name re-prefixed when it starts with
 * the parent's name), plus each of its own under each parent alias. As the SDK's `allAliases`.
 */
function inheritAliases(own: string[], type: string, name: string, parent: RecordedResource | undefined): string[] {
    if (!parent) return own;
    const under = (parentAlias: string, childName: string, childType: string) => {
        const aliasName = childName.startsWith(parent.name)
            ? parentAlias.slice(parentAlias.lastIndexOf("::") + 2) + childName.slice(parent.name.length)
            : childName;
        const [stack, project] = parentAlias.replace(/^urn:pulumi:/, "").split("::");
        return makeUrn(stack, project, parentAlias, childType, aliasName);
    };
    const typeAndName = (urn: string) => ({
        name: urn.slice(urn.lastIndexOf("::") + 2),
        type: qualifiedType(urn).split("$").pop() ?? type,
    });
    const inherited = parent.aliases.flatMap((pa) => [
        under(pa, name, type),
        ...own.map((a) => under(pa, typeAndName(a).name, typeAndName(a).type)),
    ]);
    return [...own, ...inherited];
}

function placeholderFor(key: string): string {
    // The Management API token has a checked shape: an all-zero one, which Supabase never issues.
    if (key === "supabaseAccessToken") return `sbp_${"0".repeat(40)}`;
    // A receiver URL must be https: a reserved name (RFC 2606) that reaches nobody.
    if (key === "monitoringReceiverUrl") return "https://offline-placeholder.invalid/monitoringReceiverUrl";
    // Long enough to pass every length rule (JWT secrets need 32 characters).
    return `offline-placeholder-${key}-0123456789abcdef`;
}

/** Applies the stack file, defaults from Pulumi.yaml (as the CLI does), overrides and placeholders. */
function effectiveConfig(
    files: StackFiles,
    options: EvaluateOptions,
): { values: Record<string, string>; secretKeys: string[]; placeholderSecrets: string[] } {
    const ns = `${files.project}:`;
    // Encrypted values (`secure:`) are absent here: they can't be decrypted offline.
    const values: Record<string, string> = { ...files.defaults, ...files.values };
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
        if (value === undefined) delete values[ns + key];
        else values[ns + key] = value;
    }
    for (const [key, value] of Object.entries(options.secrets ?? {})) {
        values[ns + key] = value;
        secretKeys.add(ns + key);
    }
    const placeholderSecrets: string[] = [];
    if (options.placeholders !== false) {
        const bare = Object.fromEntries(
            Object.entries(values)
                .filter(([k]) => k.startsWith(ns))
                .map(([k, v]) => [k.slice(ns.length), v]),
        );
        for (const key of neededSecretKeys(bare)) {
            if (values[ns + key] === undefined) {
                values[ns + key] = placeholderFor(key);
                secretKeys.add(ns + key);
                placeholderSecrets.push(key);
            }
        }
    }
    return { values, secretKeys: [...secretKeys], placeholderSecrets };
}

export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
    const files = readStackFiles(options.projectDir, options.stack);
    const { values, secretKeys, placeholderSecrets } = effectiveConfig(files, options);
    const { project } = files;
    const { stack } = options;

    const resources = new Map<string, RecordedResource>();
    const pending = new Map<
        string,
        { parentUrn?: string; options: RecordedOptions; additionalSecretOutputs: string[]; aliases: string[] }
    >();
    const failures: unknown[] = [];

    pulumi.runtime.setAllConfig(values, secretKeys);
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const key = `${args.type}::${args.name}`;
                const meta = pending.get(key);
                pending.delete(key);
                const urn = makeUrn(stack, project, meta?.parentUrn, args.type, args.name);
                // Failures are collected and thrown at the end: a rejected registration would surface
                // as a flood of unhandled rejections from every output of the resource.
                if (resources.has(urn)) failures.push(new Error(`duplicate resource URN ${urn}: the engine would reject this program`));

                if (args.type === "pulumi:pulumi:StackReference") {
                    const answer = stackReference(args.inputs.name);
                    const urn = `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`;
                    resources.set(urn, {
                        urn,
                        type: args.type,
                        name: args.name,
                        custom: true,
                        inputs: { name: args.inputs.name },
                        outputs: fromWire(answer.state) as Record<string, unknown>,
                        secretOutputs: [],
                        options: { dependencies: [] },
                        aliases: [],
                    });
                    return answer;
                }
                const inputs = fromWire(args.inputs) as Record<string, unknown>;
                const ctx = { stack, type: args.type, name: args.name, inputs: reveal(inputs) as Record<string, unknown> };
                const modelled = args.custom ? mockOutputs(ctx) : {};
                const state: Record<string, unknown> = args.custom ? { ...args.inputs, ...modelled } : {};
                for (const field of meta?.additionalSecretOutputs ?? []) {
                    const v = state[field] as Record<string, unknown> | undefined;
                    if (v !== undefined && !(v !== null && typeof v === "object" && v[SIG] === pulumi.runtime.specialSecretSig)) {
                        state[field] = { [SIG]: pulumi.runtime.specialSecretSig, value: v };
                    }
                }
                resources.set(urn, {
                    urn,
                    type: args.type,
                    name: args.name,
                    parentUrn: meta?.parentUrn,
                    custom: args.custom ?? true,
                    inputs,
                    outputs: fromWire(state) as Record<string, unknown>,
                    secretOutputs: meta?.additionalSecretOutputs ?? [],
                    options: meta?.options ?? { dependencies: [] },
                    aliases: inheritAliases(
                        meta?.aliases ?? [],
                        args.type,
                        args.name,
                        meta?.parentUrn ? resources.get(meta.parentUrn) : undefined,
                    ),
                });
                // Some ids are meaningful (a bucket's is its name): the model may give one.
                return { id: args.custom ? (typeof modelled.id === "string" ? modelled.id : mockId(ctx)) : undefined, state };
            },
            call(args) {
                failures.push(
                    new Error(`invoke ${args.token} is not modelled offline; the program should not need a provider call to plan`),
                );
                return {};
            },
        },
        project,
        stack,
        false,
        "organization",
    );

    /** Answers a StackReference as the engine does: outputs, secret ones wrapped as secrets, and their names. */
    function stackReference(name: string) {
        const ref = options.stackReferences?.[name];
        if (!ref) {
            failures.push(new Error(`StackReference to ${name} has no offline answer (EvaluateOptions.stackReferences)`));
            return { id: name, state: { name, outputs: {}, secretOutputNames: [] } };
        }
        const outputs = Object.fromEntries(
            Object.entries(ref.outputs).map(([k, v]) => [
                k,
                ref.secretOutputNames.includes(k) ? { [SIG]: pulumi.runtime.specialSecretSig, value: v } : v,
            ]),
        );
        return { id: name, state: { name, outputs, secretOutputNames: ref.secretOutputNames } };
    }

    const monitor = settingsModule.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const provider = req.getProvider();
        const parentUrn = req.getParent() || undefined;
        pending.set(`${req.getType()}::${req.getName()}`, {
            parentUrn,
            aliases: [
                ...req.getAliasurnsList(),
                ...req.getAliasesList().map((a) => aliasUrn(a, { stack, project, type: req.getType(), name: req.getName(), parentUrn })),
            ],
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            options: {
                protect: req.getProtect() || undefined,
                retainOnDelete: req.getRetainondelete() || undefined,
                deleteBeforeReplace: req.getDeletebeforereplace() || undefined,
                ignoreChanges: req.getIgnorechangesList().length ? req.getIgnorechangesList() : undefined,
                replaceOnChanges: req.getReplaceonchangesList().length ? req.getReplaceonchangesList() : undefined,
                replacementTrigger: req.getReplacementTrigger()?.toJavaScript(),
                aliases: renamedFrom(req),
                provider: provider ? provider.split("::").slice(0, -1).join("::") : undefined,
                dependencies: req.getDependenciesList(),
            },
        });
        register(req, (err, response) => {
            if (err) failures.push(err);
            callback(err, response);
        });
    };

    const serialize = closureModule.serializeFunction;
    closureModule.serializeFunction = async () => ({ text: OFFLINE_DYNAMIC_PROVIDER, containsSecrets: false });
    // Not named `exports`: the CommonJS build of this module refers to its own exports by that name.
    let programExports: Record<string, unknown>;
    try {
        programExports = (await options.load()) as Record<string, unknown>;
    } finally {
        closureModule.serializeFunction = serialize;
    }
    const waitForRPCs = (settingsModule as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;
    await waitForRPCs();
    const outputs = (await resolveDeep(
        Object.fromEntries(Object.entries(programExports ?? {}).filter(([k]) => k !== "__esModule" && k !== "default")),
    )) as Record<string, unknown>;
    await waitForRPCs();
    if (failures.length > 0) throw failures[0];

    const secretConfig = Object.fromEntries(secretKeys.map((k) => [k, values[k]]));
    const plainConfig = Object.fromEntries(Object.entries(values).filter(([k]) => !secretKeys.includes(k)));
    return {
        project,
        stack,
        resources: [...resources.values()],
        outputs,
        placeholderSecrets,
        secretConfig,
        plainConfig,
        clock: currentTime().toISOString(),
    };
}

export { SecretValue };
