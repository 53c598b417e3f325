#!/usr/bin/env node
// The `toolboxai-ops` bin: loads the TypeScript sources through the project's loader, then the CLI.
"use strict";

/** After the result is printed, how long anything still open may keep the process alive. */
const EXIT_GUARD_MS = 2000;

/**
 * Prints the outcome, sets the exit code, and lets the process end by itself. The commands close
 * what they open (the tests run them with the guard off and fail on a hang); the guard is the
 * safety net for an operator at a terminal: if something still holds the event loop, it names it
 * on stderr and exits with the command's code. TOOLBOXAI_OPS_EXIT_GUARD=off disables it.
 */
function finish(outcome, env = process.env) {
    const write = (stream, text) => new Promise((resolve) => (text ? stream.write(text, () => resolve()) : resolve()));
    return outcome
        .then(
            (o) => o,
            (err) => ({ code: 1, stdout: "", stderr: `ops: ${err && err.message}\n` }),
        )
        .then(async (o) => {
            process.exitCode = o.code;
            await write(process.stdout, o.stdout);
            await write(process.stderr, o.stderr);
            if (env.TOOLBOXAI_OPS_EXIT_GUARD === "off") return;
            setTimeout(() => {
                const open = process.getActiveResourcesInfo();
                require("node:fs").writeSync(
                    2,
                    `ops: still open ${EXIT_GUARD_MS / 1000} s after the result (${open.join(", ")}): exiting\n`,
                );
                process.exit(o.code);
            }, EXIT_GUARD_MS).unref();
        });
}

module.exports = { finish, EXIT_GUARD_MS };

if (require.main === module) {
    require("../scripts/register.js");
    const { main } = require("./cli.ts");
    void finish(main(process.argv.slice(2)));
}
