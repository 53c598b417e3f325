/**
 * doctor's hosted-project group, through the Supabase Management API: SSL enforcement is on, the
 * network restrictions are applied and equal the stack's `databaseAllowedCidrs`, and the legacy
 * anon/service_role keys' state. It only reads (GET); the token is never printed.
 */
import { ACCESS_TOKEN_PATTERN, managementClient, ManagementApiError, unwrap, type ManagementClient } from "../lib/supabase/client";
import { advisorChecks } from "../lib/ops/advisors";
import { compareRestrictions, describeCidrs } from "../lib/ops/hosted";
import { readReplicasOf, recoveryCheck } from "../lib/ops/pitr";
import type { CheckResult } from "../lib/ops/rules";
import type { Context } from "./context";

type Check = Omit<CheckResult, "group">;

const LEGACY_MIGRATION = 'docs/hosted-project.md, section "Migrating off the legacy keys and the JWT secret"';

/** The one error for a refused token: which token, and how to make one that works. */
function tokenFix(source: string, status: number | undefined, operation: string): Check {
    const what = status === 401 ? "is not valid (expired, revoked or mistyped)" : `lacks a permission this check needs (${operation})`;
    return {
        name: "access token",
        status: "fail",
        evidence: `the Management API refused the token from ${source} (${status}): it ${what}`,
        fix:
            "make a token at https://supabase.com/dashboard/account/tokens (scoped tokens need project_admin_read, database_ssl_config_read, " +
            "database_network_restrictions_read, api_gateway_keys_read, backups_read, database_pooling_config_read, advisors_read) and export it as SUPABASE_ACCESS_TOKEN, or put it in the file --access-token-file names",
    };
}

export async function hostedChecks(ctx: Context, options: { timeoutMs?: number; backoffMs?: number } = {}): Promise<Check[]> {
    if (!ctx.hosted) return [{ name: "Management API checks", status: "skip", evidence: ctx.hostedSkipReason ?? "no hosted project" }];
    const h = ctx.hosted;
    if (!h.token)
        return [
            {
                name: "access token",
                status: "fail",
                evidence: `project ${h.ref} is hosted, but no Management API token was given`,
                fix: "export SUPABASE_ACCESS_TOKEN (a personal access token, sbp_...), or pass --access-token-file <file>; never the token itself as a flag",
            },
        ];
    if (!ACCESS_TOKEN_PATTERN.test(h.token))
        return [
            {
                name: "access token",
                status: "fail",
                evidence: `the token from ${h.tokenSource} is not shaped like a personal access token (sbp_ and 40 hex digits)`,
                fix: "copy the whole token from https://supabase.com/dashboard/account/tokens (a project's API key or JWT is not a Management API token)",
            },
        ];
    const token = h.token;
    const client: ManagementClient = managementClient({
        baseUrl: h.apiUrl,
        token,
        timeoutMs: options.timeoutMs ?? 15_000,
        attempts: 3,
        backoffMs: options.backoffMs ?? 1000,
        maxRateLimitWaitMs: 30_000,
    });
    const path = { params: { path: { ref: h.ref } } };
    const out: Check[] = [];
    /** Runs one check; a refused token ends the group with the one token error. */
    const step = async (name: string, run: () => Promise<Check>): Promise<boolean> => {
        try {
            out.push(await run());
            return true;
        } catch (err) {
            if (err instanceof ManagementApiError && (err.status === 401 || err.status === 403)) {
                out.push(tokenFix(h.tokenSource, err.status, err.operation));
                return false;
            }
            // The client's errors carry no token (scrubbed) and name what to check.
            out.push({
                name,
                status: "fail",
                evidence: `project ${h.ref} at ${h.apiUrl}: ${(err as Error).message}`,
                fix:
                    err instanceof ManagementApiError && err.status === 404
                        ? "no such project for this token: check --project-ref (or the stack's supabaseProjectRef) and that the token's account owns it"
                        : "check --management-api-url (or the stack's supabaseApiUrl), this machine's network, and Supabase's status page",
            });
            return true;
        }
    };

    const go =
        (await step("SSL enforcement", async () => {
            const op = "GET /v1/projects/{ref}/ssl-enforcement";
            const r = unwrap(op, await client.GET("/v1/projects/{ref}/ssl-enforcement", path), token);
            if (!r.currentConfig.database)
                return {
                    name: "SSL enforcement",
                    status: "fail",
                    evidence: `off on project ${h.ref}: the database accepts unencrypted connections`,
                    fix: "`pulumi config set databaseSslEnforced true` and `pulumi up` (prod requires it); or the dashboard's Database settings, Enforce SSL",
                };
            return r.appliedSuccessfully
                ? { name: "SSL enforcement", status: "pass", evidence: `on for the database of project ${h.ref}` }
                : {
                      name: "SSL enforcement",
                      status: "warn",
                      evidence: `requested on for project ${h.ref}, but the API says it was not applied successfully`,
                      fix: "run `pulumi up` again (it re-applies it); if it stays so, ask Supabase support",
                  };
        })) &&
        (await step("network restrictions", async () => {
            const op = "GET /v1/projects/{ref}/network-restrictions";
            const r = unwrap(op, await client.GET("/v1/projects/{ref}/network-restrictions", path), token);
            const c = compareRestrictions(r.config, h.expectedCidrs);
            const have = describeCidrs(c.actual);
            if (r.entitlement === "disallowed")
                return {
                    name: "network restrictions",
                    status: "warn",
                    evidence: `the project's plan does not allow network restrictions; every address may connect (${have})`,
                    fix: "network restrictions need a plan that includes them; until then rely on SSL enforcement and strong passwords",
                };
            if (r.status !== "applied")
                return {
                    name: "network restrictions",
                    status: "fail",
                    evidence: `stored but not applied yet (status ${r.status}): ${have}`,
                    fix: "they apply within minutes: run doctor again; if they stay stored, run `pulumi up` (it applies them again)",
                };
            if (c.missing.length || c.extra.length)
                return {
                    name: "network restrictions",
                    status: "fail",
                    evidence: [
                        `project ${h.ref} allows ${have}, the stack's databaseAllowedCidrs ${describeCidrs(h.expectedCidrs!)}`,
                        c.missing.length ? `missing: ${c.missing.join(", ")}` : "",
                        c.extra.length ? `not in the stack: ${c.extra.join(", ")}` : "",
                    ]
                        .filter(Boolean)
                        .join("; "),
                    fix: "someone changed them outside the program (dashboard, CLI): run `pulumi up` to apply databaseAllowedCidrs again, or put the change into databaseAllowedCidrs first if it was meant",
                };
            const compared = h.expectedCidrs
                ? "equal to the stack's databaseAllowedCidrs"
                : "the stack's expectation is unknown (no stack outputs), so reported only";
            if (c.allowsAll)
                return {
                    name: "network restrictions",
                    status: "warn",
                    evidence: `applied, ${have}: every address may connect (${compared})`,
                    fix: "list only the networks that connect (the runtime's egress, the operators'): `pulumi config set databaseAllowedCidrs <cidrs>` and `pulumi up`",
                };
            return { name: "network restrictions", status: "pass", evidence: `applied, ${have} (${compared})` };
        }));
    if (!go) return out;

    await step("legacy keys", async () => {
        const op = "GET /v1/projects/{ref}/api-keys/legacy";
        const r = unwrap(op, await client.GET("/v1/projects/{ref}/api-keys/legacy", path), token);
        const state = r.enabled ? "enabled" : "disabled";
        if (h.expectedLegacyKeys !== undefined && h.expectedLegacyKeys !== r.enabled)
            return {
                name: "legacy keys",
                status: "fail",
                evidence: `${state} on project ${h.ref}, but the stack's supabaseLegacyKeysEnabled is ${h.expectedLegacyKeys}`,
                fix: `someone switched them outside the program: run \`pulumi up\` to restore the stack's setting, or change supabaseLegacyKeysEnabled first if it was meant (${LEGACY_MIGRATION})`,
            };
        return r.enabled
            ? {
                  name: "legacy keys",
                  status: "warn",
                  evidence: `enabled on project ${h.ref}: the legacy anon/service_role keys and the shared JWT secret still work, and Supabase no longer rotates them`,
                  fix: `migrate clients to the publishable and secret keys and JWT verification to JWKS, then \`pulumi config set supabaseLegacyKeysEnabled false\` and \`pulumi up\`: ${LEGACY_MIGRATION}`,
              }
            : { name: "legacy keys", status: "pass", evidence: `disabled on project ${h.ref}: only publishable and secret keys work` };
    });
    await recoveryChecks(client, h.ref, token, step, out);
    return out;
}

