/**
 * dev's plan on a real Docker Engine (test/support/docker.ts): the planned networks, volumes and
 * containers from the program's own offline evaluation, replayed the way the Docker provider
 * does it (test/support/dockerProvider.ts), with stand-in images built from Debian packages
 * (test/support/standinImages.ts).
 *
 * Substituted, and nothing else (see docs/docker-runtime.md):
 * - images: the mock's image ids become the local stand-in tagged as the planned image name;
 * - TLS: the offline plan has placeholder PEMs; the Redis CA, server certificate and key are made
 *   with openssl to RedisServer's specification (test/support/redis.ts) and put in their place;
 * - the backend's published port 8000 becomes a free host port (machines run several engines);
 * - health check intervals become 2 s (the engine waits a whole interval before the first check:
 *   30 s, and 5 min for the backup job); commands, timeouts and retries are the planned ones;
 * - a replacement container that Pulumi would auto-name anew gets a `-next` suffix;
 * - Swarm: the same images and TLS material; secrets, configs and networks get the engine's ids.
 */
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import { aclApplyScript } from "../lib/redis";
import { SEED_LABEL } from "../components/seed";
import { byName, evaluateStack, ofType, runningContainers, SWARM, TEST_CLOCK } from "./harness";
import { startEngine, waitFor, type Engine } from "./support/docker";
import { createContainer, createNetwork, createVolume, deleteContainer, type Substitutions } from "./support/dockerProvider";
import { REDIS_NODE_LABEL } from "../components/RedisServer";
import { freePort } from "./support/net";
import {
    deploySwarmPlan,
    execIn,
    isPlaceholder,
    runningTasks,
    SERVICE,
    taskOf,
    tlsFiles,
    withServiceInterval,
} from "./support/swarmReplay";
import { loadStandinImages, type Role } from "./support/standinImages";

const CONTAINER = "docker:index/container:Container";
const HEALTH_INTERVAL = "2s";
/** Whether the worker's Redis ACL allows Celery's result backend (its PUBLISH): h12b's change. */

interface Deployed {
    /** Planned container name to the real container id. */
    containers: Record<string, string>;
    subs: Substitutions;
}

let engine: Engine;
let ev: Evaluation;
let deployed: Deployed;
let backendPort: number;

/** The stand-in role for each planned image name, from the containers that use it. */
function imageRoles(e: Evaluation): Record<string, Role> {
    const roles: Record<string, Role> = {};
    for (const image of ofType(e, "docker:index/remoteImage:RemoteImage")) {
        const user = runningContainers(e).find((c) => c.inputs.image === image.outputs.imageId);
        if (!user) continue;
        const labels = Object.fromEntries(
            (reveal(user.inputs.labels) as { label: string; value: string }[]).map((l) => [l.label, l.value]),
        );
        const role = labels["com.toolboxai.service"] === "redis" ? "redis" : labels["com.toolboxai.role"];
        if (!["redis", "backend", "worker", "backup"].includes(role))
            throw new Error(`no stand-in image for ${image.inputs.name} (role ${role})`);
        roles[String(image.inputs.name)] = role as Role;
    }
    return roles;
}

function withShortInterval(r: RecordedResource): RecordedResource {
    const health = r.inputs.healthcheck as Record<string, unknown> | undefined;
    return health ? { ...r, inputs: { ...r.inputs, healthcheck: { ...health, interval: HEALTH_INTERVAL } } } : r;
}

/** Every upload whose planned content is an offline placeholder must be substituted: say which. */
function placeholderFiles(e: Evaluation): string[] {
    return ofType(e, CONTAINER).flatMap((c) =>
        ((reveal(c.inputs.uploads) as { file: string; content: string }[] | undefined) ?? [])
            .filter((u) => isPlaceholder(u.content))
            .map((u) => u.file),
    );
}

