/**
 * Pure rules of the project's billing add-ons: the PITR variants, the compute sizes PITR needs,
 * and what the organization's plan allows (its entitlements). The providers and the config use
 * them; no Pulumi and no HTTP here.
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
