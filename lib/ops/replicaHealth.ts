/**
 * doctor's check of each read replica's health. The Management API has no replica endpoint: the
 * pooler list names the replicas (READ_REPLICA entries), and the organization's project list
 * (GET /v1/organizations/{slug}/projects) gives each database of the project, replicas included,
 * with its status (INIT_READ_REPLICA while it is set up, INIT_READ_REPLICA_FAILED, ACTIVE_UNHEALTHY...).
 */

import { REPLICA_SETUP_FAILED, type DatabaseEntry } from "../supabase/databases";

type Check = { name: string; status: "pass" | "warn" | "fail"; evidence: string; fix?: string };

/** Statuses of a replica on its way up: not a fault yet. */
const COMING_UP = ["INIT_READ_REPLICA", "COMING_UP", "RESTARTING", "RESIZING", "RESTORING"];

function removeAndAddBack(ref: string, identifier: string): string {
    return (
        `remove it (the dashboard's Database > Replicas, or POST /v1/projects/${ref}/read-replicas/remove {"database_identifier": "${identifier}"}), ` +
        "then `pulumi up` sets up a new one in its region (supabaseReadReplicas); Data API reads go to the other databases meanwhile"
    );
}

/** One check per read replica, from the pooler's list and the databases' statuses. */
export function replicaHealthChecks(
    ref: string,
    poolerReplicas: readonly string[],
    databases: readonly DatabaseEntry[] | undefined,
): Check[] {
    const replicas = databases?.filter((d) => d.type === "READ_REPLICA") ?? [];
    const identifiers = [...new Set([...poolerReplicas, ...replicas.map((r) => r.identifier)])];
    if (identifiers.length === 0) return [{ name: "read replicas", status: "pass", evidence: "none" }];
    return identifiers.map((identifier): Check => {
        const name = `read replica ${identifier}`;
        const entry = replicas.find((r) => r.identifier === identifier);
        const pooled = poolerReplicas.includes(identifier);
        if (databases === undefined)
            return {
                name,
                status: "warn",
                evidence: "listed by the pooler; its status is unknown (the organization's project list did not answer)",
                fix: "run doctor again; the dashboard's Database > Replicas shows its status",
            };
        if (!entry)
            return {
                name,
                status: "warn",
                evidence: `listed by the pooler, but not among project ${ref}'s databases in the organization's project list`,
                fix: "run doctor again in a minute; if it stays so, check the dashboard's Database > Replicas",
            };
        const where = `in ${entry.region}`;
        if (entry.status === "ACTIVE_HEALTHY")
            return pooled
                ? { name, status: "pass", evidence: `ACTIVE_HEALTHY ${where}` }
                : {
                      name,
                      status: "warn",
                      evidence: `ACTIVE_HEALTHY ${where}, but the pooler does not list it yet: its read-only connection is not served`,
                      fix: "run doctor again in a few minutes; the stack's readReplicas output gets it at the next `pulumi up`",
                  };
        if (COMING_UP.includes(entry.status))
            return {
                name,
                status: "warn",
                evidence: `${entry.status} ${where}: not serving reads yet`,
                fix: "a replica takes minutes to set up (longer for a large database): run doctor again later",
            };
        if (entry.status === REPLICA_SETUP_FAILED)
            return {
                name,
                status: "fail",
                evidence: `INIT_READ_REPLICA_FAILED ${where}: its setup failed and it serves nothing`,
                fix: removeAndAddBack(ref, identifier),
            };
        return {
            name,
            status: "fail",
            evidence: `${entry.status} ${where}`,
            fix:
                entry.status === "ACTIVE_UNHEALTHY"
                    ? `look at its replication lag and disk in the dashboard (Database > Replicas, Reports); if it does not recover, ${removeAndAddBack(ref, identifier)}`
                    : `it is not serving: ${removeAndAddBack(ref, identifier)}`,
        };
    });
}
