/** The policy pack's policies, driven directly (the pack's own entry point would start its server). */
import type { ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import type { Evaluation } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import {
    bucketsProtected,
    containersHardened,
    imagesPinnedByDigest,
    internalNetworks,
    noSecretsInEnvironment,
    POLICIES,
    portsBoundToOneInterface,
    redisWithoutPublishedPorts,
} from "../policy/policies";
import { evaluateStack, SWARM } from "./harness";

function args(type: string, props: Record<string, unknown>, name = "r"): ResourceValidationArgs {
    return {
        type,
        props,
        name,
        urn: `urn:pulumi:test::toolboxai::${type}::${name}`,
        opts: {},
        stackTags: new Map(),
        getConfig: () => ({}),
    } as unknown as ResourceValidationArgs;
}

function violations(policy: ResourceValidationPolicy, a: ResourceValidationArgs): string[] {
    const out: string[] = [];
    const validate = policy.validateResource as (a: ResourceValidationArgs, report: (m: string) => void) => void;
    validate(a, (m) => out.push(m));
    return out;
}

const HARDENED = {
    user: "10001:10001",
    readOnly: true,
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    memory: 512,
    envs: ["SUPABASE_URL=https://x.supabase.co", "SUPABASE_SERVICE_KEY_FILE=/run/secrets/supabase_service_key"],
};

describe("policies on hand-built resources", () => {
    it("no-secrets-in-container-env: passes *_FILE variables, fails secrets by name or by value", () => {
        expect(violations(noSecretsInEnvironment, args("docker:index/container:Container", HARDENED))).toEqual([]);
        const leaky = {
            ...HARDENED,
            envs: [
                "SUPABASE_SERVICE_KEY=abc",
                "DATABASE_URL=postgresql://postgres:hunter2@db:5432/postgres",
                "X=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJlMTIz",
            ],
        };
        expect(violations(noSecretsInEnvironment, args("docker:index/container:Container", leaky))).toHaveLength(3);
        for (const name of ["AWS_SECRET_ACCESS_KEY", "ENCRYPTION_KEY", "DB_PASS", "GITHUB_TOKEN", "SUPABASE_SERVICE_KEY"]) {
            expect(
                violations(noSecretsInEnvironment, args("docker:index/container:Container", { envs: [`${name}=x`] })),
                name,
            ).toHaveLength(1);
        }
        const service = { taskSpec: { containerSpec: { env: { REDIS_PASSWORD: "x" } } } };
        expect(violations(noSecretsInEnvironment, args("pulumi-nodejs:dynamic/toolboxai:SwarmService", service))).toEqual([
            expect.stringMatching(/REDIS_PASSWORD looks like a secret/),
        ]);
    });

    it("images-pinned-by-digest: passes name@sha256, fails a tag", () => {
        expect(
            violations(imagesPinnedByDigest, args("docker:index/remoteImage:RemoteImage", { name: `redis@sha256:${"a".repeat(64)}` })),
        ).toEqual([]);
        expect(violations(imagesPinnedByDigest, args("docker:index/remoteImage:RemoteImage", { name: "redis:7.4.2-alpine" }))).toEqual([
            expect.stringMatching(/not pinned by digest/),
        ]);
    });

    it("internal-backend-and-cache-networks: fails a backend network that routes out", () => {
        expect(
            violations(internalNetworks, args("docker:index/network:Network", { name: "toolboxai-prod-cache", internal: true })),
        ).toEqual([]);
        expect(
            violations(internalNetworks, args("docker:index/network:Network", { name: "toolboxai-prod-frontend", internal: false })),
        ).toEqual([]);
        expect(
            violations(internalNetworks, args("docker:index/network:Network", { name: "toolboxai-prod-backend", internal: false })),
        ).toHaveLength(1);
    });

    it("redis-no-published-ports: fails a Redis container or service with a port", () => {
        const labels = [{ label: "com.toolboxai.service", value: "redis" }];
        expect(violations(redisWithoutPublishedPorts, args("docker:index/container:Container", { labels, ports: [] }))).toEqual([]);
        expect(
            violations(
                redisWithoutPublishedPorts,
                args("docker:index/container:Container", { labels, ports: [{ internal: 6380, external: 6380 }] }),
            ),
        ).toHaveLength(1);
        expect(
            violations(
                redisWithoutPublishedPorts,
                args("pulumi-nodejs:dynamic/toolboxai:SwarmService", { labels, endpointSpec: { ports: [{ targetPort: 6380 }] } }),
            ),
        ).toHaveLength(1);
    });

    it("published-ports-bound-to-one-interface: fails a container port on every interface, not one on an address", () => {
        const container = (ip?: string) => args("docker:index/container:Container", { ports: [{ internal: 8000, external: 8000, ip }] });
        expect(violations(portsBoundToOneInterface, container("127.0.0.1"))).toEqual([]);
        expect(violations(portsBoundToOneInterface, container("10.0.4.7"))).toEqual([]);
        for (const ip of ["0.0.0.0", "::", undefined])
            expect(violations(portsBoundToOneInterface, container(ip)), String(ip)).toEqual([
                expect.stringMatching(/publishes port 8000 on every interface: set backendHostAddress/),
            ]);
        // Swarm's ingress has no host address: services are left to the nodes' firewall.
        expect(
            violations(
                portsBoundToOneInterface,
                args("pulumi-nodejs:dynamic/toolboxai:SwarmService", { endpointSpec: { ports: [{ publishedPort: 8000 }] } }),
            ),
        ).toEqual([]);
    });

    it("containers-hardened: names each missing setting", () => {
        expect(violations(containersHardened, args("docker:index/container:Container", HARDENED))).toEqual([]);
        const weak = { user: "root", privileged: true, networkMode: "host" };
        const found = violations(containersHardened, args("docker:index/container:Container", weak, "weak"));
        for (const problem of [
            /runs as root/,
            /writable/,
            /capabilities/,
            /no-new-privileges/,
            /privileged/,
            /host network/,
            /memory limit/,
        ]) {
            expect(
                found.some((f) => problem.test(f)),
                String(problem),
            ).toBe(true);
        }
        expect(
            violations(
                containersHardened,
                args("pulumi-nodejs:dynamic/toolboxai:SwarmService", { taskSpec: { containerSpec: { user: "0" } } }),
            ),
        ).toHaveLength(4);
    });

    it("s3-bucket-encrypted-private-tls-only: checks each bucket with its configuration resources", () => {
        const r = (type: string, props: Record<string, unknown>) => ({ type, props, urn: `urn:${type}`, name: type });
        const bucket = r("aws:s3/bucket:Bucket", { bucket: "backups" });
        const good = [
            bucket,
            r("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { bucket: "backups" }),
            r("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {
                bucket: "backups",
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            }),
            r("aws:s3/bucketPolicy:BucketPolicy", {
                bucket: "backups",
                policy: JSON.stringify({ Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }),
            }),
        ];
        const run = (resources: unknown[]) => {
            const out: string[] = [];
            (bucketsProtected.validateStack as (a: StackValidationArgs, report: (m: string) => void) => void)(
                { resources } as unknown as StackValidationArgs,
                (m) => out.push(m),
            );
            return out;
        };
        expect(run(good)).toEqual([]);
        expect(run([bucket])).toEqual([
            expect.stringMatching(/no default encryption/),
            expect.stringMatching(/does not block all public access/),
            expect.stringMatching(/denying non-TLS/),
        ]);
    });
});

/** Runs every resource policy on the program's own resources, as `pulumi preview --policy-pack policy` would. */
async function programViolations(ev: Evaluation): Promise<string[]> {
    const out: string[] = [];
    for (const r of ev.resources) {
        for (const policy of POLICIES) {
            if (!("validateResource" in policy)) continue;
            for (const v of violations(policy, args(r.type, reveal(r.inputs) as Record<string, unknown>, r.name)))
                out.push(`${policy.name}: ${v}`);
        }
    }
    return out;
}

describe("the program under its own policy pack", () => {
    it.each([
        ["dev", {}],
        ["prod", {}],
        ["dev", SWARM],
    ] as const)(
        "%s %j: only the unpinned images are flagged (prod must set digests before a mandatory preview)",
        async (stack, overrides) => {
            const found = await programViolations(await evaluateStack(stack, { overrides }));
            expect(found.length).toBeGreaterThan(0);
            for (const v of found) expect(v).toMatch(/^images-pinned-by-digest: image .* is not pinned by digest/);
        },
    );

    it("passes entirely once the images are pinned by digest", async () => {
        const digest = `@sha256:${"0".repeat(64)}`;
        const ev = await evaluateStack("prod", {
            overrides: {
                backendImage: `ghcr.io/toolboxai/backend${digest}`,
                workerImage: `ghcr.io/toolboxai/worker${digest}`,
                backupImage: `ghcr.io/toolboxai/backup${digest}`,
                redisImage: `redis${digest}`,
            },
        });
        expect(await programViolations(ev)).toEqual([]);
    });
});
