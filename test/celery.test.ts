/**
 * The generated redis.conf and users.acl against the client that will use them: a real Celery
 * 5.2 worker (as toolboxai_worker) and producer (as toolboxai_backend), Redis as broker and result
 * backend, over TLS on a real redis-server. Then each permission the worker was given for Celery
 * is taken away in turn, and the same run must fail: none of them is surplus.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aclFile, CELERY_WORKER_EXTRAS, redisConf } from "../lib/redis";
import { pingWorkers, sendAdd, startCeleryWorker, type CeleryWorker } from "./support/celery";
import { startRedis, type RedisServerProcess } from "./support/redis";

const USERS = {
    backend: { username: "toolboxai_backend", password: "BackendPassword0123456789abcdefghijklmno" },
    worker: { username: "toolboxai_worker", password: "WorkerPassword0123456789abcdefghijklmnop" },
    healthcheck: { username: "toolboxai_healthcheck", password: "HealthPassword0123456789abcdefghijklmno" },
    exporter: { username: "toolboxai_exporter", password: "ExporterPassword0123456789abcdefghijklm" },
};
/** Test-only: a user that reads ACL LOG, appended after the generated file (which it leaves as is). */
const AUDITOR = { user: "auditor", password: "AuditorPassword0123456789abcdefghijklm" };
const withAuditor = (acl: string) => `${acl}user ${AUDITOR.user} on >${AUDITOR.password} ~* &* +@all\n`;

/** What the worker has for Celery: each must be needed (`&*`: every pub/sub channel). */
const NEEDED = [...CELERY_WORKER_EXTRAS.map((c) => `+${c}`), "&*"];

/** The worker's line of the generated ACL file without one rule. */
function without(acl: string, rule: string): string {
    const line = acl.split("\n").find((l) => l.startsWith(`user ${USERS.worker.username} `))!;
    const cut = line.replace(` ${rule} `, " ");
    if (cut === line) throw new Error(`${rule} is not in the worker's ACL line: ${line}`);
    return acl.replace(line, cut);
}

interface Run {
    ready: boolean;
    result?: string;
    ping?: string;
    /** ACL LOG entries (reason, object) for the worker and the backend after the worker stopped. */
    denials: string[];
    workerLog: string;
}

/** Worker up, one task 2 + 3 from the producer, a remote-control ping, worker stopped; then ACL LOG. */
async function roundTrip(acl: string, resultTimeout: number): Promise<Run> {
    const redis: RedisServerProcess = await startRedis(redisConf(), withAuditor(acl));
    let worker: CeleryWorker | undefined;
    const run: Run = { ready: false, denials: [], workerLog: "" };
    try {
        worker = await startCeleryWorker(redis, USERS.worker, 30_000).catch((err: Error) => {
            run.workerLog = err.message;
            return undefined;
        });
        if (worker) {
            run.ready = true;
            run.result = (await sendAdd(redis, USERS.backend, 2, 3, resultTimeout)).output;
            run.ping = (await pingWorkers(redis, USERS.backend, 3)).output;
        }
    } finally {
        await worker?.stop();
        run.workerLog ||= worker?.log() ?? "";
        const log = (await redis.cli({ user: AUDITOR.user, password: AUDITOR.password }, "ACL", "LOG", "100")).output.split("\n");
        for (let i = 0; i + 1 < log.length; i++) if (log[i] === "object") run.denials.push(log[i + 1]);
        await redis.stop();
    }
    return run;
}

describe("Celery through Redis with the generated ACL, over TLS", () => {
    let run: Run;
    beforeAll(async () => {
        run = await roundTrip(aclFile(USERS), 20);
    }, 90_000);

    it("starts the worker, round-trips 2 + 3 = 5 through the result backend, and answers remote control", () => {
        expect(run.workerLog).not.toMatch(/permission/i);
        expect(run.ready).toBe(true);
        expect(run.result).toBe("5");
        expect(run.ping).toBe(`test@${USERS.worker.username}:pong`);
    });

    it("leaves nothing refused in ACL LOG, shutdown included", () => {
        expect(run.denials).toEqual([]);
    });
});

describe("each permission the worker has for Celery is needed", () => {
    const results = new Map<string, Run>();
    beforeAll(async () => {
        // One after the other: each starts its own redis-server and worker.
        for (const rule of NEEDED) results.set(rule, await roundTrip(without(aclFile(USERS), rule), 6));
    }, 300_000);
    afterAll(() => results.clear());

    it.each(NEEDED)("without %s, the run fails or Redis refuses the worker", (rule) => {
        const r = results.get(rule)!;
        const failed = !r.ready || r.result !== "5" || r.ping !== `test@${USERS.worker.username}:pong`;
        expect(failed || r.denials.includes(rule.replace(/^\+/, "")), JSON.stringify({ ...r, workerLog: r.workerLog.slice(-400) })).toBe(
            true,
        );
    });
});
