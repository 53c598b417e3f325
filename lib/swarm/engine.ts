/**
 * Writes a Swarm service to a manager in one update and waits until it has converged: what the
 * Docker provider's create and update (with convergeConfig) did, plus the PIDs limit, which the
 * provider cannot send. One change is one rollout: each task is replaced once, and never runs
 * without its limit.
 *
 * The engine is reached as the Docker CLI and the provider reach it: `unix:///…` directly, and
 * `ssh://user@host[:port]` through `ssh … docker system dial-stdio` (the system's ssh, so
 * ~/.ssh/config, keys and known_hosts apply as for the CLI).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Agent } from "node:http";
import { Duplex, PassThrough } from "node:stream";
import Docker from "dockerode";
import {
    canonicalJson,
    engineServiceSpec,
    SPEC_LABEL,
    specSha256,
    goDurationNs,
    type EngineServiceSpec,
    type SwarmServiceSpec,
} from "./serviceSpec";

/** Each request's own timeout: an engine that does not answer within it is an error that says so. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The ssh arguments the Docker CLI uses to dial an ssh:// host (cli/connhelper/ssh). */
export function sshDialArgs(host: string): string[] {
    const url = new URL(host);
    if (url.protocol !== "ssh:" || !url.hostname) throw new Error(`dockerHost ${JSON.stringify(host)}: expected ssh://[user@]host[:port]`);
    return [
        "-o",
        "ConnectTimeout=30",
        "-T",
        ...(url.username ? ["-l", decodeURIComponent(url.username)] : []),
        ...(url.port ? ["-p", url.port] : []),
        "--",
        url.hostname,
        "docker",
        "system",
        "dial-stdio",
    ];
}

/** An ssh failure: retried like a dropped connection when the request was a read. */
const SSH_FAILED = "ESSHFAILED";

/** A Docker API client for the stack's `dockerHost`. */
export function dockerClient(host: string): Docker {
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length), timeout: REQUEST_TIMEOUT_MS });
    const args = sshDialArgs(host);
    // One ssh connection carries the client's requests one after the other (HTTP keep-alive), as the
    // Docker CLI's does: polling a rollout must not log in to the manager twice a second.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    (agent as unknown as { createConnection: () => Duplex }).createConnection = () => {
        const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
        const failed = (message: string) => Object.assign(new Error(`ssh to ${host}${message}`), { code: SSH_FAILED });
        // The answer ends when ssh has exited, so that a failed ssh is reported with its own words, not as a hang-up.
        const answer = new PassThrough();
        child.stdout.on("data", (d: Buffer) => answer.write(d));
        child.on("close", (code) =>
            code ? answer.destroy(failed(` exited with ${code}: ${stderr.trim() || "no message"}`)) : answer.end(),
        );
        child.on("error", (e) => answer.destroy(failed(`: ${e.message}`)));
        // A write to an ssh that already failed is not the error to report: ssh's exit (above) is.
        const request = new PassThrough();
        request.pipe(child.stdin);
        child.stdin.on("error", () => undefined);
        const socket = Duplex.from({ readable: answer, writable: request }) as Duplex & Record<string, unknown>;
        // What the HTTP client asks of a socket (the request's own timeout still applies); an idle
        // connection must not keep the process alive.
        const pipes = [child, child.stdout, child.stderr, child.stdin] as unknown as { ref(): void; unref(): void }[];
        socket.ref = () => (pipes.forEach((p) => p.ref()), socket);
        socket.unref = () => (pipes.forEach((p) => p.unref()), socket);
        for (const method of ["setTimeout", "setNoDelay", "setKeepAlive"]) socket[method] = () => socket;
        socket.on("close", () => child.kill());
        return socket;
    };
    return new Docker({ protocol: "http", host: "docker", port: 80, agent, timeout: REQUEST_TIMEOUT_MS } as Docker.DockerOptions);
}

interface ServiceInfo {
    ID: string;
    Version: { Index: number };
    UpdatedAt: string;
    Spec: EngineServiceSpec & { TaskTemplate: Record<string, unknown> };
    UpdateStatus?: { State: string; StartedAt?: string; Message?: string };
}

