import * as pulumi from "@pulumi/pulumi";
import { AccessKey } from "@pulumi/aws/iam/accessKey";
import { User } from "@pulumi/aws/iam/user";
import { UserPolicy } from "@pulumi/aws/iam/userPolicy";
import { Alias } from "@pulumi/aws/kms/alias";
import { Key } from "@pulumi/aws/kms/key";
import { Bucket } from "@pulumi/aws/s3/bucket";
import { BucketLifecycleConfiguration } from "@pulumi/aws/s3/bucketLifecycleConfiguration";
import { BucketObjectLockConfiguration } from "@pulumi/aws/s3/bucketObjectLockConfiguration";
import { BucketOwnershipControls } from "@pulumi/aws/s3/bucketOwnershipControls";
import { BucketPolicy } from "@pulumi/aws/s3/bucketPolicy";
import { BucketPublicAccessBlock } from "@pulumi/aws/s3/bucketPublicAccessBlock";
import { BucketServerSideEncryptionConfiguration } from "@pulumi/aws/s3/bucketServerSideEncryptionConfiguration";
import { BucketVersioning } from "@pulumi/aws/s3/bucketVersioning";
import { SecretV2 } from "@pulumi/vault/kv/secretV2";
import { bucketPolicyDocument, lifecycleRules, uploaderPolicyDocument } from "../lib/backup";
import type { PasswordSlots } from "../lib/credentials";

export interface BackupBucketArgs {
    /** Bucket name prefix (AWS adds a unique suffix). */
    bucketPrefix: string;
    /** Key prefix of the backups. */
    prefix: string;
    retentionDays: number;
    /** Customer-managed KMS key (prod) rather than SSE-S3. */
    kms: boolean;
    /** Object lock, set at creation; undefined for none. */
    objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; days: number };
    /** STANDARD_IA after this many days; 0 for never. */
    coldTransitionDays: number;
    /** Where the uploader's credentials go in Vault (KV v2). */
    vault: { mount: pulumi.Input<string>; name: string };
    /**
     * The uploader's two access-key slots, rotated as the database password's (lib/credentials.ts
     * passwordSlots): a slot's key is replaced when its keeper changes; the active one is the job's.
     */
    keySlots: PasswordSlots;
}

/**
 * The S3 bucket the nightly backups go to: versioned, encrypted, private, TLS-only, expiring
 * backups after the retention, optionally object-locked; never deleted by `pulumi destroy`.
 * Its uploader may only write, read back and list backups under the prefix.
 */
export class BackupBucket extends pulumi.ComponentResource {
    readonly bucketName: pulumi.Output<string>;
    readonly bucketArn: pulumi.Output<string>;
    readonly kmsKeyArn: pulumi.Output<string> | undefined;
    readonly uploaderArn: pulumi.Output<string>;
    /** `vault kv get` path of the uploader's credentials. */
    readonly credentialsPath: pulumi.Output<string>;
    /** The uploader's access key, for the backup job's secret file (both secret). */
    readonly uploaderCredentials: { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> };

    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("toolboxai:storage:BackupBucket", name, {}, opts);
        const child = { parent: this };
        // Backups outlive the stack: `pulumi destroy` leaves them, and deleting needs an explicit unprotect.
        // The caller decides (a throwaway stack may pass `protect: false`); protected unless it says otherwise.
        const keep = { ...child, protect: opts?.protect ?? true, retainOnDelete: opts?.retainOnDelete ?? true };

        const key = args.kms
            ? new Key(
                  `${name}-key`,
                  { description: `Backups in ${args.bucketPrefix}*`, enableKeyRotation: true, deletionWindowInDays: 30 },
                  keep,
              )
            : undefined;
        if (key) new Alias(`${name}-key-alias`, { name: `alias/${args.bucketPrefix}backups`, targetKeyId: key.keyId }, child);

