/**
 * The Swarm service writer's pure parts: the declaration's translation into the Engine API's
 * spec (lib/swarm/serviceSpec.ts), the registry an image is pulled from, and the provider's diff
 * (lib/swarm/provider.ts).
 */
import { describe, expect, it } from "vitest";
import { registryOf } from "../lib/swarm/engine";
import { swarmServiceProvider } from "../lib/swarm/provider";
import { engineServiceSpec, SPEC_LABEL, specSha256, type SwarmServiceSpec } from "../lib/swarm/serviceSpec";

/** The same value with every object's keys in reverse order. */
function reversedKeys<T>(value: T): T {
    if (Array.isArray(value)) return value.map(reversedKeys) as T;
    if (value && typeof value === "object")
        return Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
                .reverse()
                .map(([k, v]) => [k, reversedKeys(v)]),
        ) as T;
    return value;
}

const declared: SwarmServiceSpec = {
    name: "toolboxai-prod-backend",
    labels: [{ label: "com.toolboxai.stack", value: "prod" }],
    mode: { replicated: { replicas: 2 } },
    taskSpec: {
        containerSpec: {
            image: "ghcr.io/toolboxai/backend@sha256:" + "a".repeat(64),
            env: { A: "1" },
            hosts: [{ host: "host.docker.internal", ip: "host-gateway" }],
            healthcheck: { tests: ["CMD", "true"], interval: "30s", timeout: "5s", startPeriod: "1m", retries: 3 },
            stopGracePeriod: "1m30s",
            secrets: [{ fileName: "/run/secrets/x", fileUid: "10001", fileGid: "10001", fileMode: 0o400, secretId: "s1", secretName: "x" }],
        },
        resources: { limits: { memoryBytes: 512 * 1024 * 1024, nanoCpus: 1e9, pids: 512 } },
    },
    updateConfig: { parallelism: 1, delay: "10s", order: "start-first", failureAction: "rollback", monitor: "30s", maxFailureRatio: "0" },
    convergeConfig: { timeout: "10m" },
};

describe("the Engine API spec of a declared service", () => {
    it("carries the PIDs limit with the other limits, durations in nanoseconds, hosts as the provider sends them", () => {
        const spec = engineServiceSpec(declared);
        expect(spec.TaskTemplate.Resources.Limits).toEqual({ MemoryBytes: 512 * 1024 * 1024, NanoCPUs: 1e9, Pids: 512 });
        expect(spec.TaskTemplate.ContainerSpec).toMatchObject({
            StopGracePeriod: 90e9,
            Hosts: ["host-gateway host.docker.internal"],
            Healthcheck: { Test: ["CMD", "true"], Interval: 30e9, Timeout: 5e9, StartPeriod: 60e9, Retries: 3 },
            Secrets: [{ File: { Name: "/run/secrets/x", UID: "10001", GID: "10001", Mode: 0o400 }, SecretID: "s1", SecretName: "x" }],
        });
        expect(spec.UpdateConfig).toEqual({
            Parallelism: 1,
            Delay: 10e9,
            FailureAction: "rollback",
            Monitor: 30e9,
            MaxFailureRatio: 0,
            Order: "start-first",
        });
    });

    it("hashes the same spec the same whatever its key order, and ignores its own label", () => {
        const spec = engineServiceSpec(declared);
        const reordered = reversedKeys(spec);
        expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(spec));
        expect(specSha256(reordered)).toBe(specSha256(spec));
        expect(specSha256({ ...spec, Labels: { ...spec.Labels, [SPEC_LABEL]: "x" } })).toBe(specSha256(spec));
        expect(specSha256(engineServiceSpec({ ...declared, mode: { replicated: { replicas: 3 } } }))).not.toBe(specSha256(spec));
    });
});

describe("the registry an image is pulled from", () => {
    it("is the first component when it has a dot, a port or is localhost; Docker Hub otherwise", () => {
        expect(registryOf("ghcr.io/toolboxai/backend:1.0.0")).toBe("ghcr.io");
        expect(registryOf("registry.example.com:5000/app@sha256:" + "b".repeat(64))).toBe("registry.example.com:5000");
        expect(registryOf("localhost/app")).toBe("localhost");
        expect(registryOf("redis:7.4.2-alpine")).toBe("docker.io");
        expect(registryOf("prom/prometheus:v2.42.0")).toBe("docker.io");
    });
});

describe("the provider's diff", () => {
    const diff = swarmServiceProvider.diff!.bind(swarmServiceProvider);
    const olds = {
        ...declared,
        dockerHost: "unix:///run/docker.sock",
        appliedSha256: specSha256(engineServiceSpec(declared)),
        engineSha256: "e",
        observedSha256: "e",
    };
    const news = { ...declared, dockerHost: "unix:///run/docker.sock" };

    it("sees no change when nothing changed, key order included", async () => {
        expect((await diff("id", olds, reversedKeys(news))).changes).toBe(false);
    });

    it("updates on a declared change, replaces on a new name", async () => {
        expect(await diff("id", olds, { ...news, mode: { replicated: { replicas: 3 } } })).toMatchObject({ changes: true, replaces: [] });
        expect(await diff("id", olds, { ...news, name: "other" })).toMatchObject({ changes: true, replaces: ["name"] });
    });

    it("updates when refresh saw a change by hand, when a sent spec had not converged, or when the code translates the same declaration anew", async () => {
        expect((await diff("id", { ...olds, observedSha256: "changed by hand" }, news)).changes).toBe(true);
        expect((await diff("id", { ...olds, observedSha256: "not converged" }, news)).changes).toBe(true);
        expect((await diff("id", { ...olds, appliedSha256: "what older code sent" }, news)).changes).toBe(true);
    });

    it("updates when the registry login changed (Swarm keeps the one it was last given)", async () => {
        const login = { address: "ghcr.io", username: "bot", password: "p1" };
        expect((await diff("id", { ...olds, registryAuth: login }, { ...news, registryAuth: { ...login, password: "p2" } })).changes).toBe(
            true,
        );
    });
});
