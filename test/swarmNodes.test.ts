/**
 * prod's plan in Swarm mode on a Swarm of three real engines (test/support/swarm.ts), each in a
 * network namespace of its own, replayed the way the Docker provider does it
 * (test/support/swarmReplay.ts): overlays across the nodes, secrets and configs reaching tasks on
 * every node, Redis pinned with its volume to the labelled node, backend and workers spread; a
 * Celery round trip across nodes; a rolling update under load; a drained node; Redis's node drained.
 *
 * Substituted, and nothing else (see docs/docker-runtime.md):
 * - images: each node's engine has the local stand-ins tagged as the planned image names;
 * - TLS: Redis's CA, certificate and key made with openssl (the offline plan has placeholders);
 * - endpoint mode dnsrr (a setting: the kernel here has no IPVS for vip), replicas 2 for backend
 *   and worker (prod has 1 of each: nothing to spread), redisNodeLabel set to show it is followed;
 * - health check intervals 2 s, and the rolling update's delay 1 s and monitor 5 s (10 s and 30 s
 *   planned): the order (start-first), parallelism and health gating are the planned ones;
 * - `encrypted` is left off the overlays: this kernel cannot install the IPsec states (ESP with
 *   AES-GCM), and an encrypted overlay then carries nothing between nodes (checked below).
 */
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import { STOP_GRACE_PERIOD } from "../lib/docker";
import { applyService } from "../lib/swarm/engine";
import { engineServiceSpec, SPEC_LABEL, type SwarmServiceSpec } from "../lib/swarm/serviceSpec";
import { parseGoDuration } from "../lib/providerForms";
import { byName, evaluateStack, ofType, SWARM } from "./harness";
import { waitFor } from "./support/docker";
import { substitutedService } from "./support/dockerProvider";
import { loadStandinImages, type Role } from "./support/standinImages";
import { startSwarm, type Swarm, type SwarmNode } from "./support/swarm";
import { deploySwarmPlan, execIn, plannedId, SERVICE, taskOf, withServiceInterval, type SwarmDeployment } from "./support/swarmReplay";

const STACK = "prod";
const REDIS_LABEL = "redis-data";
const SERVICES = {
    backend: { role: "backend", replicas: 2, ports: [{ published: 8000, target: 8000 }] },
    worker: { role: "worker", replicas: 2 },
    backup: { role: "backup", cpus: 2, memoryMb: 1024 },
};
const OVERRIDES = { ...SWARM, swarmEndpointMode: "dnsrr", redisNodeLabel: REDIS_LABEL, services: JSON.stringify(SERVICES) };
const name = (part: string) => `toolboxai-${STACK}-${part}`;

let swarm: Swarm;
let ev: Evaluation;
let deployed: SwarmDeployment;

interface Task {
    ID: string;
    NodeID: string;
    DesiredState: string;
    CreatedAt: string;
    Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
    Spec: { ContainerSpec: { StopGracePeriod?: number } };
}

const labelsOf = (r: RecordedResource) =>
    Object.fromEntries(((reveal(r.inputs.labels) as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value]));

/** The stand-in role for each planned image name, from the services that run it. */
function imageRoles(e: Evaluation): Record<string, Role> {
    const roles: Record<string, Role> = {};
    for (const svc of ofType(e, SERVICE)) {
        const labels = labelsOf(svc);
        const role = labels["com.toolboxai.service"] === "redis" ? "redis" : labels["com.toolboxai.role"];
        const digest = String(reveal((svc.inputs.taskSpec as { containerSpec: { image: unknown } }).containerSpec.image));
        const image = ofType(e, "docker:index/remoteImage:RemoteImage").find((i) => String(i.outputs.repoDigest) === digest);
        if (!image || !["redis", "backend", "worker", "backup"].includes(role)) throw new Error(`no stand-in for ${svc.name} (${role})`);
        roles[String(image.inputs.name)] = role as Role;
    }
    return roles;
}

/** The replay's shorter health checks and rolling-update pauses (see the header). */
function replayed(svc: RecordedResource): RecordedResource {
    const short = withServiceInterval(svc, "2s");
    const update = short.inputs.updateConfig as Record<string, unknown>;
    return { ...short, inputs: { ...short.inputs, updateConfig: { ...update, delay: "1s", monitor: "5s" } } };
}

