/**
 * Monitoring in the program (components/Monitoring.ts), under the offline evaluation: off by
 * default; on, Prometheus, Alertmanager and the exporters are hardened containers (or Swarm
 * services) like every other, with their data on protected volumes, their secrets as 0400 files
 * and none in a configuration's text; hosted, the metrics endpoint's key is a secret key of its own
 * in the two-slot rotation.
 */
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import { hardeningProblems } from "../policy/policies";
import { MONITORING_FILES, MONITORING_UID } from "../lib/monitoring/runtime";
import { byName, evaluateStack, ofType, runningContainers, SWARM, uploadsOf } from "./harness";

const RECEIVER_URL = "https://hooks.example/services/T000/B000/receiver-secret-0123456789";
const ON = { overrides: { monitoringEnabled: "true" }, secrets: { monitoringReceiverUrl: RECEIVER_URL } };
const PARTS = ["prometheus", "alertmanager", "redis-exporter", "postgres-exporter", "node-exporter"];
const CONTAINER = "docker:index/container:Container";

type Upload = { file: string; content: string; permissions: string; owner: string };
const uploads = (ev: Awaited<ReturnType<typeof evaluateStack>>, name: string) => reveal(uploadsOf(ev, byName(ev, name))) as Upload[];
const file = (ev: Awaited<ReturnType<typeof evaluateStack>>, name: string, path: string) => {
    const found = uploads(ev, name).find((u) => u.file === path);
    if (!found)
        throw new Error(
            `${name} has no file ${path}: ${uploads(ev, name)
                .map((u) => u.file)
                .join(", ")}`,
        );
    return found;
};

describe("monitoring, off by default", () => {
    it("plans nothing of it in the committed stacks", async () => {
        for (const stack of ["dev", "prod"]) {
            const ev = await evaluateStack(stack);
            expect(ev.resources.filter((r) => r.type.startsWith("toolboxai:monitoring"))).toEqual([]);
        }
    });

    it("refuses to turn on without a receiver URL, naming the setting and the way out", async () => {
        await expect(evaluateStack("dev", { overrides: { monitoringEnabled: "true" }, placeholders: false })).rejects.toThrow(
            /toolboxai:monitoringReceiverUrl = .*is required when monitoringEnabled is true.*monitoringReceiver none/,
        );
    });
});

