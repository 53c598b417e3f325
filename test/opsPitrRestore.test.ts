/**
 * `ops restore --point-in-time` against the spec-validating Management API double: a time outside
 * the recoverable window, PITR off, or read replicas present send no restore request (the double's
 * log shows it); --dry-run sends nothing; a restore sends the spec's body, follows the project to
 * ACTIVE_HEALTHY or RESTORE_FAILED and measures the downtime. The S3 restore's flags stay its own.
 */
import { describe, expect, it } from "vitest";
import { describeDowntime, outsideWindow, parseRecoveryTime } from "../lib/ops/pitr";
import { main } from "../ops/cli";
import { pitrReport, restorePointInTime } from "../ops/pitr";
import { useManagementApiDouble } from "./support/management-api-suite";

const REF = "abcdefghijklmnopqrst";
const double = useManagementApiDouble();
const failure = double.failure;

// 2026-12-07: recovery points from 00:00 to 11:58 UTC.
const EARLIEST = Date.UTC(2026, 11, 7, 0, 0) / 1000;
const LATEST = Date.UTC(2026, 11, 7, 11, 58) / 1000;
const AT_1030 = "2026-12-07T10:30:00Z";

const withPitr = (overrides = {}) =>
    double.api.addProject(REF, {
        addons: { compute: "ci_small", pitr: "pitr_7" },
        pitrWindow: { earliest: EARLIEST, latest: LATEST },
        ...overrides,
    });
const restoreRequests = () => double.api.log.filter((r) => r.operation === "POST /v1/projects/{ref}/database/backups/restore-pitr");
const cli = (...args: string[]) =>
    main(["restore", "--project-ref", REF, "--management-api-url", double.api.url, ...args], { SUPABASE_ACCESS_TOKEN: double.api.token });
const hosted = () => ({ ref: REF, apiUrl: double.api.url, token: double.api.token, tokenSource: "SUPABASE_ACCESS_TOKEN" });

describe("the rules", () => {
    it("takes an ISO time with its zone only, in whole seconds", () => {
        expect(parseRecoveryTime("2026-12-07T11:30:00.900+01:00")).toEqual({ ok: true, unix: Date.UTC(2026, 11, 7, 10, 30) / 1000 });
        for (const bad of ["2026-12-07T10:30:00", "10:30", "yesterday", "2026-13-07T10:30:00Z"])
            expect(parseRecoveryTime(bad)).toMatchObject({ ok: false, problem: expect.stringMatching(/ISO 8601 time with its zone/) });
    });

    it("includes both ends of the window and says which side a time misses", () => {
        const w = { earliestUnix: EARLIEST, latestUnix: LATEST };
        expect(outsideWindow(EARLIEST, w)).toBeUndefined();
        expect(outsideWindow(LATEST, w)).toBeUndefined();
        expect(outsideWindow(EARLIEST - 1, w)).toMatch(
            /before the earliest recovery point: the recoverable window is 2026-12-07T00:00:00Z to 2026-12-07T11:58:00Z/,
        );
        expect(outsideWindow(LATEST + 1, w)).toMatch(/after the latest recovery point/);
        expect(describeDowntime(59_400)).toBe("59 s");
        expect(describeDowntime(754_000)).toBe("12 min 34 s");
    });
});

