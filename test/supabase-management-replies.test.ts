/**
 * The Management API client (lib/supabase/client.ts) against replies that go wrong on the way,
 * through the dynamic providers and the double (test/support/management-api-double.ts): a 200
 * HTML page, a JSON body cut short or dropped, a body that stalls after its headers, a POST that
 * meets a 5xx, and the wait for ACTIVE_HEALTHY against a slow API. Reads are retried a bounded
 * number of times; a POST is sent once; every error names the call and the setting to check, and
 * carries no secret.
 */
import { describe, expect, it } from "vitest";
import type * as pulumi from "@pulumi/pulumi";
import { apiKeyProvider, projectProvider, sslEnforcementProvider } from "../lib/supabase/providers";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "toolboxaiprodprojref";
const SSL_READ = "GET /v1/projects/{ref}/ssl-enforcement";
const KEY_CREATE = "POST /v1/projects/{ref}/api-keys";
const URL_SETTING = /toolboxai:supabaseApiUrl, or the ops tool's --management-api-url/;
const double = useManagementApiDouble();
const failure = double.failure;

const conn = (timeoutSeconds = 5) => ({ apiUrl: double.api.url, accessToken: double.api.token, timeoutSeconds });
type P = Required<pulumi.dynamic.ResourceProvider>;
const provider = (p: pulumi.dynamic.ResourceProvider) => p as P;
const sent = (operation: string) => double.api.log.filter((r) => r.operation === operation);
const readSsl = (timeoutSeconds?: number) =>
    provider(sslEnforcementProvider).read(`${REF}/ssl-enforcement`, { ...conn(timeoutSeconds), ref: REF, enforced: true });
const keyInputs = (name: string) => ({
    ...conn(0.5),
    ref: REF,
    type: "secret",
    name,
    description: "toolboxai backend",
    owner: "toolboxai/prod",
    deleteReason: "rotated",
});

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const t0 = Date.now();
    const value = await run();
    return { value, ms: Date.now() - t0 };
}

describe("a 2xx body that is not the API's JSON", () => {
    it("an HTML page (a proxy, a wrong supabaseApiUrl) names the call, what came back and the setting; it is not asked again", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: SSL_READ, reply: "html" });
        const message = await failure(readSsl());
        expect(message).toMatch(
            /^Supabase Management API GET \/v1\/projects\/\{ref\}\/ssl-enforcement answered 200 with text\/html; charset=utf-8, not JSON/,
        );
        // The first bytes, flattened, and the token the page echoed removed.
        expect(message).toContain(
            'starting "<!DOCTYPE html> <html><head><title>Sign in</title></head> <body> <p>Session for Bearer [redacted] expired',
        );
        expect(message).toMatch(URL_SETTING);
        expect(message).not.toContain(double.api.token);
        expect(message).not.toMatch(/SyntaxError|Unexpected token/);
        expect(sent(SSL_READ)).toHaveLength(1);
    });

    it("an error page instead of the API's JSON error is named as such, with the setting", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: SSL_READ, reply: "html", status: 404 });
        const message = await failure(readSsl());
        expect(message).toMatch(
            /^Supabase Management API GET \/v1\/projects\/\{ref\}\/ssl-enforcement answered 404, not with the API's JSON but text\/html; charset=utf-8 starting "<!DOCTYPE html>/,
        );
        expect(message).toMatch(URL_SETTING);
        expect(message).not.toContain(double.api.token);
    });

    it("JSON cut short is retried on a read, and ends in a clear error when it stays so", async () => {
        const project = double.api.addProject(REF, { ssl: true });
        double.api.inject({ operation: SSL_READ, reply: "truncated" });
        expect((await readSsl()).props!.enforced).toBe(project.ssl);
        expect(sent(SSL_READ).map((r) => r.status)).toEqual([200, 200]);

        double.api.log.length = 0;
        double.api.inject({ operation: SSL_READ, reply: "truncated", times: 3 });
        const message = await failure(readSsl());
        expect(message).toMatch(
            /GET \/v1\/projects\/\{ref\}\/ssl-enforcement failed after 3 attempts: the reply \(200, application\/json; charset=utf-8\) is not complete JSON \(\d+ bytes, starting "\{/,
        );
        expect(message).toMatch(URL_SETTING);
        expect(sent(SSL_READ)).toHaveLength(3);
    }, 20_000);

    it("a connection dropped mid-body is retried on a read", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: SSL_READ, reply: "cut" });
        expect((await readSsl()).props!.enforced).toBe(false);
        expect(sent(SSL_READ)).toHaveLength(2);
        double.api.log.length = 0;
        double.api.inject({ operation: SSL_READ, reply: "cut", times: 3 });
        expect(await failure(readSsl())).toMatch(/failed after 3 attempts: the reply \(200\) broke off after its headers/);
    }, 20_000);

    it("a body cut short on a POST is not sent again: the error says to check the project", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: KEY_CREATE, reply: "truncated" });
        expect(await failure(provider(apiKeyProvider).create(keyInputs("toolboxai_backend_a1")))).toMatch(
            /POST \/v1\/projects\/\{ref\}\/api-keys failed not retried, because it changes the project: check its state before running again: the reply \(201, application\/json; charset=utf-8\) is not complete JSON/,
        );
        expect(sent(KEY_CREATE)).toHaveLength(1);
        // The reply was lost, not the change: the key exists once.
        expect(project.keys.filter((k) => k.name === "toolboxai_backend_a1")).toHaveLength(1);
    });
});

