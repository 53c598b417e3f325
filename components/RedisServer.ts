import * as pulumi from "@pulumi/pulumi";
import { Container } from "@pulumi/docker/container";
import { RemoteImage } from "@pulumi/docker/remoteImage";
import { Volume } from "@pulumi/docker/volume";
import { CertRequest } from "@pulumi/tls/certRequest";
import { LocallySignedCert } from "@pulumi/tls/locallySignedCert";
import { PrivateKey } from "@pulumi/tls/privateKey";
import { SelfSignedCert } from "@pulumi/tls/selfSignedCert";
import type { RedisUser } from "../lib/credentials";
import { dockerLabels, dockerName, hardening } from "../lib/docker";
import { aclFile, REDIS_PATHS, REDIS_TLS, REDIS_TLS_PORT, REDIS_UID, redisConf } from "../lib/redis";

export interface RedisServerArgs {
    /** Stack name, for Docker object names. */
    stack: string;
    /** Image, pinned by config (a digest is recommended for prod). */
    image: pulumi.Input<string>;
    /** Networks to join, with the DNS alias `redis`: cache, and backend as in the guide. */
    networks: pulumi.Input<string>[];
    /** ACL users and their passwords, from SupabaseCredentials. */
    users: Record<RedisUser, { username: string; password: pulumi.Input<string> }>;
    /** Tags carried as labels. */
    tags: Record<string, string>;
    /** Memory limit in MB. */
    memoryMb?: number;
}

const CONFIG_DIR = "/etc/redis";
const SECRETS_DIR = "/run/secrets";

/**
 * Redis as the guide runs it, hardened: TLS only on 6380 with a CA and server certificate the
 * program generates, an ACL file with the default user off, persistence on a protected data
 * volume, a TLS health check as a PING-only user, and no published port.
 */
export class RedisServer extends pulumi.ComponentResource {
    /** What clients put in REDIS_URL (with their own user). */
    readonly endpoint: string;
    /** The CA clients trust (public). */
    readonly caCertPem: pulumi.Output<string>;
    readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: RedisServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:cache:RedisServer", name, {}, opts);
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
            { privateKeyPem: serverKey.privateKeyPem, subject: { commonName: "redis" }, dnsNames: [...REDIS_TLS.dnsNames], ipAddresses: [...REDIS_TLS.ipAddresses] },
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

        const image = new RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, child);
        // Data survives container replacement and `pulumi destroy`.
        const data = new Volume(`${name}-data`, { name: dockerName(args.stack, "redis-data"), labels }, { ...child, protect: true, retainOnDelete: true });
        // A read-only root filesystem takes uploads only into volumes: config, certificates and
        // secret files live on their own volumes, rewritten at every replacement.
        const configVolume = new Volume(`${name}-config`, { labels }, child);
        const secretsVolume = new Volume(`${name}-secrets`, { labels }, child);

        const acl = pulumi
            .all(Object.entries(args.users).map(([user, u]) => pulumi.output(u.password).apply((password) => [user, { username: u.username, password }] as const)))
            .apply((entries) => aclFile(Object.fromEntries(entries) as Record<RedisUser, { username: string; password: string }>));
        const owner = String(REDIS_UID);
        const healthcheck = args.users.healthcheck;

        const container = new Container(
            `${name}-server`,
            {
                image: image.imageId,
                command: ["redis-server", REDIS_PATHS.config],
                networksAdvanced: args.networks.map((network) => ({ name: network, aliases: ["redis"] })),
                volumes: [
                    { volumeName: data.name, containerPath: REDIS_PATHS.data },
                    { volumeName: configVolume.name, containerPath: CONFIG_DIR },
                    { volumeName: secretsVolume.name, containerPath: SECRETS_DIR },
                ],
                uploads: [
                    { file: REDIS_PATHS.config, content: redisConf(), permissions: "0444", owner, group: owner },
                    { file: REDIS_PATHS.caCert, content: caCert.certPem, permissions: "0444", owner, group: owner },
                    { file: REDIS_PATHS.serverCert, content: serverCert.certPem, permissions: "0444", owner, group: owner },
                    { file: REDIS_PATHS.serverKey, content: pulumi.secret(serverKey.privateKeyPem), permissions: "0400", owner, group: owner },
                    { file: REDIS_PATHS.acl, content: pulumi.secret(acl), permissions: "0400", owner, group: owner },
                    { file: REDIS_PATHS.healthcheckPassword, content: pulumi.secret(healthcheck.password), permissions: "0400", owner, group: owner },
                ],
                healthcheck: {
                    // Over TLS, trusting the generated CA, as the PING-only user; the password comes from its file.
                    tests: [
                        "CMD-SHELL",
                        `REDISCLI_AUTH="$(cat ${REDIS_PATHS.healthcheckPassword})" redis-cli --tls --cacert ${REDIS_PATHS.caCert} -p ${REDIS_TLS_PORT} --user ${healthcheck.username} --no-auth-warning ping | grep -q PONG`,
                    ],
                    interval: "30s",
                    timeout: "10s",
                    retries: 3,
                    startPeriod: "10s",
                },
                ...hardening({ user: `${REDIS_UID}:${REDIS_UID}`, memoryMb: args.memoryMb ?? 512, cpus: 1, labels }),
            },
            child,
        );
        this.containerName = container.name;
        this.endpoint = `rediss://redis:${REDIS_TLS_PORT}`;
        this.registerOutputs({ endpoint: this.endpoint, caCertPem: this.caCertPem, containerName: this.containerName });
    }
}
