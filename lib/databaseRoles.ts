/**
 * Each consumer's own database roles (docs/operations/database-roles.md): a NOLOGIN group role
 * holding the grants, and two login roles in it, one per rotation slot (A and B). A rotation step
 * gives the standby slot's login a new password and moves the consumer to it; the other login
 * keeps working until the next step, so running containers never lose their login. The owner
 * (`postgres`) stays with the deployer: the apply steps and the migration push.
 */
import { alterRoleStatement } from "./databasePassword";

/** Who logs in to the database, each as its own roles. */
/** `monitoring`: postgres_exporter in local mode, with monitoring on. */
export const DATABASE_CONSUMERS = ["backend", "worker", "backup", "monitoring"] as const;
export type DatabaseConsumer = (typeof DATABASE_CONSUMERS)[number];
export type Slot = "a" | "b";
export const SLOTS: readonly Slot[] = ["a", "b"];

/** Every role this program manages carries this comment: how the step finds a removed consumer's logins. */
export const MANAGED_ROLE_COMMENT = "managed by toolboxai (Pulumi): see docs/operations/database-roles.md";

const ROLE_PREFIX = "toolboxai_";

/** The group role holding a consumer's grants (NOLOGIN). */
export function groupRole(consumer: DatabaseConsumer): string {
    return `${ROLE_PREFIX}${consumer}`;
}

/** A consumer's login role for a rotation slot. */
export function loginRole(consumer: DatabaseConsumer, slot: Slot): string {
    return `${groupRole(consumer)}_${slot}`;
}

/**
 * The user a consumer gives the transaction pooler. Supavisor names a role of a project
 * `<role>.<project ref>`, as the owner's pooler user (`postgres.<ref>`) shows; a pooler that takes
 * plain role names (PgBouncer) has the owner's name itself.
 */
export function poolerLogin(poolerUser: string, ownerUser: string, login: string): string {
    if (poolerUser === ownerUser) return login;
    if (poolerUser.startsWith(`${ownerUser}.`)) return `${login}${poolerUser.slice(ownerUser.length)}`;
    throw new Error(
        `poolerUser ${JSON.stringify(poolerUser)} is neither the owner ${JSON.stringify(ownerUser)} nor "${ownerUser}.<project ref>": cannot derive the consumers' pooler users`,
    );
}

/**
 * What each group may do. Backend and worker: the application's own privileges, those of
 * `authenticated` (column-level DML on the application's tables, EXECUTE on its helpers), and so
 * its Row Level Security policies, which are `TO authenticated` and hold for its members: the
 * application sets `request.jwt.claims` for the user it acts for. No DDL, owns nothing.
 * Backup: `pg_read_all_data` (SELECT on every table, USAGE on every schema; PostgreSQL 14+),
 * writes nothing; its logins get BYPASSRLS where the deployer may grant it (below).
 * Monitoring: `pg_monitor` (the statistics views postgres_exporter reads), no table's data.
 */
export const GROUP_GRANTS: Record<DatabaseConsumer, readonly string[]> = {
    backend: ["authenticated"],
    worker: ["authenticated"],
    backup: ["pg_read_all_data"],
    monitoring: ["pg_monitor"],
};

/** Consumers whose logins need BYPASSRLS: pg_dump reads every row with row security off. */
export const BYPASS_RLS: Record<DatabaseConsumer, boolean> = { backend: false, worker: false, backup: true, monitoring: false };

/** The logins of these consumers that need BYPASSRLS. */
export function bypassRlsLogins(consumers: readonly DatabaseConsumer[]): string[] {
    return consumers.filter((c) => BYPASS_RLS[c]).flatMap((c) => SLOTS.map((s) => loginRole(c, s)));
}

/** What the deployer's own role may do, read from pg_roles and the server. */
export interface DeployerPowers {
    superuser: boolean;
    createRole: boolean;
    bypassRls: boolean;
    /** server_version_num, e.g. 150008. */
    serverVersion: number;
}

/**
 * Whether the deployer may give another role BYPASSRLS. PostgreSQL 15 and earlier: superusers
 * only. 16 and later: also a CREATEROLE role that has BYPASSRLS itself.
 */
