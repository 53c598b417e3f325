/** Pure rules of the hosted project (lib/supabase/rules.ts) and of its client (lib/supabase/client.ts). */
import { describe, expect, it } from "vitest";
import { passwordSlots, rotationPeriod } from "../lib/credentials";
import { ACCESS_TOKEN_PATTERN, operationOf, rateLimitWaitMs, scrub } from "../lib/supabase/client";
import { allowsAll, API_KEY_NAME, parseCidrs, secretKeyName } from "../lib/supabase/rules";

describe("database CIDRs", () => {
    it("splits IPv4 and IPv6, canonical and without duplicates", () => {
        expect(parseCidrs(["203.0.113.0/24", "2001:DB8:0:0::/48", "203.0.113.0/24", "198.51.100.7/32"])).toEqual({
            cidrs: { ipv4: ["203.0.113.0/24", "198.51.100.7/32"], ipv6: ["2001:db8::/48"] },
            problems: [],
        });
    });

    it("refuses what is not a network, with the network it probably meant", () => {
        const { problems } = parseCidrs([
            "203.0.113.7",
            "203.0.113.7/24",
            "2001:db8::1/48",
            "300.1.1.1/8",
            "::ffff:203.0.113.0/120",
            "10.0.0.0/33",
        ]);
        expect(problems).toEqual([
            expect.stringMatching(/"203.0.113.7" is not a CIDR/),
            expect.stringMatching(/host bits set: did you mean 203.0.113.0\/24\?/),
            expect.stringMatching(/host bits set: did you mean 2001:db8::\/48\?/),
            expect.stringMatching(/"300.1.1.1\/8" is not a CIDR/),
            expect.stringMatching(/IPv4-mapped IPv6 range/),
            expect.stringMatching(/"10.0.0.0\/33" is not a CIDR/),
        ]);
    });

    it("knows allow-all in either family", () => {
        expect(allowsAll({ ipv4: ["0.0.0.0/0"], ipv6: [] })).toBe(true);
        expect(allowsAll({ ipv4: [], ipv6: ["::/0"] })).toBe(true);
        expect(allowsAll({ ipv4: ["203.0.113.0/24"], ipv6: ["2001:db8::/48"] })).toBe(false);
    });
});

describe("secret key names", () => {
    it("are valid API key names, and one slot's name changes per rotation step", () => {
        const at = (iso: string, generation = 0) => passwordSlots(rotationPeriod(new Date(iso), 90), generation);
        const before = at("2026-11-25T12:00:00Z");
        const after = at("2027-01-10T00:00:00Z");
        for (const slots of [before, after])
            for (const s of ["a", "b"] as const) expect(secretKeyName("worker", s, slots)).toMatch(API_KEY_NAME);
        const changed = (["a", "b"] as const).filter((s) => secretKeyName("backend", s, before) !== secretKeyName("backend", s, after));
        expect(changed).toEqual([after.active]);
        // A raised generation is a step too; two steps rename both slots.
        expect(
            (["a", "b"] as const).filter(
                (s) => secretKeyName("backend", s, before) !== secretKeyName("backend", s, at("2026-11-25T12:00:00Z", 2)),
            ),
        ).toEqual(["a", "b"]);
    });
});

describe("client rules", () => {
    it("names the operation, never a ref or key id", () => {
        expect(
            operationOf(
                "DELETE",
                "https://api.supabase.com/v1/projects/abcdefghijklmnopqrst/api-keys/5f0c8a1e-0000-4000-8000-000000000000?reason=x",
            ),
        ).toBe("DELETE /v1/projects/{ref}/api-keys/{id}");
        expect(operationOf("PUT", "http://127.0.0.1:1/v1/projects/abcdefghijklmnopqrst/api-keys/legacy?enabled=false")).toBe(
            "PUT /v1/projects/{ref}/api-keys/legacy",
        );
    });

    it("removes tokens and keys from server text", () => {
        const token = `sbp_${"a1".repeat(20)}`;
        const text = scrub(`bad token ${token}, key sb_secret_AbC-123_x and eyJhbGciOi.eyJyb2xlIjoi.c2lnbmF0dXJl`);
        expect(text).toBe("bad token [redacted], key [redacted] and [redacted]");
        expect(ACCESS_TOKEN_PATTERN.test(token)).toBe(true);
        expect(ACCESS_TOKEN_PATTERN.test("sbp_short")).toBe(false);
    });

    it("waits for X-RateLimit-Reset, capped", () => {
        expect(rateLimitWaitMs(new Headers({ "x-ratelimit-reset": "7" }), 60_000)).toBe(7000);
        expect(rateLimitWaitMs(new Headers({ "retry-after": "3" }), 60_000)).toBe(3000);
        expect(rateLimitWaitMs(new Headers({ "x-ratelimit-reset": "600" }), 60_000)).toBe(60_000);
        expect(rateLimitWaitMs(new Headers(), 10_000)).toBe(10_000);
    });
});
