/**
 * The stack outputs other stacks may rely on: names, shapes and secretness. Renaming or removing
 * one breaks its consumers, so contract/outputs.json keeps every name ever published and a test
 * fails unless a removed name is listed in OUTPUT_ALIASES with what replaces it.
 */

export interface ToolboxaiStackOutputs {
    environment: "dev" | "staging" | "prod";
    supabaseUrl: string;
    /** The project's anon key (secret: exported only as a secret). */
    supabaseAnonKey: string;
    database: {
        host: string;
        port: number;
        name: string;
        sslMode: string;
        poolSize: number;
        /** The owner (the deployer's role): what ops import writes as. Not a credential. */
        ownerUser: string;
        pooler: { host: string; port: number; user: string } | null;
    };
    vault: {
        address: string;
        mount: string;
        pathPrefix: string;
        supabasePath: string;
        databasePath: string;
        redisPath: string;
        appRoleMount: string;
        policies: { backend: string; worker: string };
    };
    credentialsRotation: { periodDays: number; periodIndex: number; nextRotationAfter: string };
    awsRegion: string;
    backup: {
        bucketName: string;
        bucketArn: string;
        region: string;
        prefix: string;
        kmsKeyArn: string | null;
        uploaderCredentialsPath: string;
        /** Cron (UTC) of the backup job, or null when no backup service runs. */
        schedule: string | null;
        /** The backup job's database login (backupDatabaseLogin): ops doctor reports the case. */
        databaseLogin: "own-role" | "owner";
    };
    docker: {
        mode: "single" | "swarm";
        networks: { frontend: string; backend: string; cache: string };
        redisEndpoint: string;
        redisCaCertPem: string;
        services: Record<string, { role: string; replicas: number; runtimeNames: string[] }>;
    };
    /** The backend as other services on the backend network reach it. */
    backendInternalUrl: string | null;
    databaseMigrations: { applied: string[]; hash: string };
}

export type OutputName = keyof ToolboxaiStackOutputs;

/** Which outputs are secret. */
export const SECRET_OUTPUTS: readonly OutputName[] = ["supabaseAnonKey"];

/** Old output name to the name that replaced it; keeps the contract test green after a rename. */
export const OUTPUT_ALIASES: Readonly<Record<string, OutputName>> = {};
