/**
 * The CI advisors gate (scripts/advisors-gate.ts, `npm run test:advisors`) on a real PostgreSQL 15
 * with the pinned Supabase CLI: the repository's migrations pass it; a planted public table without
 * RLS fails it with `rls_disabled_in_public`; and the workflows run it after the tests.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advisorsGate, gateVerdict, supabaseLikeDatabase, supabaseLikeServer } from "../scripts/advisors-gate";
import { PROJECT_DIR } from "./harness";
import type { PostgresServer } from "./support/postgres";

let pg: PostgresServer;
let work: string;
beforeAll(async () => {
    pg = await supabaseLikeServer();
    work = mkdtempSync(join(tmpdir(), "advisors-gate-"));
}, 60_000);
afterAll(async () => {
    await pg?.stop();
    rmSync(work, { recursive: true, force: true });
});

/** A copy of the repository's supabase/ directory with one more migration. */
function workdirWith(name: string, sql: string): string {
    const dir = join(work, name);
    cpSync(join(PROJECT_DIR, "supabase"), join(dir, "supabase"), { recursive: true });
    writeFileSync(join(dir, "supabase", "migrations", "29991231000000_planted.sql"), sql);
    return dir;
}

describe("advisors gate", () => {
    it("passes the repository's migrations", async () => {
        await supabaseLikeDatabase(pg, "gate_clean");
        const r = await advisorsGate(pg, "gate_clean");
        expect(r.output).not.toMatch(/"level": "ERROR"/);
        expect(r.code).toBe(0);
    }, 120_000);

    it("fails on a planted public table without RLS, naming the lint and the table", async () => {
        await supabaseLikeDatabase(pg, "gate_planted");
        const r = await advisorsGate(
            pg,
            "gate_planted",
            workdirWith("planted", "create table public.planted_notes (id bigint primary key, body text);\n"),
        );
        expect(r.code).toBe(1);
        expect(r.output).toMatch(/"name": "rls_disabled_in_public"/);
        expect(r.output).toContain("Table `public.planted_notes` is public, but RLS has not been enabled.");
    }, 120_000);

    it("passes the same table once it has RLS (the fix the gate asks for)", async () => {
        await supabaseLikeDatabase(pg, "gate_fixed");
        const r = await advisorsGate(
            pg,
            "gate_fixed",
            workdirWith(
                "fixed",
                "create table public.planted_notes (id bigint primary key, body text);\nalter table public.planted_notes enable row level security;\n",
            ),
        );
        expect(r.output).not.toMatch(/rls_disabled_in_public/);
        expect(r.code).toBe(0);
    }, 120_000);
});

describe("the gate's verdict", () => {
    // What CLI 2.117 printed: the lints as JSON on stdout (exit 1 under --fail-on error); a refused connection exits 1 with nothing on stdout.
    const lints = JSON.stringify([{ name: "rls_disabled_in_public", level: "ERROR" }]);

    it("fails on a lint at ERROR, and calls an exit without one a broken run, not a lint", () => {
        expect(gateVerdict(0, "")).toBe("pass");
        expect(gateVerdict(1, lints)).toBe("lint");
        expect(gateVerdict(1, "")).toBe("broken");
        expect(gateVerdict(1, JSON.stringify([{ name: "unindexed_foreign_keys", level: "INFO" }]))).toBe("broken");
    });
});

describe("advisors gate in CI", () => {
    type Workflow = { jobs: Record<string, { steps?: { name?: string; run?: string }[] }> };
    const steps = (file: string) =>
        (load(readFileSync(join(PROJECT_DIR, ".github", "workflows", file), "utf8")) as Workflow).jobs.test.steps ?? [];
    const ciLines = readFileSync(join(PROJECT_DIR, ".ci", "run"), "utf8").split("\n");

    it("CI (.ci/run) runs the gate after the README's tests", () => {
        const tests = ciLines.indexOf("npm run test:all");
        const gate = ciLines.indexOf("npm run test:advisors");
        expect(tests).toBeGreaterThanOrEqual(0);
        expect(gate).toBeGreaterThan(tests);
    });

    it.each(["pull-request.yml", "pulumi-up.yml"])("%s runs CI's script, and so the gate", (file) => {
        expect(steps(file).map((s) => s.run ?? "")).toContain("bash .ci/run");
    });

    it("the npm script runs the gate script", () => {
        const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> };
        expect(pkg.scripts["test:advisors"]).toBe("node -r ./scripts/register.js scripts/advisors-gate.ts");
    });
});
