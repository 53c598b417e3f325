/**
 * A real S3-compatible server (s3rver) on loopback for the backup tests and benchmark: objects
 * are stored on disk and served back over the S3 REST API the AWS SDK speaks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver knows one access key id; it does not check the secret (tests use a distinct one to catch leaks). */
export const S3RVER_ACCESS_KEY_ID = "S3RVER";

export interface S3Server {
    endpoint: string;
    port: number;
    client: S3Client;
    /** Every key in the bucket. */
    keys(bucket: string): Promise<string[]>;
    stop(): Promise<void>;
}

export async function startS3(buckets: string[], port = 0): Promise<S3Server> {
    const directory = mkdtempSync(join(tmpdir(), "toolboxai-s3-"));
    const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
    const { port: bound } = await server.run();
    const endpoint = `http://127.0.0.1:${bound}`;
    const client = new S3Client({
        region: "eu-central-1",
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: "S3RVER" },
    });
    return {
        endpoint,
        port: bound,
        client,
        async keys(bucket) {
            const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
            return (listed.Contents ?? []).map((o) => o.Key ?? "");
        },
        async stop() {
            client.destroy();
            await server.close();
            rmSync(directory, { recursive: true, force: true });
        },
    };
}
