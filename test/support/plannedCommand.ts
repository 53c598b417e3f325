/**
 * A planned command resource (@pulumi/command) run as the command provider runs it: `/bin/sh -c`
 * with its planned environment, from the project folder; `env` points it at the test's servers.
 */
import { execFile } from "node:child_process";
import type { Evaluation } from "../../lib/offline/evaluate";
import { reveal } from "../../lib/offline/values";
import { byName, PROJECT_DIR } from "../harness";

export interface CommandResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs the resource's `update` command (`create` is the same for the apply steps); never throws on a failed exit. */
export function runPlannedCommand(ev: Evaluation, name: string, env: Record<string, string>): Promise<CommandResult> {
    const command = byName(ev, name);
    const environment = {
        PATH: process.env.PATH,
        TOOLBOXAI_TS_CACHE: "off",
        ...(reveal(command.inputs.environment) as Record<string, string>),
        ...env,
    };
    return new Promise((resolve) =>
        execFile("/bin/sh", ["-c", String(command.inputs.update)], { cwd: PROJECT_DIR, env: environment }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
    );
}

/** The same, failing with the command's stderr (secrets never reach it: the scripts print none). */
export async function runPlannedCommandOk(ev: Evaluation, name: string, env: Record<string, string>): Promise<string> {
    const result = await runPlannedCommand(ev, name, env);
    if (result.code !== 0) throw new Error(`${name} failed: ${result.stderr}`);
    return result.stdout;
}
