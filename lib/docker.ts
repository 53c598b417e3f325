/**
 * Docker runtime rules: per-stack network names, labels, and the hardening every container
 * gets. Components take these from here rather than each writing their own.
 */
import { createHash } from "node:crypto";
import type { DockerNetwork, ServiceRole } from "./config";
import { PROJECT } from "./constants";
import { providerCpus } from "./providerForms";

/**
 * The guide's compose networks: only frontend reaches the outside. In Swarm mode, an overlay
 * whose traffic is plain HTTP between nodes is `encrypted` (IPsec between the nodes' VXLAN
 * endpoints); cache is not: Redis speaks only TLS with a verified certificate there, and a second
 * layer would cost CPU on the busiest path for nothing (docs/docker-runtime.md).
 */
export const NETWORKS: Record<DockerNetwork, { internal: boolean; encrypted: boolean }> = {
    frontend: { internal: false, encrypted: true },
    backend: { internal: true, encrypted: true },
    cache: { internal: true, encrypted: false },
};

/**
 * How long a Swarm task has, after SIGTERM, before SIGKILL (the provider sends 0 s when unset).
 * Redis: write and fsync its append-only file; backend: finish the requests in flight (its
 * longest request timeout); worker: Celery's warm shutdown lets the running task finish; backup:
 * the job aborts a run cleanly on SIGTERM (its children get 10 s, backup-job/stopProcess.ts, then
 * the multipart upload is aborted), so no half upload is left. In kreuzwerker's `shortDur` form,
 * so they read back unchanged.
 */
export const STOP_GRACE_PERIOD: Record<ServiceRole | "redis" | "monitoring", string> = {
    redis: "30s",
    backend: "30s",
    mcp: "30s",
    worker: "2m",
    backup: "1m",
    // Prometheus writes its head block and Alertmanager its silences on the way out.
    monitoring: "30s",
};

/** The Swarm node label that marks where Redis and its data volume live (the `redisNodeLabel` setting's default). */
export const DEFAULT_REDIS_NODE_LABEL = "toolboxai-redis";

/** Redis's placement: only nodes carrying `label=true` (its data volume is local to that node). */
export function redisPlacement(label: string): { constraints: string[] } {
    return { constraints: [`node.labels.${label}==true`] };
}

/**
 * Where a Swarm service's published ports listen. vip: the routing mesh (IPVS) on every node;
 * dnsrr has no virtual IP, so ports can only be published in host mode, on the nodes that run a task.
 */
export function publishModeFor(endpointMode: "vip" | "dnsrr"): "ingress" | "host" {
    return endpointMode === "vip" ? "ingress" : "host";
}

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
        cpus: providerCpus(o.cpus),
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

/**
 * The same hardening for a Swarm service's task. Swarm has no `no-new-privileges` option for
 * services; everything else carries over, and the PIDs limit is in the task's own limits
 * (lib/swarm/serviceSpec.ts: the program writes Swarm services itself).
 */
export function swarmHardening(o: HardeningOptions & { pidsLimit: number }) {
    return {
        containerSpec: {
            user: o.user,
            readOnly: true,
            capDrops: ["ALL"],
            init: true,
            mounts: [{ target: "/tmp", type: "tmpfs", tmpfsOptions: { sizeBytes: 64 * 1024 * 1024, mode: 0o1777 } }],
            labels: o.labels,
        },
        resources: { limits: { memoryBytes: o.memoryMb * 1024 * 1024, nanoCpus: Math.round(o.cpus * 1e9), pids: o.pidsLimit } },
        restartPolicy: { condition: "any", delay: "5s", window: "2m" },
        logDriver: { name: "json-file", options: { "max-size": "10m", "max-file": "5" } },
    };
}

/**
 * A service's create or update waits for it to complete (every task running, healthy) before
 * `pulumi up` goes on (lib/swarm/engine.ts): a rollout that fails or rolls back fails the `up`.
 * The longest grace period, twice, fits.
 */
export const SWARM_CONVERGE = { timeout: "10m" };

/** Rolling updates one task at a time, started before the old one stops, rolled back on failure. */
export const SWARM_UPDATE = {
    updateConfig: { parallelism: 1, delay: "10s", order: "start-first", failureAction: "rollback", monitor: "30s", maxFailureRatio: "0" },
    rollbackConfig: { parallelism: 1, delay: "5s", order: "stop-first", failureAction: "pause", monitor: "30s", maxFailureRatio: "0" },
};

/** Docker configs are immutable: a name from the content makes a change a new config. */
export function contentName(base: string, content: string): string {
    return `${base}-${createHash("sha256").update(content).digest("hex").slice(0, 12)}`;
}

/**
 * CIS Docker 5.28, PIDs limit. @pulumi/docker 5.2.0 has no `pidsLimit` on Container, so on a
 * single host the limit is applied with the Docker CLI after the provider has created the
 * container: `docker update --pids-limit` (kept in the container's HostConfig across restarts;
 * no restart). Swarm services carry theirs in their spec (swarmHardening). Names and numbers
 * only: nothing here needs quoting.
 */
export function pidsLimitCommand(name: string, limit: number): string {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`Docker container name must be letters, digits, _ . -: got ${JSON.stringify(name)}`);
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`PIDs limit must be a positive integer, got ${limit}`);
    return `docker update --pids-limit ${limit} ${name}`;
}
