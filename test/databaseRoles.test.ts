/** The pure rules of each consumer's database roles (lib/databaseRoles.ts); the roles themselves run in test/consumerRoles.test.ts. */
import { describe, expect, it } from "vitest";
import { scramSha256Verifier } from "../lib/databasePassword";
import { bypassRlsStatements, consumerRoleStatements, groupRole, loginRole, poolerLogin } from "../lib/databaseRoles";

describe("database role names", () => {
    it("one group and two slot logins per consumer", () => {
        expect(groupRole("backend")).toBe("toolboxai_backend");
        expect([loginRole("backup", "a"), loginRole("backup", "b")]).toEqual(["toolboxai_backup_a", "toolboxai_backup_b"]);
    });

    it("names a login for the pooler as the owner's pooler user is named", () => {
        expect(poolerLogin("postgres.abcdefghijklmnopqrst", "postgres", "toolboxai_worker_a")).toBe(
            "toolboxai_worker_a.abcdefghijklmnopqrst",
        );
        expect(poolerLogin("postgres", "postgres", "toolboxai_worker_a")).toBe("toolboxai_worker_a");
        expect(() => poolerLogin("someone.abc", "postgres", "toolboxai_worker_a")).toThrow(
            /poolerUser "someone.abc" is neither the owner "postgres" nor "postgres.<project ref>"/,
        );
    });
});

describe("consumerRoleStatements", () => {
    const verifier = scramSha256Verifier("x".repeat(40), Buffer.alloc(16, 1));
    const verifiers = Object.fromEntries(["backend", "worker"].flatMap((c) => ["a", "b"].map((s) => [`toolboxai_${c}_${s}`, verifier])));

    it("one transaction; passwords only as verifiers; the kept logins named in the NOLOGIN sweep", () => {
        const sql = consumerRoleStatements({ consumers: ["backend", "worker"], verifiers });
        expect(sql.startsWith("BEGIN;\n")).toBe(true);
        expect(sql.trimEnd().endsWith("COMMIT;")).toBe(true);
        expect(sql).toContain(`ALTER ROLE toolboxai_backend_a WITH PASSWORD '${verifier}';`);
        expect(sql).toContain("GRANT authenticated TO toolboxai_worker;");
        expect(sql).toContain("'toolboxai_backend_a', 'toolboxai_backend_b', 'toolboxai_worker_a', 'toolboxai_worker_b'");
        // PostgreSQL 15 refuses these in ALTER ROLE from a non-superuser.
        expect(sql).not.toMatch(/ALTER ROLE [a-z_]+ [^;]*(NOSUPERUSER|NOREPLICATION|NOBYPASSRLS)/);
    });

    it("refuses a login without its verifier, naming it", () => {
        expect(() => consumerRoleStatements({ consumers: ["backup"], verifiers })).toThrow("no password verifier for toolboxai_backup_a");
    });

    it("BYPASSRLS only for the backup's logins", () => {
        expect(bypassRlsStatements(["backend", "worker"])).toBe("");
        expect(bypassRlsStatements(["backend", "backup"])).toBe(
            "ALTER ROLE toolboxai_backup_a BYPASSRLS;\nALTER ROLE toolboxai_backup_b BYPASSRLS;\n",
        );
    });
});
