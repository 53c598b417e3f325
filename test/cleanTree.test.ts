import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dirtyPaths, leftBehind } from "./support/cleanTree";

describe("the suite's clean-tree guard", () => {
    it("lists what a run left in a checkout, not what was dirty before it", () => {
        const repo = mkdtempSync(join(tmpdir(), "toolboxai-clean-tree-"));
        try {
            execFileSync("git", ["init", "-q", repo]);
            writeFileSync(join(repo, "edited-before.txt"), "a developer's work in progress\n");
            const before = dirtyPaths(repo)!;
            writeFileSync(join(repo, "report.md"), "left by a test\n");
            expect(leftBehind(before, dirtyPaths(repo)!)).toEqual(["?? report.md"]);
            expect(leftBehind(before, dirtyPaths(repo)!)).not.toContain("?? edited-before.txt");
        } finally {
            rmSync(repo, { recursive: true, force: true });
        }
    });

    it("is undefined outside a checkout, so the guard stays quiet there", () => {
        const dir = mkdtempSync(join(tmpdir(), "toolboxai-no-git-"));
        try {
            expect(dirtyPaths(dir)).toBeUndefined();
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
