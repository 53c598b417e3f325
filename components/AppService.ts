import * as pulumi from "@pulumi/pulumi";
import { Container } from "@pulumi/docker/container";
import { RemoteImage } from "@pulumi/docker/remoteImage";
import { Volume } from "@pulumi/docker/volume";
import type { DockerMode, DockerNetwork, ServiceSpec, SwarmEndpointMode } from "../lib/config";
import {
    APP_UID,
    dockerLabels,
    dockerName,
    hardening,
    publishModeFor,
    STOP_GRACE_PERIOD,
    swarmHardening,
    SWARM_CONVERGE,
    SWARM_UPDATE,
} from "../lib/docker";
import { canonicalHealthcheck } from "../lib/providerForms";
import { seedContainer, seededLabels } from "./seed";
import { pidsLimit } from "./pidsLimit";
import { swarmFiles } from "./swarmFiles";
import { SwarmService, type SwarmRegistryLogin } from "../lib/swarm/resource";
import { CONTAINER_FILES_DIR, CONTAINER_SECRETS_DIR } from "../lib/constants";

export interface AppServiceArgs {
    /** Stack name, for Docker object names. */
    stack: string;
    /** single: one container per replica; swarm: one Swarm service. */
    mode: DockerMode;
    /** The service as the stack config describes it (plain: it decides how many containers exist); monitoring's are the program's own. */
    spec: ServiceSpec | (Omit<ServiceSpec, "role"> & { role: "monitoring" });
    /** uid (and gid) the containers run as and that owns their files: the applications' 10001 unless given. */
    uid?: string;
    /**
     * A named data volume at `containerPath`, kept across replacement and `pulumi destroy` (protected,
     * retained); in Swarm mode declared in the task's mount, the task placed on the node labelled `swarmNodeLabel`.
     */
    data?: { volume: string; containerPath: string; swarmNodeLabel: string };
    /** Host paths mounted read-only (node_exporter's view of the host); in Swarm mode the task runs on the node labelled `swarmNodeLabel`. */
    hostMounts?: { paths: { hostPath: string; containerPath: string }[]; swarmNodeLabel: string };
    /** Docker networks by role: names (containers) and ids (Swarm services). */
    networks: { names: Record<DockerNetwork, pulumi.Input<string>>; ids: Record<DockerNetwork, pulumi.Input<string>> };
    /** Environment variables: never a secret (secrets go in `secretFiles`). */
    environment: Record<string, pulumi.Input<string>>;
    /** Files under /run/secrets (name to content), mode 0400, owned by the service's user. */
    secretFiles: Record<string, pulumi.Input<string>>;
    /** Public files under /etc/toolboxai (name to content), mode 0444. */
    files: Record<string, pulumi.Input<string>>;
    healthcheck: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod?: string };
    /** Extra /etc/hosts entries, e.g. host.docker.internal -> host-gateway (resolved by the engine that starts the container). */
    hosts?: { host: string; ip: string }[];
    /** Tags carried as labels. */
    tags: Record<string, string>;
    /** The engine the provider talks to: containers get their PIDs limit there with the Docker CLI (components/pidsLimit.ts), and Swarm services are written there (lib/swarm/engine.ts). */
    dockerHost: string;
    /** Host address the published ports bind to (single host; Swarm's ingress binds every interface). */
    hostAddress: string;
    /** The credentials' active rotation slot: a single-host container's volumes are the slot's own. */
    rotationSlot?: "a" | "b";
    /** Swarm mode: vip (routing mesh, IPVS) or dnsrr (host-mode ports). */
    endpointMode: SwarmEndpointMode;
    /** Swarm mode: the login for private images, sent with each service create and update (username and password secrets). */
    registry?: SwarmRegistryLogin;
}

/**
 * One application service (backend, worker or MCP server): on a single host, one hardened
 * container per replica reachable under the service's name; in Swarm mode, a replicated service
 * with rolling updates, its secrets as Docker secrets, on the overlay networks.
 */
