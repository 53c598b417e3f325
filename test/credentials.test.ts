/** Pure credential rules, and the derived Supabase keys checked with a real JWT library. */
import { errors, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
    appRoleLimits,
    appRoleMountTune,
    currentTime,
    passwordSlots,
    readOnlyPolicy,
    rotationKeeper,
    rotationPeriod,
    signSupabaseKey,
    supabaseKeyClaims,
    vaultDuration,
} from "../lib/credentials";
import { postgresUrl } from "../lib/postgres";
import { goSeconds } from "./support/vault";

describe("rotation periods", () => {
    it("has fixed boundaries, every periodDays days since the epoch", () => {
        const p = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        expect(p.endsAt.getTime() - p.startsAt.getTime()).toBe(90 * 86_400_000);
        expect(p.startsAt.getTime() % (90 * 86_400_000)).toBe(0);
        expect(p.startsAt <= new Date("2026-11-25T12:00:00Z") && new Date("2026-11-25T12:00:00Z") < p.endsAt).toBe(true);
    });

    it("keeps the same keeper within a period and changes it across the boundary", () => {
        const p = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        const justBefore = new Date(p.endsAt.getTime() - 1);
        expect(rotationKeeper(rotationPeriod(justBefore, 90), 0)).toBe(rotationKeeper(p, 0));
        expect(rotationKeeper(rotationPeriod(p.endsAt, 90), 0)).not.toBe(rotationKeeper(p, 0));
    });

    it("changes the keeper when the generation is raised (forced rotation)", () => {
        const p = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        expect(rotationKeeper(p, 1)).not.toBe(rotationKeeper(p, 0));
    });

    it("refuses a period of zero days", () => {
        expect(() => rotationPeriod(new Date(), 0)).toThrow(/rotation period must be a whole number of days >= 1, got 0/);
    });

    it("reads a pinned clock, and refuses a malformed one", () => {
        expect(currentTime({ TOOLBOXAI_NOW: "2030-01-01T00:00:00Z" }).toISOString()).toBe("2030-01-01T00:00:00.000Z");
        expect(() => currentTime({ TOOLBOXAI_NOW: "next tuesday" })).toThrow(/TOOLBOXAI_NOW must be an ISO 8601 time/);
    });
});

describe("database password slots", () => {
    it("regenerates exactly one slot per step, and keeps the previous active one for logging in", () => {
        const start = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        for (let step = 0; step < 6; step++) {
            const at = (n: number) => rotationPeriod(new Date(start.startsAt.getTime() + n * 90 * 86_400_000), 90);
            const before = passwordSlots(at(step), 0);
            const after = passwordSlots(at(step + 1), 0);
            const changed = (["a", "b"] as const).filter((s) => before.keepers[s] !== after.keepers[s]);
            expect(changed).toEqual([after.active]);
            expect(after.active).not.toBe(before.active);
        }
    });

    it("regenerates both slots when the rotation moves two steps at once (the apply step then needs what it applied last)", () => {
        const p = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        for (const generation of [0, 1]) {
            const before = passwordSlots(p, generation);
            const after = passwordSlots(p, generation + 2);
            expect(after.keepers.a).not.toBe(before.keepers.a);
            expect(after.keepers.b).not.toBe(before.keepers.b);
        }
    });

    it("counts a forced rotation (generation) like a period", () => {
        const p = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
        expect(passwordSlots(p, 1).active).not.toBe(passwordSlots(p, 0).active);
    });
});

describe("connection strings", () => {
    it("percent-encodes the user and password and carries sslmode", () => {
        const url = postgresUrl({
            user: "postgres.abc",
            password: "p@ss:w/rd?#%",
            host: "db.example.co",
            port: 5432,
            database: "postgres",
            sslMode: "require",
        });
        expect(url).toBe("postgresql://postgres.abc:p%40ss%3Aw%2Frd%3F%23%25@db.example.co:5432/postgres?sslmode=require");
        const parsed = new URL(url);
        expect(decodeURIComponent(parsed.password)).toBe("p@ss:w/rd?#%");
        expect(parsed.searchParams.get("sslmode")).toBe("require");
    });
});

