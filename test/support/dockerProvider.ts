/**
 * Replays planned Docker resources against a real engine the way the Docker provider does
 * (kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_{network,volume,
 * container}_funcs.go): a container is created with the planned configuration, connected to its
 * networks (the default bridge disconnected), each `uploads` entry is sent as its own tar with the
 * file under its absolute path, extracted at `/` (`PUT /containers/{id}/archive?path=/`), and
 * only then, unless `start` is false, started.
 *
 * What the replay changes from the plan, and only that, is given by `Substitutions`.
 */
import type Docker from "dockerode";
import { pack } from "tar-stream";
import { parseGoDuration } from "../../lib/providerForms";
import type { SwarmServiceSpec } from "../../lib/swarm/serviceSpec";
import { reveal } from "../../lib/offline/values";
import type { RecordedResource } from "../../lib/offline/evaluate";

type Inputs = Record<string, unknown>;
interface Upload {
    file: string;
    content?: string;
    contentBase64?: string;
    executable?: boolean;
    permissions?: string;
    owner?: string;
    group?: string;
}

export interface Substitutions {
    /** Planned image id (the mock's sha256) to the local stand-in tag. */
    images: Record<string, string>;
    /** Planned published port to the host port used here. */
    ports?: Record<number, number>;
    /** Upload contents the offline plan cannot have (TLS material): path to real content. */
    files?: Record<string, string>;
    /** Planned ids of resources created earlier in the replay (a seed's id in a label) to their real ids. */
    ids?: Record<string, string>;
}

const labelMap = (labels: unknown, ids: Record<string, string> = {}) =>
    Object.fromEntries(((labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, ids[l.value] ?? l.value]));

export async function createNetwork(docker: Docker, r: RecordedResource): Promise<Docker.Network> {
    const i = reveal(r.inputs) as Inputs;
    const ipam = i.ipamConfigs as { subnet?: string; gateway?: string }[] | undefined;
    return docker.createNetwork({
        Name: String(i.name),
        Driver: String(i.driver ?? "bridge"),
        Internal: i.internal === true,
        Attachable: i.attachable === true,
        CheckDuplicate: true,
        Labels: labelMap(i.labels),
        Options: (i.options as Record<string, string> | undefined) ?? {},
        ...(ipam?.length ? { IPAM: { Driver: "default", Config: ipam.map((c) => ({ Subnet: c.subnet, Gateway: c.gateway })) } } : {}),
    });
}

/** `name` is the provider's: the planned one, or the auto-name Pulumi gives it (the mock's output). */
export async function createVolume(docker: Docker, r: RecordedResource): Promise<void> {
    const i = reveal(r.inputs) as Inputs;
    await docker.createVolume({
        Name: String(i.name ?? reveal(r.outputs.name)),
        Driver: String(i.driver ?? "local"),
        Labels: labelMap(i.labels),
    });
}

const ns = (d: unknown) => (typeof d === "string" && d !== "" ? Number(parseGoDuration(d)) : 0);

type PlannedHealthcheck = { tests: string[]; interval?: string; timeout?: string; startPeriod?: string; retries?: number };

/** The Engine API's health check (durations in nanoseconds) from a planned container's or task's healthcheck. */
function engineHealthcheck(planned: unknown) {
    const health = planned as PlannedHealthcheck | undefined;
    return health
        ? {
              Test: health.tests,
              Interval: ns(health.interval),
              Timeout: ns(health.timeout),
              StartPeriod: ns(health.startPeriod),
              Retries: health.retries ?? 0,
          }
        : undefined;
}