export function mayGrantBypassRls(d: DeployerPowers): boolean {
    return d.superuser || (d.serverVersion >= 160000 && d.createRole && d.bypassRls);
}

/** The apply step's error when the backup logins lack BYPASSRLS and the deployer may not grant it: names every fix. */
export function bypassRlsRefusal(deployer: string, d: DeployerPowers, missing: readonly string[]): string {
    const major = Math.floor(d.serverVersion / 10000);
    const why =
        major < 16
            ? `on PostgreSQL ${major} only a superuser may grant BYPASSRLS, and ${deployer} is not one (hosted Supabase's postgres is not)`
            : `on PostgreSQL ${major} only a superuser, or a CREATEROLE role that has BYPASSRLS itself, may grant it, and ${deployer} is neither`;
    return (
        `the backup logins ${missing.join(", ")} need BYPASSRLS (pg_dump refuses every table with Row Level Security without it): ${why}. ` +
        `Nothing was changed. Fix: upgrade the project to PostgreSQL 17; or have a superuser (Supabase support) run ` +
        `${missing.map((l) => `CREATE ROLE ${l} LOGIN BYPASSRLS;`).join(" ")} once and run pulumi up again; ` +
        `or set \`pulumi config set backupDatabaseLogin owner\` (the backup job then logs in as the owner, whose password its container receives): ` +
        `see docs/operations/database-roles.md#backup`
    );
}

/** A role name this module makes: lower-case letters, digits and `_`, safe unquoted in SQL. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
function role(name: string): string {
    if (!ROLE_NAME.test(name)) throw new Error(`not a plain role name: ${JSON.stringify(name)}`);
    return name;
}
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * `CREATE ROLE` when missing (PostgreSQL has no IF NOT EXISTS for roles), then the attributes a
 * non-superuser with CREATEROLE may change (PostgreSQL 15 refuses it even NOSUPERUSER,
 * NOREPLICATION or NOBYPASSRLS in ALTER ROLE; CREATE ROLE gives them by default).
 */
function ensureRole(name: string, login: boolean): string[] {
    const attributes = `${login ? "LOGIN INHERIT" : "NOLOGIN"} NOCREATEDB NOCREATEROLE`;
    return [
        `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role(name))}) THEN CREATE ROLE ${name} ${attributes}; END IF; END $$;`,
        `ALTER ROLE ${name} ${attributes};`,
        `COMMENT ON ROLE ${name} IS ${literal(MANAGED_ROLE_COMMENT)};`,
    ];
}

export interface ConsumerRolesPlan {
    /** The consumers the stack runs; every other managed login loses LOGIN. */
    consumers: readonly DatabaseConsumer[];
    /** The SCRAM-SHA-256 verifier of each login's password (never the password). */
    verifiers: Record<string, string>;
    /** Logins to give BYPASSRLS (those of bypassRlsLogins that lack it): only when the deployer may (mayGrantBypassRls). */
    grantBypassRls?: readonly string[];
}

/**
 * The statements that make the roles what the plan says, idempotently, in one transaction:
 * groups with their grants, logins in their group with their slot's password, a removed
 * consumer's logins without LOGIN, BYPASSRLS where the plan grants it. In one transaction, so a
 * refusal changes nothing. BYPASSRLS is only ever granted, never altered where a login has it:
 * PostgreSQL 15 refuses even a no-op `ALTER ROLE … BYPASSRLS` to a non-superuser.
 */
