// V8's code cache for CommonJS modules on Node versions without `module.enableCompileCache`
// (Node 20; Node 22+ has it built in and register.js uses that instead).
//
// Why not the v8-compile-cache package: it asks V8 to serialize every module on every run and
// rewrites its whole blob at every exit (about 60 ms per plan, more than the cache saves on a
// warm run). Here a module is serialized only when it had no usable entry, after the run (so the
// functions it compiled lazily are in the entry too), and the store is written only then.
//
// One store per entry script, `<dir>/<script>.cache`: the length of a JSON map
// ({ filename: [content hash, offset, length] }), the map, then the entries back to back. Entries
// are checked against a hash of the module's source, since V8 itself checks only the source's
// length. A store is replaced by rename, so concurrent runs never read a torn one; the last
// writer wins.
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");
// Loaded before the hook is installed: the lexer's own source mentions import.
const lexer = require("es-module-lexer");

const NODE_COMPILES = -1;

/** A shebang is only valid at the very start of a script, which the module wrapper no longer is. */
const withoutShebang = (content) => (content.startsWith("#!") ? `//${content.slice(2)}` : content);

/** Code built at run time (`new Function`, `eval`), where an import() hides in a string. */
const BUILDS_CODE = /(^|[^.\w$])(Function|eval)\s*\(/;

/**
 * Whether a module may call import(): es-module-lexer finds it in the code (not in strings or
 * comments); a module that builds code at run time and mentions import( anywhere counts too, as
 * does one that fails to lex.
 */
function callsImport(content) {
    if (!content.includes("import")) return false;
    if (content.includes("import(") && BUILDS_CODE.test(content)) return true;
    try {
        return lexer.parse(withoutShebang(content))[0].length > 0;
    } catch {
        return true;
    }
}

function storeName() {
    const entry = process.argv[1] ? path.relative(process.cwd(), process.argv[1]) : "eval";
    return entry.replace(/[^A-Za-z0-9._-]/g, "_") || "eval";
}

function readStore(file) {
    try {
        const data = fs.readFileSync(file);
        const mapLength = data.readUInt32LE(0);
        const map = JSON.parse(data.toString("utf8", 4, 4 + mapLength));
        if (map === null || typeof map !== "object" || Array.isArray(map)) throw new Error("not a store");
        return { map, blob: data.subarray(4 + mapLength) };
    } catch {
        return { map: {}, blob: Buffer.alloc(0) };
    }
}

function writeStore(file, entries) {
    const map = {};
    const buffers = [];
    let offset = 0;
    for (const [filename, [hash, data]] of entries) {
        if (data === null) {
            map[filename] = [hash, NODE_COMPILES, 0];
            continue;
        }
        map[filename] = [hash, offset, data.length];
        buffers.push(data);
        offset += data.length;
    }
    const header = Buffer.from(JSON.stringify(map));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const temporary = `${file}.${process.pid}.tmp`;
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(temporary, Buffer.concat([length, header, ...buffers]));
        // One file, replaced in one step: a reader sees the old store or the new one, never a mix.
        fs.renameSync(temporary, file);
    } catch {
        // A read-only checkout still runs, just without the cache.
        fs.rmSync(temporary, { force: true });
    }
}

function makeRequire(mod) {
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
}

/** Installs the cache for every CommonJS module compiled from now on, stored under `dir`. */
function installCodeCache(dir) {
    const file = path.join(dir, `${storeName()}.cache`);
    const stored = readStore(file);
    /** filename -> [hash, cached data, the Script to serialize at exit, or null: Node compiles it] */
    const entries = new Map();
    let dirty = false;
    const nodeCompile = Module.prototype._compile;

    Module.prototype._compile = function (content, filename, format) {
        // Node compiles the ES modules that CommonJS requires (require(esm)) itself, and keeps
        // the source maps of modules it compiles (--enable-source-maps): those are left to it.
        if (format === "module" || (process.sourceMapsEnabled && content.includes("sourceMappingURL=")))
            return nodeCompile.call(this, content, filename, format);
        const hash = createHash("sha1").update(content).digest("base64");
        const known = stored.map[filename];
        const fresh = Array.isArray(known) && known[0] === hash;
        const nodeCompiles = () => {
            entries.set(filename, [hash, null]);
            if (!fresh) dirty = true;
            return nodeCompile.call(this, content, filename, format);
        };
        // So does a module that calls import(): on Node 20 a vm.Script can give import() Node's
        // loader only behind an experimental flag, and loses it when run from cached data.
        // Whether a module does is read once per content and kept in the store (offset -1).
        if (fresh ? known[1] === NODE_COMPILES : callsImport(content)) return nodeCompiles();
        const cachedData = fresh ? stored.blob.subarray(known[1], known[1] + known[2]) : undefined;
        let script;
        try {
            // The wrapper's header on a line of its own, moved to line 0: errors name the module's
            // own lines and columns, as Node's compiler does.
            script = new vm.Script(Module.wrap(`\n${withoutShebang(content)}\n`), { filename, lineOffset: -1, cachedData });
        } catch (err) {
            // ES module syntax in a .js file of no declared type: Node 20.19+ detects it and loads
            // it as an ES module. Node also reports a real syntax error in its own words.
            if (err instanceof SyntaxError) return nodeCompiles();
            throw err;
        }
        if (cachedData && !script.cachedDataRejected) {
            entries.set(filename, [hash, cachedData]);
        } else {
            entries.set(filename, [hash, script]);
            dirty = true;
        }
        const compiled = script.runInThisContext({ displayErrors: true });
        return compiled.call(this.exports, this.exports, makeRequire(this), this, filename, path.dirname(filename));
    };

    process.once("exit", () => {
        if (!dirty) return;
        // Entries of modules this run did not load stay, for runs that do load them, while their
        // files exist.
        for (const [filename, entry] of Object.entries(stored.map)) {
            if (!Array.isArray(entry) || entries.has(filename) || !fs.existsSync(filename)) continue;
            const [hash, offset, length] = entry;
            entries.set(filename, [hash, offset === NODE_COMPILES ? null : stored.blob.subarray(offset, offset + length)]);
        }
        const serialized = [...entries].map(([filename, [hash, data]]) => [
            filename,
            [hash, data instanceof vm.Script ? data.createCachedData() : data],
        ]);
        writeStore(file, serialized);
    });
}

module.exports = { installCodeCache };
