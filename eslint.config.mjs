import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
    // Everything generated (.gitignore), e.g. the backup job bundle in dist/, is never linted.
    { ignores: ["node_modules/", "bin/", "coverage/", "plans/", ".tmp/", "dist/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    {
        // Plain CommonJS that runs before any TypeScript can: the require hook, the ops bin, and the
        // replays of the engine's own TypeScript registration.
        files: ["scripts/register.js", "scripts/codeCache.js", "ops/bin.js", "**/*.cjs"],
        languageOptions: { sourceType: "commonjs", globals: globals.node },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