const tasksOf = async (service: string) => (await swarm.manager.engine.docker.listTasks({ filters: { service: [service] } })) as Task[];
const runningTasks = async (service: string) =>
    (await tasksOf(service)).filter((t) => t.DesiredState === "running" && t.Status.State === "running");

/** Waits until `replicas` tasks of the service run (healthy: a task with a health check runs only once healthy). */
async function converged(service: string, replicas: number, timeoutMs = 120_000): Promise<Task[]> {
    return waitFor(
        async () => {
            const running = await runningTasks(service);
            const wanted = (await tasksOf(service)).filter((t) => t.DesiredState === "running");
            return running.length === replicas && wanted.length === replicas ? running : undefined;
        },
        timeoutMs,
        async () =>
            `${service} did not converge to ${replicas} running tasks: ${JSON.stringify((await tasksOf(service)).map((t) => [t.NodeID, t.DesiredState, t.Status]))}`,
    );
}

/**
 * Waits for the service's update started at `since` or later to complete (what the provider's
 * convergeConfig waits for, lib/docker.ts SWARM_CONVERGE), then for its tasks.
 */
async function rolledOut(service: string, since: number, replicas: number): Promise<Task[]> {
    const docker = swarm.manager.engine.docker;
    const status = async () =>
        ((await docker.getService(service).inspect()) as { UpdateStatus?: { State: string; StartedAt?: string; Message?: string } })
            .UpdateStatus;
    await waitFor(
        async () => {
            const u = await status();
            if (u?.State?.startsWith("rollback") || u?.State === "paused")
                throw new Error(`${service}: the update failed: ${JSON.stringify(u)}`);
            return u?.State === "completed" && Date.parse(u.StartedAt ?? "") >= since - 1000 ? u : undefined;
        },
        180_000,
        async () =>
            `${service}: update not completed: ${JSON.stringify(await status())} ${JSON.stringify((await tasksOf(service)).map((t) => [t.NodeID, t.DesiredState, t.Status]))}`,
    );
    return converged(service, replicas);
}

/** A planned service as the replay sends it (see the header), through the program's own code. */
const sent = (planned: RecordedResource): SwarmServiceSpec =>
    substitutedService(replayed(planned), { images: deployed.images, ids: deployed.ids, ports: {} });

/** A planned service's PIDs limit, in its own spec (swarmHardening). */
const plannedPids = (planned: string) => (taskOf(byName(ev, planned)) as unknown as SwarmServiceSpec["taskSpec"]).resources!.limits!.pids!;

/** The program's update of a changed service, as `pulumi up` runs it: one request with the whole spec, then convergence. */
async function programUpdate(planned: RecordedResource | SwarmServiceSpec): Promise<void> {
    await applyService(swarm.manager.engine.docker, "taskSpec" in planned ? planned : sent(planned), { pollMs: 500 });
}

/** A task's container on its own node's engine. */
function containerOf(t: Task): { node: SwarmNode; container: Docker.Container; id: string } {
    const node = swarm.node(t.NodeID);
    const id = t.Status.ContainerStatus?.ContainerID;
    if (!id) throw new Error(`task ${t.ID} has no container yet: ${JSON.stringify(t.Status)}`);
    return { node, container: node.engine.docker.getContainer(id), id };
}

const exec = (t: Task, cmd: string[], user?: string) => {
    const { node, id } = containerOf(t);
    return execIn(node.engine.docker, id, cmd, user);
};