interface TaskInfo {
    ID: string;
    Spec?: unknown;
    NodeID?: string;
    DesiredState: string;
    Status: { State: string; Err?: string; Message?: string };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const statusCode = (e: unknown) => (e as { statusCode?: number }).statusCode;
const messageOf = (e: unknown) => (e as { json?: { message?: string } }).json?.message ?? (e instanceof Error ? e.message : String(e));

/** Transport failures worth another attempt (the request may not have reached the engine); never an engine's answer. */
function transient(e: unknown): boolean {
    const code = (e as { code?: string }).code;
    return (
        statusCode(e) === undefined &&
        ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ESOCKETTIMEDOUT", SSH_FAILED].includes(code ?? "")
    );
}

/** A read: three attempts on transport failures, 1 s and 2 s apart. */
async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await call();
        } catch (e) {
            if (!transient(e) || attempt === 3) throw new Error(`${what}: ${messageOf(e)}`, { cause: e });
            await sleep(1000 * attempt);
        }
    }
}

/** The service named `name`, or undefined (the name filter matches prefixes: the exact name is checked). */
export async function findService(docker: Docker, name: string): Promise<ServiceInfo | undefined> {
    const list = (await read(`listing services named ${name}`, () =>
        docker.listServices({ filters: { name: [name] } }),
    )) as unknown as ServiceInfo[];
    return list.find((s) => s.Spec.Name === name);
}

async function inspect(docker: Docker, id: string): Promise<ServiceInfo | undefined> {
    try {
        return (await read(`inspecting service ${id}`, () => docker.getService(id).inspect())) as unknown as ServiceInfo;
    } catch (e) {
        if (/no such service|not found/i.test(messageOf(e))) return undefined;
        throw e;
    }
}

async function tasksOf(docker: Docker, id: string): Promise<TaskInfo[]> {
    return (await read(`listing tasks of ${id}`, () => docker.listTasks({ filters: { service: [id] } }))) as unknown as TaskInfo[];
}

export interface ApplyOptions {
    /** Progress messages (stderr in the provider host; never a secret: specs hold none). */
    log?: (message: string) => void;
    /** Poll interval (tests shorten it). */
    pollMs?: number;
    /** The login for the image's registry, sent as the Docker provider sends it (X-Registry-Auth), when the image is there. */
    registryAuth?: RegistryLogin;
    /**
     * The engine's hash of the spec after the last apply (the state's engineSha256): a service that
     * still has exactly that, with the same spec label, is not sent again (a re-send would make
     * the live spec Swarm's "previous" one, its rollback target). Unset: always sent.
     */
    unchangedSince?: string;
}

export interface RegistryLogin {
    /** The registry's host[:port], e.g. ghcr.io. */
    address: string;
    username: string;
    password: string;
}

export interface Applied {
    id: string;
    /** The spec's sha256, also kept in the service's `com.toolboxai.spec-sha256` label. */
    specSha256: string;
    /** The sha256 of the service's spec as the engine keeps it, once converged: refresh compares it (readService). */
    engineSha256: string;
}

/**
 * What an error carries when the spec was sent but the service did not converge in time: the
 * service is on the new spec, still rolling or stuck. The provider records that
 * (lib/swarm/provider.ts), so that the next `up` waits again, or sends whatever the program then
 * declares. A plain Error with a property, not a subclass: Pulumi's serializer keeps it intact.
 */
export interface NotConverged {
    serviceId: string;
    specSha256: string;
    engineSha256: string;
}

export const notConvergedOf = (e: unknown): NotConverged | undefined => (e as { notConverged?: NotConverged } | undefined)?.notConverged;

/** The spec with its own hash in a service label (a label changes no task): `docker service inspect` shows which spec was sent last. */
function labelled(spec: SwarmServiceSpec): { body: EngineServiceSpec; sha: string } {
    const body = engineServiceSpec(spec);
    const sha = specSha256(body);
    return { body: { ...body, Labels: { ...body.Labels, [SPEC_LABEL]: sha } }, sha };
}

/** The engine's own form of a service's spec, hashed: any change to the service (ours, a person's, a rollback) changes it. */
const engineSha = (svc: ServiceInfo) => createHash("sha256").update(canonicalJson(svc.Spec)).digest("hex");

