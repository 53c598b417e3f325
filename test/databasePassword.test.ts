/** The apply step's pure rules: whom it logs in as, and the SCRAM-SHA-256 verifier it sends in place of the password. */
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { alterRoleStatement, loginCandidates, parseScramVerifier, scramSha256Verifier } from "../lib/databasePassword";

const b64 = (text: string) => Buffer.from(text, "base64");

describe("SCRAM-SHA-256 verifier", () => {
    it("lets a server run RFC 7677's example exchange: it checks the client's proof and signs as the RFC does", () => {
        // RFC 7677 section 3: user "user", password "pencil".
        const verifier = scramSha256Verifier("pencil", b64("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        const [, keys] = verifier.split("$").slice(1);
        const [storedKey, serverKey] = keys.split(":").map(b64);
        const authMessage = [
            "n=user,r=rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        ].join(",");
        // What the server does with a stored verifier: recover ClientKey from the proof and hash it.
        const clientSignature = createHmac("sha256", storedKey).update(authMessage).digest();
        const proof = b64("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
        expect(createHash("sha256").update(clientKey).digest().equals(storedKey)).toBe(true);
        expect(createHmac("sha256", serverKey).update(authMessage).digest("base64")).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    });

    it("has PostgreSQL's stored form, and its salt and iterations read back", () => {
        const salt = Buffer.alloc(16, 7);
        const verifier = scramSha256Verifier("a".repeat(40), salt);
        expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
        expect(parseScramVerifier(verifier)).toEqual({ iterations: 4096, salt });
        expect(verifier).not.toContain("a".repeat(40));
    });

    it("differs with the salt, so that equal passwords don't have equal verifiers", () => {
        expect(scramSha256Verifier("pencil", Buffer.alloc(16, 1))).not.toBe(scramSha256Verifier("pencil", Buffer.alloc(16, 2)));
    });

    it("refuses passwords that SASLprep could change (the server would hash something else)", () => {
        expect(() => scramSha256Verifier("pässword-0123456789", Buffer.alloc(16))).toThrow(/printable ASCII/);
        expect(() => scramSha256Verifier("tab\there", Buffer.alloc(16))).toThrow(/printable ASCII/);
    });
});

describe("ALTER ROLE statement", () => {
    it("carries the verifier", () => {
        const verifier = scramSha256Verifier("pencil", Buffer.alloc(16, 3));
        expect(alterRoleStatement(verifier)).toBe(`ALTER ROLE CURRENT_USER WITH PASSWORD '${verifier}';\n`);
    });

    it("refuses to carry anything else: a password, or a verifier with a quote smuggled in", () => {
        expect(() => alterRoleStatement("Plaintext0123456789Plaintext0123456789")).toThrow(/anything but a SCRAM-SHA-256 verifier/);
        const verifier = scramSha256Verifier("pencil", Buffer.alloc(16, 3));
        expect(() => alterRoleStatement(`${verifier}'; DROP ROLE app; --`)).toThrow(/anything but a SCRAM-SHA-256 verifier/);
    });
});

describe("login candidates", () => {
    const applied = "Applied0123456789Applied0123456789Applied0";
    const standby = "Standby0123456789Standby0123456789Standby0";

    it("tries the password applied last first, then the other slot, then the bootstrap password", () => {
        expect(loginCandidates({ lastApplied: applied, standby, bootstrap: "postgres" })).toEqual([applied, standby, "postgres"]);
    });

    it("drops blanks and repeats, and the provider's trailing newline", () => {
        expect(loginCandidates({ lastApplied: `${standby}\n`, standby, bootstrap: "" })).toEqual([standby]);
        expect(loginCandidates({})).toEqual([]);
    });

    it("ignores a previous output that is not a generated password (an older version of the step printed a message)", () => {
        expect(loginCandidates({ lastApplied: "apply-database-password: password of postgres@db:5432 rotated", standby })).toEqual([
            standby,
        ]);
    });
});
