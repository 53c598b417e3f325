/**
 * Plain values recorded from an offline evaluation, with secretness kept as a wrapper so that
 * rendering can hide them and the leak check can look for their plain text elsewhere.
 */
import * as pulumi from "@pulumi/pulumi";

export class SecretValue {
    constructor(readonly value: unknown) {}
}

/** A resource reference inside inputs (e.g. a provider or a resource passed as an input). */
export class ResourceRef {
    constructor(readonly urn: string) {}
}

const SIG = pulumi.runtime.specialSigKey;

/** Turns the runtime's wire form (secret signatures, resource references, assets) into recorded values. */
export function fromWire(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(fromWire);
    if (value === null || typeof value !== "object") return value;
    if (pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value)) return describeAsset(value);
    if (pulumi.Resource.isInstance(value))
        return new ResourceRef(String((value as unknown as { __pulumiURN?: string }).__pulumiURN ?? "resource"));
    const obj = value as Record<string, unknown>;
    if (obj[SIG] === pulumi.runtime.specialSecretSig) return new SecretValue(fromWire(obj.value));
    if (obj[SIG] === pulumi.runtime.specialResourceSig) return new ResourceRef(String(obj.urn));
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fromWire(v)]));
}

function describeAsset(value: object): string {
    const v = value as { path?: Promise<string> | string; uri?: unknown; text?: unknown; assets?: unknown };
    if (v.assets !== undefined) return "[archive]";
    return "[asset]";
}

/** Replaces every secret with "[secret]" and every resource reference with its URN. */
export function redact(value: unknown): unknown {
    if (value instanceof SecretValue) return "[secret]";
    if (value instanceof ResourceRef) return value.urn;
    if (Array.isArray(value)) return value.map(redact);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
    }
    return value;
}

/** Every string (and number) leaf, with whether it sits inside a secret. */
export function leaves(value: unknown, insideSecret = false, path = ""): { path: string; text: string; secret: boolean }[] {
    if (value instanceof SecretValue) return leaves(value.value, true, path);
    if (value instanceof ResourceRef) return [];
    if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, insideSecret, `${path}[${i}]`));
    if (value !== null && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => leaves(v, insideSecret, path ? `${path}.${k}` : k));
    }
    if (typeof value === "string" || typeof value === "number") return [{ path, text: String(value), secret: insideSecret }];
    return [];
}

/** Resolves an exported value (Outputs nested in objects and arrays) keeping each Output's secretness. */
export async function resolveDeep(value: unknown, timeoutMs = 10_000): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as pulumi.Output<unknown>;
        const [inner, secret] = await Promise.all([outputValue(output, timeoutMs), pulumi.isSecret(output)]);
        const resolved = await resolveDeep(inner, timeoutMs);
        return secret ? new SecretValue(resolved) : resolved;
    }
    if (value instanceof Promise) return resolveDeep(await value, timeoutMs);
    if (pulumi.Resource.isInstance(value)) return new ResourceRef(String(await resolveDeep(value.urn, timeoutMs)));
    if (Array.isArray(value)) return Promise.all(value.map((v) => resolveDeep(v, timeoutMs)));
    if (value !== null && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v, timeoutMs)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

function outputValue(output: pulumi.Output<unknown>, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
        // An unknown Output never fires apply: fail loudly instead of hanging.
        const timer = setTimeout(() => reject(new Error("an Output did not resolve (unknown value under mocks?)")), timeoutMs);
        output.apply((v) => {
            clearTimeout(timer);
            resolve(v);
            return v;
        });
    });
}

/** The plain value, secrets unwrapped (for computing mock outputs, never for display). */
export function reveal(value: unknown): unknown {
    if (value instanceof SecretValue) return reveal(value.value);
    if (value instanceof ResourceRef) return value.urn;
    if (Array.isArray(value)) return value.map(reveal);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
    }
    return value;
}