/** The registry an image reference names (Docker's rule: a first component with a dot or a port, or localhost), else Docker Hub. */
export function registryOf(image: string): string {
    const first = image.split("/")[0];
    return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** dockerode's auth for the image, when the login is for the image's registry. */
function authFor(image: string, login: RegistryLogin | undefined) {
    return login && registryOf(image) === login.address
        ? { username: login.username, password: login.password, serveraddress: login.address }
        : undefined;
}

/**
 * Creates the service, or updates it in one request to exactly `spec`, then waits until it has
 * converged (convergeConfig.timeout). An update that fails its health checks is rolled back by
 * Swarm (updateConfig.failureAction) and reported here as an error naming the service and
 * Swarm's message. A service of the same name not written by this program (no spec label) is
 * refused: taking it over while the Docker provider's resource for it is still in the state
 * would let that resource's deletion remove it (docs/operations/swarm-move.md).
 */
export async function applyService(docker: Docker, spec: SwarmServiceSpec, opts: ApplyOptions = {}): Promise<Applied> {
    const { body, sha } = labelled(spec);
    const timeoutMs = goDurationNs(spec.convergeConfig?.timeout ?? "10m") / 1e6;
    const deadline = Date.now() + timeoutMs;
    const auth = authFor(spec.taskSpec.containerSpec.image, opts.registryAuth);
    const existing = await findService(docker, spec.name);
    if (!existing) {
        opts.log?.(`creating service ${spec.name}`);
        // dockerode's two-argument form: its one-argument form sends the body as X-Registry-Auth too.
        type Create = (auth: object | undefined, options: object) => Promise<unknown>;
        const created = (await (docker.createService as unknown as Create).call(docker, auth, body).catch((e: unknown) => {
            throw new Error(`creating service ${spec.name}: ${messageOf(e)}`, { cause: e });
        })) as { ID?: string; id?: string };
        const id = String(created.ID ?? created.id);
        return { id, specSha256: sha, engineSha256: await converged(docker, id, spec, sha, deadline, opts) };
    }
    const label = existing.Spec.Labels?.[SPEC_LABEL];
    if (label === undefined)
        throw new Error(
            `service ${spec.name} exists but was not written by this program (it has no ${SPEC_LABEL} label). If this stack ran Swarm mode with the Docker provider's services, first remove those from the state (docs/operations/swarm-move.md, "A stack that already ran in Swarm mode"), then mark the service as taken over: docker service update --detach --label-add ${SPEC_LABEL}=adopt ${spec.name}`,
        );
    if (label === sha && opts.unchangedSince !== undefined && engineSha(existing) === opts.unchangedSince) {
        opts.log?.(`service ${spec.name} already has this spec: waiting for it to converge`);
        return { id: existing.ID, specSha256: sha, engineSha256: await converged(docker, existing.ID, spec, sha, deadline, opts) };
    }
    let current: ServiceInfo = existing;
    for (let attempt = 1; ; attempt++) {
        try {
            opts.log?.(`updating service ${spec.name}`);
            const service = docker.getService(current.ID);
            const options = { version: current.Version.Index, ...body };
            // dockerode's two-argument form sends the login as X-Registry-Auth, never in the body.
            type Update = (auth: object | undefined, options: object) => Promise<unknown>;
            await (service.update as unknown as Update).call(service, auth, options);
            break;
        } catch (e) {
            // Someone else updated it since we looked: look again and send ours over theirs.
            if (attempt < 3 && /update out of sequence/i.test(messageOf(e))) {
                current = (await inspect(docker, current.ID)) ?? current;
                continue;
            }
            throw new Error(`updating service ${spec.name}: ${messageOf(e)}`, { cause: e });
        }
    }
    return { id: current.ID, specSha256: sha, engineSha256: await converged(docker, current.ID, spec, sha, deadline, opts, current) };
}

/**
 * A task's spec in the form comparable with its service's task template: the engine adds
 * `Runtime` to the service's copy only (daemon/cluster/convert, serviceSpecFromGRPC).
 */
const comparable = (taskSpec: unknown) =>
    canonicalJson(Object.fromEntries(Object.entries((taskSpec ?? {}) as Record<string, unknown>).filter(([k]) => k !== "Runtime")));

/**
 * Waits until exactly `replicas` tasks should run, all of them do (healthy: Swarm reports a task
 * running once its health check passes), each runs the service's current spec (between two tasks
 * of a rollout, or before Swarm has started one, a count alone would say done too early), and
 * the update started after `before` is complete: Swarm still watches the last task for `monitor`
 * and rolls back if it fails then. Fails at once when the service no longer has the spec sent
 * (Swarm rolled it back, or someone else changed it), or when Swarm paused or rolled back that
 * update. `before` is the service just before an update; its UpdatedAt and the status's
 * StartedAt are both the manager's clock (and Swarm rewrites UpdatedAt with every status change).
 * Returns the engine's hash of the converged spec. A timeout (the spec was sent) throws an error
 * carrying `notConverged`.
 */
async function converged(
    docker: Docker,
    id: string,
    spec: SwarmServiceSpec,
    sha: string,
    deadline: number,
    opts: ApplyOptions,
    before?: ServiceInfo,
): Promise<string> {
    const replicas = spec.mode.replicated.replicas;
    const poll = opts.pollMs ?? 2000;
    const look = `Look at the tasks with \`docker service ps --no-trunc ${spec.name}\``;
    for (;;) {
        const svc = await inspect(docker, id);
        if (!svc) throw new Error(`service ${spec.name} was removed while it was being applied`);
        const u = svc.UpdateStatus;
        const swarmSays = `Swarm: ${u?.State ?? "no update status"}: ${u?.Message ?? "no message"}`;
        if (svc.Spec.Labels?.[SPEC_LABEL] !== sha)
            throw new Error(`service ${spec.name} no longer has the spec sent (${swarmSays}); the previous tasks are kept. ${look}`);
        const ours = before !== undefined && u?.StartedAt !== undefined && Date.parse(u.StartedAt) > Date.parse(before.UpdatedAt);
        if (ours && u && (u.State.startsWith("rollback") || u.State === "paused"))
            throw new Error(`service ${spec.name}: the update did not complete (${swarmSays}). ${look}`);
        const tasks = await tasksOf(docker, id);
        const wanted = tasks.filter((t) => t.DesiredState === "running");
        const current = comparable(svc.Spec.TaskTemplate);
        const upToDate = wanted.filter((t) => t.Status.State === "running" && comparable(t.Spec) === current);
        if (wanted.length === replicas && upToDate.length === replicas && !(ours && u?.State === "updating")) return engineSha(svc);
        if (Date.now() > deadline) {
            const failed = tasks.filter((t) => t.Status.Err).slice(-3);
            const message =
                `service ${spec.name} did not converge within ${spec.convergeConfig?.timeout ?? "10m"}: ` +
                `${upToDate.length} of ${replicas} tasks running its current spec (${swarmSays})` +
                (failed.length ? `; last task errors: ${failed.map((t) => t.Status.Err).join("; ")}` : "") +
                `. ${look}`;
            const notConverged: NotConverged = { serviceId: id, specSha256: sha, engineSha256: engineSha(svc) };
            throw Object.assign(new Error(message), { notConverged });
        }
        await sleep(poll);
    }
}

/**
 * Removes the service and waits until its tasks have stopped (each within its grace period), so
 * that the secrets, configs and networks it used can be removed next. A service already gone is fine.
 */
export async function removeService(docker: Docker, id: string, name: string, timeoutMs = 180_000, pollMs = 1000): Promise<void> {
    // Its tasks, by id: once the service is gone the engine no longer lists tasks by service.
    const ids = (
        await tasksOf(docker, id).catch((e: unknown) => {
            if (/no such service|not found/i.test(messageOf(e))) return [];
            throw e;
        })
    ).map((t) => t.ID);
    try {
        await docker.getService(id).remove();
    } catch (e) {
        if (!/no such service|not found/i.test(messageOf(e))) throw new Error(`removing service ${name}: ${messageOf(e)}`, { cause: e });
    }
    if (ids.length === 0) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const tasks = (await read(`listing the tasks of removed service ${name}`, () =>
            docker.listTasks({ filters: { id: ids } }),
        )) as unknown as TaskInfo[];
        // A task on a node that is down keeps its last state until Swarm gives it up (a day later): it is not waited for.
        const nodes = (await read("listing the nodes", () => docker.listNodes())) as { ID: string; Status?: { State?: string } }[];
        const down = new Set(nodes.filter((n) => n.Status?.State !== "ready").map((n) => n.ID));
        const left = tasks.filter(
            (t) =>
                !["complete", "shutdown", "failed", "rejected", "orphaned", "remove"].includes(t.Status.State) && !down.has(t.NodeID ?? ""),
        );
        if (left.length === 0) return;
        if (Date.now() > deadline)
            throw new Error(`service ${name} removed, but ${left.length} of its task(s) had not stopped after ${timeoutMs / 1000} s`);
        await sleep(pollMs);
    }
}

/** What refresh reads: the hash of the service's spec as the engine keeps it, or undefined when the service is gone. */
export async function readService(docker: Docker, id: string): Promise<{ engineSha256: string } | undefined> {
    const svc = await inspect(docker, id);
    return svc ? { engineSha256: engineSha(svc) } : undefined;
}
