import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { findLeaks, secretTexts } from "../lib/offline/leaks";
import { reveal, SecretValue } from "../lib/offline/values";
import { heartbeatCheck } from "../lib/services";
import { byName, containerEnv, evaluateStack, ofType, runningContainers, STACKS, SWARM, uploadsOf } from "./harness";
import { makePki } from "./support/redis";

/** What the backend receives as secret files, in both runtimes. */
const BACKEND_SECRET_FILES = [
    "/run/secrets/pgpass",
    "/run/secrets/redis_password",
    "/run/secrets/supabase_anon_key",
    "/run/secrets/supabase_service_key",
    "/run/secrets/vault_role_id",
    "/run/secrets/vault_secret_id",
];
const containers = (ev: Evaluation) => runningContainers(ev);
const vaultPassword = (ev: Evaluation) =>
    (JSON.parse(String(reveal(byName(ev, "credentials-kv-database").inputs.dataJson))) as { password: string }).password;
type Upload = { file: string; content: string };

describe.each(STACKS)("AppService and container hardening (%s)", (stack) => {
    it("gives every container the hardening defaults", async () => {
        const all = containers(await evaluateStack(stack));
        expect(all.map((c) => c.name).sort()).toEqual(["app-backend-0", "app-backup-0", "app-worker-0", "redis-server"]);
        for (const c of all) {
            expect(c.inputs, c.name).toMatchObject({
                readOnly: true,
                securityOpts: ["no-new-privileges:true"],
                capabilities: { drops: ["ALL"] },
                restart: "unless-stopped",
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "5" },
                privileged: false,
                init: true,
            });
            expect(String(c.inputs.user), c.name).not.toMatch(/^(0|root)(:|$)/);
            expect(c.inputs.memory, c.name).toBeGreaterThan(0);
            expect(Number(c.inputs.cpus), c.name).toBeGreaterThan(0);
            expect(c.inputs.networkMode, c.name).toBeUndefined();
            expect(c.inputs.labels, c.name).toEqual(expect.arrayContaining([{ label: "com.toolboxai.stack", value: stack }]));
        }
    });

    it("puts no secret in any environment variable: secrets arrive as 0400 files", async () => {
        const ev = await evaluateStack(stack);
        const secrets = [...secretTexts(ev).keys()];
        for (const c of containers(ev)) {
            for (const [key, value] of Object.entries(containerEnv(c)))
                for (const s of secrets) expect(value, `${c.name} ${key}`).not.toContain(s);
            for (const u of (reveal(uploadsOf(ev, c)) as { file: string; permissions: string }[]).filter((u) =>
                u.file.startsWith("/run/secrets/"),
            )) {
                expect(u.permissions, `${c.name} ${u.file}`).toBe("0400");
            }
        }
        expect(findLeaks(ev)).toEqual([]);
    });

    it("gives the backend the guide's environment, with files for every secret", async () => {
        const ev = await evaluateStack(stack);
        const env = containerEnv(byName(ev, "app-backend-0"));
        const pooler = stack === "prod";
        expect(env).toMatchObject({
            SUPABASE_URL: stack === "prod" ? "https://toolboxaiprodprojref.supabase.co" : "http://host.docker.internal:54321",
            SUPABASE_SERVICE_KEY_FILE: "/run/secrets/supabase_service_key",
            REDIS_URL: "rediss://toolboxai_backend@redis:6380/0",
            VAULT_ADDR: stack === "prod" ? "https://vault.toolboxai.internal:8200" : "http://host.docker.internal:8200",
            NODE_ENV: stack === "prod" ? "production" : "development",
            PGPASSFILE: "/run/secrets/pgpass",
            VAULT_ROLE_ID_FILE: "/run/secrets/vault_role_id",
            VAULT_SECRET_ID_FILE: "/run/secrets/vault_secret_id",
        });
        const url = new URL(env.DATABASE_URL);
        expect(url.password).toBe("");
        expect(url.port).toBe(pooler ? "6543" : "54322");
        const files = (reveal(uploadsOf(ev, byName(ev, "app-backend-0"))) as { file: string }[]).map((u) => u.file).sort();
        expect(files).toEqual(["/etc/toolboxai/redis-ca.crt", ...BACKEND_SECRET_FILES]);
        expect(byName(ev, "app-backend-0").inputs.healthcheck).toMatchObject({
            tests: ["CMD", "curl", "-f", "http://localhost:8000/health"],
            interval: "30s",
            timeout: "10s",
            retries: 3,
        });
    });

    it("runs the backup job on its schedule over the direct connection, with the uploader's key and the database password as files", async () => {
        const ev = await evaluateStack(stack);
        const job = byName(ev, "app-backup-0");
        const env = containerEnv(job);
        const bucket = byName(ev, "backups-bucket");
        expect(env).toMatchObject({
            PGHOST: stack === "prod" ? "db.toolboxaiprodprojref.supabase.co" : "host.docker.internal",
            PGPORT: stack === "prod" ? "5432" : "54322",
            PGDATABASE: "postgres",
            PGSSLMODE: stack === "prod" ? "require" : "disable",
            PGPASSFILE: "/run/secrets/pgpass",
            AWS_SHARED_CREDENTIALS_FILE: "/run/secrets/aws_credentials",
            BACKUP_BUCKET: bucket.outputs.bucket,
            BACKUP_PREFIX: "supabase",
            BACKUP_SSE: stack === "prod" ? "aws:kms" : "AES256",
            BACKUP_SCHEDULE: "0 2 * * *",
            // The default backup service has 2 CPUs.
            BACKUP_THREADS: "2",
        });
        if (stack === "prod") expect(env.BACKUP_KMS_KEY_ID).toBe(byName(ev, "backups-key").outputs.arn);
        else expect(env.BACKUP_KMS_KEY_ID).toBeUndefined();
        expect(env.PGPORT).not.toBe("6543");
        // The engine keeps the whole upload list secret, as it holds secret contents.
        expect(uploadsOf(ev, job)).toBeInstanceOf(SecretValue);
        const uploads = reveal(uploadsOf(ev, job)) as { file: string; content: string; permissions: string }[];
        expect(uploads.map((u) => u.file).sort()).toEqual(["/run/secrets/aws_credentials", "/run/secrets/pgpass"]);
        for (const u of uploads) expect(u.permissions, u.file).toBe("0400");
        const credentials = uploads.find((u) => u.file.endsWith("aws_credentials"))!.content;
        // The mock names the key's id after the resource (the active rotation slot's); its secret is the provider's output.
        const id = credentials.match(/backups-uploader-key-[ab]-[0-9a-f]+/)?.[0] ?? "";
        const key = byName(ev, id.slice(0, "backups-uploader-key-a".length));
        expect(credentials).toBe(`[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${reveal(key.outputs.secret)}\n`);
        const pgpass = uploads.find((u) => u.file.endsWith("pgpass"))!.content;
        // Its own login (the active slot's), never the owner's.
        expect(env.PGUSER).toMatch(/^toolboxai_backup_[ab]$/);
        const own = reveal(byName(ev, `credentials-backup-login-password-${env.PGUSER.slice(-1)}`).outputs.result);
        expect(pgpass === `${env.PGHOST}:${env.PGPORT}:postgres:${env.PGUSER}:${own}\n`, "pgpass is the backup login's").toBe(true);
        expect(pgpass.includes(vaultPassword(ev)), "pgpass holds the owner's password").toBe(false);
        expect((job.inputs.networksAdvanced as { name: string }[]).map((n) => n.name)).toEqual([`toolboxai-${stack}-frontend`]);
        expect(job.inputs.healthcheck).toMatchObject({ tests: ["CMD", "node", "/app/backup-job.js", "health"] });
        // Dev's database is on the Docker host: the job reaches it through the host-gateway alias.
        expect(job.inputs.hosts ?? []).toEqual(stack === "prod" ? [] : [{ host: "host.docker.internal", ip: "host-gateway" }]);
        expect(job.inputs.image).toBe(byName(ev, "app-backup-image").outputs.imageId);
        expect(byName(ev, "app-backup-image").inputs.name).toBe(
            stack === "prod" ? "ghcr.io/toolboxai/backup:1.0.0" : "ghcr.io/toolboxai/backup:dev",
        );
    });

    it("hands databaseCaCert to every database client as a file, for verify-full", async () => {
        const ca = readFileSync((await makePki(mkdtempSync(join(tmpdir(), "toolboxai-ca-")), "db")).caCert, "utf8");
        const ev = await evaluateStack(stack, { overrides: { databaseSslMode: "verify-full", databaseCaCert: ca } });
        for (const name of ["app-backend-0", "app-worker-0", "app-backup-0"]) {
            const env = containerEnv(byName(ev, name));
            expect(env.PGSSLROOTCERT, name).toBe("/etc/toolboxai/database-ca.crt");
            expect(env.PGSSLMODE ?? new URL(env.DATABASE_URL).searchParams.get("sslmode"), name).toBe("verify-full");
            const uploads = reveal(uploadsOf(ev, byName(ev, name))) as { file: string; content: string; permissions: string }[];
            expect(
                uploads.find((u) => u.file === "/etc/toolboxai/database-ca.crt"),
                name,
            ).toMatchObject({ content: ca, permissions: "0444" });
        }
        expect(new URL(containerEnv(byName(ev, "app-backend-0")).DATABASE_URL).searchParams.get("sslrootcert")).toBe(
            "/etc/toolboxai/database-ca.crt",
        );
    });

    it("publishes ports on the backend only, and frees the port before a replacement", async () => {
        const ev = await evaluateStack(stack);
        for (const c of containers(ev)) {
            const ports = (c.inputs.ports as unknown[] | undefined) ?? [];
            if (c.name === "app-backend-0") {
                // Each stack file binds the backend to one interface (backendHostAddress): loopback on a laptop, the load balancer's side in prod.
                const ip = { dev: "127.0.0.1", e2e: "127.0.0.1", prod: "192.0.2.10" }[stack];
                expect(ports).toEqual([{ internal: 8000, external: 8000, ip, protocol: "tcp" }]);
                expect(c.options.deleteBeforeReplace).toBe(true);
            } else expect(ports, c.name).toEqual([]);
        }
    });

    it("runs one container per replica and adds MCP servers from config, without database or Vault secrets", async () => {
        const services = {
            backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
            worker: { role: "worker", replicas: 3, command: ["python", "-m", "worker"] },
            "mcp-docs": { role: "mcp", image: "ghcr.io/toolboxai/mcp-docs:1.2.0" },
        };
        const ev = await evaluateStack(stack, { overrides: { services: JSON.stringify(services) } });
        expect(
            containers(ev)
                .map((c) => c.name)
                .sort(),
        ).toEqual(["app-backend-0", "app-mcp-docs-0", "app-worker-0", "app-worker-1", "app-worker-2", "redis-server"]);
        expect(byName(ev, "app-worker-2").inputs.command).toEqual(["python", "-m", "worker"]);
        const mcp = byName(ev, "app-mcp-docs-0");
        expect(Object.keys(containerEnv(mcp)).sort()).toEqual(["NODE_ENV", "SUPABASE_URL", "VAULT_ADDR"]);
        expect((mcp.inputs.networksAdvanced as { name: string }[]).map((n) => n.name)).toEqual([
            `toolboxai-${stack}-frontend`,
            `toolboxai-${stack}-backend`,
        ]);
        for (const w of ["app-worker-0", "app-worker-1", "app-worker-2"]) {
            expect((byName(ev, w).inputs.networksAdvanced as { aliases: string[] }[])[0].aliases).toEqual(["worker"]);
        }
    });
});

