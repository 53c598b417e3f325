/**
 * The planned bucket policy and uploader policy, judged by an independent implementation of AWS policy
 * evaluation (@cloud-copilot/iam-simulate), not by our own reading of our own JSON: s3rver enforces no
 * policy, so this is where a policy that AWS would refuse (or allow) shows up before production.
 */
import { anonymousPrincipal, runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import { byName, evaluateStack, STACKS } from "./harness";

type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
type Policy = { Version: string; Statement: Record<string, unknown>[] };
type Context = Record<string, string | string[]>;

const OWNER_ACCOUNT = "000000000000"; // the account the offline mocks give every ARN
const OTHER_ACCOUNT = "999999999999";
const TLS: Context = { "aws:SecureTransport": "true", "s3:TlsVersion": "1.3" };
const SSE = "s3:x-amz-server-side-encryption";
const KMS_KEY_ID = "s3:x-amz-server-side-encryption-aws-kms-key-id";
const SSE_C = "s3:x-amz-server-side-encryption-customer-algorithm";

const allowAll = (action: string): Policy => ({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] });

interface Request {
    principal: string | typeof anonymousPrincipal;
    action: string;
    resource: string;
    context?: Context;
    identity?: Policy[];
    resourcePolicy?: Policy;
}

/** AWS's decision for one request: identity policies of the caller, the resource's policy, same- or cross-account. */
async function decide(r: Request): Promise<Decision> {
    const simulation: Simulation = {
        request: {
            principal: r.principal,
            action: r.action,
            resource: { resource: r.resource, accountId: OWNER_ACCOUNT },
            contextVariables: r.context ?? {},
        },
        identityPolicies: (r.identity ?? []).map((policy, i) => ({ name: `identity-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: r.resourcePolicy,
        // The bucket blocks public access (BackupBucket: BucketPublicAccessBlock), as AWS applies it.
        ...(r.resource.startsWith("arn:aws:s3:::") ? { additionalSettings: { s3: { blockPublicAccess: true } } } : {}),
    };
    const result = await runSimulation(simulation, {});
    // A request the evaluator cannot judge (unknown action, context key or malformed policy) is a test error, not a deny.
    if (result.resultType === "error")
        throw new Error(`iam-simulate refused ${r.action} on ${r.resource}: ${JSON.stringify(result.errors)}`);
    return result.overallResult as Decision;
}

describe("the independent evaluator judges as AWS documents", () => {
    const bucket = "arn:aws:s3:::calibration";
    const user = `arn:aws:iam::${OWNER_ACCOUNT}:user/u`;
    const deny = (condition: Record<string, Record<string, string>>): Policy => ({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: `${bucket}/*`, Condition: condition }],
    });
    const put = (resourcePolicy: Policy, context: Context = {}) =>
        decide({ principal: user, action: "s3:PutObject", resource: `${bucket}/k`, context, identity: [allowAll("s3:*")], resourcePolicy });

    it.each([
        ["...IfExists is true when the key is absent", { StringNotEqualsIfExists: { [SSE]: "AES256" } }, {}, "ExplicitlyDenied"],
        ["...IfExists compares a present key", { StringNotEqualsIfExists: { [SSE]: "AES256" } }, { [SSE]: "AES256" }, "Allowed"],
        ["a negated operator is true when the key is absent", { StringNotEquals: { [SSE]: "AES256" } }, {}, "ExplicitlyDenied"],
        ["Null false is false when the key is absent", { Null: { [SSE]: "false" } }, {}, "Allowed"],
        ["Null false is true when the key is present", { Null: { [SSE]: "false" } }, { [SSE]: "AES256" }, "ExplicitlyDenied"],
        ["operators in one block are ANDed (absent)", { Null: { [SSE]: "false" }, StringNotEquals: { [SSE]: "AES256" } }, {}, "Allowed"],
        [
            "operators in one block are ANDed (wrong)",
            { Null: { [SSE]: "false" }, StringNotEquals: { [SSE]: "AES256" } },
            { [SSE]: "aws:kms" },
            "ExplicitlyDenied",
        ],
        ["Bool matches false", { Bool: { "aws:SecureTransport": "false" } }, { "aws:SecureTransport": "false" }, "ExplicitlyDenied"],
        ["Bool does not match true", { Bool: { "aws:SecureTransport": "false" } }, { "aws:SecureTransport": "true" }, "Allowed"],
        ["NumericLessThan 1.1 < 1.2", { NumericLessThan: { "s3:TlsVersion": "1.2" } }, { "s3:TlsVersion": "1.1" }, "ExplicitlyDenied"],
        ["NumericLessThan 1.3 is not < 1.2", { NumericLessThan: { "s3:TlsVersion": "1.2" } }, { "s3:TlsVersion": "1.3" }, "Allowed"],
    ] as const)("%s", async (_name, condition, context, expected) => {
        expect(await put(deny(condition), context)).toBe(expected);
    });

    it("same account: an identity allow suffices; another account needs the resource policy too; an explicit deny wins", async () => {
        const none: Policy = {
            Version: "2012-10-17",
            Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:DeleteBucket", Resource: bucket }],
        };
        const grant = (principal: string): Policy => ({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { AWS: principal }, Action: "s3:PutObject", Resource: `${bucket}/*` }],
        });
        const other = `arn:aws:iam::${OTHER_ACCOUNT}:user/o`;
        const request = (principal: string, resourcePolicy: Policy, identity = [allowAll("s3:*")]) =>
            decide({ principal, action: "s3:PutObject", resource: `${bucket}/k`, identity, resourcePolicy });
        expect(await request(user, none)).toBe("Allowed");
        expect(await request(user, none, [])).toBe("ImplicitlyDenied");
        expect(await request(other, none)).toBe("ImplicitlyDenied");
        expect(await request(other, grant(other))).toBe("Allowed");
        expect(await put(deny({ Bool: { "aws:SecureTransport": "false" } }), { "aws:SecureTransport": "false" })).toBe("ExplicitlyDenied");
    });
});

describe.each(STACKS)("planned backup policies under AWS evaluation (%s)", (stack) => {
    const prod = stack === "prod";

    async function planned() {
        const ev = await evaluateStack(stack);
        const bucketArn = String(byName(ev, "backups-bucket").outputs.arn);
        const keyArn = prod ? String(byName(ev, "backups-key").outputs.arn) : undefined;
        return {
            bucketArn,
            keyArn,
            uploader: String(byName(ev, "backups-uploader").outputs.arn),
            bucketPolicy: JSON.parse(String(byName(ev, "backups-policy").inputs.policy)) as Policy,
            uploaderPolicy: JSON.parse(String(byName(ev, "backups-uploader-policy").inputs.policy)) as Policy,
        };
    }

    it("gives every request of the matrix the expected decision", async () => {
        const p = await planned();
        const key = `${p.bucketArn}/supabase/2026-11-25T02-00-00Z.dump.zst`;
        const otherKey = `arn:aws:kms:offline-region:${OWNER_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
        // The header the backup job sends on PutObject / CreateMultipartUpload.
        const header: Context = prod ? { [SSE]: "aws:kms", [KMS_KEY_ID]: p.keyArn as string } : { [SSE]: "AES256" };
        const wrongAlgorithm: Context = prod ? { [SSE]: "AES256" } : { [SSE]: "aws:kms" };
        const admin = `arn:aws:iam::${OWNER_ACCOUNT}:user/admin`;
        const outsider = `arn:aws:iam::${OTHER_ACCOUNT}:user/intruder`;

        type Case = [name: string, expected: "allow" | "deny", request: Partial<Request> & Pick<Request, "action">];
        const cases: Case[] = [
            // Multipart, as @aws-sdk/lib-storage runs it: only CreateMultipartUpload carries the header.
            ["CreateMultipartUpload with the header", "allow", { action: "s3:PutObject", context: header }],
            ["UploadPart (no header)", "allow", { action: "s3:PutObject" }],
            ["CompleteMultipartUpload (no header)", "allow", { action: "s3:PutObject" }],
            ["AbortMultipartUpload", "allow", { action: "s3:AbortMultipartUpload" }],
            ["ListParts", "allow", { action: "s3:ListMultipartUploadParts" }],
            ["PutObject with the header", "allow", { action: "s3:PutObject", context: header }],
            // Without a header the bucket's default encryption applies: the same algorithm and key.
            ["PutObject without a header", "allow", { action: "s3:PutObject" }],
            ["GetObject (read back)", "allow", { action: "s3:GetObject" }],
            [
                "ListBucket under the prefix",
                "allow",
                { action: "s3:ListBucket", resource: p.bucketArn, context: { "s3:prefix": "supabase/" } },
            ],
            // Transport.
            ["UploadPart over plain HTTP", "deny", { action: "s3:PutObject", context: { "aws:SecureTransport": "false" } }],
            ["PutObject over plain HTTP", "deny", { action: "s3:PutObject", context: { ...header, "aws:SecureTransport": "false" } }],
            ["GetObject over plain HTTP", "deny", { action: "s3:GetObject", context: { "aws:SecureTransport": "false" } }],
            ["UploadPart over TLS 1.1", "deny", { action: "s3:PutObject", context: { "s3:TlsVersion": "1.1" } }],
            [
                "ListBucket over TLS 1.1",
                "deny",
                { action: "s3:ListBucket", resource: p.bucketArn, context: { "s3:prefix": "supabase/", "s3:TlsVersion": "1.1" } },
            ],
            // Encryption.
            ["a wrong algorithm", "deny", { action: "s3:PutObject", context: wrongAlgorithm }],
            ["aws:kms:dsse", "deny", { action: "s3:PutObject", context: { [SSE]: "aws:kms:dsse" } }],
            ["aws:kms with another key", "deny", { action: "s3:PutObject", context: { [SSE]: "aws:kms", [KMS_KEY_ID]: otherKey } }],
            ["aws:kms without a key id (would use aws/s3)", "deny", { action: "s3:PutObject", context: { [SSE]: "aws:kms" } }],
            ["SSE-C", "deny", { action: "s3:PutObject", context: { [SSE_C]: "AES256" } }],
            ["SSE-C on UploadPart", "deny", { action: "s3:PutObject", context: { [SSE_C]: "AES256" } }],
            // The prefix.
            ["PutObject outside the prefix", "deny", { action: "s3:PutObject", resource: `${p.bucketArn}/other/x`, context: header }],
            [
                "PutObject beside the prefix (supabase-x/)",
                "deny",
                { action: "s3:PutObject", resource: `${p.bucketArn}/supabase-x/y`, context: header },
            ],
            ["GetObject outside the prefix", "deny", { action: "s3:GetObject", resource: `${p.bucketArn}/other/x` }],
            [
                "ListBucket of another prefix",
                "deny",
                { action: "s3:ListBucket", resource: p.bucketArn, context: { "s3:prefix": "other/" } },
            ],
            ["ListBucket of the whole bucket", "deny", { action: "s3:ListBucket", resource: p.bucketArn }],
            // What a stolen uploader key must not do.
            ["DeleteObject", "deny", { action: "s3:DeleteObject" }],
            ["DeleteObjectVersion", "deny", { action: "s3:DeleteObjectVersion" }],
            ["PutObjectRetention", "deny", { action: "s3:PutObjectRetention" }],
            ["PutObjectLegalHold", "deny", { action: "s3:PutObjectLegalHold" }],
            ["BypassGovernanceRetention", "deny", { action: "s3:BypassGovernanceRetention" }],
            ["PutBucketPolicy", "deny", { action: "s3:PutBucketPolicy", resource: p.bucketArn }],
            ["PutLifecycleConfiguration", "deny", { action: "s3:PutLifecycleConfiguration", resource: p.bucketArn }],
            ["PutEncryptionConfiguration", "deny", { action: "s3:PutEncryptionConfiguration", resource: p.bucketArn }],
            ["PutBucketVersioning", "deny", { action: "s3:PutBucketVersioning", resource: p.bucketArn }],
            ["PutBucketObjectLockConfiguration", "deny", { action: "s3:PutBucketObjectLockConfiguration", resource: p.bucketArn }],
            ["PutBucketPublicAccessBlock", "deny", { action: "s3:PutBucketPublicAccessBlock", resource: p.bucketArn }],
            ["DeleteBucket", "deny", { action: "s3:DeleteBucket", resource: p.bucketArn }],
            // Other callers.
            ["anonymous GetObject", "deny", { principal: anonymousPrincipal, identity: [], action: "s3:GetObject" }],
            ["anonymous PutObject", "deny", { principal: anonymousPrincipal, identity: [], action: "s3:PutObject", context: header }],
            [
                "anonymous ListBucket",
                "deny",
                {
                    principal: anonymousPrincipal,
                    identity: [],
                    action: "s3:ListBucket",
                    resource: p.bucketArn,
                    context: { "s3:prefix": "supabase/" },
                },
            ],
            [
                "another account with s3:*",
                "deny",
                { principal: outsider, identity: [allowAll("s3:*")], action: "s3:PutObject", context: header },
            ],
            ["another account reading", "deny", { principal: outsider, identity: [allowAll("s3:*")], action: "s3:GetObject" }],
            // The bucket policy binds everyone, and locks no administrator out.
            ["an administrator over TLS", "allow", { principal: admin, identity: [allowAll("*")], action: "s3:GetObject" }],
            [
                "an administrator over plain HTTP",
                "deny",
                { principal: admin, identity: [allowAll("*")], action: "s3:GetObject", context: { "aws:SecureTransport": "false" } },
            ],
            [
                "an administrator with a wrong algorithm",
                "deny",
                { principal: admin, identity: [allowAll("*")], action: "s3:PutObject", context: wrongAlgorithm },
            ],
        ];

        const got: string[] = [];
        for (const [name, , r] of cases) {
            const decision = await decide({
                principal: p.uploader,
                identity: [p.uploaderPolicy],
                resource: key,
                resourcePolicy: p.bucketPolicy,
                ...r,
                context: { ...TLS, ...r.context },
            });
            got.push(`${name}: ${decision === "Allowed" ? "allow" : "deny"}`);
        }
        // One list, so that a failure shows every case that changed at once.
        expect(got).toEqual(cases.map(([name, expected]) => `${name}: ${expected}`));
    });

    it(prod ? "lets the uploader use the bucket's KMS key for data keys only" : "grants the uploader no KMS action (SSE-S3)", async () => {
        const p = await planned();
        const otherKey = `arn:aws:kms:offline-region:${OWNER_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
        // No key policy is set, so AWS gives the key its default policy: the account's IAM policies decide.
        const keyPolicy: Policy = {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "Enable IAM User Permissions",
                    Effect: "Allow",
                    Principal: { AWS: `arn:aws:iam::${OWNER_ACCOUNT}:root` },
                    Action: "kms:*",
                    Resource: "*",
                },
            ],
        };
        const kms = (action: string, resource = p.keyArn ?? otherKey) =>
            decide({ principal: p.uploader, identity: [p.uploaderPolicy], action, resource, resourcePolicy: keyPolicy, context: TLS });
        if (!prod) {
            expect(await kms("kms:GenerateDataKey")).not.toBe("Allowed");
            expect(await kms("kms:Decrypt")).not.toBe("Allowed");
            return;
        }
        expect(await kms("kms:GenerateDataKey")).toBe("Allowed");
        expect(await kms("kms:Decrypt")).toBe("Allowed");
        expect(await kms("kms:ScheduleKeyDeletion")).not.toBe("Allowed");
        expect(await kms("kms:PutKeyPolicy")).not.toBe("Allowed");
        expect(await kms("kms:GenerateDataKey", otherKey)).not.toBe("Allowed");
    });
});
