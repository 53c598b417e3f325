/**
 * The Supabase Management API client: openapi-fetch typed by `management-api.d.ts` (generated
 * from openapi.json with `npm run generate:management-api`), behind a fetch that adds what the
 * API's users need and the API does not give: a timeout on every call, 429 retried after
 * X-RateLimit-Reset, 5xx and timeouts retried with bounded backoff on idempotent calls only, and
 * errors that name the setting to fix and never carry the token or a key.
 *
 * Dynamic providers capture this module when Pulumi serializes them: it holds no secret. The
 * token is an argument of `managementClient`, given at call time from the resource's secret input.
 */
import createClient from "openapi-fetch";
import type { paths } from "./management-api";

/** The public API host (the CLI's default); `supabaseApiUrl` replaces it for staging and tests. */
export const DEFAULT_MANAGEMENT_API_URL = "https://api.supabase.com";

/** A personal access token's shape, as the CLI and the Terraform provider check it before any request. */
export const ACCESS_TOKEN_PATTERN = /^sbp_(oauth_)?[a-f0-9]{40}$/;

/** Permissions of a scoped token, per operation we call (the spec's `fga_permissions`). */
export const PERMISSIONS: Record<string, string> = {
    "GET /v1/projects/{ref}": "project_admin_read",
    "POST /v1/projects": "organization_projects_create",
    "GET /v1/projects/{ref}/api-keys": "api_gateway_keys_read",
    "POST /v1/projects/{ref}/api-keys": "api_gateway_keys_write",
    "GET /v1/projects/{ref}/api-keys/{id}": "api_gateway_keys_read",
    "DELETE /v1/projects/{ref}/api-keys/{id}": "api_gateway_keys_write",
    "GET /v1/projects/{ref}/api-keys/legacy": "api_gateway_keys_read",
    "PUT /v1/projects/{ref}/api-keys/legacy": "api_gateway_keys_write",
    "GET /v1/projects/{ref}/network-restrictions": "database_network_restrictions_read",
    "POST /v1/projects/{ref}/network-restrictions/apply": "database_network_restrictions_write",
    "GET /v1/projects/{ref}/ssl-enforcement": "database_ssl_config_read",
    "PUT /v1/projects/{ref}/ssl-enforcement": "database_ssl_config_write",
    "GET /v1/projects/{ref}/config/database/pooler": "database_pooling_config_read",
    "PATCH /v1/projects/{ref}/config/database/pooler": "database_pooling_config_write",
    "GET /v1/projects/{ref}/config/auth": "auth_config_read",
    "PATCH /v1/projects/{ref}/config/auth": "auth_config_write and project_admin_write",
    "GET /v1/projects/{ref}/postgrest": "data_api_config_read",
};

export interface ClientOptions {
    baseUrl: string;
    /** The personal access token (supabaseAccessToken). */
    token: string;
    /** Per attempt (default 30 s). */
    timeoutMs?: number;
    /** Attempts of an idempotent call on 5xx or timeout, and of any call on 429 (default 3). */
    attempts?: number;
    /** Longest wait for a rate-limit reset (default 60 s: the API's window is a minute). */
    maxRateLimitWaitMs?: number;
    /** First backoff after a 5xx or timeout, doubled each time (default 1 s). */
    backoffMs?: number;
    /** Replaceable for tests. */
    sleep?: (ms: number) => Promise<void>;
}

export class ManagementApiError extends Error {
    constructor(
        message: string,
        readonly status: number | undefined,
        readonly operation: string,
    ) {
        super(message);
        this.name = "ManagementApiError";
    }
}

/**
 * Methods that may be sent again after a 5xx or timeout: the repeat has the same effect. An array,
 * not a Set: Pulumi's closure serialization loses a Set's contents (test/supabase-management-program.test.ts).
 */
const IDEMPOTENT = ["GET", "HEAD", "PUT", "DELETE"];

const SECRET_SHAPES = [/sbp_(oauth_)?[a-f0-9]{8,}/g, /sb_(secret|publishable)_[\w-]+/g, /eyJ[\w-]+\.[\w-]+\.[\w-]+/g];

/** Removes anything shaped like a token or key from text that came from the server. */
export function scrub(text: string, extra: readonly string[] = []): string {
    let out = text;
    for (const value of extra) if (value.length >= 8) out = out.split(value).join("[redacted]");
    for (const shape of SECRET_SHAPES) out = out.replace(shape, "[redacted]");
    return out.length > 300 ? `${out.slice(0, 300)}...` : out;
}

/** "GET /v1/projects/{ref}/api-keys/{id}" from a concrete URL, so that errors name the operation, not ids. */
export function operationOf(method: string, url: string): string {
    const path = new URL(url).pathname
        .replace(/^(.*?)(\/v1\/)/, "$2")
        .replace(/^\/v1\/projects\/[a-z]{20}/, "/v1/projects/{ref}")
        .replace(/\/api-keys\/(?!legacy$)[^/]+$/, "/api-keys/{id}");
    return `${method} ${path}`;
}

