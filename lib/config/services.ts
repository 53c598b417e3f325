/** The application services (backend, worker, MCP servers, the backup job): the last row, as it reads the images and the Docker mode. */
import { dockerSettings, DOCKER_NETWORKS, type DockerNetwork } from "./docker";
import { bad, ok, type ConfigProblem } from "./schema";
import { image as imageRef, jsonObject } from "./parsers";
import { cpusReadBackUnchanged } from "../providerForms";

export const SERVICE_ROLES = ["backend", "worker", "mcp", "backup"] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** One application service (backend, worker, MCP server) as the stack config describes it. */
export interface ServiceSpec {
    name: string;
    role: ServiceRole;
    image: string;
    command?: string[];
    replicas: number;
    networks: DockerNetwork[];
    /** Published ports; the backend only. Their one target is the port the backend listens on (backendPort). */
    ports: { published: number; target: number }[];
    /** Most processes and threads its containers may hold (CIS Docker 5.28): a fork bomb stops there. */
    pidsLimit: number;
    memoryMb: number;
    cpus: number;
    /** Docker health-check test overriding the role's default (lib/services.ts). */
    healthcheck?: string[];
}

/** The guide's backend port: the default backend publishes it and listens on it. */
export const BACKEND_PORT = 8000;

/** Where the backend listens inside its container: its ports' target (one for all), else the guide's port. */
export function backendPort(spec: Pick<ServiceSpec, "ports">): number {
    return spec.ports[0]?.target ?? BACKEND_PORT;
}

/**
 * Default PIDs limit per role. The pids cgroup counts threads too: a Node or Python server with
 * its thread pools holds tens, a prefork Celery worker a few per child, the backup job Node plus
 * pg_dump and zstd's threads (one per CPU).
 */
export const DEFAULT_PIDS_LIMIT: Record<ServiceRole, number> = { backend: 512, worker: 512, mcp: 256, backup: 128 };
const PIDS_LIMIT_RANGE = { min: 32, max: 32768 };

/** frontend is the only network with a route out: every role reaches Supabase and Vault through it. */
const DEFAULT_NETWORKS: Record<ServiceRole, DockerNetwork[]> = {
    backend: ["frontend", "backend", "cache"],
    worker: ["frontend", "backend", "cache"],
    mcp: ["frontend", "backend"],
    // The dump leaves for the database and S3 outside: nothing internal to reach.
    backup: ["frontend"],
};

const DEFAULT_SERVICES = {
    backend: { role: "backend", ports: [{ published: BACKEND_PORT, target: BACKEND_PORT }] },
    worker: { role: "worker" },
    backup: { role: "backup", cpus: 2, memoryMb: 1024 },
};

export const serviceSettings = dockerSettings
    .group("Application services")
    .add("services", (raw, s, t) => ok(parseServices(raw, servicesContext(s, t.given), t.report)), {
        type: "string",
        undeclared: true,
        doc: `Application services as a JSON object: name to {role: backend|worker|mcp|backup, image, command, replicas, networks, ports, memoryMb, cpus, pidsLimit, healthcheck}. Unset: one backend (port ${BACKEND_PORT}), one worker and the backup job.`,
        default: (s, t) => parseServices(undefined, servicesContext(s, t.given), t.report),
        yamlDefault: "",
        defaultText: "backend + worker + backup",
    });

function servicesContext(
    s: { environment?: string; dockerMode?: string; backendImage?: string; workerImage?: string; backupImage?: string },
    given: (key: string) => string | undefined,
) {
    // An invalid backupImage has its own problem: the raw value keeps the backup service from a second one.
    return {
        images: { backend: s.backendImage, worker: s.workerImage, backup: s.backupImage ?? given("backupImage") },
        pinned: s.environment === "prod",
        swarm: s.dockerMode === "swarm",
    };
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SERVICE_FIELDS = ["role", "image", "command", "replicas", "networks", "ports", "memoryMb", "cpus", "pidsLimit", "healthcheck"];

/** A Docker health-check test that runs something: exec form, or one shell command. NONE is refused. */
function isHealthcheckTest(v: unknown): v is string[] {
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.trim() === "")) return false;
    return (v[0] === "CMD" && v.length >= 2) || (v[0] === "CMD-SHELL" && v.length === 2);
}

