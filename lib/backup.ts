/**
 * Backup bucket rules as plain data: the bucket policy, the uploader's policy, lifecycle rules.
 * The uploader may write backups under its prefix (read them back to verify, list their keys), never delete,
 * change retention or legal holds, or touch the bucket's own settings.
 */

export interface BucketPolicyInput {
    bucketArn: string;
    /** KMS key backups must be encrypted with (prod); undefined for SSE-S3 (dev). */
    kmsKeyArn?: string;
}

type Statement = Record<string, unknown>;

const SSE_HEADER = "s3:x-amz-server-side-encryption";

/** The guide's cron time: daily at 02:00 (UTC). Shared by the stack config and the job itself. */
export const DEFAULT_BACKUP_SCHEDULE = "0 2 * * *";

/** A schema name pg_dump's --schema may take: the stack config and the job check it alike. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;

export function bucketPolicyDocument({ bucketArn, kmsKeyArn }: BucketPolicyInput): { Version: string; Statement: Statement[] } {
    const everything = [bucketArn, `${bucketArn}/*`];
    const statements: Statement[] = [
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: everything,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        {
            Sid: "DenyTlsBelow12",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: everything,
            Condition: { NumericLessThan: { "s3:TlsVersion": "1.2" } },
        },
        // Only a header that is present is judged: UploadPart and CompleteMultipartUpload are authorized as
        // s3:PutObject and never carry it (an ...IfExists test would deny them). A request without the header
        // gets the bucket's default encryption, which is the same algorithm (and, in prod, the same key).
        {
            Sid: "DenyWrongEncryption",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: { Null: { [SSE_HEADER]: "false" }, StringNotEquals: { [SSE_HEADER]: kmsKeyArn ? "aws:kms" : "AES256" } },
        },
        {
            Sid: "DenySseC",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
        },
    ];
    if (kmsKeyArn) {
        // `aws:kms` without a key id would be encrypted with the AWS-managed aws/s3 key, not the bucket's:
        // where the encryption header is present, the key id must be present too, and be the bucket's key.
        statements.push({
            Sid: "DenyWrongKmsKey",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:PutObject",
            Resource: `${bucketArn}/*`,
            Condition: {
                Null: { [SSE_HEADER]: "false" },
                StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": kmsKeyArn },
            },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/**
 * Write (and multipart) under the prefix, read back to verify, list the prefix's keys (so a
 * restarted scheduler knows when the last backup was); the KMS calls on the one key.
 */
export function uploaderPolicyDocument(bucketArn: string, prefix: string, kmsKeyArn?: string): { Version: string; Statement: Statement[] } {
    const statements: Statement[] = [
        {
            Sid: "WriteBackups",
            Effect: "Allow",
            Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            Resource: `${bucketArn}/${prefix}/*`,
        },
        { Sid: "VerifyBackups", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${bucketArn}/${prefix}/*` },
        {
            Sid: "ListBackups",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: bucketArn,
            Condition: { StringLike: { "s3:prefix": [`${prefix}/*`] } },
        },
    ];
    if (kmsKeyArn)
        statements.push({ Sid: "EncryptBackups", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: kmsKeyArn });
    return { Version: "2012-10-17", Statement: statements };
}

/** Actions no backup writer may ever hold: deleting, rewriting retention, or reconfiguring the bucket. */
export const FORBIDDEN_UPLOADER_ACTIONS = [
    /^s3:\*$/,
    /^s3:Delete/,
    /^s3:PutObjectRetention$/,
    /^s3:PutObjectLegalHold$/,
    /^s3:BypassGovernanceRetention$/,
    /^s3:PutBucket/,
    /^s3:PutLifecycleConfiguration$/,
    /^s3:PutEncryptionConfiguration$/,
    /^kms:(\*|ScheduleKeyDeletion|DisableKey|PutKeyPolicy)$/,
];

export interface LifecycleOptions {
    prefix: string;
    retentionDays: number;
    /** Move backups to STANDARD_IA after this many days; 0 for never. */
    coldTransitionDays: number;
}

export function lifecycleRules(o: LifecycleOptions) {
    return [
        {
            id: "expire-backups",
            status: "Enabled",
            filter: { prefix: `${o.prefix}/` },
            expiration: { days: o.retentionDays },
            // Versions replaced or expired go a day later (object lock still holds locked ones).
            noncurrentVersionExpiration: { noncurrentDays: 1 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            ...(o.coldTransitionDays > 0 ? { transitions: [{ days: o.coldTransitionDays, storageClass: "STANDARD_IA" }] } : {}),
        },
        // Delete markers left once every version has expired (cannot share a rule with `days`).
        {
            id: "expired-delete-markers",
            status: "Enabled",
            filter: { prefix: `${o.prefix}/` },
            expiration: { expiredObjectDeleteMarker: true },
        },
    ];
}

/** An AWS shared credentials file (AWS_SHARED_CREDENTIALS_FILE): the SDK's default chain reads it. */
export function awsCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
    if (/[\s]/.test(accessKeyId + secretAccessKey)) throw new Error("AWS credentials must not contain whitespace");
    return `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}
