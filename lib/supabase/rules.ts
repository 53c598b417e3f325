/**
 * Pure rules of the hosted project: allowed database CIDRs, project statuses, and the names of
 * the rotating secret keys.
 */
import ipaddr from "ipaddr.js";
import type { PasswordSlots } from "../credentials";
import type { components } from "./management-api";

type CreateProjectBody = components["schemas"]["V1CreateProjectBody"];
type RegionCode = Extract<CreateProjectBody["region_selection"], { type: "specific" }>["code"];

/** The hosted project's API URL and direct database host: both follow from its ref. */
export const hostedApiUrl = (ref: string) => `https://${ref}.supabase.co`;
export const hostedDbHost = (ref: string) => `db.${ref}.supabase.co`;

/** Region codes the spec's create body accepts (region_selection, type specific). */
export const SUPABASE_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-east-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "eu-central-1",
    "eu-central-2",
    "ca-central-1",
    "ap-south-1",
    "sa-east-1",
] as const satisfies readonly RegionCode[];

/** Compute sizes the spec's create body accepts (desired_instance_size). */
export const SUPABASE_INSTANCE_SIZES = [
    "nano",
    "micro",
    "small",
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "24xlarge_optimized_memory",
    "24xlarge_optimized_cpu",
    "24xlarge_high_memory",
    "48xlarge",
    "48xlarge_optimized_memory",
    "48xlarge_optimized_cpu",
    "48xlarge_high_memory",
] as const satisfies readonly NonNullable<CreateProjectBody["desired_instance_size"]>[];

/** Statuses a project never leaves by itself: waiting longer cannot help. */
export const TERMINAL_STATUSES = ["GOING_DOWN", "INIT_FAILED", "REMOVED", "INACTIVE", "PAUSE_FAILED", "RESTORE_FAILED"] as const;
export const HEALTHY_STATUS = "ACTIVE_HEALTHY";

export interface SplitCidrs {
    ipv4: string[];
    ipv6: string[];
}

/** The allow-all pair: Supabase's default, and what `databaseAllowAll` must confirm in prod. */
export const ALLOW_ALL: SplitCidrs = { ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] };

/**
 * Parses `databaseAllowedCidrs` entries into canonical IPv4 and IPv6 networks. Returns a problem
 * per bad entry: not a CIDR, or host bits set (the network it meant is suggested).
 */
export function parseCidrs(entries: readonly string[]): { cidrs: SplitCidrs; problems: string[] } {
    const cidrs: SplitCidrs = { ipv4: [], ipv6: [] };
    const problems: string[] = [];
    for (const entry of entries) {
        if (!/\/\d{1,3}$/.test(entry) || !ipaddr.isValidCIDR(entry)) {
            problems.push(`${JSON.stringify(entry)} is not a CIDR such as 203.0.113.0/24 or 2001:db8::/48`);
            continue;
        }
        const [address, prefix] = ipaddr.parseCIDR(entry);
        if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
            problems.push(`${JSON.stringify(entry)} is an IPv4-mapped IPv6 range: list the IPv4 network instead`);
            continue;
        }
        const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(entry) : ipaddr.IPv6.networkAddressFromCIDR(entry);
        const canonical = `${network.toString()}/${prefix}`;
        if (network.toString() !== address.toString()) {
            problems.push(`${JSON.stringify(entry)} has host bits set: did you mean ${canonical}?`);
            continue;
        }
        const list = address.kind() === "ipv4" ? cidrs.ipv4 : cidrs.ipv6;
        if (!list.includes(canonical)) list.push(canonical);
    }
    return { cidrs, problems };
}

export function allowsAll(cidrs: SplitCidrs): boolean {
    return cidrs.ipv4.includes("0.0.0.0/0") || cidrs.ipv6.includes("::/0");
}

/** Consumers with a secret key of their own: a leak of one forces only its rotation. */
export type KeySlot = "a" | "b";

/**
 * The secret keys of a consumer follow the database password's two slots: each rotation step
 * renames (so replaces) one slot's key, and the other slot keeps the key the running containers
 * hold. The replaced key is the one from two steps back; Pulumi deletes it only after everything
 * that depends on the new key (Vault, the containers) was updated.
 */
export function secretKeyName(consumer: string, slot: KeySlot, slots: PasswordSlots): string {
    return `toolboxai_${consumer}_${slot}${slots.keepers[slot]}`;
}

/** The name rule of the API (CreateApiKeyBody.name). */
export const API_KEY_NAME = /^[a-z_][a-z0-9_]+$/;

/**
 * Which stack owns an API key. The API stores a key's name, type and description and nothing else
 * of ours, so the owner is a marker at the end of the description; the rest stays free text.
 * `owner` is the Pulumi `<project>/<stack>`.
 */
const OWNER_MARKER = /\s*\[managed by pulumi ([^\]\s]+)\]$/;
export const KEY_OWNER = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function keyOwner(project: string, stack: string): string {
    const owner = `${project}/${stack}`;
    if (!KEY_OWNER.test(owner))
        throw new Error(`Pulumi project/stack ${JSON.stringify(owner)} cannot mark an API key's owner: expected ${KEY_OWNER}`);
    return owner;
}

/** The description the API stores: the text, then the owner's marker. */
export function markedKeyDescription(description: string, owner: string): string {
    return `${description.replace(OWNER_MARKER, "")} [managed by pulumi ${owner}]`.trim();
}

/** A stored description split into its text and its owner (null: no marker, made by hand or before markers). */
export function parseKeyDescription(stored: string | null | undefined): { description: string; owner: string | null } {
    const text = stored ?? "";
    const match = OWNER_MARKER.exec(text);
    return { description: text.replace(OWNER_MARKER, ""), owner: match ? match[1] : null };
}

export type KeyOwnership = { kind: "ours" } | { kind: "unmarked" } | { kind: "other"; owner: string };

export function keyOwnership(stored: string | null | undefined, owner: string): KeyOwnership {
    const found = parseKeyDescription(stored).owner;
    if (found === null) return { kind: "unmarked" };
    return found === owner ? { kind: "ours" } : { kind: "other", owner: found };
}
