import * as pulumi from "@pulumi/pulumi";
import type { Consumer } from "../lib/credentials";
import type { PasswordSlots } from "../lib/credentials";
import type { OwnedAuthSettings } from "../lib/supabase/providers";
import {
    ApiKey,
    AuthSettings,
    ComputeSize,
    LegacyApiKeys,
    NetworkRestrictions,
    PitrAddon,
    PoolerSettings,
    ReadReplicas,
    type ReplicaConnection,
    SslEnforcement,
    SupabaseProjectResource,
} from "../lib/supabase/resources";
import type { PitrSetting } from "../lib/supabase/addons";
import { secretKeyName, type KeySlot, type SplitCidrs } from "../lib/supabase/rules";

export interface SupabaseProjectArgs {
    /** Management API base URL (supabaseApiUrl). */
    apiUrl: string;
    /** Personal access token (supabaseAccessToken), a secret. */
    accessToken: pulumi.Input<string>;
    /** Adopt this project; absent: create one from `create`. */
    ref?: string;
    /** Creation parameters; the database password comes from the credentials component. */
    create?: { organizationSlug: string; name: string; region: string; instanceSize?: string; dbPass: pulumi.Input<string> };
    /** The compute size (supabaseInstanceSize), created or adopted; absent: left as it is, read for its connection limits. */
    instanceSize?: string;
    /** Require TLS for database connections. */
    sslEnforced: boolean;
    /** Networks allowed to reach Postgres and the pooler; empty lists block everything. */
    allowedCidrs: SplitCidrs;
    /** Supavisor mode and default pool size. */
    pooler: { poolMode: "transaction" | "session"; defaultPoolSize: number };
    /** Only the auth settings the deployment owns; omitted ones are left alone. */
    auth: OwnedAuthSettings;
    /** Consumers that get a secret key of their own. Plain: it decides which resources exist. */
    consumers: readonly Consumer[];
    /** The rotation slots (lib/credentials passwordSlots): a slot's key is replaced when its keeper moves. */
    slots: PasswordSlots;
    /** Keep the legacy anon/service_role keys (and the readable JWT secret) on. */
    legacyKeysEnabled: boolean;
    /** Read replicas, one per region (supabaseReadReplicas); absent: left as they are. */
    readReplicas?: string[];
    /** The PITR add-on (supabasePitr); absent: left as it is. */
    pitr?: PitrSetting;
    /** This stack as `<project>/<stack>` (rules.ts keyOwner): the keys are marked as its own, and another stack's are refused. */
    keyOwner: string;
}

/**
 * The hosted Supabase project through the Management API: adopted by ref (or created), protected
 * from `pulumi destroy`; SSL enforcement, network restrictions, pooler and owned auth settings as
 * resources with a real read; the PITR add-on when the stack sets it; a publishable key, and two
 * rotating secret-key slots per consumer, each marked as this stack's in its description.
 */
export class SupabaseProject extends pulumi.ComponentResource {
    readonly ref: pulumi.Output<string>;
    readonly publishableKey: pulumi.Output<string>;
    /** The active secret key of each consumer. */
    readonly secretKeys: Record<Consumer, pulumi.Output<string>>;
    /** The legacy JWT secret while the legacy keys are on, else "". */
    readonly jwtSecret: pulumi.Output<string>;
    readonly pooler: { host: pulumi.Output<string>; port: pulumi.Output<number>; user: pulumi.Output<string> };
    /** The compute's direct and pooler connection limits, as the API lists them. */
    readonly connectionLimits: { direct: pulumi.Output<number | null>; pooler: pulumi.Output<number | null> };
    /** Each read replica's read-only connection, when the stack manages them. */
    readonly readReplicas?: pulumi.Output<ReplicaConnection[]>;
    /** Names of the secret keys in use, per consumer (not secret). */
    readonly keyNames: Record<Consumer, string>;

    constructor(name: string, args: SupabaseProjectArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:supabase:SupabaseProject", name, {}, opts);
        const child = { parent: this };
        const conn = { apiUrl: args.apiUrl, accessToken: pulumi.secret(args.accessToken) };

        const project = new SupabaseProjectResource(
            `${name}-project`,
            { ...conn, ref: args.ref, create: args.create ? pulumi.secret(args.create) : undefined },
            // Never deleted by the program: a destroy drops it from the state and leaves it running.
            { ...child, protect: true, retainOnDelete: true },
        );
        this.ref = project.ref;
        const on = { ...conn, ref: project.ref };
        const after = { ...child, dependsOn: [project] };

        // Before the pooler and PITR: the pool size is checked against this compute, and PITR needs Small or larger.
        const compute = new ComputeSize(
            `${name}-compute`,
            { ...on, size: args.instanceSize, poolSize: args.pooler.defaultPoolSize },
            after,
        );
        const afterCompute = { ...child, dependsOn: [project, compute] };
        this.connectionLimits = { direct: compute.connectionsDirect, pooler: compute.connectionsPooler };

        new SslEnforcement(`${name}-ssl`, { ...on, enforced: args.sslEnforced }, after);
        new NetworkRestrictions(`${name}-network`, { ...on, ipv4: args.allowedCidrs.ipv4, ipv6: args.allowedCidrs.ipv6 }, after);
        const pooler = new PoolerSettings(
            `${name}-pooler`,
            { ...on, poolMode: args.pooler.poolMode, defaultPoolSize: args.pooler.defaultPoolSize },
            afterCompute,
        );
        this.pooler = { host: pooler.host, port: pooler.port, user: pooler.user };
        if (Object.keys(args.auth).length > 0) new AuthSettings(`${name}-auth`, { ...on, settings: args.auth }, after);
        if (args.pitr !== undefined) new PitrAddon(`${name}-pitr`, { ...on, variant: args.pitr }, afterCompute);
        this.readReplicas =
            args.readReplicas === undefined
                ? undefined
                : new ReadReplicas(`${name}-read-replicas`, { ...on, regions: args.readReplicas }, afterCompute).replicas;

        const legacy = new LegacyApiKeys(`${name}-legacy-keys`, { ...on, enabled: args.legacyKeysEnabled }, after);
        this.jwtSecret = pulumi.secret(legacy.jwtSecret.apply((s) => s ?? ""));

        const publishable = new ApiKey(
            `${name}-publishable-key`,
            {
                ...on,
                type: "publishable",
                name: "toolboxai_publishable",
                description: "toolboxai clients",
                owner: args.keyOwner,
                deleteReason: "removed from the toolboxai stack",
            },
            after,
        );
        this.publishableKey = pulumi.secret(publishable.apiKey);

        const secretKeys = {} as Record<Consumer, pulumi.Output<string>>;
        const keyNames = {} as Record<Consumer, string>;
        for (const consumer of args.consumers) {
            const slot = (s: KeySlot) =>
                new ApiKey(
                    `${name}-${consumer}-secret-key-${s}`,
                    {
                        ...on,
                        type: "secret",
                        name: secretKeyName(consumer, s, args.slots),
                        description: `toolboxai ${consumer} (rotation slot ${s})`,
                        owner: args.keyOwner,
                        deleteReason: `scheduled rotation of the toolboxai ${consumer} key`,
                    },
                    after,
                );
            const keys = { a: slot("a"), b: slot("b") };
            secretKeys[consumer] = pulumi.secret(keys[args.slots.active].apiKey);
            keyNames[consumer] = secretKeyName(consumer, args.slots.active, args.slots);
        }
        this.secretKeys = secretKeys;
        this.keyNames = keyNames;
        this.registerOutputs({ ref: this.ref, pooler: this.pooler, keyNames });
    }
}
