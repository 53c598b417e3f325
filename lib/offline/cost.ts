/**
 * The monthly cost difference of the hosted project's add-ons between two offline plans, for the
 * PR preview: compute (supabaseInstanceSize), PITR (supabasePitr) and read replicas
 * (supabaseReadReplicas; each has the primary's compute size), priced from the add-ons list's
 * prices (ADDON_PRICES). Usage (disk, egress, a replica's larger disk) is not included.
 */
import { ADDON_PRICES, computeVariantOf, monthlyUsd } from "../supabase/addons";
import type { PlanJson, PlanResource } from "./render";

/** What a plan asks of the billed add-ons; undefined: the stack leaves it as it is (unset in config). */
export interface BilledAddons {
    computeSize?: string;
    pitr?: string;
    replicaRegions?: string[];
}

const TYPE = "pulumi-nodejs:dynamic/toolboxai:";
const inputsOf = (plan: PlanJson, type: string): Record<string, unknown> | undefined =>
    plan.resources.find((r: PlanResource) => r.type === `${TYPE}${type}`)?.inputs as Record<string, unknown> | undefined;

export function billedAddons(plan: PlanJson): BilledAddons {
    const size = inputsOf(plan, "SupabaseCompute")?.size;
    const pitr = inputsOf(plan, "SupabasePitr")?.variant;
    const regions = inputsOf(plan, "SupabaseReadReplicas")?.regions;
    return {
        computeSize: typeof size === "string" ? size : undefined,
        pitr: typeof pitr === "string" ? pitr : undefined,
        replicaRegions: Array.isArray(regions) ? regions.map(String) : undefined,
    };
}

export interface CostLine {
    what: string;
    before: string;
    after: string;
    /** Dollars a month; undefined when a side's price is unknown. */
    deltaUsd?: number;
}

export interface CostDiff {
    lines: CostLine[];
    /** Undefined when any changed line's price is unknown. */
    totalDeltaUsd?: number;
    /** Why a line could not be priced. */
    unknown: string[];
}

const priceOfCompute = (size: string | undefined) => {
    const price = size === undefined ? undefined : ADDON_PRICES[computeVariantOf(size)];
    return price ? monthlyUsd(price) : undefined;
};
const priceOfPitr = (pitr: string | undefined) => {
    if (pitr === "off") return 0;
    const price = pitr === undefined ? undefined : ADDON_PRICES[pitr];
    return price ? monthlyUsd(price) : undefined;
};
const delta = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined ? undefined : Math.round((after - before) * 100) / 100;

/** The monthly cost difference; no line when compute, PITR and replicas are the same in both plans. */
export function costDiff(base: PlanJson, head: PlanJson): CostDiff {
    const b = billedAddons(base);
    const h = billedAddons(head);
    const lines: CostLine[] = [];
    const unknown: string[] = [];
    const shown = (v: string | undefined, unset: string) => v ?? unset;
    if (b.computeSize !== h.computeSize) {
        const d = delta(priceOfCompute(b.computeSize), priceOfCompute(h.computeSize));
        if (d === undefined)
            unknown.push("compute: a side leaves supabaseInstanceSize unset, or names a size the add-ons list does not price");
        lines.push({ what: "compute", before: shown(b.computeSize, "unset"), after: shown(h.computeSize, "unset"), deltaUsd: d });
    }
    if (b.pitr !== h.pitr) {
        const d = delta(priceOfPitr(b.pitr ?? "off"), priceOfPitr(h.pitr ?? "off"));
        lines.push({ what: "PITR", before: shown(b.pitr, "off"), after: shown(h.pitr, "off"), deltaUsd: d });
    }
    const count = (a: BilledAddons) => a.replicaRegions?.length ?? 0;
    const replicasChanged = JSON.stringify(b.replicaRegions ?? []) !== JSON.stringify(h.replicaRegions ?? []);
    // A replica runs on the primary's compute size: its price changes with either.
    if (replicasChanged || (b.computeSize !== h.computeSize && (count(b) > 0 || count(h) > 0))) {
        const cost = (a: BilledAddons) =>
            count(a) === 0 ? 0 : priceOfCompute(a.computeSize) === undefined ? undefined : count(a) * priceOfCompute(a.computeSize)!;
        const d = delta(cost(b), cost(h));
        if (d === undefined) unknown.push("read replicas: each costs the primary's compute, and supabaseInstanceSize is unset");
        const regions = (a: BilledAddons) => `${count(a)}${count(a) ? ` (${a.replicaRegions!.join(", ")})` : ""}`;
        lines.push({ what: "read replicas", before: regions(b), after: regions(h), deltaUsd: d });
    }
    const total = lines.every((l) => l.deltaUsd !== undefined)
        ? Math.round(lines.reduce((s, l) => s + l.deltaUsd!, 0) * 100) / 100
        : undefined;
    return { lines, totalDeltaUsd: total, unknown };
}

/** "+$45.01", "-$100.00", "$0.00". */
export const signedUsd = (usd: number) => `${usd > 0 ? "+" : usd < 0 ? "-" : ""}$${Math.abs(usd).toFixed(2)}`;

/** The preview's cost section; empty when nothing billed changes. */
export function costMarkdown(c: CostDiff): string {
    if (c.lines.length === 0) return "";
    const total = c.totalDeltaUsd === undefined ? "not fully known (below)" : `${signedUsd(c.totalDeltaUsd)} a month`;
    return [
        `**Monthly cost of the hosted project's add-ons: ${total}**`,
        "",
        ...c.lines.map(
            (l) =>
                `- ${l.what}: ${l.before} → ${l.after}: ${l.deltaUsd === undefined ? "price unknown" : `${signedUsd(l.deltaUsd)} a month`}`,
        ),
        ...c.unknown.map((u) => `- not priced: ${u}`),
        "",
        "Prices as the Management API's add-ons list gives them (compute by the hour, × 730 hours); usage (disk, egress) not included.",
        "",
    ].join("\n");
}
