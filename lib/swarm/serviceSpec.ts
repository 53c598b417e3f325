/**
 * A Swarm service as the program declares it, and the Engine API body it becomes.
 *
 * The declaration keeps the Docker provider's field names (docker.Service's arguments, so that a
 * preview reads as before), with one addition the provider lacks: `taskSpec.resources.limits.pids`.
 * The provider (kreuzwerker, resource_docker_service_structures.go: "TODO add pids") sends every
 * update without the PIDs limit, so a second `docker service update --limit-pids` rolled each
 * service again after every change. The program now sends the whole spec itself, in one update
 * (lib/swarm/engine.ts), translated here the way the provider translates it
 * (createServiceSpec), durations as Go durations in, nanoseconds out.
 */
import { createHash } from "node:crypto";
import { parseGoDuration } from "../providerForms";

export interface Label {
    label: string;
    value: string;
}

export interface FileRef {
    fileName: string;
    fileUid?: string;
    fileGid?: string;
    fileMode?: number;
    secretId?: string;
    secretName?: string;
    configId?: string;
    configName?: string;
}

export interface Mount {
    target: string;
    source?: string;
    type: string;
    readOnly?: boolean;
    tmpfsOptions?: { sizeBytes?: number; mode?: number };
    volumeOptions?: { driverName?: string; labels?: Label[] };
}

export interface Healthcheck {
    tests: string[];
    interval?: string;
    timeout?: string;
    startPeriod?: string;
    retries?: number;
}

export interface UpdatePolicy {
    parallelism?: number;
    delay?: string;
    failureAction?: string;
    monitor?: string;
    maxFailureRatio?: string;
    order?: string;
}

export interface SwarmServiceSpec {
    name: string;
    labels?: Label[];
    mode: { replicated: { replicas: number } };
    taskSpec: {
        containerSpec: {
            image: string;
            commands?: string[];
            env?: Record<string, string>;
            user?: string;
            readOnly?: boolean;
            capDrops?: string[];
            init?: boolean;
            labels?: Label[];
            mounts?: Mount[];
            hosts?: { host: string; ip: string }[];
            healthcheck?: Healthcheck;
            stopGracePeriod?: string;
            secrets?: FileRef[];
            configs?: FileRef[];
        };
        resources?: { limits?: { memoryBytes?: number; nanoCpus?: number; pids?: number } };
        restartPolicy?: { condition?: string; delay?: string; window?: string };
        placement?: { constraints?: string[] };
        networksAdvanceds?: { id: string; aliases?: string[] }[];
        logDriver?: { name: string; options?: Record<string, string> };
    };
    endpointSpec?: {
        mode?: string;
        ports?: { targetPort: number; publishedPort?: number; protocol?: string; publishMode?: string }[];
    };
    updateConfig?: UpdatePolicy;
    rollbackConfig?: UpdatePolicy;
    /** How long create and update wait for every task to run healthy (Go durations). */
    convergeConfig?: { timeout?: string };
}

/** A Go duration ("1m30s", "500ms") in nanoseconds; "" and undefined are 0, as the provider parses them. */
export function goDurationNs(duration: string | undefined): number {
    return duration === undefined || duration === "" ? 0 : Number(parseGoDuration(duration));
}

const labelMap = (labels: Label[] | undefined) => Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

function updatePolicy(u: UpdatePolicy | undefined) {
    return u
        ? {
              Parallelism: u.parallelism ?? 1,
              Delay: goDurationNs(u.delay),
              FailureAction: u.failureAction ?? "pause",
              Monitor: goDurationNs(u.monitor),
              MaxFailureRatio: Number(u.maxFailureRatio ?? 0),
              Order: u.order ?? "stop-first",
          }
        : undefined;
}

function fileTarget(f: FileRef) {
    return { Name: f.fileName, UID: f.fileUid ?? "0", GID: f.fileGid ?? "0", Mode: f.fileMode ?? 0o444 };
}

