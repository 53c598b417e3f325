/** The project's own files agree with the config schema, with each other, and with the docs. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { KNOWN_KEYS, SECRET_KEYS, SETTING_DOCS } from "../lib/config";
import { renderConfigurationDoc } from "../lib/config/docs";
import { readStackFiles } from "../lib/offline/stackFiles";
import { evaluateStack, PROJECT_DIR, STACK_ENVIRONMENT, STACKS } from "./harness";

const read = (path: string) => readFileSync(join(PROJECT_DIR, path), "utf8");
const project = load(read("Pulumi.yaml")) as {
    name: string;
    runtime: { name: string };
    config: Record<string, { type: string; description: string; default?: unknown; secret?: boolean }>;
};

describe("Pulumi.yaml", () => {
    it("is a nodejs project named toolboxai", () => {
        expect(project.name).toBe("toolboxai");
        expect(project.runtime.name).toBe("nodejs");
    });

    it("declares every setting the schema has, with the same type, description and default", () => {
        for (const doc of SETTING_DOCS) {
            const declared = project.config[doc.key];
            if (doc.undeclared) {
                expect(declared, `${doc.key} must not be declared: it would be required in every stack`).toBeUndefined();
                continue;
            }
            expect(declared, doc.key).toBeDefined();
            expect(declared.type).toBe(doc.type);
            expect(declared.description).toBe(doc.description);
            expect(declared.default).toEqual(doc.staticDefault);
            expect(declared.secret ?? false).toBe(doc.secret ?? false);
        }
        for (const key of Object.keys(project.config)) expect(KNOWN_KEYS.has(key), `${key} is declared but not read`).toBe(true);
    });
});

describe("docs/configuration.md", () => {
    it("is the settings table, rendered (update with `npx vitest run test/project.test.ts -u`)", async () => {
        await expect(renderConfigurationDoc()).toMatchFileSnapshot("../docs/configuration.md");
    });
});

describe.each(STACKS)("Pulumi.%s.yaml", (stack) => {
    const files = readStackFiles(PROJECT_DIR, stack);
    const keys = Object.keys(files.values).map((k) => k.replace(/^toolboxai:/, ""));

    it("sets every declared setting that has no default (the CLI requires them)", () => {
        const required = Object.entries(project.config)
            .filter(([, d]) => d.default === undefined && !d.secret)
            .map(([k]) => k);
        expect(required.filter((k) => !keys.includes(k))).toEqual([]);
    });

    it("holds only known settings, and no secret in plain text", () => {
        expect(keys.filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
        expect(keys.filter((k) => (SECRET_KEYS as readonly string[]).includes(k))).toEqual([]);
    });

    it("holds the guide's per-environment values", () => {
        const v = (k: string) => files.values[`toolboxai:${k}`];
        expect(v("environment")).toBe(STACK_ENVIRONMENT[stack]);
        expect(v("databasePoolSize")).toBe("20");
        expect(v("backupRetentionDays")).toBe(stack === "prod" ? "30" : "7");
        expect(v("databaseSslMode")).toBe(stack === "prod" ? "require" : "disable");
        expect(v("poolerEnabled")).toBe(stack === "prod" ? "true" : "false");
    });
});

describe("stacks sharing one Vault", () => {
    it("never write under each other's path prefix", () => {
        const prefixes = readdirSync(PROJECT_DIR)
            .filter((f) => /^Pulumi\.(dev|prod)\.yaml$/.test(f))
            .map((f) => {
                const stack = f.split(".")[1];
                const files = readStackFiles(PROJECT_DIR, stack);
                return `${files.values["toolboxai:vaultMount"] ?? "secret"}/${files.values["toolboxai:vaultPathPrefix"] ?? "toolboxai"}/`;
            });
        expect(prefixes).toHaveLength(2);
        const [a, b] = prefixes;
        expect(a.startsWith(b) || b.startsWith(a)).toBe(false);
    });
});

describe("package.json", () => {
    const pkg = JSON.parse(read("package.json"));
    const installed = (name: string) => JSON.parse(read(`node_modules/${name}/package.json`));

    it("depends on @pulumi/command 1.x (4.5.0 on the registry is a deprecated mis-publish)", () => {
        expect(pkg.dependencies["@pulumi/command"]).toMatch(/^\^?1\./);
        expect(installed("@pulumi/command").version).toMatch(/^1\./);
    });

    it("uses a TypeScript inside the range the Pulumi runtime accepts", () => {
        const range = installed("@pulumi/pulumi").peerDependencies.typescript;
        expect(satisfies(installed("typescript").version, range)).toBe(true);
    });

    it("stays CommonJS", () => {
        expect(pkg.type).toBe("commonjs");
    });
});

describe("imports", () => {
    it("load provider submodules only, never a provider package's index (start-up cost)", () => {
        const sources = ["index.ts", ...readdirSync(join(PROJECT_DIR, "components")).map((f) => `components/${f}`)];
        const bare = sources.flatMap((f) =>
            [...read(f).matchAll(/from "(@pulumi\/(?:aws|docker|vault|random|command|tls))"/g)].map((m) => `${f}: ${m[1]}`),
        );
        expect(bare).toEqual([]);
    });
});

/** Rows of the first Markdown table in a doc: the first cell's `code` name of each row. */
const tableKeys = (doc: string) => [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);

describe("docs/configuration.md", () => {
    const doc = read("docs/configuration.md");

    it("documents every setting in the configuration table", () => {
        for (const d of SETTING_DOCS) expect(doc, d.key).toContain(`| \`${d.key}\` | ${d.type}`);
    });

    it("documents no setting the program does not read", () => {
        expect(tableKeys(doc).filter((key) => !KNOWN_KEYS.has(key))).toEqual([]);
    });
});

describe("docs/outputs.md", () => {
    const doc = read("docs/outputs.md");

    it("documents every stack output, and none that no stack exports", async () => {
        const exported = new Set<string>();
        for (const stack of STACKS) for (const key of Object.keys((await evaluateStack(stack)).outputs)) exported.add(key);
        for (const key of exported) expect(doc, key).toContain(`| \`${key}\` |`);
        expect(tableKeys(doc).filter((key) => !exported.has(key))).toEqual([]);
    });
});

describe("README", () => {
    const readme = read("README.md");

    it("stays an entrance: at most about 150 lines, with the on-call pointer at the top", () => {
        expect(readme.split("\n").length).toBeLessThanOrEqual(160);
        expect(readme.split("\n").slice(0, 8).join("\n")).toContain("docs/operations/troubleshooting.md");
    });

    it("gives the two set-up commands, and CI runs the README's test command, which installs the test tools first", () => {
        expect(readme).toContain("npm ci && npm run plan -- --stack dev");
        expect(readme).toMatch(/^npm run test:all\b/m);
        expect(read(".ci/run")).toMatch(/^npm run test:all$/m);
        // The multi-node Swarm tests run in CI as a step of their own (too long for `npm test`).
        expect(read(".ci/run")).toMatch(/^npm run test:all$[^]*^npm run test:swarm$/m);
        expect(JSON.parse(read("package.json")).scripts["test:all"]).toBe("bash scripts/install-test-tools.sh && npm test");
    });
});
