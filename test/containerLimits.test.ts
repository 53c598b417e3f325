/**
 * The backend's port from its spec (health check, internal URL), its host binding (CIS Docker
 * 5.13) and a PIDs limit on every container and Swarm service (CIS Docker 5.28), under mocks.
 */
import { describe, expect, it } from "vitest";
import { BACKEND_PORT, DEFAULT_PIDS_LIMIT } from "../lib/config";
import { pidsLimitCommand } from "../lib/docker";
import type { Evaluation } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import { REDIS_PIDS_LIMIT } from "../lib/redis";
import { backendInternalUrl, defaultHealthcheck } from "../lib/services";
import { byName, evaluateStack, ofType, runningContainers, STACKS, SWARM } from "./harness";

const commands = (ev: Evaluation) => ofType(ev, "command:local:Command");
/** The PIDs-limit command of a container or service resource: `<component>-pids` or `<container>-pids`. */
const pidsCommandFor = (ev: Evaluation, resource: string) =>
    byName(ev, resource === "redis-server" ? "redis-pids" : `${resource.replace(/-service$/, "")}-pids`);

describe("the backend's port comes from its spec", () => {
    const on9000 = JSON.stringify({ api: { role: "backend", ports: [{ published: 8080, target: 9000 }] }, worker: { role: "worker" } });

    it("a backend listening on 9000 gets its health check and internal URL on 9000", async () => {
        const ev = await evaluateStack("dev", { overrides: { services: on9000 } });
        expect((byName(ev, "app-api-0").inputs.healthcheck as { tests: string[] }).tests).toEqual([
            "CMD",
            "curl",
            "-f",
            "http://localhost:9000/health",
        ]);
        expect(ev.outputs.backendInternalUrl).toBe("http://api:9000");
        expect(byName(ev, "app-api-0").inputs.ports).toEqual([{ internal: 9000, external: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
    });

    it("the default backend keeps the guide's 8000", async () => {
        const ev = await evaluateStack("dev");
        expect(ev.outputs.backendInternalUrl).toBe(`http://backend:${BACKEND_PORT}`);
        expect(defaultHealthcheck("backend")).toEqual(["CMD", "curl", "-f", "http://localhost:8000/health"]);
        // A backend without published ports still listens on the guide's port.
        expect(backendInternalUrl({ name: "api", ports: [] })).toBe("http://api:8000");
    });
});

describe.each(STACKS)("PIDs limit on every container (%s)", (stack) => {
    it("gives each container a docker update --pids-limit with its role's default, Redis its own", async () => {
        const ev = await evaluateStack(stack);
        const containers = runningContainers(ev);
        expect(containers.length).toBeGreaterThan(0);
        const limits: Record<string, number> = {
            "app-backend-0": DEFAULT_PIDS_LIMIT.backend,
            "app-worker-0": DEFAULT_PIDS_LIMIT.worker,
            "app-backup-0": DEFAULT_PIDS_LIMIT.backup,
            "redis-server": REDIS_PIDS_LIMIT,
        };
        for (const c of containers) {
            const command = pidsCommandFor(ev, c.name);
            expect(command.type).toBe("command:local:Command");
            expect(reveal(command.inputs.create), c.name).toBe(pidsLimitCommand(String(c.outputs.name), limits[c.name]));
            expect(reveal(command.inputs.environment), c.name).toEqual({
                DOCKER_HOST: stack === "prod" ? "ssh://deploy@docker.toolboxai.internal" : "unix:///var/run/docker.sock",
            });
            expect(command.parentUrn, c.name).toBe(c.parentUrn);
        }
        expect(commands(ev).filter((c) => c.name.endsWith("-pids"))).toHaveLength(containers.length);
    });

    it("takes a service's own pidsLimit from the services spec", async () => {
        const services = JSON.stringify({
            backend: { role: "backend", ports: [{ published: 8000, target: 8000 }], pidsLimit: 1024 },
            worker: { role: "worker", pidsLimit: 64 },
        });
        const ev = await evaluateStack(stack, { overrides: { services } });
        expect(String(reveal(byName(ev, "app-backend-0-pids").inputs.create))).toMatch(/^docker update --pids-limit 1024 /);
        expect(String(reveal(byName(ev, "app-worker-0-pids").inputs.create))).toMatch(/^docker update --pids-limit 64 /);
    });
});

describe("PIDs limit on every Swarm service, and the host binding", () => {
    it("puts each service's limit in its own task spec, with no command after it", async () => {
        const ev = await evaluateStack("dev", {
            overrides: {
                ...SWARM,
                services: JSON.stringify({
                    backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
                    worker: { role: "worker", pidsLimit: 300 },
                }),
            },
        });
        const services = ofType(ev, "pulumi-nodejs:dynamic/toolboxai:SwarmService");
        expect(services.map((s) => s.name).sort()).toEqual(["app-backend-service", "app-worker-service", "redis-server"]);
        const expected: Record<string, number> = {
            "app-backend-service": DEFAULT_PIDS_LIMIT.backend,
            "app-worker-service": 300,
            "redis-server": REDIS_PIDS_LIMIT,
        };
        for (const s of services) {
            // In the service's own spec, sent with every update (lib/swarm/engine.ts): never a second command that rolls it again.
            const limits = (reveal(s.inputs.taskSpec) as { resources: { limits: { pids: number } } }).resources.limits;
            expect(limits.pids, s.name).toBe(expected[s.name]);
            expect(() => byName(ev, s.name.replace(/-(service|server)$/, "-pids")), s.name).toThrow();
        }
        // Nor any other command that would change a service after it is written.
        const commands = ofType(ev, "command:local:Command").map((c) => String(reveal(c.inputs.create)));
        expect(commands.filter((c) => /docker service update|--limit-pids/.test(c))).toEqual([]);
    });

    it("binds the backend's published port to backendHostAddress", async () => {
        const ev = await evaluateStack("dev", { overrides: { backendHostAddress: "127.0.0.1" } });
        expect(byName(ev, "app-backend-0").inputs.ports).toEqual([{ internal: 8000, external: 8000, ip: "127.0.0.1", protocol: "tcp" }]);
    });

    it("builds only commands that need no quoting", () => {
        expect(pidsLimitCommand("app-backend-0-1a2b3c", 512)).toBe("docker update --pids-limit 512 app-backend-0-1a2b3c");
        expect(() => pidsLimitCommand("x; rm -rf /", 1)).toThrow(/letters, digits/);
        expect(() => pidsLimitCommand("x", 0)).toThrow(/positive integer/);
    });
});