describe("ops restore --point-in-time: refusals send no restore request", () => {
    it("refuses a time outside the recoverable window", async () => {
        withPitr();
        const o = await cli("--point-in-time", "2026-12-06T23:59:59Z", "--confirm", REF);
        expect(o.code).toBe(1);
        expect(o.stderr).toMatch(
            /restore refused: project abcdefghijklmnopqrst: 2026-12-06T23:59:59Z is before the earliest recovery point/,
        );
        expect(double.api.log.map((r) => r.operation)).toEqual(["GET /v1/projects/{ref}/database/backups"]);
    });

    it("refuses while read replicas exist, saying how to remove and re-add them", async () => {
        withPitr({ replicas: [{ identifier: "abcdefghijklmnopqrst-rr-eu-west-1-abcde", region: "eu-west-1" }] });
        const o = await cli("--point-in-time", AT_1030, "--confirm", REF);
        expect(o.code).toBe(1);
        expect(o.stderr).toMatch(/has read replicas \(abcdefghijklmnopqrst-rr-eu-west-1-abcde\)/);
        expect(o.stderr).toMatch(
            /read-replicas\/remove \{"database_identifier": "<id>"\}.*add them back once the project is ACTIVE_HEALTHY/,
        );
        expect(restoreRequests()).toEqual([]);
    });

    it("refuses when PITR is off, naming the setting", async () => {
        double.api.addProject(REF);
        const o = await cli("--point-in-time", AT_1030, "--confirm", REF);
        expect(o.stderr).toMatch(/PITR is not enabled for this project: turn it on with `pulumi config set supabasePitr pitr_7`/);
        expect(restoreRequests()).toEqual([]);
    });

    it("refuses a missing or wrong --confirm, and a time without zone, before any request", async () => {
        withPitr();
        expect((await cli("--point-in-time", AT_1030)).stderr).toMatch(/--confirm is missing: .* pass --confirm abcdefghijklmnopqrst/);
        expect((await cli("--point-in-time", AT_1030, "--confirm", "zyxwvutsrqponmlkjihg")).code).toBe(2);
        expect((await cli("--point-in-time", "2026-12-07 10:30", "--confirm", REF)).stderr).toMatch(
            /must be an ISO 8601 time with its zone/,
        );
        expect((await cli("--confirm", REF, "--target", "postgresql://x@127.0.0.1/db")).stderr).toMatch(
            /--confirm and --dry-run belong to --point-in-time/,
        );
        expect(double.api.log).toEqual([]);
    });

    it("--dry-run prints the plan and sends nothing", async () => {
        withPitr();
        const o = await cli("--point-in-time", AT_1030, "--confirm", REF, "--dry-run");
        expect(o.code).toBe(0);
        expect(o.stdout).toMatch(
            /restore to 2026-12-07T10:30:00Z \(unix 1796639400\); recoverable window 2026-12-07T00:00:00Z to 2026-12-07T11:58:00Z/,
        );
        expect(o.stdout).toMatch(
            /dry run: nothing sent\. It would send POST \/v1\/projects\/\{ref\}\/database\/backups\/restore-pitr \{"recovery_time_target_unix":1796639400\}/,
        );
        expect(restoreRequests()).toEqual([]);
        expect(double.api.projects.get(REF)!.restoredTo).toEqual([]);
    });
});

describe("ops restore --point-in-time: the restore", () => {
    it("sends the spec's body, follows RESTORING to ACTIVE_HEALTHY, and measures the downtime", async () => {
        const project = withPitr();
        const r = await restorePointInTime(hosted(), { time: AT_1030, confirm: REF, dryRun: false, pollMs: 20 });
        expect(restoreRequests().map((x) => [x.status, x.body])).toEqual([[201, { recovery_time_target_unix: 1796639400 }]]);
        expect(project.restoredTo).toEqual([1796639400]);
        expect(r).toMatchObject({ ok: true, finalStatus: "ACTIVE_HEALTHY", statuses: ["RESTORING", "ACTIVE_HEALTHY"] });
        // Two polls at 20 ms at least between the request and healthy.
        expect(r.downtimeMs).toBeGreaterThanOrEqual(20);
        expect(pitrReport(r)).toMatch(
            /statuses: RESTORING -> ACTIVE_HEALTHY\nrestored: ACTIVE_HEALTHY after \d+ s of downtime \(from the request to healthy\)/,
        );
    });

    it("does not take the old database's ACTIVE_HEALTHY, before the restore begins, for the end", async () => {
        withPitr({ restoreStatuses: ["ACTIVE_HEALTHY", "RESTORING", "ACTIVE_HEALTHY"] });
        const r = await restorePointInTime(hosted(), { time: AT_1030, confirm: REF, dryRun: false, pollMs: 10 });
        expect(r.statuses).toEqual(["ACTIVE_HEALTHY", "RESTORING", "ACTIVE_HEALTHY"]);
    });

    it("reports RESTORE_FAILED as a failure with what to do", async () => {
        withPitr({ restoreFails: true });
        const r = await restorePointInTime(hosted(), { time: AT_1030, confirm: REF, dryRun: false, pollMs: 10 });
        expect(r).toMatchObject({ ok: false, finalStatus: "RESTORE_FAILED" });
        expect(pitrReport(r)).toMatch(/the restore FAILED: the project is RESTORE_FAILED after \d+ s; contact Supabase support/);
    });

    it("ends a 400 from the API in a clear error, without a second request", async () => {
        withPitr();
        double.api.inject({
            operation: "POST /v1/projects/{ref}/database/backups/restore-pitr",
            status: 400,
            message: "PITR is not enabled for this project.",
        });
        expect(await failure(restorePointInTime(hosted(), { time: AT_1030, confirm: REF, dryRun: false, pollMs: 10 }))).toMatch(
            /restore-pitr answered 400: PITR is not enabled for this project\./,
        );
        expect(restoreRequests().length).toBe(1);
    });
});
