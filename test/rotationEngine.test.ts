/**
 * Rotation without a failed login on the real Docker engine (test/support/docker.ts): dev's
 * backend and worker containers, as planned, each run a loop (test/support/loginLoop.py) that
 * opens a new PostgreSQL connection with its DATABASE_URL and pgpass file, and a new Redis
 * connection as its ACL user with its password file, every 100 ms. The program is replayed from
 * rotation step N to N+1 and N+2 (rotationGeneration 0, 1, 2): the apply steps against the test's
 * PostgreSQL 15, Redis's credentials seed and ACL SETUSER in the running Redis container, then the
 * consumers' seeds and containers replaced as the provider does (create-before-delete, or
 * delete-first where the plan says deleteBeforeReplace). Then the old design (one login whose
 * password a step changes in place) is replayed on the same containers: its logins fail.
 *
 * Substituted, besides what test/engine.test.ts substitutes (images, TLS material, published port,
 * `-next` names): `host.docker.internal` maps to the gateway of the consumers' network (this
 * engine has no docker0 for `host-gateway`), where a forwarder passes the planned database port on
 * to the test's PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, connect as tcpConnect, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_LABEL } from "../components/seed";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { reveal } from "../lib/offline/values";
import { aclApplyScript, REDIS_PATHS } from "../lib/redis";
import { byName, ofType, runningContainers } from "./harness";
import { runPlannedCommandOk } from "./support/plannedCommand";
import { startEngine, waitFor, type Engine } from "./support/docker";
import { createContainer, createNetwork, createVolume, deleteContainer, type Substitutions } from "./support/dockerProvider";
import { freePort } from "./support/net";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { rotationSteps } from "./support/rotationSteps";
import { makePki } from "./support/redis";
import { loadStandinImages, type Role } from "./support/standinImages";

const CONTAINER = "docker:index/container:Container";
const BOOTSTRAP = "bootstrap-password-of-the-owner";
const AUTH_SQL = readFileSync(join(__dirname, "support", "supabase-auth.sql"), "utf8");
const LOGIN_LOOP = readFileSync(join(__dirname, "support", "loginLoop.py"), "utf8");
const CONSUMERS = ["app-backend-0", "app-worker-0"];

type Upload = { file: string; content: string };
interface Counts {
    attempts: number;
    failed: { postgres: number; redis: number };
    last: string;
}

let engine: Engine;
let pg: PostgresServer;
let forwarder: Server;
/** dev at steps N, N+1, N+2. */
let steps: Evaluation[];
let subs: Substitutions;
/** Planned container name to the real container id, as the replay stands. */
const containers: Record<string, string> = {};
/** Each consumer container's login counts, read before it is deleted. */
const tallies: { label: string; counts: Counts }[] = [];
let replacements = 0;

const uploads = (ev: Evaluation, name: string) => (reveal(byName(ev, name).inputs.uploads) as Upload[] | undefined) ?? [];

async function exec(id: string, cmd: string[], input?: string): Promise<string> {
    return engine.cli(["exec", ...(input !== undefined ? ["-i"] : []), id, ...cmd], { input, timeoutMs: 60_000 });
}

/** A planned command as the provider runs it, pointed at the test's PostgreSQL. */
const runCommand = (ev: Evaluation, name: string, extra: Record<string, string> = {}) =>
    runPlannedCommandOk(ev, name, { PGHOST: pg.host, PGPORT: String(pg.port), ...extra });

/** The planned container, its health check every 2 s, host.docker.internal at `gateway`, under a replay name when it replaces one. */
function replayed(r: RecordedResource, gateway: string, name?: string): RecordedResource {
    const health = r.inputs.healthcheck as Record<string, unknown> | undefined;
    const hosts = (r.inputs.hosts as { host: string; ip: string }[] | undefined)?.map((h) =>
        h.ip === "host-gateway" ? { ...h, ip: gateway } : h,
    );
    return {
        ...r,
        inputs: { ...r.inputs, ...(health ? { healthcheck: { ...health, interval: "2s" } } : {}), ...(hosts ? { hosts } : {}) },
        outputs: name ? { ...r.outputs, name } : r.outputs,
    };
}

const plannedSeedId = (c: RecordedResource) =>
    (reveal(c.inputs.labels) as { label: string; value: string }[]).find((l) => l.label === SEED_LABEL)!.value;