/** PITR and its latest recovery point, the read replicas, and the security and performance advisors. */
async function recoveryChecks(
    client: ManagementClient,
    ref: string,
    token: string,
    step: (name: string, run: () => Promise<Check>) => Promise<boolean>,
    out: Check[],
): Promise<void> {
    const path = { params: { path: { ref } } };
    const go = await step("point-in-time recovery", async () => {
        const r = unwrap("GET /v1/projects/{ref}/database/backups", await client.GET("/v1/projects/{ref}/database/backups", path), token);
        return recoveryCheck(r, Math.floor(Date.now() / 1000));
    });
    if (!go) return;
    await step("read replicas", async () => {
        const pooler = unwrap(
            "GET /v1/projects/{ref}/config/database/pooler",
            await client.GET("/v1/projects/{ref}/config/database/pooler", path),
            token,
        );
        const replicas = readReplicasOf(pooler);
        return {
            name: "read replicas",
            status: "pass",
            evidence: replicas.length ? `${replicas.length}: ${replicas.join(", ")}` : "none",
        };
    });
    for (const kind of ["security", "performance"] as const) {
        // One step for the call; its lints become one check each.
        let checks: Check[] = [];
        const ok = await step(`${kind} advisors`, async () => {
            const r = unwrap(
                `GET /v1/projects/{ref}/advisors/${kind}`,
                kind === "security"
                    ? await client.GET("/v1/projects/{ref}/advisors/security", path)
                    : await client.GET("/v1/projects/{ref}/advisors/performance", path),
                token,
            );
            checks = advisorChecks(kind, r.lints);
            return checks[0];
        });
        if (!ok) return;
        out.push(...checks.slice(1));
    }
}
