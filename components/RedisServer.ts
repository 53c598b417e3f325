import * as pulumi from "@pulumi/pulumi";
import { Command } from "@pulumi/command/local/command";
import { Container } from "@pulumi/docker/container";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { RemoteImage } from "@pulumi/docker/remoteImage";
import { Volume } from "@pulumi/docker/volume";
import { CertRequest } from "@pulumi/tls/certRequest";
import { LocallySignedCert } from "@pulumi/tls/locallySignedCert";
import { PrivateKey } from "@pulumi/tls/privateKey";
import { SelfSignedCert } from "@pulumi/tls/selfSignedCert";
import type { RedisUser } from "../lib/credentials";
import type { DockerMode, SwarmEndpointMode } from "../lib/config";
import {
    DEFAULT_REDIS_NODE_LABEL,
    dockerLabels,
    dockerName,
    hardening,
    redisPlacement,
    STOP_GRACE_PERIOD,
    swarmHardening,
    SWARM_CONVERGE,
    SWARM_UPDATE,
} from "../lib/docker";
import { pidsLimit } from "./pidsLimit";
import { swarmFiles } from "./swarmFiles";
import { SwarmService, type SwarmRegistryLogin } from "../lib/swarm/resource";
import { seedContainer, seededLabels } from "./seed";
import { canonicalHealthcheck } from "../lib/providerForms";
import { CONTAINER_SECRETS_DIR } from "../lib/constants";
import {
    aclApplyCommand,
    aclFile,
    aclPasswordCommands,
    REDIS_PATHS,
    REDIS_PIDS_LIMIT,
    REDIS_TLS,
    REDIS_TLS_PORT,
    REDIS_UID,
    redisConf,
    type AclUser,
} from "../lib/redis";

export interface RedisServerArgs {
    /** Stack name, for Docker object names. */
    stack: string;
    /** single: a container; swarm: a one-replica service pinned to the node labelled for Redis. */
    mode: DockerMode;
    /** Image, pinned by config (a digest is recommended for prod). */
    image: pulumi.Input<string>;
    /** Networks to join with the DNS alias `redis` (cache, and backend as in the guide): names for a container, ids for a service. */
    networks: { names: pulumi.Input<string>[]; ids: pulumi.Input<string>[] };
    /** ACL users: the password each consumer is given and every password accepted (both rotation slots), from SupabaseCredentials. */
    users: Record<RedisUser, { username: string; password: pulumi.Input<string>; passwords?: pulumi.Input<string>[] }>;
    /** Tags carried as labels. */
    tags: Record<string, string>;
    /** Memory limit in MB. */
    memoryMb?: number;
    /** The engine the provider talks to: containers get their PIDs limit there with the Docker CLI (components/pidsLimit.ts), and Swarm services are written there (lib/swarm/engine.ts). */
    dockerHost: string;
    /** Swarm mode: the node label (=true) where Redis and its data volume live. */
    nodeLabel: string;
    /** Swarm mode: vip or dnsrr, as the application services. */
    endpointMode: SwarmEndpointMode;
    /** Swarm mode: the login for private images, sent with each service create and update (username and password secrets). */
    registry?: SwarmRegistryLogin;
}

const CONFIG_DIR = "/etc/redis";

/**
 * Redis as the guide runs it, hardened: TLS only on 6380 with a CA and server certificate the
 * program generates, an ACL file with the default user off, persistence on a data volume
 * (protected by Pulumi on one host; in Swarm mode created by the engine on the Redis node), a TLS
 * health check as a PING-only user, and no published port.
 */
export class RedisServer extends pulumi.ComponentResource {
    /** What clients put in REDIS_URL (with their own user). */
    readonly endpoint: string;
    /** The CA clients trust (public). */
    readonly caCertPem: pulumi.Output<string>;
    /** The container's or the Swarm service's name. */
    readonly runtimeName: pulumi.Output<string>;
    /** The certificates it issues and when each ends (RFC 3339): monitoring warns before they do. */
    readonly certificates: { name: string; notAfter: pulumi.Output<string> }[];

