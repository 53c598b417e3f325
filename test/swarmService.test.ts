/**
 * The program's own Swarm service writer (lib/swarm/engine.ts, lib/swarm/provider.ts) against a
 * real engine in Swarm mode: one rollout per change with the PIDs limit from the start, a re-run
 * of an interrupted apply that replaces nothing more, a failed update rolled back and reported,
 * the provider as Pulumi ships it (serialized, loaded back) through create, refresh after a
 * change by hand, update and delete, and the ssh:// transport.
 */
import { execFile } from "node:child_process";
import { connect, createServer } from "node:net";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyService, dockerClient, findService, sshDialArgs } from "../lib/swarm/engine";
import { SPEC_LABEL, type SwarmServiceSpec } from "../lib/swarm/serviceSpec";
import { PROJECT_DIR } from "./harness";
import { DOCKER_CLI, startEngine, type Engine } from "./support/docker";
import { loadStandinImages } from "./support/standinImages";

const requireFromString = createRequire(require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js"))("require-from-string") as (
    code: string,
) => unknown;

const IMAGE = "toolboxai-test/app:1";
/** An image in a private registry (tagged locally: nothing is pulled). */
const PRIVATE_IMAGE = "ghcr.io/toolboxai/app:1";
const PIDS = 77;

let engine: Engine;

/** A small service: two replicas of a shell that becomes healthy once it has written /tmp/ready. */
function spec(
    name: string,
    over: { env?: Record<string, string>; health?: string[]; readyAfter?: number; timeout?: string; delay?: string } = {},
): SwarmServiceSpec {
    return {
        name,
        labels: [{ label: "com.toolboxai.test", value: "swarm-service" }],
        mode: { replicated: { replicas: 2 } },
        taskSpec: {
            containerSpec: {
                image: IMAGE,
                commands: ["sh", "-c", `sleep ${over.readyAfter ?? 0}; touch /tmp/ready; exec sleep infinity`],
                env: over.env ?? { SETTING: "1" },
                init: true,
                healthcheck: {
                    tests: over.health ?? ["CMD", "test", "-f", "/tmp/ready"],
                    interval: "1s",
                    timeout: "1s",
                    retries: 2,
                    startPeriod: "10s",
                },
                stopGracePeriod: "2s",
            },
            resources: { limits: { memoryBytes: 64 * 1024 * 1024, pids: PIDS } },
            restartPolicy: { condition: "any", delay: "1s" },
        },
        updateConfig: {
            parallelism: 1,
            delay: over.delay ?? "0s",
            order: "start-first",
            failureAction: "rollback",
            monitor: "2s",
            maxFailureRatio: "0",
        },
        rollbackConfig: { parallelism: 1, delay: "0s", order: "stop-first", failureAction: "pause", monitor: "2s", maxFailureRatio: "0" },
        convergeConfig: { timeout: over.timeout ?? "2m" },
    };
}

interface Task {
    ID: string;
    DesiredState: string;
    Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}
const tasksOf = async (name: string) => (await engine.docker.listTasks({ filters: { service: [name] } })) as Task[];
const running = async (name: string) => (await tasksOf(name)).filter((t) => t.DesiredState === "running" && t.Status.State === "running");
const hostConfig = async (t: Task) => (await engine.docker.getContainer(t.Status.ContainerStatus!.ContainerID!).inspect()).HostConfig;
const apply = (s: SwarmServiceSpec) => applyService(engine.docker, s, { pollMs: 300 });

