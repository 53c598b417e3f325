/** Renders an offline evaluation as the plan: a readable tree, or JSON for machines and review diffs. */
import type { Evaluation, RecordedResource } from "./evaluate";
import { redact } from "./values";

export interface PlanResource {
    type: string;
    name: string;
    /** The parent's name (names are unique within the program), or null at the top. */
    parent: string | null;
    inputs: Record<string, unknown>;
    /** Resource options that matter in review; omitted when all are defaults. */
    options?: Record<string, unknown>;
}

export interface PlanJson {
    stack: string;
    project: string;
    note: string;
    placeholderSecrets: string[];
    /** The time the rotation periods were computed for (TOOLBOXAI_NOW, or the wall clock). */
    clock: string;
    resources: PlanResource[];
    outputs: Record<string, unknown>;
}

export const PLAN_NOTE =
    "Desired state, evaluated offline under Pulumi's mocks from Pulumi.yaml and the stack file. " +
    "Not a diff against deployed state: run `pulumi preview --diff` with credentials for that.";

/** Resources in tree order: parents first, siblings sorted by type then name (stable for snapshots). */
export function treeOrder(resources: readonly RecordedResource[]): { resource: RecordedResource; depth: number; last: boolean[] }[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const children = new Map<string | undefined, RecordedResource[]>();
    for (const r of resources) {
        const parent = r.parentUrn && byUrn.has(r.parentUrn) ? r.parentUrn : undefined;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const out: { resource: RecordedResource; depth: number; last: boolean[] }[] = [];
    const walk = (parent: string | undefined, depth: number, last: boolean[]) => {
        const kids = [...(children.get(parent) ?? [])].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
        kids.forEach((r, i) => {
            const path = [...last, i === kids.length - 1];
            out.push({ resource: r, depth, last: path });
            walk(r.urn, depth + 1, path);
        });
    };
    walk(undefined, 0, []);
    return out;
}

function nameOfUrn(urn: string | undefined): string | null {
    return urn ? urn.slice(urn.lastIndexOf("::") + 2) : null;
}

function reviewOptions(r: RecordedResource): Record<string, unknown> | undefined {
    const { protect, retainOnDelete, deleteBeforeReplace, ignoreChanges, replaceOnChanges, replacementTrigger, aliases, provider } =
        r.options;
    const options = Object.fromEntries(
        Object.entries({
            protect,
            retainOnDelete,
            deleteBeforeReplace,
            ignoreChanges,
            replaceOnChanges,
            replacementTrigger,
            aliases,
            provider: nameOfUrn(provider) ?? undefined,
        }).filter(([, v]) => v !== undefined),
    );
    return Object.keys(options).length > 0 ? options : undefined;
}

export function toPlanJson(evaluation: Evaluation): PlanJson {
    return {
        stack: evaluation.stack,
        project: evaluation.project,
        note: PLAN_NOTE,
        placeholderSecrets: evaluation.placeholderSecrets,
        clock: evaluation.clock,
        resources: treeOrder(evaluation.resources).map(({ resource: r }) => {
            const options = reviewOptions(r);
            return {
                type: r.type,
                name: r.name,
                parent: nameOfUrn(r.parentUrn),
                inputs: redact(r.inputs) as Record<string, unknown>,
                ...(options ? { options } : {}),
            };
        }),
        outputs: redact(evaluation.outputs) as Record<string, unknown>,
    };
}

function show(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

export function toPlanText(evaluation: Evaluation): string {
    const plan = toPlanJson(evaluation);
    const lines: string[] = [
        `Offline plan for stack "${plan.stack}" of project ${plan.project}`,
        `  ${plan.note}`,
        "  Secret values are shown as [secret].",
    ];
    if (plan.placeholderSecrets.length > 0) {
        lines.push(`  Secret settings not readable offline, planned with placeholders: ${plan.placeholderSecrets.join(", ")}.`);
    }
    lines.push(`  Rotation periods computed for ${plan.clock} (set TOOLBOXAI_NOW or --at to plan another time).`);
    lines.push("", `Resources (${plan.resources.length}):`);
    const ordered = treeOrder(evaluation.resources);
    ordered.forEach(({ depth, last }, i) => {
        const r = plan.resources[i];
        const branch = last.map((isLast, level) => (level < depth ? (isLast ? "    " : "│   ") : isLast ? "└── " : "├── ")).join("");
        const detailIndent = last.map((isLast) => (isLast ? "    " : "│   ")).join("");
        lines.push(`${branch}${r.type}  ${r.name}`);
        for (const [key, value] of Object.entries(r.inputs)) {
            // Multi-line values (policies, scripts) stay inside the tree's indentation.
            lines.push(`${detailIndent}  ${key}: ${show(value).trimEnd().split("\n").join(`\n${detailIndent}      `)}`);
        }
        for (const [key, value] of Object.entries(r.options ?? {})) lines.push(`${detailIndent}  (${key}: ${show(value)})`);
    });
    lines.push("", "Outputs:");
    for (const [key, value] of Object.entries(plan.outputs)) lines.push(`  ${key}: ${JSON.stringify(value)}`);
    return lines.map((line) => line.trimEnd()).join("\n") + "\n";
}