export function consumerRoleStatements(plan: ConsumerRolesPlan): string {
    const out = ["BEGIN;"];
    for (const consumer of plan.consumers) {
        const group = groupRole(consumer);
        out.push(...ensureRole(group, false));
        for (const grant of GROUP_GRANTS[consumer]) out.push(`GRANT ${role(grant)} TO ${group};`);
        for (const slot of SLOTS) {
            const login = loginRole(consumer, slot);
            const verifier = plan.verifiers[login];
            if (!verifier) throw new Error(`no password verifier for ${login}`);
            // INHERIT: the login acts with its group's privileges without SET ROLE.
            out.push(...ensureRole(login, true));
            out.push(`GRANT ${group} TO ${login};`);
            out.push(alterRoleStatement(verifier, login).trimEnd());
        }
    }
    for (const login of plan.grantBypassRls ?? []) out.push(`ALTER ROLE ${role(login)} BYPASSRLS;`);
    const kept = plan.consumers.flatMap((c) => SLOTS.map((s) => loginRole(c, s)));
    // A removed consumer's logins: found by the comment, so no role the program did not make is touched.
    out.push(
        `DO $$ DECLARE r record; BEGIN FOR r IN SELECT a.rolname FROM pg_roles a JOIN pg_shdescription d ON d.objoid = a.oid AND d.classoid = 'pg_authid'::regclass WHERE d.description = ${literal(MANAGED_ROLE_COMMENT)} AND a.rolcanlogin AND a.rolname <> ALL (ARRAY[${kept.map(literal).join(", ")}]::text[]) LOOP EXECUTE format('ALTER ROLE %I NOLOGIN', r.rolname); END LOOP; END $$;`,
    );
    out.push("COMMIT;");
    return `${out.join("\n")}\n`;
}

/** What doctor reads to say which backup login a stack is in. */
export interface BackupLoginFacts {
    /** The stack's backupDatabaseLogin; undefined without stack outputs. */
    setting?: "own-role" | "owner";
    /** The backup's slot logins as pg_roles has them (absent: not created). */
    logins: { name: string; canLogin: boolean; bypassRls: boolean }[];
    owner: { name: string; superuser: boolean; bypassRls: boolean };
    deployer: DeployerPowers;
}

export interface BackupLoginVerdict {
    status: "pass" | "warn" | "fail" | "skip";
    evidence: string;
    fix?: string;
}

/** doctor's "backup login" check: which case the stack is in, and whether a dump can read every table. */
export function backupLoginVerdict(f: BackupLoginFacts): BackupLoginVerdict {
    const major = Math.floor(f.deployer.serverVersion / 10000);
    const expected = bypassRlsLogins(["backup"]);
    const ready = expected.filter((name) => f.logins.some((l) => l.name === name && l.canLogin && l.bypassRls));
    if (f.setting === "owner") {
        const ownerReads = f.owner.superuser || f.owner.bypassRls;
        const evidence = `backupDatabaseLogin owner: the backup job logs in as ${f.owner.name} (PostgreSQL ${major}), whose password its container holds`;
        if (!ownerReads)
            return {
                status: "fail",
                evidence: `${evidence}; ${f.owner.name} has no BYPASSRLS: pg_dump refuses every table with Row Level Security it does not own`,
                fix: "the owner needs BYPASSRLS for the dump (hosted projects give it to postgres): see docs/operations/database-roles.md#backup",
            };
        return {
            status: "warn",
            evidence,
            fix: mayGrantBypassRls(f.deployer)
                ? `this server lets ${f.owner.name} grant BYPASSRLS: set backupDatabaseLogin own-role and run pulumi up (the backup job gets its own read-only logins)`
                : `kept while ${f.owner.name} may not grant BYPASSRLS (PostgreSQL ${major}); after upgrading to PostgreSQL 17, set backupDatabaseLogin own-role: see docs/operations/database-roles.md#backup`,
        };
    }
    if (ready.length === expected.length)
        return {
            status: "pass",
            evidence: `the backup job's own logins ${expected.join(", ")} log in with BYPASSRLS and pg_read_all_data (PostgreSQL ${major})${f.setting ? "" : "; no stack outputs: the job's setting is not known"}`,
        };
    if (!f.setting)
        return {
            status: "skip",
            evidence: `no stack outputs, and ${expected.join(", ")} are not ready: cannot tell which login the backup job uses`,
        };
    const lacking = expected.filter((name) => !ready.includes(name));
    return {
        status: "fail",
        evidence: `backupDatabaseLogin own-role, but ${lacking.join(", ")} ${lacking.length > 1 ? "are" : "is"} missing, without LOGIN or without BYPASSRLS: the next backup fails`,
        fix: "run pulumi up (its consumer-roles step grants BYPASSRLS, or fails naming the fix): see docs/operations/database-roles.md#backup",
    };
}
