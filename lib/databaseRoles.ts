/**
 * Each consumer's own database roles (docs/operations/database-roles.md): a NOLOGIN group role
 * holding the grants, and two login roles in it, one per rotation slot (A and B). A rotation step
 * gives the standby slot's login a new password and moves the consumer to it; the other login
 * keeps working until the next step, so running containers never lose their login. The owner
 * (`postgres`) stays with the deployer: the apply steps and the migration push.
 */
import { alterRoleStatement } from "./databasePassword";

/** Who logs in to the database, each as its own roles. */
export const DATABASE_CONSUMERS = ["backend", "worker", "backup"] as const;
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
 */
export const GROUP_GRANTS: Record<DatabaseConsumer, readonly string[]> = {
    backend: ["authenticated"],
    worker: ["authenticated"],
    backup: ["pg_read_all_data"],
};

/** Consumers whose logins need BYPASSRLS: pg_dump reads every row with row security off. */
export const BYPASS_RLS: Record<DatabaseConsumer, boolean> = { backend: false, worker: false, backup: true };

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
}

/**
 * The statements that make the roles what the plan says, idempotently, in one transaction:
 * groups with their grants, logins in their group with their slot's password, a removed
 * consumer's logins without LOGIN. BYPASSRLS is granted in a separate step (`bypassRlsStatements`),
 * because only some deployers may grant it.
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
    const kept = plan.consumers.flatMap((c) => SLOTS.map((s) => loginRole(c, s)));
    // A removed consumer's logins: found by the comment, so no role the program did not make is touched.
    out.push(
        `DO $$ DECLARE r record; BEGIN FOR r IN SELECT a.rolname FROM pg_roles a JOIN pg_shdescription d ON d.objoid = a.oid AND d.classoid = 'pg_authid'::regclass WHERE d.description = ${literal(MANAGED_ROLE_COMMENT)} AND a.rolcanlogin AND a.rolname <> ALL (ARRAY[${kept.map(literal).join(", ")}]::text[]) LOOP EXECUTE format('ALTER ROLE %I NOLOGIN', r.rolname); END LOOP; END $$;`,
    );
    out.push("COMMIT;");
    return `${out.join("\n")}\n`;
}

/** BYPASSRLS for the logins that need it; run on its own: PostgreSQL 15 allows it to superusers only. */
export function bypassRlsStatements(consumers: readonly DatabaseConsumer[]): string {
    const logins = consumers.filter((c) => BYPASS_RLS[c]).flatMap((c) => SLOTS.map((s) => loginRole(c, s)));
    return logins.map((l) => `ALTER ROLE ${role(l)} BYPASSRLS;`).join("\n") + (logins.length ? "\n" : "");
}