describe("AppService endpoints as a container sees them", () => {
    const services = JSON.stringify({
        backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
        worker: { role: "worker" },
        "mcp-docs": { role: "mcp", image: "ghcr.io/toolboxai/mcp-docs:1.2.0" },
    });
    const apps = (ev: Evaluation) => containers(ev).filter((c) => c.name.startsWith("app-"));
    const hostOf = (url: string) => new URL(url).hostname;
    const LOOPBACK = /^(127\.|localhost$|\[::1\]$|0\.0\.0\.0$)/;
    /** The pgpass line's host field (the first, up to an unescaped colon). */
    const pgpassHost = (ev: Evaluation, c: RecordedResource) =>
        (reveal(uploadsOf(ev, c)) as Upload[]).find((u) => u.file === "/run/secrets/pgpass")!.content.split(/(?<!\\):/)[0];

    it("dev: no container is pointed at loopback; they reach the host's Supabase and Vault through host-gateway", async () => {
        const ev = await evaluateStack("dev", { overrides: { services } });
        expect(
            apps(ev)
                .map((c) => c.name)
                .sort(),
        ).toEqual(["app-backend-0", "app-mcp-docs-0", "app-worker-0"]);
        for (const c of apps(ev)) {
            const env = containerEnv(c);
            for (const key of ["SUPABASE_URL", "VAULT_ADDR", "DATABASE_URL"].filter((k) => k in env)) {
                expect(hostOf(env[key]), `${c.name} ${key}`).not.toMatch(LOOPBACK);
                expect(hostOf(env[key]), `${c.name} ${key}`).toBe("host.docker.internal");
            }
            expect(c.inputs.hosts, c.name).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
        }
        // Redis talks to nobody on the host.
        expect(byName(ev, "redis-server").inputs.hosts).toBeUndefined();
    });

    it("dev: the pgpass line names the host the container connects to, and the port stays the published one", async () => {
        const ev = await evaluateStack("dev", { overrides: { services } });
        for (const name of ["app-backend-0", "app-worker-0"]) {
            const url = new URL(containerEnv(byName(ev, name)).DATABASE_URL);
            expect(pgpassHost(ev, byName(ev, name)), name).toBe(url.hostname);
            expect(url.port).toBe("54322");
        }
    });

    it("dev: pulumi up's own commands keep the host-side endpoints", async () => {
        const ev = await evaluateStack("dev");
        expect(ev.outputs.supabaseUrl).toBe("http://127.0.0.1:54321");
        expect((ev.outputs.database as { host: string }).host).toBe("127.0.0.1");
        const push = ofType(ev, "command:local:Command").map((c) => JSON.stringify(reveal(c.inputs.environment) ?? {}));
        expect(push.some((e) => e.includes("127.0.0.1"))).toBe(true);
        expect(push.some((e) => e.includes("host.docker.internal"))).toBe(false);
    });

    it("dev: a container-side setting overrides the default, and the alias entry goes once nothing uses it", async () => {
        const ev = await evaluateStack("dev", {
            overrides: {
                services,
                containerSupabaseUrl: "http://192.168.50.10:54321",
                containerDbHost: "192.168.50.10",
                containerVaultAddress: "http://192.168.50.10:8200",
            },
        });
        for (const c of apps(ev)) {
            expect(c.inputs.hosts, c.name).toBeUndefined();
            expect(containerEnv(c).SUPABASE_URL).toBe("http://192.168.50.10:54321");
        }
        expect(pgpassHost(ev, byName(ev, "app-worker-0"))).toBe("192.168.50.10");
    });

    it("dev: a local pooler on loopback is reached the same way", async () => {
        const ev = await evaluateStack("dev", {
            overrides: { services, poolerEnabled: "true", poolerHost: "127.0.0.1", poolerPort: "54329" },
        });
        const url = new URL(containerEnv(byName(ev, "app-worker-0")).DATABASE_URL);
        expect([url.hostname, url.port]).toEqual(["host.docker.internal", "54329"]);
        expect(pgpassHost(ev, byName(ev, "app-worker-0"))).toBe("host.docker.internal");
    });

    it("Swarm: services carry the same alias entry", async () => {
        const ev = await evaluateStack("dev", { overrides: { services, ...SWARM } });
        const task = reveal(byName(ev, "app-worker-service").inputs.taskSpec) as {
            containerSpec: { env: Record<string, string>; hosts: unknown };
        };
        expect(task.containerSpec.hosts).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
        expect(hostOf(task.containerSpec.env.DATABASE_URL)).toBe("host.docker.internal");
    });

    it("prod: hosted endpoints are unchanged and no alias entry is added", async () => {
        const ev = await evaluateStack("prod", { overrides: { services } });
        for (const c of apps(ev)) {
            expect(c.inputs.hosts, c.name).toBeUndefined();
            expect(containerEnv(c).SUPABASE_URL).toBe("https://toolboxaiprodprojref.supabase.co");
            expect(containerEnv(c).VAULT_ADDR).toBe("https://vault.toolboxai.internal:8200");
        }
        const url = new URL(containerEnv(byName(ev, "app-backend-0")).DATABASE_URL);
        // The pooler host comes from the Management API; offline, a reserved .invalid name stands in.
        expect(url.hostname).toBe("pooler.offline.invalid");
        expect(pgpassHost(ev, byName(ev, "app-backend-0"))).toBe(url.hostname);
    });
});

