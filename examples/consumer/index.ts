/**
 * A frontend stack's view of toolboxai: it needs the API URL, the anon key (secret), and where
 * its own services should reach the backend and Redis.
 */
import * as pulumi from "@pulumi/pulumi";
import { ToolboxaiStackReference } from "../../lib/stackReference";

const config = new pulumi.Config();
const toolboxai = new ToolboxaiStackReference("toolboxai", config.require("toolboxaiStack"));

export const supabaseUrl = toolboxai.output("supabaseUrl");
// Stays secret in this stack too: requireOutput keeps the referenced output's secretness.
export const supabaseAnonKey = toolboxai.output("supabaseAnonKey");
export const backendUrl = toolboxai.output("backendInternalUrl");
export const redis = toolboxai.output("docker").apply((d) => ({ endpoint: d.redisEndpoint, network: d.networks.cache }));
export const databasePooler = toolboxai.output("database").apply((d) => (d.pooler ? `${d.pooler.host}:${d.pooler.port}` : null));
