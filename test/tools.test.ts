/**
 * A missing tool is one line naming it and the command that installs it, before anything is
 * spawned; and every tool a test helper asks for is one that scripts/install-test-tools.sh installs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { aclFile, redisConf } from "../lib/redis";
import { startRedis } from "./support/redis";
import { installTable, INSTALL_SCRIPT, MissingToolError, requireTool } from "./support/tools";
import { startPostgres } from "./support/postgres";

const savedPath = process.env.PATH;
afterEach(() => {
    process.env.PATH = savedPath;
});

const USERS = {
    backend: { username: "b", password: "p".repeat(32) },
    worker: { username: "w", password: "q".repeat(32) },
    healthcheck: { username: "h", password: "r".repeat(32) },
    exporter: { username: "e", password: "x".repeat(32) },
};

describe("a missing tool", () => {
    it("stops startRedis with one line naming redis-server and how to install it, with PATH emptied", async () => {
        process.env.PATH = "";
        const error = await startRedis(redisConf(), aclFile(USERS)).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(MissingToolError);
        const message = (error as Error).message;
        expect(message.split("\n")).toHaveLength(1);
        expect(message).toBe(
            `redis-server not found (Debian package redis-server): run \`bash ${INSTALL_SCRIPT}\` or \`npm run test:all\`, which installs it`,
        );
    });

    it("names the right Debian package for each probe", () => {
        expect(() => requireTool("redis-cli", { PATH: "" })).toThrow(
            /^redis-cli not found \(Debian package redis-tools\): run `bash scripts\/install-test-tools.sh`/,
        );
        expect(() => requireTool("pg_restore", { PATH: "" })).toThrow(/Debian package postgresql-client\)/);
        expect(() => requireTool("/nonexistent/*/bin/tool")).toThrow(/is not listed in scripts\/install-test-tools.sh/);
    });

    it("stops startPostgres the same way when psql is missing", async () => {
        process.env.PATH = "";
        await expect(startPostgres()).rejects.toThrow(/^psql not found \(Debian package postgresql-client\)/);
    });
});

describe("the install script covers the helpers", () => {
    it("lists every tool a test or helper asks requireTool for", () => {
        const table = installTable();
        const dirs = [join(__dirname), join(__dirname, "support")];
        const asked = dirs.flatMap((d) =>
            readdirSync(d)
                .filter((f) => f.endsWith(".ts"))
                .flatMap((f) => [...readFileSync(join(d, f), "utf8").matchAll(/requireTool\("([^"]+)"/g)].map((m) => m[1])),
        );
        expect(new Set(asked)).toEqual(
            new Set([
                "openssl",
                "redis-server",
                "redis-cli",
                "psql",
                "/usr/lib/postgresql/*/bin/initdb",
                "zstd",
                "pg_restore",
                "busybox",
                "/usr/lib/python3/dist-packages/celery/__init__.py",
                "/usr/lib/python3/dist-packages/redis/__init__.py",
                "/usr/sbin/dockerd",
                "/usr/bin/docker",
                "/usr/sbin/debootstrap",
                "/usr/sbin/ip",
                "/usr/bin/nsenter",
                "curl",
                "promtool",
                "amtool",
                "/usr/bin/prometheus-redis-exporter",
                "/usr/bin/prometheus-node-exporter",
                "/usr/bin/prometheus",
                "/usr/bin/prometheus-alertmanager",
                "/nonexistent/*/bin/tool",
            ]),
        );
        for (const probe of asked.filter((p) => !p.startsWith("/nonexistent"))) expect(table.has(probe), probe).toBe(true);
    });

    it("finds each listed tool on this machine (the script has run)", () => {
        for (const probe of installTable().keys()) expect(() => requireTool(probe)).not.toThrow();
    });
});