describe.each(STACKS)("AppService health checks (%s)", (stack) => {
    const services = {
        backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
        worker: { role: "worker" },
        "mcp-docs": { role: "mcp", image: "ghcr.io/toolboxai/mcp-docs:1.2.0" },
        "mcp-http": {
            role: "mcp",
            image: "ghcr.io/toolboxai/mcp-http:1.0.0",
            healthcheck: ["CMD", "wget", "-q", "--spider", "http://localhost:9000/health"],
        },
    };

    it("gives workers and MCP servers the heartbeat check, never one that cannot fail, and takes a service's own", async () => {
        const ev = await evaluateStack(stack, { overrides: { services: JSON.stringify(services) } });
        const test = (name: string) => (byName(ev, name).inputs.healthcheck as { tests: string[] }).tests;
        for (const name of ["app-worker-0", "app-mcp-docs-0"]) {
            expect(test(name), name).toEqual(["CMD-SHELL", heartbeatCheck("/tmp/healthy")]);
            expect(byName(ev, name).inputs.healthcheck, name).toMatchObject({ interval: "30s", retries: 3, startPeriod: "30s" });
        }
        expect(test("app-mcp-http-0")).toEqual(services["mcp-http"].healthcheck);
        expect(test("app-backend-0")).toEqual(["CMD", "curl", "-f", "http://localhost:8000/health"]);
        for (const c of containers(ev)) expect(test(c.name).join(" "), c.name).not.toMatch(/kill -0/);
    });

    it("carries the same checks into Swarm services", async () => {
        const ev = await evaluateStack(stack, { overrides: { ...SWARM, services: JSON.stringify(services) } });
        const test = (name: string) =>
            (reveal(byName(ev, name).inputs.taskSpec) as { containerSpec: { healthcheck: { tests: string[] } } }).containerSpec.healthcheck
                .tests;
        expect(test("app-worker-service")).toEqual(["CMD-SHELL", heartbeatCheck("/tmp/healthy")]);
        expect(test("app-mcp-http-service")).toEqual(services["mcp-http"].healthcheck);
    });
});

