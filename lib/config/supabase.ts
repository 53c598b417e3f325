/** Supabase and its database: the project, the direct connection, TLS and the transaction pooler. */
import { LOCAL_SUPABASE, TRANSACTION_POOLER_PORT } from "../constants";
import { COMPUTE_CONNECTIONS, PITR_SETTINGS, PITR_VARIANTS, poolSizeRefusal, SIZES_WITHOUT_PITR } from "../supabase/addons";
import { DEFAULT_MANAGEMENT_API_URL } from "../supabase/client";
import { parseReplicaRegions, replicaCountRefusal } from "../supabase/replicas";
import {
    allowsAll,
    hostedApiUrl,
    hostedDbHost,
    parseCidrs,
    SUPABASE_INSTANCE_SIZES,
    SUPABASE_REGIONS,
    type SplitCidrs,
} from "../supabase/rules";
import { environmentSettings } from "./environment";
import { boolean, caCertificate, hostname, httpUrl, identifier, integer, managementUrl, oneOf, port, projectRef } from "./parsers";
import { bad, ok, type Parsed } from "./schema";

/** Hosted: the pooler's host, port and user come from the Management API, never from config. */
const fromApi =
    <T>(key: string, parse: (raw: string) => Parsed<T>, unlessEqual?: string) =>
    (raw: string, s: { supabaseMode?: string }) =>
        s.supabaseMode === "hosted" && raw !== unlessEqual
            ? bad<T>(`comes from the Management API when supabaseMode is hosted: remove it with \`pulumi config rm ${key}\``)
            : parse(raw);

/** Hosted and supabaseOrganizationSlug set: the stack creates its project instead of adopting one. */
const creating = (s: { supabaseMode?: string; supabaseOrganizationSlug?: string }) =>
    s.supabaseMode === "hosted" && s.supabaseOrganizationSlug !== undefined;

/** Creating a project: its URL and database host are unknown until it exists, so they cannot be set. */
const fromCreated =
    <T, S extends { supabaseMode?: string; supabaseOrganizationSlug?: string }>(key: string, parse: (raw: string, s: S) => Parsed<T>) =>
    (raw: string, s: S) =>
        creating(s)
            ? bad<T>(
                  `follows from the created project's ref when supabaseOrganizationSlug is set: remove it with \`pulumi config rm ${key}\``,
              )
            : parse(raw, s);

/** `databaseAllowedCidrs`: comma-separated CIDRs, or `none` for empty lists (block every address). */
function allowedCidrs(raw: string): Parsed<SplitCidrs> {
    if (raw.trim() === "none") return ok({ ipv4: [], ipv6: [] });
    const entries = raw.split(",").map((e) => e.trim());
    if (entries.some((e) => e === "")) return bad("has an empty entry: list CIDRs separated by commas, or `none` to block every address");
    const { cidrs, problems } = parseCidrs(entries);
    return problems.length > 0 ? bad(problems.join("; ")) : ok(cidrs);
}

// The spec's pattern for organization_slug.
const ORGANIZATION_SLUG = /^[\w-]+$/;
function organizationSlug(raw: string): Parsed<string> {
    return ORGANIZATION_SLUG.test(raw)
        ? ok(raw)
        : bad("must be an organization slug: letters, digits, _ and - (Organization settings > General)");
}

function projectName(raw: string): Parsed<string> {
    return raw.trim() !== "" && raw.length <= 256 ? ok(raw) : bad("must be 1-256 characters");
}

/** The creation settings mean nothing when the stack adopts (or runs locally): refused rather than ignored. */
function creationOnly(key: string, s: { supabaseMode?: string; supabaseOrganizationSlug?: string }): string | undefined {
    return creating(s)
        ? undefined
        : `is only used when creating the project (supabaseOrganizationSlug set): remove it with \`pulumi config rm ${key}\``;
}

export const SUPABASE_MODES = ["local", "hosted"] as const;
export type SupabaseMode = (typeof SUPABASE_MODES)[number];
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
const ENCRYPTED_SSL_MODES: readonly SslMode[] = ["require", "verify-ca", "verify-full"];

