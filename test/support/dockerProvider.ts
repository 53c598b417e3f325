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

type FileRef = {
    fileName: string;
    fileUid?: string;
    fileGid?: string;
    fileMode?: number;
    secretId?: string;
    secretName?: string;
    configId?: string;
    configName?: string;
};

/**
 * The ServiceSpec kreuzwerker builds from a docker_service's inputs (resource_docker_service_funcs.go
 * createServiceSpec): `ids` maps planned secret, config and network ids to the engine's.
 */
export function serviceSpec(
    r: RecordedResource,
    subs: Substitutions & { ids: Record<string, string>; publishMode?: string },
): Record<string, unknown> {
    const i = reveal(r.inputs) as Inputs;
    const task = i.taskSpec as Inputs;
    const c = task.containerSpec as Inputs;
    const file = (f: FileRef) => ({ Name: f.fileName, UID: f.fileUid ?? "0", GID: f.fileGid ?? "0", Mode: f.fileMode ?? 0o444 });
    const mounts = ((c.mounts as Inputs[] | undefined) ?? []).map((m) => ({
        Target: m.target,
        Source: m.source,
        Type: m.type,
        ReadOnly: m.readOnly === true,
        ...(m.tmpfsOptions
            ? { TmpfsOptions: { SizeBytes: (m.tmpfsOptions as Inputs).sizeBytes, Mode: (m.tmpfsOptions as Inputs).mode } }
            : {}),
        ...(m.volumeOptions
            ? {
                  VolumeOptions: {
                      Labels: labelMap((m.volumeOptions as Inputs).labels),
                      DriverConfig: { Name: (m.volumeOptions as Inputs).driverName },
                  },
              }
            : {}),
    }));
    const limits = ((task.resources as Inputs | undefined)?.limits as Inputs | undefined) ?? {};
    const restart = task.restartPolicy as Inputs | undefined;
    const ports = ((i.endpointSpec as Inputs | undefined)?.ports as Inputs[] | undefined) ?? [];
    const updates = (u: unknown) => {
        const c = u as Inputs | undefined;
        return c
            ? {
                  Parallelism: c.parallelism,
                  Delay: ns(c.delay),
                  FailureAction: c.failureAction,
                  Monitor: ns(c.monitor),
                  MaxFailureRatio: Number(c.maxFailureRatio ?? 0),
                  Order: c.order,
              }
            : undefined;
    };
    return {
        Name: i.name,
        Labels: labelMap(i.labels),
        UpdateConfig: updates(i.updateConfig),
        RollbackConfig: updates(i.rollbackConfig),
        Mode: { Replicated: { Replicas: ((i.mode as Inputs).replicated as Inputs).replicas } },
        TaskTemplate: {
            ContainerSpec: {
                Image: subs.images[String(c.image)] ?? c.image,
                Command: c.commands,
                Env: Object.entries((c.env as Record<string, string> | undefined) ?? {}).map(([k, v]) => `${k}=${v}`),
                User: c.user,
                ReadOnly: c.readOnly === true,
                CapabilityDrop: c.capDrops,
                Init: c.init === true,
                Labels: labelMap(c.labels),
                Mounts: mounts,
                Hosts: ((c.hosts as { host: string; ip: string }[] | undefined) ?? []).map((h) => `${h.host}:${h.ip}`),
                Healthcheck: engineHealthcheck(c.healthcheck),
                // Unset, the provider parses "" and sends 0: SIGKILL right after SIGTERM.
                StopGracePeriod: ns(c.stopGracePeriod),
                Secrets: ((c.secrets as FileRef[] | undefined) ?? []).map((s) => ({
                    File: file(s),
                    SecretID: subs.ids[s.secretId!],
                    SecretName: s.secretName,
                })),
                Configs: ((c.configs as FileRef[] | undefined) ?? []).map((s) => ({
                    File: file(s),
                    ConfigID: subs.ids[s.configId!],
                    ConfigName: s.configName,
                })),
            },
            Resources: { Limits: { MemoryBytes: limits.memoryBytes, NanoCPUs: limits.nanoCpus } },
            RestartPolicy: restart ? { Condition: restart.condition, Delay: ns(restart.delay), Window: ns(restart.window) } : undefined,
            Placement: task.placement ? { Constraints: (task.placement as Inputs).constraints } : undefined,
            Networks: ((task.networksAdvanceds as { id: string; aliases?: string[] }[] | undefined) ?? []).map((n) => ({
                Target: subs.ids[n.id] ?? n.id,
                Aliases: n.aliases,
            })),
            LogDriver: task.logDriver ? { Name: (task.logDriver as Inputs).name, Options: (task.logDriver as Inputs).options } : undefined,
        },
        EndpointSpec: i.endpointSpec
            ? {
                  Mode: (i.endpointSpec as Inputs).mode,
                  Ports: ports.map((p) => ({
                      TargetPort: p.targetPort,
                      PublishedPort: subs.ports?.[Number(p.publishedPort)] ?? p.publishedPort,
                      Protocol: p.protocol,
                      PublishMode: subs.publishMode ?? p.publishMode,
                  })),
              }
            : undefined,
    };
}
