/**
 * Docker runtime rules: per-stack network names, labels, and the hardening every container
 * gets. Components take these from here rather than each writing their own.
 */
import { PROJECT, type DockerNetwork } from "./config";

/** The guide's compose networks: only frontend reaches the outside. */
export const NETWORKS: Record<DockerNetwork, { internal: boolean }> = {
    frontend: { internal: false },
    backend: { internal: true },
    cache: { internal: true },
};

/** Docker object names carry the stack, so that dev and prod can share a host. */
export function dockerName(stack: string, part: string): string {
    return `${PROJECT}-${stack}-${part}`;
}

/** Docker labels from the stack's tags, under a reverse-DNS prefix. */
export function dockerLabels(tags: Record<string, string>, extra: Record<string, string> = {}): { label: string; value: string }[] {
    return Object.entries({ ...tags, ...extra })
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => ({ label: `com.${PROJECT}.${key}`, value }));
}

/** uid:gid the application images run as (never root). */
export const APP_USER = "10001:10001";
export const APP_UID = "10001";

export interface HardeningOptions {
    /** uid:gid to run as. */
    user: string;
    memoryMb: number;
    cpus: number;
    labels: { label: string; value: string }[];
}

/**
 * What every container gets: non-root, read-only root filesystem with a small tmpfs, no new
 * privileges, no capabilities, memory and CPU limits, restart unless stopped, rotated logs.
 * Privileged mode and the host network are never set.
 */
export function hardening(o: HardeningOptions) {
    return {
        user: o.user,
        readOnly: true,
        tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=64m" },
        securityOpts: ["no-new-privileges:true"],
        capabilities: { drops: ["ALL"] },
        memory: o.memoryMb,
        // No swap beyond the memory limit.
        memorySwap: o.memoryMb,
        cpus: String(o.cpus),
        restart: "unless-stopped",
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "5" },
        labels: o.labels,
        privileged: false,
        init: true,
    };
}

/** A libpq password file line: `:` and `\` are escaped in each field. */
export function pgpassLine(host: string, port: number, database: string, user: string, password: string): string {
    const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
    return `${[host, String(port), database, user, password].map(esc).join(":")}\n`;
}
