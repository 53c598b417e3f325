/** ESLint, as `npm test` runs it, skips what the project generates: `npm run build:backup-job && npm test` must pass. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { PROJECT_DIR } from "./harness";

describe("lint ignores", () => {
    it("cover every generated directory .gitignore names (dist/ holds the backup job bundle)", async () => {
        const eslint = new ESLint({ cwd: PROJECT_DIR });
        const generated = readFileSync(join(PROJECT_DIR, ".gitignore"), "utf8")
            .split("\n")
            .filter((line) => line.endsWith("/"));
        expect(generated).toContain("dist/");
        const linted: string[] = [];
        for (const dir of generated) if (!(await eslint.isPathIgnored(join(PROJECT_DIR, dir, "backup-job.js")))) linted.push(dir);
        expect(linted).toEqual([]);
    });

    it("still lint the sources", async () => {
        const eslint = new ESLint({ cwd: PROJECT_DIR });
        expect(await eslint.isPathIgnored(join(PROJECT_DIR, "backup-job", "main.ts"))).toBe(false);
    });
});
