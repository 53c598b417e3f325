/**
 * The owner's database password stays with the deployer: no container, single host or Swarm,
 * receives it in any file, secret or environment variable. Every consumer logs in as its own role.
 */
import { describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import type { Evaluation } from "../lib/offline/evaluate";
import { byName, containerEnv, evaluateStack, ofType, STACKS, SWARM } from "./harness";

/** The owner's password, as the apply step sets it. */
const ownerPassword = (ev: Evaluation) =>
    (reveal(byName(ev, "credentials-apply-database-password").inputs.environment) as Record<string, string>).NEW_PASSWORD;

/** Every file a container is given (single host: its seed's uploads; Swarm: secrets and configs), by where it lands. */
function containerFiles(ev: Evaluation): { where: string; content: string }[] {
    const files: { where: string; content: string }[] = [];
    for (const c of ofType(ev, "docker:index/container:Container")) {
        for (const u of (reveal(c.inputs.uploads) as { file: string; content: string }[] | undefined) ?? [])
            files.push({ where: `${c.name}:${u.file}`, content: u.content });
        for (const [key, value] of Object.entries(containerEnv(c))) files.push({ where: `${c.name}:env ${key}`, content: value });
    }
    for (const type of ["docker:index/secret:Secret", "docker:index/serviceConfig:ServiceConfig"])
        for (const s of ofType(ev, type)) {
            const data = String(reveal(s.inputs.data ?? s.inputs.dataRaw));
            files.push(
                { where: s.name, content: data },
                { where: `${s.name} (decoded)`, content: Buffer.from(data, "base64").toString("utf8") },
            );
        }
    for (const s of ofType(ev, "pulumi-nodejs:dynamic/toolboxai:SwarmService"))
        files.push({ where: `${s.name}:taskSpec`, content: JSON.stringify(reveal(s.inputs.taskSpec)) });
    return files;
}

const evaluations = [
    ...STACKS.map((stack) => ({ label: stack, run: () => evaluateStack(stack) })),
    { label: "dev in Swarm mode", run: () => evaluateStack("dev", { overrides: { ...SWARM } }) },
    // Monitoring on in local mode: postgres_exporter logs in to the database too.
    {
        label: "dev with monitoring",
        run: () =>
            evaluateStack("dev", {
                overrides: { monitoringEnabled: "true", monitoringReceiver: "none" },
            }),
    },
];

describe.each(evaluations)("the owner's password in no container ($label)", ({ run }) => {
    it("lists every secret file of every container: none holds the owner's password, and each consumer has its own login", async () => {
        const ev = await run();
        const owner = ownerPassword(ev);
        expect(owner).toMatch(/^[A-Za-z0-9]{32,}$/);
        const files = containerFiles(ev);
        const pgpass = files.filter((f) => f.where.endsWith("/pgpass") || f.where.includes("pgpass"));
        // Backend, worker and backup each get a password file: the check below looks at them.
        expect(pgpass.length).toBeGreaterThanOrEqual(3);
        // Names only, never contents: a failure must not print a password.
        expect(files.filter((f) => f.content.includes(owner)).map((f) => f.where)).toEqual([]);
        for (const f of pgpass.filter((f) => !f.where.includes("decoded") && f.content.includes(":"))) {
            const user = f.content.trim().split(":")[3];
            expect(user, f.where).toMatch(/^toolboxai_(backend|worker|backup)_[ab](\.[a-z0-9]+)?$/);
        }
    });
});

describe("postgres_exporter's login (dev with monitoring)", () => {
    it("is the monitoring consumer's own login, in the roles step with pg_monitor, not the owner", async () => {
        const ev = await evaluateStack("dev", { overrides: { monitoringEnabled: "true", monitoringReceiver: "none" } });
        const exporter = ofType(ev, "docker:index/container:Container").find((c) => c.name === "monitoring-postgres-exporter-0");
        expect(exporter, "the planned postgres_exporter container").toBeDefined();
        expect(containerEnv(exporter!).DATA_SOURCE_USER).toMatch(/^toolboxai_monitoring_[ab]$/);
        const roles = reveal(byName(ev, "credentials-consumer-roles").inputs.environment) as Record<string, string>;
        expect(roles.CONSUMERS.split(",")).toContain("monitoring");
    });
});
