// Doubles for the monitoring engine test (test/monitoringEngine.test.ts), run in a container:
//   hosted   Supabase's metrics endpoint: HTTP Basic as service_role with the password in
//            EXPECTED_PASSWORD_FILE, serving the real series names (shared/reference/supabase-platform.md)
//   webhook  a receiver that prints each delivery's body on one line of its log
/* global require, process, Buffer */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS for the image's node, no build step
const http = require("node:http");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS for the image's node, no build step
const fs = require("node:fs");

const role = process.argv[2];
const labels = 'supabase_project_ref="double",service_type="db"';
// A healthy project: nothing here crosses a threshold.
const SERIES = [
    ["pg_up", "", 1],
    ['node_cpu_seconds_total{mode="idle",cpu="0",', "", 1000],
    ["node_load1", "", 0.2],
    ["node_memory_MemTotal_bytes", "", 1e9],
    ["node_memory_MemAvailable_bytes", "", 6e8],
    ['node_filesystem_avail_bytes{mountpoint="/",fstype="ext4",', "", 6e9],
    ['node_filesystem_size_bytes{mountpoint="/",fstype="ext4",', "", 8e9],
    ["pg_database_size_bytes", "", 1e8],
    ['pg_stat_database_num_backends{datname="postgres",', "", 12],
    ["max_connections_connection_count", "", 60],
    ["supavisor_connections_active", "", 5],
    ["pg_stat_statements_total_queries", "", 1234],
    ["pg_stat_activity_xact_runtime", "", 0.5],
    ["physical_replication_lag_physical_replication_lag_seconds", "", 0],
    ["pg_stat_replication_replay_lag", "", 0],
    ["pg_ls_archive_statusdir_wal_pending_count", "", 0],
];
function exposition() {
    return (
        SERIES.map(([name, , value]) => (name.endsWith(",") ? `${name}${labels}} ${value}` : `${name}{${labels}} ${value}`)).join("\n") +
        "\n"
    );
}

if (role === "hosted") {
    const expected = `Basic ${Buffer.from(`service_role:${fs.readFileSync(process.env.EXPECTED_PASSWORD_FILE, "utf8")}`).toString("base64")}`;
    http.createServer((req, res) => {
        if (req.url !== "/customer/v1/privileged/metrics") return res.writeHead(404).end();
        if (req.headers.authorization !== expected) return res.writeHead(401, { "www-authenticate": "Basic" }).end();
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(exposition());
    }).listen(8080);
} else if (role === "webhook") {
    http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            process.stdout.write(`${JSON.stringify({ path: req.url, body })}\n`);
            res.writeHead(200).end();
        });
    }).listen(8080);
} else {
    process.stderr.write(`usage: doubles.js hosted|webhook (got ${role})\n`);
    process.exit(2);
}
process.on("SIGTERM", () => process.exit(0));
