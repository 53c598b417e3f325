/**
 * Rotation without a single failed login, on a real PostgreSQL 15 and redis-server 7: the
 * program's own commands replayed at rotation steps N, N+1 and N+2 as the command provider runs
 * them (the owner's password, each consumer's roles, Redis's credentials seed and ACL SETUSER),
 * then the consumers "replaced" (the new credentials from their planned secret files taking over).
 * Meanwhile a client loop per consumer opens a new PostgreSQL connection and a new Redis connection
 * every 100 ms with the credentials that consumer was given, and counts the failures.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Redis from "ioredis";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import { aclApplyScript, aclFile, REDIS_PATHS, redisConf } from "../lib/redis";
import { byName } from "./harness";
import { runPlannedCommand } from "./support/plannedCommand";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { rotationSteps } from "./support/rotationSteps";
import { startRedis, type RedisServerProcess } from "./support/redis";

const BOOTSTRAP = "bootstrap-password-of-the-owner";
const AUTH_SQL = readFileSync(join(__dirname, "support", "supabase-auth.sql"), "utf8");
const CONSUMERS = ["backend", "worker"] as const;
type Consumer = (typeof CONSUMERS)[number];

let pg: PostgresServer;
let redis: RedisServerProcess;
let deployerPasswordFile: string;
/** The dev stack at steps N, N+1, N+2 (rotationGeneration 0, 1, 2). */
let steps: Evaluation[];

type Upload = { file: string; content: string };
const uploads = (ev: Evaluation, seed: string) => reveal(byName(ev, seed).inputs.uploads) as Upload[];
const uploaded = (ev: Evaluation, seed: string, file: string) => uploads(ev, seed).find((u) => u.file === file)!.content;

beforeAll(async () => {
    steps = await rotationSteps(BOOTSTRAP);
    pg = await startPostgres();
    await pg.sql(`alter role postgres password '${BOOTSTRAP}'`);
    await pg.sql(AUTH_SQL);
    redis = await startRedis(redisConf(), uploaded(steps[0], "redis-credentials-seed", REDIS_PATHS.acl));
    deployerPasswordFile = join(redis.dir, "deployer_password");
    writeFileSync(deployerPasswordFile, uploaded(steps[0], "redis-server-seed", REDIS_PATHS.deployerPassword), { mode: 0o600 });
}, 240_000);
afterAll(async () => {
    await redis?.stop();
    await pg?.stop();
});

