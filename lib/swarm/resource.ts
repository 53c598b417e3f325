/** A Swarm service written by the program (lib/swarm/provider.ts): type `pulumi-nodejs:dynamic/toolboxai:SwarmService`. */
import * as pulumi from "@pulumi/pulumi";
import { swarmServiceProvider, type SwarmServiceInputs } from "./provider";

/** Inputs at every depth, as the components build them (ids of secrets and networks are outputs). */
type DeepInput<T> = T extends string | number | boolean | null | undefined
    ? pulumi.Input<T>
    : T extends (infer U)[]
      ? pulumi.Input<DeepInput<U>[]>
      : pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>;
type Inputs<T> = { [K in keyof T]: DeepInput<T[K]> };

/** The registry login as the components hand it over: its username and password are secrets. */
export interface SwarmRegistryLogin {
    address: string;
    username: pulumi.Input<string>;
    password: pulumi.Input<string>;
}

export const SWARM_SERVICE_TYPE = "pulumi-nodejs:dynamic/toolboxai:SwarmService";

export class SwarmService extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    /** The engine's id of the service. */
    declare readonly serviceId: pulumi.Output<string>;
    /** The sha256 of the spec last applied (the service's com.toolboxai.spec-sha256 label). */
    declare readonly appliedSha256: pulumi.Output<string>;
    constructor(name: string, args: Inputs<SwarmServiceInputs>, opts?: pulumi.CustomResourceOptions) {
        super(
            swarmServiceProvider,
            name,
            { ...args, serviceId: undefined, appliedSha256: undefined, engineSha256: undefined, observedSha256: undefined },
            // The registry login stays a secret in the state, as an input and as an output.
            { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "registryAuth"] },
            "toolboxai",
            "SwarmService",
        );
    }
}