describe("a body that stalls after its headers", () => {
    it("is bounded by the attempt's timeout and retried on a read", async () => {
        double.api.addProject(REF);
        double.api.inject({ operation: SSL_READ, reply: "stall" });
        const { value, ms } = await timed(() => readSsl(0.5));
        expect(value.props!.enforced).toBe(false);
        expect(ms).toBeGreaterThanOrEqual(450);
        expect(sent(SSL_READ)).toHaveLength(2);

        double.api.log.length = 0;
        double.api.inject({ operation: SSL_READ, reply: "stall", times: 3 });
        // Three attempts of 0.5 s and the backoff between them (1 s, 2 s): bounded, not a hang.
        const failed = await timed(() => failure(readSsl(0.5)));
        expect(failed.value).toMatch(
            /GET \/v1\/projects\/\{ref\}\/ssl-enforcement failed after 3 attempts: the reply \(200\) did not finish within 0\.5 s: its body stalled after the headers/,
        );
        expect(failed.ms).toBeLessThan(8000);
        expect(sent(SSL_READ)).toHaveLength(3);
    }, 20_000);

    it("is not retried on a POST; running again adopts the key that POST made instead of making a second", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: KEY_CREATE, reply: "stall" });
        expect(await failure(provider(apiKeyProvider).create(keyInputs("toolboxai_backend_a2")))).toMatch(
            /POST \/v1\/projects\/\{ref\}\/api-keys failed not retried, because it changes the project: check its state before running again: the reply \(201\) did not finish within 0\.5 s/,
        );
        expect(sent(KEY_CREATE)).toHaveLength(1);
        const made = project.keys.find((k) => k.name === "toolboxai_backend_a2")!;
        const again = await provider(apiKeyProvider).create(keyInputs("toolboxai_backend_a2"));
        expect(again.id).toBe(made.id);
        expect(again.outs!.apiKey === made.api_key, "the adopted key's value").toBe(true);
        expect(sent(KEY_CREATE)).toHaveLength(1);
    });
});

describe("a POST that meets a 5xx is sent once", () => {
    it("creating a key: one POST, no key, an error that says to check the project", async () => {
        const project = double.api.addProject(REF);
        double.api.inject({ operation: KEY_CREATE, status: 503, times: 3 });
        const message = await failure(provider(apiKeyProvider).create(keyInputs("toolboxai_backend_a3")));
        expect(message).toMatch(
            /POST \/v1\/projects\/\{ref\}\/api-keys failed not retried, because it changes the project.*server error 503/,
        );
        expect(sent(KEY_CREATE)).toHaveLength(1);
        expect(project.keys.some((k) => k.name === "toolboxai_backend_a3")).toBe(false);
    });

    it("creating the project: one POST, no project", async () => {
        double.api.inject({ operation: "POST /v1/projects", status: 500, times: 3 });
        const message = await failure(
            provider(projectProvider).create({
                ...conn(),
                create: { organizationSlug: "toolboxai-org", name: "toolboxai-prod", region: "eu-central-1", dbPass: "p".repeat(32) },
            }),
        );
        expect(message).toMatch(/POST \/v1\/projects failed not retried.*server error 500/);
        expect(sent("POST /v1/projects")).toHaveLength(1);
        expect(double.api.projects.size).toBe(0);
    });
});