    /** Whether the data volume is protected and retained: the caller's `protect`/`retainOnDelete`, true unless it says otherwise. */
    private readonly keepData: { protect: boolean; retainOnDelete: boolean };

    constructor(name: string, args: RedisServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:cache:RedisServer", name, {}, opts);
        this.keepData = { protect: opts?.protect ?? true, retainOnDelete: opts?.retainOnDelete ?? true };
        const child = { parent: this };
        const labels = dockerLabels(args.tags, { service: "redis" });

        const caKey = new PrivateKey(`${name}-ca-key`, { algorithm: REDIS_TLS.algorithm, ecdsaCurve: REDIS_TLS.ecdsaCurve }, child);
        const caCert = new SelfSignedCert(
            `${name}-ca-cert`,
            {
                privateKeyPem: caKey.privateKeyPem,
                subject: { commonName: REDIS_TLS.caCommonName },
                isCaCertificate: true,
                validityPeriodHours: REDIS_TLS.caValidityHours,
                earlyRenewalHours: REDIS_TLS.earlyRenewalHours,
                allowedUses: ["cert_signing", "crl_signing"],
            },
            child,
        );
        const serverKey = new PrivateKey(`${name}-server-key`, { algorithm: REDIS_TLS.algorithm, ecdsaCurve: REDIS_TLS.ecdsaCurve }, child);
        const csr = new CertRequest(
            `${name}-server-csr`,
            {
                privateKeyPem: serverKey.privateKeyPem,
                subject: { commonName: "redis" },
                dnsNames: [...REDIS_TLS.dnsNames],
                ipAddresses: [...REDIS_TLS.ipAddresses],
            },
            child,
        );
        const serverCert = new LocallySignedCert(
            `${name}-server-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: caCert.certPem,
                validityPeriodHours: REDIS_TLS.serverValidityHours,
                earlyRenewalHours: REDIS_TLS.earlyRenewalHours,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
            },
            child,
        );
        this.caCertPem = caCert.certPem;
        this.certificates = [
            { name: "redis-ca", notAfter: caCert.validityEndTime },
            { name: "redis-server", notAfter: serverCert.validityEndTime },
        ];

        const image = new RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, child);

        // Never rotated: it only lets `pulumi up` change users' passwords on the running server.
        const deployerPassword = new RandomPassword(`${name}-deployer-password`, { length: 40, special: false }, child).result;
        const users = pulumi
            .all(
                Object.entries(args.users).map(([user, u]) =>
                    pulumi
                        .all([u.password, pulumi.all(u.passwords ?? [u.password])])
                        .apply(([password, passwords]) => [user, { username: u.username, password, passwords }] as const),
                ),
            )
            .apply((entries) => Object.fromEntries(entries) as unknown as Record<RedisUser, AclUser>);
        const acl = pulumi.all([users, deployerPassword]).apply(([u, deployer]) => aclFile(u, deployer));
        const healthcheck = args.users.healthcheck;
        const files: RedisFiles = {
            public: {
                [REDIS_PATHS.config]: redisConf(),
                [REDIS_PATHS.caCert]: caCert.certPem,
                [REDIS_PATHS.serverCert]: serverCert.certPem,
            },
            secret: {
                [REDIS_PATHS.serverKey]: serverKey.privateKeyPem,
                [REDIS_PATHS.deployerPassword]: deployerPassword,
            },
            // What a rotation changes: on one host they reach the running server without a restart.
            rotating: {
                [REDIS_PATHS.acl]: acl,
                [REDIS_PATHS.healthcheckPassword]: healthcheck.password,
            },
        };
        const healthcheckSpec = {
            // Over TLS, trusting the generated CA, as the PING-only user; the password comes from its file.
            tests: [
                "CMD-SHELL",
                `REDISCLI_AUTH="$(cat ${REDIS_PATHS.healthcheckPassword})" redis-cli --tls --cacert ${REDIS_PATHS.caCert} -p ${REDIS_TLS_PORT} --user ${healthcheck.username} --no-auth-warning ping | grep -q PONG`,
            ],
            interval: "30s",
            timeout: "10s",
            retries: 3,
            startPeriod: "10s",
        };
        const run = { name, image, files, users, healthcheck: healthcheckSpec, labels, memoryMb: args.memoryMb ?? 512 };
        this.runtimeName = args.mode === "swarm" ? this.service(args, run) : this.container(args, run);
        this.endpoint = `rediss://redis:${REDIS_TLS_PORT}`;
        this.registerOutputs({ endpoint: this.endpoint, caCertPem: this.caCertPem, runtimeName: this.runtimeName });
    }

    private container(args: RedisServerArgs, run: RedisRun): pulumi.Output<string> {
        const child = { parent: this };
        const owner = String(REDIS_UID);
        // Data survives replacement and `pulumi destroy`. Its labels come from the stack's tags and
        // would force a replacement, which `protect` refuses: a tag change must not block every up.
        const data = new Volume(
            `${run.name}-data`,
            { name: dockerName(args.stack, REDIS_DATA_VOLUME), labels: run.labels },
            { ...child, ...this.keepData, ignoreChanges: ["labels"] },
        );
        // Config, certificates and secret files live on their own volumes, filled by the seed
        // (./seed.ts): a read-only root filesystem takes no uploads.
        const configVolume = new Volume(`${run.name}-config`, { labels: run.labels }, child);
        const secretsVolume = new Volume(`${run.name}-secrets`, { labels: run.labels }, child);
        const user = `${REDIS_UID}:${REDIS_UID}`;
        const volumes = [
            { volumeName: configVolume.name, containerPath: CONFIG_DIR },
            { volumeName: secretsVolume.name, containerPath: CONTAINER_SECRETS_DIR },
        ];
        const secretUploads = (files: Record<string, pulumi.Input<string>>) =>
            Object.entries(files).map(([file, content]) => ({
                file,
                content: pulumi.secret(content),
                permissions: "0400",
                owner,
                group: owner,
            }));
        const seed = seedContainer(
            `${run.name}-server`,
            {
                image: run.image.imageId,
                user,
                volumes,
                uploads: [
                    ...Object.entries(run.files.public).map(([file, content]) => ({
                        file,
                        content,
                        permissions: "0444",
                        owner,
                        group: owner,
                    })),
                    ...secretUploads(run.files.secret),
                ],
                labels: run.labels,
            },
            child,
        );
        // The ACL file and the health check's password in a seed of their own, which the server's
        // label does not name: new passwords replace this seed (rewriting the files in the volumes),
        // not the server, and the command below gives the running server the same passwords.
        const credentialsSeed = seedContainer(
            `${run.name}-credentials`,
            { image: run.image.imageId, user, volumes, uploads: secretUploads(run.files.rotating), labels: run.labels },
            child,
        );
        const container = new Container(
            `${run.name}-server`,
            {
                image: run.image.imageId,
                command: ["redis-server", REDIS_PATHS.config],
                networksAdvanced: args.networks.names.map((network) => ({ name: network, aliases: ["redis"] })),
                volumes: [
                    { volumeName: data.name, containerPath: REDIS_PATHS.data },
                    { volumeName: configVolume.name, containerPath: CONFIG_DIR },
                    { volumeName: secretsVolume.name, containerPath: CONTAINER_SECRETS_DIR },
                ],
                healthcheck: canonicalHealthcheck(run.healthcheck, "container"),
                ...hardening({ user, memoryMb: run.memoryMb, cpus: 1, labels: run.labels }),
                labels: seededLabels(run.labels, seed),
            },
            // One server on the data volume at a time: the old one stops before the new one starts.
            { ...child, deleteBeforeReplace: true, dependsOn: [seed, credentialsSeed] },
        );
        const passwords = run.users.apply(aclPasswordCommands);
        new Command(
            `${run.name}-acl-apply`,
            {
                create: container.name.apply(aclApplyCommand),
                update: container.name.apply(aclApplyCommand),
                // The passwords' hashes go on stdin, never a command line.
                stdin: pulumi.secret(passwords),
                environment: { DOCKER_HOST: args.dockerHost },
                logging: "stderr",
            },
            { ...child, dependsOn: [container, credentialsSeed] },
        );
        pidsLimit(
            `${run.name}-pids`,
            {
                target: container.name,
                limit: REDIS_PIDS_LIMIT,
                dockerHost: args.dockerHost,
                rewrittenBy: [container.id],
            },
            child,
        );
        return container.name;
    }

    private service(args: RedisServerArgs, run: RedisRun): pulumi.Output<string> {
        const child = { parent: this };
        const { secrets, configs } = swarmFiles(
            {
                name: run.name,
                stack: args.stack,
                owner: "redis",
                // Swarm mode: a new secret rolls the service over (a restart); the ACL keeps both slots' passwords across it.
                secret: { ...run.files.secret, ...run.files.rotating },
                public: run.files.public,
                uid: String(REDIS_UID),
                labels: run.labels,
            },
            child,
        );
        const hardened = swarmHardening({
            user: `${REDIS_UID}:${REDIS_UID}`,
            memoryMb: run.memoryMb,
            cpus: 1,
            pidsLimit: REDIS_PIDS_LIMIT,
            labels: run.labels,
        });
        const service = new SwarmService(
            `${run.name}-server`,
            {
                dockerHost: args.dockerHost,
                registryAuth: args.registry,
                name: dockerName(args.stack, "redis"),
                labels: run.labels,
                mode: { replicated: { replicas: 1 } },
                taskSpec: {
                    ...hardened,
                    containerSpec: {
                        ...hardened.containerSpec,
                        image: run.image.repoDigest,
                        commands: ["redis-server", REDIS_PATHS.config],
                        secrets,
                        configs,
                        mounts: [...hardened.containerSpec.mounts, swarmDataMount(args.stack, args.tags)],
                        healthcheck: canonicalHealthcheck(run.healthcheck, "service"),
                        // SIGTERM, then time to write and fsync the append-only file.
                        stopGracePeriod: STOP_GRACE_PERIOD.redis,
                    },
                    networksAdvanceds: args.networks.ids.map((id) => ({ id, aliases: ["redis"] })),
                    // The data volume lives on one node: Redis runs where it is (and nowhere else: no failover).
                    placement: redisPlacement(args.nodeLabel),
                },
                endpointSpec: { mode: args.endpointMode },
                // One replica on one volume: the old task stops before the new one starts.
                updateConfig: { ...SWARM_UPDATE.updateConfig, order: "stop-first" },
                rollbackConfig: SWARM_UPDATE.rollbackConfig,
                convergeConfig: SWARM_CONVERGE,
            },
            child,
        );
        return service.name;
    }
}

/** The Swarm node label that marks where Redis and its data volume live, unless `redisNodeLabel` says otherwise. */
export const REDIS_NODE_LABEL = DEFAULT_REDIS_NODE_LABEL;
const REDIS_DATA_VOLUME = "redis-data";

/**
 * In Swarm mode the data volume is declared in the task's mount, not created through the
 * provider: the provider talks to a manager, while the task runs on the labelled node, and the
 * engine there creates the named volume on first start (and reuses it after). Labels are
 * applied only when a driver is named (moby's volumeCreateRequest), hence `local`. Pulumi
 * cannot protect this volume: removing the service never removes a named volume, and the
 * `retain` label lets a prune filter leave it alone.
 */
function swarmDataMount(stack: string, tags: Record<string, string>) {
    return {
        target: REDIS_PATHS.data,
        source: dockerName(stack, REDIS_DATA_VOLUME),
        type: "volume",
        volumeOptions: { driverName: "local", labels: dockerLabels(tags, { service: "redis", retain: "true" }) },
    };
}

interface RedisFiles {
    public: Record<string, pulumi.Input<string>>;
    secret: Record<string, pulumi.Input<string>>;
    /** Secret files a rotation changes. */
    rotating: Record<string, pulumi.Input<string>>;
}

interface RedisRun {
    name: string;
    image: RemoteImage;
    files: RedisFiles;
    users: pulumi.Output<Record<RedisUser, AclUser>>;
    healthcheck: { tests: string[]; interval: string; timeout: string; retries: number; startPeriod: string };
    labels: { label: string; value: string }[];
    memoryMb: number;
}
