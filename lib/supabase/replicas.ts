/**
 * Pure rules of the read replicas: the regions a stack asks for, how many the compute allows, and
 * what to add and remove. The API has no list endpoint: replicas are the READ_REPLICA entries of
 * the pooler list, and their identifier names their region (`<ref>-rr-<region>-<suffix>`).
 */
import type { components } from "./management-api";
import { SUPABASE_INSTANCE_SIZES, SUPABASE_REGIONS } from "./rules";

type ReplicaRegion = components["schemas"]["SetUpReadReplicaBody"]["read_replica_region"];
/** The setup body's enum is the same list as the create body's regions. */
export const REPLICA_REGIONS: readonly ReplicaRegion[] = SUPABASE_REGIONS satisfies readonly ReplicaRegion[];

/** `supabaseReadReplicas`: comma-separated regions, or `none`; one replica per region. */
export function parseReplicaRegions(raw: string): { ok: true; regions: string[] } | { ok: false; problem: string } {
    if (raw.trim() === "none") return { ok: true, regions: [] };
    const regions = raw.split(",").map((r) => r.trim());
    const unknown = regions.filter((r) => !(REPLICA_REGIONS as readonly string[]).includes(r));
    if (unknown.length > 0)
        return {
            ok: false,
            problem: `${unknown.map((r) => JSON.stringify(r)).join(", ")} is not a region: use ${REPLICA_REGIONS.join(", ")}, or none`,
        };
    const twice = regions.filter((r, i) => regions.indexOf(r) !== i);
    if (twice.length > 0) return { ok: false, problem: `lists ${twice.join(", ")} twice: one replica per region` };
    return { ok: true, regions };
}

/** How many replicas a compute size allows: none below Small, 2 below XL, 5 from XL (Supabase's limits). */
export function replicaLimit(size: string): number {
    const at = (SUPABASE_INSTANCE_SIZES as readonly string[]).indexOf(size);
    if (at < SUPABASE_INSTANCE_SIZES.indexOf("small")) return 0;
    return at < SUPABASE_INSTANCE_SIZES.indexOf("xlarge") ? 2 : 5;
}

/** Why `count` replicas cannot run on `size`, or undefined. */
export function replicaCountRefusal(count: number, size: string): string | undefined {
    const limit = replicaLimit(size);
    if (count <= limit) return undefined;
    return limit === 0
        ? `read replicas need compute Small or larger, and the compute is ${size}: raise supabaseInstanceSize, or set supabaseReadReplicas none`
        : `${count} read replicas exceed the ${limit} compute ${size} allows (2 below xlarge, 5 from xlarge): list fewer regions, or raise supabaseInstanceSize`;
}

/** A replica's region from its identifier, or undefined when the identifier has another shape. */
export function regionOfReplica(identifier: string): string | undefined {
    const match = /^[a-z]{20}-rr-(.+)-[a-z0-9]+$/.exec(identifier);
    return match && (REPLICA_REGIONS as readonly string[]).includes(match[1]) ? match[1] : undefined;
}

/** What to remove (identifiers) and to set up (regions) so that the replicas are `desired`. */
export function replicaChanges(current: readonly { identifier: string; region?: string }[], desired: readonly string[]) {
    const remove = current.filter((r) => r.region === undefined || !desired.includes(r.region)).map((r) => r.identifier);
    const add = desired.filter((region) => !current.some((r) => r.region === region));
    return { remove, add };
}
