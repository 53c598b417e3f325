/**
 * Each database of a project (the primary and its read replicas) with its status. No per-project
 * endpoint gives them: the organization's project list does (GET /v1/organizations/{slug}/projects,
 * 100 a page), so the project is found there by its ref. doctor reads replica health from it, and
 * the read-replicas provider a replica whose setup failed (INIT_READ_REPLICA_FAILED).
 */
import { ManagementApiError, unwrap, type ManagementClient } from "./client";

export interface DatabaseEntry {
    identifier: string;
    type: "PRIMARY" | "READ_REPLICA";
    status: string;
    region: string;
}

/** Pages of the organization's project list read at most (100 projects each). */
const MAX_PROJECT_PAGES = 20;

/**
 * The project's databases, or undefined when the list does not answer or does not hold the
 * project (so callers say the status is unknown). A refused token (401/403) is thrown: the
 * caller reports it as the token's fault.
 */
export async function projectDatabases(api: ManagementClient, ref: string, token: string): Promise<DatabaseEntry[] | undefined> {
    try {
        const project = unwrap("GET /v1/projects/{ref}", await api.GET("/v1/projects/{ref}", { params: { path: { ref } } }), token);
        const slug = project.organization_slug;
        for (let page = 0; page < MAX_PROJECT_PAGES; page++) {
            const list = unwrap(
                "GET /v1/organizations/{slug}/projects",
                await api.GET("/v1/organizations/{slug}/projects", {
                    params: { path: { slug }, query: { offset: page * 100, limit: 100 } },
                }),
                token,
            );
            const found = list.projects.find((p) => p.ref === ref);
            if (found) return found.databases;
            if ((page + 1) * 100 >= list.pagination.count) return undefined;
        }
        return undefined;
    } catch (err) {
        if (err instanceof ManagementApiError && (err.status === 401 || err.status === 403)) throw err;
        return undefined;
    }
}

/** The status of a replica whose setup failed. */
export const REPLICA_SETUP_FAILED = "INIT_READ_REPLICA_FAILED";
