/**
 * Makes each consumer's database roles what the program says (lib/databaseRoles.ts), as the owner:
 * a NOLOGIN group per consumer with its grants, its two slot logins with their passwords, and no
 * LOGIN left to a removed consumer's. Run by the SupabaseCredentials command resource at
 * `pulumi up`, after the owner's password is applied: `node -r ./scripts/register.js scripts/apply-consumer-roles.ts`.
 *
 * Idempotent: every run sets every login's password to its slot's, so a run after a failed one,
 * or after a rotation of any number of steps, ends in the same state. The server receives SCRAM
 * verifiers computed here, never a password. Then every login is checked by logging in with its
 * password (the server asking for it, where it asks at all).
 *
 * Environment: PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE (libpq; PGUSER is the owner),
 * OWNER_PASSWORD, CONSUMERS (comma-separated, lib/databaseRoles.ts), LOGIN_PASSWORDS (JSON:
 * login role to password). Output: nothing on stdout; messages on stderr, never a password.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { GENERATED_PASSWORD, SCRAM_SALT_BYTES, scramSha256Verifier } from "../lib/databasePassword";
import {
    bypassRlsLogins,
    bypassRlsRefusal,
    consumerRoleStatements,
    DATABASE_CONSUMERS,
    loginRole,
    mayGrantBypassRls,
    SLOTS,
    type DatabaseConsumer,
    type DeployerPowers,
} from "../lib/databaseRoles";
import { passwordLogin, query } from "./postgresLogin";

class Failure extends Error {}

function say(message: string): void {
    process.stderr.write(`apply-consumer-roles: ${message}\n`);
}

/**
 * Runs psql as the owner, statements on stdin. Returns the server's ERROR lines (never the
 * statements, which hold verifiers), or undefined when every statement succeeded.
 */
function psql(password: string, statements: string): string | undefined {
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "10" };
    for (const name of ["OWNER_PASSWORD", "LOGIN_PASSWORDS"]) delete env[name];
    const result = spawnSync("psql", ["-X", "-q", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=terse"], {
        env,
        input: statements,
        stdio: ["pipe", "ignore", "pipe"],
        encoding: "utf8",
    });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
        throw new Failure("psql is not installed on the machine running pulumi up");
    if (result.status === 0) return undefined;
    const errors = (result.stderr ?? "")
        .split("\n")
        .map((l) => l.replace(/^psql:<stdin>:\d+: /, ""))
        .filter((l) => /^(ERROR|FATAL)/.test(l) && !l.includes("SCRAM-SHA-256$"));
    return errors.join("; ") || `psql exited with ${result.status}`;
}

function parseConsumers(text: string | undefined): DatabaseConsumer[] {
    const names = (text ?? "").split(",").filter((c) => c !== "");
    for (const name of names)
        if (!(DATABASE_CONSUMERS as readonly string[]).includes(name))
            throw new Failure(`CONSUMERS holds ${JSON.stringify(name)}; allowed: ${DATABASE_CONSUMERS.join(", ")}`);
    return names as DatabaseConsumer[];
}

/** The deployer's catalog reads; a refused connection is the step's error, with the target (never the password). */
async function read<Row extends Record<string, unknown>>(password: string, sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
        return await query<Row>(password, sql, params);
    } catch (err) {
        const { PGUSER, PGHOST, PGPORT, PGDATABASE } = process.env;
        throw new Failure(
            `could not read the roles as ${PGUSER}@${PGHOST}:${PGPORT}/${PGDATABASE} (nothing was changed): ${(err as Error).message}`,
        );
    }
}

/** The logins (of `logins`) that do not exist yet or lack BYPASSRLS. */
async function loginsWithoutBypassRls(password: string, logins: string[]): Promise<string[]> {
    const rows = await read<{ rolname: string }>(password, "select rolname from pg_roles where rolname = any($1) and rolbypassrls", [
        logins,
    ]);
    const granted = new Set(rows.map((r) => r.rolname));
    return logins.filter((l) => !granted.has(l));
}