describe("AppService in Swarm mode (dev stack with dockerMode: swarm)", () => {
    const swarm = () =>
        evaluateStack("dev", {
            overrides: {
                ...SWARM,
                services: JSON.stringify({
                    backend: { role: "backend", replicas: 2, ports: [{ published: 8000, target: 8000 }] },
                    worker: { role: "worker", replicas: 4 },
                }),
            },
        });

    it("runs each service as a replicated Swarm service with rolling update, rollback and restart policy", async () => {
        const ev = await swarm();
        expect(containers(ev)).toEqual([]);
        expect(new Set(ev.resources.map((r) => r.name)).size).toBe(ev.resources.length);
        const services = ofType(ev, "pulumi-nodejs:dynamic/toolboxai:SwarmService");
        expect(services.map((s) => s.name).sort()).toEqual(["app-backend-service", "app-worker-service", "redis-server"]);
        const backend = byName(ev, "app-backend-service");
        expect(backend.inputs.name).toBe("toolboxai-dev-backend");
        expect(backend.inputs.mode).toEqual({ replicated: { replicas: 2 } });
        expect(byName(ev, "app-worker-service").inputs.mode).toEqual({ replicated: { replicas: 4 } });
        for (const s of services) {
            expect(s.inputs.updateConfig, s.name).toMatchObject({ parallelism: 1, failureAction: "rollback" });
            expect(s.inputs.rollbackConfig, s.name).toMatchObject({ parallelism: 1 });
            const task = reveal(s.inputs.taskSpec) as Record<string, Record<string, unknown>>;
            expect(task.restartPolicy, s.name).toMatchObject({ condition: "any" });
            expect(task.containerSpec, s.name).toMatchObject({ readOnly: true, capDrops: ["ALL"], init: true });
            expect(String(task.containerSpec.user), s.name).not.toMatch(/^(0|root)(:|$)/);
            expect(task.resources, s.name).toMatchObject({ limits: { memoryBytes: expect.any(Number), nanoCpus: expect.any(Number) } });
            expect(String(task.containerSpec.image), s.name).toMatch(/@sha256:[a-f0-9]{64}$/);
        }
        expect(backend.inputs.endpointSpec).toEqual({
            mode: "vip",
            ports: [{ targetPort: 8000, publishedPort: 8000, protocol: "tcp", publishMode: "ingress" }],
        });
        expect(byName(ev, "app-worker-service").inputs.endpointSpec).toEqual({ mode: "vip", ports: [] });
    });

    it("hands every secret file over as a Docker secret, mode 0400, and none as an environment variable", async () => {
        const ev = await swarm();
        const task = reveal(byName(ev, "app-backend-service").inputs.taskSpec) as {
            containerSpec: { env: Record<string, string>; secrets: { fileName: string; fileMode: number; secretId: string }[] };
        };
        expect(task.containerSpec.secrets.map((s) => s.fileName).sort()).toEqual(BACKEND_SECRET_FILES);
        for (const s of task.containerSpec.secrets) expect(s.fileMode).toBe(0o400);
        for (const s of ofType(ev, "docker:index/secret:Secret")) expect(s.inputs.data, s.name).toBeInstanceOf(SecretValue);
        const secrets = [...secretTexts(ev).keys()];
        for (const [key, value] of Object.entries(task.containerSpec.env)) for (const s of secrets) expect(value, key).not.toContain(s);
        expect(task.containerSpec.env.SUPABASE_SERVICE_KEY_FILE).toBe("/run/secrets/supabase_service_key");
        expect(findLeaks(ev)).toEqual([]);
    });

    it("puts Redis on the overlay networks without a published port, pinned to its data volume's node", async () => {
        const ev = await swarm();
        const redis = byName(ev, "redis-server");
        expect(redis.inputs.endpointSpec).toEqual({ mode: "vip" });
        const task = reveal(redis.inputs.taskSpec) as {
            placement: { constraints: string[] };
            networksAdvanceds: { id: string; aliases: string[] }[];
            containerSpec: { mounts: { target: string; type: string }[] };
        };
        expect(task.placement.constraints).toEqual(["node.labels.toolboxai-redis==true"]);
        expect(task.networksAdvanceds.map((n) => n.aliases)).toEqual([["redis"], ["redis"]]);
        expect(task.containerSpec.mounts).toEqual(expect.arrayContaining([expect.objectContaining({ target: "/data", type: "volume" })]));
        expect(redis.inputs.updateConfig).toMatchObject({ order: "stop-first" });
    });

    it("lets the Redis node's engine create the data volume, labelled, instead of a provider volume on the manager", async () => {
        const ev = await swarm();
        // A docker.Volume would be created on the engine the provider talks to (a manager), not on the labelled node.
        expect(ofType(ev, "docker:index/volume:Volume")).toEqual([]);
        const task = reveal(byName(ev, "redis-server").inputs.taskSpec) as {
            containerSpec: {
                mounts: {
                    target: string;
                    source?: string;
                    type: string;
                    volumeOptions?: { driverName?: string; labels: { label: string; value: string }[] };
                }[];
            };
        };
        const data = task.containerSpec.mounts.find((m) => m.target === "/data")!;
        expect(data).toMatchObject({ source: "toolboxai-dev-redis-data", type: "volume" });
        // The engine applies volume labels only when a driver is named.
        expect(data.volumeOptions?.driverName).toBe("local");
        expect(data.volumeOptions?.labels).toEqual(
            expect.arrayContaining([
                { label: "com.toolboxai.stack", value: "dev" },
                { label: "com.toolboxai.service", value: "redis" },
                { label: "com.toolboxai.retain", value: "true" },
            ]),
        );
    });
});
