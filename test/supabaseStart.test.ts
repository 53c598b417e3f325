/**
 * Local `supabase start` (the pinned CLI) runs with the JWT secret the program generates for dev,
 * so that the anon and service_role keys in Vault are accepted by the local API.
 *
 * No Docker here: the CLI drives the container runtime through the `docker` command, so a
 * stand-in `docker` first on PATH records what the CLI gives the database container and stops
 * the start at the first `docker create`. DOCKER_HOST points nowhere, HOME is a temporary folder
 * and telemetry is off, so a real Docker, Supabase project or home folder is never touched.
 */
import { execFile } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SecretValue } from "../lib/offline/values";
import { evaluateStack, PROJECT_DIR, TEST_CLOCK } from "./harness";

const run = promisify(execFile);
const CLI = join(PROJECT_DIR, "node_modules", ".bin", "supabase");
const VARIABLE = "SUPABASE_AUTH_JWT_SECRET";

/** Logs each call and the JWT_SECRET it was given; answers just enough for the CLI to reach `docker create`. */
const FAKE_DOCKER = `#!/bin/sh
{ printf 'CALL'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n'; [ -n "\${JWT_SECRET-}" ] && printf 'JWT_SECRET=%s\\n' "$JWT_SECRET"; } >> "$FAKE_DOCKER_LOG"
case "$1 $2" in
  "container inspect") echo "Error response from daemon: No such container: $3" >&2; exit 1;;
  "image inspect") echo '[{}]'; exit 0;;
esac
case "$1" in
  create) echo "stand-in docker: stops here" >&2; exit 1;;
esac
exit 0
`;

let dir: string;
let devJwt: { secret: string; anonKey: string };
beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "toolboxai-supabase-start-"));
    cpSync(join(PROJECT_DIR, "supabase"), join(dir, "project", "supabase"), { recursive: true });
    writeFileSync(join(dir, "docker"), FAKE_DOCKER);
    chmodSync(join(dir, "docker"), 0o755);
    const ev = await evaluateStack("dev");
    const kv = ev.resources.find((r) => r.type === "vault:kv/secretV2:SecretV2" && r.inputs.name === "toolboxai-dev/supabase");
    const data = JSON.parse((kv!.inputs.dataJson as SecretValue).value as string);
    devJwt = { secret: data.jwt_secret, anonKey: data.anon_key };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `supabase start` against the stand-in; returns the JWT secret the database container got. */
async function start(variable: string | undefined): Promise<{ jwtSecret: string | undefined; calls: string }> {
    const log = join(dir, `calls-${Date.now()}.log`);
    const env: NodeJS.ProcessEnv = {
        PATH: `${dir}:${process.env.PATH}`,
        HOME: dir,
        DOCKER_HOST: `unix://${join(dir, "no-docker.sock")}`,
        SUPABASE_TELEMETRY_DISABLED: "1",
        DO_NOT_TRACK: "1",
        FAKE_DOCKER_LOG: log,
        ...(variable === undefined ? {} : { [VARIABLE]: variable }),
    };
    // It fails at the stand-in's `docker create`, by design.
    await run(CLI, ["start", "--workdir", join(dir, "project")], { env, timeout: 60_000 }).catch(() => undefined);
    const calls = existsSync(log) ? readFileSync(log, "utf8") : "";
    const create = calls.split("\nCALL ").find((c) => c.startsWith("create ") && c.includes(" JWT_SECRET "));
    return { jwtSecret: create?.match(/^JWT_SECRET=(.*)$/m)?.[1], calls };
}

describe("supabase start with the generated JWT secret", () => {
    it(`reads [auth] jwt_secret from ${VARIABLE}`, () => {
        const auth = readFileSync(join(PROJECT_DIR, "supabase", "config.toml"), "utf8")
            .split(/^\[auth\]$/m)[1]
            .split(/^\[/m)[0];
        expect(auth).toMatch(new RegExp(`^jwt_secret = "env\\(${VARIABLE}\\)"$`, "m"));
    });

    it("gives the database container the generated secret, with which the dev anon key verifies", async () => {
        const { jwtSecret, calls } = await start(devJwt.secret);
        expect(calls, "the CLI never reached docker create").toMatch(/^CALL create --name supabase_db_toolboxai /m);
        expect(jwtSecret === devJwt.secret, "the container's JWT_SECRET is the generated one").toBe(true);
        const { payload } = await jwtVerify(devJwt.anonKey, new TextEncoder().encode(jwtSecret), { currentDate: new Date(TEST_CLOCK) });
        expect(payload.role).toBe("anon");
    });

    it(`without ${VARIABLE}, runs with the literal text instead (why the documented start command checks it is set)`, async () => {
        const { jwtSecret } = await start(undefined);
        expect(jwtSecret).toBe(`env(${VARIABLE})`);
    });

    it("documents the start command with the variable and the dev stack's Vault path", async () => {
        const doc = readFileSync(join(PROJECT_DIR, "docs", "local-development.md"), "utf8");
        const ev = await evaluateStack("dev");
        const supabasePath = (ev.outputs.vault as { supabasePath: string }).supabasePath;
        expect(doc).toContain(`${VARIABLE}="$(vault kv get -field=jwt_secret ${supabasePath})"`);
        expect(doc).toContain("npx supabase start");
    });
});
