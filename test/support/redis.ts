/**
 * A real redis-server on loopback, started with a given redis.conf and ACL file, and TLS
 * material made by openssl to the same specification RedisServer gives @pulumi/tls.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { freePort } from "./net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { REDIS_TLS } from "../../lib/redis";
import { requireTool } from "./tools";

const run = promisify(execFile);

export interface Pki {
    caCert: string;
    caKey: string;
    serverCert: string;
    serverKey: string;
}

/** A CA and a server certificate signed by it, as RedisServer's tls resources describe them. */
export async function makePki(dir: string, name: string): Promise<Pki> {
    requireTool("openssl");
    const path = (f: string) => join(dir, `${name}-${f}`);
    const curve = REDIS_TLS.ecdsaCurve === "P256" ? "prime256v1" : REDIS_TLS.ecdsaCurve;
    const days = (hours: number) => String(Math.floor(hours / 24));
    await run("openssl", ["ecparam", "-name", curve, "-genkey", "-noout", "-out", path("ca.key")]);
    await run("openssl", [
        "req",
        "-x509",
        "-new",
        "-key",
        path("ca.key"),
        "-subj",
        `/CN=${REDIS_TLS.caCommonName}`,
        "-days",
        days(REDIS_TLS.caValidityHours),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        path("ca.crt"),
    ]);
    await run("openssl", ["ecparam", "-name", curve, "-genkey", "-noout", "-out", path("server.key")]);
    await run("openssl", ["req", "-new", "-key", path("server.key"), "-subj", "/CN=redis", "-out", path("server.csr")]);
    const san = [...REDIS_TLS.dnsNames.map((d) => `DNS:${d}`), ...REDIS_TLS.ipAddresses.map((ip) => `IP:${ip}`)].join(",");
    writeFileSync(
        path("ext.cnf"),
        `subjectAltName=${san}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    await run("openssl", [
        "x509",
        "-req",
        "-in",
        path("server.csr"),
        "-CA",
        path("ca.crt"),
        "-CAkey",
        path("ca.key"),
        "-CAcreateserial",
        "-days",
        days(REDIS_TLS.serverValidityHours),
        "-extfile",
        path("ext.cnf"),
        "-out",
        path("server.crt"),
    ]);
    return { caCert: path("ca.crt"), caKey: path("ca.key"), serverCert: path("server.crt"), serverKey: path("server.key") };
}

export interface RedisServerProcess {
    port: number;
    dir: string;
    pki: Pki;
    /** Runs redis-cli over TLS as `user`; returns its output (errors included) and exit code. */
    cli(
        options: { user?: string; password?: string; caCert?: string; tls?: boolean },
        ...args: string[]
    ): Promise<{ code: number; output: string }>;
    stop(): Promise<void>;
}

/** Starts redis-server with `conf` and `acl` as given; only paths, port and bind address are overridden for loopback. */
export async function startRedis(conf: string, acl: string): Promise<RedisServerProcess> {
    const server = requireTool("redis-server");
    const redisCli = requireTool("redis-cli");
    const dir = mkdtempSync(join(tmpdir(), "toolboxai-redis-"));
    const pki = await makePki(dir, "redis");
    writeFileSync(join(dir, "redis.conf"), conf);
    writeFileSync(join(dir, "users.acl"), acl);
    const port = await freePort();
    const child: ChildProcess = spawn(
        server,
        [
            join(dir, "redis.conf"),
            "--tls-port",
            String(port),
            "--tls-cert-file",
            pki.serverCert,
            "--tls-key-file",
            pki.serverKey,
            "--tls-ca-cert-file",
            pki.caCert,
            "--aclfile",
            join(dir, "users.acl"),
            "--dir",
            dir,
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "no",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stdout?.on("data", (d) => (log += d));
    child.stderr?.on("data", (d) => (log += d));

    const cli: RedisServerProcess["cli"] = async ({ user, password, caCert = pki.caCert, tls = true }, ...args) => {
        const flags = [
            "-h",
            "127.0.0.1",
            "-p",
            String(port),
            "--no-auth-warning",
            ...(tls ? ["--tls", "--cacert", caCert] : []),
            ...(user ? ["--user", user] : []),
        ];
        try {
            const { stdout, stderr } = await run(redisCli, [...flags, ...args], {
                env: { ...process.env, ...(password ? { REDISCLI_AUTH: password } : {}) },
                timeout: 10_000,
            });
            return { code: 0, output: (stdout + stderr).trim() };
        } catch (err) {
            const e = err as { code: number; stdout?: string; stderr?: string };
            return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
        }
    };

    for (let attempt = 0; ; attempt++) {
        if (/Ready to accept connections/.test(log)) break;
        if (child.exitCode !== null || attempt > 100) throw new Error(`redis-server did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        port,
        dir,
        pki,
        cli,
        async stop() {
            child.kill("SIGTERM");
            await new Promise((r) => child.once("exit", r));
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** ACL users with fixed passwords, for the tests that run the generated ACL file. */
export const TEST_REDIS_USERS = {
    backend: { username: "toolboxai_backend", password: "BackendPassword0123456789abcdefghijklmno" },
    worker: { username: "toolboxai_worker", password: "WorkerPassword0123456789abcdefghijklmnop" },
    healthcheck: { username: "toolboxai_healthcheck", password: "HealthPassword0123456789abcdefghijklmno" },
    exporter: { username: "toolboxai_exporter", password: "ExporterPassword0123456789abcdefghijklm" },
};
