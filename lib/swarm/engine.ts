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

/** A Docker API client for the stack's `dockerHost`. */
export function dockerClient(host: string): Docker {
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length), timeout: REQUEST_TIMEOUT_MS });
    const args = sshDialArgs(host);
    const agent = new Agent({ keepAlive: false });
    // Each request gets its own dial-stdio process, as each `docker` command does.
    (agent as unknown as { createConnection: () => Duplex }).createConnection = () => {
        const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
        // The answer ends when ssh has exited, so that a failed ssh is reported with its own words, not as a hang-up.
        const answer = new PassThrough();
        child.stdout.on("data", (d: Buffer) => answer.write(d));
        child.on("close", (code) =>
            code ? answer.destroy(new Error(`ssh to ${host} exited with ${code}: ${stderr.trim() || "no message"}`)) : answer.end(),
        );
        child.on("error", (e) => answer.destroy(new Error(`ssh to ${host}: ${e.message}`)));
        // A write to an ssh that already failed is not the error to report: ssh's exit (above) is.
        const request = new PassThrough();
        request.pipe(child.stdin);
        child.stdin.on("error", () => undefined);
        const socket = Duplex.from({ readable: answer, writable: request }) as Duplex & Record<string, unknown>;
        // What the HTTP client asks of a socket; the request's own timeout still applies.
        for (const method of ["setTimeout", "setNoDelay", "setKeepAlive", "ref", "unref"]) socket[method] = () => socket;
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
    return statusCode(e) === undefined && ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ESOCKETTIMEDOUT"].includes(code ?? "");
}

/** A read, retried up to three times on transport failures, 1 s and 2 s apart. */
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
}

export interface Applied {
    id: string;
    /** The spec's sha256, also kept in the service's `com.toolboxai.spec-sha256` label. */
    specSha256: string;
    /** The sha256 of the service's spec as the engine keeps it, once converged: refresh compares it (readService). */
    engineSha256: string;
}

/** The spec with its own hash in a service label (a label changes no task): `docker service inspect` shows which spec is live. */
function labelled(spec: SwarmServiceSpec): { body: EngineServiceSpec; sha: string } {
    const body = engineServiceSpec(spec);
    const sha = specSha256(body);
    return { body: { ...body, Labels: { ...body.Labels, [SPEC_LABEL]: sha } }, sha };
}

/** The engine's own form of a service's spec, hashed: any change to the service (ours, a person's, a rollback) changes it. */
const engineSha = (svc: ServiceInfo) => createHash("sha256").update(canonicalJson(svc.Spec)).digest("hex");

/**
 * Creates the service, or updates it in one request to exactly `spec`, then waits until it has
 * converged (convergeConfig.timeout). An update that fails its health checks is rolled back by
 * Swarm (updateConfig.failureAction) and reported here as an error naming the service and
 * Swarm's message. Sending the spec a service already has replaces no task: a re-run after an
 * interrupted `up` only waits for the rollout under way.
 */
export async function applyService(docker: Docker, spec: SwarmServiceSpec, opts: ApplyOptions = {}): Promise<Applied> {
    const { body, sha } = labelled(spec);
    const timeoutMs = goDurationNs(spec.convergeConfig?.timeout ?? "10m") / 1e6;
    const deadline = Date.now() + timeoutMs;
    const existing = await findService(docker, spec.name);
    let id: string;
    if (!existing) {
        opts.log?.(`creating service ${spec.name}`);
        const created = (await docker.createService(body as unknown as Docker.CreateServiceOptions).catch((e: unknown) => {
            throw new Error(`creating service ${spec.name}: ${messageOf(e)}`, { cause: e });
        })) as { ID?: string; id?: string };
        id = String(created.ID ?? created.id);
        await converged(docker, id, spec, sha, deadline, opts);
    } else {
        let current: ServiceInfo = existing;
        for (let attempt = 1; ; attempt++) {
            try {
                opts.log?.(`updating service ${spec.name}`);
                await docker.getService(current.ID).update({ version: current.Version.Index, ...body });
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
        id = current.ID;
        await converged(docker, id, spec, sha, deadline, opts, current);
    }
    const svc = await inspect(docker, id);
    if (!svc) throw new Error(`service ${spec.name} was removed while it was being applied`);
    return { id, specSha256: sha, engineSha256: engineSha(svc) };
}

/**
 * A task's spec in the form comparable with its service's task template: the engine adds
 * `Runtime` to the service's copy only (daemon/cluster/convert, serviceSpecFromGRPC).
 */
const comparable = (taskSpec: unknown) =>
    canonicalJson(Object.fromEntries(Object.entries((taskSpec ?? {}) as Record<string, unknown>).filter(([k]) => k !== "Runtime")));

/**
 * Waits until exactly `replicas` tasks should run, all of them do (healthy: Swarm reports a task
 * running once its health check passes), and each runs the service's current spec: between two
 * tasks of a rollout, or before Swarm has started one, a count alone would say done too early.
 * Fails at once when the service no longer has the spec sent (Swarm rolled it back, or someone
 * else changed it), or when Swarm paused or rolled back the update started after `before` (the
 * service as it was just before an update; its UpdatedAt and the status's StartedAt are both
 * the manager's clock, and Swarm rewrites UpdatedAt with every status change).
 */
async function converged(
    docker: Docker,
    id: string,
    spec: SwarmServiceSpec,
    sha: string,
    deadline: number,
    opts: ApplyOptions,
    before?: ServiceInfo,
): Promise<void> {
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
        if (wanted.length === replicas && wanted.every((t) => t.Status.State === "running" && comparable(t.Spec) === current)) return;
        if (Date.now() > deadline) {
            const failed = tasks.filter((t) => t.Status.Err).slice(-3);
            throw new Error(
                `service ${spec.name} did not converge within ${spec.convergeConfig?.timeout ?? "10m"}: ` +
                    `${wanted.filter((t) => t.Status.State === "running" && comparable(t.Spec) === current).length} of ${replicas} tasks running its current spec (${swarmSays})` +
                    (failed.length ? `; last task errors: ${failed.map((t) => t.Status.Err).join("; ")}` : "") +
                    `. ${look}`,
            );
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
        const left = tasks.filter((t) => !["complete", "shutdown", "failed", "rejected", "orphaned", "remove"].includes(t.Status.State));
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
