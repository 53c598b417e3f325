/** Names, tags and Vault paths shared by every component. */
import type { Environment } from "./config";
import { PROJECT } from "./constants";

/** Tags/labels every resource carries, so that an owner can be found from the cloud console or `docker ps`. */
export function stackTags(stack: string, environment: Environment): Record<string, string> {
    return { project: PROJECT, stack, environment, "managed-by": "pulumi" };
}

/** The guide's `vault kv put secret/toolboxai/<leaf>`, per stack: the KV v2 secret name under the mount. */
export function vaultSecretName(pathPrefix: string, leaf: string): string {
    return `${pathPrefix}/${leaf}`;
}

/** What `vault kv get` takes: `<mount>/<prefix>/<leaf>` (KV v2 adds `data/` itself in the API). */
export function vaultKvPath(mount: string, pathPrefix: string, leaf: string): string {
    return `${mount}/${vaultSecretName(pathPrefix, leaf)}`;
}

export const VAULT_LEAVES = ["supabase", "database", "redis"] as const;
