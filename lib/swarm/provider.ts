/**
 * The dynamic provider of a Swarm service (lib/swarm/resource.ts): create and update send the
 * whole spec in one request and wait for convergence (lib/swarm/engine.ts); read tells refresh
 * whether someone changed the service since (its spec label); diff shows the declared fields.
 *
 * Pulumi serializes this object into the state (test/supabase-management-program.test.ts loads
 * it back as the provider host does): it captures the engine module and dockerode, nothing else.
 */
import type * as pulumi from "@pulumi/pulumi";
import { applyService, dockerClient, readService, removeService } from "./engine";
import { canonicalJson, type SwarmServiceSpec } from "./serviceSpec";

export interface SwarmServiceInputs extends SwarmServiceSpec {
    /** The manager to talk to: unix:///path or ssh://user@host[:port]. Changing it changes nothing on the Swarm. */
    dockerHost: string;
}

type Outs = Record<string, unknown>;

/** The declared fields: a change of any of them is an update (the name: a replacement). */
export const SPEC_FIELDS = [
    "name",
    "labels",
    "mode",
    "taskSpec",
    "endpointSpec",
    "updateConfig",
    "rollbackConfig",
    "convergeConfig",
] as const;

const log = (message: string) => process.stderr.write(`swarm: ${message}\n`);

async function apply(inputs: SwarmServiceInputs): Promise<Outs> {
    const { dockerHost, ...spec } = inputs;
    const applied = await applyService(dockerClient(dockerHost), spec, { log });
    // observedSha256: what refresh last saw; equal to engineSha256 until someone changes the service outside Pulumi.
    return {
        ...inputs,
        serviceId: applied.id,
        appliedSha256: applied.specSha256,
        engineSha256: applied.engineSha256,
        observedSha256: applied.engineSha256,
    };
}

export const swarmServiceProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SwarmServiceInputs) {
        const outs = await apply(inputs);
        return { id: String(outs.serviceId), outs };
    },
    async read(id: string, props: Outs) {
        const found = await readService(dockerClient(String(props.dockerHost)), id);
        if (!found) return {};
        // A changed hash means the service was changed outside Pulumi: refresh shows it, and the next `up` sends the spec again.
        return { id, props: { ...props, observedSha256: found.engineSha256 } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        // Key order is not a change: the state and the program may hand over objects with their keys in another order.
        const changed = SPEC_FIELDS.filter((f) => canonicalJson(olds[f] ?? null) !== canonicalJson(news[f] ?? null));
        const drifted = olds.observedSha256 !== olds.engineSha256;
        return {
            changes: changed.length > 0 || drifted || olds.dockerHost !== news.dockerHost,
            replaces: changed.filter((f) => f === "name"),
            deleteBeforeReplace: false,
        };
    },
    async update(_id: string, _olds: Outs, news: SwarmServiceInputs) {
        return { outs: await apply(news) };
    },
    async delete(id: string, props: Outs) {
        await removeService(dockerClient(String(props.dockerHost)), id, String(props.name));
    },
};
