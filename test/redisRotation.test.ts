/**
 * A Redis rotation step on a real redis-server 7 over TLS, as `pulumi up` applies it on one host:
 * the ACL file accepts both rotation slots' passwords, and the deployer's command (lib/redis.ts
 * aclApplyScript, the script `docker exec` runs in the container) gives the running server the next
 * step's passwords with ACL SETUSER: no restart, open connections stay open, the password the old
 * consumers hold keeps working, the one regenerated is refused.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclApplyScript, aclFile, aclPasswordCommands, REDIS_DEPLOYER, redisConf, type AclUser } from "../lib/redis";
import type { RedisUser } from "../lib/credentials";
import { startRedis, type RedisServerProcess } from "./support/redis";

const pw = (tag: string) => `${tag}${"0123456789abcdefABCDEFghijkl".repeat(2)}`.slice(0, 40);
const DEPLOYER = pw("deployer");
/** Step N: slot A holds `a1`, slot B `b1`, the consumers use A. Step N+1 regenerates B (`b2`) and moves them to it. */
function step(a: string, b: string, active: "a" | "b"): Record<RedisUser, AclUser> {
    const user = (name: RedisUser): AclUser => {
        const slots = { a: pw(`${name}${a}`), b: pw(`${name}${b}`) };
        return { username: `toolboxai_${name}`, password: slots[active], passwords: [slots.a, slots.b] };
    };
    return { backend: user("backend"), worker: user("worker"), healthcheck: user("healthcheck"), exporter: user("exporter") };
}
const N = step("A1", "B1", "a");
const N1 = step("A1", "B2", "b");

let redis: RedisServerProcess;
let passwordFile: string;
beforeAll(async () => {
    redis = await startRedis(redisConf(), aclFile(N, DEPLOYER));
    passwordFile = join(redis.dir, "deployer_password");
    writeFileSync(passwordFile, DEPLOYER, { mode: 0o600 });
}, 60_000);
afterAll(async () => redis?.stop());

function connect(username: string, password: string): Redis {
    const client = new Redis({
        host: "127.0.0.1",
        port: redis.port,
        username,
        password,
        tls: { ca: readFileSync(redis.pki.caCert), servername: "localhost" },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
    });
    // A refused login is a result here, reported by connect(); not an unhandled event.
    client.on("error", () => undefined);
    return client;
}
async function logsIn(username: string, password: string): Promise<boolean> {
    const client = connect(username, password);
    try {
        await client.connect();
        return (await client.ping()) === "PONG";
    } catch {
        return false;
    } finally {
        client.disconnect();
    }
}

/** The deployer's script as `docker exec` runs it, with this server's CA, port and password file. */
function applyStep(commands: string): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
        const child = execFile(
            "/bin/sh",
            ["-c", aclApplyScript({ caCert: redis.pki.caCert, passwordFile, port: redis.port })],
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
        );
        child.stdin!.end(commands);
    });
}

describe("a Redis rotation step on the running server", () => {
    it("the ACL file accepts both slots' passwords", async () => {
        for (const user of ["backend", "worker", "healthcheck"] as const)
            for (const password of N[user].passwords!) expect(await logsIn(N[user].username, password), user).toBe(true);
    });

    it("applies step N+1 without a restart: open connections stay, the old consumers' password works, the regenerated one is refused", async () => {
        const open = connect(N.backend.username, N.backend.password);
        await open.connect();
        // The same connection afterwards (it never reconnects: retryStrategy null) is the proof that the server did not restart.
        const id = await open.call("CLIENT", "ID");

        const commands = aclPasswordCommands(N1);
        // Hashes on stdin, never a password.
        for (const user of ["backend", "worker", "healthcheck"] as const) expect(commands.includes(N1[user].password)).toBe(false);
        const result = await applyStep(commands);
        expect(result.code, result.output).toBe(0);

        expect(await open.ping()).toBe("PONG");
        expect(await open.call("CLIENT", "ID")).toBe(id);
        for (const user of ["backend", "worker", "healthcheck"] as const) {
            // Step N's consumers (slot A) and step N+1's (slot B, new) both log in; slot B's old password does not.
            expect(await logsIn(N1[user].username, N[user].password), `${user}: step N's password`).toBe(true);
            expect(await logsIn(N1[user].username, N1[user].password), `${user}: step N+1's password`).toBe(true);
            expect(await logsIn(N1[user].username, N[user].passwords![1]), `${user}: the regenerated slot's old password`).toBe(false);
        }
        // The users' other rules are untouched: the backend still may not FLUSHALL.
        await expect(open.flushall()).rejects.toThrow(/NOPERM/);
        open.disconnect();
    });

    it("the deployer's user may change users' passwords and nothing else", async () => {
        const deployer = connect(REDIS_DEPLOYER, DEPLOYER);
        await deployer.connect();
        try {
            await expect(deployer.get("anything")).rejects.toThrow(/NOPERM/);
            await expect(deployer.call("ACL", "LIST")).rejects.toThrow(/NOPERM/);
            await expect(deployer.flushall()).rejects.toThrow(/NOPERM/);
        } finally {
            deployer.disconnect();
        }
    });
});
