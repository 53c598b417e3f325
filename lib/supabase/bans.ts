/**
 * Pure rules of the project's network bans (POST /v1/projects/{ref}/network-bans/retrieve[/enriched],
 * DELETE /v1/projects/{ref}/network-bans): which addresses may be named, which banned addresses are
 * the application's hosts, and the one command that lifts a ban. Supavisor bans an address after
 * repeated failed logins (a rotation that left a consumer on an old password), so a banned
 * application host means the application cannot reach its database.
 */
import { isIPv4 } from "node:net";

/** A ban as the enriched list reports it; the plain list gives the address only. */
export interface Ban {
    address: string;
    /** Who banned it and why, when the enriched list says (e.g. the pooler's identifier and the ban's type). */
    identifier?: string;
    type?: string;
}

/** One IPv4 address in dotted-decimal form (what the DELETE takes), or the problem with it. */
export function ipv4Problem(raw: string): string | undefined {
    if (isIPv4(raw)) return undefined;
    if (raw.includes("/")) return "is a network, not an address: bans are per address; name the one address";
    if (raw.includes(":")) return "is IPv6: Supabase's network bans are IPv4 only";
    return "is not an IPv4 address (four numbers 0-255 separated by dots, such as 203.0.113.7)";
}

/** `applicationEgressIpv4` (config) or `--app-ipv4` (ops): comma-separated IPv4 addresses, or `none`. */
export function parseIpv4List(raw: string): { ok: true; addresses: string[] } | { ok: false; problem: string } {
    if (raw.trim() === "none") return { ok: true, addresses: [] };
    const entries = raw.split(",").map((e) => e.trim());
    if (entries.some((e) => e === ""))
        return { ok: false, problem: "has an empty entry: list IPv4 addresses separated by commas, or none" };
    const problems = entries.flatMap((e) => {
        const p = ipv4Problem(e);
        return p ? [`${JSON.stringify(e)} ${p}`] : [];
    });
    if (problems.length > 0) return { ok: false, problem: problems.join("; ") };
    return { ok: true, addresses: [...new Set(entries)] };
}

/** The command that lifts the ban on `address` (doctor prints it; docs/operations/troubleshooting.md explains it). */
export function liftBanCommand(ref: string, address: string): string {
    return `npm run ops -- unban --project-ref ${ref} --address ${address} --confirm ${ref}`;
}

type Check = { name: string; status: "pass" | "warn" | "fail"; evidence: string; fix?: string; counts?: BanCounts };

/** What doctor counted (its first ban check carries them): the monitoring's NetworkBansPresent reads them (lib/monitoring/textfile.ts). */
export type BanCounts = {
    bannedAddresses: number;
    /** Only when the application's addresses are known. */
    bannedApplicationHosts?: number;
};

const described = (b: Ban) => {
    const why = [b.type, b.identifier].filter(Boolean).join(", ");
    return why ? `${b.address} (${why})` : b.address;
};

/**
 * doctor's checks of the bans: each banned application host fails with the command that lifts its
 * ban; other banned addresses are listed (they may be an operator's laptop, or an attacker);
 * without the application's addresses the bans are only listed.
 */
export function banChecks(ref: string, bans: readonly Ban[], applicationHosts: readonly string[] | undefined): Check[] {
    const name = "network bans";
    const hosts = applicationHosts ?? [];
    const banned = bans.filter((b) => hosts.includes(b.address));
    const others = bans.filter((b) => !hosts.includes(b.address));
    const checks: Check[] = banned.map((b) => ({
        name: `network ban on application host ${b.address}`,
        status: "fail",
        evidence:
            `project ${ref} bans the application host ${described(b)}: its connections to the database and the pooler are refused ` +
            "(Supavisor bans an address after repeated failed logins, as when a consumer still uses a password a rotation replaced)",
        fix:
            `first make sure every consumer on that host has its current credentials (a finished \`pulumi up\`; docs/operations/rotation.md), ` +
            `then lift the ban: \`${liftBanCommand(ref, b.address)}\``,
    }));
    const known = applicationHosts === undefined ? "" : ` (application hosts ${hosts.length ? hosts.join(", ") : "none"} not banned)`;
    if (others.length > 0)
        checks.push({
            name,
            status: "warn",
            evidence: `project ${ref} bans ${others.length} other address${others.length === 1 ? "" : "es"}: ${others.map(described).join(", ")}${known}`,
            fix:
                applicationHosts === undefined
                    ? "the application's addresses are unknown, so these cannot be told apart: set `pulumi config set applicationEgressIpv4 <addresses>` (or pass --app-ipv4); lift a ban that is yours with `npm run ops -- unban`"
                    : "bans expire by themselves; one of yours (an operator's address) is lifted with `npm run ops -- unban --address <address> --confirm <ref>`",
        });
    // No ban at all: the application's hosts are not banned either, known or not.
    if (checks.length === 0) checks.push({ name, status: "pass", evidence: `project ${ref} bans no address${known}` });
    checks[0].counts = {
        bannedAddresses: bans.length,
        ...(applicationHosts === undefined ? {} : { bannedApplicationHosts: banned.length }),
    };
    return checks;
}
