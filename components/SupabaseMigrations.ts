import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { Command } from "@pulumi/command/local/command";
import type { SslMode } from "../lib/config";
import { postgresUrl } from "../lib/postgres";
import type { MigrationFiles } from "../lib/migrations";

export interface SupabaseMigrationsArgs {
    /** Folder holding `supabase/` (config.toml and migrations/), relative to where `pulumi up` runs. */
    workdir: string;
    /** The migration files and their content hash (read, and checked, before any resource is created). */
    migrations: MigrationFiles;
    /** The pinned Supabase CLI (node_modules/.bin/supabase). */
    cli: string;
    /** Direct or session connection: never the transaction pooler, which has no prepared statements. */
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    database: pulumi.Input<string>;
    user: pulumi.Input<string>;
    sslMode: pulumi.Input<SslMode>;
    /** The role's password; reaches the CLI only through the environment (libpq's PGPASSWORD). */
    password: pulumi.Input<string>;
    /** What must be in place before a push: the credentials, whose apply step sets this password. */
    after?: pulumi.Resource[];
}

/**
 * `supabase db push` of supabase/migrations to the stack's database, non-interactively. It runs
 * again when, and only when, a migration file's name or content changes; a failing push fails
 * `pulumi up` with the CLI's error.
 */
export class SupabaseMigrations extends pulumi.ComponentResource {
    /** SHA-256 of the migration files the last push applied. */
    readonly migrationsHash: string;
    readonly migrations: string[];

    constructor(name: string, args: SupabaseMigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:database:SupabaseMigrations", name, {}, opts);
        const { files, hash } = args.migrations;
        this.migrationsHash = hash;
        this.migrations = files;

        const url = pulumi
            .all([args.user, args.host, args.port, args.database, args.sslMode])
            .apply(([user, host, port, database, sslMode]) => postgresUrl({ user, host, port, database, sslMode }));
        new Command(
            `${name}-push`,
            {
                // Only variable names here: the URL and password are in the (secret) environment.
                create: `"${args.cli}" db push --db-url "$SUPABASE_DB_URL" --workdir "${args.workdir}" --yes`,
                environment: {
                    SUPABASE_DB_URL: pulumi.secret(url),
                    PGPASSWORD: pulumi.secret(args.password),
                    SUPABASE_YES: "true",
                },
                // A new set of migrations, or another target database, replaces the resource: create runs.
                triggers: [hash, url.apply((u) => createHash("sha256").update(u).digest("hex"))],
                // A rotated password alone is no reason to push again.
                update: "exit 0",
                // The CLI echoes statements and connection details; its error still fails `pulumi up`.
                logging: "none",
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: args.after },
        );
        this.registerOutputs({ migrationsHash: this.migrationsHash, migrations: this.migrations });
    }
}
