/**
 * A real Celery worker and producer (Debian's python3-celery and python3-redis) against a real
 * redis-server, each given the environment the program gives its container: REDIS_URL without a
 * password, REDIS_PASSWORD_FILE and REDIS_CA_FILE (test/support/celery/toolboxai_tasks.py).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { redisUrl } from "../../lib/redis";
import type { RedisServerProcess } from "./redis";
import { requireTool } from "./tools";

const run = promisify(execFile);
const APP_DIR = join(__dirname, "celery");
/** Debian's interpreter: the one python3-celery is installed for (a pyenv or venv python3 on PATH is not). */
const PYTHON = "/usr/bin/python3";

export interface CeleryUser {
    username: string;
    password: string;
}

function celeryEnv(redis: RedisServerProcess, user: CeleryUser): NodeJS.ProcessEnv {
    requireTool("/usr/lib/python3/dist-packages/celery/__init__.py");
    requireTool("/usr/lib/python3/dist-packages/redis/__init__.py");
    const passwordFile = join(redis.dir, `${user.username}.password`);
    writeFileSync(passwordFile, user.password);
    chmodSync(passwordFile, 0o600);
    return {
        PATH: process.env.PATH,
        PYTHONPATH: APP_DIR,
        PYTHONDONTWRITEBYTECODE: "1",
        REDIS_URL: redisUrl(user.username, "127.0.0.1", redis.port),
        REDIS_PASSWORD_FILE: passwordFile,
        REDIS_CA_FILE: redis.pki.caCert,
    };
}

export interface CeleryWorker {
    /** Everything the worker wrote so far (its log). */
    log(): string;
    stop(): Promise<void>;
}

/** Starts `celery worker` with its defaults (mingle, gossip, heartbeat, remote control); resolves once it is ready. */
export async function startCeleryWorker(redis: RedisServerProcess, user: CeleryUser, timeoutMs = 30_000): Promise<CeleryWorker> {
    const env = celeryEnv(redis, user);
    const child: ChildProcess = spawn(
        PYTHON,
        ["-m", "celery", "-A", "toolboxai_tasks", "worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", `test@${user.username}`],
        { env, cwd: APP_DIR, stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stdout?.on("data", (d) => (log += d));
    child.stderr?.on("data", (d) => (log += d));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (!/ ready\.$/m.test(log)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`celery worker exited before it was ready:\n${log}`);
        if (Date.now() > deadline) {
            child.kill("SIGKILL");
            throw new Error(`celery worker not ready after ${timeoutMs} ms:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        log: () => log,
        async stop() {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
                await exited;
                clearTimeout(timer);
            }
        },
    };
}

/** Sends `toolboxai.add(x, y)` as a producer and waits for its result through the result backend. */
export function sendAdd(
    redis: RedisServerProcess,
    user: CeleryUser,
    x: number,
    y: number,
    timeoutSeconds = 20,
): Promise<{ code: number; output: string }> {
    return producer(redis, user, ["add", String(x), String(y)], timeoutSeconds);
}

/** `inspect().ping()` over the remote-control mailbox: prints `<worker>:pong` per answering worker. */
export function pingWorkers(redis: RedisServerProcess, user: CeleryUser, timeoutSeconds = 5): Promise<{ code: number; output: string }> {
    return producer(redis, user, ["ping"], timeoutSeconds);
}

async function producer(
    redis: RedisServerProcess,
    user: CeleryUser,
    args: string[],
    timeoutSeconds: number,
): Promise<{ code: number; output: string }> {
    const env = { ...celeryEnv(redis, user), CELERY_RESULT_TIMEOUT: String(timeoutSeconds) };
    try {
        const { stdout, stderr } = await run(PYTHON, [join(APP_DIR, "toolboxai_tasks.py"), ...args], {
            env,
            cwd: APP_DIR,
            timeout: (timeoutSeconds + 15) * 1000,
        });
        return { code: 0, output: `${stdout}${stderr}`.trim() };
    } catch (err) {
        const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
        return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() || e.message };
    }
}
