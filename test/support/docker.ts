/**
 * A real Docker Engine for the tests: dockerd from Debian's docker.io on a private socket and
 * private directories, without touching the host's network (no iptables, no NAT, no docker0),
 * started once per test file that needs it and stopped afterwards. It cannot pull images: the
 * stand-in images (./standinImages.ts) are built locally.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { requireTool } from "./tools";

const run = promisify(execFile);
export const DOCKERD = "/usr/sbin/dockerd";
export const DOCKER_CLI = "/usr/bin/docker";

export interface Engine {
    docker: Docker;
    /** The /16 this engine's bridge networks come from (a Swarm's overlays take the next one). */
    pool: string;
    /** unix:///…/docker.sock, for the docker CLI's -H. */
    host: string;
    /** Runs the docker CLI against this engine (image builds and imports only; containers go through the API). */
    cli(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<string>;
    /** The daemon's log so far (for failure messages). */
    log(): string;
    stop(): Promise<void>;
}

export interface EngineOptions {
    /**
     * A network namespace (`ip netns`) to run the engine in, as one node of a multi-node Swarm
     * (./swarm.ts). The engine then manages iptables there (overlays need it); the host's stay untouched.
     */
    netns?: string;
    timeoutMs?: number;
}

/**
 * Starts dockerd (flags from shared/reference/docker-engine.md). Throws, with the daemon's log,
 * when it is missing, cannot run (not root), or does not answer within `timeoutMs`.
 */
export async function startEngine({ netns, timeoutMs = 60_000 }: EngineOptions = {}): Promise<Engine> {
    requireTool("/usr/sbin/dockerd");
    requireTool("/usr/bin/docker");
    if (process.getuid?.() !== 0)
        throw new Error("dockerd needs root: run the real-engine tests (test/engine.test.ts) as root, e.g. in CI's container");
    // A short path: a unix socket's path is limited to 108 bytes.
    const dir = mkdtempSync(join(tmpdir(), "tbx-docker-"));
    const socket = join(dir, "docker.sock");
    const host = `unix://${socket}`;
    // Other engines on this host hold bridges from Docker's default pools: take a /16 of 10/8 at
    // random, in /24 networks (Docker still checks each subnet against the host's routes).
    const pool = `10.${64 + Math.floor(Math.random() * 180)}.0.0/16`;
    const args = [
        `--host=${host}`,
        `--data-root=${join(dir, "data")}`,
        `--exec-root=${join(dir, "exec")}`,
        `--pidfile=${join(dir, "docker.pid")}`,
        "--storage-driver=overlay2",
        // In a namespace of its own the engine's iptables rules touch nothing of the host's.
        ...(netns ? [] : ["--iptables=false", "--ip-masq=false"]),
        "--bridge=none",
        // No docker0 bridge, so `host-gateway` (the dev stack's host.docker.internal) needs an address.
        "--host-gateway-ip=127.0.0.1",
        `--default-address-pool=base=${pool},size=24`,
        // Containerd of its own, under the private directories.
        "--containerd-namespace=toolboxai-test",
        "--containerd-plugins-namespace=toolboxai-test-plugins",
    ];
    let log = "";
    // nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds no cgroups.
    const [command, commandArgs] = netns ? ["nsenter", [`--net=/var/run/netns/${netns}`, DOCKERD, ...args]] : [DOCKERD, args];
    const daemon: ChildProcess = spawn(command, commandArgs, {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DOCKER_HOST: undefined },
    });
    daemon.stdout?.on("data", (d) => (log += d));
    daemon.stderr?.on("data", (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => daemon.once("exit", (code) => resolve(code)));
    const docker = new Docker({ socketPath: socket, timeout: 120_000 });

    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (daemon.exitCode !== null)
            throw new Error(`dockerd exited with ${daemon.exitCode} before answering; its log:\n${log.slice(-3000)}`);
        try {
            if (existsSync(socket)) {
                await docker.ping();
                break;
            }
        } catch {
            // not up yet
        }
        if (Date.now() > deadline) {
            daemon.kill("SIGKILL");
            throw new Error(`dockerd did not answer on ${socket} within ${timeoutMs / 1000}s; its log:\n${log.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }

    const cli: Engine["cli"] = async (cliArgs, { input, timeoutMs: cliTimeout = 300_000 } = {}) => {
        return new Promise((resolve, reject) => {
            const child = spawn(DOCKER_CLI, ["-H", host, ...cliArgs], {
                stdio: ["pipe", "pipe", "pipe"],
                env: { ...process.env, DOCKER_BUILDKIT: "0", DOCKER_CONFIG: join(dir, "cli") },
            });
            let out = "";
            let err = "";
            const timer = setTimeout(() => child.kill("SIGKILL"), cliTimeout);
            child.stdout.on("data", (d) => (out += d));
            child.stderr.on("data", (d) => (err += d));
            child.once("exit", (code) => {
                clearTimeout(timer);
                if (code === 0) resolve(out);
                else reject(new Error(`docker ${cliArgs.join(" ")} failed (${code}): ${err.slice(-2000)}`));
            });
            child.stdin.end(input ?? "");
        });
    };

    return {
        docker,
        pool,
        host,
        cli,
        log: () => log,
        async stop() {
            // Containers first, so that dockerd's shutdown does not wait on their stop timeouts.
            for (const c of await docker.listContainers({ all: true }).catch(() => []))
                await docker
                    .getContainer(c.Id)
                    .remove({ force: true, v: true })
                    .catch(() => undefined);
            daemon.kill("SIGTERM");
            const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 20_000))]);
            if (code === "timeout") {
                daemon.kill("SIGKILL");
                await exited;
            }
            // Mounts under the data root (overlay, shm, netns) must go before the directory can.
            await run("sh", ["-c", `grep -o " ${dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Waits until `check` returns a value (not undefined), or throws `describe()` after `timeoutMs`. */
export async function waitFor<T>(
    check: () => Promise<T | undefined>,
    timeoutMs: number,
    describe: () => Promise<string> | string,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(await describe());
        await new Promise((r) => setTimeout(r, 500));
    }
}
