/**
 * The offline plan: `npm run plan -- --stack dev [--json]`.
 * Evaluates the program under Pulumi's mocks and prints the desired resources and outputs.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../lib/config";
import { evaluateProgram } from "../lib/offline/evaluate";
import { toPlanJson, toPlanText } from "../lib/offline/render";
import { listStacks } from "../lib/offline/stackFiles";

const projectDir = resolve(__dirname, "..");
const usage = `usage: npm run plan -- --stack <${listStacks(projectDir).join("|")}> [--json] [--at <ISO 8601 time>]`;

async function main(): Promise<number> {
    let values: { stack?: string; json?: boolean; help?: boolean; at?: string };
    try {
        ({ values } = parseArgs({
            options: { stack: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" }, at: { type: "string" } },
        }));
    } catch (err) {
        process.stderr.write(`${(err as Error).message}\n${usage}\n`);
        return 2;
    }
    if (values.help) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    if (!values.stack) {
        process.stderr.write(`--stack is required\n${usage}\n`);
        return 2;
    }
    // The rotation clock: plans "as of" another time show which secrets a later `pulumi up` rotates.
    if (values.at !== undefined) process.env.TOOLBOXAI_NOW = values.at;
    // The SDK captures a stack trace for every promise it makes (leak-debugging bookkeeping that
    // the plan never reads): with traces off while the program runs, the plan costs a third less.
    // TOOLBOXAI_PLAN_STACKS=1 keeps them, to debug a crashing plan.
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.TOOLBOXAI_PLAN_STACKS) Error.stackTraceLimit = 0;
    try {
        const evaluation = await evaluateProgram({
            projectDir,
            stack: values.stack,
            // The program must load after setMocks (pitfall: resources created before it hang).
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            load: () => require(resolve(projectDir, "index.ts")),
        });
        Error.stackTraceLimit = stackTraceLimit;
        process.stdout.write(values.json ? `${JSON.stringify(toPlanJson(evaluation), null, 2)}\n` : toPlanText(evaluation));
        return 0;
    } catch (err) {
        const message = err instanceof ConfigError ? err.message : `plan failed: ${err instanceof Error ? err.message : String(err)}`;
        process.stderr.write(`${message}\n`);
        return 1;
    }
}

main().then((code) => process.exit(code));
