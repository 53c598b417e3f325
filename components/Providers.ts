import * as pulumi from "@pulumi/pulumi";
// Submodule imports: the package indexes load every service (aws alone adds ~180 ms to start-up).
import { Provider as AwsProvider } from "@pulumi/aws/provider";
import { Provider as DockerProvider } from "@pulumi/docker/provider";
import { Provider as VaultProvider } from "@pulumi/vault/provider";

/** Lifetime of the Vault provider's child token; the workflows' job timeouts stay below it (test/workflows.test.ts). */
export const VAULT_CHILD_TOKEN_TTL_SECONDS = 2 * 3600;

export interface ProvidersArgs {
    /** Vault server URL. */
    vaultAddress: pulumi.Input<string>;
    /** Vault token; must be a secret. */
    vaultToken: pulumi.Input<string>;
    /** Region of the backup bucket. */
    awsRegion: pulumi.Input<string>;
    /** Tags every AWS resource carries. */
    tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Docker engine: unix:// socket or ssh://user@host. */
    dockerHost: pulumi.Input<string>;
    /** PEM file the Vault provider verifies an https Vault with; unset: the system's trust store. */
    vaultCaCertFile?: string;
    /** Login for private images; username and password must be secrets. */
    registry?: { address: string; username: pulumi.Input<string>; password: pulumi.Input<string> };
}

/**
 * Explicit providers, configured from the validated stack config: nothing depends on the
 * ambient VAULT_ADDR, AWS_REGION or DOCKER_HOST of whoever runs `pulumi up`.
 */
export class Providers extends pulumi.ComponentResource {
    readonly vault: VaultProvider;
    readonly aws: AwsProvider;
    readonly docker: DockerProvider;

    constructor(name: string, args: ProvidersArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:core:Providers", name, {}, opts);
        this.vault = new VaultProvider(
            `${name}-vault`,
            {
                address: args.vaultAddress,
                token: pulumi.secret(args.vaultToken),
                caCertFile: args.vaultCaCertFile,
                // The provider works with a child token of this lifetime (its default is 20 min): long
                // enough for any `pulumi up`, which the workflows stop well before it expires.
                maxLeaseTtlSeconds: VAULT_CHILD_TOKEN_TTL_SECONDS,
            },
            { parent: this },
        );
        this.aws = new AwsProvider(`${name}-aws`, { region: args.awsRegion, defaultTags: { tags: args.tags } }, { parent: this });
        // The engine pulls with what the provider sends, never with the host's own docker login.
        const registryAuth = args.registry && [
            {
                address: args.registry.address,
                username: pulumi.secret(args.registry.username),
                password: pulumi.secret(args.registry.password),
            },
        ];
        this.docker = new DockerProvider(`${name}-docker`, { host: args.dockerHost, registryAuth }, { parent: this });
        this.registerOutputs({ vault: this.vault, aws: this.aws, docker: this.docker });
    }
}
