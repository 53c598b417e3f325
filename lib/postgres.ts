/** The one builder of PostgreSQL connection URLs (libpq, node-postgres, SQLAlchemy, the Supabase CLI read them). */

export interface PostgresTarget {
    user: string;
    /** Omitted where the client reads it from PGPASSFILE or PGPASSWORD. */
    password?: string;
    host: string;
    port: number;
    database: string;
    sslMode: string;
    /** Further libpq parameters (e.g. sslrootcert). Only libpq's own: it rejects unknown ones. */
    params?: Record<string, string>;
}

/**
 * A path segment: percent-encoded, except the characters a segment may hold literally (RFC 3986
 * pchar). node-postgres decodes the database with decodeURI, which leaves %24 ($) and the like
 * encoded; libpq reads both forms. (`/`, `?` and `#` cannot reach node-postgres at all: the
 * supabaseDbName rule refuses them.)
 */
const segment = (s: string) => encodeURIComponent(s).replace(/%(24|26|2B|2C|3B|3D|3A|40)/g, (m) => decodeURIComponent(m));

/**
 * Every part is percent-encoded (libpq decodes each; `+` is not a space to it, so no URLSearchParams).
 * An IPv6 host goes in brackets.
 */
export function postgresUrl(t: PostgresTarget): string {
    const enc = encodeURIComponent;
    const auth = t.password === undefined ? enc(t.user) : `${enc(t.user)}:${enc(t.password)}`;
    const host = t.host.includes(":") ? `[${t.host}]` : enc(t.host);
    const query = Object.entries({ sslmode: t.sslMode, ...t.params })
        .map(([k, v]) => `${enc(k)}=${enc(v)}`)
        .join("&");
    return `postgresql://${auth}@${host}:${t.port}/${segment(t.database)}?${query}`;
}
