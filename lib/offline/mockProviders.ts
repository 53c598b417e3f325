/**
 * What the offline evaluation answers for each resource type: the computed outputs a real
 * provider would return, deterministically (the plan snapshot must not change between runs).
 *
 * Generated secrets are derived from the stack, the resource name and its inputs, so that a
 * change of keepers (rotation) changes the value exactly as a real replacement would.
 */
import { createHash } from "node:crypto";

export interface MockContext {
    stack: string;
    type: string;
    name: string;
    /** Inputs with secret wrappers removed. */
    inputs: Record<string, unknown>;
}

export function digest(...parts: unknown[]): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/** A deterministic string of `length` characters drawn from `alphabet`. */
export function deterministicString(seed: string, length: number, alphabet: string): string {
    let out = "";
    for (let block = 0; out.length < length; block++) {
        const bytes = createHash("sha256").update(`${seed}:${block}`).digest();
        for (const b of bytes) {
            if (out.length === length) break;
            out += alphabet[b % alphabet.length];
        }
    }
    return out;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

type Model = (ctx: MockContext) => Record<string, unknown>;

function randomString(ctx: MockContext): Record<string, unknown> {
    const length = Number(ctx.inputs.length ?? 16);
    const special = ctx.inputs.special !== false;
    const specials = typeof ctx.inputs.overrideSpecial === "string" ? ctx.inputs.overrideSpecial : DEFAULT_SPECIAL;
    const result = deterministicString(digest(ctx.stack, ctx.type, ctx.name, ctx.inputs), length, ALNUM + (special ? specials : ""));
    return { result, bcryptHash: `$2a$10$${deterministicString(result, 53, ALNUM)}` };
}

function uuid(seed: string): string {
    const h = digest(seed);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A PEM block that says what it is: offline, no key or certificate is really made. */
function placeholderPem(kind: string, ctx: MockContext): string {
    const body = Buffer.from(
        `offline placeholder ${kind} for ${ctx.stack}/${ctx.name} ${digest(ctx.stack, ctx.name, ctx.inputs).slice(0, 16)}`,
    ).toString("base64");
    return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
}

/** Docker auto-names like Pulumi does: the logical name plus a suffix. */
/**
 * A certificate's end as the provider reports it (RFC 3339). When a real one was issued cannot be
 * known offline: taken as a fixed date, so that the plan does not change with the clock.
 */
const OFFLINE_ISSUED_AT = Date.parse("2026-01-01T00:00:00Z");
const validityEnd = (ctx: MockContext) =>
    new Date(OFFLINE_ISSUED_AT + Number(ctx.inputs.validityPeriodHours ?? 0) * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");

const autoName = (ctx: MockContext) =>
    typeof ctx.inputs.name === "string" ? ctx.inputs.name : `${ctx.name}-${digest(ctx.stack, ctx.name).slice(0, 7)}`;

/** Types whose outputs differ from their inputs; every other type echoes its inputs. */
const MODELS: Record<string, Model> = {
    "random:index/randomPassword:RandomPassword": randomString,
    "random:index/randomString:RandomString": randomString,
    "vault:appRole/authBackendRole:AuthBackendRole": (ctx) => ({ roleId: uuid(`${ctx.stack}:${ctx.name}:role-id`) }),
    // Vault generates a new secret-id on every create, so the seed includes the inputs (metadata carries the rotation).
    "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId": (ctx) => ({
        secretId: uuid(digest(ctx.stack, ctx.name, ctx.inputs)),
        accessor: uuid(digest(ctx.stack, ctx.name, ctx.inputs, "accessor")),
    }),
    "tls:index/privateKey:PrivateKey": (ctx) => ({
        privateKeyPem: placeholderPem("PRIVATE KEY", ctx),
        publicKeyPem: placeholderPem("PUBLIC KEY", ctx),
    }),
    "tls:index/selfSignedCert:SelfSignedCert": (ctx) => ({
        certPem: placeholderPem("CERTIFICATE", ctx),
        validityEndTime: validityEnd(ctx),
    }),
    "tls:index/certRequest:CertRequest": (ctx) => ({ certRequestPem: placeholderPem("CERTIFICATE REQUEST", ctx) }),
    "tls:index/locallySignedCert:LocallySignedCert": (ctx) => ({
        certPem: placeholderPem("CERTIFICATE", ctx),
        validityEndTime: validityEnd(ctx),
    }),
    "docker:index/remoteImage:RemoteImage": (ctx) => ({
        imageId: `sha256:${digest(ctx.inputs.name)}`,
        repoDigest: `${String(ctx.inputs.name).replace(/[:@].*$/, "")}@sha256:${digest("repo", ctx.inputs.name)}`,
    }),
    "aws:s3/bucket:Bucket": (ctx) => {
        const bucket =
            typeof ctx.inputs.bucket === "string"
                ? ctx.inputs.bucket
                : `${ctx.inputs.bucketPrefix ?? ctx.name}${digest(ctx.stack, ctx.name).slice(0, 12)}`;
        return { id: bucket, bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegion: "offline-region" };
    },
    "aws:kms/key:Key": (ctx) => {
        const keyId = uuid(`${ctx.stack}:${ctx.name}`);
        return { keyId, arn: `arn:aws:kms:offline-region:000000000000:key/${keyId}` };
    },
    "aws:iam/user:User": (ctx) => ({ arn: `arn:aws:iam::000000000000:user${ctx.inputs.path ?? "/"}${ctx.inputs.name}` }),
    "aws:iam/accessKey:AccessKey": (ctx) => ({ secret: deterministicString(digest(ctx.stack, ctx.name, "secret"), 40, ALNUM) }),
    // A Swarm service the program writes (lib/swarm/resource.ts): the engine's id and the spec's label.
    "pulumi-nodejs:dynamic/toolboxai:SwarmService": (ctx) => ({
        serviceId: mockId(ctx),
        appliedSha256: digest(ctx.stack, ctx.name, ctx.inputs),
        engineSha256: digest(ctx.stack, ctx.name, ctx.inputs, "engine"),
        observedSha256: digest(ctx.stack, ctx.name, ctx.inputs, "engine"),
    }),
    "docker:index/secret:Secret": (ctx) => ({ name: autoName(ctx) }),
    "docker:index/container:Container": (ctx) => ({ name: autoName(ctx) }),
    "docker:index/volume:Volume": (ctx) => ({ name: autoName(ctx) }),
    "docker:index/network:Network": (ctx) => ({ name: autoName(ctx) }),
    // The hosted project's dynamic resources (lib/supabase/resources.ts): what the Management API
    // would answer. Offline nothing is asked: the pooler host is a reserved .invalid name, keys are
    // placeholders derived from the key's name (a rotation changes them, as a new key would).
    "pulumi-nodejs:dynamic/toolboxai:SupabaseProject": (ctx) => {
        const ref = String(ctx.inputs.ref ?? deterministicString(digest(ctx.stack, ctx.name), 20, "abcdefghijklmnopqrstuvwxyz"));
        return { id: ref, ref, status: "ACTIVE_HEALTHY", databaseHost: `db.${ref}.supabase.co` };
    },
    "pulumi-nodejs:dynamic/toolboxai:SupabasePooler": (ctx) => ({
        host: "pooler.offline.invalid",
        port: 6543,
        user: `postgres.${String(ctx.inputs.ref)}`,
    }),
    "pulumi-nodejs:dynamic/toolboxai:SupabaseApiKey": (ctx) => ({
        keyId: uuid(digest(ctx.stack, ctx.name, ctx.inputs.name)),
        apiKey: `sb_${String(ctx.inputs.type)}_offline_${deterministicString(digest(ctx.stack, ctx.name, ctx.inputs.name), 32, ALNUM)}`,
    }),
    "pulumi-nodejs:dynamic/toolboxai:SupabaseLegacyApiKeys": (ctx) => ({
        jwtSecret: ctx.inputs.enabled ? `offline-legacy-jwt-secret-${deterministicString(digest(ctx.stack, ctx.name), 40, ALNUM)}` : null,
    }),
};

export function mockOutputs(ctx: MockContext): Record<string, unknown> {
    return MODELS[ctx.type]?.(ctx) ?? {};
}

export function mockId(ctx: MockContext): string {
    // Docker gives a container a new id at every create: a seed with new files (components/seed.ts)
    // gets a new id, which replaces the container whose label names it.
    if (ctx.type === "docker:index/container:Container")
        return `${ctx.name}-${digest(ctx.stack, ctx.type, ctx.name, ctx.inputs).slice(0, 8)}`;
    return `${ctx.name}-${digest(ctx.stack, ctx.type, ctx.name).slice(0, 8)}`;
}
