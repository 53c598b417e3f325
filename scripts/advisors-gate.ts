/**
 * `npm run test:advisors`: the CI advisors gate. On a scratch PostgreSQL (the test tools' server,
 * on loopback), it reproduces what a Supabase database has before any migration (the API roles
 * and auth functions of test/support/supabase-auth.sql, and Supabase's default privileges on the
 * public schema), pushes supabase/migrations with the pinned CLI, and runs Supabase's database
 * lints (splinter, built into the CLI) with `supabase db advisors --fail-on error`: a lint at
 * ERROR (a public table without RLS, a security-definer view...) fails the gate. Offline: no
 * project, no token.
 *
 * Why the setup matters (found with CLI 2.117): the lints look only at what the API roles can
 * reach. `rls_disabled_in_public` reports a table only when anon or authenticated may SELECT it,
 * in a schema PostgREST exposes (`pgrst.db_schemas`, `public` when unset). Supabase grants that
 * by default privileges; a plain PostgreSQL does not, and then a table without RLS is "No issues found".
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { startPostgres, type PostgresServer } from "../test/support/postgres";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "..");
const CLI = join(ROOT, "node_modules", ".bin", "supabase");
const SUPERUSER_PASSWORD = "advisors-gate-scratch-password";

/**
 * What every Supabase database grants on `public` before any migration (its initial schema's
 * default privileges): tables, functions and sequences that migrations create there are the API
 * roles' to use, held back only by RLS. Without these, the lints see nothing exposed.
 */
export const SUPABASE_DEFAULT_PRIVILEGES = `
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
`;

/** The command the gate runs, as CI and the docs show it (the URL, without a password, is an argument; the password is in PGPASSWORD). */
export const ADVISORS_ARGS = ["db", "advisors", "--db-url", "$SUPABASE_DB_URL", "--type", "all", "--level", "warn", "--fail-on", "error"];

export interface GateResult {
    /** The CLI's exit code: 0 no lint at ERROR, 1 at least one. */
    code: number;
    /** What it printed (the findings, or "No issues found"). */
    output: string;
    /** The database URL without password (for messages). */
    database: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; output: string }> {
    try {
        const { stdout, stderr } = await run(CLI, args, { env: { ...process.env, ...env }, timeout: 180_000, maxBuffer: 16 << 20 });
        return { code: 0, stdout, output: stdout + stderr };
    } catch (err) {
        const e = err as { code?: number | string; stdout?: string; stderr?: string };
        return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
    }
}

/**
 * What the advisors' exit means. The CLI exits 1 both for a lint at ERROR (with the lints as JSON on
 * stdout) and for a run that could not check (no connection, a TLS mismatch: nothing on stdout):
 * only the first is the gate failing; the second is an error to fix in the gate's setup.
 */
export function gateVerdict(code: number, stdout: string): "pass" | "lint" | "broken" {
    if (code === 0) return "pass";
    let lints: unknown;
    try {
        lints = JSON.parse(stdout);
    } catch {
        return "broken";
    }
    return Array.isArray(lints) && lints.some((l) => (l as { level?: unknown }).level === "ERROR") ? "lint" : "broken";
}

/**
 * Makes `database` on `pg` a migrated Supabase-like database (roles already in the cluster), then
 * runs the advisors on it. `workdir` holds supabase/migrations (the repository's by default).
 */
export async function advisorsGate(pg: PostgresServer, database: string, workdir = ROOT): Promise<GateResult> {
    const url = `postgresql://postgres@127.0.0.1:${pg.port}/${database}?sslmode=disable`;
    const env = { PGPASSWORD: SUPERUSER_PASSWORD, SUPABASE_DB_URL: url };
    await pg.sql(SUPABASE_DEFAULT_PRIVILEGES, database);
    const push = await cli(["db", "push", "--db-url", url, "--workdir", workdir, "--yes"], env);
    if (push.code !== 0) throw new Error(`supabase db push into ${url} failed (exit ${push.code}):\n${push.output}`);
    const advisors = await cli(
        ADVISORS_ARGS.map((a) => (a === "$SUPABASE_DB_URL" ? url : a)),
        env,
    );
    if (gateVerdict(advisors.code, advisors.stdout) === "broken")
        throw new Error(`supabase db advisors could not check ${url} (exit ${advisors.code}, no lint reported):\n${advisors.output}`);
    return { code: advisors.code, output: advisors.output, database: url };
}

const AUTH_SQL = () => readFileSync(join(ROOT, "test", "support", "supabase-auth.sql"), "utf8");

/** A scratch server with Supabase's roles (cluster-wide) and the auth schema in `postgres`. */
export async function supabaseLikeServer(): Promise<PostgresServer> {
    const pg = await startPostgres();
    try {
        await pg.sql(`alter role postgres password '${SUPERUSER_PASSWORD}'`);
        await pg.sql(AUTH_SQL());
        return pg;
    } catch (err) {
        await pg.stop();
        throw err;
    }
}

/** Another database on the same server, with the auth schema (the roles are the cluster's). */
export async function supabaseLikeDatabase(pg: PostgresServer, name: string): Promise<void> {
    const auth = AUTH_SQL();
    await pg.sql(`create database ${name}`);
    await pg.sql(auth.slice(auth.indexOf("-- per database")), name);
}

async function main(): Promise<number> {
    const { values } = parseArgs({ options: { workdir: { type: "string" } } });
    // A broken run (no connection, a failed push) throws: exit 2 below, never taken for a lint.
    const pg = await supabaseLikeServer();
    try {
        const r = await advisorsGate(pg, "postgres", values.workdir ? resolve(values.workdir) : ROOT);
        process.stdout.write(r.output.endsWith("\n") ? r.output : `${r.output}\n`);
        process.stdout.write(
            r.code === 0
                ? "advisors gate: no lint at ERROR on the migrated database\n"
                : "advisors gate FAILED: a lint at ERROR on the migrated database (above); fix the migration (e.g. `alter table ... enable row level security` and a policy), see docs/testing.md\n",
        );
        return r.code === 0 ? 0 : 1;
    } finally {
        await pg.stop();
    }
}

if (require.main === module)
    main().then(
        (code) => process.exit(code),
        (err: unknown) => {
            process.stderr.write(`advisors gate could not run: ${(err as Error).message}\n`);
            process.exit(2);
        },
    );
