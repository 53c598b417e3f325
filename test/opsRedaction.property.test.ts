/**
 * The operations tool's URL rules over arbitrary values (fast-check): redactUrl never lets any
 * part of a password through, whatever it holds and however it was pasted (encoded or not, in the
 * authority or as a `password=` parameter), and urlProblem admits every URL the program itself
 * builds (lib/postgres.ts) while refusing what would be misread.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactUrl, urlProblem } from "../lib/ops/rules";
import { postgresUrl } from "../lib/postgres";

// What a pasted password holds: the characters that end a URL's parts are drawn often.
const reserved = fc.constantFrom(":", "@", "/", "?", "#", "%", "&", "=", "+", " ", "[", "]", "'", '"', "\\", "*");
const anyChar = fc.oneof(reserved, fc.string({ unit: "binary", minLength: 1, maxLength: 1 }));
const password = fc.string({ unit: anyChar, minLength: 4, maxLength: 32 });
const user = fc.string({ unit: anyChar, minLength: 1, maxLength: 12 });
const host = fc.oneof(
    fc.domain(),
    fc.ipV4(),
    fc.ipV6().map((h) => `[${h}]`),
);
const port = fc.integer({ min: 1, max: 65535 });
const database = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
const query = fc.constantFrom("", "?sslmode=require", "?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.crt", "?application_name=x");
const scheme = fc.constantFrom("postgresql", "postgres", "rediss", "mysql", "https");

/** Every substring of `secret` of at least 4 characters that the public parts do not show anyway. */
function secretParts(secret: string, publicText: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < secret.length; i++)
        for (let j = i + 4; j <= secret.length; j++) if (!publicText.includes(secret.slice(i, j))) out.push(secret.slice(i, j));
    return out;
}

describe("redactUrl", () => {
    it("masks the whole user and password, pasted raw: nothing between // and the last @ survives", () => {
        fc.assert(
            fc.property(scheme, user, password, host, port, database, query, (s, u, pw, h, p, db, q) => {
                const tail = `@${h}:${p}/${db}${q}`;
                const redacted = redactUrl(`${s}://${u}:${pw}${tail}`);
                expect(redacted).toBe(`${s}://***${tail}`);
                for (const part of secretParts(pw, `${s}://***${tail}`)) expect(redacted).not.toContain(part);
            }),
            { numRuns: 300 },
        );
    });

    it("shows no part of a percent-encoded password either", () => {
        fc.assert(
            // Short: an encoded password is up to 12 times longer than the password.
            fc.property(user, fc.string({ unit: anyChar, minLength: 4, maxLength: 12 }), host, port, database, (u, pw, h, p, db) => {
                const tail = `@${h}:${p}/${db}`;
                const encoded = encodeURIComponent(pw);
                const redacted = redactUrl(`postgresql://${encodeURIComponent(u)}:${encoded}${tail}`);
                expect(redacted).toBe(`postgresql://***${tail}`);
                for (const part of secretParts(encoded, redacted.replace(/\*\*\*/, ""))) expect(redacted).not.toContain(part);
            }),
            { numRuns: 60 },
        );
    });

    it("masks a password given as a query parameter (libpq reads ?password=), whatever follows it", () => {
        fc.assert(
            fc.property(fc.constantFrom("password", "PASSWORD", "sslpassword"), password, host, port, database, (key, pw, h, p, db) => {
                const head = `postgresql://${h}:${p}/${db}?sslmode=require&${key}=`;
                const redacted = redactUrl(`${head}${pw}`);
                for (const part of secretParts(pw, head)) expect(redacted).not.toContain(part);
                expect(redacted.startsWith(`postgresql://`)).toBe(true);
            }),
        );
    });

    it("leaks nothing from any text at all: at most a scheme before the mask, and what follows the last @", () => {
        fc.assert(
            fc.property(fc.string({ unit: anyChar, maxLength: 20 }), password, fc.string({ unit: anyChar, maxLength: 20 }), (a, pw, b) => {
                const tail = `@${b.replace(/@/g, "")}`;
                const text = `${a}:${pw}${tail}`;
                fc.pre(!/[?&](ssl)?password=/i.test(text));
                const redacted = redactUrl(text);
                expect(redacted.endsWith(`***${tail}`)).toBe(true);
                const head = redacted.slice(0, redacted.length - `***${tail}`.length);
                // The head is a scheme taken from `a`, with the "//" after it: never more than two characters of the password.
                expect(`${a}:${pw.slice(0, 2)}`.startsWith(head)).toBe(true);
            }),
            { numRuns: 300 },
        );
    });

    it("keeps what an operator needs: scheme, host, port, database and parameters", () => {
        expect(redactUrl("postgresql://postgres:s3cret@db:5432/postgres?sslmode=require")).toBe(
            "postgresql://***@db:5432/postgres?sslmode=require",
        );
        expect(redactUrl("postgresql://db:5432/postgres")).toBe("postgresql://db:5432/postgres");
        // The WHATWG parser would have ended the authority at '#' and printed "ss@db..." as a fragment.
        expect(redactUrl("postgresql://postgres:p#ss@db/x")).toBe("postgresql://***@db/x");
    });
});

