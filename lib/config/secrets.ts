/**
 * The secret settings, last: set with `pulumi config set --secret`, never echoed in an error, and handed
 * to the program only as secret Outputs (see loadStackConfig).
 */
import { ACCESS_TOKEN_PATTERN } from "../supabase/client";
import type { Tools } from "./schema";
import { serviceSettings } from "./services";

/** Settings of earlier versions, refused with what replaced them. */
export const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
    supabaseAnonKey:
        "is no longer used: the publishable key comes from the Management API (supabaseAccessToken); remove it with `pulumi config rm supabaseAnonKey`",
    supabaseServiceRoleKey:
        "is no longer used: each consumer gets a secret key from the Management API (supabaseAccessToken); remove it with `pulumi config rm supabaseServiceRoleKey`",
    supabaseJwtSecret:
        "is no longer used: the legacy JWT secret is read from the Management API while supabaseLegacyKeysEnabled is true; remove it with `pulumi config rm supabaseJwtSecret`",
};

/** The registry login: both with registryAddress, neither without it. */
const registryLogin = (key: string, doc: string) => ({
    doc,
    defaultText: "required with registryAddress (secret)",
    undeclared: true,
    required: (s: { registryAddress?: string }) =>
        s.registryAddress
            ? `is required when registryAddress is set: set it with \`pulumi config set --secret ${key} <value>\``
            : undefined,
    // A registryAddress that is set but invalid has its own problem.
    check: (_: string, s: { registryAddress?: string }, tools: Tools) =>
        s.registryAddress || tools.given("registryAddress") !== undefined
            ? undefined
            : "is used only with registryAddress: set registryAddress (e.g. ghcr.io) or remove this setting",
});

export const secretSettings = serviceSettings
    .group("Secrets (set with `pulumi config set --secret`)")
    .secret("vaultToken", {
        doc: "Vault token the program uses to write secrets and policies.",
        defaultText: "required (secret)",
        required: "is required: set it with `pulumi config set --secret vaultToken <token>`",
    })
    .secret("supabaseAccessToken", {
        doc: "Supabase personal access token (sbp_...) the program manages the hosted project with; never logged or output.",
        defaultText: "required when hosted (secret)",
        undeclared: true,
        appliesWhen: (s) => s.supabaseMode === "hosted",
        required:
            "is required when supabaseMode is hosted: make a personal access token (docs/hosted-project.md) and set it with `pulumi config set --secret supabaseAccessToken <token>`",
        check: (v) =>
            ACCESS_TOKEN_PATTERN.test(v) ? undefined : "must be a Supabase personal access token: sbp_ followed by 40 hex digits",
    })
    .secret(
        "registryUsername",
        registryLogin(
            "registryUsername",
            "User the docker provider pulls from registryAddress as (GHCR: the account or bot that owns the token).",
        ),
    )
    .secret(
        "registryPassword",
        registryLogin("registryPassword", "Password or token for registryAddress (GHCR: a token with read:packages only)."),
    )
    .secret("databaseBootstrapPassword", {
        doc: "The database role's current password, for the first deployment only: the program logs in with it once to set the generated password (local `supabase start`: postgres).",
        defaultText: "optional (secret)",
        undeclared: true,
    });
