/**
 * Swarm mode's runtime rules, from the program's own evaluation: each role's stop grace period,
 * labelled configs, encrypted overlays per network, the endpoint mode and Redis's node label as
 * settings. test/swarmNodes.test.ts runs the same plan on a Swarm of several real engines.
 */
import { describe, expect, it } from "vitest";
import { KILL_AFTER_MS } from "../backup-job/stopProcess";
import { ConfigError } from "../lib/config";
import { NETWORKS, STOP_GRACE_PERIOD, SWARM_CONVERGE } from "../lib/docker";
import { goShortDuration, parseGoDuration } from "../lib/providerForms";
import { reveal } from "../lib/offline/values";
import { byName, evaluateStack, ofType, SWARM } from "./harness";

const SERVICE = "pulumi-nodejs:dynamic/toolboxai:SwarmService";
type Task = { containerSpec: { stopGracePeriod?: string; labels?: unknown }; placement?: { constraints: string[] } };
const task = (r: { inputs: Record<string, unknown> }) => reveal(r.inputs.taskSpec) as Task;
const labelsOf = (r: { inputs: Record<string, unknown> }) =>
    Object.fromEntries(((reveal(r.inputs.labels) as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));

describe("prod's plan in Swarm mode", () => {
    const prod = (overrides: Record<string, string> = {}) => evaluateStack("prod", { overrides: { ...SWARM, ...overrides } });

    it("gives every service the stop grace period of its role, never the provider's 0 s", async () => {
        const ev = await prod();
        const services = ofType(ev, SERVICE);
        expect(services.length).toBeGreaterThanOrEqual(4);
        for (const s of services) {
            const role = labelsOf(s)["com.toolboxai.role"] ?? "redis";
            const grace = task(s).containerSpec.stopGracePeriod;
            expect(grace, s.name).toBe(STOP_GRACE_PERIOD[role as keyof typeof STOP_GRACE_PERIOD]);
            // Read back by the provider with shortDur: the same text, so no perpetual diff.
            expect(goShortDuration(parseGoDuration(grace!)), s.name).toBe(grace);
            expect(Number(parseGoDuration(grace!)), s.name).toBeGreaterThanOrEqual(10e9);
        }
        const seconds = (role: keyof typeof STOP_GRACE_PERIOD) => Number(parseGoDuration(STOP_GRACE_PERIOD[role])) / 1e9;
        // A Celery task outlasts a request; the backup job's clean abort needs its children's stop time and more.
        expect(seconds("worker")).toBeGreaterThan(seconds("backend"));
        expect(seconds("backup") * 1000).toBeGreaterThan(2 * KILL_AFTER_MS);
    });

    it("makes the provider wait for every create and update to complete before the PIDs command runs", async () => {
        const ev = await prod();
        for (const s of ofType(ev, SERVICE)) {
            expect(s.inputs.convergeConfig, s.name).toEqual(SWARM_CONVERGE);
        }
        expect(Number(parseGoDuration(SWARM_CONVERGE.timeout))).toBeGreaterThan(2 * Number(parseGoDuration(STOP_GRACE_PERIOD.worker)));
    });

    it("labels configs as it labels secrets (stack, owner), so filters by label find both", async () => {
        const ev = await prod();
        const configs = ofType(ev, "docker:index/serviceConfig:ServiceConfig");
        expect(configs.length).toBeGreaterThan(0);
        for (const c of configs) {
            expect(labelsOf(c)["com.toolboxai.stack"], c.name).toBe("prod");
            expect(labelsOf(c)["com.toolboxai.service"], c.name).toBeTruthy();
        }
        for (const s of ofType(ev, "docker:index/secret:Secret")) expect(labelsOf(s)["com.toolboxai.stack"], s.name).toBe("prod");
    });

    it("encrypts the overlays that carry plain HTTP (frontend, backend), not cache (Redis is TLS only)", async () => {
        const ev = await prod();
        const networks = ofType(ev, "docker:index/network:Network");
        expect(networks.map((n) => n.inputs.driver)).toEqual(["overlay", "overlay", "overlay"]);
        const encrypted = networks.filter((n) => (n.inputs.options as Record<string, string> | undefined)?.encrypted === "true");
        expect(encrypted.map((n) => n.name).sort()).toEqual(["networks-backend", "networks-frontend"]);
        expect(NETWORKS.cache.encrypted).toBe(false);
        // Single host: bridges take no such option.
        const single = await evaluateStack("prod");
        for (const n of ofType(single, "docker:index/network:Network")) expect(n.inputs.options, n.name).toBeUndefined();
    });

    it("publishes through the routing mesh with vip (the default), in host mode with dnsrr", async () => {
        const vip = byName(await prod(), "app-backend-service").inputs.endpointSpec as { mode: string; ports: { publishMode: string }[] };
        expect(vip.mode).toBe("vip");
        expect(vip.ports.map((p) => p.publishMode)).toEqual(["ingress"]);
        const ev = await prod({ swarmEndpointMode: "dnsrr" });
        const dnsrr = byName(ev, "app-backend-service").inputs.endpointSpec as { mode: string; ports: { publishMode: string }[] };
        expect(dnsrr.mode).toBe("dnsrr");
        expect(dnsrr.ports.map((p) => p.publishMode)).toEqual(["host"]);
        for (const s of ofType(ev, SERVICE)) expect((s.inputs.endpointSpec as { mode: string }).mode, s.name).toBe("dnsrr");
    });

    it("pins Redis to the node label the config names", async () => {
        const ev = await prod({ redisNodeLabel: "data.redis" });
        expect(task(byName(ev, "redis-server")).placement?.constraints).toEqual(["node.labels.data.redis==true"]);
    });

    it.each([
        ["swarmEndpointMode", "ipvs", "must be one of vip, dnsrr"],
        ["redisNodeLabel", "Redis Node", "must be a node label key"],
    ])("refuses %s = %s, naming the setting and what is allowed", async (key, value, allowed) => {
        const err = await evaluateStack("prod", { overrides: { ...SWARM, [key]: value }, fresh: true }).catch((e: unknown) => e);
        // The evaluation loads the program's own copy of the module: compare by name.
        expect((err as Error).name).toBe(ConfigError.name);
        expect((err as Error).message).toContain(`toolboxai:${key} = "${value}": ${allowed}`);
    });
});
