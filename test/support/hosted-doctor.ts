/**
 * `ops doctor --json --outputs <file>` against the Management API double, for the tests of the
 * hosted group: the outputs file (a hosted stack's supabaseProject) written to a temporary
 * directory, and the hosted checks by name.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { main } from "../../ops/cli";
import type { ManagementApiSuite } from "./management-api-suite";

export type HostedCheck = { group: string; name: string; status: string; evidence: string; fix?: string };

/** Registers the temporary directory's hooks; returns the doctor runner. */
export function useHostedDoctor(double: ManagementApiSuite, ref: string) {
    let work: string;
    beforeAll(() => void (work = mkdtempSync(join(tmpdir(), "ops-hosted-doctor-"))));
    afterAll(() => rmSync(work, { recursive: true, force: true }));
    return {
        /** Writes the outputs file with `project` added to supabaseProject; returns its path. */
        outputs(project: Record<string, unknown> = {}): string {
            const file = join(work, "outputs.json");
            writeFileSync(file, JSON.stringify({ supabaseProject: { ref, managementApiUrl: double.api.url, ...project } }));
            return file;
        },
        async doctor(project: Record<string, unknown> = {}, flags: string[] = []) {
            const o = await main(["doctor", "--json", "--outputs", this.outputs(project), ...flags], {
                SUPABASE_ACCESS_TOKEN: double.api.token,
            });
            const checks = ((JSON.parse(o.stdout) as { checks?: HostedCheck[] }).checks ?? []).filter((c) => c.group === "hosted");
            return { code: o.code, checks, get: (name: string) => checks.find((c) => c.name === name), names: checks.map((c) => c.name) };
        },
    };
}
