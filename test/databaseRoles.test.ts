/** The pure rules of each consumer's database roles (lib/databaseRoles.ts); the roles themselves run in test/consumerRoles.test.ts. */
import { describe, expect, it } from "vitest";
import { scramSha256Verifier } from "../lib/databasePassword";
import {
    bypassRlsLogins,
    bypassRlsRefusal,
    consumerRoleStatements,
    groupRole,
    loginRole,
    mayGrantBypassRls,
    poolerLogin,
    type DeployerPowers,
} from "../lib/databaseRoles";

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

    it("BYPASSRLS only for the backup's logins, granted inside the one transaction, only to the logins the plan names", () => {
        expect(bypassRlsLogins(["backend", "worker"])).toEqual([]);
        expect(bypassRlsLogins(["backend", "backup"])).toEqual(["toolboxai_backup_a", "toolboxai_backup_b"]);
        const backupVerifiers = { ...verifiers, toolboxai_backup_a: verifier, toolboxai_backup_b: verifier };
        const sql = consumerRoleStatements({ consumers: ["backup"], verifiers: backupVerifiers, grantBypassRls: ["toolboxai_backup_b"] });
        expect(sql).toMatch(/ALTER ROLE toolboxai_backup_b BYPASSRLS;\n[^]*COMMIT;\n$/);
        expect(sql).not.toContain("ALTER ROLE toolboxai_backup_a BYPASSRLS");
        expect(consumerRoleStatements({ consumers: ["backup"], verifiers: backupVerifiers })).not.toContain("BYPASSRLS;");
    });
});

describe("who may grant BYPASSRLS", () => {
    const deployer = (d: Partial<DeployerPowers>): DeployerPowers => ({
        superuser: false,
        createRole: true,
        bypassRls: true,
        serverVersion: 150008,
        ...d,
    });

    it("PostgreSQL 15: a superuser only; 16 and later: also a CREATEROLE role that has BYPASSRLS itself", () => {
        expect(mayGrantBypassRls(deployer({}))).toBe(false); // hosted Supabase's postgres on 15
        expect(mayGrantBypassRls(deployer({ superuser: true }))).toBe(true);
        expect(mayGrantBypassRls(deployer({ serverVersion: 170004 }))).toBe(true); // hosted on 17
        expect(mayGrantBypassRls(deployer({ serverVersion: 170004, bypassRls: false }))).toBe(false);
        expect(mayGrantBypassRls(deployer({ serverVersion: 160000, createRole: false }))).toBe(false);
    });

    it("the refusal names the server, the deployer, the logins and every fix, and says nothing changed", () => {
        const message = bypassRlsRefusal("postgres", deployer({}), ["toolboxai_backup_a", "toolboxai_backup_b"]);
        expect(message).toContain("on PostgreSQL 15 only a superuser may grant BYPASSRLS, and postgres is not one");
        expect(message).toContain("Nothing was changed");
        expect(message).toContain("CREATE ROLE toolboxai_backup_a LOGIN BYPASSRLS; CREATE ROLE toolboxai_backup_b LOGIN BYPASSRLS;");
        expect(message).toContain("backupDatabaseLogin owner");
        expect(message).toContain("PostgreSQL 17");
        expect(bypassRlsRefusal("deployer", deployer({ serverVersion: 170004, bypassRls: false }), ["toolboxai_backup_a"])).toContain(
            "a CREATEROLE role that has BYPASSRLS itself, may grant it, and deployer is neither",
        );
    });
});
