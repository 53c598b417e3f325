/**
 * The dynamic resources over the providers of providers.ts: typed inputs, declared outputs, and
 * the token (and any key or JWT secret) marked secret in the state.
 */
import * as pulumi from "@pulumi/pulumi";
import {
    apiKeyProvider,
    authSettingsProvider,
    computeProvider,
    legacyKeysProvider,
    networkRestrictionsProvider,
    pitrProvider,
    poolerProvider,
    projectProvider,
    readReplicasProvider,
    sslEnforcementProvider,
    type ApiKeyInputs,
    type AuthInputs,
    type ComputeInputs,
    type LegacyKeysInputs,
    type NetworkInputs,
    type PitrInputs,
    type PoolerInputs,
    type ProjectInputs,
    type ReplicasInputs,
    type SslInputs,
} from "./providers";

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** Type tokens are `pulumi-nodejs:dynamic/toolboxai:<type>`. */
const MODULE = "toolboxai";
/** Outputs never shown in plain text: the token always; keys and the JWT secret where a resource has them. */
// The project's `create` output holds no password (the provider drops it); its input keeps the password secret.
const SECRET_OUTPUTS = ["accessToken", "apiKey", "jwtSecret"];

function declare<T extends object>(inputs: T, outputs: readonly string[]): T {
    // A dynamic resource exposes only the properties it was given: declare the computed ones.
    return { ...inputs, ...Object.fromEntries(outputs.filter((o) => !(o in inputs)).map((o) => [o, undefined])) };
}

function options(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...SECRET_OUTPUTS] };
}

export class SupabaseProjectResource extends pulumi.dynamic.Resource {
    declare readonly ref: pulumi.Output<string>;
    declare readonly status: pulumi.Output<string>;
    declare readonly databaseHost: pulumi.Output<string>;
    constructor(name: string, args: Inputs<ProjectInputs>, opts?: pulumi.CustomResourceOptions) {
        super(
            projectProvider,
            name,
            declare(args, ["ref", "status", "databaseHost", "name", "region"]),
            options(opts),
            MODULE,
            "SupabaseProject",
        );
    }
}

export class SslEnforcement extends pulumi.dynamic.Resource {
    declare readonly enforced: pulumi.Output<boolean>;
    constructor(name: string, args: Inputs<SslInputs>, opts?: pulumi.CustomResourceOptions) {
        super(sslEnforcementProvider, name, declare(args, []), options(opts), MODULE, "SupabaseSslEnforcement");
    }
}

export class NetworkRestrictions extends pulumi.dynamic.Resource {
    declare readonly status: pulumi.Output<string>;
    constructor(name: string, args: Inputs<NetworkInputs>, opts?: pulumi.CustomResourceOptions) {
        super(networkRestrictionsProvider, name, declare(args, ["status"]), options(opts), MODULE, "SupabaseNetworkRestrictions");
    }
}

export class PoolerSettings extends pulumi.dynamic.Resource {
    declare readonly host: pulumi.Output<string>;
    declare readonly port: pulumi.Output<number>;
    declare readonly user: pulumi.Output<string>;
    constructor(name: string, args: Inputs<PoolerInputs>, opts?: pulumi.CustomResourceOptions) {
        super(poolerProvider, name, declare(args, ["host", "port", "user"]), options(opts), MODULE, "SupabasePooler");
    }
}

export class AuthSettings extends pulumi.dynamic.Resource {
    constructor(name: string, args: Inputs<AuthInputs>, opts?: pulumi.CustomResourceOptions) {
        super(authSettingsProvider, name, declare(args, []), options(opts), MODULE, "SupabaseAuthSettings");
    }
}

export class ApiKey extends pulumi.dynamic.Resource {
    declare readonly keyId: pulumi.Output<string>;
    declare readonly apiKey: pulumi.Output<string>;
    constructor(name: string, args: Inputs<ApiKeyInputs>, opts?: pulumi.CustomResourceOptions) {
        super(apiKeyProvider, name, declare(args, ["keyId", "apiKey"]), options(opts), MODULE, "SupabaseApiKey");
    }
}

export class LegacyApiKeys extends pulumi.dynamic.Resource {
    declare readonly jwtSecret: pulumi.Output<string | null>;
    constructor(name: string, args: Inputs<LegacyKeysInputs>, opts?: pulumi.CustomResourceOptions) {
        super(legacyKeysProvider, name, declare(args, ["jwtSecret"]), options(opts), MODULE, "SupabaseLegacyApiKeys");
    }
}

export class PitrAddon extends pulumi.dynamic.Resource {
    declare readonly variant: pulumi.Output<string>;
    declare readonly computeVariant: pulumi.Output<string | null>;
    declare readonly monthlyPriceUsd: pulumi.Output<number | null>;
    constructor(name: string, args: Inputs<PitrInputs>, opts?: pulumi.CustomResourceOptions) {
        super(pitrProvider, name, declare(args, ["computeVariant", "monthlyPriceUsd"]), options(opts), MODULE, "SupabasePitr");
    }
}

export class ComputeSize extends pulumi.dynamic.Resource {
    declare readonly actualSize: pulumi.Output<string>;
    declare readonly connectionsDirect: pulumi.Output<number | null>;
    declare readonly connectionsPooler: pulumi.Output<number | null>;
    constructor(name: string, args: Inputs<ComputeInputs>, opts?: pulumi.CustomResourceOptions) {
        super(
            computeProvider,
            name,
            declare(args, ["actualSize", "connectionsDirect", "connectionsPooler"]),
            options(opts),
            MODULE,
            "SupabaseCompute",
        );
    }
}

/** A read replica's read-only connection (the database user's password; none stored here). */
export interface ReplicaConnection {
    identifier: string;
    region: string | null;
    host: string;
    port: number;
    user: string;
    database: string;
}

export class ReadReplicas extends pulumi.dynamic.Resource {
    declare readonly replicas: pulumi.Output<ReplicaConnection[]>;
    constructor(name: string, args: Inputs<ReplicasInputs>, opts?: pulumi.CustomResourceOptions) {
        super(readReplicasProvider, name, declare(args, ["replicas"]), options(opts), MODULE, "SupabaseReadReplicas");
    }
}
