/**
 * The secret settings, last: set with `pulumi config set --secret`, never echoed in an error, and handed
 * to the program only as secret Outputs (see loadStackConfig).
 */
import { serviceSettings } from "./services";

/** A key the hosted project issues: needed in hosted mode only, ignored in local mode (the program generates its own). */
const hostedKey = (key: string, doc: string) => ({
    doc,
    defaultText: "required when hosted (secret)",
    undeclared: true,
    appliesWhen: (s: { supabaseMode?: string }) => s.supabaseMode === "hosted",
    required: `is required when supabaseMode is hosted: set it with \`pulumi config set --secret ${key} <value>\``,
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
    .secret("databaseBootstrapPassword", {
        doc: "The database role's current password, for the first deployment only: the program logs in with it once to set the generated password (local `supabase start`: postgres).",
        defaultText: "optional (secret)",
        undeclared: true,
    });
