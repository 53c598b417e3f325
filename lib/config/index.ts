/**
 * The stack's settings: one table (the rows in ./environment, ./supabase, ./vault, ./backup, ./docker,
 * ./services, ./secrets, in that order: a row sees the rows above it), one validation pass, every problem at once.
 * `Settings`, the validator, the docs (docs/configuration.md) and the Pulumi.yaml check all come from it.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../constants";
import { readFileSync } from "node:fs";
import { caCertificate } from "./parsers";
import { ConfigError, evaluate, type Above, type ConfigProblem, type RawConfig, type Schema } from "./schema";
import { SYSTEM_TRUST } from "./vault";
import { RETIRED_SETTINGS } from "./secrets";
import { monitoringSettings } from "./monitoring";

export { PROJECT, LOCAL_SUPABASE, TRANSACTION_POOLER_PORT } from "../constants";
export { ConfigError, type ConfigProblem, type RawConfig } from "./schema";
export { ENVIRONMENTS, type Environment } from "./environment";
export { SYSTEM_TRUST } from "./vault";
export { SSL_MODES, SUPABASE_MODES, type SslMode, type SupabaseMode } from "./supabase";
export { MONITORING_RECEIVERS, type MonitoringReceiver } from "./monitoring";
export { DOCKER_MODES, DOCKER_NETWORKS, SWARM_ENDPOINT_MODES, type DockerMode, type DockerNetwork, type SwarmEndpointMode } from "./docker";
export { BACKEND_PORT, backendPort, DEFAULT_PIDS_LIMIT, SERVICE_ROLES, type ServiceRole, type ServiceSpec } from "./services";

/** Every setting, in evaluation order. */
export const SCHEMA = monitoringSettings;

type Parts<T> = T extends Schema<infer S, infer X> ? { settings: S; secret: X } : never;
/** Non-secret settings, after defaults. */
export type Settings = { [K in keyof Parts<typeof SCHEMA>["settings"]]: Parts<typeof SCHEMA>["settings"][K] };
export type SecretKey = Parts<typeof SCHEMA>["secret"];

export const SECRET_KEYS: readonly SecretKey[] = SCHEMA.rows.filter((r) => r.secret).map((r) => r.key as SecretKey);
export const KNOWN_KEYS: ReadonlySet<string> = new Set(SCHEMA.rows.map((r) => r.key));

/** Describes one setting for Pulumi.yaml, the docs and the README. */
export interface SettingDoc {
    key: string;
    type: "string" | "integer" | "boolean";
    description: string;
    undeclared?: true;
    /** Pulumi.yaml's default. */
    staticDefault?: string | number | boolean;
    defaultText: string;
    secret?: boolean;
}

export const SETTING_DOCS: readonly SettingDoc[] = SCHEMA.rows.map((r) => ({
    key: r.key,
    type: r.type,
    description: r.doc,
    defaultText: r.defaultText,
    ...(r.undeclared ? { undeclared: true as const } : {}),
    ...(r.yamlDefault === undefined ? {} : { staticDefault: r.yamlDefault }),
    ...(r.secret ? { secret: true } : {}),
}));

/** The secret settings a stack needs, judged from its raw values (offline placeholders are given only for these). */
export function neededSecretKeys(values: Readonly<Record<string, string | undefined>>): SecretKey[] {
    const supabaseMode = values.supabaseMode || (values.environment === "prod" ? "hosted" : "local");
    // Only the two rows the secrets' requirements read; raw strings stand in for parsed values.
    const above = {
        environment: values.environment,
        supabaseMode,
        registryAddress: values.registryAddress || undefined,
        monitoringEnabled: values.monitoringEnabled === "true",
        monitoringReceiver: values.monitoringReceiver || "webhook",
    } as Above<Settings>;
    return SCHEMA.rows.filter((r) => r.secret && r.requirement(above) !== undefined).map((r) => r.key as SecretKey);
}

/** Validated config with secrets still in plain text: only this module and its tests hold it. */
export interface ParsedConfig {
    settings: Settings;
    secrets: Partial<Record<SecretKey, string>>;
}

