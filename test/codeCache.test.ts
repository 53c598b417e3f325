/**
 * scripts/codeCache.js, the V8 code cache for Node versions without `module.enableCompileCache`:
 * modules behave as Node's own loader makes them, a warm run writes nothing, and an edited module
 * never runs its old code, even when the edit keeps its length (V8 checks only the length).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CODE_CACHE = resolve(__dirname, "..", "scripts", "codeCache.js");

let dir: string;
const cacheDir = () => join(dir, "cache");

/** Runs main.js with the cache installed from the first line, as `node -r` would, and returns its stdout. */
function run(): string {
    const preload = join(dir, "preload.js");
    writeFileSync(preload, `require(${JSON.stringify(CODE_CACHE)}).installCodeCache(${JSON.stringify(cacheDir())});\n`);
    return execFileSync(process.execPath, ["-r", preload, join(dir, "main.js")], { cwd: dir, encoding: "utf8" });
}

function storeFiles(): Record<string, number> {
    return Object.fromEntries(readdirSync(cacheDir()).map((f) => [f, statSync(join(cacheDir(), f)).mtimeMs]));
}

beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "toolboxai-code-cache-"));
    mkdirSync(join(dir, "lib"));
    // "import(" in a string or a comment is no dynamic import: this module is still cached.
    writeFileSync(join(dir, "lib", "answer.js"), 'module.exports = () => "answer:A"; // not an import("x")\n');
    writeFileSync(join(dir, "lib", "tool.js"), '#!/usr/bin/env node\nexports.tool = "shebang ok";\n');
    writeFileSync(join(dir, "lib", "esm.mjs"), 'export const esm = "import ok";\n');
    writeFileSync(
        join(dir, "main.js"),
        [
            'const answer = require("./lib/answer")();',
            'const { tool } = require("./lib/tool");',
            'const resolved = require.resolve("./lib/answer") === __dirname + "/lib/answer.js";',
            "const own = module.filename === __filename && require.main === module && require.cache[__filename] === module;",
            'import("./lib/esm.mjs").then(({ esm }) => console.log([answer, tool, resolved, own, esm].join(" ")));',
        ].join("\n"),
    );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("V8 code cache (scripts/codeCache.js)", () => {
    it("loads modules as Node does: require, require.resolve, require.main, a shebang, import()", () => {
        expect(run().trim()).toBe("answer:A shebang ok true true import ok");
        const file = readFileSync(join(cacheDir(), "main.js.cache"));
        const store = JSON.parse(file.toString("utf8", 4, 4 + file.readUInt32LE(0))) as Record<string, [string, number, number]>;
        expect(Object.keys(store).sort()).toEqual([join(dir, "lib", "answer.js"), join(dir, "lib", "tool.js"), join(dir, "main.js")]);
        // main.js calls import(), so Node compiles it (offset -1); the others are served from the blob.
        expect(store[join(dir, "main.js")][1]).toBe(-1);
        expect(store[join(dir, "lib", "answer.js")][2]).toBeGreaterThan(0);
        expect(store[join(dir, "lib", "tool.js")][2]).toBeGreaterThan(0);
    });

    it("serves a warm run from the store without rewriting it", () => {
        const before = storeFiles();
        expect(run().trim()).toBe("answer:A shebang ok true true import ok");
        expect(storeFiles()).toEqual(before);
    });

    it("never runs a module's old code after an edit that keeps its length", () => {
        const file = join(dir, "lib", "answer.js");
        const edited = readFileSync(file, "utf8").replace("answer:A", "answer:B");
        writeFileSync(file, edited);
        expect(run().trim()).toBe("answer:B shebang ok true true import ok");
        // And the new code is what the store holds from now on.
        expect(run().trim()).toBe("answer:B shebang ok true true import ok");
    });

    it("ignores a damaged store and writes a good one", () => {
        const store = join(cacheDir(), "main.js.cache");
        writeFileSync(store, readFileSync(store).subarray(0, 40));
        expect(run().trim()).toBe("answer:B shebang ok true true import ok");
        const file = readFileSync(store);
        expect(Object.keys(JSON.parse(file.toString("utf8", 4, 4 + file.readUInt32LE(0))) as object)).toHaveLength(3);
    });
});
