/**
 * An ephemeral PostgreSQL cluster on loopback for tests that need a real server. The server
 * refuses to run as root, so when the tests run as root it runs as the `postgres` user.
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { freePort } from "./net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { requireTool } from "./tools";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The newest installed server's bin directory (Debian keeps them out of PATH). */
function binDir(): string {
    requireTool("psql");
    return dirname(requireTool("/usr/lib/postgresql/*/bin/initdb"));
}

export interface PostgresServer {
    host: "127.0.0.1";
    port: number;
    /** The server's log (stderr of the postmaster): what `log_statement` writes to. */
    logFile: string;
    /** Runs SQL as the superuser over the cluster's Unix socket; returns psql's tuples-only output. */
    sql(statement: string, database?: string): Promise<string>;
    /** Runs a SQL file as the superuser with psql variables (`:name`). */
    sqlFile(path: string, variables: Record<string, string | number>, database?: string): Promise<void>;
    stop(): Promise<void>;
}

export interface PostgresOptions {
    /** Serve TLS with this certificate and key (plain connections still work). */
    tls?: { certFile: string; keyFile: string };
    /** How TCP connections authenticate (pg_hba): scram-sha-256 unless set; `trust` lets any password in. */
    hostAuth?: "scram-sha-256" | "trust";
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
    const bin = binDir();
    const asRoot = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), "toolboxai-pg-"));
    const data = join(dir, "data");
    if (asRoot) {
        const { stdout } = await run("id", ["-u", "postgres"]);
        const { stdout: gid } = await run("id", ["-g", "postgres"]);
        chownSync(dir, Number(stdout), Number(gid));
    }
    const asPostgres = (cmd: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", cmd, ...args]) : run(cmd, args));
    const port = await freePort();
    const logFile = join(dir, "server.log");
    let tls = "";
    if (options.tls) {
        // The server reads its key only if the key is its own and private.
        copyFileSync(options.tls.certFile, join(dir, "server.crt"));
        copyFileSync(options.tls.keyFile, join(dir, "server.key"));
        chmodSync(join(dir, "server.key"), 0o600);
        if (asRoot) for (const f of ["server.crt", "server.key"]) await run("chown", ["postgres:postgres", join(dir, f)]);
        tls = ` -c ssl=on -c ssl_cert_file=${join(dir, "server.crt")} -c ssl_key_file=${join(dir, "server.key")}`;
    }
    await asPostgres(join(bin, "initdb"), [
        "-D",
        data,
        "-U",
        "postgres",
        "--auth-local=trust",
        `--auth-host=${options.hostAuth ?? "scram-sha-256"}`,
        "-E",
        "UTF8",
        "--no-sync",
    ]);
    await asPostgres(join(bin, "pg_ctl"), [
        "-D",
        data,
        "-l",
        logFile,
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off${tls}`,
        "-w",
        "start",
    ]);
    return {
        host: "127.0.0.1",
        port,
        logFile,
        async sql(statement, database = "postgres") {
            const { stdout } = await run("psql", [
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                dir,
                "-p",
                String(port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                statement,
            ]);
            return stdout.trim();
        },
        async sqlFile(path, variables, database = "postgres") {
            const vars = Object.entries(variables).flatMap(([k, v]) => ["-v", `${k}=${v}`]);
            await run(
                "psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", ...vars, "-h", dir, "-p", String(port), "-U", "postgres", "-d", database, "-f", path],
                { maxBuffer: 1 << 24 },
            );
        },
        async stop() {
            await asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