/** Seeds first (their ids go into the hardened containers' labels), then Redis, then the rest. */
function creationOrder(e: Evaluation): RecordedResource[] {
    const all = ofType(e, CONTAINER);
    const rank = (c: RecordedResource) => (c.inputs.start === false ? 0 : c.name.startsWith("redis") ? 1 : 2);
    return [...all].sort((a, b) => rank(a) - rank(b));
}

async function deploy(e: Evaluation, subs: Substitutions): Promise<Deployed> {
    for (const n of ofType(e, "docker:index/network:Network")) await createNetwork(engine.docker, n);
    for (const v of ofType(e, "docker:index/volume:Volume")) await createVolume(engine.docker, v);
    const containers: Record<string, string> = {};
    const ids: Record<string, string> = { ...(subs.ids ?? {}) };
    for (const c of creationOrder(e)) {
        // A hardened container's label names its seed's planned id: the real one takes its place.
        const seedId = containers[`${c.name}-seed`];
        if (seedId) ids[plannedSeedId(c)] = seedId;
        containers[c.name] = (await createContainer(engine.docker, withShortInterval(c), { ...subs, ids })).id;
    }
    for (const c of runningContainers(e)) await applyPidsLimit(e, c.name, String(reveal(c.outputs.name)));
    return { containers, subs: { ...subs, ids } };
}

function plannedSeedId(c: RecordedResource): string {
    return (reveal(c.inputs.labels) as { label: string; value: string }[]).find((l) => l.label === SEED_LABEL)!.value;
}

/**
 * @pulumi/docker has no PIDs limit: the program runs `docker update --pids-limit` after the
 * container (components/pidsLimit.ts). Replayed as planned, against this engine, for `target`.
 */
async function applyPidsLimit(e: Evaluation, container: string, target: string): Promise<void> {
    const name = container === "redis-server" ? "redis-pids" : `${container}-pids`;
    const planned = String(reveal(byName(e, name).inputs.create));
    const args = planned.split(" ");
    if (args[0] !== "docker") throw new Error(`${name}: expected a docker command, planned ${planned}`);
    await engine.cli([...args.slice(1, -1), target]);
}

const plannedPidsLimit = (e: Evaluation, container: string) =>
    Number(
        /--pids-limit (\d+)/.exec(
            String(reveal(byName(e, container === "redis-server" ? "redis-pids" : `${container}-pids`).inputs.create)),
        )?.[1],
    );

const inspect = (id: string) => engine.docker.getContainer(id).inspect();

const exec = (id: string, cmd: string[], user?: string) => execIn(engine.docker, id, cmd, user);

async function healthy(name: string, id: string, timeoutMs = 120_000): Promise<Docker.ContainerInspectInfo> {
    return waitFor(
        async () => {
            const info = await inspect(id);
            if (!info.State.Running) throw new Error(`${name} is not running (exit ${info.State.ExitCode}): ${await logs(id)}`);
            return info.State.Health?.Status === "healthy" ? info : undefined;
        },
        timeoutMs,
        async () => {
            const info = await inspect(id);
            return `${name} did not become healthy: ${JSON.stringify(info.State.Health?.Log?.slice(-2))}\nlogs: ${await logs(id)}`;
        },
    );
}

async function logs(id: string): Promise<string> {
    const out = (await engine.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 30 })) as unknown as Buffer;
    // Without a TTY the log carries 8-byte frame headers: keep printable text and newlines.
    return [...out.toString()]
        .filter((ch) => ch >= " " || ch === "\n")
        .join("")
        .slice(-2000);
}

