/**
 * A planned stack in Swarm mode replayed on a real Swarm: networks, secrets and configs the way
 * the Docker provider creates them (./dockerProvider.ts), then the services through the
 * program's own code (lib/swarm/engine.ts), referring to them by the engine's ids. Shared by the single-node (test/engine.test.ts) and multi-node
 * (test/swarmNodes.test.ts) replays; what each substitutes is said there.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import type { Evaluation, RecordedResource } from "../../lib/offline/evaluate";
import { mockId } from "../../lib/offline/mockProviders";
import { reveal } from "../../lib/offline/values";
import { REDIS_PATHS } from "../../lib/redis";
import { ofType } from "../harness";
import { applyService } from "../../lib/swarm/engine";
import { SWARM_SERVICE_TYPE } from "../../lib/swarm/resource";
import { createNetwork, createSwarmFile, substitutedService } from "./dockerProvider";
import { makePki } from "./redis";

export const SERVICE = SWARM_SERVICE_TYPE;

type FileRef = { secretId?: string; configId?: string; fileName: string };
export interface PlannedTask {
    containerSpec: {
        user: string;
        secrets?: FileRef[];
        configs?: FileRef[];
        stopGracePeriod?: string;
        env?: Record<string, string>;
    };
    placement?: { constraints: string[] };
}

export const taskOf = (svc: RecordedResource) => reveal(svc.inputs.taskSpec) as PlannedTask;

/** The offline plan's stand-in for a key or certificate (lib/offline/mockProviders.ts): a PEM around "offline placeholder …". */
export function isPlaceholder(content: string): boolean {
    const body = /-----BEGIN [A-Z ]+-----\n([A-Za-z0-9+/=\n]+)-----END/.exec(content)?.[1];
    return body !== undefined && Buffer.from(body, "base64").toString().startsWith("offline placeholder");
}

/** Real TLS material made with openssl to RedisServer's specification, by the path it is mounted at. */
export async function tlsFiles(): Promise<Record<string, string>> {
    const pki = await makePki(mkdtempSync(join(tmpdir(), "toolboxai-engine-pki-")), "redis");
    const read = (p: string) => readFileSync(p, "utf8");
    return {
        [REDIS_PATHS.caCert]: read(pki.caCert),
        [REDIS_PATHS.serverCert]: read(pki.serverCert),
        [REDIS_PATHS.serverKey]: read(pki.serverKey),
        "/etc/toolboxai/redis-ca.crt": read(pki.caCert),
    };
}

/** The planned id of a resource (the mock's), as services reference secrets, configs and networks. */
export const plannedId = (stack: string, r: RecordedResource) => mockId({ stack, type: r.type, name: r.name, inputs: {} });

/** A planned service with a shorter health check interval (the engine waits a whole interval before the first check). */
export function withServiceInterval(r: RecordedResource, interval: string): RecordedResource {
    const task = r.inputs.taskSpec as { containerSpec: Record<string, unknown> };
    const health = task.containerSpec.healthcheck as Record<string, unknown> | undefined;
    if (!health) return r;
    return {
        ...r,
        inputs: { ...r.inputs, taskSpec: { ...task, containerSpec: { ...task.containerSpec, healthcheck: { ...health, interval } } } },
    };
}

export interface SwarmDeployment {
    /** Planned ids (networks, secrets, configs) to the engine's. */
    ids: Record<string, string>;
    /** Planned image digests to the local stand-in tags. */
    images: Record<string, string>;
    /** What each secret and config was created with (TLS placeholders replaced), by planned id. */
    contents: Record<string, string>;
}

/**
 * Creates the plan's networks, secrets, configs and services on a Swarm manager. `network` may
 * change a planned network before it is created (a substitution the caller documents);
 * `service` likewise for each service.
 */
export async function deploySwarmPlan(
    docker: Docker,
    ev: Evaluation,
    stack: string,
    opts: {
        ports: Record<number, number>;
        network?: (n: RecordedResource) => RecordedResource;
        service?: (s: RecordedResource) => RecordedResource;
    },
): Promise<SwarmDeployment> {
    const ids: Record<string, string> = {};
    for (const n of ofType(ev, "docker:index/network:Network"))
        ids[plannedId(stack, n)] = (await createNetwork(docker, opts.network ? opts.network(n) : n)).id;
    // Each secret and config is mounted at one path: substitute the TLS placeholders by path.
    const files = await tlsFiles();
    const pathOf = new Map<string, string>();
    for (const svc of ofType(ev, SERVICE)) {
        const spec = taskOf(svc).containerSpec;
        for (const f of spec.secrets ?? []) pathOf.set(f.secretId!, f.fileName);
        for (const f of spec.configs ?? []) pathOf.set(f.configId!, f.fileName);
    }
    const contents: Record<string, string> = {};
    for (const f of [...ofType(ev, "docker:index/secret:Secret"), ...ofType(ev, "docker:index/serviceConfig:ServiceConfig")]) {
        // A Secret's `data` is base64 (components/swarmFiles.ts), a config's `dataRaw` plain.
        const planned =
            f.inputs.data !== undefined
                ? Buffer.from(String(reveal(f.inputs.data)), "base64").toString()
                : String(reveal(f.inputs.dataRaw));
        const path = pathOf.get(plannedId(stack, f)) ?? "";
        const content = isPlaceholder(planned) ? files[path] : planned;
        if (content === undefined) throw new Error(`offline placeholder with no real substitute: ${f.name} at ${path}`);
        ids[plannedId(stack, f)] = await createSwarmFile(docker, f, content);
        contents[plannedId(stack, f)] = content;
    }
    const images = Object.fromEntries(
        ofType(ev, "docker:index/remoteImage:RemoteImage").map((i) => [String(i.outputs.repoDigest), String(i.inputs.name)]),
    );
    // As `pulumi up` creates them: in parallel, each through the program's own code, which waits for it to converge.
    await Promise.all(
        ofType(ev, SERVICE).map((svc) =>
            applyService(docker, substitutedService(opts.service ? opts.service(svc) : svc, { images, ids, ports: opts.ports }), {
                pollMs: 500,
            }),
        ),
    );
    return { ids, images, contents };
}

/** The running task containers of a service on one engine (a node sees only its own). */
export async function runningTasks(docker: Docker, service: string): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`], status: ["running"] } });
}

/** Runs a command in a container; returns its exit code and output (the 8-byte stream headers removed). */
export async function execIn(docker: Docker, id: string, cmd: string[], user?: string): Promise<{ code: number; output: string }> {
    const e = await docker.getContainer(id).exec({ Cmd: cmd, User: user, AttachStdout: true, AttachStderr: true });
    const stream = await e.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    stream.on("data", (d: Buffer) => chunks.push(d));
    await new Promise((r) => stream.on("end", r));
    const { ExitCode } = await e.inspect();
    let buf = Buffer.concat(chunks);
    let output = "";
    while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        output += buf.subarray(8, 8 + size).toString();
        buf = buf.subarray(8 + size);
    }
    return { code: ExitCode ?? -1, output };
}
