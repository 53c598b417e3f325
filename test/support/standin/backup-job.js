// Stand-in for the backup job's image: the real job (backup-job/) needs a database and S3, which the
// engine tests do not run. It keeps the same health contract shape: `health` fails unless the
// running job has recorded a status within the last minute.
/* global require, process, setInterval */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS for the image's node, no build step
const fs = require("node:fs");
const STATUS = "/tmp/backup-status";
if (process.argv[2] === "health") {
    try {
        process.exit(Date.now() - fs.statSync(STATUS).mtimeMs < 60_000 ? 0 : 1);
    } catch {
        process.exit(1);
    }
}
const beat = () => fs.writeFileSync(STATUS, new Date().toISOString());
beat();
setInterval(beat, 5_000);
process.on("SIGTERM", () => process.exit(0));
