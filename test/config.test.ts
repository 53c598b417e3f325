import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadStackConfig, parseStackConfig, SECRET_KEYS, type RawConfig } from "../lib/config";
import { readStackFiles } from "../lib/offline/stackFiles";
import { CREATE_PROJECT, PROJECT_DIR } from "./harness";
import { makePki, type Pki } from "./support/redis";

const SECRETS = {
    vaultToken: "hvs.config-test-token-000000000000",
    supabaseAccessToken: `sbp_${"c0ffee".repeat(6)}c0ff`,
};

/** prod's stack file names a registry (ghcr.io): its login is set as secrets. */
const REGISTRY = { registryUsername: "toolboxai-deploy-bot", registryPassword: "ghp_registry-config-test-0000" };

/** The committed stack file's settings (as the CLI would pass them), plus secrets, plus changes. */
function rawFor(stack: "dev" | "prod", changes: Record<string, string | undefined> = {}, plainText: string[] = []): RawConfig {
    const files = readStackFiles(PROJECT_DIR, stack);
    const values: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries({ ...files.defaults, ...files.values })) values[k.slice("toolboxai:".length)] = v;
    Object.assign(values, stack === "prod" ? { ...SECRETS, ...REGISTRY } : { vaultToken: SECRETS.vaultToken }, changes);
    for (const [k, v] of Object.entries(changes)) if (v === undefined) delete values[k];
    const secretKeys = new Set(SECRET_KEYS.filter((k) => values[k] !== undefined && !plainText.includes(k)));
    return { values, secretKeys };
}

function problemsOf(raw: RawConfig) {
    try {
        parseStackConfig(raw);
    } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return { problems: (err as ConfigError).problems, message: (err as Error).message };
    }
    throw new Error("expected a ConfigError");
}

interface BadCase {
    what: string;
    stack: "dev" | "prod";
    changes: Record<string, string | undefined>;
    key: string;
    /** How the bad value is shown in the message. */
    shown: string;
    allowed: RegExp;
    plainText?: string[];
}