describe("Vault policies and AppRole limits", () => {
    it("grants read, and nothing else, on exactly the listed KV v2 data paths", () => {
        const hcl = readOnlyPolicy("secret", "toolboxai", ["database", "redis/worker"]);
        const paths = [...hcl.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => [m[1], m[2]]);
        expect(paths).toEqual([
            ["secret/data/toolboxai/database", '"read"'],
            ["secret/data/toolboxai/redis/worker", '"read"'],
            // Without the default policy, a token could not renew itself.
            ["auth/token/renew-self", '"update"'],
            ["auth/token/lookup-self", '"read"'],
        ]);
    });

    it("keeps tokens short and secret-ids limited in time and uses", () => {
        const limits = appRoleLimits(90);
        expect(limits.tokenTtl).toBeLessThanOrEqual(3600);
        expect(limits.tokenMaxTtl).toBeLessThanOrEqual(4 * 3600);
        expect(limits.secretIdTtl).toBe(180 * 86_400);
        // Every replica re-logs in at each token max TTL for the secret-id's whole life, and restarts.
        for (const replicas of [1, 3, 10]) {
            const l = appRoleLimits(90, replicas);
            expect(l.secretIdNumUses).toBeGreaterThanOrEqual(replicas * (l.secretIdTtl / l.tokenMaxTtl + 1));
            expect(l.secretIdNumUses).toBeLessThan(replicas * (l.secretIdTtl / l.tokenMaxTtl) * 2);
        }
    });
});

describe("Vault durations and the AppRole mount's tuning", () => {
    it("writes seconds as the provider reads them back: Go's Duration.String() shortened by util.ShortDur", () => {
        // Go: (4320*time.Hour).String() == "4320h0m0s"; ShortDur drops a trailing "m0s", then "h0m".
        const cases: [number, string][] = [
            [15_552_000, "4320h"],
            [2_764_800, "768h"],
            [3600, "1h"],
            [5400, "1h30m"],
            [3601, "1h0m1s"],
            [90, "1m30s"],
            [60, "1m"],
            [59, "59s"],
            [0, "0s"],
        ];
        for (const [seconds, text] of cases) expect(vaultDuration(seconds), String(seconds)).toBe(text);
        expect(() => vaultDuration(1.5)).toThrow(/whole seconds/);
    });

    it("tunes the mount's max lease TTL to the secret-id's whole life: 4320 h for a 90-day period, where Vault's default 768 h would end it after 32 days", () => {
        const limits = appRoleLimits(90);
        const tune = appRoleMountTune(limits);
        expect(tune).toEqual({ maxLeaseTtl: "4320h", defaultLeaseTtl: "1h" });
        expect(limits.secretIdTtl).toBe(4320 * 3600);
        expect(768 * 3600).toBeLessThan(limits.secretIdTtl);
        for (const days of [1, 7, 30, 90, 365]) {
            const l = appRoleLimits(days);
            expect(goSeconds(appRoleMountTune(l).maxLeaseTtl), `${days} days`).toBeGreaterThanOrEqual(
                Math.max(l.secretIdTtl, l.tokenMaxTtl),
            );
        }
    });
});

describe("self-hosted Supabase keys (jose)", () => {
    const period = rotationPeriod(new Date("2026-11-25T12:00:00Z"), 90);
    const secret = "a-generated-jwt-secret-of-at-least-32-characters-0123";

    it.each(["anon", "service_role"] as const)("%s key verifies with the JWT secret and carries role, iss, iat, exp", async (role) => {
        const token = await signSupabaseKey(secret, supabaseKeyClaims(role, period));
        const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
            issuer: "supabase",
            algorithms: ["HS256"],
            currentDate: new Date("2026-11-25T12:00:00Z"),
        });
        expect(protectedHeader.alg).toBe("HS256");
        expect(payload.role).toBe(role);
        expect(payload.iat).toBe(period.startsAt.getTime() / 1000);
        expect(payload.exp).toBe(period.startsAt.getTime() / 1000 + 2 * 90 * 86_400);
    });

    it("fails verification with another secret", async () => {
        const token = await signSupabaseKey(secret, supabaseKeyClaims("service_role", period));
        await expect(jwtVerify(token, new TextEncoder().encode("another-secret-of-at-least-32-characters-xx"))).rejects.toBeInstanceOf(
            errors.JWSSignatureVerificationFailed,
        );
    });

    it("signs deterministically, so that an unchanged secret does not rewrite Vault on every update", async () => {
        const claims = supabaseKeyClaims("anon", period);
        expect(await signSupabaseKey(secret, claims)).toBe(await signSupabaseKey(secret, claims));
    });
});
