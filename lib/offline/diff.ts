/**
 * A resource-level diff of two offline plans: what a pull request adds, removes or changes,
 * for forks' pull requests where `pulumi preview` has no credentials. Still a diff of desired
 * states, not against what is deployed.
 */
import { costMarkdown, type CostDiff } from "./cost";
import type { PlanJson, PlanResource } from "./render";

export interface PlanDiff {
    added: PlanResource[];
    removed: PlanResource[];
    changed: { resource: PlanResource; fields: { path: string; before: unknown; after: unknown }[] }[];
    outputs: { name: string; before: unknown; after: unknown }[];
}

const key = (r: PlanResource) => `${r.type}::${r.name}`;

function fieldChanges(before: unknown, after: unknown, path: string, out: { path: string; before: unknown; after: unknown }[]): void {
    const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
    if (isObject(before) && isObject(after)) {
        const keys = new Set([...Object.keys(before as object), ...Object.keys(after as object)]);
        for (const k of [...keys].sort())
            fieldChanges((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], path ? `${path}.${k}` : k, out);
    } else if (JSON.stringify(before) !== JSON.stringify(after)) {
        out.push({ path, before, after });
    }
}

export function diffPlans(base: PlanJson, head: PlanJson): PlanDiff {
    const before = new Map(base.resources.map((r) => [key(r), r]));
    const after = new Map(head.resources.map((r) => [key(r), r]));
    const changed: PlanDiff["changed"] = [];
    for (const [k, r] of after) {
        const old = before.get(k);
        if (!old) continue;
        const fields: { path: string; before: unknown; after: unknown }[] = [];
        fieldChanges(
            { parent: old.parent, inputs: old.inputs, options: old.options ?? {} },
            { parent: r.parent, inputs: r.inputs, options: r.options ?? {} },
            "",
            fields,
        );
        if (fields.length > 0) changed.push({ resource: r, fields });
    }
    const outputs: PlanDiff["outputs"] = [];
    for (const name of [...new Set([...Object.keys(base.outputs), ...Object.keys(head.outputs)])].sort()) {
        if (JSON.stringify(base.outputs[name]) !== JSON.stringify(head.outputs[name]))
            outputs.push({ name, before: base.outputs[name], after: head.outputs[name] });
    }
    return {
        added: [...after.values()].filter((r) => !before.has(key(r))),
        removed: [...before.values()].filter((r) => !after.has(key(r))),
        changed,
        outputs,
    };
}

const short = (v: unknown) => {
    const s = v === undefined ? "(none)" : JSON.stringify(v);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

/** Markdown for a pull-request comment or a job summary; with `cost`, the add-ons' monthly cost difference under the counts. */
export function diffMarkdown(stack: string, d: PlanDiff, cost?: CostDiff): string {
    const lines = [
        `### Offline plan diff for \`${stack}\``,
        "",
        "Desired state of this branch against the base branch's committed plan, evaluated offline (no credentials): not a diff against deployed resources.",
        "",
    ];
    if (d.added.length + d.removed.length + d.changed.length + d.outputs.length === 0)
        return `${lines.join("\n")}No resource or output changes.\n`;
    lines.push(`**${d.added.length} to add, ${d.changed.length} to change, ${d.removed.length} to delete**`, "");
    const money = cost ? costMarkdown(cost) : "";
    if (money) lines.push(money);
    for (const r of d.added) lines.push(`- \`+\` ${r.type} \`${r.name}\``);
    for (const r of d.removed) lines.push(`- \`-\` ${r.type} \`${r.name}\``);
    for (const c of d.changed) {
        lines.push(`- \`~\` ${c.resource.type} \`${c.resource.name}\``);
        for (const f of c.fields) lines.push(`  - \`${f.path}\`: ${short(f.before)} → ${short(f.after)}`);
    }
    for (const o of d.outputs) lines.push(`- output \`${o.name}\`: ${short(o.before)} → ${short(o.after)}`);
    return `${lines.join("\n")}\n`;
}
