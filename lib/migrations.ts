/** Supabase CLI migration files: their naming rule and the content hash that triggers a push. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** `<14-digit UTC timestamp>_<name>.sql`, as `supabase migration new` writes them. */
export const MIGRATION_FILE = /^(\d{14})_([a-z0-9_]+)\.sql$/;

export interface MigrationFiles {
    files: string[];
    /** SHA-256 over every file's name and content, in order: changes when and only when a migration does. */
    hash: string;
}

export function readMigrations(dir: string): MigrationFiles {
    const entries = readdirSync(dir)
        .filter((f) => f.endsWith(".sql"))
        .sort();
    const bad = entries.filter((f) => !MIGRATION_FILE.test(f));
    if (bad.length > 0) {
        throw new Error(
            `${dir}: ${bad.map((f) => JSON.stringify(f)).join(", ")} not named <14-digit UTC timestamp>_<lowercase_name>.sql; the Supabase CLI would skip or misorder them`,
        );
    }
    if (entries.length === 0) throw new Error(`${dir}: no migrations to push`);
    const hash = createHash("sha256");
    for (const file of entries)
        hash.update(`${file}\0`)
            .update(readFileSync(join(dir, file)))
            .update("\0");
    return { files: entries, hash: hash.digest("hex") };
}
