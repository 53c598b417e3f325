/** The Docker runtime: the engine, the images, single host or Swarm, and how containers reach the outside. */
import { containerHost, containerUrl, HOST_GATEWAY_ALIAS } from "../endpoints";
import { backupSettings } from "./backup";
import {
    dockerHost,
    hostAddress,
    hostname,
    httpUrl,
    image,
    jsonObject,
    oneOf,
    reachableFromContainer,
    registryAddress,
    urlHost,
} from "./parsers";
import { bad, ok, type Parsed } from "./schema";
import { DEFAULT_REDIS_NODE_LABEL } from "../docker";

export const DOCKER_MODES = ["single", "swarm"] as const;
/** Swarm's endpoint modes: vip (a virtual IP and the routing mesh, both IPVS) or dnsrr (DNS round robin, host-mode ports). */
export const SWARM_ENDPOINT_MODES = ["vip", "dnsrr"] as const;
export type SwarmEndpointMode = (typeof SWARM_ENDPOINT_MODES)[number];
/** A Swarm node label key: what `docker node update --label-add` takes and a placement constraint can name. */
const NODE_LABEL = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

function nodeLabel(raw: string): Parsed<string> {
    return NODE_LABEL.test(raw)
        ? ok(raw)
        : bad("must be a node label key: lower-case letters, digits, . _ - (at most 64), starting and ending with a letter or digit");
}
export type DockerMode = (typeof DOCKER_MODES)[number];
/** The guide's compose networks. */
export const DOCKER_NETWORKS = ["frontend", "backend", "cache"] as const;
export type DockerNetwork = (typeof DOCKER_NETWORKS)[number];

const IMAGE_REQUIRED = "is required: an image reference such as ghcr.io/org/app:1.2.3";
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/;

export const dockerSettings = backupSettings
    .group("Docker runtime")
    .add("dockerHost", dockerHost, {
        type: "string",
        doc: "Docker engine: unix:// socket or ssh://user@host (plain tcp:// is refused).",
        default: "unix:///var/run/docker.sock",
    })
    .add("backendImage", (raw, s) => image(s.environment === "prod")(raw), {
        type: "string",
        doc: "Backend image; prod needs an explicit tag other than latest, or a digest.",
        required: IMAGE_REQUIRED,
    })
    .add("workerImage", (raw, s) => image(s.environment === "prod")(raw), {
        type: "string",
        doc: "Worker image; same pinning rule as backendImage.",
        required: IMAGE_REQUIRED,
    })
    .add("backupImage", (raw, s) => image(s.environment === "prod")(raw), {
        type: "string",
        doc: "Backup job image, built from backup-job/Dockerfile; same pinning rule as backendImage.",
        default: "",
        defaultText: "required when a backup service runs",
    })
    .add("redisImage", (raw, s) => image(s.environment === "prod")(raw), {
        type: "string",
        doc: "Redis image; same pinning rule as backendImage.",
        required: IMAGE_REQUIRED,
    })
    .add("registryAddress", registryAddress, {
        type: "string",
        doc: "Registry of private images (e.g. ghcr.io) the docker provider logs in to with registryUsername and registryPassword; empty for anonymous pulls.",
        optional: true,
        yamlDefault: "",
        defaultText: "none (anonymous pulls)",
    })
    .add("dockerMode", oneOf(DOCKER_MODES), {
        type: "string",
        doc: "single: containers on one Docker host; swarm: Swarm services, Docker secrets and overlay networks.",
        default: "single",
    })
    .add("backendHostAddress", hostAddress, {
        type: "string",
        doc: "Host IP address the backend's published port binds to, e.g. 127.0.0.1 behind a reverse proxy on the same host. Single mode only: Swarm's ingress publishes on every node's interfaces.",
        default: "0.0.0.0",
        defaultText: "0.0.0.0 (every interface, as the guide's compose file)",
        check: (address, s) =>
            s.dockerMode === "swarm" && address !== "0.0.0.0"
                ? "must stay 0.0.0.0 in swarm mode: Swarm's ingress publishes on every node's interfaces (restrict it with the nodes' firewall, or use dockerMode single)"
                : undefined,
    })
    .add("swarmEndpointMode", oneOf(SWARM_ENDPOINT_MODES), {
        type: "string",
        doc: "Swarm mode: how services are reached. vip: a virtual IP per service and the routing mesh publishing the backend's port on every node (both need IPVS in the nodes' kernels); dnsrr: DNS round robin to the tasks, the backend's port published in host mode on the nodes that run it (no IPVS). See docs/docker-runtime.md.",
        default: "vip",
    })
    .add("redisNodeLabel", nodeLabel, {
        type: "string",
        doc: "Swarm mode: the node label (set to true on exactly one node) that pins Redis and its data volume to that node.",
        default: DEFAULT_REDIS_NODE_LABEL,
    })
    // Defaults follow the host-side settings; those stay unset when invalid (their own problem says so).
    .add("containerSupabaseUrl", (raw, s) => reachableFromContainer(httpUrl(s.supabaseMode === "hosted"), urlHost)(raw), {
        type: "string",
        optional: true,
        doc: "Supabase API URL as the containers reach it (supabaseUrl serves commands on the host).",
        default: (s) => s.supabaseUrl && containerUrl(s.supabaseUrl),
        yamlDefault: "",
        defaultText: `supabaseUrl, a loopback host replaced by ${HOST_GATEWAY_ALIAS}`,
    })
    .add(
        "containerDbHost",
        reachableFromContainer(hostname, (h) => h),
        {
            type: "string",
            optional: true,
            doc: "Database host as the containers reach it, in their DATABASE_URL and pgpass file (supabaseDbHost serves commands on the host).",
            default: (s) => s.supabaseDbHost && containerHost(s.supabaseDbHost),
            yamlDefault: "",
            defaultText: `supabaseDbHost, a loopback host replaced by ${HOST_GATEWAY_ALIAS}`,
        },
    )
    .add("containerVaultAddress", (raw, s) => reachableFromContainer(httpUrl(s.environment === "prod"), urlHost)(raw), {
        type: "string",
        doc: "Vault URL as the containers reach it (vaultAddress serves the program itself).",
        default: (s) => s.vaultAddress && containerUrl(s.vaultAddress),
        yamlDefault: "",
        defaultText: `vaultAddress, a loopback host replaced by ${HOST_GATEWAY_ALIAS}`,
    })
    .add("networkSubnets", (raw, _s, t) => ok(parseSubnets(raw, t.report)), {
        type: "string",
        undeclared: true,
        doc: 'Optional JSON object of network to IPv4 CIDR, e.g. {"backend": "172.30.1.0/24"}.',
        default: (): Partial<Record<DockerNetwork, string>> => ({}),
        yamlDefault: "",
        defaultText: "Docker assigns",
    });

function parseSubnets(raw: string, report: Parameters<typeof jsonObject>[2]): Partial<Record<DockerNetwork, string>> {
    const out: Partial<Record<DockerNetwork, string>> = {};
    for (const [network, cidr] of Object.entries(jsonObject("networkSubnets", raw, report) ?? {})) {
        const key = `networkSubnets.${network}`;
        if (!(DOCKER_NETWORKS as readonly string[]).includes(network))
            report({ key, shown: JSON.stringify(cidr), allowed: `is not a network; allowed: ${DOCKER_NETWORKS.join(", ")}` });
        else if (typeof cidr !== "string" || !CIDR.test(cidr))
            report({ key, shown: JSON.stringify(cidr), allowed: "must be an IPv4 CIDR such as 172.30.1.0/24" });
        else out[network as DockerNetwork] = cidr;
    }
    return out;
}
