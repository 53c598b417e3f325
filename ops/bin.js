#!/usr/bin/env node
// The `toolboxai-ops` bin: loads the TypeScript sources through the project's loader, then the CLI.
"use strict";
require("../scripts/register.js");
const { main } = require("./cli.ts");
main(process.argv.slice(2)).then(
    (o) => {
        process.stdout.write(o.stdout);
        process.stderr.write(o.stderr);
        process.exitCode = o.code;
    },
    (err) => {
        process.stderr.write(`ops: ${err && err.message}\n`);
        process.exitCode = 1;
    },
);
