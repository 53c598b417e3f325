/**
 * The program and the policy pack as the Pulumi engine compiles them, not as our tests do.
 * `npm test` and the plan load TypeScript through sucrase (types stripped, never checked); `pulumi up`
 * compiles through the SDK's language host with ts-node 7.0.1 and type checking, and the policy
 * pack is compiled by the policy-pack host in its own directory, from its own install. These tests
 * replay both registrations (test/support/*-typescript.cjs follow the SDK's cmd/run and
 * cmd/run-policy-pack) so that a program the engine cannot compile fails here.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR, STACKS, TEST_CLOCK } from "./harness";

const run = promisify(execFile);
const support = (file: string) => join(PROJECT_DIR, "test", "support", file);

describe("the program under the language host's ts-node", () => {
    it.each(STACKS)(
        "compiles with type checking and plans %s exactly as the committed snapshot",
        async (stack) => {
            const { stdout, stderr } = await run(
                process.execPath,
                [support("engine-typescript.cjs"), PROJECT_DIR, "--stack", stack, "--json"],
                {
                    cwd: PROJECT_DIR,
                    env: { ...process.env, TOOLBOXAI_NOW: TEST_CLOCK },
                    maxBuffer: 64 * 1024 * 1024,
                },
            );
            // The SDK chose the project's TypeScript and its vendored ts-node, with type checking on.
            expect(stderr).toMatch(/ts-node 7\.0\.1, typescript 6\.\d+\.\d+, type check on/);
            const committed = readFileSync(join(PROJECT_DIR, "plans", `${stack}.plan.json`), "utf8");
            expect(stdout).toBe(committed);
        },
        120_000,
    );
});

describe("the policy pack under the policy-pack host", () => {
    it("installs from its lock file and compiles with type checking in its own directory", async () => {
        const policyDir = join(PROJECT_DIR, "policy");
        // Exactly the workflows' install step: the lock file must be complete and in step with package.json.
        await run("npm", ["ci", "--prefix", "policy", "--no-audit", "--no-fund", "--prefer-offline"], {
            cwd: PROJECT_DIR,
            timeout: 180_000,
        });
        const { stdout, stderr } = await run(process.execPath, [support("policy-typescript.cjs"), policyDir], { cwd: PROJECT_DIR });
        // The pack's own SDK (not the program's) decides how it is compiled.
        expect(stderr).toMatch(/SDK 3\.\d+\.\d+ from node_modules\/@pulumi\/pulumi, ts-node 7\.0\.1/);
        const names = JSON.parse(stdout) as string[];
        expect(names).toContain("containers-hardened");
        expect(names.length).toBeGreaterThanOrEqual(6);
    }, 240_000);
});
