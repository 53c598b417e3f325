/**
 * What the components promise, as policies: kept apart from index.ts, whose PolicyPack
 * constructor starts the pack's server, so that tests can drive each policy directly.
 * Advisory by default; prod runs them mandatory (policy/config.prod.json).
 */
import type { PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

const CONTAINER = "docker:index/container:Container";
const SERVICE = "pulumi-nodejs:dynamic/toolboxai:SwarmService";
const NETWORK = "docker:index/network:Network";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const BUCKET = "aws:s3/bucket:Bucket";

type Props = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Variable names that say "I hold a secret" (a *_FILE variable names a file instead). */
const SECRET_NAME = /(SECRET|_KEY$|^KEY$|PASS(WORD|WD)?$|TOKEN$|CREDENTIALS?$)/i;
/** Values that carry a secret whatever the name: a URL with a password, a JWT, a PEM private key. */
const SECRET_VALUE = [
    /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i,
    /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/,
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

export function secretEnvProblems(env: Record<string, string>): string[] {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(env)) {
        if (SECRET_NAME.test(key) && !key.endsWith("_FILE"))
            problems.push(`${key} looks like a secret by its name: pass it as a file and name the file in ${key}_FILE`);
        else if (SECRET_VALUE.some((re) => re.test(value ?? "")))
            problems.push(`${key} holds a credential in its value: pass it as a file`);
    }
    return problems;
}

function envOf(r: PolicyResource | { type: string; props: Props }): Record<string, string> {
    if (r.type === CONTAINER) {
        return Object.fromEntries(
            asArray(r.props.envs)
                .map((e) => String(e))
                .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
        );
    }
    const spec = ((r.props.taskSpec as Props | undefined)?.containerSpec as Props | undefined) ?? {};
    return Object.fromEntries(Object.entries((spec.env as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]));
}

export const noSecretsInEnvironment: ResourceValidationPolicy = {
    name: "no-secrets-in-container-env",
    description: "Containers and Swarm services receive secrets as files under /run/secrets, never as environment variables.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER && args.type !== SERVICE) return;
        for (const problem of secretEnvProblems(envOf(args))) report(problem);
    },
};

export const imagesPinnedByDigest: ResourceValidationPolicy = {
    name: "images-pinned-by-digest",
    description: "Images are pulled by digest (name@sha256:...), so that a tag moved upstream never changes what runs.",
    validateResource: (args, report) => {
        if (args.type !== REMOTE_IMAGE) return;
        const name = String(args.props.name ?? "");
        if (!/@sha256:[a-f0-9]{64}$/.test(name))
            report(`image ${name} is not pinned by digest: use ${name.replace(/@.*$/, "")}@sha256:<digest>`);
    },
};

export const internalNetworks: ResourceValidationPolicy = {
    name: "internal-backend-and-cache-networks",
    description: "The backend and cache networks are internal: no route out of the host.",
    validateResource: (args, report) => {
        if (args.type !== NETWORK) return;
        const name = String(args.props.name ?? "");
        if (/-(backend|cache)$/.test(name) && args.props.internal !== true) report(`network ${name} must be internal`);
    },
};

const isRedis = (props: Props): boolean =>
    asArray(props.labels).some((l) => (l as Props).label === "com.toolboxai.service" && (l as Props).value === "redis");

export const redisWithoutPublishedPorts: ResourceValidationPolicy = {
    name: "redis-no-published-ports",
    description: "Redis is reached on the internal networks only: it publishes no port.",
    validateResource: (args, report) => {
        if (args.type === CONTAINER && isRedis(args.props) && asArray(args.props.ports).length > 0)
            report("the Redis container publishes a port");
        if (args.type === SERVICE && isRedis(args.props) && asArray((args.props.endpointSpec as Props | undefined)?.ports).length > 0)
            report("the Redis service publishes a port");
    },
};

/** Addresses that publish a port on every interface of the host. */
const EVERY_INTERFACE = new Set(["", "0.0.0.0", "::", "[::]"]);

