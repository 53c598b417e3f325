/**
 * redis_exporter (Debian's prometheus-redis-exporter) against a real redis-server with the
 * generated ACL, as its own user over TLS with the generated arguments: it scrapes without a
 * single refused command, each command the ACL grants it is needed (taken away, the exporter
 * reports NOPERM), and the user can do nothing else.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisExporterArgs, redisExporterPasswordFile } from "../lib/monitoring/exporters";
import { aclFile, REDIS_EXPORTER_COMMANDS, redisConf } from "../lib/redis";
import { freePort } from "./support/net";
import { startRedis, TEST_REDIS_USERS, type RedisServerProcess } from "./support/redis";
import { requireTool } from "./support/tools";

const USERS = TEST_REDIS_USERS;

let redis: RedisServerProcess;
beforeAll(async () => {
    redis = await startRedis(redisConf(), aclFile(USERS));
}, 60_000);
afterAll(async () => redis?.stop());

/** One scrape by a fresh exporter; its /metrics and its log. */
async function scrape(server: RedisServerProcess = redis): Promise<{ metrics: string; log: string }> {
    const address = `rediss://localhost:${server.port}`;
    const passwordFile = join(server.dir, "exporter-password.json");
    writeFileSync(passwordFile, redisExporterPasswordFile(USERS.exporter.password, address), { mode: 0o600 });
    const port = await freePort();
    const args = redisExporterArgs({ address, user: USERS.exporter.username, passwordFile, caCertFile: server.pki.caCert }).map((a) =>
        a.startsWith("-web.listen-address=") ? `-web.listen-address=127.0.0.1:${port}` : a,
    );
    const child = spawn(requireTool("/usr/bin/prometheus-redis-exporter"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    try {
        for (let attempt = 0; ; attempt++) {
            try {
                const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
                const metrics = await res.text();
                // The exporter logs a refused command after answering: give its log a moment.
                await new Promise((r) => setTimeout(r, 200));
                return { metrics, log };
            } catch (err) {
                if (attempt > 50 || child.exitCode !== null)
                    throw new Error(`redis_exporter did not answer: ${String(err)}\n${log}`, { cause: err });
                await new Promise((r) => setTimeout(r, 100));
            }
        }
    } finally {
        child.kill("SIGTERM");
    }
}

describe("redis_exporter as its own ACL user", () => {
    it("scrapes over TLS with nothing refused: Redis is up and no NOPERM is logged", async () => {
        const { metrics, log } = await scrape();
        expect(metrics).toMatch(/^redis_up 1$/m);
        expect(metrics).toMatch(/^redis_exporter_last_scrape_error\{err=""\} 0$/m);
        // What a refused command would leave out quietly (INFO, SLOWLOG LEN and GET).
        for (const series of ["redis_connected_clients", "redis_memory_used_bytes", "redis_slowlog_length", "redis_slowlog_last_id"])
            expect(metrics, series).toMatch(new RegExp(`^${series} `, "m"));
        expect(log).not.toMatch(/NOPERM|WRONGPASS/);
        // The password is in no log line.
        expect(log).not.toContain(USERS.exporter.password);
    });

    it("cannot read or change data, nor run admin commands", async () => {
        const as = (...args: string[]) => redis.cli({ user: USERS.exporter.username, password: USERS.exporter.password }, ...args);
        for (const command of [["GET", "k"], ["SET", "k", "v"], ["KEYS", "*"], ["CONFIG", "GET", "*"], ["FLUSHALL"], ["ACL", "LIST"]])
            expect((await as(...command)).output, command.join(" ")).toMatch(/NOPERM/);
        expect((await as("INFO", "server")).output).toMatch(/redis_version:/);
    });
});

const seriesNames = (metrics: string) =>
    new Set(
        metrics
            .split("\n")
            .filter((l) => l && !l.startsWith("#"))
            .map((l) => l.split(/[{ ]/)[0]),
    );

describe("each command the exporter's ACL grants", () => {
    let full: { metrics: string; log: string };
    beforeAll(async () => {
        full = await scrape();
    });

    it.each(REDIS_EXPORTER_COMMANDS)("is needed: without %s the exporter is refused", async (command) => {
        const without = aclFile(USERS).replace(` +${command}`, "");
        expect(without).not.toBe(aclFile(USERS));
        const server = await startRedis(redisConf(), without);
        try {
            const { metrics, log } = await scrape(server);
            // Refused, the exporter says so in its log, or quietly leaves out the series the command gives.
            const lost = [...seriesNames(full.metrics)].filter((name) => !seriesNames(metrics).has(name));
            const refused = new RegExp(`NOPERM[^\\n]*'${command.replace("|", "\\|")}'`).test(log);
            expect(refused || lost.length > 0, `neither a NOPERM for ${command} in the log nor a lost series`).toBe(true);
        } finally {
            await server.stop();
        }
    });
});
