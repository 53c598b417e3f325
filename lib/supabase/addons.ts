/**
 * Pure rules of the project's billing add-ons: the PITR variants, the compute sizes PITR needs,
 * what the organization's plan allows (its entitlements), and each compute size's connection
 * limits against the pool size. The providers and the config use them; no Pulumi and no HTTP here.
 */
import type { components } from "./management-api";

type AddonVariant = components["schemas"]["ApplyProjectAddonBody"]["addon_variant"];
type Entitlements = components["schemas"]["V1ListEntitlementsResponse"]["entitlements"];
type SelectedAddons = components["schemas"]["ListProjectAddonsResponse"]["selected_addons"];

/** The PITR add-on's variants (days of recovery), as the add-ons PATCH accepts them. */
export const PITR_VARIANTS = ["pitr_7", "pitr_14", "pitr_28"] as const satisfies readonly AddonVariant[];
export type PitrVariant = (typeof PITR_VARIANTS)[number];
/** `supabasePitr`: a variant, or off (no PITR add-on). */
export const PITR_SETTINGS = ["off", ...PITR_VARIANTS] as const;
export type PitrSetting = (typeof PITR_SETTINGS)[number];

/** Compute sizes (config's desired_instance_size) too small for PITR: Supabase requires Small or larger. */
export const SIZES_WITHOUT_PITR = ["nano", "micro"] as const;
/** The same as compute add-on variants; a project with no compute add-on selected runs the free Nano size. */
const COMPUTE_WITHOUT_PITR = ["ci_nano", "ci_micro"];

/** The entitlement that lists the PITR variants an organization's plan allows. */
export const PITR_ENTITLEMENT = "pitr.available_variants";

/** The selected variant of one add-on type, or undefined when none is selected. */
export function selectedVariant(selected: SelectedAddons, type: SelectedAddons[number]["type"]): string | undefined {
    return selected.find((a) => a.type === type)?.variant.id;
}

/** Why the project's compute cannot carry PITR, or undefined when it can. */
export function computeRefusesPitr(computeVariant: string | undefined): string | undefined {
    if (computeVariant !== undefined && !COMPUTE_WITHOUT_PITR.includes(computeVariant)) return undefined;
    return `the project's compute is ${computeVariant ?? "Nano (no compute add-on)"}, and PITR needs Small or larger`;
}

/**
 * The PITR variants the organization's plan allows. An entitlement without access, or missing
 * (a Free plan lists none), allows none.
 */
export function allowedPitrVariants(entitlements: Entitlements): string[] {
    const pitr = entitlements.find((e) => e.feature.key === PITR_ENTITLEMENT);
    if (!pitr?.hasAccess) return [];
    const config = pitr.config as { enabled?: boolean; set?: unknown };
    return config.enabled && Array.isArray(config.set) ? config.set.filter((v): v is string => typeof v === "string") : [];
}

/** A compute size as config names it (desired_instance_size), as the compute add-on's variant. */
export const computeVariantOf = (size: string) => `ci_${size}`;
/** The compute add-on's variant as a size; no compute add-on selected: nano (the Free plan's size). */
export const sizeOfComputeVariant = (variant: string | undefined) => (variant === undefined ? "nano" : variant.replace(/^ci_/, ""));

export interface ConnectionLimits {
    /** Direct Postgres connections (max_connections). */
    direct: number;
    /** Client connections the pooler (Supavisor) accepts. */
    pooler: number;
}

/**
 * Connection limits per compute size, as the add-ons list gives them (`meta.connections_direct`,
 * `meta.connections_pooler`; recorded reply in test/support/management-api-recorded/). Config uses
 * them when the size is set; the provider reads the live ones. Nano is not listed by the API.
 */
export const COMPUTE_CONNECTIONS: Readonly<Record<string, ConnectionLimits>> = {
    micro: { direct: 60, pooler: 200 },
    small: { direct: 90, pooler: 400 },
    medium: { direct: 120, pooler: 600 },
    large: { direct: 160, pooler: 800 },
    xlarge: { direct: 240, pooler: 1000 },
    "2xlarge": { direct: 380, pooler: 1500 },
    "4xlarge": { direct: 480, pooler: 3000 },
    "8xlarge": { direct: 490, pooler: 6000 },
    "12xlarge": { direct: 500, pooler: 9000 },
    "16xlarge": { direct: 500, pooler: 12000 },
    "24xlarge": { direct: 750, pooler: 18000 },
    "24xlarge_optimized_memory": { direct: 750, pooler: 18000 },
    "24xlarge_optimized_cpu": { direct: 750, pooler: 18000 },
    "24xlarge_high_memory": { direct: 750, pooler: 18000 },
    "48xlarge": { direct: 1500, pooler: 36000 },
    "48xlarge_optimized_memory": { direct: 1500, pooler: 36000 },
    "48xlarge_optimized_cpu": { direct: 1500, pooler: 36000 },
    "48xlarge_high_memory": { direct: 1500, pooler: 36000 },
};

/** Supabase's sizing advice: with heavy Data API use, keep pools under 40 % of the direct connections. */
export const POOL_SHARE_OF_DIRECT = 0.4;

/** Why `databasePoolSize` cannot work on this compute (above the pooler's client limit), or undefined. */
export function poolSizeRefusal(poolSize: number, size: string, limits: ConnectionLimits): string | undefined {
    return poolSize > limits.pooler
        ? `is above the ${limits.pooler} client connections the pooler of compute ${size} accepts: lower databasePoolSize, or raise supabaseInstanceSize`
        : undefined;
}

/** Advice when `databasePoolSize` takes more than 40 % of the compute's direct connections, or undefined. */
export function poolSizeWarning(poolSize: number, size: string, limits: ConnectionLimits): string | undefined {
    const share = Math.floor(limits.direct * POOL_SHARE_OF_DIRECT);
    return poolSize > share
        ? `databasePoolSize ${poolSize} is above 40 % (${share}) of the ${limits.direct} direct connections of compute ${size}: ` +
              "Supabase advises at most 40 % when the Data API is used heavily (at most 80 % otherwise); lower it or raise supabaseInstanceSize"
        : undefined;
}

/** The 40 % advice for a size named in config (undefined: no size, a size the API does not list, or within the advice). */
export function configPoolSizeWarning(poolSize: number, size: string | undefined): string | undefined {
    const limits = size === undefined ? undefined : COMPUTE_CONNECTIONS[size];
    return size && limits ? poolSizeWarning(poolSize, size, limits) : undefined;
}
