/**
 * Properties of what the program encodes for clients, over arbitrary values (fast-check), each
 * read back by an independent parser: connection URLs by node-postgres's own parser
 * (pg-connection-string) and by WHATWG URL, pgpass lines by node-postgres's pgpass reader, and
 * the image-reference rule against references generated from Docker's reference grammar.
 * (test/postgresUrl.test.ts logs in through real libpq and node-postgres with reserved characters.)
 */
import fc from "fast-check";
import { parse as parseConnectionString } from "pg-connection-string";
import { describe, expect, it } from "vitest";
import { image } from "../lib/config/parsers";
import { pgpassLine } from "../lib/docker";
import { postgresUrl } from "../lib/postgres";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pgpassHelper = require("pgpass/lib/helper.js") as { parseLine(line: string): Record<string, string> | null };

// Printable ASCII and beyond, reserved characters included: what a generated or pasted password holds.
// Reserved characters are drawn often: uniform code points would almost never hold a ':'.
const reserved = fc.constantFrom(":", "\\", "@", "/", "?", "#", "%", "&", "=", "+", " ", "$", "[", "]", "'", '"');
const anyText = fc
    .string({ unit: fc.oneof(reserved, fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 40 })
    // NUL cannot reach libpq or an environment; line breaks would end a pgpass line.
    .filter((s) => !s.includes("\u0000") && !/[\n\r]/.test(s));
// What the supabaseDbName / user rules admit (lib/config/parsers.ts identifier).
const identifier = fc.stringMatching(/^[a-z_][a-z0-9_.$-]{0,30}$/);
const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
const port = fc.integer({ min: 1, max: 65535 });
const sslMode = fc.constantFrom("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

describe("postgresUrl", () => {
    it("node-postgres reads back every part, whatever the password holds", () => {
        fc.assert(
            fc.property(identifier, anyText, host, port, identifier, sslMode, (user, password, h, p, database, mode) => {
                const parsed = parseConnectionString(postgresUrl({ user, password, host: h, port: p, database, sslMode: mode }));
                expect(parsed.user).toBe(user);
                expect(parsed.password).toBe(password);
                // An IPv6 host comes back in its canonical form (::0 as ::), as URL parsers give it.
                expect(parsed.host).toBe(h.includes(":") ? new URL(`http://[${h}]/`).hostname.slice(1, -1) : h);
                expect(parsed.port).toBe(String(p));
                expect(parsed.database).toBe(database);
                expect((parsed as Record<string, unknown>).sslmode).toBe(mode);
            }),
        );
    });

    it("is a valid URL whose decoded parts are the inputs (libpq decodes every part the same way)", () => {
        fc.assert(
            fc.property(anyText, anyText, host, port, identifier, (user, password, h, p, database) => {
                const url = new URL(
                    postgresUrl({
                        user,
                        password,
                        host: h,
                        port: p,
                        database,
                        sslMode: "require",
                        params: { sslrootcert: "/etc/ca dir/ca.crt" },
                    }),
                );
                expect(decodeURIComponent(url.username)).toBe(user);
                expect(decodeURIComponent(url.password)).toBe(password);
                expect(decodeURIComponent(url.pathname.slice(1))).toBe(database);
                expect(url.searchParams.get("sslrootcert")).toBe("/etc/ca dir/ca.crt");
            }),
        );
    });

    it("leaves the password out entirely when the client reads it from PGPASSFILE", () => {
        fc.assert(
            fc.property(identifier, host, port, identifier, (user, h, p, database) => {
                const parsed = parseConnectionString(postgresUrl({ user, host: h, port: p, database, sslMode: "disable" }));
                expect(parsed.password ?? "").toBe("");
                expect(postgresUrl({ user, host: h, port: p, database, sslMode: "disable" })).toMatch(/^postgresql:\/\/[^:@]+@/);
            }),
        );
    });
});

describe("pgpassLine", () => {
    // The fields as the config rules admit them (hosts, IPv6 ones with ':' included; identifiers),
    // and any password. node-postgres's reader also takes a line starting with blanks and '#' for
    // a comment and ignores lines under 11 characters, which such fields never produce.
    it("node-postgres's pgpass reader gives back each field, escapes included", () => {
        fc.assert(
            fc.property(host, port, identifier, identifier, anyText, (h, p, database, user, password) => {
                const line = pgpassLine(h, p, database, user, password);
                expect(line.endsWith("\n")).toBe(true);
                const entry = pgpassHelper.parseLine(line.slice(0, -1));
                expect(entry).toEqual({ host: h, port: String(p), database, user, password });
            }),
        );
    });
});

describe("image reference rule", () => {
    const component = fc.stringMatching(/^[a-z0-9]+([._-][a-z0-9]+){0,2}$/);
    const registry = fc.option(
        fc.tuple(fc.domain(), fc.option(port, { nil: undefined })).map(([d, p]) => (p ? `${d}:${p}` : d)),
        { nil: undefined },
    );
    const repository = fc
        .tuple(registry, fc.array(component, { minLength: 1, maxLength: 3 }))
        .map(([r, parts]) => [r, ...parts].filter(Boolean).join("/"));
    const tag = fc.stringMatching(/^\w[\w.-]{0,20}$/);
    const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`);
    const reference = fc.record({
        repo: repository,
        tag: fc.option(tag, { nil: undefined }),
        digest: fc.option(digest, { nil: undefined }),
    });
    const text = (r: { repo: string; tag?: string; digest?: string }) =>
        `${r.repo}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;

    it("accepts every reference of Docker's grammar where pinning is not required", () => {
        fc.assert(
            fc.property(reference, (r) => {
                expect(image(false)(text(r))).toMatchObject({ ok: true });
            }),
        );
    });

    it("in prod, accepts exactly the references pinned by a digest or a tag other than latest", () => {
        fc.assert(
            fc.property(reference, fc.boolean(), (r, latest) => {
                const ref = latest && r.tag ? { ...r, tag: "latest" } : r;
                const pinned = Boolean(ref.digest) || (ref.tag !== undefined && ref.tag !== "latest");
                expect(image(true)(text(ref)).ok).toBe(pinned);
            }),
        );
    });

    it("refuses upper-case repositories and malformed digests", () => {
        fc.assert(
            fc.property(reference, fc.stringMatching(/^[A-Z]{1,5}$/), (r, upper) => {
                expect(image(false)(text({ ...r, repo: `${r.repo}${upper}` })).ok).toBe(false);
                expect(image(false)(`${r.repo}@sha256:${upper}`).ok).toBe(false);
            }),
        );
    });
});
