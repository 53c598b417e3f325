/**
 * node_exporter in the program (components/Monitoring.ts): on the Docker host it reads the host's
 * /proc, /sys and root filesystem, and the host's textfile directory, all read-only, on the
 * backend network only; in Swarm mode as bind mounts on the node labelled for monitoring, where the
 * ops tool's files are written (docs/operations/monitoring.md).
 */
import { describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import { MONITORING_ALIASES, NODE_EXPORTER_PATHS } from "../lib/monitoring/runtime";
import { byName, evaluateStack, SWARM } from "./harness";

const ON = { overrides: { monitoringEnabled: "true" }, secrets: { monitoringReceiverUrl: "https://hooks.example/services/T0/B0/x" } };
const HOST_MOUNTS = [
    { hostPath: "/proc", containerPath: NODE_EXPORTER_PATHS.procfs },
    { hostPath: "/sys", containerPath: NODE_EXPORTER_PATHS.sysfs },
    { hostPath: "/", containerPath: NODE_EXPORTER_PATHS.rootfs },
    { hostPath: NODE_EXPORTER_PATHS.hostTextfileDir, containerPath: NODE_EXPORTER_PATHS.textfileDir },
];

describe("node_exporter on the Docker host", () => {
    it("one host: the host's paths read-only, the textfile collector on the host's directory, on the backend network only", async () => {
        const ev = await evaluateStack("prod", ON);
        const i = reveal(byName(ev, "monitoring-node-exporter-0").inputs) as {
            volumes: { hostPath?: string; containerPath: string; readOnly?: boolean }[];
            command: string[];
            networksAdvanced: { aliases: string[] }[];
            ports?: unknown[];
        };
        const hostMounts = i.volumes.filter((v) => v.hostPath !== undefined);
        expect(hostMounts).toEqual(HOST_MOUNTS.map((m) => ({ ...m, readOnly: true })));
        expect(i.command).toContain(`--collector.textfile.directory=${NODE_EXPORTER_PATHS.textfileDir}`);
        expect(i.command).toContain(`--path.procfs=${NODE_EXPORTER_PATHS.procfs}`);
        expect(i.networksAdvanced.map((n) => n.aliases)).toEqual([[MONITORING_ALIASES.nodeExporter]]);
        expect(i.ports ?? []).toEqual([]);
    });

    it("Swarm: read-only bind mounts, on the node labelled for monitoring", async () => {
        const ev = await evaluateStack("dev", { ...ON, overrides: { ...ON.overrides, ...SWARM } });
        const s = reveal(byName(ev, "monitoring-node-exporter-service").inputs) as {
            taskSpec: {
                containerSpec: { mounts: { type: string; source?: string; target: string; readOnly?: boolean }[] };
                placement?: { constraints: string[] };
            };
        };
        expect(s.taskSpec.containerSpec.mounts.filter((m) => m.type === "bind")).toEqual(
            HOST_MOUNTS.map((m) => ({ type: "bind", source: m.hostPath, target: m.containerPath, readOnly: true })),
        );
        expect(s.taskSpec.placement?.constraints).toEqual(["node.labels.toolboxai-monitoring==true"]);
    });
});