/** The Engine API body kreuzwerker builds from the container's inputs (resourceDockerContainerCreate). */
export function containerCreateBody(r: RecordedResource, subs: Substitutions): Docker.ContainerCreateOptions {
    const i = reveal(r.inputs) as Inputs;
    const image = subs.images[String(i.image)] ?? String(i.image);
    const ports = (i.ports as { internal: number; external?: number; protocol?: string; ip?: string }[] | undefined) ?? [];
    const exposed = Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol ?? "tcp"}`, {}]));
    const bindings = Object.fromEntries(
        ports.map((p) => [
            `${p.internal}/${p.protocol ?? "tcp"}`,
            [{ HostIp: p.ip ?? "0.0.0.0", HostPort: String(subs.ports?.[p.external ?? p.internal] ?? p.external ?? "") }],
        ]),
    );
    const volumes = (i.volumes as { volumeName?: string; containerPath: string; readOnly?: boolean }[] | undefined) ?? [];
    const caps = i.capabilities as { adds?: string[]; drops?: string[] } | undefined;
    const hosts = (i.hosts as { host: string; ip: string }[] | undefined) ?? [];
    return {
        name: String(reveal(r.outputs.name) ?? r.name),
        Image: image,
        Cmd: i.command as string[] | undefined,
        Entrypoint: i.entrypoints as string[] | undefined,
        Env: i.envs as string[] | undefined,
        User: (i.user as string | undefined) ?? "",
        ExposedPorts: ports.length ? exposed : undefined,
        Labels: labelMap(i.labels, subs.ids),
        Healthcheck: engineHealthcheck(i.healthcheck),
        HostConfig: {
            Privileged: i.privileged === true,
            RestartPolicy: { Name: String(i.restart ?? "no"), MaximumRetryCount: Number(i.maxRetryCount ?? 0) },
            ReadonlyRootfs: i.readOnly === true,
            LogConfig: { Type: String(i.logDriver ?? "json-file"), Config: (i.logOpts as Record<string, string> | undefined) ?? {} },
            Tmpfs: i.tmpfs as Record<string, string> | undefined,
            PortBindings: ports.length ? bindings : undefined,
            ExtraHosts: hosts.map((h) => `${h.host}:${h.ip}`),
            Binds: volumes.filter((v) => v.volumeName).map((v) => `${v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`),
            CapAdd: caps?.adds,
            CapDrop: caps?.drops,
            SecurityOpt: i.securityOpts as string[] | undefined,
            Memory: Number(i.memory ?? 0) * 1024 * 1024,
            MemorySwap: Number(i.memorySwap ?? 0) > 0 ? Number(i.memorySwap) * 1024 * 1024 : Number(i.memorySwap ?? 0),
            // The provider parses `cpus` as a decimal into NanoCPUs.
            NanoCpus: i.cpus !== undefined ? Math.round(Number.parseFloat(String(i.cpus)) * 1e9) : undefined,
            PidsLimit: i.pidsLimit !== undefined ? Number(i.pidsLimit) : undefined,
            NetworkMode: i.networkMode as string | undefined,
            Init: i.init === true,
        },
    };
}

/** One upload as the provider tars it: the absolute path as the entry name, mode and numeric owner. */
export async function uploadTar(u: Upload, content: string): Promise<Buffer> {
    const tar = pack();
    const mode = u.permissions ? Number.parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
    tar.entry({ name: u.file, mode, size: Buffer.byteLength(content), uid: Number(u.owner ?? 0), gid: Number(u.group ?? 0) }, content);
    tar.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of tar) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
}

export interface Created {
    container: Docker.Container;
    id: string;
}

/**
 * Create, connect, upload at `/`, start: the provider's order. An engine error is thrown with
 * the container's name and the step (the provider's own messages).
 */
export async function createContainer(docker: Docker, r: RecordedResource, subs: Substitutions): Promise<Created> {
    const i = reveal(r.inputs) as Inputs;
    const container = await docker.createContainer(containerCreateBody(r, subs)).catch((e: Error) => {
        throw new Error(`${r.name}: Unable to create container: ${e.message}`);
    });
    const networks = (i.networksAdvanced as { name: string; aliases?: string[] }[] | undefined) ?? [];
    if (networks.length) {
        await docker
            .getNetwork("bridge")
            .disconnect({ Container: container.id })
            .catch(() => undefined);
        for (const n of networks)
            await docker.getNetwork(n.name).connect({ Container: container.id, EndpointConfig: { Aliases: n.aliases } });
    }
    for (const u of (i.uploads as Upload[] | undefined) ?? []) {
        const content = subs.files?.[u.file] ?? (u.contentBase64 ? Buffer.from(u.contentBase64, "base64").toString() : (u.content ?? ""));
        // The provider's dstPath := "/".
        await container.putArchive(await uploadTar(u, content), { path: "/" }).catch((e: Error) => {
            throw new Error(`${r.name}: Unable to upload volume content: ${e.message}`);
        });
    }
    if (i.start !== false) await container.start();
    return { container, id: container.id };
}

/** The provider's delete: force-remove (and the volumes only when `removeVolumes` says so, which ours never do). */
export async function deleteContainer(docker: Docker, id: string): Promise<void> {
    await docker.getContainer(id).remove({ force: true, v: false });
}

/** A Secret or ServiceConfig as the provider creates it: its (auto-)name and its data, base64. */
export async function createSwarmFile(docker: Docker, r: RecordedResource, content: string): Promise<string> {
    const i = reveal(r.inputs) as Inputs;
    const spec = {
        Name: String(i.name ?? reveal(r.outputs.name)),
        Data: Buffer.from(content).toString("base64"),
        Labels: labelMap(i.labels),
    };
    const created = (r.type === "docker:index/secret:Secret" ? await docker.createSecret(spec) : await docker.createConfig(spec)) as {
        id?: string;
        ID?: string;
    };
    return String(created.id ?? created.ID);
}

/**
 * A planned Swarm service (lib/swarm/resource.ts) with what the replay substitutes: planned
 * secret, config and network ids to the engine's, planned image digests to local stand-in tags,
 * planned published ports to the ones used here. The rest is the plan's, sent by the program's
 * own code (lib/swarm/engine.ts applyService).
 */
export function substitutedService(r: RecordedResource, subs: Substitutions & { ids: Record<string, string> }): SwarmServiceSpec {
    // The connection, the provider's code and the outputs are not part of the spec.
    const omitted = ["dockerHost", "__provider", "serviceId", "appliedSha256", "engineSha256", "observedSha256"];
    const planned = Object.fromEntries(Object.entries(reveal(r.inputs) as Inputs).filter(([k]) => !omitted.includes(k)));
    const spec = planned as unknown as SwarmServiceSpec;
    const c = spec.taskSpec.containerSpec;
    return {
        ...spec,
        taskSpec: {
            ...spec.taskSpec,
            containerSpec: {
                ...c,
                image: subs.images[c.image] ?? c.image,
                secrets: c.secrets?.map((f) => ({ ...f, secretId: subs.ids[f.secretId!] ?? f.secretId })),
                configs: c.configs?.map((f) => ({ ...f, configId: subs.ids[f.configId!] ?? f.configId })),
            },
            networksAdvanceds: spec.taskSpec.networksAdvanceds?.map((n) => ({ ...n, id: subs.ids[n.id] ?? n.id })),
        },
        endpointSpec: spec.endpointSpec && {
            ...spec.endpointSpec,
            ports: spec.endpointSpec.ports?.map((p) => ({ ...p, publishedPort: subs.ports?.[Number(p.publishedPort)] ?? p.publishedPort })),
        },
    };
}
