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

/** Runs a script (main.js) with the cache installed from the first line, as `node -r` would, and returns its stdout. */
function run(script = "main.js"): string {
    const preload = join(dir, "preload.js");
    writeFileSync(preload, `require(${JSON.stringify(CODE_CACHE)}).installCodeCache(${JSON.stringify(cacheDir())});\n`);
    return execFileSync(process.execPath, ["-r", preload, join(dir, script)], { cwd: dir, encoding: "utf8" });
}

/** The same script under Node's own loader. */
const runPlain = (script: string): string => execFileSync(process.execPath, [join(dir, script)], { cwd: dir, encoding: "utf8" });

function storeFiles(): Record<string, number> {
    return Object.fromEntries(readdirSync(cacheDir()).map((f) => [f, statSync(join(cacheDir(), f)).mtimeMs]));
}

/** The map of a store file (its layout: the map's length, the map, then the entries). */
function storeMap(name: string): Record<string, [string, number, number]> {
    const file = readFileSync(join(cacheDir(), name));
    return JSON.parse(file.toString("utf8", 4, 4 + file.readUInt32LE(0))) as Record<string, [string, number, number]>;
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

describe("V8 code cache: the same results as Node's own loader, cold and warm", () => {
    beforeAll(() => {
        mkdirSync(join(dir, "edge"));
        // ES module syntax in a .js file of no declared type (Node detects it); a CommonJS module
        // requiring an .mjs one; import() in code built at run time; an error's line and column.
        writeFileSync(join(dir, "edge", "detected.js"), "export const detected = 'esm detected';\n");
        writeFileSync(join(dir, "edge", "module.mjs"), "export const mjs = 'mjs required';\n");
        writeFileSync(join(dir, "edge", "built.js"), 'module.exports = new Function("s", "return import(s)");\n');
        // Thrown on line 1, where a wrapper on the same line would shift the column.
        writeFileSync(join(dir, "edge", "thrower.js"), 'module.exports = () => [1].map(() => { throw new Error("boom"); });\n');
        writeFileSync(
            join(dir, "edge.js"),
            [
                'const { detected } = require("./edge/detected.js");',
                'const { mjs } = require("./edge/module.mjs");',
                "let where = '';",
                'try { require("./edge/thrower.js")(); } catch (e) { where = e.stack.split("\\n")[1].replace(__dirname, "").trim(); }',
                'require("./edge/built.js")(__dirname + "/edge/module.mjs").then(',
                "    (m) => console.log([detected, mjs, m.mjs + ' by built import()', where].join(' | ')),",
                "    (e) => console.log([detected, mjs, 'built import() failed: ' + e.code, where].join(' | ')),",
                ");",
            ].join("\n"),
        );
    });

    it("runs edge.js as plain Node does", () => {
        const plain = runPlain("edge.js").trim();
        expect(plain).toBe("esm detected | mjs required | mjs required by built import() | at /edge/thrower.js:1:46");
        expect(run("edge.js").trim()).toBe(plain); // cold: entries made
        expect(run("edge.js").trim()).toBe(plain); // warm: served from the store
    });

    it("ignores a store that is not a map, or entries that are not entries", () => {
        const file = join(cacheDir(), "edge.js.cache");
        for (const map of ["null", JSON.stringify({ [join(dir, "edge.js")]: 5, [join(dir, "lib", "answer.js")]: 7 })]) {
            const header = Buffer.from(map);
            const length = Buffer.alloc(4);
            length.writeUInt32LE(header.length);
            writeFileSync(file, Buffer.concat([length, header]));
            expect(run("edge.js").trim()).toBe(runPlain("edge.js").trim());
        }
    });
});

describe("V8 code cache (scripts/codeCache.js)", () => {
    it("loads modules as Node does: require, require.resolve, require.main, a shebang, import()", () => {
        expect(run().trim()).toBe("answer:A shebang ok true true import ok");
        const store = storeMap("main.js.cache");
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
        expect(Object.keys(storeMap("main.js.cache"))).toHaveLength(3);
    });
});