const BAD: BadCase[] = [
    {
        what: "unknown environment",
        stack: "dev",
        changes: { environment: "qa" },
        key: "environment",
        shown: '"qa"',
        allowed: /one of dev, staging, prod/,
    },
    {
        what: "missing environment",
        stack: "dev",
        changes: { environment: undefined },
        key: "environment",
        shown: "(missing)",
        allowed: /is required: one of dev, staging, prod/,
    },
    {
        what: "unknown Supabase mode",
        stack: "dev",
        changes: { supabaseMode: "remote" },
        key: "supabaseMode",
        shown: '"remote"',
        allowed: /one of local, hosted/,
    },
    {
        what: "prod on a local Supabase",
        stack: "prod",
        changes: { supabaseMode: "local", poolerEnabled: "false" },
        key: "supabaseMode",
        shown: '"local"',
        allowed: /must be hosted when environment is prod/,
    },
    {
        what: "malformed project ref",
        stack: "prod",
        changes: { supabaseProjectRef: "My-Project" },
        key: "supabaseProjectRef",
        shown: '"My-Project"',
        allowed: /20 lowercase letters/,
    },
    {
        what: "hosted without a project ref",
        stack: "prod",
        changes: { supabaseProjectRef: undefined },
        key: "supabaseProjectRef",
        shown: "(missing)",
        allowed: /required when supabaseMode is hosted: .*or set supabaseOrganizationSlug, supabaseRegion to create one/,
    },
    {
        what: "hosted with both a project ref and an organization to create one in",
        stack: "prod",
        changes: {
            supabaseOrganizationSlug: "toolboxai-org",
            supabaseRegion: "eu-central-1",
            supabaseUrl: undefined,
            supabaseDbHost: undefined,
        },
        key: "supabaseProjectRef",
        shown: '"toolboxaiprodprojref"',
        allowed: /conflicts with supabaseOrganizationSlug: .*adopt .* or supabaseOrganizationSlug to create one, not both/,
    },
    {
        what: "creating a project without a region",
        stack: "prod",
        changes: { ...CREATE_PROJECT, supabaseRegion: undefined },
        key: "supabaseRegion",
        shown: "(missing)",
        allowed: /required when supabaseOrganizationSlug is set: .*eu-central-1/,
    },
    {
        what: "creating a project in an unknown region",
        stack: "prod",
        changes: { ...CREATE_PROJECT, supabaseRegion: "eu-central-9" },
        key: "supabaseRegion",
        shown: '"eu-central-9"',
        allowed: /one of us-east-1, .*eu-central-1/,
    },
    {
        what: "creating a project of an unknown instance size",
        stack: "prod",
        changes: { ...CREATE_PROJECT, supabaseInstanceSize: "huge" },
        key: "supabaseInstanceSize",
        shown: '"huge"',
        allowed: /one of nano, micro, small/,
    },
    {
        what: "creating a project while setting the URL the created ref decides",
        stack: "prod",
        changes: { ...CREATE_PROJECT, supabaseUrl: "https://toolboxaiprodprojref.supabase.co" },
        key: "supabaseUrl",
        shown: '"https://toolboxaiprodprojref.supabase.co"',
        allowed: /follows from the created project's ref when supabaseOrganizationSlug is set/,
    },
    {
        what: "a creation setting on a stack that adopts",
        stack: "prod",
        changes: { supabaseRegion: "eu-central-1" },
        key: "supabaseRegion",
        shown: '"eu-central-1"',
        allowed: /only used when creating the project/,
    },
    {
        what: "an organization slug on a local stack",
        stack: "dev",
        changes: { supabaseOrganizationSlug: "toolboxai-org" },
        key: "supabaseOrganizationSlug",
        shown: '"toolboxai-org"',
        allowed: /only used when supabaseMode is hosted/,
    },
    {
        what: "Supabase URL that is not a URL",
        stack: "dev",
        changes: { supabaseUrl: "localhost 54321" },
        key: "supabaseUrl",
        shown: '"localhost 54321"',
        allowed: /http:\/\/ or https:\/\/ URL/,
    },
    {
        what: "plain-http Supabase URL in hosted mode",
        stack: "prod",
        changes: { supabaseUrl: "http://toolboxaiprodprojref.supabase.co" },
        key: "supabaseUrl",
        shown: '"http://toolboxaiprodprojref.supabase.co"',
        allowed: /https:\/\/ URL/,
    },
    {
        what: "Supabase URL with another scheme",
        stack: "dev",
        changes: { supabaseUrl: "ftp://127.0.0.1:54321" },
        key: "supabaseUrl",
        shown: '"ftp://127.0.0.1:54321"',
        allowed: /http:\/\/ or https:\/\/ URL/,
    },
    {
        what: "database host with spaces",
        stack: "dev",
        changes: { supabaseDbHost: "db host" },
        key: "supabaseDbHost",
        shown: '"db host"',
        allowed: /DNS hostname or IPv4 address/,
    },
    {
        what: "port out of range",
        stack: "dev",
        changes: { supabaseDbPort: "70000" },
        key: "supabaseDbPort",
        shown: '"70000"',
        allowed: /integer from 1 to 65535/,
    },
    {
        what: "port that is not a number",
        stack: "dev",
        changes: { supabaseDbPort: "fifty" },
        key: "supabaseDbPort",
        shown: '"fifty"',
        allowed: /integer from 1 to 65535/,
    },
    {
        what: "direct port set to the transaction pooler",
        stack: "prod",
        changes: { supabaseDbPort: "6543" },
        key: "supabaseDbPort",
        shown: '"6543"',
        allowed: /not the transaction pooler's 6543/,
    },
    {
        what: "database name with capitals and spaces",
        stack: "dev",
        changes: { supabaseDbName: "My DB" },
        key: "supabaseDbName",
        shown: '"My DB"',
        allowed: /PostgreSQL identifier/,
    },
    {
        what: "unknown sslmode",
        stack: "dev",
        changes: { databaseSslMode: "strict" },
        key: "databaseSslMode",
        shown: '"strict"',
        allowed: /one of disable, allow, prefer, require, verify-ca, verify-full/,
    },
    {
        what: "unencrypted sslmode for a hosted project",
        stack: "prod",
        changes: { databaseSslMode: "prefer" },
        key: "databaseSslMode",
        shown: '"prefer"',
        allowed: /require, verify-ca, verify-full when supabaseMode is hosted/,
    },
    {
        what: "pool size of zero",
        stack: "dev",
        changes: { databasePoolSize: "0" },
        key: "databasePoolSize",
        shown: '"0"',
        allowed: /integer from 1 to 1000/,
    },
    {
        what: "fractional pool size",
        stack: "prod",
        changes: { databasePoolSize: "20.5" },
        key: "databasePoolSize",
        shown: '"20.5"',
        allowed: /integer from 1 to 1000/,
    },
    {
        what: "pooler switch that is not a boolean",
        stack: "dev",
        changes: { poolerEnabled: "yes" },
        key: "poolerEnabled",
        shown: '"yes"',
        allowed: /true or false/,
    },
    {
        what: "pooler on without a pooler host",
        stack: "dev",
        changes: { poolerEnabled: "true" },
        key: "poolerHost",
        shown: "(missing)",
        allowed: /required when poolerEnabled is true/,
    },
    {
        what: "negative pooler port",
        stack: "dev",
        changes: { poolerPort: "-1" },
        key: "poolerPort",
        shown: '"-1"',
        allowed: /integer from 1 to 65535/,
    },
    {
        what: "hosted pooler host copied into config",
        stack: "prod",
        changes: { poolerHost: "aws-0-eu-central-1.pooler.supabase.com" },
        key: "poolerHost",
        shown: '"aws-0-eu-central-1.pooler.supabase.com"',
        allowed: /comes from the Management API when supabaseMode is hosted/,
    },
    {
        what: "missing Vault address",
        stack: "dev",
        changes: { vaultAddress: undefined },
        key: "vaultAddress",
        shown: "(missing)",
        allowed: /is required/,
    },
    {
        what: "Vault address without a scheme",
        stack: "dev",
        changes: { vaultAddress: "vault:8200" },
        key: "vaultAddress",
        shown: '"vault:8200"',
        allowed: /http:\/\/ or https:\/\/ URL/,
    },
    {
        what: "plain-http Vault in prod",
        stack: "prod",
        changes: { vaultAddress: "http://vault.toolboxai.internal:8200" },
        key: "vaultAddress",
        shown: '"http://vault.toolboxai.internal:8200"',
        allowed: /https:\/\/ URL/,
    },
    {
        what: "Vault mount with a slash",
        stack: "dev",
        changes: { vaultMount: "secret/kv" },
        key: "vaultMount",
        shown: '"secret/kv"',
        allowed: /one path segment/,
    },
    {
        what: "Vault prefix climbing out with ..",
        stack: "dev",
        changes: { vaultPathPrefix: "../toolboxai" },
        key: "vaultPathPrefix",
        shown: '"../toolboxai"',
        allowed: /no '\.\.', spaces/,
    },
    {
        what: "Vault prefix with a space",
        stack: "prod",
        changes: { vaultPathPrefix: "toolbox ai" },
        key: "vaultPathPrefix",
        shown: '"toolbox ai"',
        allowed: /no '\.\.', spaces/,
    },
    {
        what: "https Vault without a CA or system trust",
        stack: "prod",
        changes: { vaultCaCert: undefined },
        key: "vaultCaCert",
        shown: "(missing)",
        allowed: /required when vaultAddress is https: the absolute path of the CA's PEM file, or system/,
    },
    {
        what: "Vault CA given as a relative path",
        stack: "prod",
        changes: { vaultCaCert: "certs/vault-ca.pem" },
        key: "vaultCaCert",
        shown: '"certs/vault-ca.pem"',
        allowed: /system .* or the absolute path of the CA's PEM file/,
    },
    {
        what: "Vault CA for a plain-http Vault",
        stack: "dev",
        changes: { vaultCaCert: "/etc/toolboxai/vault-ca.pem" },
        key: "vaultCaCert",
        shown: '"/etc/toolboxai/vault-ca.pem"',
        allowed: /must be empty when vaultAddress is http/,
    },
    {
        what: "registry address with a scheme",
        stack: "prod",
        changes: { registryAddress: "https://ghcr.io", registryUsername: "bot", registryPassword: "ghp_token-0000000000" },
        key: "registryAddress",
        shown: '"https://ghcr.io"',
        allowed: /registry host such as ghcr\.io/,
    },
    {
        what: "registry without its token",
        stack: "prod",
        changes: { registryPassword: undefined },
        key: "registryPassword",
        shown: "(missing)",
        allowed: /required when registryAddress is set: set it with `pulumi config set --secret registryPassword/,
    },
    {
        what: "registry token without a registry",
        stack: "dev",
        changes: { registryPassword: "ghp_token-0000000000" },
        key: "registryPassword",
        shown: "[secret, 20 characters]",
        allowed: /used only with registryAddress/,
    },
    {
        what: "registry token set in plain text",
        stack: "prod",
        changes: { registryUsername: "bot", registryPassword: "ghp_token-0000000000" },
        plainText: ["registryPassword"],
        key: "registryPassword",
        shown: "[set in plain text]",
        allowed: /pulumi config set --secret registryPassword/,
    },
    {
        what: "rotation period of zero days",
        stack: "dev",
        changes: { rotationPeriodDays: "0" },
        key: "rotationPeriodDays",
        shown: '"0"',
        allowed: /integer from 1 to 3650/,
    },
    {
        what: "negative rotation generation",
        stack: "prod",
        changes: { rotationGeneration: "-1" },
        key: "rotationGeneration",
        shown: '"-1"',
        allowed: /integer from 0 to 1000000/,
    },
    {
        what: "Vault mount switch that is not a boolean",
        stack: "prod",
        changes: { vaultMountManaged: "managed" },
        key: "vaultMountManaged",
        shown: '"managed"',
        allowed: /true or false/,
    },
    {
        what: "negative replicas",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", replicas: -1 } }) },
        key: "services.worker.replicas",
        shown: "-1",
        allowed: /integer from 0 to 50/,
    },
    {
        what: "unknown network name",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", networks: ["backend", "dmz"] } }) },
        key: "services.worker.networks",
        shown: '["backend","dmz"]',
        allowed: /list of frontend, backend, cache/,
    },
    {
        what: "a published port on a worker",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", ports: [{ published: 9000, target: 9000 }] } }) },
        key: "services.worker.ports",
        shown: '[{"published":9000,"target":9000}]',
        allowed: /only be set on the backend/,
    },
    {
        what: "an MCP image without a tag in prod",
        stack: "prod",
        changes: { services: JSON.stringify({ "mcp-github": { role: "mcp", image: "ghcr.io/toolboxai/mcp-github" } }) },
        key: "services.mcp-github.image",
        shown: '"ghcr.io/toolboxai/mcp-github"',
        allowed: /pinned in prod/,
    },
    {
        what: "an MCP service without an image",
        stack: "dev",
        changes: { services: JSON.stringify({ "mcp-docs": { role: "mcp" } }) },
        key: "services.mcp-docs.image",
        shown: "(missing)",
        allowed: /required for an mcp service/,
    },
    {
        what: "a health check disabled with NONE",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", healthcheck: ["NONE"] } }) },
        key: "services.worker.healthcheck",
        shown: '["NONE"]',
        allowed: /a check that can fail \(NONE is refused\)/,
    },
    {
        what: "a health check given as one string",
        stack: "prod",
        changes: { services: JSON.stringify({ worker: { role: "worker", healthcheck: "curl -f http://localhost:9000/health" } }) },
        key: "services.worker.healthcheck",
        shown: '"curl -f http://localhost:9000/health"',
        allowed: /\["CMD", "<program>", "<argument>", \.\.\.\] or \["CMD-SHELL", "<one shell command>"\]/,
    },
    {
        what: "a shell health check split into words",
        stack: "dev",
        changes: {
            services: JSON.stringify({
                "mcp-docs": {
                    role: "mcp",
                    image: "ghcr.io/toolboxai/mcp-docs:1.2.0",
                    healthcheck: ["CMD-SHELL", "test", "-f", "/tmp/healthy"],
                },
            }),
        },
        key: "services.mcp-docs.healthcheck",
        shown: '["CMD-SHELL","test","-f","/tmp/healthy"]',
        allowed: /\["CMD-SHELL", "<one shell command>"\]/,
    },
    {
        what: "an exec health check without a program",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", healthcheck: ["CMD"] } }) },
        key: "services.worker.healthcheck",
        shown: '["CMD"]',
        allowed: /\["CMD", "<program>"/,
    },
    {
        what: "a container database host on loopback",
        stack: "dev",
        changes: { containerDbHost: "127.0.0.1" },
        key: "containerDbHost",
        shown: '"127.0.0.1"',
        allowed: /reachable from inside a container, where 127\.0\.0\.1 is the container itself: use host\.docker\.internal/,
    },
    {
        what: "a container Supabase URL on localhost",
        stack: "dev",
        changes: { containerSupabaseUrl: "http://localhost:54321" },
        key: "containerSupabaseUrl",
        shown: '"http://localhost:54321"',
        allowed: /reachable from inside a container, where localhost is the container itself/,
    },
    {
        what: "a container Vault address on loopback in prod",
        stack: "prod",
        changes: { containerVaultAddress: "https://127.0.0.1:8200" },
        key: "containerVaultAddress",
        shown: '"https://127.0.0.1:8200"',
        allowed: /reachable from inside a container/,
    },
    {
        what: "a container Vault address without a scheme",
        stack: "dev",
        changes: { containerVaultAddress: "host.docker.internal:8200" },
        key: "containerVaultAddress",
        shown: '"host.docker.internal:8200"',
        allowed: /http:\/\/ or https:\/\/ URL/,
    },
    {
        what: "a plain-http container Vault address in prod",
        stack: "prod",
        changes: { containerVaultAddress: "http://vault.toolboxai.internal:8200" },
        key: "containerVaultAddress",
        shown: '"http://vault.toolboxai.internal:8200"',
        allowed: /https:\/\/ URL/,
    },
    {
        what: "a plain-http container Supabase URL when hosted",
        stack: "prod",
        changes: { containerSupabaseUrl: "http://toolboxaiprodprojref.supabase.co" },
        key: "containerSupabaseUrl",
        shown: '"http://toolboxaiprodprojref.supabase.co"',
        allowed: /https:\/\/ URL/,
    },
    {
        what: "a container database host that is a URL",
        stack: "dev",
        changes: { containerDbHost: "postgres://host.docker.internal" },
        key: "containerDbHost",
        shown: '"postgres://host.docker.internal"',
        allowed: /DNS hostname or IPv4 address/,
    },
    {
        what: "services that are not JSON",
        stack: "dev",
        changes: { services: "backend, worker" },
        key: "services",
        shown: '"backend, worker"',
        allowed: /JSON object/,
    },
    {
        what: "a subnet that is not a CIDR",
        stack: "dev",
        changes: { networkSubnets: JSON.stringify({ backend: "172.30.1.0" }) },
        key: "networkSubnets.backend",
        shown: '"172.30.1.0"',
        allowed: /IPv4 CIDR/,
    },
    {
        what: "unknown Docker mode",
        stack: "dev",
        changes: { dockerMode: "kubernetes" },
        key: "dockerMode",
        shown: '"kubernetes"',
        allowed: /one of single, swarm/,
    },
    {
        what: "two backend replicas publishing one host port",
        stack: "dev",
        changes: { services: JSON.stringify({ backend: { role: "backend", replicas: 2, ports: [{ published: 8000, target: 8000 }] } }) },
        key: "services.backend.ports",
        shown: '[{"published":8000,"target":8000}]',
        allowed: /need replicas: 1 on a single Docker host/,
    },
    {
        what: "a backend whose ports have two targets",
        stack: "dev",
        changes: {
            services: JSON.stringify({
                backend: {
                    role: "backend",
                    ports: [
                        { published: 8000, target: 8000 },
                        { published: 9000, target: 9000 },
                    ],
                },
            }),
        },
        key: "services.backend.ports",
        shown: '[{"published":8000,"target":8000},{"published":9000,"target":9000}]',
        allowed: /same target: the backend listens on one port, which its health check and backendInternalUrl use/,
    },
    {
        what: "a PIDs limit of zero (unlimited)",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", pidsLimit: 0 } }) },
        key: "services.worker.pidsLimit",
        shown: "0",
        allowed: /integer from 32 to 32768 .*unlimited is refused/,
    },
    {
        what: "cpus the Docker provider would read back as another amount",
        stack: "dev",
        changes: { services: JSON.stringify({ worker: { role: "worker", cpus: 0.05 } }) },
        key: "services.worker.cpus",
        shown: "0.05",
        allowed: /reads back unchanged .*0\.05 becomes 0\.1/,
    },
    {
        what: "a PIDs limit that is not a number",
        stack: "prod",
        changes: { services: JSON.stringify({ backend: { role: "backend", pidsLimit: "many" } }) },
        key: "services.backend.pidsLimit",
        shown: '"many"',
        allowed: /integer from 32 to 32768/,
    },
    {
        what: "a backend host address that is a hostname",
        stack: "dev",
        changes: { backendHostAddress: "localhost" },
        key: "backendHostAddress",
        shown: '"localhost"',
        allowed: /IP address of the Docker host, such as 127\.0\.0\.1/,
    },
    {
        what: "a backend host address with a port",
        stack: "prod",
        changes: { backendHostAddress: "10.0.0.5:8000" },
        key: "backendHostAddress",
        shown: '"10.0.0.5:8000"',
        allowed: /IP address of the Docker host/,
    },
    {
        what: "a backend host address in swarm mode",
        stack: "dev",
        changes: { dockerMode: "swarm", backendHostAddress: "127.0.0.1" },
        key: "backendHostAddress",
        shown: '"127.0.0.1"',
        allowed: /0\.0\.0\.0 in swarm mode: Swarm's ingress publishes on every node's interfaces/,
    },
    {
        what: "object lock as long as the retention",
        stack: "prod",
        changes: { backupObjectLockDays: "30" },
        key: "backupObjectLockDays",
        shown: '"30"',
        allowed: /shorter than backupRetentionDays \(30\)/,
    },
    {
        what: "a backup schedule that is not cron",
        stack: "dev",
        changes: { backupSchedule: "daily at 2" },
        key: "backupSchedule",
        shown: '"daily at 2"',
        allowed: /5-field cron expression in UTC/,
    },
    {
        what: "a backup schedule with an hour out of range",
        stack: "prod",
        changes: { backupSchedule: "0 25 * * *" },
        key: "backupSchedule",
        shown: '"0 25 * * *"',
        allowed: /5-field cron expression/,
    },
    {
        what: "backup schemas with a quote",
        stack: "dev",
        changes: { backupSchemas: "public,x'y" },
        key: "backupSchemas",
        shown: '"public,x\'y"',
        allowed: /comma-separated schema names/,
    },
    {
        what: "two backup job replicas",
        stack: "dev",
        changes: { services: JSON.stringify({ backup: { role: "backup", replicas: 2 } }) },
        key: "services.backup.replicas",
        shown: "2",
        allowed: /0 or 1 for the backup job/,
    },
    {
        what: "two backup services",
        stack: "dev",
        changes: { services: JSON.stringify({ b1: { role: "backup" }, b2: { role: "backup" } }) },
        key: "services",
        shown: '["b1","b2"]',
        allowed: /at most one service with role backup/,
    },
    {
        what: "a backup service without an image",
        stack: "dev",
        changes: { backupImage: "" },
        key: "services.backup.image",
        shown: "(missing)",
        allowed: /required for the backup job: set backupImage/,
    },
    {
        what: "a backup image without a tag in prod",
        stack: "prod",
        changes: { backupImage: "ghcr.io/toolboxai/backup" },
        key: "backupImage",
        shown: '"ghcr.io/toolboxai/backup"',
        allowed: /pinned in prod/,
    },
    {
        what: "a cold transition that costs more than it saves",
        stack: "prod",
        changes: { backupColdTransitionDays: "10" },
        key: "backupColdTransitionDays",
        shown: '"10"',
        allowed: /at least 30/,
    },
    {
        what: "an unknown object lock mode",
        stack: "prod",
        changes: { backupObjectLockMode: "STRICT" },
        key: "backupObjectLockMode",
        shown: '"STRICT"',
        allowed: /one of GOVERNANCE, COMPLIANCE/,
    },
    {
        what: "AWS region that is a city",
        stack: "dev",
        changes: { awsRegion: "Frankfurt" },
        key: "awsRegion",
        shown: '"Frankfurt"',
        allowed: /AWS region code/,
    },
    {
        what: "retention of zero days",
        stack: "dev",
        changes: { backupRetentionDays: "0" },
        key: "backupRetentionDays",
        shown: '"0"',
        allowed: /integer from 1 to 3650/,
    },
    {
        what: "retention beyond ten years",
        stack: "prod",
        changes: { backupRetentionDays: "9999" },
        key: "backupRetentionDays",
        shown: '"9999"',
        allowed: /integer from 1 to 3650/,
    },
    {
        what: "Docker over plain TCP",
        stack: "prod",
        changes: { dockerHost: "tcp://10.0.0.5:2375" },
        key: "dockerHost",
        shown: '"tcp://10.0.0.5:2375"',
        allowed: /plain tcp:\/\/ would expose/,
    },
    {
        what: "prod image on latest",
        stack: "prod",
        changes: { backendImage: "ghcr.io/toolboxai/backend:latest" },
        key: "backendImage",
        shown: '"ghcr.io/toolboxai/backend:latest"',
        allowed: /pinned in prod/,
    },
    {
        what: "prod image without a tag",
        stack: "prod",
        changes: { workerImage: "ghcr.io/toolboxai/worker" },
        key: "workerImage",
        shown: '"ghcr.io/toolboxai/worker"',
        allowed: /pinned in prod/,
    },
    {
        what: "malformed image reference",
        stack: "dev",
        changes: { redisImage: "Redis:7 alpine" },
        key: "redisImage",
        shown: '"Redis:7 alpine"',
        allowed: /image reference/,
    },
    {
        what: "misspelt setting",
        stack: "dev",
        changes: { databasePoolsize: "20" },
        key: "databasePoolsize",
        shown: '"20"',
        allowed: /not a setting of this program \(did you mean databasePoolSize\?\)/,
    },
    {
        what: "missing Vault token",
        stack: "dev",
        changes: { vaultToken: undefined },
        key: "vaultToken",
        shown: "(missing)",
        allowed: /pulumi config set --secret vaultToken/,
    },
    {
        what: "Vault token set in plain text",
        stack: "dev",
        changes: {},
        plainText: ["vaultToken"],
        key: "vaultToken",
        shown: "[set in plain text]",
        allowed: /must be set with `pulumi config set --secret vaultToken`/,
    },
    {
        what: "hosted without the Management API token",
        stack: "prod",
        changes: { supabaseAccessToken: undefined },
        key: "supabaseAccessToken",
        shown: "(missing)",
        allowed: /required when supabaseMode is hosted.*pulumi config set --secret supabaseAccessToken/,
    },
    {
        what: "an access token of the wrong shape",
        stack: "prod",
        changes: { supabaseAccessToken: "eyJhbGciOiJIUzI1NiJ9.anon-key.pasted" },
        key: "supabaseAccessToken",
        shown: "[secret, 36 characters]",
        allowed: /sbp_ followed by 40 hex digits/,
    },
    {
        what: "the retired anon key setting",
        stack: "prod",
        changes: { supabaseAnonKey: "anon-key-config-test-000000000000" },
        key: "supabaseAnonKey",
        shown: '"anon-key-config-test-000000000000"',
        allowed: /no longer used: the publishable key comes from the Management API/,
    },
    {
        what: "a Management API URL over plain http",
        stack: "prod",
        changes: { supabaseApiUrl: "http://api.supabase.com" },
        key: "supabaseApiUrl",
        shown: '"http://api.supabase.com"',
        allowed: /https:\/\/ URL \(http:\/\/ only on a loopback host\)/,
    },
    {
        what: "hosted without allowed CIDRs",
        stack: "prod",
        changes: { databaseAllowedCidrs: undefined },
        key: "databaseAllowedCidrs",
        shown: "(missing)",
        allowed: /required when supabaseMode is hosted.*`none` blocks every address/,
    },
    {
        what: "a CIDR that is not one",
        stack: "prod",
        changes: { databaseAllowedCidrs: "203.0.113.7" },
        key: "databaseAllowedCidrs",
        shown: '"203.0.113.7"',
        allowed: /is not a CIDR/,
    },
    {
        what: "a CIDR with host bits",
        stack: "prod",
        changes: { databaseAllowedCidrs: "203.0.113.7/24,2001:db8::1/48" },
        key: "databaseAllowedCidrs",
        shown: '"203.0.113.7/24,2001:db8::1/48"',
        allowed: /did you mean 203.0.113.0\/24\?.*did you mean 2001:db8::\/48\?/,
    },
    {
        what: "an empty CIDR entry",
        stack: "prod",
        changes: { databaseAllowedCidrs: "203.0.113.0/24,," },
        key: "databaseAllowedCidrs",
        shown: '"203.0.113.0/24,,"',
        allowed: /empty entry.*`none`/,
    },
    {
        what: "allow-all in prod without confirmation",
        stack: "prod",
        changes: { databaseAllowedCidrs: "0.0.0.0/0,::/0" },
        key: "databaseAllowedCidrs",
        shown: '"0.0.0.0/0,::/0"',
        allowed: /refused in prod unless databaseAllowAll is true/,
    },
    {
        what: "IPv6 allow-all in prod without confirmation",
        stack: "prod",
        changes: { databaseAllowedCidrs: "203.0.113.0/24,::/0" },
        key: "databaseAllowedCidrs",
        shown: '"203.0.113.0/24,::/0"',
        allowed: /refused in prod unless databaseAllowAll is true/,
    },
    {
        what: "SSL enforcement off in prod",
        stack: "prod",
        changes: { databaseSslEnforced: "false" },
        key: "databaseSslEnforced",
        shown: '"false"',
        allowed: /must be true in prod/,
    },
    {
        what: "auth jwt_exp out of range",
        stack: "prod",
        changes: { authJwtExp: "10" },
        key: "authJwtExp",
        shown: '"10"',
        allowed: /integer from 60 to 604800/,
    },
];

describe("stack config: each bad setting gets one clear error naming the key, the value and what is allowed", () => {
    it.each(BAD)("$what ($stack: $key)", (c) => {
        const { problems, message } = problemsOf(rawFor(c.stack, c.changes, c.plainText));
        expect(problems).toHaveLength(1);
        expect(problems[0].key).toBe(c.key);
        expect(problems[0].shown).toBe(c.shown);
        expect(problems[0].allowed).toMatch(c.allowed);
        expect(message).toContain(`toolboxai:${c.key} = ${c.shown}: `);
        expect(message).toMatch(/no resource was created/);
    });

    it("covers at least 25 distinct cases", () => {
        expect(new Set(BAD.map((c) => c.what)).size).toBeGreaterThanOrEqual(25);
    });
});

describe("stack config: the hosted project, adopted or created", () => {
    it("creates when supabaseOrganizationSlug is set: name defaults to toolboxai-<environment>, no ref, no derived hosts", () => {
        const { settings } = parseStackConfig(rawFor("prod", { ...CREATE_PROJECT, supabaseInstanceSize: "small" }));
        expect(settings).toMatchObject({
            supabaseOrganizationSlug: "toolboxai-org",
            supabaseProjectName: "toolboxai-prod",
            supabaseRegion: "eu-central-1",
            supabaseInstanceSize: "small",
        });
        expect([settings.supabaseProjectRef, settings.supabaseUrl, settings.supabaseDbHost, settings.containerDbHost]).toEqual([
            undefined,
            undefined,
            undefined,
            undefined,
        ]);
    });

    it("names a malformed organization slug first (the ref is then missing too)", () => {
        const { problems } = problemsOf(rawFor("prod", { ...CREATE_PROJECT, supabaseOrganizationSlug: "toolbox ai" }));
        expect(problems[0]).toMatchObject({ key: "supabaseOrganizationSlug", shown: '"toolbox ai"' });
        expect(problems[0].allowed).toMatch(/organization slug: letters, digits, _ and -/);
        expect(problems.map((p) => p.key)).toContain("supabaseProjectRef");
    });

    it("adopts as before: the creation settings stay unset", () => {
        const { settings } = parseStackConfig(rawFor("prod"));
        expect(settings.supabaseProjectRef).toBe("toolboxaiprodprojref");
        expect([settings.supabaseOrganizationSlug, settings.supabaseProjectName, settings.supabaseRegion]).toEqual([
            undefined,
            undefined,
            undefined,
        ]);
    });
});

describe("stack config: reporting", () => {
    it("reports every problem at once", () => {
        const { problems, message } = problemsOf(rawFor("prod", { databasePoolSize: "0", awsRegion: "mars", vaultMount: "a/b" }));
        expect(problems.map((p) => p.key).sort()).toEqual(["awsRegion", "databasePoolSize", "vaultMount"]);
        expect(message).toMatch(/3 problems/);
    });

    it("never echoes a secret value, even when it is the bad value", () => {
        const secret = "not-long-enough-secret";
        const { message } = problemsOf(rawFor("prod", { supabaseAccessToken: secret, environment: "qa" }));
        expect(message).not.toContain(secret);
    });

    it("is a RunError, so the Pulumi CLI prints the message without a stack trace", () => {
        const { problems } = problemsOf(rawFor("dev", { environment: "qa" }));
        expect(pulumi.RunError.isInstance(new ConfigError(problems))).toBe(true);
    });
});

describe("databaseCaCert", () => {
    let pki: Pki;
    beforeAll(async () => {
        pki = await makePki(mkdtempSync(join(tmpdir(), "toolboxai-ca-")), "db");
    });

    it("is required by verify-full and verify-ca", () => {
        for (const mode of ["verify-full", "verify-ca"]) {
            const { problems } = problemsOf(rawFor("prod", { databaseSslMode: mode }));
            expect(problems).toEqual([
                {
                    key: "databaseCaCert",
                    shown: "(missing)",
                    allowed: `is required when databaseSslMode is ${mode}: the PEM of the CA that signed the database's certificate`,
                },
            ]);
        }
    });

    it("must be a CA certificate in PEM", () => {
        const garbage = problemsOf(rawFor("prod", { databaseSslMode: "verify-full", databaseCaCert: "not a certificate" })).problems;
        expect(garbage).toEqual([
            {
                key: "databaseCaCert",
                shown: '"not a certificate"',
                allowed: "must be a PEM CA certificate (-----BEGIN CERTIFICATE----- ...)",
            },
        ]);
        const leaf = problemsOf(
            rawFor("prod", { databaseSslMode: "verify-full", databaseCaCert: readFileSync(pki.serverCert, "utf8") }),
        ).problems;
        expect(leaf.map((p) => [p.key, p.allowed])).toEqual([["databaseCaCert", expect.stringMatching(/this one is not a CA/)]]);
    });

    it("is accepted, and handed to the containers as a file with PGSSLROOTCERT and sslrootcert", () => {
        const ca = readFileSync(pki.caCert, "utf8");
        const { settings } = parseStackConfig(rawFor("prod", { databaseSslMode: "verify-full", databaseCaCert: ca }));
        expect(settings.databaseCaCert).toBe(`${ca.trim()}\n`);
    });
});