/** Parses `services`; each problem is keyed `services.<name>.<field>`. */
function parseServices(
    raw: string | undefined,
    d: { images: Partial<Record<ServiceRole, string>>; pinned: boolean; swarm: boolean },
    report: (problem: ConfigProblem) => void,
): ServiceSpec[] {
    const specs: Record<string, unknown> = raw === undefined ? DEFAULT_SERVICES : (jsonObject("services", raw, report) ?? {});
    const out: ServiceSpec[] = [];
    for (const [name, value] of Object.entries(specs)) {
        const at = (field?: string) => `services.${name}${field ? `.${field}` : ""}`;
        const complain = (field: string | undefined, v: unknown, allowed: string) =>
            report({ key: at(field), shown: JSON.stringify(v) ?? "(missing)", allowed });
        if (!SERVICE_NAME.test(name)) {
            complain(undefined, name, "must be named with lowercase letters, digits and -, starting with a letter (at most 31 characters)");
            continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            complain(undefined, value, "must be an object with role, image, replicas, ...");
            continue;
        }
        const v = value as Record<string, unknown>;
        for (const field of Object.keys(v))
            if (!SERVICE_FIELDS.includes(field)) complain(field, v[field], `is not a service field; allowed: ${SERVICE_FIELDS.join(", ")}`);
        const role = v.role as ServiceRole;
        if (!(SERVICE_ROLES as readonly string[]).includes(String(v.role))) {
            complain("role", v.role, `must be one of ${SERVICE_ROLES.join(", ")}`);
            continue;
        }
        const defaultImage = d.images[role];
        let image = defaultImage ?? "";
        if (v.image !== undefined) {
            const r = typeof v.image === "string" ? imageRef(d.pinned)(v.image) : bad<string>("must be an image reference");
            if (r.ok) image = r.value;
            else complain("image", v.image, r.allowed);
        } else if (role === "mcp") complain("image", undefined, "is required for an mcp service");
        else if (role === "backup" && !image && (v.replicas ?? 1) !== 0)
            complain(
                "image",
                undefined,
                "is required for the backup job: set backupImage (built from backup-job/Dockerfile), or replicas: 0",
            );
        const replicas = v.replicas ?? 1;
        if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 50)
            complain("replicas", v.replicas, "must be an integer from 0 to 50");
        // Two schedulers would take every backup twice.
        else if (role === "backup" && (replicas as number) > 1) complain("replicas", v.replicas, "must be 0 or 1 for the backup job");
        const networks = (v.networks ?? DEFAULT_NETWORKS[role]) as unknown;
        if (!Array.isArray(networks) || networks.some((n) => !(DOCKER_NETWORKS as readonly string[]).includes(n))) {
            complain("networks", v.networks, `must be a list of ${DOCKER_NETWORKS.join(", ")}`);
        }
        const ports = (v.ports ?? []) as unknown;
        const portOk = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
        if (!Array.isArray(ports) || ports.some((p) => p === null || typeof p !== "object" || !portOk(p.published) || !portOk(p.target))) {
            complain("ports", v.ports, "must be a list of {published, target} port numbers");
        } else if (ports.length > 0 && role !== "backend") {
            complain("ports", v.ports, "may only be set on the backend: other services are reached on the internal networks");
        } else if (ports.length > 0 && replicas !== 1 && !d.swarm) {
            complain("ports", v.ports, "need replicas: 1 on a single Docker host (two containers cannot publish one host port)");
        } else if (new Set(ports.map((p) => p.target)).size > 1) {
            complain(
                "ports",
                v.ports,
                "must all have the same target: the backend listens on one port, which its health check and backendInternalUrl use",
            );
        }
        const command = v.command;
        if (command !== undefined && (!Array.isArray(command) || command.some((c) => typeof c !== "string")))
            complain("command", command, "must be a list of strings");
        const memoryMb = v.memoryMb ?? 512;
        if (!Number.isInteger(memoryMb) || (memoryMb as number) < 64 || (memoryMb as number) > 65536)
            complain("memoryMb", v.memoryMb, "must be an integer from 64 to 65536");
        const cpus = v.cpus ?? 1;
        if (typeof cpus !== "number" || cpus <= 0 || cpus > 64) complain("cpus", v.cpus, "must be a number above 0 and at most 64");
        else if (!cpusReadBackUnchanged(cpus))
            complain(
                "cpus",
                v.cpus,
                "must be an amount the Docker provider reads back unchanged (it keeps one decimal when the rest are zeros, so 0.05 becomes 0.1): e.g. 0.1, 0.25, 1, 1.5",
            );
        const pidsLimit = v.pidsLimit ?? DEFAULT_PIDS_LIMIT[role];
        if (!Number.isInteger(pidsLimit) || (pidsLimit as number) < PIDS_LIMIT_RANGE.min || (pidsLimit as number) > PIDS_LIMIT_RANGE.max) {
            complain(
                "pidsLimit",
                v.pidsLimit,
                `must be an integer from ${PIDS_LIMIT_RANGE.min} to ${PIDS_LIMIT_RANGE.max} (processes and threads per container; unlimited is refused)`,
            );
        }
        const healthcheck = v.healthcheck;
        if (healthcheck !== undefined && !isHealthcheckTest(healthcheck)) {
            complain(
                "healthcheck",
                healthcheck,
                'must be ["CMD", "<program>", "<argument>", ...] or ["CMD-SHELL", "<one shell command>"]: a check that can fail (NONE is refused)',
            );
        }
        out.push({
            name,
            role,
            image,
            command: command as string[] | undefined,
            replicas: replicas as number,
            networks: networks as DockerNetwork[],
            ports: ports as ServiceSpec["ports"],
            memoryMb: memoryMb as number,
            cpus: cpus as number,
            pidsLimit: pidsLimit as number,
            ...(isHealthcheckTest(healthcheck) ? { healthcheck } : {}),
        });
    }
    const backends = out.filter((s) => s.role === "backend").map((s) => s.name);
    if (backends.length > 1)
        report({ key: "services", shown: JSON.stringify(backends), allowed: "may hold at most one service with role backend" });
    const backups = out.filter((s) => s.role === "backup").map((s) => s.name);
    if (backups.length > 1)
        report({ key: "services", shown: JSON.stringify(backups), allowed: "may hold at most one service with role backup" });
    return out;
}
