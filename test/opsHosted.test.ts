/**
 * doctor's hosted-project group against the local double of the Management API (built from the
 * spec, so its replies have the real shapes): a healthy project passes; SSL off fails; drifted
 * network restrictions fail; legacy keys on warn; a refused token gives the one token error; a
 * local stack skips the group with the reason. The token never reaches the output.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { compareRestrictions } from "../lib/ops/hosted";
import { main, type Outcome } from "../ops/cli";
import { startManagementApiDouble, type ManagementApiDouble } from "./support/management-api-double";

const REF = "abcdefghijklmnopqrst";
const EXPECTED = { ipv4: ["203.0.113.0/24"], ipv6: ["2001:db8::/48"] };
/** A second, wrong token in the shape of a real one: planted, it must never be printed either. */
const WRONG_TOKEN = `sbp_${"0123456789abcdef".repeat(2)}01234567`;

let api: ManagementApiDouble;
let work: string;
const outputs: string[] = [];

type Check = { group: string; name: string; status: string; evidence: string; fix?: string };

function outputsFile(name: string, supabaseProject: unknown): string {
    const file = join(work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ supabaseProject }));
    return file;
}

const hostedOutputs = (overrides: Record<string, unknown> = {}) =>
    outputsFile("hosted", {
        ref: REF,
        managementApiUrl: api.url,
        secretKeyNames: { backend: "toolboxai_backend_a0" },
        legacyKeysEnabled: false,
        databaseAllowedCidrs: EXPECTED,
        ...overrides,
    });

async function doctor(argv: string[], env: NodeJS.ProcessEnv = { SUPABASE_ACCESS_TOKEN: api.token }) {
    const o: Outcome = await main(["doctor", "--json", ...argv], env);
    outputs.push(o.stdout, o.stderr);
    const json = o.stdout ? (JSON.parse(o.stdout) as { checks?: Check[] }) : {};
    const hosted = (json.checks ?? []).filter((c) => c.group === "hosted");
    return { ...o, hosted, get: (name: string) => hosted.find((c) => c.name === name)! };
}

beforeAll(async () => {
    api = await startManagementApiDouble();
    work = mkdtempSync(join(tmpdir(), "ops-hosted-"));
});
afterAll(async () => {
    // Planted: the double's token and keys, and the wrong token, in none of the tool's output.
    const all = outputs.join("\n");
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [...api.secrets(), WRONG_TOKEN]) expect(all).not.toContain(secret);
    await api.close();
    rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
    api.addProject(REF, {
        ssl: true,
        network: { dbAllowedCidrs: ["203.0.113.0/24"], dbAllowedCidrsV6: ["2001:db8::/48"] },
        legacyEnabled: false,
    });
});

