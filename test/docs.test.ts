/**
 * The docs agree with the code they describe: links and anchors resolve, every URN a runbook tells
 * an operator to type exists in the committed plans, every setting a `pulumi config set` names is
 * one the program reads, every `npm run` script exists, and the dev walkthrough's Vault paths are
 * the ones the dev stack writes.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { KNOWN_KEYS } from "../lib/config";
import { evaluateStack, PROJECT_DIR, STACKS } from "./harness";

/** Announced docs that other changes add; remove an entry once its file exists (a test insists). */
const PENDING: string[] = [];

function markdownFiles(dir: string): string[] {
    return readdirSync(join(PROJECT_DIR, dir)).flatMap((entry) => {
        const path = dir === "." ? entry : `${dir}/${entry}`;
        if (statSync(join(PROJECT_DIR, path)).isDirectory()) return path === "docs" || path.startsWith("docs/") ? markdownFiles(path) : [];
        return path.endsWith(".md") ? [path] : [];
    });
}

const DOCS = markdownFiles(".")
    .concat(markdownFiles("docs"))
    .filter((f, i, all) => all.indexOf(f) === i);
const read = (path: string) => readFileSync(join(PROJECT_DIR, path), "utf8");
/** The text outside fenced code blocks (where `#` starts a heading, not a shell comment). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
    heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
const anchors = (path: string) => new Set([...prose(read(path)).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1].trim())));

describe("docs", () => {
    it("are found (the README, CONTRIBUTING and docs/)", () => {
        expect(DOCS).toEqual(
            expect.arrayContaining(["README.md", "CONTRIBUTING.md", "docs/local-development.md", "docs/operations/troubleshooting.md"]),
        );
    });

    it("link only to files and headings that exist (or to docs announced in PENDING)", () => {
        const broken: string[] = [];
        for (const doc of DOCS) {
            for (const [, target] of prose(read(doc)).matchAll(/\]\(([^)\s]+)\)/g)) {
                if (/^[a-z]+:/.test(target)) continue;
                const [file, anchor] = target.split("#");
                const path = file === "" ? doc : relative(PROJECT_DIR, join(PROJECT_DIR, dirname(doc), file));
                if (PENDING.includes(path)) continue;
                if (!existsSync(join(PROJECT_DIR, path))) broken.push(`${doc}: ${target} (no such file)`);
                else if (anchor && path.endsWith(".md") && !anchors(path).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
            }
        }
        expect(broken).toEqual([]);
    });

    it("announce in PENDING only docs that do not exist yet", () => {
        expect(PENDING.filter((path) => existsSync(join(PROJECT_DIR, path)))).toEqual([]);
    });

    it("name only URNs that the committed plans have", () => {
        const urns = new Set<string>();
        for (const stack of STACKS) {
            const plan = JSON.parse(read(`plans/${stack}.plan.json`)) as { resources: { type: string; name: string; parent?: string }[] };
            const byName = new Map(plan.resources.map((r) => [r.name, r]));
            for (const r of plan.resources) {
                const types = [r.type];
                for (let p = r.parent && byName.get(r.parent); p; p = p.parent ? byName.get(p.parent) : undefined) types.unshift(p.type);
                urns.add(`urn:pulumi:${stack}::toolboxai::${types.join("$")}::${r.name}`);
                urns.add(`urn:pulumi:<stack>::toolboxai::${types.join("$")}::${r.name}`);
            }
        }
        const named = DOCS.flatMap((doc) => [...read(doc).matchAll(/urn:pulumi:[^\s'"`]+/g)].map((m) => ({ doc, urn: m[0] })));
        expect(named.length).toBeGreaterThan(0);
        expect(named.filter(({ urn }) => !urns.has(urn))).toEqual([]);
    });

    it("set only settings the program reads", () => {
        const named = DOCS.flatMap((doc) =>
            [...read(doc).matchAll(/pulumi config set (?:--secret |--path )*([A-Za-z]\w*)/g)].map((m) => ({ doc, key: m[1] })),
        );
        expect(named.length).toBeGreaterThan(0);
        expect(named.filter(({ key }) => !KNOWN_KEYS.has(key))).toEqual([]);
    });

    it("run only npm scripts that package.json has", () => {
        const scripts = Object.keys(JSON.parse(read("package.json")).scripts as Record<string, string>);
        const named = DOCS.flatMap((doc) =>
            [...read(doc).matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => ({ doc, script: m[1] })),
        );
        expect(named.filter(({ script }) => !scripts.includes(script))).toEqual([]);
    });
});

describe("docs/local-development.md", () => {
    const doc = read("docs/local-development.md");

    it("reads only the Vault paths the dev stack writes", async () => {
        const ev = await evaluateStack("dev");
        const vault = ev.outputs.vault as { supabasePath: string; databasePath: string; redisPath: string };
        const backup = ev.outputs.backup as { uploaderCredentialsPath: string };
        const written = [vault.supabasePath, vault.databasePath, vault.redisPath, backup.uploaderCredentialsPath];
        const named = [...doc.matchAll(/\bsecret\/toolboxai-dev\/[\w/-]*\w/g)].map((m) => m[0]);
        expect(named.length).toBeGreaterThan(0);
        expect(named.filter((path) => !written.includes(path))).toEqual([]);
    });

    it("names the dev stack's own values: images, ports, bucket and IAM user prefixes", async () => {
        const stackFile = read("Pulumi.dev.yaml");
        for (const image of doc.matchAll(/`((?:ghcr\.io\/[\w/-]+|redis):[\w.-]+)`/g)) expect(stackFile, image[1]).toContain(image[1]);
        const plan = read("plans/dev.plan.json");
        expect(plan).toContain('"bucketPrefix": "toolboxai-dev-backups-"');
        expect(doc).toContain("toolboxai-dev-backups-<random suffix>");
        expect(plan).toContain('"name": "toolboxai-dev-backups-uploader"');
        expect(doc).toContain("`toolboxai-dev-backups-uploader`");
        expect(doc).toContain("toolboxai-dev-redis-data");
        expect(plan).toContain('"name": "toolboxai-dev-redis-data"');
    });
});