describe("stack config: good config", () => {
    it("accepts both committed stack files", () => {
        expect(parseStackConfig(rawFor("dev")).settings.environment).toBe("dev");
        expect(parseStackConfig(rawFor("prod")).settings.environment).toBe("prod");
    });

    it("gives dev the local `supabase start` endpoints and 7-day retention by default", () => {
        const { settings } = parseStackConfig({
            values: {
                environment: "dev",
                vaultAddress: "http://127.0.0.1:8200",
                awsRegion: "eu-west-1",
                backendImage: "b:1",
                workerImage: "w:1",
                backupImage: "k:1",
                redisImage: "redis:7-alpine",
                vaultToken: "t0123456789",
            },
            secretKeys: new Set(["vaultToken"]),
        });
        expect(settings.services.map((spec) => [spec.name, spec.role, spec.image, spec.replicas, spec.networks.join(",")])).toEqual([
            ["backend", "backend", "b:1", 1, "frontend,backend,cache"],
            ["worker", "worker", "w:1", 1, "frontend,backend,cache"],
            ["backup", "backup", "k:1", 1, "frontend"],
        ]);
        expect(settings).toMatchObject({
            backupSchedule: "0 2 * * *",
            backupSchemas: [],
            supabaseMode: "local",
            supabaseUrl: "http://127.0.0.1:54321",
            supabaseDbHost: "127.0.0.1",
            supabaseDbPort: 54322,
            poolerEnabled: false,
            databaseSslMode: "disable",
            databasePoolSize: 20,
            backupRetentionDays: 7,
            vaultMount: "secret",
            vaultPathPrefix: "toolboxai",
        });
    });

    it("keeps a service's own health check, and leaves the role's default to the runtime otherwise", () => {
        const services = {
            worker: { role: "worker" },
            "mcp-http": {
                role: "mcp",
                image: "ghcr.io/toolboxai/mcp-http:1.0.0",
                healthcheck: ["CMD-SHELL", "wget -q --spider http://localhost:9000/health"],
            },
        };
        const { settings } = parseStackConfig(rawFor("dev", { services: JSON.stringify(services) }));
        expect(settings.services.find((x) => x.name === "mcp-http")?.healthcheck).toEqual(services["mcp-http"].healthcheck);
        expect(settings.services.find((x) => x.name === "worker")?.healthcheck).toBeUndefined();
    });

    it("gives containers host.docker.internal where dev's host-side endpoints are loopback", () => {
        const { settings } = parseStackConfig(rawFor("dev"));
        expect(settings).toMatchObject({
            supabaseUrl: "http://127.0.0.1:54321",
            supabaseDbHost: "127.0.0.1",
            vaultAddress: "http://127.0.0.1:8200",
            containerSupabaseUrl: "http://host.docker.internal:54321",
            containerDbHost: "host.docker.internal",
            containerVaultAddress: "http://host.docker.internal:8200",
        });
    });

    it("gives containers prod's hosted endpoints unchanged, and takes explicit container-side settings", () => {
        const prod = parseStackConfig(rawFor("prod")).settings;
        expect(prod.containerSupabaseUrl).toBe(prod.supabaseUrl);
        expect(prod.containerDbHost).toBe(prod.supabaseDbHost);
        expect(prod.containerVaultAddress).toBe(prod.vaultAddress);
        const dev = parseStackConfig(
            rawFor("dev", {
                containerDbHost: "db.lan",
                containerSupabaseUrl: "http://supabase.lan:54321/",
                containerVaultAddress: "https://vault.lan:8200",
            }),
        ).settings;
        expect(dev).toMatchObject({
            containerDbHost: "db.lan",
            containerSupabaseUrl: "http://supabase.lan:54321",
            containerVaultAddress: "https://vault.lan:8200",
        });
    });

    it("derives hosted endpoints from the project ref, but never the pooler host", () => {
        const raw = rawFor("prod", {
            supabaseUrl: undefined,
            supabaseDbHost: undefined,
            supabaseDbPort: undefined,
            backupRetentionDays: undefined,
        });
        const { settings } = parseStackConfig(raw);
        expect(settings).toMatchObject({
            supabaseUrl: "https://toolboxaiprodprojref.supabase.co",
            supabaseDbHost: "db.toolboxaiprodprojref.supabase.co",
            supabaseDbPort: 5432,
            poolerUser: "postgres.toolboxaiprodprojref",
            // The pooler host comes from the Management API (components/SupabaseProject.ts).
            poolerHost: undefined,
            databaseSslMode: "require",
            backupRetentionDays: 30,
        });
    });

    it("hands secrets to the program only as secret Outputs", async () => {
        const config = loadStackConfig(rawFor("prod"));
        const outputs = [config.secrets.vaultToken, config.secrets.supabaseAccessToken!];
        for (const o of outputs) expect(await pulumi.isSecret(o)).toBe(true);
        expect(JSON.stringify(config.settings)).not.toContain(SECRETS.vaultToken);
        expect(JSON.stringify(config.settings)).not.toContain(SECRETS.supabaseAccessToken);
        expect(loadStackConfig(rawFor("dev")).secrets.supabaseAccessToken).toBeUndefined();
    });

    it("takes IPv4 and IPv6 CIDRs apart, `none` as an empty list, allow-all outside prod or when confirmed", () => {
        expect(parseStackConfig(rawFor("prod")).settings.databaseAllowedCidrs).toEqual({
            ipv4: ["203.0.113.0/24"],
            ipv6: ["2001:db8::/48"],
        });
        expect(parseStackConfig(rawFor("prod", { databaseAllowedCidrs: "none" })).settings.databaseAllowedCidrs).toEqual({
            ipv4: [],
            ipv6: [],
        });
        expect(
            parseStackConfig(rawFor("prod", { databaseAllowedCidrs: "0.0.0.0/0, ::/0", databaseAllowAll: "true" })).settings
                .databaseAllowedCidrs,
        ).toEqual({ ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] });
        const settings = parseStackConfig(
            rawFor("prod", { authSiteUrl: "https://app.toolboxai.example", authDisableSignup: "true" }),
        ).settings;
        expect(settings).toMatchObject({ authSiteUrl: "https://app.toolboxai.example", authDisableSignup: true, authJwtExp: undefined });
    });
});