describe("the wait for ACTIVE_HEALTHY keeps its deadline", () => {
    const PROJECT_READ = "GET /v1/projects/{ref}";
    // What a loaded machine adds to a timer; far below what one more request or backoff would add.
    const MARGIN_MS = 600;

    it("a reply slower than what is left of the wait: cut at the deadline, with a clear error", async () => {
        double.api.addProject(REF, { statuses: ["COMING_UP"] });
        // Each reply takes 3 s, well inside the 5 s request timeout: only the wait's remainder can cut it.
        double.api.inject({ operation: PROJECT_READ, delayMs: 3000, times: 10 });
        const { value, ms } = await timed(() =>
            failure(provider(projectProvider).create({ ...conn(5), ref: REF, waitSeconds: 1, pollSeconds: 0.05 })),
        );
        expect(value).toMatch(
            /^Supabase project toolboxaiprodprojref did not reach ACTIVE_HEALTHY within 1 s \(no status seen; the last look: .*GET \/v1\/projects\/\{ref\} failed at the caller's deadline, after 1 attempt: no answer within 1 s/,
        );
        expect(value).toMatch(/run again when it is healthy$/);
        expect(ms).toBeGreaterThanOrEqual(950);
        expect(ms).toBeLessThan(1000 + MARGIN_MS);
    }, 20_000);

    it("a hang after a first look: retries and backoff fit in what is left, or are not started", async () => {
        double.api.addProject(REF, { statuses: ["COMING_UP"] });
        // The first look answers (a fault that changes nothing); then every request hangs until its timeout.
        double.api.inject({ operation: PROJECT_READ, delayMs: 0 });
        double.api.inject({ operation: PROJECT_READ, hang: true, times: 10 });
        const { value, ms } = await timed(() =>
            failure(provider(projectProvider).create({ ...conn(0.5), ref: REF, waitSeconds: 2.5, pollSeconds: 0.05 })),
        );
        // A 0.5 s attempt, 1 s backoff, a second attempt; the 2 s backoff would end past the deadline: not started.
        expect(value).toMatch(
            /did not reach ACTIVE_HEALTHY within 2.5 s \(last seen COMING_UP; the last look: .*failed at the caller's deadline, after 2 attempts: no answer within 0\.5 s/,
        );
        expect(sent(PROJECT_READ)).toHaveLength(3);
        expect(ms).toBeLessThan(2500 + MARGIN_MS);
    }, 20_000);

    it("a pause between looks ends at the deadline, not after it", async () => {
        double.api.addProject(REF, { statuses: ["COMING_UP"] });
        const { value, ms } = await timed(() =>
            failure(provider(projectProvider).create({ ...conn(), ref: REF, waitSeconds: 1, pollSeconds: 5 })),
        );
        expect(value).toMatch(/is still COMING_UP after 1 s \(expected ACTIVE_HEALTHY\); run again when it is healthy$/);
        expect(sent(PROJECT_READ)).toHaveLength(1);
        expect(ms).toBeLessThan(1000 + MARGIN_MS);
    }, 20_000);

    it("a rate limit that resets after the deadline is not waited for", async () => {
        double.api.addProject(REF, { statuses: ["COMING_UP"] });
        double.api.inject({ operation: PROJECT_READ, status: 429, resetSeconds: 5, times: 3 });
        const { value, ms } = await timed(() =>
            failure(provider(projectProvider).create({ ...conn(), ref: REF, waitSeconds: 1, pollSeconds: 0.05 })),
        );
        expect(value).toMatch(
            /did not reach ACTIVE_HEALTHY within 1 s .*failed at the caller's deadline, after 1 attempt: rate limited \(429\)/,
        );
        expect(ms).toBeLessThan(1000 + MARGIN_MS);
    }, 20_000);
});