async function startLoop(id: string): Promise<void> {
    await exec(id, ["rm", "-f", "/tmp/stop-logins", "/tmp/logins.json"]);
    const e = await engine.docker.getContainer(id).exec({ Cmd: ["python3", "-c", LOGIN_LOOP], AttachStdout: false, AttachStderr: false });
    await e.start({ Detach: true });
    // Its first count: the loop runs and the container's files are readable by it.
    await waitFor(
        async () => ((await readCounts(id))?.attempts ?? 0) > 0 || undefined,
        30_000,
        async () =>
            `the login loop did not start in ${id}: ${await exec(id, ["sh", "-c", "ls -l /tmp; cat /tmp/logins.json"]).catch(String)}`,
    );
}

async function readCounts(id: string): Promise<Counts | undefined> {
    const text = await exec(id, ["cat", "/tmp/logins.json"]).catch(() => "");
    return text ? (JSON.parse(text) as Counts) : undefined;
}

/** Stops a consumer's loop, records its counts under `label` (as the provider deletes the container next). */
async function tally(name: string, label: string): Promise<void> {
    const id = containers[name];
    await exec(id, ["touch", "/tmp/stop-logins"]);
    tallies.push({ label, counts: (await readCounts(id))! });
}

/** Replaces a consumer's seed and container with `ev`'s, as the provider orders it; `files` overrides uploads (the old design's case). */
async function replaceConsumer(ev: Evaluation, name: string, gateway: string, label: string, files: Record<string, string> = {}) {
    const n = ++replacements;
    const planned = byName(ev, name);
    const seed = byName(ev, `${name}-seed`);
    const own = { ...subs, files: { ...subs.files, ...files } };
    const newSeed = await createContainer(engine.docker, { ...seed, outputs: { ...seed.outputs, name: `${name}-seed-next${n}` } }, own);
    const ids = { ...subs.ids, [plannedSeedId(planned)]: newSeed.id };
    const replacement = replayed(planned, gateway, `${name}-next${n}`);
    const old = containers[name];
    if (planned.options.deleteBeforeReplace) {
        await tally(name, label);
        await deleteContainer(engine.docker, old);
        containers[name] = (await createContainer(engine.docker, replacement, { ...own, ids })).id;
        await startLoop(containers[name]);
    } else {
        containers[name] = (await createContainer(engine.docker, replacement, { ...own, ids })).id;
        await startLoop(containers[name]);
        const current = containers[name];
        containers[name] = old;
        await tally(name, label);
        containers[name] = current;
        await deleteContainer(engine.docker, old);
    }
    await deleteContainer(engine.docker, containers[`${name}-seed`]);
    containers[`${name}-seed`] = newSeed.id;
    // The previous slot's volumes, which the new plan no longer has, are deleted last (the engine refuses a volume in use).
    const kept = new Set(volumeNames(planned));
    for (const volume of volumeNames(deployedAs[name]).filter((v) => !kept.has(v))) await engine.docker.getVolume(volume).remove();
    deployedAs[name] = planned;
}

const volumeNames = (r: RecordedResource) => (reveal(r.inputs.volumes) as { volumeName: string }[]).map((v) => String(v.volumeName));
/** The planned container each consumer runs as now. */
const deployedAs: Record<string, RecordedResource> = {};

