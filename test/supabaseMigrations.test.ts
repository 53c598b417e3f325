/** SupabaseMigrations under the mocks, and the migration hash that triggers it. */
import { cpSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readMigrations } from "../lib/migrations";
import { findLeaks } from "../lib/offline/leaks";
import { reveal, SecretValue } from "../lib/offline/values";
import { byName, evaluateStack, PROJECT_DIR, STACKS } from "./harness";

describe.each(STACKS)("SupabaseMigrations (%s)", (stack) => {
    it("pushes with the pinned CLI, non-interactively, keeping URL and password out of the command", async () => {
        const ev = await evaluateStack(stack);
        const push = byName(ev, "migrations-push");
        expect(push.type).toBe("command:local:Command");
        expect(push.inputs.environment).toBeInstanceOf(SecretValue);
        const env = reveal(push.inputs.environment) as Record<string, string>;
        const create = String(push.inputs.create);
        expect(create).toBe('"node_modules/.bin/supabase" db push --db-url "$SUPABASE_DB_URL" --workdir "." --yes');
        expect(create).not.toContain(env.PGPASSWORD);
        expect(create).not.toContain(env.SUPABASE_DB_URL);
        expect(env.PGPASSWORD).toMatch(/^[A-Za-z0-9]{40}$/);
        expect(push.inputs.logging).toBe("none");
        expect(findLeaks(ev)).toEqual([]);
    });

    it("targets the direct connection, never the transaction pooler", async () => {
        const ev = await evaluateStack(stack);
        const url = new URL((reveal(byName(ev, "migrations-push").inputs.environment) as Record<string, string>).SUPABASE_DB_URL);
        // prod: the project's direct port; dev: the port `supabase start` maps to its database's 5432.
        expect(url.port).toBe(stack === "prod" ? "5432" : "54322");
        expect(url.hostname).toBe(stack === "prod" ? "db.toolboxaiprodprojref.supabase.co" : "127.0.0.1");
        expect(url.password).toBe("");
        expect(url.searchParams.get("sslmode")).toBe(stack === "prod" ? "require" : "disable");
    });

    it("targets another database as a new push (the target is part of the trigger)", async () => {
        const triggers = async (overrides: Record<string, string>) =>
            byName(await evaluateStack(stack, { overrides }), "migrations-push").inputs.triggers as string[];
        const base = await triggers({});
        const moved = await triggers({ supabaseDbHost: "db2.example.com" });
        expect(moved[0]).toBe(base[0]);
        expect(moved[1]).not.toBe(base[1]);
        expect(await triggers({ rotationGeneration: "7" })).toEqual(base);
    });

    it("runs when the migrations change, and after the credentials applied the database password", async () => {
        const ev = await evaluateStack(stack);
        const push = byName(ev, "migrations-push");
        const triggers = push.inputs.triggers as string[];
        expect(triggers[0]).toBe(readMigrations(join(PROJECT_DIR, "supabase", "migrations")).hash);
        expect(triggers[1]).toMatch(/^[a-f0-9]{64}$/);
        // A rotated password changes only the environment: an update, which does nothing.
        expect(push.inputs.update).toBe("exit 0");
        expect(push.options.dependencies).toContain(byName(ev, "credentials-apply-database-password").urn);
    });
});

describe("migration hash (the push trigger)", () => {
    const dirs: string[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
    const copy = () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-migrations-"));
        dirs.push(dir);
        cpSync(join(PROJECT_DIR, "supabase", "migrations"), dir, { recursive: true });
        return dir;
    };

    it("stays the same when nothing changes, even timestamps", () => {
        const dir = copy();
        const before = readMigrations(dir).hash;
        const [file] = readMigrations(dir).files;
        utimesSync(join(dir, file), new Date(0), new Date(0));
        expect(readMigrations(dir).hash).toBe(before);
        expect(readMigrations(copy()).hash).toBe(before);
    });

    it("changes when a migration's content changes, one is added, or one is renamed", () => {
        const dir = copy();
        const before = readMigrations(dir).hash;
        const [file] = readMigrations(dir).files;
        writeFileSync(join(dir, file), "-- changed\n", { flag: "a" });
        const edited = readMigrations(dir).hash;
        expect(edited).not.toBe(before);
        writeFileSync(join(dir, "20991231000000_later.sql"), "select 1;\n");
        const added = readMigrations(dir).hash;
        expect(added).not.toBe(edited);
        renameSync(join(dir, "20991231000000_later.sql"), join(dir, "20991231000001_later.sql"));
        expect(readMigrations(dir).hash).not.toBe(added);
    });

    it("refuses a file the Supabase CLI would not take as a migration", () => {
        const dir = copy();
        writeFileSync(join(dir, "2026_add_table.sql"), "select 1;\n");
        expect(() => readMigrations(dir)).toThrow(/"2026_add_table\.sql" not named <14-digit UTC timestamp>_<lowercase_name>\.sql/);
    });
});