/** The Engine API's ServiceSpec (POST /services/create, /services/{id}/update) for a declared service. */
export function engineServiceSpec(s: SwarmServiceSpec): EngineServiceSpec {
    const c = s.taskSpec.containerSpec;
    const limits = s.taskSpec.resources?.limits;
    const health = c.healthcheck;
    const restart = s.taskSpec.restartPolicy;
    return {
        Name: s.name,
        Labels: labelMap(s.labels),
        Mode: { Replicated: { Replicas: s.mode.replicated.replicas } },
        TaskTemplate: {
            ContainerSpec: {
                Image: c.image,
                Command: c.commands,
                Env: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`),
                User: c.user,
                ReadOnly: c.readOnly === true,
                CapabilityDrop: c.capDrops,
                Init: c.init === true,
                Labels: labelMap(c.labels),
                Mounts: (c.mounts ?? []).map((m) => ({
                    Target: m.target,
                    Source: m.source,
                    Type: m.type,
                    ReadOnly: m.readOnly === true,
                    ...(m.tmpfsOptions ? { TmpfsOptions: { SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode } } : {}),
                    ...(m.volumeOptions
                        ? {
                              VolumeOptions: {
                                  Labels: labelMap(m.volumeOptions.labels),
                                  DriverConfig: { Name: m.volumeOptions.driverName },
                              },
                          }
                        : {}),
                })),
                // hosts(5) order, as the provider sends it (extraHostsSetToServiceExtraHosts): "IP name".
                Hosts: (c.hosts ?? []).map((h) => `${h.ip} ${h.host}`),
                Healthcheck: health
                    ? {
                          Test: health.tests,
                          Interval: goDurationNs(health.interval),
                          Timeout: goDurationNs(health.timeout),
                          StartPeriod: goDurationNs(health.startPeriod),
                          Retries: health.retries ?? 0,
                      }
                    : undefined,
                // Unset, the engine stops a task with SIGKILL right after SIGTERM.
                StopGracePeriod: goDurationNs(c.stopGracePeriod),
                Secrets: (c.secrets ?? []).map((f) => ({ File: fileTarget(f), SecretID: f.secretId!, SecretName: f.secretName! })),
                Configs: (c.configs ?? []).map((f) => ({ File: fileTarget(f), ConfigID: f.configId!, ConfigName: f.configName! })),
            },
            Resources: {
                Limits: {
                    ...(limits?.memoryBytes !== undefined ? { MemoryBytes: limits.memoryBytes } : {}),
                    ...(limits?.nanoCpus !== undefined ? { NanoCPUs: limits.nanoCpus } : {}),
                    ...(limits?.pids !== undefined ? { Pids: limits.pids } : {}),
                },
            },
            RestartPolicy: restart
                ? { Condition: restart.condition, Delay: goDurationNs(restart.delay), Window: goDurationNs(restart.window) }
                : undefined,
            Placement: s.taskSpec.placement ? { Constraints: s.taskSpec.placement.constraints } : undefined,
            Networks: (s.taskSpec.networksAdvanceds ?? []).map((n) => ({ Target: n.id, Aliases: n.aliases })),
            LogDriver: s.taskSpec.logDriver ? { Name: s.taskSpec.logDriver.name, Options: s.taskSpec.logDriver.options } : undefined,
        },
        UpdateConfig: updatePolicy(s.updateConfig),
        RollbackConfig: updatePolicy(s.rollbackConfig),
        EndpointSpec: s.endpointSpec
            ? {
                  Mode: s.endpointSpec.mode ?? "vip",
                  Ports: (s.endpointSpec.ports ?? []).map((p) => ({
                      TargetPort: p.targetPort,
                      PublishedPort: p.publishedPort,
                      Protocol: p.protocol ?? "tcp",
                      PublishMode: p.publishMode ?? "ingress",
                  })),
              }
            : undefined,
    };
}

export type EngineServiceSpec = {
    Name: string;
    Labels: Record<string, string>;
    Mode: { Replicated: { Replicas: number } };
    TaskTemplate: Record<string, unknown> & { ContainerSpec: Record<string, unknown>; Resources: { Limits: Record<string, number> } };
    UpdateConfig?: Record<string, unknown>;
    RollbackConfig?: Record<string, unknown>;
    EndpointSpec?: { Mode: string; Ports: Record<string, unknown>[] };
};

/** The service label that holds the sha256 of the spec last applied (lib/swarm/engine.ts): a label changes no task. */
export const SPEC_LABEL = "com.toolboxai.spec-sha256";

/** JSON with object keys sorted and undefined dropped: the same spec always hashes the same. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_k, v: unknown) =>
        v && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : v,
    );
}

export function specSha256(spec: EngineServiceSpec): string {
    const labels = Object.fromEntries(Object.entries(spec.Labels).filter(([k]) => k !== SPEC_LABEL));
    return createHash("sha256")
        .update(canonicalJson({ ...spec, Labels: labels }))
        .digest("hex");
}
