/**
 * The dynamic provider of a Swarm service (lib/swarm/resource.ts): create and update send the
 * whole spec in one request and wait for convergence (lib/swarm/engine.ts); read tells refresh
 * whether someone changed the service since (a hash of its spec as the engine keeps it); diff
 * shows the declared fields.
 *
 * Pulumi serializes this object into the state (test/swarmService.test.ts loads it back as the
 * provider host does): it captures the engine module and dockerode, nothing else.
 */
import type * as pulumi from "@pulumi/pulumi";
import { applyService, dockerClient, notConvergedOf, readService, removeService, type RegistryLogin } from "./engine";
import { canonicalJson, engineServiceSpec, specSha256, type SwarmServiceSpec } from "./serviceSpec";

export interface SwarmServiceInputs extends SwarmServiceSpec {
    /** The manager to talk to: unix:///path or ssh://user@host[:port]. Changing it changes nothing on the Swarm. */
    dockerHost: string;
    /** The login for private images (a secret), sent with each create and update when the image is in that registry. */
    registryAuth?: RegistryLogin;
}

type Outs = Record<string, unknown>;

/** The declared fields: a change of any of them is an update (the name: a replacement). */
const SPEC_FIELDS = [
    "name",
    "labels",
    "mode",
    "taskSpec",
    "endpointSpec",
    "updateConfig",
    "rollbackConfig",
    "convergeConfig",
    "registryAuth",
] as const;

/** What the state records when a sent spec did not converge: the next `up` sees it as drift and waits again (or sends a new spec). */
const NOT_CONVERGED = "not converged";

const log = (message: string) => process.stderr.write(`swarm: ${message}\n`);

/** The hash the spec label would get, or undefined when the inputs are not all known yet (a preview). */
function declaredSha(inputs: Outs): string | undefined {
    try {
        return specSha256(engineServiceSpec(inputs as unknown as SwarmServiceSpec));
    } catch {
        return undefined;
    }
}

async function apply(inputs: SwarmServiceInputs, olds?: Outs): Promise<Outs> {
    const { dockerHost, registryAuth, ...spec } = inputs;
    // Sent again, even when unchanged, if the login changed: Swarm keeps the one it was last given.
    const sameLogin = canonicalJson(olds?.registryAuth ?? null) === canonicalJson(registryAuth ?? null);
    try {
        const applied = await applyService(dockerClient(dockerHost), spec, {
            log,
            registryAuth,
            unchangedSince: sameLogin ? (olds?.engineSha256 as string | undefined) : undefined,
        });
        // observedSha256: what refresh last saw; equal to engineSha256 until someone changes the service outside Pulumi.
        return {
            ...inputs,
            serviceId: applied.id,
            appliedSha256: applied.specSha256,
            engineSha256: applied.engineSha256,
            observedSha256: applied.engineSha256,
        };
    } catch (e) {
        const sent = notConvergedOf(e);
        if (!sent) throw e;
        // Sent, but not converged: recorded as such (the engine's partial-failure form: id and properties).
        throw Object.assign(new Error((e as Error).message), {
            id: sent.serviceId,
            properties: {
                ...inputs,
                serviceId: sent.serviceId,
                appliedSha256: sent.specSha256,
                engineSha256: sent.engineSha256,
                observedSha256: NOT_CONVERGED,
            },
        });
    }
}

/** The engine's id: the state's `serviceId` (an update may have had to create the service anew), else Pulumi's id. */
const serviceIdOf = (id: string, props: Outs) => String(props.serviceId ?? id);

export const swarmServiceProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SwarmServiceInputs) {
        const outs = await apply(inputs);
        return { id: String(outs.serviceId), outs };
    },
    async read(id: string, props: Outs) {
        const found = await readService(dockerClient(String(props.dockerHost)), serviceIdOf(id, props));
        if (!found) return {};
        // A changed hash means the service was changed outside Pulumi: refresh shows it, and the next `up` sends the spec again.
        return { id, props: { ...props, observedSha256: found.engineSha256 } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        // Key order is not a change: the state and the program may hand over objects with their keys in another order.
        const changed = SPEC_FIELDS.filter((f) => canonicalJson(olds[f] ?? null) !== canonicalJson(news[f] ?? null));
        const drifted = olds.observedSha256 !== olds.engineSha256;
        // The same declaration may translate to another spec when this code changed (a fix in engineServiceSpec).
        const declared = declaredSha(news);
        const translatedAnew = declared !== undefined && olds.appliedSha256 !== undefined && declared !== olds.appliedSha256;
        return {
            changes: changed.length > 0 || drifted || translatedAnew || olds.dockerHost !== news.dockerHost,
            replaces: changed.filter((f) => f === "name"),
            deleteBeforeReplace: false,
        };
    },
    async update(_id: string, olds: Outs, news: SwarmServiceInputs) {
        return { outs: await apply(news, olds) };
    },
    async delete(id: string, props: Outs) {
        await removeService(dockerClient(String(props.dockerHost)), serviceIdOf(id, props), String(props.name));
    },
};
