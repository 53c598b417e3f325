import { defineConfig } from "vitest/config";

/**
 * Tests that start real servers or tools (PostgreSQL, redis-server, Celery, s3rver, a Docker engine,
 * npm installs, the Supabase CLI). Everything else is the fast loop: `npm run test:fast`.
 */
export const REAL_SERVER_TESTS = [
    "test/advisorsGate.test.ts",
    "test/applyDatabasePassword.test.ts",
    "test/applyDatabasePasswordTrust.test.ts",
    "test/backupImage.test.ts",
    "test/backupLogin.test.ts",
    "test/backupJob.test.ts",
    "test/celery.test.ts",
    "test/consumerRoles.test.ts",
    "test/engine.test.ts",
    "test/monitoringEngine.test.ts",
    "test/engineTypescript.test.ts",
    "test/failedCommandOutput.test.ts",
    "test/heartbeat.test.ts",
    "test/migrations.test.ts",
    "test/ops.test.ts",
    "test/opsCli.test.ts",
    "test/opsDoctorBackups.test.ts",
    "test/opsDoctorFixes.test.ts",
    "test/opsImport.test.ts",
    "test/postgresUrl.test.ts",
    "test/redis.test.ts",
    "test/redisExporterAcl.test.ts",
    "test/monitoringPromtool.test.ts",
    "test/nodeExporterTextfile.test.ts",
    "test/redisRotation.test.ts",
    "test/rotationEngine.test.ts",
    "test/rotationTransition.test.ts",
    "test/standinImage.test.ts",
    "test/supabaseStart.test.ts",
    // The Management API double's fault tests wait out timeouts and backoff; the program test runs the CLI and ts-node.
    "test/supabase-management.test.ts",
    "test/supabase-management-program.test.ts",
    "test/supabase-management-replies.test.ts",
];

/**
 * The Swarm tests on real engines: three engines as one Swarm, and the program's service writer
 * on one (about 4.5 minutes on two cores, one file at a time): a run of their own
 * (`npm run test:swarm`, its own CI step), so that `npm test` stays within about 6 minutes.
 */
export const MULTI_NODE_TESTS = ["test/swarmNodes.test.ts", "test/swarmService.test.ts"];

export default defineConfig({
    test: {
        // Pulumi's runtime state is process-global: each test file gets its own process.
        pool: "forks",
        // Fails the run when a test leaves files in the repository (test/support/cleanTree.ts).
        globalSetup: ["test/support/cleanTree.ts"],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        projects: [
            // Mock evaluations are CPU-bound: one worker per core. The files share their workers'
            // processes (the SDK loads once per worker, not once per file): every evaluation sets
            // Pulumi's mocks and runtime settings afresh and re-imports the program.
            {
                extends: true,
                test: {
                    name: "fast",
                    include: ["test/**/*.test.ts"],
                    exclude: [...REAL_SERVER_TESTS, ...MULTI_NODE_TESTS],
                    maxWorkers: "100%",
                    isolate: false,
                    sequence: { groupOrder: 0 },
                },
            },
            // Then the real-server tests, two at a time (one per core: they start servers and engines).
            { extends: true, test: { name: "real", include: REAL_SERVER_TESTS, maxWorkers: 2, sequence: { groupOrder: 1 } } },
            // Selected by name only (`npm run test:swarm`): `npm test` runs fast and real.
            { extends: true, test: { name: "swarm", include: MULTI_NODE_TESTS, maxWorkers: 1, sequence: { groupOrder: 2 } } },
        ],
    },
});
