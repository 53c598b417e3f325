/** The project's own files agree with the config schema, with each other, and with the README. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { KNOWN_KEYS, SECRET_KEYS, SETTING_DOCS } from "../lib/config";
import { readStackFiles } from "../lib/offline/stackFiles";
import { evaluateStack, PROJECT_DIR, STACKS } from "./harness";

const read = (path: string) => readFileSync(join(PROJECT_DIR, path), "utf8");
const project = load(read("Pulumi.yaml")) as { name: string; runtime: { name: string }; config: Record<string, { type: string; description: string; default?: unknown; secret?: boolean }> };

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

describe.each(STACKS)("Pulumi.%s.yaml", (stack) => {
    const files = readStackFiles(PROJECT_DIR, stack);
    const keys = Object.keys(files.values).map((k) => k.replace(/^toolboxai:/, ""));

    it("sets every declared setting that has no default (the CLI requires them)", () => {
        const required = Object.entries(project.config).filter(([, d]) => d.default === undefined && !d.secret).map(([k]) => k);
        expect(required.filter((k) => !keys.includes(k))).toEqual([]);
    });

    it("holds only known settings, and no secret in plain text", () => {
        expect(keys.filter((k) => !KNOWN_KEYS.has(k))).toEqual([]);
        expect(keys.filter((k) => (SECRET_KEYS as readonly string[]).includes(k))).toEqual([]);
    });

    it("holds the guide's per-environment values", () => {
        const v = (k: string) => files.values[`toolboxai:${k}`];
        expect(v("environment")).toBe(stack);
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
        const bare = sources.flatMap((f) => [...read(f).matchAll(/from "(@pulumi\/(?:aws|docker|vault|random|command|tls))"/g)].map((m) => `${f}: ${m[1]}`));
        expect(bare).toEqual([]);
    });
});

describe("README", () => {
    const readme = read("README.md");
    // The hosted project's settings and output are documented in docs/hosted-project.md.
    const hosted = read("docs/hosted-project.md");
    const section = (text: string, heading: string) => text.split(`## ${heading}`)[1].split("\n## ")[0];
    const table = (heading: string) =>
        `${section(readme, heading)}\n${section(hosted, heading === "Configuration" ? "Settings" : heading)}`;

    it("documents every setting in the configuration table", () => {
        const rows = table("Configuration");
        for (const doc of SETTING_DOCS) expect(rows, doc.key).toContain(`| \`${doc.key}\` | ${doc.type}`);
    });

    it("documents every stack output", async () => {
        const rows = table("Stack outputs");
        for (const stack of STACKS) {
            for (const key of Object.keys((await evaluateStack(stack)).outputs)) expect(rows, key).toContain(`| \`${key}\` |`);
        }
    });

    it("gives the two set-up commands, and CI runs the README's test command", () => {
        expect(readme).toContain("npm ci && npm run plan -- --stack dev");
        expect(readme).toMatch(/^npm test\b/m);
        expect(read(".ci/run")).toMatch(/^npm test$/m);
    });
});
