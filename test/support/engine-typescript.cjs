// Replays how `pulumi up` compiles this program: the Pulumi SDK's language host
// (@pulumi/pulumi/cmd/run/run.js, non-ESM branch) registers ts-node, chosen by the SDK's own
// tsutils (the project's typescript, else the vendored 3.8.3; the vendored ts-node 7.0.1), with
// type checking unless tsconfig says noCheck. The same registration then loads the offline plan,
// so the program is compiled exactly as the engine would compile it, type errors included.
// Usage: node test/support/engine-typescript.cjs <project dir> <plan.ts arguments...>
// (ENGINE_TYPESCRIPT_MAIN=test/support/serialize-providers.ts: the dynamic providers, serialized.)
"use strict";
const path = require("node:path");

const projectDir = path.resolve(process.argv[2]);
process.chdir(projectDir);
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [projectDir] }));
const tsutils = require(path.join(sdkDir, "tsutils.js"));
const semver = require(require.resolve("semver", { paths: [sdkDir] }));

// run.js: tsConfigPath defaults to "tsconfig.json" in the working directory.
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const transpileOnly = process.env.PULUMI_NODEJS_TRANSPILE_ONLY
    ? process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true"
    : compilerOptions.noCheck;
// tsutils resolves "typescript" from the SDK's own location, as the language host does.
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const ts = require(require.resolve(typescriptRequire, { paths: [sdkDir] }));
const useNodeNext = semver.parse(ts.version).compare(new semver.SemVer("4.7.0")) >= 0;
process.stderr.write(
    `engine-typescript: ts-node ${require(tsnodeRequire).VERSION}, typescript ${ts.version}, type check ${transpileOnly ? "off" : "on"}\n`,
);
require(tsnodeRequire).register({
    compiler: require.resolve(typescriptRequire, { paths: [sdkDir] }),
    transpileOnly,
    project: tsConfigPath,
    skipProject: !require("node:fs").existsSync(tsConfigPath),
    compilerOptions: {
        target: "ES2020",
        module: useNodeNext ? "nodenext" : "commonjs",
        moduleResolution: useNodeNext ? "nodenext" : "node",
        sourceMap: "true",
        ...compilerOptions,
    },
});
// ENGINE_TYPESCRIPT_MAIN runs another file under the same registration (a path in the project).
const main = path.join(projectDir, process.env.ENGINE_TYPESCRIPT_MAIN ?? path.join("scripts", "plan.ts"));
process.argv = [process.argv[0], main, ...process.argv.slice(3)];
require(main);