/** Redis's credentials seed replaced, then the planned ACL SETUSER commands in the running server (redis-acl-apply). */
async function applyRedisAcl(ev: Evaluation): Promise<void> {
    const seed = byName(ev, "redis-credentials-seed");
    const next = await createContainer(
        engine.docker,
        { ...seed, outputs: { ...seed.outputs, name: `redis-credentials-seed-next${++replacements}` } },
        subs,
    );
    await deleteContainer(engine.docker, containers["redis-credentials-seed"]);
    containers["redis-credentials-seed"] = next.id;
    await exec(containers["redis-server"], ["sh", "-c", aclApplyScript()], String(reveal(byName(ev, "redis-acl-apply").inputs.stdin)));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let gateway: string;
/** The owner's apply step's last stdout, which the provider hands back at the next step. */
let previousStdout: string;

beforeAll(async () => {
    const started = Date.now();
    engine = await startEngine();
    steps = await rotationSteps(BOOTSTRAP);
    const ev = steps[0];
    pg = await startPostgres();
    await pg.sql(`alter role postgres password '${BOOTSTRAP}'`);
    await pg.sql(AUTH_SQL);

    const roles: Record<string, Role> = {};
    for (const image of ofType(ev, "docker:index/remoteImage:RemoteImage")) {
        const user = runningContainers(ev).find((c) => c.inputs.image === image.outputs.imageId);
        const role = user?.name === "redis-server" ? "redis" : /app-(backend|worker)-/.exec(user?.name ?? "")?.[1];
        if (role) roles[String(image.inputs.name)] = role as Role;
    }
    await loadStandinImages(engine, roles);
    const pki = await makePki(mkdtempSync(join(tmpdir(), "toolboxai-rotation-pki-")), "redis");
    const pem = (p: string) => readFileSync(p, "utf8");
    subs = {
        images: Object.fromEntries(
            ofType(ev, "docker:index/remoteImage:RemoteImage").map((i) => [String(i.outputs.imageId), String(i.inputs.name)]),
        ),
        files: {
            [REDIS_PATHS.caCert]: pem(pki.caCert),
            [REDIS_PATHS.serverCert]: pem(pki.serverCert),
            [REDIS_PATHS.serverKey]: pem(pki.serverKey),
            "/etc/toolboxai/redis-ca.crt": pem(pki.caCert),
        },
        ports: { 8000: await freePort() },
        ids: {},
    };
    for (const n of ofType(ev, "docker:index/network:Network")) await createNetwork(engine.docker, n);
    for (const v of ofType(ev, "docker:index/volume:Volume")) await createVolume(engine.docker, v);

    // The database as the consumers reach it: host.docker.internal, on the gateway of their first network.
    const backend = byName(ev, "app-backend-0");
    const network = (reveal(backend.inputs.networksAdvanced) as { name: string }[])[0].name;
    gateway = String((await engine.docker.getNetwork(network).inspect()).IPAM?.Config?.[0]?.Gateway);
    const plannedPort = Number(/@host\.docker\.internal:(\d+)\//.exec(JSON.stringify(reveal(backend.inputs.envs)))?.[1]);
    forwarder = createServer((socket) => {
        const upstream = tcpConnect(pg.port, pg.host);
        socket.pipe(upstream).pipe(socket);
        const close = () => (socket.destroy(), upstream.destroy());
        socket.on("error", close);
        upstream.on("error", close);
    });
    await new Promise<void>((resolve, reject) => forwarder.once("error", reject).listen(plannedPort, gateway, resolve));

    // Step N as `pulumi up` leaves it: the owner's password and the roles, Redis, then the consumers.
    const applied = await runCommand(ev, "credentials-apply-database-password");
    await runCommand(ev, "credentials-consumer-roles");
    previousStdout = applied;
    const wanted = ofType(ev, CONTAINER).filter((c) => c.name.startsWith("redis") || CONSUMERS.some((n) => c.name.startsWith(n)));
    const rank = (c: RecordedResource) => (c.inputs.start === false ? 0 : c.name.startsWith("redis") ? 1 : 2);
    for (const c of wanted.sort((a, b) => rank(a) - rank(b))) {
        const seedId = containers[`${c.name}-seed`];
        if (seedId) subs.ids![plannedSeedId(c)] = seedId;
        containers[c.name] = (await createContainer(engine.docker, replayed(c, gateway), subs)).id;
        deployedAs[c.name] = c;
    }
    for (const name of CONSUMERS) await startLoop(containers[name]);
    console.log(`engine, images, PostgreSQL and step N up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 600_000);

afterAll(async () => {
    await engine?.stop();
    await new Promise((r) => (forwarder ? forwarder.close(r) : r(undefined)));
    await pg?.stop();
}, 60_000);

const report = (title: string, rows: { label: string; counts: Counts }[]) =>
    console.log(
        `${title}\n  ${rows.map(({ label, counts: c }) => `${label}: ${c.attempts} attempts, ${c.failed.postgres} failed PostgreSQL logins, ${c.failed.redis} failed Redis logins${c.last ? ` (last: ${c.last})` : ""}`).join("\n  ")}`,
    );

describe("rotation on the real Docker engine, the containers logging in every 100 ms", () => {
    it("steps N -> N+1 -> N+2: zero failed logins, database and Redis", async () => {
        for (const [i, ev] of steps.entries()) {
            if (i === 0) continue;
            // As `pulumi up` orders it: the owner's password, the consumers' roles, Redis; then the containers.
            previousStdout = await runCommand(ev, "credentials-apply-database-password", { PULUMI_COMMAND_STDOUT: previousStdout });
            await runCommand(ev, "credentials-consumer-roles");
            await applyRedisAcl(ev);
            // The running containers keep logging in with step N+i-1's credentials meanwhile.
            await pause(1000);
            for (const name of CONSUMERS) await replaceConsumer(ev, name, gateway, `${name} at step N+${i - 1}`);
            // Long enough for the new containers' loops to log in several times, on a loaded machine too.
            await pause(2000);
        }
        for (const name of CONSUMERS) await tally(name, `${name} at step N+2`);
        const rows = tallies.splice(0);
        report("rotation N -> N+1 -> N+2 on the Docker engine, a new PostgreSQL and a new Redis connection per attempt:", rows);
        expect(rows.map((r) => r.label)).toEqual([
            "app-backend-0 at step N+0",
            "app-worker-0 at step N+0",
            "app-backend-0 at step N+1",
            "app-worker-0 at step N+1",
            "app-backend-0 at step N+2",
            "app-worker-0 at step N+2",
        ]);
        expect(rows.filter((r) => r.counts.failed.postgres + r.counts.failed.redis > 0)).toEqual([]);
        for (const { label, counts } of rows) expect(counts.attempts, label).toBeGreaterThan(5);
        // The containers did move: each step's database login differs from the one before.
        const users = steps.map(
            (ev) =>
                uploads(ev, "app-backend-0-seed")
                    .find((u) => u.file === "/run/secrets/pgpass")!
                    .content.split(":")[3],
        );
        expect(users[0]).not.toBe(users[1]);
        expect(users[1]).not.toBe(users[2]);
    }, 300_000);

    it("the old design (each consumer's one login and one Redis password changed in place, containers replaced after) fails the same loop", async () => {
        const ev = steps[2];
        for (const name of CONSUMERS) await startLoop(containers[name]);
        const fresh: Record<string, Record<string, string>> = {};
        const statements: string[] = [];
        const acl: string[] = [];
        for (const name of CONSUMERS) {
            const files = uploads(ev, `${name}-seed`);
            const pgpass = files
                .find((u) => u.file === "/run/secrets/pgpass")!
                .content.trim()
                .split(":");
            const user = pgpass[3];
            const redisUser = /^rediss?:\/\/([^@]+)@/.exec(
                (reveal(byName(ev, name).inputs.envs) as string[]).find((e) => e.startsWith("REDIS_URL="))!.slice("REDIS_URL=".length),
            )![1];
            const password = randomBytes(24).toString("hex");
            // The same login, its password changed in place: what the old apply step did.
            statements.push(`alter role ${user} password '${password}';`);
            acl.push(`ACL SETUSER ${redisUser} resetpass >${password}`);
            fresh[name] = {
                "/run/secrets/pgpass": `${pgpass.slice(0, 4).join(":")}:${password}\n`,
                "/run/secrets/redis_password": password,
            };
        }
        await pg.sql(statements.join("\n"));
        await exec(containers["redis-server"], ["sh", "-c", aclApplyScript()], acl.join("\n"));
        await pause(1000);
        for (const name of CONSUMERS) await replaceConsumer(ev, name, gateway, `${name} before the in-place change`, fresh[name]);
        await pause(1000);
        for (const name of CONSUMERS) await tally(name, `${name} after the in-place change`);
        const rows = tallies.splice(0);
        report("the old design's in-place change, the same loop:", rows);
        const before = rows.filter((r) => r.label.endsWith("before the in-place change"));
        // Every container running during the change loses both its database and its Redis login.
        for (const { label, counts } of before) {
            expect(counts.failed.postgres, label).toBeGreaterThan(0);
            expect(counts.failed.redis, label).toBeGreaterThan(0);
            expect(counts.last, label).not.toMatch(/[0-9a-f]{48}/);
        }
        for (const { label, counts } of rows.filter((r) => !before.includes(r)))
            expect(counts.failed, label).toEqual({ postgres: 0, redis: 0 });
    }, 300_000);

    it("no file of any running container, in any of its volumes, holds the owner's password (any step's)", async () => {
        const ownerPasswords = [
            BOOTSTRAP,
            ...steps.map(
                (ev) =>
                    (reveal(byName(ev, "credentials-apply-database-password").inputs.environment) as Record<string, string>).NEW_PASSWORD,
            ),
        ];
        const listed: string[] = [];
        for (const c of runningContainers(steps[2]).filter((r) => r.name === "redis-server" || CONSUMERS.includes(r.name))) {
            const id = containers[c.name];
            const paths = (reveal(c.inputs.volumes) as { containerPath: string }[]).map((v) => v.containerPath);
            // As the container's own user, which may read its 0400 secrets.
            const files = (await exec(id, ["find", ...paths, "-type", "f"])).split("\n").filter(Boolean);
            for (const file of files) {
                const content = await exec(id, ["cat", file]);
                listed.push(`${c.name}:${file}`);
                // Names only in a failure, never the content.
                expect(
                    ownerPasswords.some((pw) => content.includes(pw)),
                    `${c.name}:${file} holds the owner's password`,
                ).toBe(false);
            }
        }
        console.log(`files checked in the running containers:\n  ${listed.join("\n  ")}`);
        for (const expected of [
            "app-backend-0:/run/secrets/pgpass",
            "app-worker-0:/run/secrets/pgpass",
            "app-worker-0:/run/secrets/redis_password",
        ])
            expect(listed).toContain(expected);
    }, 120_000);
});
