/**
 * The secret settings, last: set with `pulumi config set --secret`, never echoed in an error, and handed
 * to the program only as secret Outputs (see loadStackConfig).
 */
import { serviceSettings } from "./services";

const secretHint = (key: string) => `set it with \`pulumi config set --secret ${key} <value>\``;

export const secretSettings = serviceSettings
    .secret("vaultToken", {
        doc: "Vault token the program uses to write secrets and policies.",
        defaultText: "required (secret)",
        required: "is required: set it with `pulumi config set --secret vaultToken <token>`",
    })
    .secret("supabaseAnonKey", {
        doc: "Hosted project's anon key.",
        defaultText: "required when hosted (secret)",
        undeclared: true,
        appliesWhen: (s) => s.supabaseMode === "hosted",
        required: `is required when supabaseMode is hosted: ${secretHint("supabaseAnonKey")}`,
    })
    .secret("supabaseServiceRoleKey", {
        doc: "Hosted project's service_role key.",
        defaultText: "required when hosted (secret)",
        undeclared: true,
        appliesWhen: (s) => s.supabaseMode === "hosted",
        required: `is required when supabaseMode is hosted: ${secretHint("supabaseServiceRoleKey")}`,
    })
    .secret("supabaseJwtSecret", {
        doc: "Hosted project's JWT secret (at least 32 characters).",
        defaultText: "required when hosted (secret)",
        undeclared: true,
        appliesWhen: (s) => s.supabaseMode === "hosted",
        required: `is required when supabaseMode is hosted: ${secretHint("supabaseJwtSecret")}`,
        check: (v) => (v.length < 32 ? "must be at least 32 characters (PostgREST rejects shorter secrets)" : undefined),
    })
    .secret("databaseBootstrapPassword", {
        doc: "The database role's current password, for the first deployment only: the program logs in with it once to set the generated password (local `supabase start`: postgres).",
        defaultText: "optional (secret)",
        undeclared: true,
    });