describe("urlProblem", () => {
    it("admits every database URL the program builds, whatever the user and password hold", () => {
        fc.assert(
            fc.property(user, password, fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6()), port, database, (u, pw, h, p, db) => {
                const url = postgresUrl({ user: u, password: pw, host: h, port: p, database: db, sslMode: "verify-full" });
                expect(urlProblem(url, "postgres")).toBeUndefined();
            }),
        );
    });

    it("refuses what would be misread, saying what is wrong and what is allowed", () => {
        const allowedPg = /allowed: a postgresql:\/\/ \(or postgres:\/\/\) URL/;
        expect(urlProblem("postgresql://u:pw@h:99999/db", "postgres")).toMatch(/^port 99999 is not from 1 to 65535; allowed:/);
        expect(urlProblem("postgresql://u:pw@h:0/db", "postgres")).toMatch(/^port 0 is not from 1 to 65535/);
        expect(urlProblem("mysql://u:pw@h/db", "postgres")).toMatch(/^the scheme mysql:\/\/ is not allowed; allowed: a postgresql/);
        expect(urlProblem("postgresql://u:pa#ss@h/db", "postgres")).toMatch(/percent-encoded/);
        expect(urlProblem("postgresql://u:12#ss@h/db", "postgres")).toMatch(/holds a '#'/);
        expect(urlProblem("postgresql://u:12/ss@h/db", "postgres")).toMatch(/holds an '@' after the host/);
        expect(urlProblem("postgresql://u:100%@h/db", "postgres")).toMatch(/'%' that starts no percent-encoding/);
        expect(urlProblem("postgresql:///db", "postgres")).toMatch(/^has no host/);
        expect(urlProblem("localhost:5432", "postgres")).toMatch(/^is not a URL/);
        expect(urlProblem("", "postgres")).toMatch(allowedPg);
        expect(urlProblem("postgresql://u:p%40ss@[::1]:5432/db?sslmode=disable", "postgres")).toBeUndefined();
        expect(urlProblem("postgres://h/db", "postgres")).toBeUndefined();

        expect(urlProblem("rediss://redis.internal:6380", "redis")).toBeUndefined();
        expect(urlProblem("redis://redis.internal:6379", "redis")).toMatch(/scheme redis:\/\/ is not allowed; allowed: a rediss:\/\//);
        expect(urlProblem("https://s3.eu-central-1.amazonaws.com", "http")).toBeUndefined();
        expect(urlProblem("http://127.0.0.1:9000", "http")).toBeUndefined();
        expect(urlProblem("http://key:secret@127.0.0.1:9000", "http")).toMatch(/holds a user, password or query/);
        expect(urlProblem("ftp://vault:8200", "http")).toMatch(/scheme ftp:\/\/ is not allowed/);
        expect(urlProblem("https://vault:65536", "http")).toMatch(/port 65536/);
    });

    it("never repeats the value it refuses", () => {
        // The messages are plain ASCII: a non-ASCII piece of the password in one is an echo, never a coincidence.
        const marked = fc.string({ unit: fc.oneof(reserved, fc.constantFrom("Ω", "ж", "λ", "€")), minLength: 4, maxLength: 24 });
        fc.assert(
            fc.property(scheme, user, marked, host, port, (s, u, pw, h, p) => {
                for (const kind of ["postgres", "redis", "http"] as const) {
                    const problem = urlProblem(`${s}://${u}:${pw}@${h}:${p}/db`, kind) ?? "";
                    for (const part of secretParts(pw, "").filter((x) => [...x].some((ch) => ch.charCodeAt(0) > 0x7f)))
                        expect(problem).not.toContain(part);
                }
            }),
        );
    });
});