/** What the rest of the program receives: secrets only as secret Outputs. */
export interface StackConfig {
    settings: Settings;
    secrets: {
        vaultToken: pulumi.Output<string>;
        /** The database role's password before this program managed it (first deployment only). */
        databaseBootstrapPassword?: pulumi.Output<string>;
        /** Registry login for private images (registryAddress), when configured. */
        registry?: { username: pulumi.Output<string>; password: pulumi.Output<string> };
        /** Hosted mode: the Management API token (keys come from the API). */
        supabaseAccessToken?: pulumi.Output<string>;
        /** Monitoring's receiver URL (webhook or Slack), when alerts are sent. */
        monitoringReceiverUrl?: pulumi.Output<string>;
    };
}

/** Validates every setting and returns them with defaults applied, or throws one ConfigError listing all problems. */
export function parseStackConfig(raw: RawConfig): ParsedConfig {
    return evaluate(SCHEMA, raw, RETIRED_SETTINGS);
}

/** Reads this project's settings from the Pulumi runtime (the CLI, or `setAllConfig` under mocks). */
export function readRawConfig(): RawConfig {
    const prefix = `${PROJECT}:`;
    const values: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (fullKey.startsWith(prefix)) values[fullKey.slice(prefix.length)] = value;
    }
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    const secretKeys = new Set(Object.keys(values).filter((k) => runtime.isConfigSecret?.(`${prefix}${k}`) ?? false));
    return { values, secretKeys };
}

/**
 * The Vault CA file is read where `pulumi up` runs, so it is checked there and not in the pure
 * parse: missing, unreadable or not a CA is a problem of `vaultCaCert`, reported before any resource.
 */
export function checkVaultCaFile(path: string): ConfigProblem | undefined {
    let pem: string;
    try {
        pem = readFileSync(path, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        return {
            key: "vaultCaCert",
            shown: JSON.stringify(path),
            allowed: `must name a readable PEM file on this machine (${code}); install the Vault CA there, or use ${SYSTEM_TRUST}`,
        };
    }
    const r = caCertificate(pem);
    return r.ok
        ? undefined
        : { key: "vaultCaCert", shown: JSON.stringify(path), allowed: `must name a file that ${r.allowed.replace(/^must be/, "holds")}` };
}

/** Validated settings with secrets wrapped as secret Outputs. Throws ConfigError before any resource exists. */
export function loadStackConfig(raw: RawConfig = readRawConfig()): StackConfig {
    const { settings, secrets } = parseStackConfig(raw);
    const caProblem =
        settings.vaultCaCert === undefined || settings.vaultCaCert === SYSTEM_TRUST ? undefined : checkVaultCaFile(settings.vaultCaCert);
    if (caProblem) throw new ConfigError([caProblem]);
    const secret = (v: string | undefined): pulumi.Output<string> => pulumi.secret(v ?? "");
    return {
        settings,
        secrets: {
            vaultToken: secret(secrets.vaultToken),
            databaseBootstrapPassword:
                secrets.databaseBootstrapPassword === undefined ? undefined : secret(secrets.databaseBootstrapPassword),
            registry:
                settings.registryAddress === undefined
                    ? undefined
                    : { username: secret(secrets.registryUsername), password: secret(secrets.registryPassword) },
            supabaseAccessToken: settings.supabaseMode === "hosted" ? secret(secrets.supabaseAccessToken) : undefined,
            monitoringReceiverUrl: secrets.monitoringReceiverUrl === undefined ? undefined : secret(secrets.monitoringReceiverUrl),
        },
    };
}

/**
 * A setting the schema leaves unset only when the stack creates its hosted project (the value then
 * comes from the project's ref as an Output): reaching it unset otherwise is a bug, said as one.
 */
export function settled<T>(value: T | undefined, key: string): T {
    if (value === undefined)
        throw new Error(
            `${key} is unset: it is only unset when supabaseOrganizationSlug creates the project, and this path does not handle that`,
        );
    return value;
}
