/**
 * The operations tool's command line without servers: every bad flag is a usage error (exit 2)
 * naming the flag and showing its value only redacted; the SQL the tool prints quotes every
 * identifier; restore's row-count comparison reports wrong counts, not only missing tables.
 */
import { describe, expect, it } from "vitest";
import {
    countMismatches,
    enableRlsStatement,
    foreignKeyIndexStatement,
    qualifiedName,
    quoteIdent,
    quoteTable,
    terminateStatement,
} from "../lib/ops/rules";
import { main } from "../ops/cli";

const SECRET = "Pa#ss@w/rd?:c0ffee";

async function usage(...argv: string[]) {
    const o = await main(argv, {});
    expect(o.code).toBe(2);
    expect(o.stdout + o.stderr).not.toContain("c0ffee");
    return o.stderr;
}

describe("ops usage errors", () => {
    it("names a bad URL flag, its redacted value and what is allowed, for every command", async () => {
        expect(await usage("doctor", "--database-url", `postgresql://postgres:${SECRET}@db.example.com:99999/postgres`)).toMatch(
            /^--database-url "postgresql:\/\/\*\*\*@db\.example\.com:99999\/postgres": port 99999 is not from 1 to 65535; allowed: a postgresql:\/\//,
        );
        expect(await usage("doctor", "--pooler-url", "mysql://app@db/x")).toMatch(
            /^--pooler-url "mysql:\/\/\*\*\*@db\/x": the scheme mysql:\/\/ is not allowed/,
        );
        expect(await usage("restore", "--bucket", "b", "--target", `postgresql://postgres:${SECRET}@db/restored`)).toMatch(
            /^--target "postgresql:\/\/\*\*\*@db\/restored": does not parse as a URL \(a password with # \/ \? @ : or % must be percent-encoded/,
        );
        expect(await usage("drill", "--bucket", "b", "--server", "mysql://db/x")).toMatch(/^--server "mysql:\/\/db\/x": the scheme mysql/);
        expect(await usage("import", "--from", `postgresql://old:${SECRET}@old-host/app`, "--database-url", "postgresql://db/app")).toMatch(
            /^--from "postgresql:\/\/\*\*\*@old-host\/app": /,
        );
        expect(await usage("import", "--from", "postgresql://old-host/app", "--database-url", "postgresql://db:0/app")).toMatch(
            /^--database-url "postgresql:\/\/db:0\/app": port 0 is not from 1 to 65535/,
        );
        expect(await usage("doctor", "--redis-url", "redis://cache:6379")).toMatch(
            /^--redis-url "redis:\/\/cache:6379": the scheme redis:\/\/ is not allowed/,
        );
        expect(await usage("doctor", "--bucket", "b", "--s3-endpoint", "s3.example.com")).toMatch(
            /^--s3-endpoint "s3\.example\.com": is not a URL/,
        );
        expect(await usage("doctor", "--vault-addr", `https://root:${SECRET.replace(/[#/?]/g, "")}@vault:8200`)).toMatch(
            /^--vault-addr "https:\/\/\*\*\*@vault:8200": holds a user, password or query/,
        );
        expect(await usage("doctor", "--management-api-url", "https://api.example.com:70000")).toMatch(
            /^--management-api-url .*port 70000/,
        );
    });

    it("never echoes a stray argument (it may be a URL with a password), and names the flag of a missing or odd value", async () => {
        expect(await usage("import", "--from", "postgresql://old/app", `postgresql://old:${SECRET}@old/app`)).toMatch(
            /^unexpected argument \(word 4 after "ops"; not shown: it may hold a password\)/,
        );
        expect(await usage("restore", `--tagret=postgresql://x:${SECRET}@db/x`)).toMatch(/^unknown option --tagret\n/);
        expect(await usage("drill", "--server")).toMatch(/^--server needs a value/);
        expect(await usage("restore", "--target", `-${SECRET}`)).toMatch(
            /^--target: its value starts with "-"; write it as --target=<value>/,
        );
        expect(await usage("doctor", "--json=yes")).toMatch(/^--json takes no value/);
        expect(await usage("frobnicate")).toMatch(/^unknown command "frobnicate"/);
    });

    it("refuses missing files and directories, and out-of-range numbers, by flag", async () => {
        expect(await usage("doctor", "--migrations-dir", "/nonexistent/migrations", "--database-url", "postgresql://db/x")).toMatch(
            /^--migrations-dir \/nonexistent\/migrations: cannot read it \(ENOENT\); must be an existing directory/,
        );
        expect(await usage("restore", "--bucket", "b", "--aws-credentials-file", "/nonexistent/credentials")).toMatch(
            /^--aws-credentials-file /,
        );
        expect(await usage("restore", "--bucket", "b", "--work-dir", "/nonexistent", "--target", "postgresql://db/x")).toMatch(
            /^--work-dir /,
        );
        expect(await usage("doctor", "--redis-url", "rediss://cache:6380", "--redis-ca", "/nonexistent/ca.pem")).toMatch(
            /^--redis-ca .*ENOENT/,
        );
        expect(await usage("doctor", "--database-url", "postgresql://db/x", "--backup-hash-max-mb", "-1")).toMatch(/--backup-hash-max-mb/);
        expect(await usage("restore", "--bucket", "b", "--target", "postgresql://db/x", "--jobs", "0")).toMatch(
            /^--jobs "0": must be a whole number from 1/,
        );
        expect(
            await usage("doctor", "--vault-addr", "https://vault:8200", "--database-url", "postgresql://db/x", "--skip", "nope"),
        ).toMatch(/^--skip nope/);
    });

    it("checks VAULT_ADDR from the environment like the flag, by its name", async () => {
        const o = await main(["doctor", "--outputs", "/dev/null"], { VAULT_ADDR: "vault:8200", VAULT_TOKEN: "t" });
        // /dev/null is no stack outputs JSON: that flag is named first.
        expect(o).toMatchObject({
            code: 2,
            stderr: expect.stringMatching(/^--outputs \/dev\/null: cannot read stack outputs JSON/) as string,
        });
    });
});

describe("SQL the tool prints", () => {
    it("quotes every identifier as PostgreSQL's quote_ident would, schema and name apart", () => {
        expect(quoteIdent('Au"dit Trail')).toBe('"Au""dit Trail"');
        expect(qualifiedName("My.Schema", "select")).toBe('"My.Schema"."select"');
        expect(quoteTable('api.In"voices')).toBe('"api"."In""voices"');
        expect(enableRlsStatement("api", "Audit Trail")).toBe('alter table "api"."Audit Trail" enable row level security;');
        expect(foreignKeyIndexStatement("public", "invoices", ["ProjectRef", 'te"nant'])).toBe(
            'create index on "public"."invoices" ("ProjectRef", "te""nant");',
        );
        expect(terminateStatement(4242)).toBe("select pg_terminate_backend(4242);");
    });
});

describe("countMismatches", () => {
    it("reports a table with fewer or more rows than the manifest, not only a missing one", () => {
        const manifest = { "public.projects": 1800, "public.users": 600, "auth.users": 600 };
        expect(countMismatches(manifest, { "public.projects": 1799, "public.users": 600, "auth.users": 601 })).toEqual([
            "auth.users: manifest 600 rows, restored 601",
            "public.projects: manifest 1800 rows, restored 1799",
        ]);
        expect(countMismatches(manifest, { "public.projects": 1800, "public.users": 600 })).toEqual([
            "auth.users: manifest 600 rows, restored missing",
        ]);
        expect(countMismatches(manifest, { ...manifest })).toEqual([]);
        // Zero rows restored is a difference too (not "missing", not equal).
        expect(countMismatches({ "public.t": 3 }, { "public.t": 0 })).toEqual(["public.t: manifest 3 rows, restored 0"]);
    });
});
