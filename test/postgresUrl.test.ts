/**
 * lib/postgres.ts against its real consumers: libpq (psql) and node-postgres parse what it builds, and
 * log in as a role and to a database whose names and password hold every character URLs reserve.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresUrl } from "../lib/postgres";
import { startPostgres, type PostgresServer } from "./support/postgres";

const run = promisify(execFile);
const USER = "app user@x:/%+?#";
const PASSWORD = "p@ss:w/rd?#%+ &=[]é";
// Everything a database name can hold for both clients: node-postgres cannot take / ? # by URL.
const DATABASE = "my db$1+x:@;=,&%é";
const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

let pg: PostgresServer;
beforeAll(async () => {
    pg = await startPostgres();
    await pg.sql(`CREATE ROLE ${quote(USER)} LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
    await pg.sql(`CREATE DATABASE ${quote(DATABASE)} OWNER ${quote(USER)}`);
}, 60_000);
afterAll(async () => pg?.stop());

describe("postgresUrl", () => {
    it("is read by node-postgres: user, password and database arrive intact", async () => {
        const client = new Client({
            connectionString: postgresUrl({
                user: USER,
                password: PASSWORD,
                host: pg.host,
                port: pg.port,
                database: DATABASE,
                sslMode: "disable",
            }),
        });
        await client.connect();
        try {
            const { rows } = await client.query("select current_user as u, current_database() as d");
            expect(rows[0]).toEqual({ u: USER, d: DATABASE });
        } finally {
            await client.end();
        }
    });

    it("is read by libpq (psql), extra parameters included; the password comes from PGPASSWORD as in the containers' PGPASSFILE", async () => {
        const url = postgresUrl({
            user: USER,
            host: pg.host,
            port: pg.port,
            database: DATABASE,
            sslMode: "disable",
            params: { sslrootcert: "/etc/toolbox ai/ca+1.crt", application_name: "a b+c" },
        });
        const { stdout } = await run(
            "psql",
            [
                "-X",
                "-A",
                "-t",
                "-d",
                url,
                "-c",
                "select current_user || '|' || current_database() || '|' || current_setting('application_name')",
            ],
            {
                env: { PATH: process.env.PATH, PGPASSWORD: PASSWORD },
            },
        );
        expect(stdout.trim()).toBe(`${USER}|${DATABASE}|a b+c`);
    });

    it("brackets an IPv6 host", () => {
        expect(postgresUrl({ user: "u", host: "::1", port: 5432, database: "d", sslMode: "require" })).toBe(
            "postgresql://u@[::1]:5432/d?sslmode=require",
        );
    });
});