describe("ops doctor: the hosted project", () => {
    it("passes on a healthy project read from the stack outputs, and only reads", async () => {
        const r = await doctor(["--outputs", hostedOutputs()]);
        expect(r.code).toBe(0);
        expect(r.hosted.map((c) => [c.name, c.status])).toEqual([
            ["SSL enforcement", "pass"],
            ["network restrictions", "pass"],
            ["legacy keys", "pass"],
            // test/opsHostedRecovery.test.ts covers these; this project has no PITR add-on.
            ["point-in-time recovery", "warn"],
            ["read replicas", "pass"],
            ["security advisors", "pass"],
            ["performance advisors", "pass"],
        ]);
        expect(r.get("network restrictions").evidence).toContain("equal to the stack's databaseAllowedCidrs");
        expect(r.get("legacy keys").evidence).toContain("disabled");
        expect(api.log.filter((l) => !l.operation.startsWith("GET "))).toEqual([]);
    });

    it("fails when SSL enforcement is off, with the fix", async () => {
        api.projects.get(REF)!.ssl = false;
        const r = await doctor(["--outputs", hostedOutputs()]);
        expect(r.code).toBe(1);
        expect(r.get("SSL enforcement")).toMatchObject({ status: "fail" });
        expect(r.get("SSL enforcement").fix).toContain("pulumi config set databaseSslEnforced true");
    });

    it("fails when the restrictions drifted from the stack's, naming what is missing and extra", async () => {
        api.projects.get(REF)!.network = { dbAllowedCidrs: ["198.51.100.0/24"], dbAllowedCidrsV6: ["2001:db8::/48"] };
        const r = await doctor(["--outputs", hostedOutputs()]);
        expect(r.code).toBe(1);
        const c = r.get("network restrictions");
        expect(c.status).toBe("fail");
        expect(c.evidence).toContain("missing: 203.0.113.0/24");
        expect(c.evidence).toContain("not in the stack: 198.51.100.0/24");
        expect(c.fix).toContain("pulumi up");
    });

    it("fails when the restrictions are stored but not applied", async () => {
        api.projects.get(REF)!.networkStatus = "stored";
        const r = await doctor(["--outputs", hostedOutputs()]);
        expect(r.code).toBe(1);
        expect(r.get("network restrictions")).toMatchObject({ status: "fail", evidence: expect.stringContaining("not applied") as string });
    });

    it("compares networks, not spellings; an entry the parser refuses shows as drift", () => {
        expect(compareRestrictions({ dbAllowedCidrs: ["203.0.113.0/24"], dbAllowedCidrsV6: ["2001:DB8:0::/48"] }, EXPECTED)).toMatchObject({
            missing: [],
            extra: [],
            allowsAll: false,
        });
        const c = compareRestrictions({ dbAllowedCidrs: ["203.0.113.7/24"], dbAllowedCidrsV6: ["2001:db8::/48"] }, EXPECTED);
        expect(c.extra).toEqual(["203.0.113.7/24"]);
        expect(c.missing).toEqual(["203.0.113.0/24"]);
        expect(compareRestrictions({ dbAllowedCidrsV6: ["::/0"] }, undefined)).toMatchObject({ missing: [], extra: [], allowsAll: true });
    });

    it("warns on 0.0.0.0/0, and reports the restrictions as evidence when the outputs do not carry them", async () => {
        api.projects.get(REF)!.network = { dbAllowedCidrs: ["0.0.0.0/0"], dbAllowedCidrsV6: ["::/0"] };
        const r = await doctor(["--project-ref", REF, "--management-api-url", api.url]);
        expect(r.code).toBe(0);
        const c = r.get("network restrictions");
        expect(c.status).toBe("warn");
        expect(c.evidence).toContain("0.0.0.0/0, ::/0");
        expect(c.evidence).toContain("reported only");
        expect(c.fix).toContain("databaseAllowedCidrs");
    });

    it("warns when the legacy keys are on, pointing at the migration", async () => {
        api.projects.get(REF)!.legacyEnabled = true;
        const r = await doctor(["--project-ref", REF, "--management-api-url", api.url]);
        expect(r.code).toBe(0);
        expect(r.get("legacy keys")).toMatchObject({ status: "warn" });
        expect(r.get("legacy keys").evidence).toContain("enabled");
        expect(r.get("legacy keys").fix).toContain("docs/hosted-project.md");
        // Against a stack that expects them off, it is drift: a failure.
        const drift = await doctor(["--outputs", hostedOutputs()]);
        expect(drift.get("legacy keys")).toMatchObject({ status: "fail" });
    });

    it("gives the one token error on 401 and on 403, naming the token's source, never its value", async () => {
        const r = await doctor(["--outputs", hostedOutputs()], { SUPABASE_ACCESS_TOKEN: WRONG_TOKEN });
        expect(r.code).toBe(1);
        expect(r.hosted).toHaveLength(1);
        expect(r.hosted[0]).toMatchObject({ name: "access token", status: "fail" });
        expect(r.hosted[0].evidence).toContain("SUPABASE_ACCESS_TOKEN (401)");
        expect(r.hosted[0].fix).toContain("supabase.com/dashboard/account/tokens");

        api.inject({ operation: "GET /v1/projects/{ref}/network-restrictions", status: 403 });
        const file = join(work, "token");
        writeFileSync(file, `${api.token}\n`);
        const f = await doctor(["--outputs", hostedOutputs(), "--access-token-file", file], {});
        expect(f.hosted.map((c) => [c.name, c.status])).toEqual([
            ["SSL enforcement", "pass"],
            ["access token", "fail"],
        ]);
        expect(f.get("access token").evidence).toContain(`--access-token-file ${file} (403)`);
    });

    it("fails with the fix when a hosted stack has no token, and on a token of the wrong shape", async () => {
        const none = await doctor(["--outputs", hostedOutputs()], {});
        expect(none.get("access token")).toMatchObject({ status: "fail" });
        expect(none.get("access token").fix).toContain("SUPABASE_ACCESS_TOKEN");
        const shape = await doctor(["--outputs", hostedOutputs()], { SUPABASE_ACCESS_TOKEN: "eyJhbGciOiJIUzI1NiJ9.e30.planted-jwt-value" });
        expect(shape.get("access token").evidence).toContain("not shaped like a personal access token");
        expect(shape.stdout + shape.stderr).not.toContain("planted-jwt-value");
    });

    it("skips the group for a local stack, with the reason", async () => {
        const r = await doctor(["--outputs", outputsFile("local", null), "--database-url", "postgresql://u@127.0.0.1:1/x?sslmode=disable"]);
        expect(r.hosted).toEqual([expect.objectContaining({ status: "skip", evidence: expect.stringContaining("local stack") as string })]);
    });

    it("refuses bad flags before any request, naming the flag and what is allowed", async () => {
        const before = api.log.length;
        const ref = await doctor(["--project-ref", "ABC"]);
        expect(ref.code).toBe(2);
        expect(ref.stderr).toContain('--project-ref "ABC": must be a Supabase project ref: 20 lowercase letters');
        const url = await doctor(["--project-ref", REF, "--management-api-url", "http://api.example.com"]);
        expect(url.code).toBe(2);
        expect(url.stderr).toContain("--management-api-url");
        expect(url.stderr).toContain("https://");
        expect(api.log.length).toBe(before);
    });
});
