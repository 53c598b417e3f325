/** Supabase and its database: the project, the direct connection, TLS and the transaction pooler. */
import { LOCAL_SUPABASE, TRANSACTION_POOLER_PORT } from "../constants";
import { environmentSettings } from "./environment";
import { boolean, caCertificate, hostname, httpUrl, identifier, integer, oneOf, port, projectRef } from "./parsers";

export const SUPABASE_MODES = ["local", "hosted"] as const;
export type SupabaseMode = (typeof SUPABASE_MODES)[number];
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
const ENCRYPTED_SSL_MODES: readonly SslMode[] = ["require", "verify-ca", "verify-full"];

export const supabaseSettings = environmentSettings
    .group("Supabase and the database")
    .add("supabaseMode", oneOf(SUPABASE_MODES), {
        type: "string",
        doc: "local (`supabase start`, keys generated) or hosted (supabase.com project, keys from secret config). prod must be hosted.",
        default: (s) => (s.environment === "prod" ? "hosted" : "local"),
        defaultText: "hosted in prod, else local",
        check: (mode, s) => (s.environment === "prod" && mode === "local" ? "must be hosted when environment is prod" : undefined),
    })
    // Defaults derived from the ref stay unset while the ref is missing: its own problem says so.
    .add("supabaseProjectRef", projectRef, {
        type: "string",
        doc: "Hosted project ref (20 lowercase letters).",
        optional: true,
        required: (s) => (s.supabaseMode === "hosted" ? "is required when supabaseMode is hosted: the 20-letter project ref" : undefined),
        yamlDefault: "",
        defaultText: "required when hosted",
    })
    .add("supabaseUrl", (raw, s) => httpUrl(s.supabaseMode === "hosted")(raw), {
        type: "string",
        doc: "Supabase API URL.",
        default: (s) =>
            s.supabaseMode === "hosted" ? s.supabaseProjectRef && `https://${s.supabaseProjectRef}.supabase.co` : LOCAL_SUPABASE.apiUrl,
        yamlDefault: "",
        defaultText: `local: ${LOCAL_SUPABASE.apiUrl}; hosted: https://<ref>.supabase.co`,
    })
    .add("supabaseDbHost", hostname, {
        type: "string",
        doc: "Direct database host (migrations and backups use it, never the pooler).",
        default: (s) =>
            s.supabaseMode === "hosted" ? s.supabaseProjectRef && `db.${s.supabaseProjectRef}.supabase.co` : LOCAL_SUPABASE.dbHost,
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
    .add("databasePoolSize", integer(1, 1000), { type: "integer", doc: "Application connection pool size (1-1000).", default: 20 })
    .add("poolerEnabled", boolean, {
        type: "boolean",
        doc: "Applications connect through the transaction pooler.",
        default: (s) => s.supabaseMode === "hosted",
        defaultText: "hosted: true; local: false",
    })
    .add("poolerHost", hostname, {
        type: "string",
        doc: "Transaction pooler host, from the dashboard (never derived from the ref).",
        optional: true,
        required: (s) => (s.poolerEnabled ? "is required when poolerEnabled is true: copy the pooler host from the dashboard" : undefined),
        yamlDefault: "",
        defaultText: "required when poolerEnabled",
    })
    .add("poolerPort", port, { type: "integer", doc: "Transaction pooler port.", default: TRANSACTION_POOLER_PORT })
    .add("poolerUser", identifier, {
        type: "string",
        doc: "Pooler user.",
        default: (s) => (s.supabaseMode === "hosted" ? s.supabaseProjectRef && `postgres.${s.supabaseProjectRef}` : "postgres"),
        yamlDefault: "",
        defaultText: "hosted: postgres.<ref>; local: postgres",
    });