beforeAll(async () => {
    engine = await startEngine();
    await engine.docker.swarmInit({ ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1" });
    await loadStandinImages(engine, { [IMAGE]: "redis", [PRIVATE_IMAGE]: "redis" });
}, 300_000);

afterAll(async () => {
    await engine?.stop();
}, 120_000);

describe("a Swarm service written by the program", () => {
    it("is created with its PIDs limit, and a change replaces each task once, the limit on every new task", async () => {
        const first = await apply(spec("one-rollout"));
        const before = new Set((await tasksOf("one-rollout")).map((t) => t.ID));
        expect(before.size).toBe(2);
        for (const t of await running("one-rollout")) expect((await hostConfig(t)).PidsLimit).toBe(PIDS);

        const second = await apply(spec("one-rollout", { env: { SETTING: "2" } }));
        const created = (await tasksOf("one-rollout")).filter((t) => !before.has(t.ID));
        expect(created.length, "tasks started by one change of a 2-replica service").toBe(2);
        for (const t of await running("one-rollout")) {
            expect(before.has(t.ID)).toBe(false);
            expect((await hostConfig(t)).PidsLimit).toBe(PIDS);
        }
        // Returned after Swarm's watch of the last task (monitor), not as soon as it ran.
        expect((await findService(engine.docker, "one-rollout"))?.UpdateStatus?.State).toBe("completed");
        expect(second.id).toBe(first.id);
        expect(second.specSha256).not.toBe(first.specSha256);
        expect((await findService(engine.docker, "one-rollout"))?.Spec.Labels?.[SPEC_LABEL]).toBe(second.specSha256);
    }, 120_000);

    it("replaces no task when sent the spec it already has", async () => {
        const s = spec("same-again");
        const first = await apply(s);
        const before = (await tasksOf("same-again")).map((t) => t.ID).sort();
        const again = await apply(s);
        expect((await tasksOf("same-again")).map((t) => t.ID).sort()).toEqual(before);
        // The engine keeps the same spec: refresh will see nothing to put back.
        expect(again.engineSha256).toBe(first.engineSha256);
    }, 120_000);

    it("run again after an apply was cut off mid-rollout, finishes that rollout and starts no other", async () => {
        await apply(spec("interrupted"));
        const before = new Set((await tasksOf("interrupted")).map((t) => t.ID));
        // Each new task takes 4 s to become healthy: a 1 s wait gives up while the rollout goes on. The
        // 3 s pause between tasks is where a count of running tasks alone would say done too early.
        const slow = { env: { SETTING: "slow" }, readyAfter: 4, delay: "3s" };
        await expect(apply(spec("interrupted", { ...slow, timeout: "1s" }))).rejects.toThrow(
            /^service interrupted did not converge within 1s: [01] of 2 tasks running its current spec/,
        );
        await apply(spec("interrupted", slow));
        const created = (await tasksOf("interrupted")).filter((t) => !before.has(t.ID));
        expect(created.length, "tasks started by the change, across both applies").toBe(2);
        expect((await running("interrupted")).every((t) => !before.has(t.ID))).toBe(true);
    }, 120_000);

    it("reports an update whose tasks fail their health check, which Swarm rolls back, with the service's name and what to run", async () => {
        const good = await apply(spec("rolled-back"));
        const kept = (await running("rolled-back")).map((t) => t.ID).sort();
        const failed = await apply(spec("rolled-back", { env: { SETTING: "broken" }, health: ["CMD", "false"] })).catch((e: unknown) => e);
        expect(failed).toBeInstanceOf(Error);
        expect((failed as Error).message).toMatch(/^service rolled-back/);
        expect((failed as Error).message).toMatch(/rollback/);
        expect((failed as Error).message).toContain("docker service ps --no-trunc rolled-back");
        // Back on the previous spec, the previous tasks still running.
        const svc = await findService(engine.docker, "rolled-back");
        await expect
            .poll(async () => (await findService(engine.docker, "rolled-back"))?.UpdateStatus?.State, { timeout: 60_000 })
            .toBe("rollback_completed");
        expect(svc?.Spec.Labels?.[SPEC_LABEL]).toBe(good.specSha256);
        expect((await running("rolled-back")).map((t) => t.ID).sort()).toEqual(kept);
    }, 120_000);
});

describe("what the program sends and refuses", () => {
    it("refuses a service of the same name it did not write, until it is marked as taken over", async () => {
        await engine.docker.createService({
            Name: "by-the-provider",
            TaskTemplate: { ContainerSpec: { Image: IMAGE, Command: ["sleep", "infinity"] } },
            Mode: { Replicated: { Replicas: 1 } },
        } as Docker.CreateServiceOptions);
        await expect(apply(spec("by-the-provider"))).rejects.toThrow(
            /^service by-the-provider exists but was not written by this program .*docs\/operations\/swarm-move\.md.*docker service update --detach --label-add com\.toolboxai\.spec-sha256=adopt by-the-provider$/,
        );
        await engine.cli(["service", "update", "--detach", "--label-add", `${SPEC_LABEL}=adopt`, "by-the-provider"]);
        const applied = await apply(spec("by-the-provider"));
        expect((await findService(engine.docker, "by-the-provider"))?.Spec.Labels?.[SPEC_LABEL]).toBe(applied.specSha256);
    }, 120_000);

    it("sends the registry login as X-Registry-Auth for an image in that registry, never in the body, and none for another", async () => {
        const sent: string[] = [];
        const socket = join(mkdtempSync(join(tmpdir(), "toolboxai-proxy-")), "docker.sock");
        // A proxy in front of the engine that keeps what the client wrote.
        const proxy = createServer((client) => {
            const upstream = connect(engine.host.replace("unix://", ""));
            client.on("data", (d: Buffer) => sent.push(d.toString()));
            client.pipe(upstream).pipe(client);
        });
        await new Promise<void>((resolve) => proxy.listen(socket, resolve));
        try {
            const docker = new Docker({ socketPath: socket });
            const login = { address: "ghcr.io", username: "deploy-bot", password: "registry-password-not-in-any-body" };
            await applyService(
                docker,
                {
                    ...spec("private"),
                    taskSpec: {
                        ...spec("private").taskSpec,
                        containerSpec: { ...spec("private").taskSpec.containerSpec, image: PRIVATE_IMAGE },
                    },
                },
                { pollMs: 300, registryAuth: login },
            );
            const create = sent
                .join("")
                .split(/(?=POST |GET )/)
                .find((r) => r.startsWith("POST /services/create"))!;
            const header = /X-Registry-Auth: (\S+)/i.exec(create)?.[1];
            expect(JSON.parse(Buffer.from(header!, "base64").toString())).toEqual({
                username: "deploy-bot",
                password: login.password,
                serveraddress: "ghcr.io",
            });
            expect(sent.join("")).not.toContain(login.password);
            sent.length = 0;
            await applyService(docker, spec("public"), { pollMs: 300, registryAuth: login });
            expect(sent.join("")).toContain("POST /services/create");
            expect(sent.join("")).not.toMatch(/X-Registry-Auth/i);
        } finally {
            proxy.close();
        }
    }, 120_000);
});

describe("the provider as Pulumi ships it", () => {
    let provider: Required<pulumi.dynamic.ResourceProvider>;
    beforeAll(async () => {
        // Serialized under the engine's own TypeScript registration, loaded back as the provider host loads it.
        const { stdout } = await promisify(execFile)(
            process.execPath,
            [join(PROJECT_DIR, "test/support/engine-typescript.cjs"), PROJECT_DIR],
            {
                cwd: PROJECT_DIR,
                env: {
                    ...process.env,
                    ENGINE_TYPESCRIPT_MAIN: "test/support/serialize-providers.ts",
                    PROVIDERS_MODULE: "lib/swarm/provider",
                },
                maxBuffer: 64 * 1024 * 1024,
            },
        );
        const shipped = (JSON.parse(stdout) as Record<string, { text: string; containsSecrets: boolean }>).swarmServiceProvider;
        expect(shipped.containsSecrets).toBe(false);
        expect(shipped.text).toContain('require("dockerode');
        provider = (requireFromString(shipped.text) as { handler: () => Required<pulumi.dynamic.ResourceProvider> }).handler();
    }, 180_000);

    it("creates, sees a change made by hand on refresh, puts the spec back on update, and deletes with its tasks", async () => {
        const inputs = { ...spec("shipped"), dockerHost: engine.host };
        const created = await provider.create(inputs);
        const outs = created.outs as Record<string, unknown>;
        expect(outs.observedSha256).toBe(outs.engineSha256);
        // Nothing changed: refresh sees the same, and the same inputs are no change.
        const fresh = await provider.read(created.id, outs);
        expect(fresh.props?.observedSha256).toBe(outs.engineSha256);
        expect((await provider.diff(created.id, fresh.props!, inputs)).changes).toBe(false);
        // Someone changes the service by hand (the spec label is carried over by the CLI).
        await engine.cli(["service", "update", "--detach", "--env-add", "BY_HAND=1", "shipped"]);
        const drifted = await provider.read(created.id, outs);
        expect(drifted.props?.observedSha256).not.toBe(outs.engineSha256);
        expect((await provider.diff(created.id, drifted.props!, inputs)).changes).toBe(true);
        const updated = await provider.update(created.id, drifted.props!, inputs);
        const env = ((await findService(engine.docker, "shipped"))?.Spec.TaskTemplate.ContainerSpec as { Env?: string[] }).Env;
        expect(env).toEqual(["SETTING=1"]);
        expect((updated.outs as Record<string, unknown>).observedSha256).toBe((updated.outs as Record<string, unknown>).engineSha256);
        // A new name replaces; the connection alone changes nothing on the Swarm.
        expect((await provider.diff(created.id, updated.outs!, { ...inputs, name: "other" })).replaces).toEqual(["name"]);
        await provider.delete(created.id, updated.outs!);
        expect(await findService(engine.docker, "shipped")).toBeUndefined();
        // Its tasks stopped before delete returned: no container of the service is left.
        expect(
            await engine.docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.id=${created.id}`] } }),
        ).toEqual([]);
        expect(await provider.read(created.id, updated.outs!)).toEqual({});
    }, 180_000);

    it("records a sent spec that did not converge, so that the next update waits for it without sending it again", async () => {
        const inputs = { ...spec("unconverged"), dockerHost: engine.host };
        const created = await provider.create(inputs);
        const before = new Set((await tasksOf("unconverged")).map((t) => t.ID));
        const slow = {
            ...spec("unconverged", { env: { SETTING: "slow" }, readyAfter: 4, delay: "3s", timeout: "1s" }),
            dockerHost: engine.host,
        };
        const failed = (await provider.update(created.id, created.outs!, slow).catch((e: unknown) => e)) as Error & {
            id?: string;
            properties?: Record<string, unknown>;
        };
        // The engine's partial-failure form: Pulumi keeps these properties as the resource's state.
        expect(failed.message).toMatch(/^service unconverged did not converge within 1s/);
        expect(failed.id).toBe(created.id);
        expect(failed.properties?.observedSha256).toBe("not converged");
        expect((await provider.diff(created.id, failed.properties!, slow)).changes).toBe(true);
        await provider.update(created.id, failed.properties!, { ...slow, convergeConfig: { timeout: "2m" } });
        // Waited for, not sent again: one new task per replica in all, and Swarm's previous spec is still the one before.
        expect((await tasksOf("unconverged")).filter((t) => !before.has(t.ID)).length).toBe(2);
        const svc = (await engine.docker.getService(created.id).inspect()) as {
            PreviousSpec?: { TaskTemplate: { ContainerSpec: { Env?: string[] } } };
        };
        expect(svc.PreviousSpec?.TaskTemplate.ContainerSpec.Env).toEqual(["SETTING=1"]);
        await provider.delete(created.id, created.outs!);
    }, 180_000);
});

describe("an ssh:// dockerHost", () => {
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "toolboxai-fake-ssh-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** An `ssh` first on PATH that records its arguments and dials this engine, as sshd would run `docker system dial-stdio` on the host. */
    function fakeSsh(body: string) {
        writeFileSync(join(dir, "ssh"), `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/args\necho dial >> ${dir}/dials\n${body}\n`);
        chmodSync(join(dir, "ssh"), 0o755);
    }

    it("is dialled as the Docker CLI dials it: ssh -l user -p port -- host docker system dial-stdio", async () => {
        fakeSsh(`exec ${DOCKER_CLI} -H ${engine.host} system dial-stdio`);
        const path = process.env.PATH;
        process.env.PATH = `${dir}:${path}`;
        try {
            rmSync(join(dir, "dials"), { force: true });
            const docker = dockerClient("ssh://deploy@manager.example:2222");
            const services = await docker.listServices();
            expect(services.map((s) => s.Spec?.Name)).toContain("one-rollout");
            await docker.listNodes();
            await docker.listTasks();
            // One ssh connection for the client's requests, one after the other: a rollout's polling logs in once.
            expect(readFileSync(join(dir, "dials"), "utf8").trim().split("\n")).toEqual(["dial"]);
        } finally {
            process.env.PATH = path;
        }
        expect(readFileSync(join(dir, "args"), "utf8").trim().split("\n")).toEqual(sshDialArgs("ssh://deploy@manager.example:2222"));
        expect(sshDialArgs("ssh://deploy@manager.example:2222")).toEqual([
            "-o",
            "ConnectTimeout=30",
            "-T",
            "-l",
            "deploy",
            "-p",
            "2222",
            "--",
            "manager.example",
            "docker",
            "system",
            "dial-stdio",
        ]);
    });

    it("says what ssh said when it cannot connect", async () => {
        fakeSsh(`echo "ssh: connect to host manager.example port 22: Connection refused" >&2; exit 255`);
        const path = process.env.PATH;
        process.env.PATH = `${dir}:${path}`;
        try {
            await expect(dockerClient("ssh://deploy@manager.example").listServices()).rejects.toThrow(
                /ssh to ssh:\/\/deploy@manager\.example exited with 255: ssh: connect to host manager\.example port 22: Connection refused/,
            );
        } finally {
            process.env.PATH = path;
        }
    });
});
