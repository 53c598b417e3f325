/**
 * Pure rules of the database password's apply step (scripts/apply-database-password.ts): which
 * passwords it may log in with, and the SCRAM-SHA-256 verifier it sends instead of the password.
 */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";

/** What the program generates (RandomPassword, letters and digits): safe in an SQL literal and a URL. */
export const GENERATED_PASSWORD = /^[A-Za-z0-9]{32,}$/;

/** PostgreSQL's default for the verifiers it computes itself (scram_iterations). */
export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;

/**
 * The SCRAM-SHA-256 verifier of RFC 5802/7677 in the form PostgreSQL stores in
 * pg_authid.rolpassword: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64).
 * PostgreSQL stores a verifier given to ALTER ROLE ... PASSWORD as is, so the password itself
 * never reaches the server, its logs or its error messages.
 */
export function scramSha256Verifier(password: string, salt: Buffer, iterations: number = SCRAM_ITERATIONS): string {
    // PostgreSQL runs SASLprep on the password first; for printable ASCII that is the identity.
    // Anything else could hash differently on the server and lock the role out: refuse it.
    if (!/^[\x20-\x7e]+$/.test(password)) throw new Error("the password must be printable ASCII");
    if (salt.length === 0 || !Number.isInteger(iterations) || iterations < 1)
        throw new Error("a SCRAM verifier needs a salt and at least one iteration");
    const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

const VERIFIER = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

/** The salt and iteration count of a stored verifier (to recompute it from a password). */
export function parseScramVerifier(verifier: string): { iterations: number; salt: Buffer } {
    const m = VERIFIER.exec(verifier);
    if (!m) throw new Error("not a SCRAM-SHA-256 verifier");
    return { iterations: Number(m[1]), salt: Buffer.from(m[2], "base64") };
}

/**
 * The statement that sets a role's password to `verifier` (base64 and `$:` only: no quoting
 * needed): the logged-in role's unless `role` (a plain lower-case name) is given.
 */
export function alterRoleStatement(verifier: string, role = "CURRENT_USER"): string {
    if (!VERIFIER.test(verifier)) throw new Error("refusing to send anything but a SCRAM-SHA-256 verifier");
    if (role !== "CURRENT_USER" && !/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a plain role name: ${JSON.stringify(role)}`);
    return `ALTER ROLE ${role} WITH PASSWORD '${verifier}';\n`;
}

export interface KnownPasswords {
    /** What this step applied last time (the command's previous stdout): what the database has, whatever the rotation did since. */
    lastApplied?: string;
    /** The other rotation slot: what the database has after a rotation of one step, if the last apply is unknown. */
    standby?: string;
    /** databaseBootstrapPassword: the role's password before this program managed it. */
    bootstrap?: string;
}

/** The passwords to try logging in with, most likely first, without blanks or repeats. */
export function loginCandidates(known: KnownPasswords): string[] {
    // The previous stdout of an older version of the step was a message, not a password.
    const lastApplied = known.lastApplied?.trim();
    const ordered = [
        lastApplied !== undefined && GENERATED_PASSWORD.test(lastApplied) ? lastApplied : undefined,
        known.standby,
        known.bootstrap,
    ];
    return [...new Set(ordered.filter((p): p is string => p !== undefined && p !== ""))];
}
