/**
 * The Supabase Management API client: openapi-fetch typed by `management-api.d.ts` (generated
 * from openapi.json with `npm run generate:management-api`), behind a fetch that adds what the
 * API's users need and the API does not give: a timeout on every attempt (headers and body), 429
 * retried after X-RateLimit-Reset, 5xx, timeouts and broken bodies retried with bounded backoff on
 * idempotent calls only, an optional deadline that bounds all of it, a 2xx body checked to be JSON,
 * and errors that name the call and the setting to fix and never carry the token or a key.
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
    "PATCH /v1/projects/{ref}/api-keys/{id}": "api_gateway_keys_write",
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
    "GET /v1/projects/{ref}/billing/addons": "infra_add_ons_read",
    "PATCH /v1/projects/{ref}/billing/addons": "infra_add_ons_write",
    "DELETE /v1/projects/{ref}/billing/addons/{addon_variant}": "infra_add_ons_write",
    "GET /v1/organizations/{slug}/entitlements": "organization_admin_read",
};

export interface ClientOptions {
    baseUrl: string;
    /** The personal access token (supabaseAccessToken). */
    token: string;
    /** Per attempt, headers and body together (default 30 s). */
    timeoutMs?: number;
    /** Attempts of an idempotent call on 5xx, timeout or a broken body, and of any call on 429 (default 3). */
    attempts?: number;
    /** Longest wait for a rate-limit reset (default 60 s: the API's window is a minute). */
    maxRateLimitWaitMs?: number;
    /** First backoff after a 5xx or timeout, doubled each time (default 1 s). */
    backoffMs?: number;
    /**
     * The caller's deadline (epoch ms): every attempt's timeout, backoff and rate-limit wait shrink
     * to what is left of it, and no attempt starts after it.
     */
    deadline?: number;
    /** Replaceable for tests. */
    sleep?: (ms: number) => Promise<void>;
}

export class ManagementApiError extends Error {
    constructor(
        message: string,
        readonly status: number | undefined,
        readonly operation: string,
        /** The call stopped because the caller's deadline (ClientOptions.deadline) left no time for another attempt. */
        readonly deadlineReached = false,
    ) {
        super(message);
        // Pulumi's closure serializer turns this class into a function that calls Error without
        // `new`, which sets nothing on `this`: without these lines the engine would show no message.
        this.message = message;
        this.name = "ManagementApiError";
        Error.captureStackTrace?.(this, ManagementApiError);
    }

    // A method of its own makes the serializer keep the prototype chain (instanceof Error, `${error}`).
    toString(): string {
        return `${this.name}: ${this.message}`;
    }
}

/**
 * Methods that may be sent again after a 5xx or timeout: the repeat has the same effect. An array,
 * not a Set: Pulumi's closure serialization loses a Set's contents (test/supabase-management-program.test.ts).
 */
const IDEMPOTENT = ["GET", "HEAD", "PUT", "DELETE"];

/** The settings that choose the API host: the stack's, and the ops tool's flag. */
export const API_URL_SETTING = "toolboxai:supabaseApiUrl, or the ops tool's --management-api-url";

const SECRET_SHAPES = [/sbp_(oauth_)?[a-f0-9]{8,}/g, /sb_(secret|publishable)_[\w-]+/g, /eyJ[\w-]+\.[\w-]+\.[\w-]+/g];

/** Removes anything shaped like a token or key from text that came from the server. */
export function scrub(text: string, extra: readonly string[] = []): string {
    let out = text;
    for (const value of extra) if (value.length >= 8) out = out.split(value).join("[redacted]");
    for (const shape of SECRET_SHAPES) out = out.replace(shape, "[redacted]");
    return out.length > 300 ? `${out.slice(0, 300)}...` : out;
}

/**
 * The first bytes of a reply that is not what the API sends, fit for an error: control characters
 * and runs of white space as one space, secrets removed (before the cut, so no secret is half shown), at most 120 characters.
 */