/** A planned command as the provider runs it, pointed at the test's servers. */
async function runCommand(
    ev: Evaluation,
    name: string,
    extra: Record<string, string> = {},
    server: PostgresServer = pg,
): Promise<{ stdout: string; stderr: string }> {
    const result = await runPlannedCommand(ev, name, { PGHOST: server.host, PGPORT: String(server.port), ...extra });
    if (result.code !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    return result;
}

/** What a consumer's container is given at a step: its database login (pgpass) and its Redis user. */
function credentialsOf(ev: Evaluation, consumer: Consumer) {
    const files = uploads(ev, `app-${consumer}-0-seed`);
    const pgpass = files
        .find((u) => u.file === "/run/secrets/pgpass")!
        .content.trim()
        .split(":");
    return {
        database: { user: pgpass[3], password: pgpass.slice(4).join(":") },
        redis: { user: `toolboxai_${consumer}`, password: files.find((u) => u.file === "/run/secrets/redis_password")!.content },
    };
}

interface Loop {
    attempts: number;
    failures: string[];
    stop(): Promise<void>;
}

/** A new Redis connection as `user`, PING, disconnect; a failure is recorded by its message (no password in it). */
async function redisLogin(
    label: string,
    user: { user: string; password: string },
    failures: string[],
    server: RedisServerProcess,
): Promise<void> {
    const cache = new Redis({
        host: "127.0.0.1",
        port: server.port,
        username: user.user,
        password: user.password,
        tls: { ca: readFileSync(server.pki.caCert), servername: "localhost" },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        // Its INFO would be refused (the ACL): the PING below is the check.
        enableReadyCheck: false,
    });
    cache.on("error", () => undefined);
    try {
        await cache.connect();
        await cache.ping();
    } catch (err) {
        failures.push(`${label} redis: ${(err as Error).message}`);
    } finally {
        cache.disconnect();
    }
}

/** A consumer's container: every 100 ms, a new PostgreSQL and a new Redis connection with what it was given. */
function clientLoop(
    label: string,
    credentials: { database: { user: string; password: string }; redis?: { user: string; password: string } },
    servers: { pg: PostgresServer; redis: RedisServerProcess } = { pg, redis },
): Loop {
    const server = servers.pg;
    const loop = { attempts: 0, failures: [] as string[], running: true };
    const once = async () => {
        const db = new Client({
            host: server.host,
            port: server.port,
            database: "postgres",
            ...credentials.database,
            connectionTimeoutMillis: 5000,
        });
        try {
            await db.connect();
            await db.query("select 1");
        } catch (err) {
            loop.failures.push(`${label} postgres: ${(err as Error).message}`);
        } finally {
            await db.end().catch(() => undefined);
        }
        if (credentials.redis) await redisLogin(label, credentials.redis, loop.failures, servers.redis);
        loop.attempts++;
    };

    const done = (async () => {
        while (loop.running) {
            const started = Date.now();
            await once();
            await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
        }
    })();
    return {
        get attempts() {
            return loop.attempts;
        },
        failures: loop.failures,
        stop: async () => {
            loop.running = false;
            await done;
        },
    };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("rotation steps N -> N+1 -> N+2 with consumers logging in every 100 ms", () => {
    it("counts zero failed logins", async () => {
        const all: { label: string; loop: Loop }[] = [];
        let previousStdout: string | undefined;
        let current: Partial<Record<Consumer, Loop>> = {};
        for (const [i, ev] of steps.entries()) {
            // As `pulumi up` orders it: the owner's password, each consumer's roles, Redis's credentials
            // seed and ACL SETUSER; Vault; then the consumers' replacements.
            previousStdout = (
                await runCommand(ev, "credentials-apply-database-password", previousStdout ? { PULUMI_COMMAND_STDOUT: previousStdout } : {})
            ).stdout;
            await pause(300);
            await runCommand(ev, "credentials-consumer-roles");
            await pause(300);
            writeFileSync(join(redis.dir, "users.acl"), uploaded(ev, "redis-credentials-seed", REDIS_PATHS.acl));
            await new Promise<void>((resolve, reject) => {
                const child = execFile(
                    "/bin/sh",
                    ["-c", aclApplyScript({ caCert: redis.pki.caCert, passwordFile: deployerPasswordFile, port: redis.port })],
                    (err, _out, stderr) => (err ? reject(new Error(`redis-acl-apply failed: ${stderr}`)) : resolve()),
                );
                child.stdin!.end(String(reveal(byName(ev, "redis-acl-apply").inputs.stdin)));
            });
            await pause(300);
            for (const consumer of CONSUMERS) {
                // Create-first: the new container runs before the old one is gone.
                const next = clientLoop(`step N+${i} ${consumer}`, credentialsOf(ev, consumer));
                all.push({ label: `step N+${i} ${consumer}`, loop: next });
                await pause(300);
                await current[consumer]?.stop();
                current = { ...current, [consumer]: next };
            }
            await pause(500);
        }
        await pause(1000);
        for (const loop of Object.values(current)) await loop.stop();
        const counts = all.map(({ label, loop }) => `${label}: ${loop.attempts} attempts, ${loop.failures.length} failed`);
        console.log(`rotation N -> N+1 -> N+2, one new PostgreSQL and one new Redis connection per attempt:\n  ${counts.join("\n  ")}`);
        const failures = all.flatMap(({ loop }) => loop.failures);
        // Messages carry no password (a failed login names the user only).
        expect(failures.slice(0, 5)).toEqual([]);
        for (const { label, loop } of all) expect(loop.attempts, label).toBeGreaterThan(5);
        // The consumers did move: each step's login differs from the one before.
        const users = steps.map((ev) => credentialsOf(ev, "backend").database.user);
        expect(users[0]).not.toBe(users[1]);
        expect(users[1]).not.toBe(users[2]);
    }, 180_000);

    it("moves an existing stack (its consumers logging in as the owner, and to Redis with one password per user: the old design) without a failed login", async () => {
        const existing = await startPostgres();
        const ev = steps[0];
        // What the old design left at this step, from the same resources with the same inputs (so an
        // existing stack's state keeps their values): the owner has the step's password, every
        // consumer's pgpass holds it, and each Redis user has one password.
        const sameInputs = (name: string, keepers: Record<string, unknown>) =>
            expect(byName(ev, name).inputs, name).toEqual({ length: 40, special: false, minLower: 2, minUpper: 2, minNumeric: 2, keepers });
        for (const slot of ["a", "b"]) sameInputs(`credentials-database-password-${slot}`, { slot: expect.any(String) });
        const owner = (reveal(byName(ev, "credentials-apply-database-password").inputs.environment) as Record<string, string>).NEW_PASSWORD;
        const previousRedis = (user: string) => {
            sameInputs(`credentials-redis-${user}-password`, { rotation: expect.any(String) });
            return String(reveal(byName(ev, `credentials-redis-${user}-password`).outputs.result));
        };
        const oldUsers = {
            ...Object.fromEntries(
                ["backend", "worker", "healthcheck"].map((u) => [u, { username: `toolboxai_${u}`, password: previousRedis(u) }]),
            ),
            // The exporter's user came later (monitoring); the old server's file gets one that no loop uses.
            exporter: {
                username: "toolboxai_exporter",
                password: String(reveal(byName(ev, "credentials-redis-exporter-password-a").outputs.result)),
            },
        } as Parameters<typeof aclFile>[0];
        // A test-only admin user stands in for the restart: ACL LOAD replaces the users and drops every connection, as a restart does.
        const ADMIN = "user testadmin on >test-admin-password-0123456789 ~* &* +@all\n";
        const existingRedis = await startRedis(redisConf(), aclFile(oldUsers) + ADMIN);
        const servers = { pg: existing, redis: existingRedis };
        try {
            await existing.sql(`alter role postgres password '${owner}'`);
            await existing.sql(AUTH_SQL);
            const old = CONSUMERS.map((c) => ({
                label: `old design ${c}`,
                loop: clientLoop(
                    `old design ${c}`,
                    { database: { user: "postgres", password: owner }, redis: { user: `toolboxai_${c}`, password: previousRedis(c) } },
                    servers,
                ),
            }));
            await pause(500);
            // The first `up` with this design: the owner's password is proven and left as it is, the roles are created...
            const applied = await runCommand(ev, "credentials-apply-database-password", { PULUMI_COMMAND_STDOUT: owner }, existing);
            expect(applied.stderr).toMatch(/already has the new password \(the server asked for it and accepted it\)/);
            await pause(300);
            await runCommand(ev, "credentials-consumer-roles", {}, existing);
            await pause(300);
            // ...Redis restarts with its new files (its seed changed shape), and redis-acl-apply runs...
            writeFileSync(join(existingRedis.dir, "users.acl"), uploaded(ev, "redis-credentials-seed", REDIS_PATHS.acl) + ADMIN);
            expect(await existingRedis.cli({ user: "testadmin", password: "test-admin-password-0123456789" }, "ACL", "LOAD")).toEqual({
                code: 0,
                output: "OK",
            });
            const passwordFile = join(existingRedis.dir, "deployer_password");
            writeFileSync(passwordFile, uploaded(ev, "redis-server-seed", REDIS_PATHS.deployerPassword), { mode: 0o600 });
            await new Promise<void>((resolve, reject) => {
                const child = execFile(
                    "/bin/sh",
                    ["-c", aclApplyScript({ caCert: existingRedis.pki.caCert, passwordFile, port: existingRedis.port })],
                    (err, _out, stderr) => (err ? reject(new Error(`redis-acl-apply failed: ${stderr}`)) : resolve()),
                );
                child.stdin!.end(String(reveal(byName(ev, "redis-acl-apply").inputs.stdin)));
            });
            await pause(500);
            // ...then the consumers are replaced, each new one before the old one stops.
            const moved = CONSUMERS.map((c) => ({
                label: `own role ${c}`,
                loop: clientLoop(`own role ${c}`, credentialsOf(ev, c), servers),
            }));
            await pause(500);
            for (const { loop } of old) await loop.stop();
            await pause(1000);
            for (const { loop } of moved) await loop.stop();
            const all = [...old, ...moved];
            console.log(
                `moving an existing stack, one new PostgreSQL and one new Redis connection per attempt:\n  ${all.map(({ label, loop }) => `${label}: ${loop.attempts} attempts, ${loop.failures.length} failed`).join("\n  ")}`,
            );
            expect(all.flatMap(({ loop }) => loop.failures).slice(0, 5)).toEqual([]);
            for (const { label, loop } of all) expect(loop.attempts, label).toBeGreaterThan(5);
            expect(credentialsOf(ev, "backend").database.user).toMatch(/^toolboxai_backend_[ab]$/);
        } finally {
            await existingRedis.stop();
            await existing.stop();
        }
    }, 180_000);
});
