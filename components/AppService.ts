import * as pulumi from "@pulumi/pulumi";
import { Container } from "@pulumi/docker/container";
import { RemoteImage } from "@pulumi/docker/remoteImage";
import { Volume } from "@pulumi/docker/volume";
import type { DockerNetwork, ServiceSpec } from "../lib/config";
import { APP_UID, APP_USER, dockerLabels, hardening } from "../lib/docker";

export const SECRETS_DIR = "/run/secrets";
export const FILES_DIR = "/etc/toolboxai";

export interface AppServiceArgs {
    /** The service as the stack config describes it (plain: it decides how many containers exist). */
    spec: ServiceSpec;
    /** Docker network names by role. */
    networks: Record<DockerNetwork, pulumi.Input<string>>;
    /** Environment variables: never a secret (secrets go in `secretFiles`). */
    environment: Record<string, pulumi.Input<string>>;
    /** Files under /run/secrets (name to content), mode 0400, owned by the service's user. */
    secretFiles: Record<string, pulumi.Input<string>>;
    /** Public files under /etc/toolboxai (name to content), mode 0444. */
    files: Record<string, pulumi.Input<string>>;
    healthcheck: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod?: string };
    /** Tags carried as labels. */
    tags: Record<string, string>;
}

/**
 * One application service (backend, worker or MCP server) on a single Docker host: one hardened
 * container per replica, reachable on its networks under the service's name.
 */
export class AppService extends pulumi.ComponentResource {
    readonly containerNames: pulumi.Output<string>[];

    constructor(name: string, args: AppServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:app:AppService", name, {}, opts);
        const { spec } = args;
        const child = { parent: this };
        const labels = dockerLabels(args.tags, { service: spec.name, role: spec.role });
        const image = new RemoteImage(`${name}-image`, { name: spec.image, keepLocally: true }, child);
        const envs = Object.entries(args.environment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => pulumi.interpolate`${key}=${value}`);
        const uploads = [
            ...Object.entries(args.secretFiles).map(([file, content]) => ({
                file: `${SECRETS_DIR}/${file}`,
                content: pulumi.secret(content),
                // With every capability dropped, only the owner can read a 0400 file: the service's own user.
                permissions: "0400",
                owner: APP_UID,
                group: APP_UID,
            })),
            ...Object.entries(args.files).map(([file, content]) => ({ file: `${FILES_DIR}/${file}`, content, permissions: "0444", owner: APP_UID, group: APP_UID })),
        ];

        this.containerNames = [];
        for (let replica = 0; replica < spec.replicas; replica++) {
            const id = `${name}-${replica}`;
            // Uploads reach a read-only root filesystem only inside volumes.
            const secrets = new Volume(`${id}-secrets`, { labels }, child);
            const files = new Volume(`${id}-files`, { labels }, child);
            const container = new Container(
                id,
                {
                    image: image.imageId,
                    command: spec.command,
                    envs,
                    networksAdvanced: spec.networks.map((network) => ({ name: args.networks[network], aliases: [spec.name] })),
                    ports: spec.ports.map((p) => ({ internal: p.target, external: p.published, protocol: "tcp" })),
                    volumes: [
                        { volumeName: secrets.name, containerPath: SECRETS_DIR },
                        { volumeName: files.name, containerPath: FILES_DIR },
                    ],
                    uploads,
                    healthcheck: args.healthcheck,
                    ...hardening({ user: APP_USER, memoryMb: spec.memoryMb, cpus: spec.cpus, labels }),
                },
                // Auto-named, so a replacement never collides by name; a published port is freed first.
                { ...child, deleteBeforeReplace: spec.ports.length > 0 },
            );
            this.containerNames.push(container.name);
        }
        this.registerOutputs({ containerNames: this.containerNames });
    }
}
