/** docs/configuration.md, rendered from the settings table (test/project.test.ts keeps the file in step). */
import { SCHEMA } from "./index";

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderConfigurationDoc(): string {
    const lines = [
        "# Configuration",
        "",
        "<!-- Generated from the settings table in lib/config/: edit the table, then run",
        "     `npx vitest run test/project.test.ts -u`. test/project.test.ts fails when this file differs. -->",
        "",
        "Every setting the program reads, its default, and what is allowed. Set values with",
        "`pulumi config set <key> <value> --stack <stack>` (secrets with `--secret`; a secret set in plain text is refused).",
        "All keys live in the `toolboxai:` namespace (`toolboxai:backupSchedule` in a stack file).",
        "",
        "Bad configuration stops the program before any resource is created: it prints every problem at",
        "once, each naming the setting, the bad value (secrets masked) and what is allowed.",
        "",
        "Some defaults depend on `environment` or `supabaseMode`. Where `Pulumi.yaml` declares no default, the Pulumi CLI",
        "requires the key in every stack file, so each `Pulumi.<stack>.yaml` sets it explicitly. Keys marked *stack file only*",
        "are not declared in `Pulumi.yaml`: a declared key without a default would be required in every stack, and objects",
        "can't be typed there. In a stack file, `services` and `networkSubnets` are YAML mappings.",
    ];
    for (const group of [...new Set(SCHEMA.rows.map((r) => r.group))]) {
        lines.push("", `## ${group}`, "", "| Key | Type | Default | Description |", "| --- | --- | --- | --- |");
        for (const r of SCHEMA.rows.filter((row) => row.group === group)) {
            const type = r.undeclared ? `${r.type} (stack file only)` : r.type;
            const everyStack = !r.undeclared && !r.secret && r.yamlDefault === undefined && r.defaultText !== "required";
            const dflt = everyStack ? `${r.defaultText} (each stack file sets it)` : r.defaultText;
            lines.push(`| \`${r.key}\` | ${type} | ${cell(dflt)} | ${cell(r.doc)} |`);
        }
    }
    return `${lines.join("\n")}\n`;
}
