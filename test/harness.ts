/**
 * The shared mock harness: evaluates the whole program for a stack file under Pulumi's mocks
 * (lib/offline/evaluate.ts, the same evaluator the plan uses) and offers lookups for assertions.
 */
import { resolve } from "node:path";
import { vi } from "vitest";
import { evaluateProgram, type EvaluateOptions, type Evaluation, type RecordedResource } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";

export const PROJECT_DIR = resolve(__dirname, "..");
export const STACKS = ["dev", "prod", "e2e"] as const;

/** The environment each stack file sets: e2e (the e2e workflow's throwaway stack) is a dev environment. */
export const STACK_ENVIRONMENT: Record<(typeof STACKS)[number], "dev" | "prod"> = { dev: "dev", prod: "prod", e2e: "dev" };

/** The rotation clock of every test evaluation unless a test sets another: snapshots must not age. */
export const TEST_CLOCK = "2026-11-25T12:00:00Z";

/** Settings that make prod create its hosted project instead of adopting one: the ref and the hosts derived from it removed. */
export const CREATE_PROJECT = {
    supabaseProjectRef: undefined,
    supabaseUrl: undefined,
    supabaseDbHost: undefined,
    supabaseOrganizationSlug: "toolboxai-org",
    supabaseRegion: "eu-central-1",
};

/** Swarm mode on a stack file: Swarm's ingress publishes on every interface, so the host address is 0.0.0.0 there. */
export const SWARM = { dockerMode: "swarm", backendHostAddress: "0.0.0.0" } as const;

export type StackOptions = Omit<EvaluateOptions, "projectDir" | "stack" | "load"> & { now?: string };

const evaluations = new Map<string, Promise<Evaluation>>();

/**
 * Evaluates index.ts for `stack` (Pulumi.<stack>.yaml), with optional setting overrides. The
 * program is deterministic for a stack file, settings and clock, so each distinct evaluation runs
 * once per test file and is shared (results are frozen: a test cannot change another's). `fresh`
 * evaluates again, for a test that changes what the program reads from disk.
 */
export function evaluateStack(stack: string, { fresh = false, ...options }: StackOptions & { fresh?: boolean } = {}): Promise<Evaluation> {
    const key = JSON.stringify([stack, options]);
    const known = evaluations.get(key);
    if (known && !fresh) return known;
    const evaluation = evaluateFresh(stack, options).then(deepFreeze);
    evaluations.set(key, evaluation);
    // A failed evaluation (a config error a test expects) is not remembered.
    evaluation.catch(() => evaluations.delete(key));
    return evaluation;
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const inner of Object.values(value)) deepFreeze(inner);
    }
    return value;
}

async function evaluateFresh(stack: string, { now = TEST_CLOCK, ...options }: StackOptions): Promise<Evaluation> {
    process.env.TOOLBOXAI_NOW = now;
    // As the plan does (scripts/plan.ts): the SDK captures a stack trace for every promise it
    // makes, which no test reads; without them an evaluation costs about a third less.
    // TOOLBOXAI_PLAN_STACKS=1 keeps them, to debug a crashing evaluation.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.TOOLBOXAI_PLAN_STACKS) Error.stackTraceLimit = 0;
    try {
        return await evaluateProgram({
            projectDir: PROJECT_DIR,
            stack,
            ...options,
            load: async () => {
                vi.resetModules();
                return import("../index.js");
            },
        });
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
}

/** Evaluates a small program of a test's own (to test the harness itself). */
export async function evaluateProgramInline(load: () => unknown, stack = "dev"): Promise<Evaluation> {
    return evaluateProgram({ projectDir: PROJECT_DIR, stack, load });
}

export function ofType(evaluation: Evaluation, type: string): RecordedResource[] {
    return evaluation.resources.filter((r) => r.type === type);
}

export function byName(evaluation: Evaluation, name: string): RecordedResource {
    const found = evaluation.resources.filter((r) => r.name === name);
    if (found.length !== 1) {
        throw new Error(
            `expected one resource named ${name}, found ${found.length}; names: ${evaluation.resources.map((r) => r.name).join(", ")}`,
        );
    }
    return found[0];
}

/** A container's environment variables (Container `envs`, `KEY=value`) as an object. */
export function containerEnv(container: RecordedResource): Record<string, string> {
    const envs = (reveal(container.inputs.envs) as string[] | undefined) ?? [];
    return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

export function parentName(evaluation: Evaluation, resource: RecordedResource): string | undefined {
    return evaluation.resources.find((r) => r.urn === resource.parentUrn)?.name;
}

/** The containers that run something: every Container but the never-started seeds (components/seed.ts). */
export function runningContainers(evaluation: Evaluation): RecordedResource[] {
    return ofType(evaluation, "docker:index/container:Container").filter((c) => c.inputs.start !== false);
}

/** A running container's files as planned: its seed's `uploads` (kept secret as a whole). */
export function uploadsOf(evaluation: Evaluation, container: RecordedResource): unknown {
    return byName(evaluation, `${container.name}-seed`).inputs.uploads;
}
