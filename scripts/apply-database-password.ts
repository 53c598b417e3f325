/**
 * Sets the database role's password to NEW_PASSWORD. Run by the SupabaseCredentials command
 * resource at `pulumi up`: `node -r ./scripts/register.js scripts/apply-database-password.ts`.
 *
 * It first checks whether the role already has NEW_PASSWORD, and says so only with proof: a login
 * in which the server asked for the password and accepted it (SCRAM, whose final message also
 * proves the server knows the password's verifier; or MD5, or cleartext), or, where the server lets
 * the connection in without asking (`trust`, `peer`), the role's SCRAM verifier in pg_authid
 * recomputed from NEW_PASSWORD with its salt (readable by a superuser only; hosted Supabase's
 * `postgres` is not one). Without proof it applies the password: setting it again is harmless.
 *
 * To apply, it logs in with the first of these that works: the password it applied last time, which the
 * command provider hands back as PULUMI_COMMAND_STDOUT (the resource's previous stdout, kept in
 * its state, changed only by a successful run); STANDBY_PASSWORD, the other rotation slot;
 * BOOTSTRAP_PASSWORD, the role's password before this program managed it. The first is what the
 * database has however far the rotation moved since the last `pulumi up`; the slots alone lose it
 * when the rotation moves two steps or more, which regenerates both.
 *
 * The server receives the password's SCRAM-SHA-256 verifier, computed here, never the password:
 * a statement log (log_statement = all) or an error report can't reveal it.
 *
 * Output: on success, stdout is the password the database now has and nothing else, for the
 * next run (the resource never logs stdout, and keeps it as a secret output). Messages go to
 * stderr. No password is ever put on a command line: psql gets it as PGPASSWORD and its
 * statements on stdin.
 *
 * Environment: PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE (libpq), NEW_PASSWORD, STANDBY_PASSWORD
 * and BOOTSTRAP_PASSWORD (may be empty), PULUMI_COMMAND_STDOUT (set by the provider on updates).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
    alterRoleStatement,
    GENERATED_PASSWORD,
    loginCandidates,
    parseScramVerifier,
    SCRAM_SALT_BYTES,
    scramSha256Verifier,
} from "../lib/databasePassword";
import { passwordLogin, storedVerifier } from "./postgresLogin";

const SECRET_VARIABLES = ["NEW_PASSWORD", "STANDBY_PASSWORD", "BOOTSTRAP_PASSWORD", "PULUMI_COMMAND_STDOUT", "PULUMI_COMMAND_STDERR"];

class Failure extends Error {}

function say(message: string): void {
    process.stderr.write(`apply-database-password: ${message}\n`);
}

/** Runs psql as `password`, statements on stdin; true when they all succeed. Its output is discarded: errors can quote statements. */
function psql(password: string, statements: string): boolean {
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "10" };
    // psql needs none of the other passwords.
    for (const name of SECRET_VARIABLES) delete env[name];
    const result = spawnSync("psql", ["-X", "-q", "-t", "-v", "ON_ERROR_STOP=1"], {
        env,
        input: statements,
        stdio: ["pipe", "ignore", "ignore"],
    });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
        throw new Failure("psql is not installed on the machine running pulumi up");
    return result.status === 0;
}

const canLogin = (password: string) => psql(password, "select 1;\n");

/** Whether a stored SCRAM verifier is the password's: recomputed with the stored salt and iteration count. */
function verifierMatches(stored: string | undefined, password: string): boolean {
    if (!stored?.startsWith("SCRAM-SHA-256$")) return false;
    const { salt, iterations } = parseScramVerifier(stored);
    return scramSha256Verifier(password, salt, iterations) === stored;
}

/** Returns the password the database has when it succeeds. */
async function main(): Promise<string> {
    const { PGHOST, PGPORT, PGDATABASE, PGUSER, NEW_PASSWORD } = process.env;
    for (const [name, value] of Object.entries({ PGHOST, PGPORT, PGDATABASE, PGUSER, NEW_PASSWORD })) {
        if (!value) throw new Failure(`${name} is not set`);
    }
    const target = `${PGUSER}@${PGHOST}:${PGPORT}`;
    const next = NEW_PASSWORD!;
    if (!GENERATED_PASSWORD.test(next)) throw new Failure("NEW_PASSWORD must be at least 32 letters and digits");

    const login = await passwordLogin(next);
    if (login === "proven") {
        say(`${target} already has the new password (the server asked for it and accepted it)`);
        return next;
    }
    if (login === "not-asked") {
        if (verifierMatches(await storedVerifier(next), next)) {
            say(`${target} already has the new password (its SCRAM verifier in pg_authid matches)`);
            return next;
        }
        // A login without a password proves nothing: apply it.
        say(
            `${target} lets this connection in without asking for a password (trust or peer): applying the new password rather than assuming it`,
        );
    }
    const candidates = loginCandidates({
        lastApplied: process.env.PULUMI_COMMAND_STDOUT,
        standby: process.env.STANDBY_PASSWORD,
        bootstrap: process.env.BOOTSTRAP_PASSWORD,
    });
    const current = candidates.find(canLogin);
    if (!current) {
        throw new Failure(
            `cannot log in to ${target}/${PGDATABASE} with the password applied last, the other rotation slot's or databaseBootstrapPassword; set databaseBootstrapPassword (pulumi config set --secret) to the role's current password`,
        );
    }
    const verifier = scramSha256Verifier(next, randomBytes(SCRAM_SALT_BYTES));
    if (!psql(current, alterRoleStatement(verifier))) throw new Failure(`ALTER ROLE failed for ${target}`);
    const after = await passwordLogin(next);
    if (after === "refused") throw new Failure(`the new password was set but does not log in to ${target}`);
    if (after === "not-asked") {
        const stored = await storedVerifier(next);
        if (stored !== undefined && stored !== verifier) throw new Failure(`${target} does not store the verifier just sent (pg_authid)`);
        // ALTER ROLE succeeded with this verifier: that is what the role has.
        if (stored === undefined) say(`${target} asks this connection for no password, so no login can prove it; ALTER ROLE succeeded`);
    }
    say(`password of ${target} rotated`);
    return next;
}

main().then(
    // Last, after everything that could fail: a failing command's error quotes its output.
    (applied) => process.stdout.write(applied),
    (err: unknown) => {
        if (!(err instanceof Failure)) throw err;
        say(err.message);
        process.exitCode = 1;
    },
);
