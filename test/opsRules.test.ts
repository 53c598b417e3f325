/** The operations tool's pure rules (lib/ops/rules.ts). */
import { describe, expect, it } from "vitest";
import { levels } from "../ops/import";
import { redactQuery } from "../ops/doctor";
import {
    backupAgeVerdict,
    connectionsVerdict,
    countMismatches,
    encryptionVerdict,
    exitCodeOf,
    foreignKeyOrder,
    migrationDiff,
    migrationVersion,
    redactUrl,
    scheduleIntervalMs,
    sizeDropVerdict,
} from "../lib/ops/rules";

describe("ops rules", () => {
    it("warns at 80% of max_connections and fails at 100%", () => {
        expect(connectionsVerdict(79, 100)).toBe("pass");
        expect(connectionsVerdict(80, 100)).toBe("warn");
        expect(connectionsVerdict(100, 100)).toBe("fail");
    });

    it("allows a backup one schedule interval plus 6 hours of grace", () => {
        const day = scheduleIntervalMs("0 2 * * *", new Date("2026-11-25T12:00:00Z"));
        expect(day).toBe(86_400_000);
        const now = new Date("2026-11-26T08:00:00Z");
        expect(backupAgeVerdict(new Date("2026-11-25T02:00:00Z"), now, day).status).toBe("pass");
        expect(backupAgeVerdict(new Date("2026-11-25T01:59:00Z"), now, day).status).toBe("fail");
        expect(scheduleIntervalMs("0 */6 * * *", new Date("2026-11-25T12:00:00Z"))).toBe(6 * 3_600_000);
    });

    it("fails a backup below half the size of the one before", () => {
        expect(sizeDropVerdict(50, 100)).toBe("pass");
        expect(sizeDropVerdict(49, 100)).toBe("fail");
        expect(sizeDropVerdict(1, undefined)).toBe("pass");
    });

    it("judges encryption: missing is a warning (S3-compatible stores), wrong algorithm or key a failure", () => {
        expect(encryptionVerdict("AES256", undefined, "AES256", undefined).status).toBe("pass");
        expect(encryptionVerdict("aws:kms", "arn:k1", "AES256", undefined).status).toBe("fail");
        expect(encryptionVerdict("aws:kms", "arn:k1", "aws:kms", "arn:k2")).toMatchObject({
            status: "fail",
            evidence: "aws:kms with arn:k2, expected arn:k1",
        });
        expect(encryptionVerdict("AES256", undefined, undefined, undefined).status).toBe("warn");
    });

    it("compares applied migrations with the files both ways", () => {
        expect(migrationVersion("20261125070000_initial_schema.sql")).toBe("20261125070000");
        expect(migrationVersion("README.md")).toBeUndefined();
        expect(migrationDiff(["1", "3"], ["1", "2"])).toEqual({ missing: ["2"], unknown: ["3"] });
    });

    it("orders tables after the tables they reference, groups independent ones, and names a cycle", () => {
        const refs = [
            { from: "public.users", to: "auth.users" },
            { from: "public.projects", to: "public.users" },
            { from: "public.projects", to: "public.workspaces" },
            { from: "public.workspaces", to: "public.users" },
            { from: "public.tree", to: "public.tree" },
        ];
        const order = foreignKeyOrder(["public.projects", "public.workspaces", "public.users", "auth.users", "public.tree"], refs);
        expect(order.indexOf("auth.users")).toBeLessThan(order.indexOf("public.users"));
        expect(order.indexOf("public.workspaces")).toBeLessThan(order.indexOf("public.projects"));
        expect(levels(order, refs)).toEqual([["auth.users", "public.tree"], ["public.users"], ["public.workspaces"], ["public.projects"]]);
        expect(() =>
            foreignKeyOrder(
                ["a.x", "a.y"],
                [
                    { from: "a.x", to: "a.y" },
                    { from: "a.y", to: "a.x" },
                ],
            ),
        ).toThrow(/cycle: a\.x -> a\.y -> a\.x/);
    });

    it("reports count mismatches, exit codes, and keeps secrets out of URLs and query text", () => {
        expect(countMismatches({ "a.t": 2, "a.u": 1 }, { "a.t": 2 })).toEqual(["a.u: manifest 1 rows, restored missing"]);
        expect(exitCodeOf([{ status: "pass" }, { status: "warn" }])).toBe(0);
        expect(exitCodeOf([{ status: "fail" }])).toBe(1);
        expect(redactUrl("postgresql://postgres:s3cret@db:5432/postgres?sslmode=require")).toBe(
            "postgresql://***@db:5432/postgres?sslmode=require",
        );
        expect(redactQuery("ALTER ROLE app PASSWORD 'hunter2-secret'")).toBe("ALTER ROLE app PASSWORD '…'");
    });
});
