/** The generated redis.conf and ACL file on a real redis-server 7, over TLS on loopback. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclFile, redisConf } from "../lib/redis";
import { makePki, startRedis, TEST_REDIS_USERS, type RedisServerProcess } from "./support/redis";

const USERS = TEST_REDIS_USERS;

let redis: RedisServerProcess;
let otherCa: string;
let otherDir: string;
beforeAll(async () => {
    redis = await startRedis(redisConf(), aclFile(USERS));
    otherDir = mkdtempSync(join(tmpdir(), "toolboxai-other-ca-"));
    otherCa = (await makePki(otherDir, "other")).caCert;
}, 60_000);
afterAll(async () => {
    await redis?.stop();
    rmSync(otherDir, { recursive: true, force: true });
});

const as = (user: keyof typeof USERS, ...args: string[]) =>
    redis.cli({ user: USERS[user].username, password: USERS[user].password }, ...args);

describe("Redis over TLS with the generated ACL", () => {
    it("answers a client that trusts the generated CA", async () => {
        expect(await as("backend", "PING")).toEqual({ code: 0, output: "PONG" });
    });

    it("refuses a client that trusts another CA", async () => {
        const result = await redis.cli({ user: USERS.backend.username, password: USERS.backend.password, caCert: otherCa }, "PING");
        expect(result.output).not.toBe("PONG");
        expect(result.output).toMatch(/SSL|certificate|verify/i);
    });

    it("has no plain-text port: a client without TLS gets no answer", async () => {
        const result = await redis.cli({ user: USERS.backend.username, password: USERS.backend.password, tls: false }, "PING");
        expect(result.output).not.toBe("PONG");
        expect(redisConf()).toMatch(/^port 0$/m);
    });

    it.each(["backend", "worker", "healthcheck"] as const)("authenticates %s with its password and refuses a wrong one", async (user) => {
        expect((await as(user, "PING")).output).toBe("PONG");
        const wrong = await redis.cli({ user: USERS[user].username, password: "not-the-password-0123456789" }, "PING");
        expect(wrong.output).toMatch(/WRONGPASS|invalid username-password/);
    });

    it("keeps the default user off", async () => {
        const result = await redis.cli({}, "PING");
        expect(result.output).toMatch(/NOAUTH|NOPERM|WRONGPASS|Authentication required/i);
        expect(aclFile(USERS)).toMatch(/^user default off /m);
    });

    it("lets the worker use queues but refuses FLUSHALL, CONFIG and others outside its set", async () => {
        expect((await as("worker", "LPUSH", "jobs", "1")).output).toBe("1");
        expect((await as("worker", "RPOP", "jobs")).output).toBe("1");
        expect((await as("worker", "XADD", "events", "*", "k", "v")).output).toMatch(/^\d+-\d+$/);
        for (const command of [
            ["FLUSHALL"],
            ["CONFIG", "GET", "*"],
            ["KEYS", "*"],
            ["SAVE"],
            ["CLIENT", "LIST"],
            ["SHUTDOWN"],
            ["ACL", "LIST"],
            ["EVAL", "return 1", "0"],
            ["SCRIPT", "FLUSH"],
            ["SCRIPT", "KILL"],
            ["FUNCTION", "FLUSH"],
            ["PUBSUB", "CHANNELS"],
        ]) {
            expect((await as("worker", ...command)).output, command.join(" ")).toMatch(/NOPERM/);
        }
    });

    it("runs the worker's scripts under the worker's own ACL: a script cannot reach FLUSHALL", async () => {
        const sha = (await as("worker", "SCRIPT", "LOAD", "return redis.call('FLUSHALL')")).output;
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
        expect((await as("worker", "EVALSHA", sha, "0")).output).toMatch(/NOPERM|can't run this command/i);
        expect((await as("worker", "PUBLISH", "c", "m")).output).toBe("0");
    });

    it("lets the backend cache and publish, but not administer", async () => {
        expect((await as("backend", "SET", "k", "v", "EX", "60")).output).toBe("OK");
        expect((await as("backend", "GET", "k")).output).toBe("v");
        expect((await as("backend", "PUBLISH", "events", "m")).output).toBe("0");
        for (const command of [["FLUSHALL"], ["CONFIG", "SET", "appendonly", "no"], ["ACL", "SETUSER", "x", "on"], ["FUNCTION", "FLUSH"]]) {
            expect((await as("backend", ...command)).output, command.join(" ")).toMatch(/NOPERM/);
        }
    });

    it("lets the health-check user PING and nothing else", async () => {
        expect((await as("healthcheck", "PING")).output).toBe("PONG");
        for (const command of [["GET", "k"], ["SET", "k", "v"], ["INFO"], ["CLIENT", "LIST"], ["FLUSHALL"]]) {
            expect((await as("healthcheck", ...command)).output, command.join(" ")).toMatch(/NOPERM/);
        }
    });

    it("keeps no plain password in the ACL file", () => {
        const acl = aclFile(USERS);
        for (const { password } of Object.values(USERS)) expect(acl).not.toContain(password);
    });
});