describe("monitoring on, one host (dev: local Supabase)", () => {
    it("runs each part hardened as its own non-root user, with a health check and a PIDs limit", async () => {
        const ev = await evaluateStack("dev", ON);
        for (const part of PARTS) {
            const c = byName(ev, `monitoring-${part}-0`);
            const i = reveal(c.inputs) as Record<string, unknown>;
            expect(i.user, part).toBe(`${MONITORING_UID}:${MONITORING_UID}`);
            expect(i.readOnly, part).toBe(true);
            expect(i.capabilities, part).toEqual({ drops: ["ALL"] });
            expect(i.securityOpts, part).toEqual(["no-new-privileges:true"]);
            expect(i.memory, part).toBeGreaterThan(0);
            expect((i.healthcheck as { tests: string[] }).tests.slice(0, 2), part).toEqual(["CMD", "wget"]);
            expect(String(reveal(byName(ev, `monitoring-${part}-0-pids`).inputs.create)), part).toMatch(/^docker update --pids-limit \d+ /);
        }
        expect(runningContainers(ev).filter((c) => c.name.startsWith("monitoring-"))).toHaveLength(PARTS.length);
    });

    it("keeps Prometheus's and Alertmanager's data on protected, retained volumes", async () => {
        const ev = await evaluateStack("dev", ON);
        for (const [part, path] of [
            ["prometheus", "/prometheus"],
            ["alertmanager", "/alertmanager"],
        ]) {
            const volume = byName(ev, `monitoring-${part}-data`);
            expect(volume.options, part).toMatchObject({ protect: true, retainOnDelete: true });
            expect(volume.inputs.name).toBe(`toolboxai-dev-${part}-data`);
            const mounts = reveal(byName(ev, `monitoring-${part}-0`).inputs.volumes) as { volumeName: string; containerPath: string }[];
            expect(mounts).toContainEqual({ volumeName: `toolboxai-dev-${part}-data`, containerPath: path });
        }
    });

    it("publishes only Prometheus's and Alertmanager's pages, on the host's loopback", async () => {
        const ev = await evaluateStack("dev", ON);
        const published = PARTS.flatMap((part) =>
            ((reveal(byName(ev, `monitoring-${part}-0`).inputs.ports) as { external: number; ip: string }[] | undefined) ?? []).map(
                (p) => `${part} ${p.ip}:${p.external}`,
            ),
        );
        expect(published.sort()).toEqual(["alertmanager 127.0.0.1:9093", "prometheus 127.0.0.1:9090"]);
    });

    it("gives the exporters their passwords as 0400 files, and no secret is in any public file or the environment", async () => {
        const ev = await evaluateStack("dev", ON);
        const redisPassword = JSON.parse(
            file(ev, "monitoring-redis-exporter-0", `/run/secrets/${MONITORING_FILES.redisExporterPassword}`).content,
        ) as Record<string, string>;
        const secrets = [
            RECEIVER_URL,
            ...Object.values(redisPassword),
            file(ev, "monitoring-postgres-exporter-0", `/run/secrets/${MONITORING_FILES.postgresPassword}`).content,
        ];
        for (const s of secrets) expect(s.length).toBeGreaterThan(10);
        for (const part of PARTS) {
            const name = `monitoring-${part}-0`;
            for (const u of uploads(ev, name)) {
                expect(u.owner, `${name} ${u.file}`).toBe(String(MONITORING_UID));
                if (u.file.startsWith("/run/secrets/")) expect(u.permissions, u.file).toBe("0400");
                else for (const s of secrets) expect(u.content, `${name} ${u.file}`).not.toContain(s);
            }
            const env =
                JSON.stringify(reveal(byName(ev, name).inputs.envs) ?? []) + JSON.stringify(reveal(byName(ev, name).inputs.command) ?? []);
            for (const s of secrets) expect(env, name).not.toContain(s);
        }
        // The receiver's URL is only in Alertmanager's configuration, itself a secret file.
        expect(file(ev, "monitoring-alertmanager-0", `/run/secrets/${MONITORING_FILES.alertmanagerConfig}`).content).toContain(
            RECEIVER_URL,
        );
    });

    it("scrapes Redis, the local database, the Docker host and the backup job, and loads the generated rules", async () => {
        const ev = await evaluateStack("dev", ON);
        const config = load(file(ev, "monitoring-prometheus-0", `/etc/toolboxai/${MONITORING_FILES.prometheusConfig}`).content) as {
            scrape_configs: { job_name: string }[];
            rule_files: string[];
        };
        expect(config.scrape_configs.map((j) => j.job_name)).toEqual(["prometheus", "redis", "postgres", "node", "backup"]);
        expect(config.rule_files).toEqual([`/etc/toolboxai/${MONITORING_FILES.rules}`]);
        const rules = file(ev, "monitoring-prometheus-0", `/etc/toolboxai/${MONITORING_FILES.rules}`).content;
        for (const alert of ["BackupStale", "CredentialRotationOverdue", "TlsCertificateExpiring", "RedisDown"])
            expect(rules).toContain(`alert: ${alert}`);
        // The Redis certificates' ends come from the issued certificates (the offline plan: issued at the pinned clock).
        expect(rules).toMatch(/certificate: redis-server/);
    });
});