export function bodyPreview(text: string, token: string): string {
    // eslint-disable-next-line no-control-regex
    const flat = scrub(text.replace(/[\u0000-\u001f\u007f\s]+/g, " ").trim(), [token]);
    return JSON.stringify(flat.length > 120 ? `${flat.slice(0, 120)}...` : flat);
}

/** "GET /v1/projects/{ref}/api-keys/{id}" from a concrete URL, so that errors name the operation, not ids. */
export function operationOf(method: string, url: string): string {
    const path = new URL(url).pathname
        .replace(/^(.*?)(\/v1\/)/, "$2")
        .replace(/^\/v1\/projects\/[a-z]{20}/, "/v1/projects/{ref}")
        .replace(/\/api-keys\/(?!legacy$)[^/]+$/, "/api-keys/{id}")
        .replace(/\/billing\/addons\/[^/]+$/, "/billing/addons/{addon_variant}")
        .replace(/^\/v1\/organizations\/[^/]+\/entitlements$/, "/v1/organizations/{slug}/entitlements");
    return `${method} ${path}`;
}

function messageOf(text: string): string {
    try {
        const body = JSON.parse(text) as { message?: unknown };
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

/** A content type the API's JSON replies carry (application/json, or a +json type). */
export function isJsonContentType(contentType: string | null): boolean {
    return /^application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType ?? "");
}

const inSeconds = (ms: number) => `${Number((ms / 1000).toFixed(2))} s`;

/** Statuses whose reply has no body: a Response cannot be built with one. */
const NULL_BODY_STATUSES = [101, 204, 205, 304];

/**
 * A fetch with timeouts, bounded retries and clear errors (see the module comment). Each attempt
 * reads the whole body under its own timeout, so a body that stalls after the headers is a timeout
 * like any other, and a 2xx body is checked to be JSON here: openapi-fetch parses the Response this
 * returns, which is then already in memory and known to parse.
 */
export function resilientFetch(options: ClientOptions): (request: Request) => Promise<Response> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const attempts = Math.max(1, options.attempts ?? 3);
    const maxWait = options.maxRateLimitWaitMs ?? 60_000;
    const backoff = options.backoffMs ?? 1000;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const left = () => (options.deadline === undefined ? Infinity : options.deadline - Date.now());
    return async (request: Request) => {
        const operation = operationOf(request.method, request.url);
        const body = request.body ? await request.clone().arrayBuffer() : undefined;
        const retriable = IDEMPOTENT.includes(request.method);
        let last = "";
        let made = 0;
        let outOfTime = false;
        /** Waits before the next attempt, unless the wait would end past the deadline. */
        const pause = async (ms: number): Promise<boolean> => {
            if (ms >= left()) {
                outOfTime = true;
                return false;
            }
            await sleep(ms);
            return true;
        };
        for (let attempt = 1; attempt <= attempts; attempt++) {
            const budget = Math.min(timeoutMs, left());
            if (budget <= 0) {
                outOfTime = true;
                break;
            }
            made = attempt;
            let response: Response | undefined;
            let text: string;
            try {
                response = await fetch(request.url, {
                    method: request.method,
                    headers: request.headers,
                    body,
                    signal: AbortSignal.timeout(budget),
                });
                // Under the same signal: a body that stalls after the headers hits this attempt's timeout.
                text = await response.text();
            } catch (e) {
                const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
                // undici says "fetch failed" and keeps the reason (refused, reset, closed) in `cause`.
                const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
                const why = e instanceof Error ? scrub(`${e.message}${cause}`, [options.token]) : "network error";
                last = !response
                    ? timedOut
                        ? `no answer within ${inSeconds(budget)}`
                        : `could not connect (${why})`
                    : timedOut
                      ? `the reply (${response.status}) did not finish within ${inSeconds(budget)}: its body stalled after the headers`
                      : `the reply (${response.status}) broke off after its headers (${why})`;
                // A mutating call that timed out may have been applied: never send it again blindly.
                if (!retriable) break;
                if (attempt < attempts && !(await pause(backoff * 2 ** (attempt - 1)))) break;
                continue;
            }
            if (response.status === 429) {
                // Refused before any effect: safe to repeat for every method.
                last = "rate limited (429)";
                if (attempt < attempts && (await pause(rateLimitWaitMs(response.headers, maxWait)))) continue;
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
                const message = messageOf(text);
                last = `server error ${response.status}${message ? `: ${scrub(message, [options.token])}` : ""}`;
                if (!retriable) break;
                if (attempt < attempts && (await pause(backoff * 2 ** (attempt - 1)))) continue;
                break;
            }
            const contentType = response.headers.get("content-type");
            if (response.ok && text.length > 0) {
                // A page, not the API (a proxy, a login wall, the dashboard): asking again gets the same page.
                if (!isJsonContentType(contentType))
                    throw new ManagementApiError(
                        `Supabase Management API ${operation} answered ${response.status} with ${contentType ?? "no content type"}, not JSON ` +
                            `(${text.length} bytes, starting ${bodyPreview(text, options.token)}): ${new URL(request.url).origin} is not the Management API. ` +
                            `Check ${API_URL_SETTING}: it must be the API's base URL, such as ${DEFAULT_MANAGEMENT_API_URL}, reached without a proxy that rewrites replies.`,
                        response.status,
                        operation,
                    );
                try {
                    JSON.parse(text);
                } catch {
                    // JSON cut short (a dropped connection behind a proxy): a transport fault, retried like one.
                    last = `the reply (${response.status}, ${contentType}) is not complete JSON (${text.length} bytes, starting ${bodyPreview(text, options.token)})`;
                    if (!retriable) break;
                    if (attempt < attempts && (await pause(backoff * 2 ** (attempt - 1)))) continue;
                    break;
                }
            }
            const headers = new Headers(response.headers);
            // The body is decoded text now: its original length and encoding no longer describe it.
            headers.delete("content-length");
            headers.delete("content-encoding");
            return new Response(NULL_BODY_STATUSES.includes(response.status) ? null : text, {
                status: response.status,
                statusText: response.statusText,
                headers,
            });
        }
        const note = outOfTime
            ? `at the caller's deadline, after ${made} attempt${made === 1 ? "" : "s"}`
            : // A mutating call is repeated only after 429s, which the API refused before any effect.
              retriable || made > 1
              ? `after ${made} attempts`
              : "not retried, because it changes the project: check its state before running again";
        throw new ManagementApiError(
            `Supabase Management API ${operation} failed ${note}: ${last || "no time was left for an attempt"}. Check ${new URL(request.url).origin} (set by ${API_URL_SETTING}) and Supabase's status page.`,
            undefined,
            operation,
            outOfTime,
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

/** For calls whose success has no body (the add-ons PATCH and DELETE): a clear error on any other status, as `unwrap`. */
export function accepted(operation: string, result: { error?: unknown; response: Response }, token: string): void {
    if (result.response.ok) return;
    unwrap(operation, { ...result, data: undefined }, token);
}

/** Turns an openapi-fetch result into its data, or a clear error for a status other than 401/403/429/5xx. */
export function unwrap<T>(operation: string, result: { data?: T; error?: unknown; response: Response }, token: string): T {
    if (result.error !== undefined || result.data === undefined) {
        const body = result.error as { message?: unknown } | string | undefined;
        // openapi-fetch hands over an error body that is not JSON as its text: a page, not the API.
        const message =
            typeof body === "string" && body.length > 0
                ? `, not with the API's JSON but ${result.response.headers.get("content-type") ?? "no content type"} starting ${bodyPreview(body, token)}: check ${API_URL_SETTING}`
                : typeof body === "object" && typeof body?.message === "string"
                  ? `: ${scrub(body.message, [token])}`
                  : "";
        throw new ManagementApiError(
            `Supabase Management API ${operation} answered ${result.response.status}${message}`,
            result.response.status,
            operation,
        );
    }
    return result.data;
}
