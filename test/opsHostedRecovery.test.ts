/**
 * doctor's recovery and advisor checks of the hosted project (ops/hosted.ts, lib/ops/pitr.ts,
 * lib/ops/advisors.ts) against the spec-validating Management API double: PITR on with a fresh or
 * a stale latest recovery point, PITR off, the read replicas, and each advisor lint a check with
 * Supabase's remediation (ERROR fails, WARN warns).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../ops/cli";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "abcdefghijklmnopqrst";
const double = useManagementApiDouble();
let work: string;
beforeAll(() => void (work = mkdtempSync(join(tmpdir(), "ops-hosted-recovery-"))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Check = { group: string; name: string; status: string; evidence: string; fix?: string };

async function doctor() {
    const file = join(work, "outputs.json");
    writeFileSync(file, JSON.stringify({ supabaseProject: { ref: REF, managementApiUrl: double.api.url } }));
    const o = await main(["doctor", "--json", "--outputs", file], { SUPABASE_ACCESS_TOKEN: double.api.token });
    const checks = ((JSON.parse(o.stdout) as { checks: Check[] }).checks ?? []).filter((c) => c.group === "hosted");
    return { code: o.code, get: (name: string) => checks.find((c) => c.name === name), names: checks.map((c) => c.name) };
}

const now = () => Math.floor(Date.now() / 1000);
const project = (overrides = {}) => double.api.addProject(REF, { ssl: true, legacyEnabled: false, ...overrides });
const lint = (name: string, level: "ERROR" | "WARN" | "INFO", remediation: string) => ({
    name,
    title: `${name} title`,
    level,
    facing: "EXTERNAL",
    categories: ["SECURITY"],
    description: "d",
    detail: `Table \`public.notes\` is public, but RLS has not been enabled.`,
    remediation,
    metadata: { schema: "public", name: "notes", type: "table" },
    cache_key: `${name}_public_notes`,
});

describe("ops doctor: recovery of the hosted project", () => {
    it("passes with PITR on and a recovery point minutes old, naming the window", async () => {
        project({ addons: { compute: "ci_small", pitr: "pitr_7" }, pitrWindow: { earliest: now() - 7 * 86400, latest: now() - 90 } });
        const c = (await doctor()).get("point-in-time recovery")!;
        expect(c.status).toBe("pass");
        expect(c.evidence).toMatch(/^on; the latest recovery point is 1 min \d+ s old; window \d{4}-/);
    });

    it("fails when the latest recovery point is older than 10 minutes", async () => {
        project({ addons: { compute: "ci_small", pitr: "pitr_7" }, pitrWindow: { earliest: now() - 86400, latest: now() - 3600 } });
        const r = await doctor();
        expect(r.code).toBe(1);
        expect(r.get("point-in-time recovery")).toMatchObject({ status: "fail", evidence: expect.stringMatching(/is 60 min \d+ s old/) });
    });

    it("warns when PITR is off, with the setting that turns it on", async () => {
        project();
        expect((await doctor()).get("point-in-time recovery")).toMatchObject({
            status: "warn",
            fix: expect.stringMatching(/pulumi config set supabasePitr pitr_7/),
        });
    });

    it("lists the read replicas", async () => {
        project({ replicas: [{ identifier: `${REF}-rr-eu-west-1-abcde`, region: "eu-west-1" }] });
        expect((await doctor()).get("read replicas")).toMatchObject({ status: "pass", evidence: `1: ${REF}-rr-eu-west-1-abcde` });
    });

    it("makes each advisor lint a check with its remediation: ERROR fails, WARN warns, INFO is counted", async () => {
        const p = project();
        p.lints.security = [
            lint(
                "rls_disabled_in_public",
                "ERROR",
                "https://supabase.com/docs/guides/database/database-linter?lint=0013_rls_disabled_in_public",
            ),
            lint("pitr_not_enabled", "INFO", "turn on PITR"),
        ];
        p.lints.performance = [lint("unindexed_foreign_keys", "WARN", "add an index")];
        const r = await doctor();
        expect(r.code).toBe(1);
        expect(r.get("security advisor rls_disabled_in_public on public.notes")).toMatchObject({
            status: "fail",
            evidence: expect.stringMatching(/^ERROR: rls_disabled_in_public title: Table `public.notes` is public/),
            fix: expect.stringMatching(/lint=0013_rls_disabled_in_public/),
        });
        expect(r.get("performance advisor unindexed_foreign_keys on public.notes")).toMatchObject({ status: "warn", fix: "add an index" });
        expect(r.names.filter((n) => n.includes("pitr_not_enabled"))).toEqual([]);
    });
});
