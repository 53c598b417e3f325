// Loads the program's TypeScript for the offline plan and the benchmark: sucrase transpiles
// (types are checked by `npm test`, not here), and each transpiled file is cached by a hash of
// its content, so repeated plans skip both sucrase's load and its transform.
// TOOLBOXAI_TS_CACHE=<dir> moves the cache; TOOLBOXAI_TS_CACHE=off disables it.
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { addHook } = require("pirates");

// V8's code cache for every module the plan loads (the SDK and providers included): Node 22+ has
// it built in; on older Node, scripts/codeCache.js does the same. Same location and switch as below.
const codeCacheSetting = process.env.TOOLBOXAI_TS_CACHE;
if (codeCacheSetting !== "off") {
    const codeCacheDir = path.join(codeCacheSetting || path.join(__dirname, "..", "node_modules", ".cache", "toolboxai-ts"), "v8");
    const nodeModule = require("node:module");
    if (typeof nodeModule.enableCompileCache === "function") nodeModule.enableCompileCache(codeCacheDir);
    else require("./codeCache").installCodeCache(codeCacheDir);
}

const setting = process.env.TOOLBOXAI_TS_CACHE;
const cacheDir = setting === "off" ? undefined : setting || path.join(__dirname, "..", "node_modules", ".cache", "toolboxai-ts");
const sucraseVersion = require("sucrase/package.json").version;

function transpile(code, filePath) {
    // Loaded on a cache miss only.
    const { transform } = require("sucrase");
    return transform(code, { transforms: ["typescript", "imports"], filePath }).code;
}

function compile(code, filePath) {
    if (!cacheDir) return transpile(code, filePath);
    const key = createHash("sha256").update(`${sucraseVersion}\0${filePath}\0`).update(code).digest("hex");
    const cached = path.join(cacheDir, `${key}.js`);
    try {
        return fs.readFileSync(cached, "utf8");
    } catch {
        // Not cached yet.
    }
    const output = transpile(code, filePath);
    try {
        fs.mkdirSync(cacheDir, { recursive: true });
        const temporary = `${cached}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, output);
        fs.renameSync(temporary, cached);
    } catch {
        // A read-only checkout still plans, just without the cache.
    }
    return output;
}

addHook(compile, { exts: [".ts"], ignoreNodeModules: true });
