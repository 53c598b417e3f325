/**
 * The hosted project's network bans: read for doctor, and `ops unban --address <IPv4> --confirm <ref>`
 * to lift one. Reads (POST .../network-bans/retrieve, a POST that only reads) are retried like GETs.
 * The lift is DELETE .../network-bans {ipv4_addresses}: idempotent (lifting a ban that is already
 * gone leaves the same state, no ban on that address), so the client may send it again after a
 * timeout or a 5xx without harm; the bans are then read again to show the ban is gone.
 */
import { ipv4Problem, type Ban } from "../lib/supabase/bans";
import {
    ACCESS_TOKEN_PATTERN,
    accepted,
    managementClient,
    ManagementApiError,
    unwrap,
    type ManagementClient,
} from "../lib/supabase/client";
import { UsageError, type Context } from "./context";
import { RefusedError } from "./restore";

const RETRIEVE = "POST /v1/projects/{ref}/network-bans/retrieve";
const ENRICHED = "POST /v1/projects/{ref}/network-bans/retrieve/enriched";
const LIFT = "DELETE /v1/projects/{ref}/network-bans";

/**
 * The project's bans. The plain list is the authority; when it is not empty the enriched list says
 * who banned each address and why, and is left out (not failed) if it does not answer.
 */
export async function readBans(api: ManagementClient, ref: string, token: string): Promise<Ban[]> {
    const path = { params: { path: { ref } } };
    const plain = unwrap(RETRIEVE, await api.POST("/v1/projects/{ref}/network-bans/retrieve", path), token);
    const bans: Ban[] = plain.banned_ipv4_addresses.map((address) => ({ address }));
    if (bans.length === 0) return bans;
    try {
        const enriched = unwrap(ENRICHED, await api.POST("/v1/projects/{ref}/network-bans/retrieve/enriched", path), token);
        for (const b of bans) {
            const e = enriched.banned_ipv4_addresses.find((x) => x.banned_address === b.address);
            if (e) Object.assign(b, { identifier: e.identifier, type: e.type });
        }
    } catch (err) {
        // A refused token is the caller's to report; anything else only costs the details.
        if (err instanceof ManagementApiError && (err.status === 401 || err.status === 403)) throw err;
    }
    return bans;
}

export interface UnbanOptions {
    address: string | undefined;
    confirm: string | undefined;
    dryRun: boolean;
    /** Per request (default 30 s). */
    timeoutMs?: number;
    backoffMs?: number;
}

export interface UnbanResult {
    ok: boolean;
    ref: string;
    address: string;
    /** Was it banned when we looked (before anything was sent)? */
    wasBanned: boolean;
    /** The ban as the enriched list described it. */
    ban?: Ban;
    dryRun: boolean;
    /** What was (or, dry, would be) sent; absent when nothing needed sending. */
    request?: { operation: string; body: { ipv4_addresses: string[]; requester_ip: boolean } };
    /** Still banned after the DELETE (read again). */
    stillBanned?: boolean;
}

export async function liftBan(hosted: Context["hosted"], o: UnbanOptions): Promise<UnbanResult> {
    if (!hosted)
        throw new UsageError("unban lifts a ban on the hosted project: pass --stack (or --outputs) of a hosted stack, or --project-ref");
    const ref = hosted.ref;
    // Before any request: the flags alone can be wrong.
    if (o.address === undefined) throw new UsageError("--address is required: the IPv4 address whose ban to lift, such as 203.0.113.7");
    const problem = ipv4Problem(o.address);
    if (problem) throw new UsageError(`--address ${JSON.stringify(o.address)} ${problem}`);
    if (o.confirm !== ref)
        throw new UsageError(
            `--confirm ${o.confirm === undefined ? "is missing" : JSON.stringify(o.confirm)}: lifting a ban lets ${o.address} reach project ${ref}'s database again; pass --confirm ${ref} to confirm`,
        );
    if (!hosted.token || !ACCESS_TOKEN_PATTERN.test(hosted.token))
        throw new UsageError(
            `no usable Management API token from ${hosted.tokenSource}: export SUPABASE_ACCESS_TOKEN (sbp_...) or pass --access-token-file`,
        );
    const token = hosted.token;
    const api = managementClient({ baseUrl: hosted.apiUrl, token, timeoutMs: o.timeoutMs ?? 30_000, backoffMs: o.backoffMs });
    const address = o.address;

    const before = await readBans(api, ref, token);
    const ban = before.find((b) => b.address === address);
    const result: UnbanResult = { ok: true, ref, address, wasBanned: ban !== undefined, ban, dryRun: o.dryRun };
    if (!ban) return result;
    // requester_ip false: lift only the named address, never also this machine's (the spec's default, said outright).
    const body = { ipv4_addresses: [address], requester_ip: false };
    result.request = { operation: LIFT, body };
    if (o.dryRun) return result;

    accepted(LIFT, await api.DELETE("/v1/projects/{ref}/network-bans", { params: { path: { ref } }, body }), token);
    const after = await readBans(api, ref, token);
    result.stillBanned = after.some((b) => b.address === address);
    if (result.stillBanned)
        throw new RefusedError(
            `project ${ref}: the API accepted ${LIFT} for ${address}, but the address is still banned when read again: ` +
                "run this again in a minute; if it stays banned, ask Supabase support (with the project ref and the address)",
        );
    return result;
}

/** The report for people. */
export function unbanReport(r: UnbanResult): string {
    if (!r.wasBanned) return `project ${r.ref}: ${r.address} is not banned; nothing sent\n`;
    const why = r.ban?.type || r.ban?.identifier ? ` (${[r.ban.type, r.ban.identifier].filter(Boolean).join(", ")})` : "";
    if (r.dryRun)
        return `project ${r.ref}: ${r.address} is banned${why}\ndry run: nothing sent. It would send ${r.request!.operation} ${JSON.stringify(r.request!.body)}, then read the bans again\n`;
    return (
        `project ${r.ref}: ${r.address} was banned${why}; sent ${r.request!.operation} ${JSON.stringify(r.request!.body)}; read again: no longer banned\n` +
        "if the same host is banned again soon, a consumer on it still logs in with an old password: see docs/operations/troubleshooting.md\n"
    );
}
