/**
 * Names are identity: a resource's URN (its type, its parents' types and its name) is the key of its
 * state. A URN that disappears from the plan without an alias means delete-and-create on the next
 * `pulumi up`. This compares a committed plan (plans/<stack>.plan.json) with a fresh evaluation.
 */
import type { Evaluation } from "./evaluate";
import type { PlanJson } from "./render";

/** Every resource's URN, rebuilt from a plan (names are unique in a plan, so `parent` names one resource). */
export function planUrns(plan: PlanJson): string[] {
    const byName = new Map(plan.resources.map((r) => [r.name, r]));
    const qualified = (name: string, seen: string[] = []): string => {
        const r = byName.get(name);
        if (!r || seen.includes(name)) throw new Error(`plan of ${plan.stack}: parent ${name} is not a resource of the plan`);
        return r.parent === null ? r.type : `${qualified(r.parent, [...seen, name])}$${r.type}`;
    };
    return plan.resources.map((r) => `urn:pulumi:${plan.stack}::${plan.project}::${qualified(r.name)}::${r.name}`);
}

/** URNs of the committed plan that the evaluation neither has, nor names in an alias, nor retires on purpose. */
export function lostUrns(committed: PlanJson, now: Evaluation, retired: readonly string[] = []): string[] {
    const known = new Set([...now.resources.map((r) => r.urn), ...now.resources.flatMap((r) => r.aliases), ...retired]);
    return planUrns(committed).filter((urn) => !known.has(urn));
}