async function deployerPowers(password: string): Promise<DeployerPowers> {
    const [row] = await read<{ superuser: boolean; createrole: boolean; bypassrls: boolean; version: number }>(
        password,
        "select rolsuper as superuser, rolcreaterole as createrole, rolbypassrls as bypassrls, current_setting('server_version_num')::int as version from pg_roles where rolname = current_user",
    );
    return { superuser: row.superuser, createRole: row.createrole, bypassRls: row.bypassrls, serverVersion: row.version };
}

async function main(): Promise<void> {
    const { PGHOST, PGPORT, PGDATABASE, PGUSER, OWNER_PASSWORD, LOGIN_PASSWORDS } = process.env;
    for (const [name, value] of Object.entries({ PGHOST, PGPORT, PGDATABASE, PGUSER, OWNER_PASSWORD, LOGIN_PASSWORDS }))
        if (!value) throw new Failure(`${name} is not set`);
    const target = `${PGUSER}@${PGHOST}:${PGPORT}/${PGDATABASE}`;
    const consumers = parseConsumers(process.env.CONSUMERS);
    let passwords: Record<string, string>;
    try {
        passwords = JSON.parse(LOGIN_PASSWORDS!) as Record<string, string>;
    } catch {
        throw new Failure("LOGIN_PASSWORDS is not JSON");
    }
    for (const [login, password] of Object.entries(passwords))
        if (typeof password !== "string" || !GENERATED_PASSWORD.test(password))
            throw new Failure(`the password of ${login} in LOGIN_PASSWORDS must be at least 32 letters and digits`);
    const verifiers = Object.fromEntries(
        Object.entries(passwords).map(([login, password]) => [login, scramSha256Verifier(password, randomBytes(SCRAM_SALT_BYTES))]),
    );
    // The backup logins need BYPASSRLS: decided before any change, so a deployer that may not grant
    // it (hosted PostgreSQL 15) fails the step with nothing applied rather than a dump failing later.
    const needBypass = bypassRlsLogins(consumers);
    const missingBypass = needBypass.length ? await loginsWithoutBypassRls(OWNER_PASSWORD!, needBypass) : [];
    if (missingBypass.length) {
        const powers = await deployerPowers(OWNER_PASSWORD!);
        if (!mayGrantBypassRls(powers)) throw new Failure(bypassRlsRefusal(PGUSER!, powers, missingBypass));
    }
    let statements: string;
    try {
        statements = consumerRoleStatements({ consumers, verifiers, grantBypassRls: missingBypass });
    } catch (err) {
        throw new Failure((err as Error).message);
    }
    const failed = psql(OWNER_PASSWORD!, statements);
    if (failed) throw new Failure(`the consumers' roles could not be applied as ${target} (nothing was changed): ${failed}`);
    // The catalog, not the statement's success, says whether the logins have it.
    const stillMissing = needBypass.length ? await loginsWithoutBypassRls(OWNER_PASSWORD!, needBypass) : [];
    if (stillMissing.length)
        throw new Failure(
            `${stillMissing.join(", ")} still lack BYPASSRLS after the step granted it (pg_roles.rolbypassrls is false): the backup would fail; see docs/operations/database-roles.md#backup`,
        );
    for (const login of consumers.flatMap((c) => SLOTS.map((slot) => loginRole(c, slot)))) {
        if ((await passwordLogin(passwords[login], login)) === "refused")
            throw new Failure(`${login} does not log in to ${PGHOST}:${PGPORT}/${PGDATABASE} with its password`);
    }
    say(`roles of ${consumers.join(", ") || "no consumer"} applied on ${target}`);
}

main().catch((err: unknown) => {
    if (!(err instanceof Failure)) throw err;
    say(err.message);
    process.exitCode = 1;
});
