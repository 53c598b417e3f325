/**
 * The secret settings, last: set with `pulumi config set --secret`, never echoed in an error, and handed
 * to the program only as secret Outputs (see loadStackConfig).
 */
import type { Tools } from "./schema";
import { serviceSettings } from "./services";

/** A key the hosted project issues: needed in hosted mode only, ignored in local mode (the program generates its own). */
const hostedKey = (key: string, doc: string) => ({
    doc,
    defaultText: "required when hosted (secret)",
    undeclared: true,
    appliesWhen: (s: { supabaseMode?: string }) => s.supabaseMode === "hosted",
    required: `is required when supabaseMode is hosted: set it with \`pulumi config set --secret ${key} <value>\``,
});

/** The registry login: both with registryAddress, neither without it. */
const registryLogin = (key: string, doc: string) => ({
    doc,
    defaultText: "required with registryAddress (secret)",
    undeclared: true,
    required: (s: { registryAddress?: string }) => (s.registryAddress ? `is required when registryAddress is set: set it with \`pulumi config set --secret ${key} <value>\`` : undefined),
    // A registryAddress that is set but invalid has its own problem.
    check: (_: string, s: { registryAddress?: string }, tools: Tools) =>
        s.registryAddress || tools.given("registryAddress") !== undefined ? undefined : "is used only with registryAddress: set registryAddress (e.g. ghcr.io) or remove this setting",
});

export const secretSettings = serviceSettings
    .group("Secrets (set with `pulumi config set --secret`)")
    .secret("vaultToken", {
        doc: "Vault token the program uses to write secrets and policies.",
        defaultText: "required (secret)",
        required: "is required: set it with `pulumi config set --secret vaultToken <token>`",
    })
    .secret("supabaseAnonKey", hostedKey("supabaseAnonKey", "Hosted project's anon key."))
    .secret("supabaseServiceRoleKey", hostedKey("supabaseServiceRoleKey", "Hosted project's service_role key."))
    .secret("supabaseJwtSecret", {
        ...hostedKey("supabaseJwtSecret", "Hosted project's JWT secret (at least 32 characters)."),
        check: (v) => (v.length < 32 ? "must be at least 32 characters (PostgREST rejects shorter secrets)" : undefined),
    })
    .secret("registryUsername", registryLogin("registryUsername", "User the docker provider pulls from registryAddress as (GHCR: the account or bot that owns the token)."))
    .secret("registryPassword", registryLogin("registryPassword", "Password or token for registryAddress (GHCR: a token with read:packages only)."))
    .secret("databaseBootstrapPassword", {
        doc: "The database role's current password, for the first deployment only: the program logs in with it once to set the generated password (local `supabase start`: postgres).",
        defaultText: "optional (secret)",
        undeclared: true,
    });
