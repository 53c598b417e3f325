/**
 * Sets the database role's password to NEW_PASSWORD, logging in with CURRENT_PASSWORD (the
 * password the previous rotation set) or, on the first run, BOOTSTRAP_PASSWORD (the one the
 * database had before this program managed it). Run by the SupabaseCredentials command resource:
 * `node -r ./scripts/register.js scripts/apply-database-password.ts`.
 *
 * The server receives the password's SCRAM-SHA-256 verifier, computed here, never the password:
 * a statement log (log_statement = all) or an error report can't reveal it.
 *
 * Environment: PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE (libpq), NEW_PASSWORD, CURRENT_PASSWORD,
 * BOOTSTRAP_PASSWORD (may be empty). No password is ever printed or put on a command line:
 * psql gets it as PGPASSWORD and its statements on stdin.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { alterRoleStatement, GENERATED_PASSWORD, SCRAM_SALT_BYTES, scramSha256Verifier } from "../lib/databasePassword";

const SECRET_VARIABLES = ["NEW_PASSWORD", "CURRENT_PASSWORD", "BOOTSTRAP_PASSWORD"];

class Failure extends Error {}

function say(message: string): void {
    process.stderr.write(`apply-database-password: ${message}\n`);
}

/** Runs psql as `password`, statements on stdin; true when they all succeed. Its output is discarded: errors can quote statements. */
function psql(password: string, statements: string): boolean {
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "10" };
    // psql needs none of the other passwords.
    for (const name of SECRET_VARIABLES) delete env[name];
    const result = spawnSync("psql", ["-X", "-q", "-t", "-v", "ON_ERROR_STOP=1"], { env, input: statements, stdio: ["pipe", "ignore", "ignore"] });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") throw new Failure("psql is not installed on the machine running pulumi up");
    return result.status === 0;
}

const canLogin = (password: string) => psql(password, "select 1;\n");

function main(): void {
    const { PGHOST, PGPORT, PGDATABASE, PGUSER, NEW_PASSWORD } = process.env;
    for (const [name, value] of Object.entries({ PGHOST, PGPORT, PGDATABASE, PGUSER, NEW_PASSWORD })) {
        if (!value) throw new Failure(`${name} is not set`);
    }
    const target = `${PGUSER}@${PGHOST}:${PGPORT}`;
    if (!GENERATED_PASSWORD.test(NEW_PASSWORD!)) throw new Failure("NEW_PASSWORD must be at least 32 letters and digits");

    if (canLogin(NEW_PASSWORD!)) {
        say(`${target} already has the new password`);
        return;
    }
    const login = [process.env.CURRENT_PASSWORD, process.env.BOOTSTRAP_PASSWORD].find((candidate) => candidate && canLogin(candidate));
    if (!login) {
        throw new Failure(
            `cannot log in to ${target}/${PGDATABASE} with the previous generated password or databaseBootstrapPassword; set databaseBootstrapPassword (pulumi config set --secret) to the role's current password`,
        );
    }
    const verifier = scramSha256Verifier(NEW_PASSWORD!, randomBytes(SCRAM_SALT_BYTES));
    if (!psql(login, alterRoleStatement(verifier))) throw new Failure(`ALTER ROLE failed for ${target}`);
    if (!canLogin(NEW_PASSWORD!)) throw new Failure(`the new password was set but does not log in to ${target}`);
    say(`password of ${target} rotated`);
}

try {
    main();
} catch (err) {
    if (!(err instanceof Failure)) throw err;
    say(err.message);
    process.exitCode = 1;
}
