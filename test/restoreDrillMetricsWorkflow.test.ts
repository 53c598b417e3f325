/**
 * The restore-drill workflow hands the drill's result to node_exporter on the Docker host
 * (RestoreDrillFailed, docs/operations/monitoring.md): the drill writes it with --metrics-file, keeps
 * it as an artifact also when it failed, and the next job, on prod's own runner, copies it over SSH
 * under a temporary name and renames it in node_exporter's textfile directory. The copy step's
 * script runs here with a stand-in `ssh` that records what it was asked.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { NODE_EXPORTER_PATHS } from "../lib/monitoring/runtime";
import { PROJECT_DIR } from "./harness";

type Step = { name?: string; if?: string; uses?: string; run?: string; with?: Record<string, string> };
type Job = { needs?: string; if?: string; "runs-on": unknown; steps: Step[] };
const wf = load(readFileSync(join(PROJECT_DIR, ".github/workflows/restore-drill.yml"), "utf8")) as { jobs: Record<string, Job> };
const work = mkdtempSync(join(tmpdir(), "restore-drill-record-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("restore-drill.yml: the result reaches node_exporter", () => {
    it("the drill writes its metrics file and keeps it, also when it failed", () => {
        const steps = wf.jobs.drill.steps;
        expect(steps.map((s) => s.run ?? "").join("\n")).toContain('--metrics-file "$RUNNER_TEMP/toolboxai_restore_drill.prom"');
        const keep = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
        expect(keep).toMatchObject({ if: "always()", with: { path: "${{ runner.temp }}/toolboxai_restore_drill.prom" } });
    });

    it("the next job, after any drill, copies it into the host's textfile directory under a temporary name, then renames it", () => {
        const record = wf.jobs.record;
        // Its own environment (no deploy reviewers) and its own restricted key, never the deploy key.
        expect(record).toMatchObject({
            needs: "drill",
            if: "always()",
            "runs-on": ["self-hosted", "toolboxai-prod"],
            environment: "prod-metrics",
        });
        expect(JSON.stringify(record)).not.toContain("DOCKER_SSH_KEY");
        const script = record.steps.find((s) => s.name === "Into node_exporter's textfile directory")!.run!;
        // A stand-in ssh: its arguments and what it read on stdin.
        const bin = join(work, "bin");
        spawnSync("mkdir", ["-p", bin]);
        writeFileSync(join(bin, "ssh"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${work}/ssh-args"\ncat > "${work}/ssh-stdin"\n`);
        chmodSync(join(bin, "ssh"), 0o755);
        copyFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), join(work, "Pulumi.prod.yaml"));
        writeFileSync(join(work, "toolboxai_restore_drill.prom"), "toolboxai_restore_drill_last_result 0\n");
        const r = spawnSync("bash", ["-e", "-c", script], { cwd: work, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
        expect(r.status, String(r.stderr)).toBe(0);
        const [identityFlag, identity, optionFlag, option, target, command] = readFileSync(join(work, "ssh-args"), "utf8")
            .trimEnd()
            .split("\n");
        expect([identityFlag, identity.endsWith("/.ssh/toolboxai_metrics"), optionFlag, option]).toEqual([
            "-i",
            true,
            "-o",
            "IdentitiesOnly=yes",
        ]);
        const dockerHost = /^ {2}toolboxai:dockerHost: ssh:\/\/(.+)$/m.exec(
            readFileSync(join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8"),
        )![1];
        expect(target).toBe(dockerHost);
        const dir = NODE_EXPORTER_PATHS.hostTextfileDir;
        expect(command).toBe(
            `cat > ${dir}/.toolboxai_restore_drill.prom.tmp && mv ${dir}/.toolboxai_restore_drill.prom.tmp ${dir}/toolboxai_restore_drill.prom`,
        );
        expect(readFileSync(join(work, "ssh-stdin"), "utf8")).toBe("toolboxai_restore_drill_last_result 0\n");
    });
});
