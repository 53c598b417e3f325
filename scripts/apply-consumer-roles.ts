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
    bypassRlsStatements,
    consumerRoleStatements,
    DATABASE_CONSUMERS,
    loginRole,
    SLOTS,
    type DatabaseConsumer,
} from "../lib/databaseRoles";
import { passwordLogin } from "./postgresLogin";

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
    let statements: string;
    try {
        statements = consumerRoleStatements({ consumers, verifiers });
    } catch (err) {
        throw new Failure((err as Error).message);
    }
    const failed = psql(OWNER_PASSWORD!, statements);
    if (failed) throw new Failure(`the consumers' roles could not be applied as ${target} (nothing was changed): ${failed}`);
    const bypass = bypassRlsStatements(consumers);
    if (bypass) {
        const refused = psql(OWNER_PASSWORD!, bypass);
        // PostgreSQL 15: only a superuser may grant BYPASSRLS; 16 and later: a CREATEROLE role that has it.
        if (refused)
            say(
                `WARNING: ${PGUSER} may not grant BYPASSRLS to the backup logins (${refused}); pg_dump will refuse the tables with Row Level Security until it is granted: see docs/operations/database-roles.md#backup`,
            );
    }
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
