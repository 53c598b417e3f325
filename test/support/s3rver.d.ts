// s3rver ships no types; this is the part the tests use.
declare module "s3rver" {
    interface S3rverOptions {
        address?: string;
        port?: number;
        silent?: boolean;
        directory: string;
        resetOnClose?: boolean;
        allowMismatchedSignatures?: boolean;
        configureBuckets?: { name: string }[];
    }
    export default class S3rver {
        constructor(options: S3rverOptions);
        run(): Promise<{ address: string; port: number }>;
        close(): Promise<void>;
    }
}