export const supabaseSettings = environmentSettings
    .group("Supabase and the database")
    .add("supabaseMode", oneOf(SUPABASE_MODES), {
        type: "string",
        doc: "local (`supabase start`, keys generated) or hosted (supabase.com project, managed through the Management API). prod must be hosted.",
        default: (s) => (s.environment === "prod" ? "hosted" : "local"),
        defaultText: "hosted in prod, else local",
        check: (mode, s) => (s.environment === "prod" && mode === "local" ? "must be hosted when environment is prod" : undefined),
    })
    // Create instead of adopt: exactly one of supabaseOrganizationSlug and supabaseProjectRef in hosted mode.
    .add("supabaseOrganizationSlug", organizationSlug, {
        type: "string",
        doc: "Hosted: create the project in this organization, instead of adopting supabaseProjectRef (docs/hosted-project.md).",
        optional: true,
        yamlDefault: "",
        defaultText: "unset: adopt supabaseProjectRef",
        check: (_slug, s) =>
            s.supabaseMode !== "hosted"
                ? "is only used when supabaseMode is hosted: remove it with `pulumi config rm supabaseOrganizationSlug`"
                : undefined,
    })
    // Defaults derived from the ref stay unset while the ref is missing: its own problem says so.
    .add("supabaseProjectRef", projectRef, {
        type: "string",
        doc: "Hosted project ref (20 lowercase letters).",
        optional: true,
        required: (s) =>
            s.supabaseMode === "hosted" && !s.supabaseOrganizationSlug
                ? "is required when supabaseMode is hosted: the 20-letter ref of the project to adopt (or set supabaseOrganizationSlug, supabaseRegion to create one)"
                : undefined,
        check: (_ref, s) =>
            s.supabaseOrganizationSlug
                ? "conflicts with supabaseOrganizationSlug: set supabaseProjectRef to adopt an existing project, or supabaseOrganizationSlug to create one, not both"
                : undefined,
        yamlDefault: "",
        defaultText: "required when hosted, unless creating",
    })
    .add("supabaseProjectName", projectName, {
        type: "string",
        doc: "Hosted, creating: the new project's name (1-256 characters).",
        optional: true,
        default: (s) => (creating(s) ? `toolboxai-${s.environment}` : undefined),
        yamlDefault: "",
        defaultText: "toolboxai-<environment> when creating",
        check: (_name, s) => creationOnly("supabaseProjectName", s),
    })
    .add("supabaseRegion", oneOf(SUPABASE_REGIONS), {
        type: "string",
        doc: "Hosted, creating: the new project's region (a code of the Management API's region_selection).",
        optional: true,
        required: (s) =>
            creating(s)
                ? "is required when supabaseOrganizationSlug is set: the region to create the project in, e.g. eu-central-1"
                : undefined,
        yamlDefault: "",
        defaultText: "required when creating",
        check: (_region, s) => creationOnly("supabaseRegion", s),
    })
    .add("supabaseInstanceSize", oneOf(SUPABASE_INSTANCE_SIZES), {
        type: "string",
        doc: "Hosted: the project's compute size. Creating: desired_instance_size (unset: the organization's default); adopted: the compute add-on, changed in place (the database restarts). Unset when adopted: left as it is.",
        optional: true,
        yamlDefault: "",
        defaultText: "creating: the organization's default; adopted: left alone",
        check: (size, s) => {
            if (s.supabaseMode !== "hosted")
                return "is only used when supabaseMode is hosted: remove it with `pulumi config rm supabaseInstanceSize`";
            // Nano is the Free plan's size: no compute add-on selects it.
            if (size === "nano" && !creating(s))
                return "nano cannot be chosen for an existing project (no compute add-on selects it): choose micro or larger, or remove it with `pulumi config rm supabaseInstanceSize`";
            return undefined;
        },
    })
    // Creating, the URL and the direct host follow from the new project's ref (Outputs in index.ts): unset here.
    .add(
        "supabaseUrl",
        fromCreated("supabaseUrl", (raw, s) => httpUrl(s.supabaseMode === "hosted")(raw)),
        {
            type: "string",
            optional: true,
            doc: "Supabase API URL.",
            default: (s) =>
                s.supabaseMode === "hosted" ? s.supabaseProjectRef && hostedApiUrl(s.supabaseProjectRef) : LOCAL_SUPABASE.apiUrl,
            yamlDefault: "",
            defaultText: `local: ${LOCAL_SUPABASE.apiUrl}; hosted: https://<ref>.supabase.co`,
        },
    )
    .add("supabaseDbHost", fromCreated("supabaseDbHost", hostname), {
        type: "string",
        optional: true,
        doc: "Direct database host (migrations and backups use it, never the pooler).",
        default: (s) => (s.supabaseMode === "hosted" ? s.supabaseProjectRef && hostedDbHost(s.supabaseProjectRef) : LOCAL_SUPABASE.dbHost),
        yamlDefault: "",
        defaultText: `local: ${LOCAL_SUPABASE.dbHost}; hosted: db.<ref>.supabase.co`,
    })
    .add("supabaseDbPort", port, {
        type: "integer",
        doc: "Direct database port.",
        default: (s) => (s.supabaseMode === "hosted" ? 5432 : LOCAL_SUPABASE.dbPort),
        defaultText: `local: ${LOCAL_SUPABASE.dbPort}; hosted: 5432`,
        check: (p) =>
            p === TRANSACTION_POOLER_PORT
                ? `must be the direct or session port (5432), not the transaction pooler's ${TRANSACTION_POOLER_PORT}: migrations and dumps need a session`
                : undefined,
    })
    .add("supabaseDbName", identifier, { type: "string", doc: "Database name.", default: "postgres" })
    .add("supabaseDbUser", identifier, { type: "string", doc: "Database user for the direct connection.", default: "postgres" })
    .add("databaseSslMode", oneOf(SSL_MODES), {
        type: "string",
        doc: "libpq sslmode for every connection string; hosted requires require, verify-ca or verify-full.",
        default: (s) => (s.supabaseMode === "hosted" ? "require" : "disable"),
        defaultText: "hosted: require; local: disable",
        check: (mode, s) =>
            s.supabaseMode === "hosted" && !ENCRYPTED_SSL_MODES.includes(mode)
                ? `must be one of ${ENCRYPTED_SSL_MODES.join(", ")} when supabaseMode is hosted`
                : undefined,
    })
    .add("databaseCaCert", caCertificate, {
        type: "string",
        doc: "PEM of the CA that signed the database's certificate, for verify-ca and verify-full (Supabase: Database Settings > SSL Configuration). Containers get it as a file.",
        optional: true,
        required: (s) =>
            s.databaseSslMode === "verify-ca" || s.databaseSslMode === "verify-full"
                ? `is required when databaseSslMode is ${s.databaseSslMode}: the PEM of the CA that signed the database's certificate`
                : undefined,
        yamlDefault: "",
        defaultText: "none; required by verify-ca and verify-full",
    })
    .add("databasePoolSize", integer(1, 1000), {
        type: "integer",
        doc: "Application connection pool size (1-1000); hosted, also Supavisor's default_pool_size: at most the pooler's client limit of the compute size.",
        default: 20,
        // Where config names the compute; otherwise the compute resource checks the live limits before any change.
        check: (poolSize, s) => {
            const size = s.supabaseMode === "hosted" ? s.supabaseInstanceSize : undefined;
            const limits = size === undefined ? undefined : COMPUTE_CONNECTIONS[size];
            return size && limits ? poolSizeRefusal(poolSize, size, limits) : undefined;
        },
    })
    .add("poolerEnabled", boolean, {
        type: "boolean",
        doc: "Applications connect through the transaction pooler.",
        default: (s) => s.supabaseMode === "hosted",
        defaultText: "hosted: true; local: false",
    })
    .add("poolerHost", fromApi("poolerHost", hostname), {
        type: "string",
        doc: "Local mode: transaction pooler host (hosted: from the Management API).",
        optional: true,
        required: (s) =>
            s.poolerEnabled && s.supabaseMode !== "hosted" ? "is required when poolerEnabled is true: the pooler host" : undefined,
        yamlDefault: "",
        defaultText: "local: required when poolerEnabled; hosted: from the API",
    })
    // Its declared default is the transaction pooler's port: that one is no copy.
    .add("poolerPort", fromApi("poolerPort", port, String(TRANSACTION_POOLER_PORT)), {
        type: "integer",
        doc: "Local mode: transaction pooler port (hosted: from the Management API).",
        default: TRANSACTION_POOLER_PORT,
    })
    .add("poolerUser", fromApi("poolerUser", identifier), {
        type: "string",
        optional: true,
        doc: "Local mode: pooler user (hosted: from the Management API).",
        default: (s) => (s.supabaseMode === "hosted" ? s.supabaseProjectRef && `postgres.${s.supabaseProjectRef}` : "postgres"),
        yamlDefault: "",
        defaultText: "local: postgres; hosted: from the API",
    })
    .group("The hosted project (Management API; docs/hosted-project.md)")
    .add("supabaseApiUrl", managementUrl, {
        type: "string",
        doc: "Supabase Management API base URL (https; http only on loopback, for tests).",
        default: DEFAULT_MANAGEMENT_API_URL,
    })
    .add("databaseSslEnforced", boolean, {
        type: "boolean",
        doc: "Hosted: the project refuses database connections without TLS (required in prod).",
        default: true,
        check: (on, s) => (s.environment === "prod" && !on ? "must be true in prod: the guide requires TLS to the database" : undefined),
    })
    .add("databaseAllowAll", boolean, {
        type: "boolean",
        doc: "Confirms 0.0.0.0/0 or ::/0 in databaseAllowedCidrs in prod.",
        default: false,
    })
    .add("databaseAllowedCidrs", allowedCidrs, {
        type: "string",
        doc: "Hosted: comma-separated IPv4 and IPv6 CIDRs allowed to reach Postgres and the pooler (not the HTTPS API); `none` blocks every address.",
        optional: true,
        required: (s) =>
            s.supabaseMode === "hosted"
                ? "is required when supabaseMode is hosted: the networks allowed to reach the database, e.g. 203.0.113.0/24,2001:db8::/48 (`none` blocks every address)"
                : undefined,
        yamlDefault: "",
        defaultText: "required when hosted",
        check: (cidrs, s) =>
            s.environment === "prod" && allowsAll(cidrs) && !s.databaseAllowAll
                ? "opens the database to every address (0.0.0.0/0 or ::/0): refused in prod unless databaseAllowAll is true"
                : undefined,
    })
    .add("supabaseLegacyKeysEnabled", boolean, {
        type: "boolean",
        doc: "Hosted: keep the legacy anon/service_role keys and the readable JWT secret; false once nothing uses them (docs/hosted-project.md).",
        default: true,
    })
    .add("supabasePitr", oneOf(PITR_SETTINGS), {
        type: "string",
        doc: `Hosted: point-in-time recovery add-on, ${PITR_VARIANTS.join(", ")} (days of recovery) or off; needs a Pro plan or above and compute Small or larger (docs/hosted-project.md). Unset: left as it is.`,
        optional: true,
        undeclared: true,
        defaultText: "left alone",
        check: (variant, s) => {
            if (s.supabaseMode !== "hosted")
                return "is only used when supabaseMode is hosted: remove it with `pulumi config rm supabasePitr`";
            if (variant === "off") return undefined;
            // A size in config is the size PITR gets; an adopted project without one is checked against the API before any change.
            const size = s.supabaseInstanceSize;
            if (size === undefined ? creating(s) : (SIZES_WITHOUT_PITR as readonly string[]).includes(size))
                return `needs compute Small or larger, and supabaseInstanceSize is ${size ?? "unset (the organization's default, Micro or Nano)"}: set \`pulumi config set supabaseInstanceSize small\` (or larger), or supabasePitr off`;
            return undefined;
        },
    })
    .add(
        "supabaseReadReplicas",
        (raw) => {
            const r = parseReplicaRegions(raw);
            return r.ok ? ok(r.regions) : bad<string[]>(r.problem);
        },
        {
            type: "string",
            doc: "Hosted: read replicas, one per region (comma-separated regions), or none; compute Small or larger, at most 2 below xlarge and 5 from it. Unset: left as they are.",
            optional: true,
            undeclared: true,
            defaultText: "left alone",
            check: (regions, s) => {
                if (s.supabaseMode !== "hosted")
                    return "is only used when supabaseMode is hosted: remove it with `pulumi config rm supabaseReadReplicas`";
                // Without a size in config, the provider checks the compute the API reports before any change.
                return s.supabaseInstanceSize === undefined ? undefined : replicaCountRefusal(regions.length, s.supabaseInstanceSize);
            },
        },
    )
    .add("authSiteUrl", httpUrl(false), {
        type: "string",
        doc: "Hosted: auth site_url, set only if given.",
        optional: true,
        undeclared: true,
        defaultText: "left alone",
    })
    .add("authUriAllowList", (raw) => ok(raw), {
        type: "string",
        doc: "Hosted: auth uri_allow_list (comma-separated redirect URLs), set only if given.",
        optional: true,
        undeclared: true,
        defaultText: "left alone",
    })
    .add("authJwtExp", integer(60, 604800), {
        type: "integer",
        doc: "Hosted: auth jwt_exp in seconds (60-604800), set only if given.",
        optional: true,
        undeclared: true,
        defaultText: "left alone",
    })
    .add("authDisableSignup", boolean, {
        type: "boolean",
        doc: "Hosted: auth disable_signup, set only if given.",
        optional: true,
        undeclared: true,
        defaultText: "left alone",
    });