async function httpGet(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${backendPort}${path}`, { signal: AbortSignal.timeout(45_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
    const started = Date.now();
    engine = await startEngine();
    ev = await evaluateStack("dev");
    await loadStandinImages(engine, imageRoles(ev));
    const files = await tlsFiles();
    const placeholders = placeholderFiles(ev);
    // The check must see the placeholders it is about: CA and server certificate, key, and the apps' CA copies.
    if (placeholders.length < 4) throw new Error(`expected the plan's TLS placeholders, found ${placeholders.join(", ") || "none"}`);
    const missing = placeholders.filter((f) => !(f in files));
    if (missing.length) throw new Error(`offline placeholders with no real substitute: ${missing.join(", ")}`);
    backendPort = await freePort();
    const images = Object.fromEntries(
        ofType(ev, "docker:index/remoteImage:RemoteImage").map((i) => [String(i.outputs.imageId), String(i.inputs.name)]),
    );
    deployed = await deploy(ev, { images, files, ports: { 8000: backendPort } });
    console.log(`engine, images and dev's plan up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
    await engine?.stop();
}, 60_000);

describe("dev's plan on a real Docker engine", () => {
    it("starts every container, each healthy by its own health check; seeds are created and never run", async () => {
        for (const c of runningContainers(ev)) {
            const info = await healthy(c.name, deployed.containers[c.name]);
            // The planned test, as the engine runs it.
            expect(info.Config.Healthcheck?.Test, c.name).toEqual((c.inputs.healthcheck as { tests: string[] }).tests);
            expect(info.Config.Labels[SEED_LABEL], c.name).toBe(deployed.containers[`${c.name}-seed`]);
        }
        for (const seed of ofType(ev, CONTAINER).filter((c) => c.inputs.start === false)) {
            const info = await inspect(deployed.containers[seed.name]);
            expect(info.State.Status, seed.name).toBe("created");
        }
    });

    it("keeps the root filesystem read-only, /tmp writable, and the planned limits", async () => {
        for (const c of runningContainers(ev)) {
            const id = deployed.containers[c.name];
            const info = await inspect(id);
            expect(info.HostConfig, c.name).toMatchObject({
                ReadonlyRootfs: true,
                CapDrop: ["ALL"],
                SecurityOpt: ["no-new-privileges:true"],
                Privileged: false,
                Memory: Number(c.inputs.memory) * 1024 * 1024,
            });
            expect(info.HostConfig.NanoCpus, c.name).toBe(Number.parseFloat(String(c.inputs.cpus)) * 1e9);
            const write = await exec(id, ["sh", "-c", "touch /root-write-test"]);
            expect(write.code, c.name).not.toBe(0);
            expect(write.output, c.name).toMatch(/Read-only file system/);
            expect((await exec(id, ["sh", "-c", "touch /tmp/write-test && rm /tmp/write-test"])).code, c.name).toBe(0);
        }
    });

    it("gives secret files to the service's user only: 0400, owned by it, unreadable to any other uid, root included", async () => {
        for (const c of runningContainers(ev)) {
            const id = deployed.containers[c.name];
            const seed = byName(ev, `${c.name}-seed`);
            const secrets = (reveal(seed.inputs.uploads) as { file: string; content: string; permissions: string }[]).filter(
                (u) => u.permissions === "0400",
            );
            expect(secrets.length, c.name).toBeGreaterThan(0);
            const uid = String(c.inputs.user).split(":")[0];
            for (const s of secrets) {
                expect((await exec(id, ["stat", "-c", "%a %u %g", s.file])).output.trim(), s.file).toBe(`400 ${uid} ${uid}`);
                const own = await exec(id, ["cat", s.file]);
                expect(own.code, `${c.name} ${s.file}`).toBe(0);
                expect(own.output, `${c.name} ${s.file}`).toBe(deployed.subs.files?.[s.file] ?? s.content);
                for (const other of ["0:0", "10002:10002"]) {
                    const denied = await exec(id, ["cat", s.file], other);
                    expect(denied.code, `${c.name} ${s.file} as ${other}`).not.toBe(0);
                    expect(denied.output).toMatch(/Permission denied/);
                }
            }
            // Nothing secret in the environment the engine holds.
            const env = (await inspect(id)).Config.Env.join("\n");
            for (const s of secrets) expect(env.includes(s.content.trim()), `${c.name} env`).toBe(false);
        }
    });

    it("reaches Redis over TLS by its alias as the backend's ACL user, through the published port", async () => {
        const res = await httpGet("/health");
        expect(res).toEqual({ status: 200, body: { status: "ok" } });
    });

    it("round-trips a Celery task between the backend and the worker containers", async () => {
        for (const name of ["app-backend-0", "app-worker-0"]) await healthy(name, deployed.containers[name]);
        const res = await httpGet("/enqueue?x=2&y=3");
        expect(res.status, `${JSON.stringify(res.body)}\nworker: ${await logs(deployed.containers["app-worker-0"])}`).toBe(200);
        expect(res.body.sum).toBe(5);
        // The worker container ran it (its hostname is its container id's prefix).
        expect(deployed.containers["app-worker-0"].startsWith(String(res.body.worker))).toBe(true);
    });

    it("attaches Redis to internal networks only; on this engine an internal network still gives a default route", async () => {
        for (const n of ofType(ev, "docker:index/network:Network")) {
            expect((await engine.docker.getNetwork(String(n.inputs.name)).inspect()).Internal, String(n.inputs.name)).toBe(
                n.inputs.internal,
            );
        }
        const info = await inspect(deployed.containers["redis-server"]);
        const internal = new Set(
            ofType(ev, "docker:index/network:Network")
                .filter((n) => n.inputs.internal === true)
                .map((n) => String(n.inputs.name)),
        );
        expect(Object.keys(info.NetworkSettings.Networks).sort()).toEqual(["toolboxai-dev-backend", "toolboxai-dev-cache"]);
        for (const name of Object.keys(info.NetworkSettings.Networks)) expect(internal.has(name), name).toBe(true);
        // Docker 20.10 started with --iptables=false (as here: the tests must not touch the host's
        // firewall) gives a container on an internal bridge network a default route, and relies on
        // its iptables rules (DOCKER-ISOLATION) to keep it in. So "no default route" cannot be
        // shown here; a host running dockerd with iptables (the default) drops that traffic.
        const routes = (await exec(deployed.containers["redis-server"], ["cat", "/proc/net/route"])).output;
        const hasDefault = routes
            .split("\n")
            .slice(1)
            .some((line) => line.split(/\s+/)[1] === "00000000");
        expect(hasDefault, routes).toBe(true);
    });

    it("refuses the old design: uploads into the hardened container itself fail on the read-only root", async () => {
        const backend = byName(ev, "app-backend-0");
        const seed = byName(ev, "app-backend-0-seed");
        const old: RecordedResource = {
            ...backend,
            outputs: { ...backend.outputs, name: "app-backend-0-old-design" },
            inputs: { ...backend.inputs, uploads: seed.inputs.uploads, ports: [] },
        };
        await expect(createContainer(engine.docker, old, deployed.subs)).rejects.toThrow(
            /Unable to upload volume content: .*container rootfs is marked read-only/,
        );
        await deleteContainer(engine.docker, "app-backend-0-old-design");
    });

    it("rotation: Redis takes the new passwords without a restart; the consumers are replaced (the backend delete-first, on the same published port)", async () => {
        // The next rotation period: new passwords, secret-ids and keys, so new seeds and containers.
        const next = await evaluateStack("dev", { now: new Date(Date.parse(TEST_CLOCK) + 91 * 86_400_000).toISOString() });
        const uploadsOf = (e: Evaluation, seed: string) => JSON.stringify(reveal(byName(e, seed).inputs.uploads));
        const changed = runningContainers(next).filter((c) => uploadsOf(next, `${c.name}-seed`) !== uploadsOf(ev, `${c.name}-seed`));
        expect(changed.map((c) => c.name).sort()).toEqual(["app-backend-0", "app-backup-0", "app-worker-0"]);
        const ids = { ...deployed.subs.ids };
        // Redis: its credentials seed is replaced (rewriting the ACL file and the health check's password in
        // its volumes), then the planned ACL SETUSER commands run in the running server (redis-acl-apply).
        expect(uploadsOf(next, "redis-credentials-seed")).not.toBe(uploadsOf(ev, "redis-credentials-seed"));
        const redisId = deployed.containers["redis-server"];
        const startedAt = (await inspect(redisId)).State.StartedAt;
        const credentials = byName(next, "redis-credentials-seed");
        const newCredentials = await createContainer(
            engine.docker,
            { ...credentials, outputs: { ...credentials.outputs, name: "redis-credentials-seed-next" } },
            { ...deployed.subs, ids },
        );
        await deleteContainer(engine.docker, deployed.containers["redis-credentials-seed"]);
        deployed.containers["redis-credentials-seed"] = newCredentials.id;
        const apply = byName(next, "redis-acl-apply");
        // The planned command is `docker exec -i <redis> sh -c <this script>` (test/redisServer.test.ts), its stdin the hashes.
        await engine.cli(["exec", "-i", redisId, "sh", "-c", aclApplyScript()], { input: String(reveal(apply.inputs.stdin)) });
        expect((await inspect(redisId)).State.StartedAt, "Redis was not restarted").toBe(startedAt);
        await healthy("redis-server", redisId);
        for (const c of changed) {
            const seed = byName(next, `${c.name}-seed`);
            // Pulumi's order: the new seed first (create-before-delete), then the container.
            const newSeed = await createContainer(
                engine.docker,
                { ...seed, outputs: { ...seed.outputs, name: `${c.name}-seed-next` } },
                { ...deployed.subs, ids },
            );
            ids[plannedSeedId(c)] = newSeed.id;
            const old = deployed.containers[c.name];
            const replacement = { ...withShortInterval(c), outputs: { ...c.outputs, name: `${c.name}-next` } };
            if (byName(ev, c.name).options.deleteBeforeReplace) {
                await deleteContainer(engine.docker, old);
                deployed.containers[c.name] = (await createContainer(engine.docker, replacement, { ...deployed.subs, ids })).id;
            } else {
                deployed.containers[c.name] = (await createContainer(engine.docker, replacement, { ...deployed.subs, ids })).id;
                await deleteContainer(engine.docker, old);
            }
            // The PIDs command runs again for the new container (its trigger is the container's id).
            await applyPidsLimit(next, c.name, `${c.name}-next`);
            await deleteContainer(engine.docker, deployed.containers[`${c.name}-seed`]);
            deployed.containers[`${c.name}-seed`] = newSeed.id;
        }
        ev = next;
        for (const c of changed) await healthy(c.name, deployed.containers[c.name]);
        // The new backend has the new secret-id, and answers on the same host port.
        const secretId = (reveal(byName(next, "app-backend-0-seed").inputs.uploads) as { file: string; content: string }[]).find(
            (u) => u.file === "/run/secrets/vault_secret_id",
        )!.content;
        expect((await exec(deployed.containers["app-backend-0"], ["cat", "/run/secrets/vault_secret_id"])).output).toBe(secretId);
        expect((await httpGet("/health")).status).toBe(200);
        expect((await httpGet("/enqueue?x=20&y=22")).body.sum).toBe(42);
        // Still one Redis on the data volume.
        const onData = (await engine.docker.listContainers({ all: true, filters: { volume: ["toolboxai-dev-redis-data"] } })).length;
        expect(onData).toBe(1);
    });

    it("holds the planned PIDs limit: a container cannot start more processes", async () => {
        for (const c of runningContainers(ev)) {
            expect((await inspect(deployed.containers[c.name])).HostConfig.PidsLimit, c.name).toBe(plannedPidsLimit(ev, c.name));
        }
        // Redis's limit is the smallest: more short sleeps than it allows cannot all start.
        const limit = plannedPidsLimit(ev, "redis-server");
        const out = await exec(deployed.containers["redis-server"], [
            "sh",
            "-c",
            `for i in $(seq 1 ${limit + 16}); do sleep 2 & done; wait`,
        ]);
        expect(out.output).toMatch(/Cannot fork|Resource temporarily unavailable/);
    });
});

describe("dev's plan in Swarm mode on a single-node swarm", () => {
    let swarm: Evaluation;

    /** The running task container of a Swarm service. */
    const taskContainer = async (service: string) => (await runningTasks(engine.docker, service))[0]?.Id;
    const healthyTask = async (service: string) =>
        healthy(
            service,
            await waitFor(
                () => taskContainer(service),
                60_000,
                () => `no running task for ${service}`,
            ),
        );

    beforeAll(async () => {
        // Leave the single-host replay behind: its containers and bridge networks hold the names.
        for (const c of await engine.docker.listContainers({ all: true })) await engine.docker.getContainer(c.Id).remove({ force: true });
        for (const n of ofType(ev, "docker:index/network:Network")) await engine.docker.getNetwork(String(n.inputs.name)).remove();
        await engine.docker.swarmInit({
            ListenAddr: "127.0.0.1:2377",
            AdvertiseAddr: "127.0.0.1",
            DefaultAddrPool: [engine.pool.replace(/^10\.(\d+)/, (_, n) => `10.${Number(n) + 1}`)],
            SubnetSize: 24,
        });
        const [node] = await engine.docker.listNodes();
        await engine.docker
            .getNode(node.ID)
            .update({ version: node.Version.Index, Role: "manager", Availability: "active", Labels: { [REDIS_NODE_LABEL]: "true" } });
        // dnsrr: this engine's kernel has no IPVS, so no virtual IPs and no routing mesh
        // (docs/docker-runtime.md); the backend's port is published in host mode.
        swarm = await evaluateStack("dev", { overrides: { ...SWARM, swarmEndpointMode: "dnsrr" } });
        await deploySwarmPlan(engine.docker, swarm, "dev", {
            ports: { 8000: backendPort },
            service: (s) => withServiceInterval(s, HEALTH_INTERVAL),
        });
    }, 300_000);

    it("starts every service's task with its secrets as 0400 files of the service's user, on a read-only root", async () => {
        for (const svc of ofType(swarm, SERVICE)) {
            const name = String(svc.inputs.name);
            const id = await waitFor(
                () => taskContainer(name),
                120_000,
                async () =>
                    `no running task for ${name}: ${JSON.stringify((await engine.docker.listTasks({ filters: { service: [name] } })).map((t) => (t as { Status?: unknown }).Status))}`,
            );
            const spec = taskOf(svc).containerSpec;
            const uid = spec.user.split(":")[0];
            expect(spec.secrets?.length, name).toBeGreaterThan(0);
            for (const s of spec.secrets ?? []) {
                expect((await exec(id, ["stat", "-L", "-c", "%a %u %g", s.fileName])).output.trim(), `${name} ${s.fileName}`).toBe(
                    `400 ${uid} ${uid}`,
                );
                expect((await exec(id, ["cat", s.fileName])).code, `${name} ${s.fileName}`).toBe(0);
                expect((await exec(id, ["cat", s.fileName], "10002:10002")).code, `${name} ${s.fileName} as 10002`).not.toBe(0);
            }
            expect((await inspect(id)).HostConfig.ReadonlyRootfs, name).toBe(true);
        }
    });

    it("makes Redis (TLS, its ACL, its data volume) and the backup job healthy by their own checks", async () => {
        for (const name of ["toolboxai-dev-redis", "toolboxai-dev-backup"]) await healthyTask(name);
    });

    it("routes with dnsrr: backend and worker reach Redis over the overlay, the backend answers on its host-mode port", async () => {
        for (const name of ["toolboxai-dev-backend", "toolboxai-dev-worker"]) await healthyTask(name);
        // /health is 200 only while Redis answers PING over TLS as the backend's ACL user.
        expect(await httpGet("/health")).toEqual({ status: 200, body: { status: "ok" } });
        const res = await httpGet("/enqueue?x=4&y=5");
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.sum).toBe(9);
        expect((await taskContainer("toolboxai-dev-worker"))?.startsWith(String(res.body.worker))).toBe(true);
    });
});