describe("monitoring on, hosted (prod)", () => {
    it("scrapes the project's metrics endpoint with a secret key of its own, in two rotation slots, read from a file", async () => {
        const ev = await evaluateStack("prod", ON);
        const keys = ev.resources.filter((r) => /^supabase-metrics-secret-key-[ab]$/.test(r.name));
        expect(keys.map((k) => k.name).sort()).toEqual(["supabase-metrics-secret-key-a", "supabase-metrics-secret-key-b"]);
        const text = file(ev, "monitoring-prometheus-0", `/etc/toolboxai/${MONITORING_FILES.prometheusConfig}`).content;
        const job = (
            load(text) as {
                scrape_configs: { job_name: string; basic_auth?: Record<string, string>; static_configs?: { targets: string[] }[] }[];
            }
        ).scrape_configs.find((j) => j.job_name === "supabase")!;
        expect(job.basic_auth).toEqual({ username: "service_role", password_file: `/run/secrets/${MONITORING_FILES.supabaseMetricsKey}` });
        expect(job.static_configs![0].targets[0]).toMatch(/^[a-z0-9]+\.supabase\.co$/);
        const key = file(ev, "monitoring-prometheus-0", `/run/secrets/${MONITORING_FILES.supabaseMetricsKey}`);
        expect(key.permissions).toBe("0400");
        expect(key.content.length).toBeGreaterThan(10);
        expect(text).not.toContain(key.content);
        // No postgres_exporter: the hosted endpoint serves the database's series.
        expect(ev.resources.some((r) => r.name.startsWith("monitoring-postgres-exporter"))).toBe(false);
    });
});

describe("monitoring on, Swarm", () => {
    it("runs services with Docker secrets and configs, their data volumes on the labelled node, nothing published", async () => {
        const ev = await evaluateStack("dev", { ...ON, overrides: { ...ON.overrides, ...SWARM } });
        expect(ofType(ev, CONTAINER).filter((c) => c.name.startsWith("monitoring-"))).toEqual([]);
        const prometheus = reveal(byName(ev, "monitoring-prometheus-service").inputs) as {
            taskSpec: {
                containerSpec: { user: string; readOnly: boolean; mounts: { source?: string; target: string }[]; secrets: unknown[] };
                placement?: { constraints: string[] };
            };
            endpointSpec?: { ports?: unknown[] };
        };
        expect(prometheus.taskSpec.containerSpec.user).toBe(`${MONITORING_UID}:${MONITORING_UID}`);
        expect(prometheus.taskSpec.containerSpec.readOnly).toBe(true);
        expect(prometheus.taskSpec.containerSpec.mounts).toContainEqual(
            expect.objectContaining({ source: "toolboxai-dev-prometheus-data", target: "/prometheus" }),
        );
        expect(prometheus.taskSpec.placement?.constraints).toEqual(["node.labels.toolboxai-monitoring==true"]);
        // No published port: the pages are reached through an SSH tunnel (docs/operations/monitoring.md).
        expect(prometheus.endpointSpec?.ports ?? []).toEqual([]);
        const config = load(
            String(
                reveal(
                    ofType(ev, "docker:index/serviceConfig:ServiceConfig").find((c) =>
                        String(reveal(c.inputs.name)).includes("prometheus-prometheus-yml"),
                    )!.inputs.dataRaw,
                ),
            ),
        ) as { scrape_configs: { job_name: string; dns_sd_configs?: { names: string[] }[] }[] };
        expect(config.scrape_configs.find((j) => j.job_name === "backup")?.dns_sd_configs?.[0].names).toEqual([
            "tasks.toolboxai-dev-backup",
        ]);
    });
});

describe("monitoring and the policy pack", () => {
    it.each([
        ["one host", {}],
        ["Swarm", SWARM],
    ])("passes its hardening checks (%s)", async (_mode, mode) => {
        const ev = await evaluateStack("prod", { ...ON, overrides: { ...ON.overrides, ...mode } });
        const monitoring = ev.resources.filter((r) => r.name.startsWith("monitoring-"));
        expect(monitoring.length).toBeGreaterThan(5);
        expect(monitoring.flatMap((r) => hardeningProblems(r.type, reveal(r.inputs) as never).map((p) => `${r.name}: ${p}`))).toEqual([]);
    });
});