        // Both inputs force a new bucket, which `protect` refuses, blocking every `up`: they count at creation
        // only. Object lock turned on later is enabled on this (versioned) bucket by the lock configuration below.
        const bucket = new Bucket(
            `${name}-bucket`,
            { bucketPrefix: args.bucketPrefix, objectLockEnabled: args.objectLock !== undefined, forceDestroy: false },
            { ...keep, ignoreChanges: ["objectLockEnabled", "bucketPrefix"] },
        );
        const versioning = new BucketVersioning(
            `${name}-versioning`,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            child,
        );
        new BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: key
                            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }
                            : { sseAlgorithm: "AES256" },
                        bucketKeyEnabled: key !== undefined,
                    },
                ],
            },
            child,
        );
        const publicAccess = new BucketPublicAccessBlock(
            `${name}-public-access`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            child,
        );
        new BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        new BucketPolicy(
            `${name}-policy`,
            {
                bucket: bucket.id,
                policy: pulumi
                    .all([bucket.arn, key?.arn])
                    .apply(([bucketArn, kmsKeyArn]) => JSON.stringify(bucketPolicyDocument({ bucketArn, kmsKeyArn }))),
            },
            { ...child, dependsOn: [publicAccess] },
        );
        new BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: lifecycleRules({
                    prefix: args.prefix,
                    retentionDays: args.retentionDays,
                    coldTransitionDays: args.coldTransitionDays,
                }),
            },
            { ...child, dependsOn: [versioning] },
        );
        if (args.objectLock) {
            new BucketObjectLockConfiguration(
                `${name}-object-lock`,
                {
                    bucket: bucket.id,
                    objectLockEnabled: "Enabled",
                    rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } },
                },
                { ...child, dependsOn: [versioning] },
            );
        }

        const uploader = new User(
            `${name}-uploader`,
            { path: "/toolboxai/", name: pulumi.interpolate`${args.bucketPrefix}uploader` },
            child,
        );
        new UserPolicy(
            `${name}-uploader-policy`,
            {
                user: uploader.name,
                policy: pulumi
                    .all([bucket.arn, key?.arn])
                    .apply(([arn, kmsArn]) => JSON.stringify(uploaderPolicyDocument(arn, args.prefix, kmsArn))),
            },
            child,
        );
        // A new key each period; the previous one stays until the next boundary, so a running job keeps its
        // identity until the same `pulumi up` has rewritten Vault and the container's credentials. IAM allows
        // two keys per user: the stale slot is deleted before its replacement is created.
        const slotKey = (slot: "a" | "b") =>
            new AccessKey(
                `${name}-uploader-key-${slot}`,
                { user: uploader.name },
                {
                    ...child,
                    replacementTrigger: args.keySlots.keepers[slot],
                    deleteBeforeReplace: true,
                    // Slot a takes over the single key of earlier versions (its state, by alias).
                    ...(slot === "a" ? { aliases: [{ name: `${name}-uploader-key` }] } : {}),
                },
            );
        const keys = { a: slotKey("a"), b: slotKey("b") };
        const accessKey = keys[args.keySlots.active];
        const secret = new SecretV2(
            `${name}-uploader-credentials`,
            {
                mount: args.vault.mount,
                name: args.vault.name,
                dataJson: pulumi.secret(
                    pulumi
                        .all([accessKey.id, accessKey.secret, bucket.bucket, bucket.bucketRegion, key?.arn])
                        .apply(([id, secretKey, bucketName, region, kmsArn]) =>
                            JSON.stringify({
                                access_key_id: id,
                                secret_access_key: secretKey,
                                bucket: bucketName,
                                prefix: args.prefix,
                                region,
                                kms_key_arn: kmsArn ?? "",
                            }),
                        ),
                ),
                deleteAllVersions: true,
            },
            child,
        );

        this.bucketName = bucket.bucket;
        this.bucketArn = bucket.arn;
        this.kmsKeyArn = key?.arn;
        this.uploaderArn = uploader.arn;
        this.uploaderCredentials = { accessKeyId: pulumi.secret(accessKey.id), secretAccessKey: pulumi.secret(accessKey.secret) };
        this.credentialsPath = pulumi.interpolate`${secret.mount}/${args.vault.name}`;
        this.registerOutputs({
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
            kmsKeyArn: this.kmsKeyArn,
            uploaderArn: this.uploaderArn,
            credentialsPath: this.credentialsPath,
        });
    }
}
