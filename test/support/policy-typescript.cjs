// Replays how `pulumi preview --policy-pack policy` compiles the policy pack: the SDK's policy-pack
// host (@pulumi/pulumi/cmd/run-policy-pack/run.js) runs in the pack's directory, picks typescript
// and ts-node with the SDK's tsutils (from the pack's own installed SDK), and registers ts-node with
// type checking. It then compiles the pack's entry point without running it (running it would
// start the pack's gRPC server) and loads its policies.
// Usage: node test/support/policy-typescript.cjs <policy pack dir>
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const packDir = path.resolve(process.argv[2]);
process.chdir(packDir);
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [packDir] }));
const tsutils = require(path.join(sdkDir, "tsutils.js"));
const semver = require(require.resolve("semver", { paths: [sdkDir] }));

const tsConfigPath = "tsconfig.json";
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerPath = require.resolve(typescriptRequire, { paths: [sdkDir] });
const ts = require(compilerPath);
const useNodeNext = semver.parse(ts.version).compare(new semver.SemVer("4.7.0")) >= 0;
const tsn = require(tsnodeRequire);
process.stderr.write(
    `policy-typescript: SDK ${require(path.join(sdkDir, "package.json")).version} from ${path.relative(packDir, sdkDir)}, ts-node ${tsn.VERSION}, typescript ${ts.version} from ${path.relative(packDir, compilerPath)}\n`,
);
const service = tsn.register({
    typeCheck: true,
    skipProject: !fs.existsSync(tsConfigPath),
    compiler: compilerPath,
    compilerOptions: {
        target: "ES2020",
        module: useNodeNext ? "nodenext" : "commonjs",
        moduleResolution: useNodeNext ? "nodenext" : "node",
        sourceMap: "true",
        ...tsutils.loadTypeScriptCompilerOptions(tsConfigPath),
    },
});
const main = JSON.parse(fs.readFileSync("package.json", "utf8")).main ?? "index.js";
const entry = path.join(packDir, main);
service.compile(fs.readFileSync(entry, "utf8"), entry);
const { POLICIES } = require(path.join(packDir, "policies.ts"));
process.stdout.write(`${JSON.stringify(POLICIES.map((p) => p.name))}\n`);
