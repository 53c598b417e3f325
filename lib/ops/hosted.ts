/**
 * Pure rules of the doctor's hosted-project group: how the network restrictions the API reports
 * compare with the ones the stack expects (`databaseAllowedCidrs`).
 */
import { allowsAll, parseCidrs, type SplitCidrs } from "../supabase/rules";

export interface RestrictionsComparison {
    /** What the project has, canonical (the API may answer in another spelling). */
    actual: SplitCidrs;
    /** Expected but not on the project. */
    missing: string[];
    /** On the project but not expected. */
    extra: string[];
    allowsAll: boolean;
}

/** "203.0.113.0/24, 2001:db8::/48", or "none (every address blocked)". */
export function describeCidrs(c: SplitCidrs): string {
    const all = [...c.ipv4, ...c.ipv6];
    return all.length ? all.join(", ") : "none (every address blocked)";
}

/** Compares as sets of canonical networks; without an expectation nothing is missing or extra. */
export function compareRestrictions(
    reported: { dbAllowedCidrs?: string[]; dbAllowedCidrsV6?: string[] },
    expected: SplitCidrs | undefined,
): RestrictionsComparison {
    const actual: SplitCidrs = { ipv4: [], ipv6: [] };
    for (const entry of [...(reported.dbAllowedCidrs ?? []), ...(reported.dbAllowedCidrsV6 ?? [])]) {
        // An entry the parser refuses is kept as the API wrote it, so that it shows as drift.
        const { cidrs, problems } = parseCidrs([entry]);
        const canonical = problems.length ? entry : [...cidrs.ipv4, ...cidrs.ipv6][0];
        const list = canonical.includes(":") ? actual.ipv6 : actual.ipv4;
        if (!list.includes(canonical)) list.push(canonical);
    }
    const have = [...actual.ipv4, ...actual.ipv6];
    const want = expected ? [...expected.ipv4, ...expected.ipv6] : have;
    return {
        actual,
        missing: want.filter((c) => !have.includes(c)),
        extra: have.filter((c) => !want.includes(c)),
        allowsAll: allowsAll(actual),
    };
}
