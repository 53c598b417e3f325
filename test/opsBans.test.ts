/**
 * The hosted project's network bans (#21): doctor's check of the application hosts
 * (lib/supabase/bans.ts, ops/hosted.ts) and `ops unban` (ops/bans.ts), against the spec-validating
 * Management API double: the bodies the spec requires, the validation before any request, the
 * dry run that sends nothing, retried reads, the idempotent DELETE and the ban read again.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../ops/cli";
import { liftBan } from "../ops/bans";
import { banChecks, ipv4Problem, liftBanCommand, parseIpv4List } from "../lib/supabase/bans";
import { useHostedDoctor } from "./support/hosted-doctor";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "abcdefghijklmnopqrst";
const APP = "203.0.113.7";
const OTHER = "198.51.100.23";
const double = useManagementApiDouble();
const hosted = useHostedDoctor(double, REF);
const outputsFile = (applicationEgressIpv4: string[] | null) => hosted.outputs({ applicationEgressIpv4 });
const doctor = (applicationEgressIpv4: string[] | null = [APP], flags: string[] = []) => hosted.doctor({ applicationEgressIpv4 }, flags);

async function unban(...args: string[]) {
    return main(["unban", "--outputs", outputsFile([APP]), ...args], { SUPABASE_ACCESS_TOKEN: double.api.token });
}

const project = (bans: { address: string; identifier?: string; type?: string }[]) =>
    double.api.addProject(REF, {
        ssl: true,
        legacyEnabled: false,
        bans: bans.map((b) => ({ identifier: "supavisor", type: "auth_failures", ...b })),
    });
const sent = (operation: string) => double.api.log.filter((r) => r.operation === operation);
const RETRIEVE = "POST /v1/projects/{ref}/network-bans/retrieve";
const LIFT = "DELETE /v1/projects/{ref}/network-bans";

describe("network ban rules", () => {
    it("takes one dotted IPv4 address and says what is wrong with anything else", () => {
        expect(ipv4Problem("203.0.113.7")).toBeUndefined();
        expect(ipv4Problem("203.0.113.300")).toMatch(/is not an IPv4 address \(four numbers 0-255/);
        expect(ipv4Problem("203.0.113.0/24")).toMatch(/is a network, not an address/);
        expect(ipv4Problem("2001:db8::1")).toMatch(/is IPv6: Supabase's network bans are IPv4 only/);
        expect(ipv4Problem("")).toMatch(/is not an IPv4 address/);
    });

    it("parses a list of addresses, or none, and names each bad entry", () => {
        expect(parseIpv4List(" 203.0.113.7, 198.51.100.23 ,203.0.113.7")).toEqual({ ok: true, addresses: [APP, OTHER] });
        expect(parseIpv4List("none")).toEqual({ ok: true, addresses: [] });
        expect(parseIpv4List("203.0.113.7,,1.2.3.4")).toMatchObject({ ok: false, problem: expect.stringMatching(/empty entry/) });
        expect(parseIpv4List("203.0.113.7,10.0.0.0/8,db.example.com")).toEqual({
            ok: false,
            problem: expect.stringMatching(/^"10\.0\.0\.0\/8" is a network.*; "db\.example\.com" is not an IPv4 address/),
        });
    });

    it("fails for each banned application host with the exact command, warns for other bans, passes with none", () => {
        const [host, others] = banChecks(REF, [{ address: APP, type: "auth_failures" }, { address: OTHER }], [APP, "192.0.2.1"]);
        expect(host).toMatchObject({ name: `network ban on application host ${APP}`, status: "fail" });
        expect(host.evidence).toContain(`bans the application host ${APP} (auth_failures)`);
        expect(host.fix).toContain(`\`npm run ops -- unban --project-ref ${REF} --address ${APP} --confirm ${REF}\``);
        expect(others).toMatchObject({
            name: "network bans",
            status: "warn",
            evidence: expect.stringContaining(`1 other address: ${OTHER}`),
        });
        expect(banChecks(REF, [], [APP])).toEqual([
            {
                name: "network bans",
                status: "pass",
                evidence: `project ${REF} bans no address (application hosts ${APP} not banned)`,
                counts: { bannedAddresses: 0, bannedApplicationHosts: 0 },
            },
        ]);
        // Without the application's addresses every ban is listed, and the fix says how to name them.
        expect(banChecks(REF, [{ address: APP }], undefined)[0]).toMatchObject({
            status: "warn",
            fix: expect.stringMatching(/applicationEgressIpv4/),
        });
    });
});

describe("ops doctor: network bans of the hosted project", () => {
    it("fails loudly for a banned application host, with who banned it and the command that lifts the ban", async () => {
        project([{ address: APP }, { address: OTHER, type: "manual" }]);
        const r = await doctor();
        expect(r.code).toBe(1);
        expect(r.get(`network ban on application host ${APP}`)).toMatchObject({
            status: "fail",
            evidence: expect.stringContaining(`${APP} (auth_failures, supavisor)`),
            fix: expect.stringContaining(liftBanCommand(REF, APP)),
        });
        expect(r.get("network bans")).toMatchObject({ status: "warn", evidence: expect.stringContaining(`${OTHER} (manual, supavisor)`) });
        // The plain list, then the enriched one for the details; neither sends a body.
        expect(sent(RETRIEVE).map((x) => [x.status, x.body])).toEqual([[201, undefined]]);
        expect(sent(`${RETRIEVE}/enriched`)).toHaveLength(1);
    });

    it("passes when no address is banned, without asking for the enriched list", async () => {
        project([]);
        const r = await doctor();
        expect(r.get("network bans")).toMatchObject({ status: "pass" });
        expect(sent(`${RETRIEVE}/enriched`)).toEqual([]);
    });

    it("--app-ipv4 names the application hosts instead of the stack's, and is validated", async () => {
        project([{ address: OTHER }]);
        const r = await doctor([APP], ["--app-ipv4", OTHER]);
        expect(r.get(`network ban on application host ${OTHER}`)?.status).toBe("fail");
        const bad = await main(["doctor", "--outputs", outputsFile(null), "--app-ipv4", "10.0.0.0/8"], {
            SUPABASE_ACCESS_TOKEN: double.api.token,
        });
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/^--app-ipv4 "10\.0\.0\.0\/8": "10\.0\.0\.0\/8" is a network, not an address/);
    });

    it("retries the list (a POST that only reads) after a 500 and a 429, then reports", async () => {
        project([{ address: APP }]);
        double.api.inject({ operation: RETRIEVE, status: 500 });
        double.api.inject({ operation: RETRIEVE, status: 429, resetSeconds: 0 });
        const r = await doctor();
        expect(sent(RETRIEVE).map((x) => x.status)).toEqual([500, 429, 201]);
        expect(r.get(`network ban on application host ${APP}`)?.status).toBe("fail");
    });

    it("still reports the ban when the enriched list fails", async () => {
        project([{ address: APP }]);
        double.api.inject({ operation: `${RETRIEVE}/enriched`, status: 404, message: "Not found" });
        const r = await doctor();
        expect(r.get(`network ban on application host ${APP}`)).toMatchObject({
            status: "fail",
            evidence: expect.stringContaining(`host ${APP}:`),
        });
    });
});

describe("ops unban", () => {
    it("refuses a bad address, a CIDR, IPv6, a missing or wrong --confirm, before any request", async () => {
        project([{ address: APP }]);
        const cases: [string[], RegExp][] = [
            [["--confirm", REF], /^--address is required/],
            [["--address", "203.0.113.300", "--confirm", REF], /^--address "203\.0\.113\.300" is not an IPv4 address/],
            [["--address", "203.0.113.0/24", "--confirm", REF], /is a network, not an address/],
            [["--address", "2001:db8::1", "--confirm", REF], /is IPv6/],
            [["--address", APP], new RegExp(`^--confirm is missing: .*pass --confirm ${REF} to confirm`)],
            [
                ["--address", APP, "--confirm", "zzzzzzzzzzzzzzzzzzzz"],
                /^--confirm "zzzzzzzzzzzzzzzzzzzz": lifting a ban lets 203\.0\.113\.7 reach project/,
            ],
        ];
        for (const [args, message] of cases) {
            const o = await unban(...args);
            expect(o.code, args.join(" ")).toBe(2);
            expect(o.stderr).toMatch(message);
        }
        expect(double.api.log).toEqual([]);
    });

    it("--dry-run reads the bans and says what it would send, sending nothing", async () => {
        project([{ address: APP }]);
        const o = await unban("--address", APP, "--confirm", REF, "--dry-run");
        expect(o.code).toBe(0);
        expect(o.stdout).toContain(`${APP} is banned (auth_failures, supavisor)`);
        expect(o.stdout).toContain(`dry run: nothing sent. It would send ${LIFT} {"ipv4_addresses":["${APP}"],"requester_ip":false}`);
        expect(sent(LIFT)).toEqual([]);
        expect(double.api.projects.get(REF)!.bans.map((b) => b.address)).toEqual([APP]);
    });

    it("needs neither Vault nor a database password: an unreachable Vault does not stop it", async () => {
        project([{ address: APP }]);
        // A whole stack's outputs: Vault and the database too, which every other command reads first.
        const file = outputsFile([APP]);
        const stack = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
        writeFileSync(
            file,
            JSON.stringify({
                ...stack,
                vault: { address: "http://127.0.0.1:1", mount: "secret", pathPrefix: "toolboxai/prod", appRoleMount: "approle" },
                database: { host: "db.example.invalid", port: 5432, name: "postgres", sslMode: "verify-full", ownerUser: "postgres" },
            }),
        );
        const o = await main(["unban", "--outputs", file, "--address", APP, "--confirm", REF, "--dry-run"], {
            SUPABASE_ACCESS_TOKEN: double.api.token,
            VAULT_ADDR: "http://127.0.0.1:1",
            VAULT_TOKEN: "hvs.not-a-real-token",
        });
        expect(o.stderr).not.toContain("Vault");
        expect(o.code).toBe(0);
        expect(o.stdout).toContain(`${APP} is banned`);
    });

    it("lifts the ban with the spec's body, only that address, and reads it back gone", async () => {
        project([{ address: APP }, { address: OTHER }]);
        const o = await unban("--address", APP, "--confirm", REF, "--json");
        expect(o.code).toBe(0);
        expect(JSON.parse(o.stdout)).toMatchObject({ ok: true, wasBanned: true, stillBanned: false, address: APP });
        expect(sent(LIFT).map((x) => [x.status, x.body])).toEqual([[200, { ipv4_addresses: [APP], requester_ip: false }]]);
        expect(double.api.projects.get(REF)!.bans.map((b) => b.address)).toEqual([OTHER]);
        // Read before and after.
        expect(sent(RETRIEVE)).toHaveLength(2);
    });

    it("sends nothing for an address that is not banned", async () => {
        project([{ address: OTHER }]);
        const o = await unban("--address", APP, "--confirm", REF);
        expect(o).toMatchObject({ code: 0, stdout: `project ${REF}: ${APP} is not banned; nothing sent\n` });
        expect(sent(LIFT)).toEqual([]);
    });

    it("sends the DELETE again after a 500 (idempotent: the second one leaves the same state)", async () => {
        project([{ address: APP }]);
        double.api.inject({ operation: LIFT, status: 500 });
        const r = await liftBan(
            { ref: REF, apiUrl: double.api.url, token: double.api.token, tokenSource: "test" },
            { address: APP, confirm: REF, dryRun: false, backoffMs: 1 },
        );
        expect(r).toMatchObject({ ok: true, stillBanned: false });
        expect(sent(LIFT).map((x) => x.status)).toEqual([500, 200]);
    });

    it("fails when the API accepts the DELETE but the address is still banned when read again", async () => {
        project([{ address: APP }]);
        // A 200 that changes nothing (the double's status fault leaves the state as it was).
        double.api.inject({ operation: LIFT, status: 200, message: "ok" });
        const o = await unban("--address", APP, "--confirm", REF);
        expect(o.code).toBe(1);
        expect(o.stderr).toMatch(
            /^unban refused: project abcdefghijklmnopqrst: the API accepted DELETE .* for 203\.0\.113\.7, but the address is still banned when read again/,
        );
    });

    it("gives up on a list that does not answer within its timeout, with nothing sent", async () => {
        project([{ address: APP }]);
        double.api.inject({ operation: RETRIEVE, hang: true, times: 3 });
        const message = await double.failure(
            liftBan(
                { ref: REF, apiUrl: double.api.url, token: double.api.token, tokenSource: "test" },
                { address: APP, confirm: REF, dryRun: false, timeoutMs: 200, backoffMs: 1 },
            ),
        );
        expect(message).toMatch(/POST \/v1\/projects\/\{ref\}\/network-bans\/retrieve failed after 3 attempts: no answer within 0\.2 s/);
        expect(sent(LIFT)).toEqual([]);
    });
});
