/**
 * `ops drill --metrics-file <path>` that stops with an error at once (nothing listens on port 9
 * of loopback): how the tests get a failed drill's metrics file without a bucket or a server.
 */
import { main, type Outcome } from "../../ops/cli";

export function stoppedDrill(metricsFile: string): Promise<Outcome> {
    return main(
        [
            "drill",
            "--bucket",
            "b",
            "--s3-endpoint",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            "--server",
            "postgresql://postgres@127.0.0.1:9/postgres?sslmode=disable",
            "--metrics-file",
            metricsFile,
        ],
        { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
    );
}
