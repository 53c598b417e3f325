/**
 * Bundles the backup job into one file (the image runs it with plain `node`; tests and the
 * benchmark run the same bundle). Usage: npm run build:backup-job [-- <outfile>]
 */
import { join } from "node:path";
import { build } from "esbuild";

export const DEFAULT_OUTFILE = join(__dirname, "..", "dist", "backup-job.js");

export async function buildBackupJob(outfile: string = DEFAULT_OUTFILE): Promise<string> {
    await build({
        entryPoints: [join(__dirname, "main.ts")],
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        outfile,
        logLevel: "warning",
        legalComments: "none",
    });
    return outfile;
}

if (require.main === module) {
    buildBackupJob(process.argv[2]).then(
        (file) => console.log(`built ${file}`),
        (err: unknown) => {
            console.error(err);
            process.exitCode = 1;
        },
    );
}
