/**
 * The one-shot "seed" container that puts a hardened container's files into its volumes.
 *
 * The Docker provider uploads files with `PUT /containers/{id}/archive?path=/`
 * (kreuzwerker `resource_docker_container_funcs.go`, `dstPath := "/"`), and the engine refuses
 * that on a read-only root filesystem ("container rootfs is marked read-only": moby checks the
 * extraction point, not the files). So the hardened container carries no uploads: a seed
 * container with a writable root mounts the same volumes, receives the uploads into them, and is
 * never started (`start: false`; `mustRun: false` keeps a stopped container in state). The
 * hardened container carries the seed's id in a label: new content makes a new seed, which
 * replaces the hardened container too.
 */
import * as pulumi from "@pulumi/pulumi";
import { Container } from "@pulumi/docker/container";
import type { input } from "@pulumi/docker/types";
import { PROJECT } from "../lib/config";

export interface SeedArgs {
    /** The service's own image: no program of it runs, the engine only needs an image to create a container. */
    image: pulumi.Input<string>;
    /** uid:gid of the service (the seed never runs, but nothing in it is root's either). */
    user: string;
    /** The hardened container's volumes that receive files, at the same paths. */
    volumes: { volumeName: pulumi.Input<string>; containerPath: string }[];
    /** Files with mode and numeric owner, as the hardened container would have carried them. */
    uploads: input.ContainerUpload[];
    labels: { label: string; value: string }[];
}

/** The label on a hardened container that names its seed: a new seed replaces the container. */
export const SEED_LABEL = `com.${PROJECT}.seed`;

export function seedContainer(name: string, args: SeedArgs, opts: pulumi.CustomResourceOptions): Container {
    return new Container(
        `${name}-seed`,
        {
            image: args.image,
            user: args.user,
            volumes: args.volumes,
            uploads: args.uploads,
            labels: [...args.labels, { label: `com.${PROJECT}.purpose`, value: "seed" }],
            start: false,
            mustRun: false,
            readOnly: false,
            networkMode: "none",
            capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true"],
            privileged: false,
        },
        opts,
    );
}

/** The hardened container's labels: its own plus the seed's id. */
export function seededLabels(
    labels: { label: string; value: string }[],
    seed: Container,
): pulumi.Input<{ label: string; value: pulumi.Input<string> }[]> {
    return [...labels, { label: SEED_LABEL, value: seed.id }];
}
