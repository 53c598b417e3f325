/**
 * What Vault does with the program's AppRole settings, written from Vault's documented behaviour
 * (there is no Vault server in the tests): durations as its tune endpoint parses them, and the
 * cap it puts on a secret-id's TTL.
 */
import { parse } from "@cdktf/hcl2json";

/** Parses a Go duration of h, m and s parts, as Vault's tune endpoint takes it (independent of lib/credentials' vaultDuration). */
export function goSeconds(text: string): number {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!m || text === "") throw new Error(`not a Go duration: ${text}`);
    return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Vault's default max lease TTL (32 days), which an untuned mount inherits. */
export const VAULT_SYSTEM_MAX_LEASE_TTL_S = 768 * 3600;

/**
 * The TTL Vault gives a secret-id: the role's secret_id_ttl, capped at the auth mount's max lease
 * TTL, or the system's when the mount is not tuned (hashicorp/vault#8020, #31726).
 */
export function effectiveSecretIdTtl(secretIdTtl: number, mountMaxLeaseTtl: string | undefined): number {
    const cap = mountMaxLeaseTtl === undefined ? VAULT_SYSTEM_MAX_LEASE_TTL_S : goSeconds(mountMaxLeaseTtl);
    return secretIdTtl === 0 ? cap : Math.min(secretIdTtl, cap);
}

/**
 * A Vault policy as HashiCorp's own HCL parser reads it (@cdktf/hcl2json: HashiCorp's hcl library
 * compiled to WebAssembly; Vault's policy parser is built on the same library): its `path` blocks,
 * path to capabilities. Fails on a syntax error, or on anything in the policy but path blocks.
 */
export async function parseVaultPolicy(hcl: string): Promise<Record<string, string[]>> {
    const document = (await parse("policy.hcl", hcl)) as Record<string, unknown>;
    const extra = Object.keys(document).filter((k) => k !== "path");
    if (extra.length) throw new Error(`the policy holds more than path blocks: ${extra.join(", ")}`);
    const paths = (document.path ?? {}) as Record<string, Record<string, unknown>[]>;
    return Object.fromEntries(
        Object.entries(paths).map(([path, blocks]) => {
            if (blocks.length !== 1) throw new Error(`path "${path}" is granted ${blocks.length} times`);
            const { capabilities, ...rest } = blocks[0];
            if (Object.keys(rest).length) throw new Error(`path "${path}" sets more than capabilities: ${Object.keys(rest).join(", ")}`);
            return [path, capabilities as string[]];
        }),
    );
}
