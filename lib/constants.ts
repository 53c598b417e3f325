/**
 * Plain facts shared by the program and the backup job. This module loads nothing (no Pulumi SDK),
 * so the job's bundle can import it.
 */

export const PROJECT = "toolboxai";

/** Ports of `supabase start` (supabase/config.toml defaults). */
export const LOCAL_SUPABASE = { apiUrl: "http://127.0.0.1:54321", dbHost: "127.0.0.1", dbPort: 54322 } as const;

/** Supabase's transaction pooler (Supavisor): no session, so no migrations or pg_dump snapshots through it. */
export const TRANSACTION_POOLER_PORT = 6543;

/** Where containers read what the program hands them: secret files (0400, Docker secrets in Swarm) and public files (0444). */
export const CONTAINER_SECRETS_DIR = "/run/secrets";
export const CONTAINER_FILES_DIR = "/etc/toolboxai";