export const portsBoundToOneInterface: ResourceValidationPolicy = {
    name: "published-ports-bound-to-one-interface",
    description:
        "A container's published port binds to one host address (backendHostAddress), not every interface (CIS Docker 5.13). Swarm services publish through the ingress on every node and are not checked.",
    validateResource: (args, report) => {
        if (args.type !== CONTAINER) return;
        for (const p of asArray(args.props.ports) as Props[])
            if (EVERY_INTERFACE.has(String(p.ip ?? "")))
                report(
                    `${args.name} publishes port ${String(p.external ?? p.internal)} on every interface: set backendHostAddress to the address its proxy or load balancer reaches (127.0.0.1 for a proxy on the same host)`,
                );
    },
};

export function hardeningProblems(type: string, props: Props): string[] {
    const problems: string[] = [];
    const nonRoot = (user: unknown) => typeof user === "string" && user !== "" && !/^(0|root)(:|$)/.test(user);
    if (type === CONTAINER) {
        if (!nonRoot(props.user)) problems.push("runs as root: set a non-root user");
        // A seed container (components/seed.ts) is never started: it only receives files into volumes.
        if (props.readOnly !== true && props.start !== false) problems.push("root filesystem is writable: set readOnly");
        if (!asArray((props.capabilities as Props | undefined)?.drops).includes("ALL")) problems.push("capabilities are not all dropped");
        if (!asArray(props.securityOpts).includes("no-new-privileges:true")) problems.push("no-new-privileges is not set");
        if (props.privileged === true) problems.push("runs privileged");
        if (props.networkMode === "host") problems.push("uses the host network");
        if (!(Number(props.memory) > 0) && props.start !== false) problems.push("has no memory limit");
    }
    if (type === SERVICE) {
        const task = (props.taskSpec as Props | undefined) ?? {};
        const spec = (task.containerSpec as Props | undefined) ?? {};
        if (!nonRoot(spec.user)) problems.push("runs as root: set a non-root user");
        if (spec.readOnly !== true) problems.push("root filesystem is writable: set readOnly");
        if (!asArray(spec.capDrops).includes("ALL")) problems.push("capabilities are not all dropped");
        if (!(Number(((task.resources as Props | undefined)?.limits as Props | undefined)?.memoryBytes) > 0))
            problems.push("has no memory limit");
    }
    return problems;
}

export const containersHardened: ResourceValidationPolicy = {
    name: "containers-hardened",
    description: "Every container and Swarm service is non-root, read-only, without capabilities or privileges, and memory-limited.",
    validateResource: (args, report) => {
        for (const problem of hardeningProblems(args.type, args.props)) report(`${args.name}: ${problem}`);
    },
};

/** Buckets are checked with their separate configuration resources, which only the whole stack shows. */
export const bucketsProtected: StackValidationPolicy = {
    name: "s3-bucket-encrypted-private-tls-only",
    description: "Every S3 bucket has default encryption, all four public-access blocks, and a policy that denies non-TLS requests.",
    validateStack: (args, report: ReportViolation) => {
        const of = (type: string) => args.resources.filter((r) => r.type === type);
        for (const bucket of of(BUCKET)) {
            const id = bucket.props.bucket ?? bucket.props.id;
            const forBucket = (type: string) => of(type).filter((r) => r.props.bucket === id);
            if (forBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").length === 0)
                report(`bucket ${id} has no default encryption`, bucket.urn);
            const block = forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]?.props;
            if (
                !block ||
                !["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((flag) => block[flag] === true)
            ) {
                report(`bucket ${id} does not block all public access`, bucket.urn);
            }
            const policy = forBucket("aws:s3/bucketPolicy:BucketPolicy")[0]?.props.policy;
            const text = typeof policy === "string" ? policy : JSON.stringify(policy ?? "");
            if (!/"aws:SecureTransport"\s*:\s*"?false"?/.test(text) || !/"Deny"/.test(text))
                report(`bucket ${id} has no policy denying non-TLS requests`, bucket.urn);
        }
    },
};

export const POLICIES = [
    noSecretsInEnvironment,
    imagesPinnedByDigest,
    internalNetworks,
    redisWithoutPublishedPorts,
    portsBoundToOneInterface,
    containersHardened,
    bucketsProtected,
];
