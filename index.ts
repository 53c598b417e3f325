/**
 * Composition root: read the validated config, wire the components, export the stack outputs.
 * Config validation throws before any resource is registered, so bad config never half-applies.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./lib/config";
import { stackTags, vaultKvPath } from "./lib/naming";
import { Providers } from "./components/Providers";

const config = loadStackConfig();
const { settings } = config;
const stack = pulumi.getStack();

const providers = new Providers("providers", {
    vaultAddress: settings.vaultAddress,
    vaultToken: config.secrets.vaultToken,
    awsRegion: settings.awsRegion,
    tags: stackTags(stack, settings.environment),
    dockerHost: settings.dockerHost,
});

export const environment = settings.environment;
export const supabaseUrl = settings.supabaseUrl;
export const database = {
    host: settings.supabaseDbHost,
    port: settings.supabaseDbPort,
    name: settings.supabaseDbName,
    sslMode: settings.databaseSslMode,
    poolSize: settings.databasePoolSize,
    pooler: settings.poolerEnabled ? { host: settings.poolerHost, port: settings.poolerPort, user: settings.poolerUser } : null,
};
export const vault = {
    address: settings.vaultAddress,
    mount: settings.vaultMount,
    pathPrefix: settings.vaultPathPrefix,
    supabasePath: vaultKvPath(settings.vaultMount, settings.vaultPathPrefix, "supabase"),
    databasePath: vaultKvPath(settings.vaultMount, settings.vaultPathPrefix, "database"),
    redisPath: vaultKvPath(settings.vaultMount, settings.vaultPathPrefix, "redis"),
};
export const awsRegion = providers.aws.region;
