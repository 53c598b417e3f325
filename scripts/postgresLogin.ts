/**
 * Logins for the apply steps (scripts/apply-*.ts) through node-postgres, from the libpq variables
 * the command resource sets (PGHOST PGPORT PGDATABASE PGUSER PGSSLMODE, PGSSLROOTCERT if set),
 * watching whether the server asked for the password at all.
 */
import { Client } from "pg";
import { postgresUrl } from "../lib/postgres";

/** node-postgres from the same libpq variables (sslmode with libpq's meaning), with a connect timeout. */
function client(password: string, user = process.env.PGUSER): Client {
    const { PGHOST, PGPORT, PGDATABASE, PGSSLMODE, PGSSLROOTCERT } = process.env;
    const params: Record<string, string> = { uselibpqcompat: "true", ...(PGSSLROOTCERT ? { sslrootcert: PGSSLROOTCERT } : {}) };
    const url = postgresUrl({
        user: user!,
        password,
        host: PGHOST!,
        port: Number(PGPORT),
        database: PGDATABASE!,
        sslMode: PGSSLMODE || "prefer",
        params,
    });
    const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: "toolboxai-apply" });
    c.on("error", () => undefined);
    return c;
}

/** The authentication requests a server sends when it checks a password (trust and peer send none). */
const PASSWORD_REQUESTS = ["authenticationCleartextPassword", "authenticationMD5Password", "authenticationSASL"] as const;

/**
 * A login with `password`: "proven" when the server asked for the password and accepted it,
 * "not-asked" when it let the connection in without asking (so the login proves nothing),
 * "refused" when it did not let it in.
 */
export async function passwordLogin(password: string, user?: string): Promise<"proven" | "not-asked" | "refused"> {
    const c = client(password, user);
    let asked = false;
    for (const request of PASSWORD_REQUESTS) c.connection.once(request, () => (asked = true));
    try {
        await c.connect();
    } catch {
        return "refused";
    } finally {
        await c.end().catch(() => undefined);
    }
    return asked ? "proven" : "not-asked";
}

/**
 * The role's stored verifier read over a connection logged in with `password` (which need not be
 * the role's: this runs where the server does not ask). undefined when unreadable: pg_authid is
 * a superuser's table.
 */
export async function storedVerifier(password: string): Promise<string | undefined> {
    const c = client(password);
    try {
        await c.connect();
        const res = await c.query<{ v: string | null }>("select rolpassword as v from pg_authid where rolname = current_user");
        return res.rows[0]?.v ?? undefined;
    } catch {
        return undefined;
    } finally {
        await c.end().catch(() => undefined);
    }
}

/** Rows of one query run as PGUSER with `password` (the deployer's reads of the catalog). */
export async function query<Row extends Record<string, unknown>>(password: string, sql: string, params: unknown[] = []): Promise<Row[]> {
    const c = client(password);
    try {
        await c.connect();
        return (await c.query<Row>(sql, params)).rows;
    } finally {
        await c.end().catch(() => undefined);
    }
}