async function get(address: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`http://${address}:8000${path}`, { signal: AbortSignal.timeout(45_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The stand-in's Redis client, as the backend's ACL user over TLS, run in a backend task. */
const REDIS_CLIENT = [
    "import os, sys",
    "sys.path.insert(0, '/opt/standin')",
    "import redis, tasks",
    "url, password = tasks.redis_settings()",
    "c = redis.Redis(host=url.hostname, port=url.port, username=url.username, password=password, ssl=True, ssl_ca_certs=os.environ['REDIS_CA_FILE'], ssl_cert_reqs='required', socket_timeout=5)",
].join("\n");

beforeAll(async () => {
    const started = Date.now();
    ev = await evaluateStack(STACK, { overrides: OVERRIDES });
    swarm = await startSwarm(3);
    await Promise.all(swarm.nodes.map((n) => loadStandinImages(n.engine, imageRoles(ev))));
    // Redis's node: the label the config names, as an operator sets it (docs/operations/swarm-move.md).
    const docker = swarm.manager.engine.docker;
    const n1 = await docker.getNode(swarm.manager.id).inspect();
    await docker.getNode(swarm.manager.id).update({ version: n1.Version.Index, ...n1.Spec, Labels: { [REDIS_LABEL]: "true" } });
    deployed = await deploySwarmPlan(docker, ev, STACK, {
        ports: {},
        network: (n) => ({ ...n, inputs: { ...n.inputs, options: undefined } }),
        service: replayed,
    });
    console.log(`three-node Swarm, images and prod's plan up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
    await swarm?.stop();
}, 120_000);

describe("prod's plan in Swarm mode on three nodes", () => {
    it("spreads backend and workers across nodes and pins Redis, with its volume, to the labelled node", async () => {
        const backend = await converged(name("backend"), 2);
        const worker = await converged(name("worker"), 2);
        const [redis] = await converged(name("redis"), 1);
        await converged(name("backup"), 1);
        expect(new Set(backend.map((t) => t.NodeID)).size).toBe(2);
        expect(new Set(worker.map((t) => t.NodeID)).size).toBe(2);
        expect(taskOf(byName(ev, "redis-server")).placement?.constraints).toEqual([`node.labels.${REDIS_LABEL}==true`]);
        expect(redis.NodeID).toBe(swarm.manager.id);
        // The data volume exists on Redis's node only, labelled to be kept.
        for (const node of swarm.nodes) {
            const volumes = (await node.engine.docker.listVolumes()).Volumes.filter((v) => v.Name === name("redis-data"));
            expect(volumes.length, node.name).toBe(node.id === redis.NodeID ? 1 : 0);
            if (volumes.length) expect(volumes[0].Labels?.["com.toolboxai.retain"]).toBe("true");
        }
    }, 240_000);

    it("runs the overlays across the nodes, internal ones too; encrypted is planned where it was decided", async () => {
        const docker = swarm.manager.engine.docker;
        for (const n of ofType(ev, "docker:index/network:Network")) {
            const info = await docker.getNetwork(deployed.ids[plannedId(STACK, n)]).inspect();
            expect(info.Driver, n.name).toBe("overlay");
            expect(info.Internal, n.name).toBe(n.inputs.internal);
        }
        const planned = Object.fromEntries(
            ofType(ev, "docker:index/network:Network").map((n) => [
                n.name,
                (n.inputs.options as { encrypted?: string } | undefined)?.encrypted,
            ]),
        );
        expect(planned).toEqual({ "networks-frontend": "true", "networks-backend": "true", "networks-cache": undefined });
        // Each node running a worker task has joined the internal backend and cache overlays.
        for (const t of await runningTasks(name("worker"))) {
            const nets = Object.keys((await containerOf(t).container.inspect()).NetworkSettings.Networks).sort();
            expect(nets, swarm.node(t.NodeID).name).toEqual([name("backend"), name("cache"), name("frontend")].sort());
        }
    }, 240_000);

    it("hands every task on every node its secrets (0400) and configs (0444) as the service's user, with the content created", async () => {
        for (const svc of ofType(ev, SERVICE)) {
            const spec = taskOf(svc).containerSpec;
            const uid = spec.user.split(":")[0];
            for (const t of await runningTasks(String(svc.inputs.name))) {
                const where = `${svc.name} on ${swarm.node(t.NodeID).name}`;
                for (const [files, mode] of [
                    [spec.secrets ?? [], "400"],
                    [spec.configs ?? [], "444"],
                ] as const) {
                    for (const f of files) {
                        expect((await exec(t, ["stat", "-L", "-c", "%a %u %g", f.fileName])).output.trim(), `${where} ${f.fileName}`).toBe(
                            `${mode} ${uid} ${uid}`,
                        );
                        const content = deployed.contents[(f.secretId ?? f.configId)!];
                        expect((await exec(t, ["cat", f.fileName])).output, `${where} ${f.fileName}`).toBe(content);
                    }
                }
                expect((spec.secrets ?? []).length, where).toBeGreaterThan(0);
            }
        }
    }, 240_000);

    it("round-trips Celery tasks with workers and Redis on different nodes, over TLS as the ACL users; the backend answers from outside", async () => {
        const backend = await runningTasks(name("backend"));
        const workers = await runningTasks(name("worker"));
        const [redis] = await runningTasks(name("redis"));
        const backendNodes = new Set(backend.map((t) => t.NodeID));
        // Host-mode ports: from outside the Swarm, each node running a backend task answers; the others refuse.
        for (const node of swarm.nodes) {
            if (backendNodes.has(node.id))
                expect(await get(node.address, "/health"), node.name).toEqual({ status: 200, body: { status: "ok" } });
            else await expect(get(node.address, "/health"), node.name).rejects.toThrow();
        }
        const workerNode = new Map(workers.map((t) => [containerOf(t).id.slice(0, 12), t.NodeID]));
        const answered: string[] = [];
        for (let i = 0; i < 6; i++) {
            const node = swarm.node(backend[i % backend.length].NodeID);
            const res = await get(node.address, `/enqueue?x=${i}&y=100`);
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            expect(res.body.sum).toBe(i + 100);
            answered.push(workerNode.get(String(res.body.worker)) ?? `unknown worker ${String(res.body.worker)}`);
        }
        expect(
            answered.filter((n) => n !== redis.NodeID && workerNode.size > 0 && [...workerNode.values()].includes(n)).length,
        ).toBeGreaterThan(0);
        // The clients' settings: TLS (rediss) to the redis alias, each as its own ACL user.
        const env = (svc: string) => taskOf(byName(ev, svc)).containerSpec.env!;
        expect(env("app-backend-service").REDIS_URL).toMatch(/^rediss:\/\/[^:@]+@redis:6380/);
        expect(env("app-worker-service").REDIS_URL).toMatch(/^rediss:\/\/[^:@]+@redis:6380/);
        expect(env("app-worker-service").REDIS_URL).not.toBe(env("app-backend-service").REDIS_URL);
    }, 240_000);

    it("rolls the backend to a changed setting while a client loop calls it: zero failed requests", async () => {
        const service = name("backend");
        const changed = await evaluateStack(STACK, {
            overrides: { ...OVERRIDES, services: JSON.stringify({ ...SERVICES, backend: { ...SERVICES.backend, memoryMb: 320 } }) },
        });
        const before = new Set((await tasksOf(service)).map((t) => t.ID));
        // Four clients in a worker task, each request to one address the service name resolves to
        // (no fallback to another), every answer checked: a task that is not ready, or is killed
        // with requests in flight, shows as a failure.
        const [client] = await runningTasks(name("worker"));
        const loop = exec(client, [
            "python3",
            "-c",
            [
                "import http.client, json, os, random, socket, threading, time",
                "stats = {'requests': 0, 'failures': 0, 'errors': []}",
                "lock = threading.Lock()",
                "def call(n):",
                "    ip = random.choice(sorted({a[4][0] for a in socket.getaddrinfo('backend', 8000, proto=socket.IPPROTO_TCP)}))",
                "    conn = http.client.HTTPConnection(ip, 8000, timeout=30)",
                "    conn.request('GET', f'/enqueue?x={n}&y=1')",
                "    r = conn.getresponse(); body = json.loads(r.read())",
                "    if r.status != 200 or body.get('sum') != n + 1: raise RuntimeError(f'{ip}: {r.status} {body}')",
                "def client(k):",
                "    n = 0",
                "    while not os.path.exists('/tmp/stop-client'):",
                "        n += 1",
                "        try: call(n); failed = None",
                "        except Exception as e: failed = f'{type(e).__name__}: {e}'",
                "        with lock:",
                "            stats['requests'] += 1",
                "            if failed: stats['failures'] += 1; stats['errors'].append(failed)",
                "        time.sleep(0.02)",
                "threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]",
                "[t.start() for t in threads]; [t.join() for t in threads]",
                "stats['errors'] = stats['errors'][:5]",
                "print(json.dumps(stats))",
            ].join("\n"),
        ]);
        const started = Date.now();
        await programUpdate(byName(changed, "app-backend-service"));
        const after = await converged(service, 2);
        await exec(client, ["touch", "/tmp/stop-client"]);
        const result = JSON.parse((await loop).output.trim().split("\n").pop()!) as {
            requests: number;
            failures: number;
            errors: string[];
        };
        const created = (await tasksOf(service)).filter((t) => !before.has(t.ID)).length;
        console.log(
            `rolling update of the backend: ${result.requests} requests, ${result.failures} failed, in ${((Date.now() - started) / 1000).toFixed(1)} s; ${created} tasks started for 2 replicas (2 per rollout)`,
        );
        expect(result.requests).toBeGreaterThan(20);
        expect(result, JSON.stringify(result.errors)).toMatchObject({ failures: 0 });
        // One rollout: one new task per replica, each with the change and its PIDs limit from the start.
        expect(created, "tasks started by one change of a 2-replica service").toBe(2);
        for (const t of after) {
            const host = (await containerOf(t).container.inspect()).HostConfig;
            expect({ memory: host.Memory, pids: host.PidsLimit }).toEqual({
                memory: 320 * 1024 * 1024,
                pids: plannedPids("app-backend-service"),
            });
        }
    }, 240_000);

    it("changes Redis in one rollout: one outage for a client that keeps asking, one new task, its PIDs limit from the start", async () => {
        const service = name("redis");
        const planned = sent(byName(ev, "redis-server"));
        const limits = planned.taskSpec.resources!.limits!;
        // A changed setting of the task (its memory): what any change of Redis's spec is to Swarm.
        const changed: SwarmServiceSpec = {
            ...planned,
            taskSpec: { ...planned.taskSpec, resources: { limits: { ...limits, memoryBytes: limits.memoryBytes! + 64 * 1024 * 1024 } } },
        };
        const before = new Set((await tasksOf(service)).map((t) => t.ID));
        const [client] = await runningTasks(name("backend"));
        // A client in a backend task: a new connection every 100 ms. Down is a ping that failed or took
        // over 2.5 s (a name with no task behind it can stall the lookup rather than fail it); an
        // outage is a run of downs.
        const loop = exec(client, [
            "python3",
            "-c",
            [
                // No retries (redis-py retries three times by default, which would hide an outage), short timeouts.
                "from redis.retry import Retry\nfrom redis.backoff import NoBackoff",
                REDIS_CLIENT.replace("socket_timeout=5", "socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0)"),
                "import json, time",
                "stats = {'pings': 0, 'failures': 0, 'slow': 0, 'outages': 0, 'longest': 0.0}",
                "down = False",
                "while not os.path.exists('/tmp/stop-redis-client'):",
                "    stats['pings'] += 1",
                "    t0 = time.monotonic()",
                "    try:",
                "        c.connection_pool.disconnect(); c.ping(); ok = True",
                "        open('/tmp/redis-client-up', 'w').close()",
                "    except Exception:",
                "        stats['failures'] += 1; ok = False",
                "    took = time.monotonic() - t0",
                "    stats['longest'] = max(stats['longest'], round(took, 2))",
                "    if ok and took > 2.5: stats['slow'] += 1; ok = False",
                "    if not ok and not down: stats['outages'] += 1",
                "    down = not ok",
                "    time.sleep(0.1)",
                "print(json.dumps(stats))",
            ].join("\n"),
        ]);
        // The update starts once the client has had its first answer.
        await waitFor(
            async () => ((await exec(client, ["test", "-f", "/tmp/redis-client-up"])).code === 0 ? true : undefined),
            60_000,
            () => "the Redis client loop never got an answer",
        );
        const started = Date.now();
        await programUpdate(changed);
        const [after] = await converged(service, 1);
        // The client sees Redis back before it stops.
        await waitFor(
            async () =>
                (await exec(client, ["python3", "-c", `${REDIS_CLIENT}\nprint(c.ping())`])).output.trim() === "True" ? true : undefined,
            60_000,
            () => "Redis did not answer after the update",
        );
        await exec(client, ["touch", "/tmp/stop-redis-client"]);
        const stats = JSON.parse((await loop).output.trim().split("\n").pop()!) as {
            pings: number;
            failures: number;
            slow: number;
            outages: number;
            longest: number;
        };
        const created = (await tasksOf(service)).filter((t) => !before.has(t.ID)).length;
        console.log(
            `update of Redis: ${stats.pings} pings, ${stats.failures} failed and ${stats.slow} over 2.5 s (longest ${stats.longest} s) in ${stats.outages} outage(s), in ${((Date.now() - started) / 1000).toFixed(1)} s; ${created} task(s) started`,
        );
        expect(stats.pings).toBeGreaterThan(10);
        expect({ created, outages: stats.outages }).toEqual({ created: 1, outages: 1 });
        const host = (await containerOf(after).container.inspect()).HostConfig;
        expect({ memory: host.Memory, pids: host.PidsLimit }).toEqual({
            memory: changed.taskSpec.resources!.limits!.memoryBytes,
            pids: limits.pids,
        });
    }, 240_000);

    it("control: the provider's way (its spec without the limit, then docker service update --limit-pids) rolls a service twice", async () => {
        // What the program did before it wrote services itself, on the workers: the count above would have been 4.
        const service = name("worker");
        const planned = sent(byName(ev, "app-worker-service"));
        const limits = planned.taskSpec.resources!.limits!;
        const withoutPids = { ...limits, pids: undefined };
        const before = new Set((await tasksOf(service)).map((t) => t.ID));
        const docker = swarm.manager.engine.docker;
        const current = await docker.getService(service).inspect();
        let since = Date.now();
        await docker.getService(service).update({
            version: current.Version.Index,
            ...engineServiceSpec({
                ...planned,
                taskSpec: {
                    ...planned.taskSpec,
                    resources: { limits: { ...withoutPids, memoryBytes: limits.memoryBytes! + 1024 * 1024 } },
                },
            }),
        });
        await rolledOut(service, since, 2);
        since = Date.now();
        await swarm.manager.engine.cli(["service", "update", "--detach", "--limit-pids", String(limits.pids), service]);
        await rolledOut(service, since, 2);
        const created = (await tasksOf(service)).filter((t) => !before.has(t.ID)).length;
        console.log(`control, the provider's way: ${created} tasks started for 2 replicas`);
        expect(created).toBe(4);
        // Back to the plan, through the program, as after a move from the provider's services
        // (docs/operations/swarm-move.md): the service marked as taken over, then one more rollout.
        await expect(programUpdate(planned)).rejects.toThrow(/exists but was not written by this program/);
        await swarm.manager.engine.cli(["service", "update", "--detach", "--label-add", `${SPEC_LABEL}=adopt`, service]);
        await programUpdate(planned);
    }, 300_000);

    it("drains a worker's node: its tasks move, the stopped worker got SIGTERM and its grace period, and the round trip still works", async () => {
        const docker = swarm.manager.engine.docker;
        const workers = await runningTasks(name("worker"));
        const [redis] = await runningTasks(name("redis"));
        const victim = workers.find((t) => t.NodeID !== redis.NodeID)!;
        const old = containerOf(victim);
        const node = await docker.getNode(victim.NodeID).inspect();
        await docker.getNode(victim.NodeID).update({ version: node.Version.Index, ...node.Spec, Availability: "drain" });
        try {
            const moved = await waitFor(
                async () => {
                    const running = await runningTasks(name("worker"));
                    return running.length === 2 && running.every((t) => t.NodeID !== victim.NodeID) ? running : undefined;
                },
                120_000,
                async () =>
                    `the workers did not leave the drained node: ${JSON.stringify((await tasksOf(name("worker"))).map((t) => [t.NodeID, t.Status]))}`,
            );
            expect(moved.map((t) => t.NodeID)).not.toContain(victim.NodeID);
            // The old task was stopped by SIGTERM with the worker's grace period: Celery's warm shutdown, exit 0 (SIGKILL is 137).
            const info = await waitFor(
                async () => {
                    const i = await old.container.inspect();
                    return i.State.Running ? undefined : i;
                },
                150_000,
                () => "the drained node's worker did not stop",
            );
            const logs = String(await old.container.logs({ stdout: true, stderr: true, tail: 50 }));
            expect({ exit: info.State.ExitCode, warm: /Warm shutdown/.test(logs) }, logs.slice(-1500)).toEqual({ exit: 0, warm: true });
            // The engine stops a task with its spec's grace period (not the container's StopTimeout).
            expect(victim.Spec.ContainerSpec.StopGracePeriod).toBe(Number(parseGoDuration(STOP_GRACE_PERIOD.worker)));
            // A backend still running (it may have moved too) hands a task to a worker that moved.
            const [backend] = await waitFor(
                async () => {
                    const running = await runningTasks(name("backend"));
                    return running.length === 2 && running.every((t) => t.NodeID !== victim.NodeID) ? running : undefined;
                },
                120_000,
                () => "the backend did not leave the drained node",
            );
            const res = await get(swarm.node(backend.NodeID).address, "/enqueue?x=7&y=8");
            expect(res.status, JSON.stringify(res.body)).toBe(200);
            expect(res.body.sum).toBe(15);
        } finally {
            const now = await docker.getNode(victim.NodeID).inspect();
            await docker.getNode(victim.NodeID).update({ version: now.Version.Index, ...now.Spec, Availability: "active" });
        }
    }, 240_000);

    it("keeps Redis's data on its node: drained, Redis stops gracefully and waits (no failover); back, the data is there", async () => {
        const docker = swarm.manager.engine.docker;
        const [backend] = await converged(name("backend"), 2);
        const [redis] = await converged(name("redis"), 1);
        const marker = `marker-${Date.now()}`;
        const set = await exec(backend, [
            "python3",
            "-c",
            `${REDIS_CLIENT}\nc.set('toolboxai-test-marker', '${marker}')\nprint(c.get('toolboxai-test-marker').decode())`,
        ]);
        expect(set.output.trim(), set.output).toBe(marker);
        const old = containerOf(redis);
        const node = await docker.getNode(redis.NodeID).inspect();
        await docker.getNode(redis.NodeID).update({ version: node.Version.Index, ...node.Spec, Availability: "drain" });
        let whileDrained: string[];
        try {
            // What Swarm does with Redis while its node is away: a task it cannot place anywhere.
            whileDrained = await waitFor(
                async () => {
                    const wanted = (await tasksOf(name("redis"))).filter((t) => t.DesiredState === "running");
                    const settled = wanted.filter((t) => ["pending", "running"].includes(t.Status.State));
                    return settled.length > 0 && (await old.container.inspect()).State.Running === false
                        ? settled.map((t) => `${t.Status.State} on ${t.NodeID ? swarm.node(t.NodeID).name : "no node"}`)
                        : undefined;
                },
                90_000,
                async () => `Redis's task did not settle: ${JSON.stringify((await tasksOf(name("redis"))).map((t) => t.Status))}`,
            );
        } finally {
            const now = await docker.getNode(redis.NodeID).inspect();
            await docker.getNode(redis.NodeID).update({ version: now.Version.Index, ...now.Spec, Availability: "active" });
        }
        const [back] = await converged(name("redis"), 1);
        // The backend reconnects to wherever Redis runs now: the data must be there.
        const read = await waitFor(
            async () => {
                const r = await exec(backend, ["python3", "-c", `${REDIS_CLIENT}\nprint(c.get('toolboxai-test-marker'))`]);
                return r.code === 0 ? r.output.trim() : undefined;
            },
            60_000,
            () => "the backend could not read from Redis after it came back",
        );
        expect(read, `Redis now on ${swarm.node(back.NodeID).name}: its data did not follow`).toBe(`b'${marker}'`);
        expect(swarm.node(back.NodeID).id).toBe(redis.NodeID);
        expect(whileDrained, "while its node was drained").toEqual([`pending on no node`]);
        // The stopped Redis got SIGTERM and its grace period: it wrote its files and said so (exit 0; SIGKILL is 137).
        const info = await old.container.inspect();
        const logs = String(await old.container.logs({ stdout: true, stderr: true, tail: 30 }));
        expect({ exit: info.State.ExitCode, bye: /ready to exit, bye bye/.test(logs) }, logs.slice(-1500)).toEqual({ exit: 0, bye: true });
        expect(redis.Spec.ContainerSpec.StopGracePeriod).toBe(Number(parseGoDuration(STOP_GRACE_PERIOD.redis)));
    }, 240_000);
});