async function messageOf(response: Response): Promise<string> {
    try {
        const body = (await response.clone().json()) as { message?: unknown };
        return typeof body?.message === "string" ? body.message : "";
    } catch {
        return "";
    }
}

/** How long a 429 asks us to wait: X-RateLimit-Reset (seconds), else Retry-After, else a minute. */
export function rateLimitWaitMs(headers: Headers, cap: number): number {
    const raw = headers.get("x-ratelimit-reset") ?? headers.get("retry-after");
    const seconds = raw === null ? 60 : Number(raw);
    return Math.min(cap, Math.max(0, Number.isFinite(seconds) ? seconds * 1000 : 60_000));
}

/** A fetch with timeouts, bounded retries and clear errors (see the module comment). */
export function resilientFetch(options: ClientOptions): (request: Request) => Promise<Response> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const attempts = Math.max(1, options.attempts ?? 3);
    const maxWait = options.maxRateLimitWaitMs ?? 60_000;
    const backoff = options.backoffMs ?? 1000;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    return async (request: Request) => {
        const operation = operationOf(request.method, request.url);
        const body = request.body ? await request.clone().arrayBuffer() : undefined;
        const retriable = IDEMPOTENT.includes(request.method);
        let last = "";
        for (let attempt = 1; attempt <= attempts; attempt++) {
            let response: Response;
            try {
                response = await fetch(request.url, {
                    method: request.method,
                    headers: request.headers,
                    body,
                    signal: AbortSignal.timeout(timeoutMs),
                });
            } catch (e) {
                const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
                last = timedOut
                    ? `no answer within ${timeoutMs / 1000} s`
                    : `could not connect (${e instanceof Error ? scrub(e.message, [options.token]) : "network error"})`;
                // A mutating call that timed out may have been applied: never send it again blindly.
                if (!retriable) break;
                if (attempt < attempts) await sleep(backoff * 2 ** (attempt - 1));
                continue;
            }
            if (response.status === 429) {
                // Refused before any effect: safe to repeat for every method.
                last = "rate limited (429)";
                if (attempt < attempts) {
                    await sleep(rateLimitWaitMs(response.headers, maxWait));
                    continue;
                }
                break;
            }
            if (response.status === 401 || response.status === 403) {
                const permission = PERMISSIONS[operation];
                const what =
                    response.status === 401
                        ? "is not valid (expired, revoked or mistyped)"
                        : `lacks a permission${permission ? ` (${permission})` : ""}`;
                throw new ManagementApiError(
                    `Supabase Management API refused ${operation} (${response.status}): the access token in toolboxai:supabaseAccessToken ${what}. ` +
                        `Make a token at https://supabase.com/dashboard/account/tokens${permission ? ` with ${permission}` : ""} and set it with \`pulumi config set --secret supabaseAccessToken <token>\`.`,
                    response.status,
                    operation,
                );
            }
            if (response.status >= 500) {
                last = `server error ${response.status}${(await messageOf(response)) ? `: ${scrub(await messageOf(response), [options.token])}` : ""}`;
                if (!retriable) break;
                if (attempt < attempts) {
                    await sleep(backoff * 2 ** (attempt - 1));
                    continue;
                }
                break;
            }
            return response;
        }
        const note = retriable
            ? `after ${attempts} attempts`
            : "not retried, because it changes the project: check its state before running again";
        throw new ManagementApiError(
            `Supabase Management API ${operation} failed ${note}: ${last}. Check ${new URL(request.url).origin} (toolboxai:supabaseApiUrl) and Supabase's status page.`,
            undefined,
            operation,
        );
    };
}

export type ManagementClient = ReturnType<typeof createClient<paths>>;

export function managementClient(options: ClientOptions): ManagementClient {
    return createClient<paths>({
        baseUrl: options.baseUrl.replace(/\/+$/, ""),
        headers: { Authorization: `Bearer ${options.token}` },
        fetch: resilientFetch(options),
    });
}

/** Turns an openapi-fetch result into its data, or a clear error for a status other than 401/403/429/5xx. */
export function unwrap<T>(operation: string, result: { data?: T; error?: unknown; response: Response }, token: string): T {
    if (result.error !== undefined || result.data === undefined) {
        const body = result.error as { message?: unknown } | undefined;
        const message = typeof body?.message === "string" ? `: ${scrub(body.message, [token])}` : "";
        throw new ManagementApiError(
            `Supabase Management API ${operation} answered ${result.response.status}${message}`,
            result.response.status,
            operation,
        );
    }
    return result.data;
}