export class AppService extends pulumi.ComponentResource {
    /** Container names (single host) or the Swarm service's name. */
    readonly runtimeNames: pulumi.Output<string>[];
    private readonly uid: string;

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:app:AppService", name, {}, opts);
        const { spec } = args;
        const labels = dockerLabels(args.tags, { service: spec.name, role: spec.role });
        this.uid = args.uid ?? APP_UID;
        const image = new RemoteImage(`${name}-image`, { name: spec.image, keepLocally: true }, { parent: this });
        this.runtimeNames =
            args.mode === "swarm" ? [this.swarmService(name, args, image, labels)] : this.containers(name, args, image, labels);
        this.registerOutputs({ runtimeNames: this.runtimeNames });
    }

    private containers(
        name: string,
        args: AppServiceArgs,
        image: RemoteImage,
        labels: { label: string; value: string }[],
    ): pulumi.Output<string>[] {
        const { spec } = args;
        const child = { parent: this };
        const envs = Object.entries(args.environment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => pulumi.interpolate`${key}=${value}`);
        const uploads = [
            ...Object.entries(args.secretFiles).map(([file, content]) => ({
                file: `${CONTAINER_SECRETS_DIR}/${file}`,
                content: pulumi.secret(content),
                // With every capability dropped, only the owner can read a 0400 file: the service's own user.
                permissions: "0400",
                owner: this.uid,
                group: this.uid,
            })),
            ...Object.entries(args.files).map(([file, content]) => ({
                file: `${CONTAINER_FILES_DIR}/${file}`,
                content,
                permissions: "0444",
                owner: this.uid,
                group: this.uid,
            })),
        ];
        const user = `${this.uid}:${this.uid}`;
        // Its labels come from the stack's tags and would force a replacement, which `protect` refuses.
        const data =
            args.data &&
            new Volume(
                `${name}-data`,
                { name: dockerName(args.stack, args.data.volume), labels },
                { ...child, protect: true, retainOnDelete: true, ignoreChanges: ["labels"] },
            );
        const names: pulumi.Output<string>[] = [];
        for (let replica = 0; replica < spec.replicas; replica++) {
            const id = `${name}-${replica}`;
            // A read-only root filesystem takes no uploads: the seed fills these volumes (./seed.ts).
            // Each rotation slot has its own: a step's new seed fills fresh volumes, never the ones the
            // running container reads until it is replaced (rewritten under it, its password file
            // vanished for a moment and then named the other login: failed logins, test/rotationEngine.test.ts).
            // The previous slot's volumes go with the container they served.
            const slot = args.rotationSlot ? `-${args.rotationSlot}` : "";
            const secrets = new Volume(`${id}-secrets${slot}`, { labels }, child);
            const files = new Volume(`${id}-files${slot}`, { labels }, child);
            const volumes = [
                { volumeName: secrets.name, containerPath: CONTAINER_SECRETS_DIR },
                { volumeName: files.name, containerPath: CONTAINER_FILES_DIR },
            ];
            const seed = seedContainer(id, { image: image.imageId, user, volumes, uploads, labels }, child);
            const container = new Container(
                id,
                {
                    image: image.imageId,
                    command: spec.command,
                    envs,
                    networksAdvanced: spec.networks.map((network) => ({ name: args.networks.names[network], aliases: [spec.name] })),
                    ports: spec.ports.map((p) => ({ internal: p.target, external: p.published, ip: args.hostAddress, protocol: "tcp" })),
                    volumes: [
                        ...volumes,
                        ...(data && args.data ? [{ volumeName: data.name, containerPath: args.data.containerPath }] : []),
                        ...(args.hostMounts?.paths ?? []).map((m) => ({ ...m, readOnly: true })),
                    ],
                    healthcheck: canonicalHealthcheck(args.healthcheck, "container"),
                    hosts: args.hosts?.length ? args.hosts : undefined,
                    ...hardening({ user, memoryMb: spec.memoryMb, cpus: spec.cpus, labels }),
                    labels: seededLabels(labels, seed),
                },
                // Auto-named, so a replacement never collides by name; a published port or a data volume (one writer) is freed first.
                { ...child, deleteBeforeReplace: spec.ports.length > 0 || args.data !== undefined, dependsOn: [seed] },
            );
            pidsLimit(
                `${id}-pids`,
                {
                    target: container.name,
                    limit: spec.pidsLimit,
                    dockerHost: args.dockerHost,
                    rewrittenBy: [container.id],
                },
                child,
            );
            names.push(container.name);
        }
        return names;
    }

    private swarmService(
        name: string,
        args: AppServiceArgs,
        image: RemoteImage,
        labels: { label: string; value: string }[],
    ): pulumi.Output<string> {
        const { spec } = args;
        const child = { parent: this };
        // Docker secrets are held in memory on the nodes, never on disk.
        const { secrets, configs } = swarmFiles(
            {
                name,
                stack: args.stack,
                owner: spec.name,
                secret: Object.fromEntries(
                    Object.entries(args.secretFiles).map(([file, content]) => [`${CONTAINER_SECRETS_DIR}/${file}`, content]),
                ),
                public: Object.fromEntries(
                    Object.entries(args.files).map(([file, content]) => [`${CONTAINER_FILES_DIR}/${file}`, content]),
                ),
                uid: this.uid,
                labels,
            },
            child,
        );
        const hardened = swarmHardening({
            user: `${this.uid}:${this.uid}`,
            memoryMb: spec.memoryMb,
            cpus: spec.cpus,
            pidsLimit: spec.pidsLimit,
            labels,
        });
        // The data volume lives on one node: the engine there creates it on first start (as Redis's, components/RedisServer.ts).
        const dataMount = args.data && {
            target: args.data.containerPath,
            source: dockerName(args.stack, args.data.volume),
            type: "volume",
            volumeOptions: { driverName: "local", labels: dockerLabels(args.tags, { service: spec.name, retain: "true" }) },
        };
        const service = new SwarmService(
            `${name}-service`,
            {
                dockerHost: args.dockerHost,
                registryAuth: args.registry,
                name: dockerName(args.stack, spec.name),
                labels,
                mode: { replicated: { replicas: spec.replicas } },
                taskSpec: {
                    ...hardened,
                    containerSpec: {
                        ...hardened.containerSpec,
                        image: image.repoDigest,
                        commands: spec.command,
                        env: args.environment,
                        secrets,
                        configs,
                        ...(dataMount || args.hostMounts
                            ? {
                                  mounts: [
                                      ...hardened.containerSpec.mounts,
                                      ...(dataMount ? [dataMount] : []),
                                      ...(args.hostMounts?.paths ?? []).map((m) => ({
                                          type: "bind",
                                          source: m.hostPath,
                                          target: m.containerPath,
                                          readOnly: true,
                                      })),
                                  ],
                              }
                            : {}),
                        healthcheck: canonicalHealthcheck(args.healthcheck, "service"),
                        stopGracePeriod: STOP_GRACE_PERIOD[spec.role],
                        // `host-gateway` resolves on the node that runs the task: host.docker.internal is that node.
                        hosts: args.hosts?.length ? args.hosts : undefined,
                    },
                    networksAdvanceds: spec.networks.map((network) => ({ id: args.networks.ids[network], aliases: [spec.name] })),
                    ...(args.data || args.hostMounts
                        ? { placement: { constraints: [`node.labels.${(args.data ?? args.hostMounts)!.swarmNodeLabel}==true`] } }
                        : {}),
                },
                endpointSpec: {
                    mode: args.endpointMode,
                    ports: spec.ports.map((p) => ({
                        targetPort: p.target,
                        publishedPort: p.published,
                        protocol: "tcp",
                        publishMode: publishModeFor(args.endpointMode),
                    })),
                },
                ...SWARM_UPDATE,
                // One writer on the data volume: the old task stops before the new one starts.
                ...(args.data ? { updateConfig: { ...SWARM_UPDATE.updateConfig, order: "stop-first" } } : {}),
                convergeConfig: SWARM_CONVERGE,
            },
            child,
        );
        return service.name;
    }
}
