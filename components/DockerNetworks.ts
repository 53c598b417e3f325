import * as pulumi from "@pulumi/pulumi";
import { Network } from "@pulumi/docker/network";
import { DOCKER_NETWORKS, type DockerMode, type DockerNetwork } from "../lib/config";
import { dockerLabels, dockerName, NETWORKS } from "../lib/docker";

export interface DockerNetworksArgs {
    /** Stack name: part of every network's name, so that stacks can share a host. */
    stack: string;
    /** Tags carried as labels. */
    tags: Record<string, string>;
    /** Explicit IPv4 subnets, where config gives them. */
    subnets: Partial<Record<DockerNetwork, string>>;
    /** single: bridge networks; swarm: overlay networks spanning the nodes. */
    mode: DockerMode;
}

/** The guide's three networks: frontend, and backend and cache (internal: no route out); overlay in Swarm mode. */
export class DockerNetworks extends pulumi.ComponentResource {
    /** Network names by role, for containers' networksAdvanced. */
    readonly names: Record<DockerNetwork, pulumi.Output<string>>;
    /** Network ids by role, for Swarm services (a name would recreate the service on every update). */
    readonly ids: Record<DockerNetwork, pulumi.Output<string>>;

    constructor(name: string, args: DockerNetworksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:network:DockerNetworks", name, {}, opts);
        const names = {} as Record<DockerNetwork, pulumi.Output<string>>;
        const ids = {} as Record<DockerNetwork, pulumi.Output<string>>;
        for (const network of DOCKER_NETWORKS) {
            const subnet = args.subnets[network];
            const created = new Network(
                `${name}-${network}`,
                {
                    name: dockerName(args.stack, network),
                    driver: args.mode === "swarm" ? "overlay" : "bridge",
                    internal: NETWORKS[network].internal,
                    attachable: false,
                    ipamConfigs: subnet ? [{ subnet }] : undefined,
                    // IPsec between the nodes for overlays that carry plain HTTP (lib/docker.ts NETWORKS).
                    options: args.mode === "swarm" && NETWORKS[network].encrypted ? { encrypted: "true" } : undefined,
                    labels: dockerLabels(args.tags, { network }),
                },
                // The name is fixed (stacks share a host): replace by deleting first.
                { parent: this, deleteBeforeReplace: true },
            );
            names[network] = created.name;
            ids[network] = created.id;
        }
        this.names = names;
        this.ids = ids;
        this.registerOutputs({ names, ids });
    }
}
