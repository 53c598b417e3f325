import type { StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { FORBIDDEN_UPLOADER_ACTIONS } from "../lib/backup";
import { findLeaks } from "../lib/offline/leaks";
import { reveal, SecretValue } from "../lib/offline/values";
import { bucketsProtected } from "../policy/policies";
import { BackupBucket } from "../components/BackupBucket";
import { passwordSlots, rotationPeriod } from "../lib/credentials";
import { byName, evaluateProgramInline, evaluateStack, STACKS, TEST_CLOCK } from "./harness";

type Statement = {
    Sid: string;
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string>>;
};
const statements = (policy: unknown) => (JSON.parse(String(policy)) as { Statement: Statement[] }).Statement;

describe.each(STACKS)("BackupBucket (%s)", (stack) => {
    const prod = stack === "prod";

    it("versions, encrypts, blocks public access and enforces bucket ownership", async () => {
        const ev = await evaluateStack(stack);
        expect(byName(ev, "backups-versioning").inputs.versioningConfiguration).toEqual({ status: "Enabled" });
        const rule = (
            byName(ev, "backups-encryption").inputs.rules as {
                applyServerSideEncryptionByDefault: Record<string, string>;
                bucketKeyEnabled: boolean;
            }[]
        )[0];
        if (prod) {
            expect(rule.applyServerSideEncryptionByDefault).toMatchObject({
                sseAlgorithm: "aws:kms",
                kmsMasterKeyId: expect.stringMatching(/^arn:aws:kms:/),
            });
            expect(rule.bucketKeyEnabled).toBe(true);
            expect(byName(ev, "backups-key").inputs).toMatchObject({ enableKeyRotation: true });
        } else {
            expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
            expect(ev.resources.some((r) => r.type === "aws:kms/key:Key")).toBe(false);
        }
        expect(byName(ev, "backups-public-access").inputs).toMatchObject({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect(byName(ev, "backups-ownership").inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    });

    it("denies non-TLS, TLS below 1.2, a wrong encryption header or key, and SSE-C", async () => {
        const ev = await evaluateStack(stack);
        const policy = statements(byName(ev, "backups-policy").inputs.policy);
        const bySid = Object.fromEntries(policy.map((s) => [s.Sid, s]));
        expect(policy.every((s) => s.Effect === "Deny")).toBe(true);
        expect(bySid.DenyInsecureTransport.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
        expect(bySid.DenyTlsBelow12.Condition).toEqual({ NumericLessThan: { "s3:TlsVersion": "1.2" } });
        // Judged only where the header is present: UploadPart never carries it (test/backupPolicyEvaluation.test.ts).
        expect(bySid.DenyWrongEncryption.Condition).toEqual({
            Null: { "s3:x-amz-server-side-encryption": "false" },
            StringNotEquals: { "s3:x-amz-server-side-encryption": prod ? "aws:kms" : "AES256" },
        });
        expect(bySid.DenySseC.Condition).toEqual({ Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } });
        expect(Boolean(bySid.DenyWrongKmsKey)).toBe(prod);
        expect(byName(ev, "backups-policy").options.dependencies).toContain(byName(ev, "backups-public-access").urn);
    });

    it("expires backups after the retention, cleans up versions and uploads, and locks them in prod", async () => {
        const ev = await evaluateStack(stack);
        const rules = byName(ev, "backups-lifecycle").inputs.rules as Record<string, unknown>[];
        expect(rules[0]).toMatchObject({
            status: "Enabled",
            filter: { prefix: "supabase/" },
            expiration: { days: prod ? 30 : 7 },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        });
        expect(rules[1]).toMatchObject({ expiration: { expiredObjectDeleteMarker: true } });
        expect(byName(ev, "backups-bucket").inputs.objectLockEnabled).toBe(prod);
        if (prod) expect(byName(ev, "backups-object-lock").inputs.rule).toEqual({ defaultRetention: { mode: "GOVERNANCE", days: 29 } });
        else expect(ev.resources.some((r) => r.name === "backups-object-lock")).toBe(false);
    });

    it("survives pulumi destroy", async () => {
        const ev = await evaluateStack(stack);
        expect(byName(ev, "backups-bucket").options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(byName(ev, "backups-bucket").inputs.forceDestroy).toBe(false);
        if (prod) expect(byName(ev, "backups-key").options).toMatchObject({ protect: true, retainOnDelete: true });
    });

    it("lets the uploader write and read back under the prefix only: no delete, retention, bypass or bucket writes", async () => {
        const ev = await evaluateStack(stack);
        const policy = statements(byName(ev, "backups-uploader-policy").inputs.policy);
        const bucket = String(byName(ev, "backups-bucket").outputs.bucket);
        for (const s of policy) {
            expect(s.Effect).toBe("Allow");
            for (const action of [s.Action].flat())
                for (const forbidden of FORBIDDEN_UPLOADER_ACTIONS) expect(action, s.Sid).not.toMatch(forbidden);
            for (const resource of [s.Resource].flat()) {
                // Listing is the one bucket-level grant, and only for keys under the prefix.
                if (s.Sid === "ListBackups")
                    expect([resource, s.Action, s.Condition]).toEqual([
                        `arn:aws:s3:::${bucket}`,
                        ["s3:ListBucket"],
                        { StringLike: { "s3:prefix": ["supabase/*"] } },
                    ]);
                else if (resource.startsWith("arn:aws:s3")) expect(resource).toBe(`arn:aws:s3:::${bucket}/supabase/*`);
                else expect(resource).toMatch(/^arn:aws:kms:.*:key\//);
            }
        }
        expect(
            policy
                .map((s) => [s.Action].flat())
                .flat()
                .sort(),
        ).toEqual(
            [
                "s3:AbortMultipartUpload",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
                ...(prod ? ["kms:Decrypt", "kms:GenerateDataKey"] : []),
            ].sort(),
        );
    });

    it("stores the uploader's key in Vault only, as a secret", async () => {
        const ev = await evaluateStack(stack);
        const keys = ["a", "b"].map((slot) => byName(ev, `backups-uploader-key-${slot}`));
        for (const key of keys) expect(key.outputs.secret).toBeInstanceOf(SecretValue);
        const vault = byName(ev, "backups-uploader-credentials");
        expect(vault.inputs.name).toBe(`${prod ? "toolboxai" : "toolboxai-dev"}/backup`);
        const data = JSON.parse(reveal(vault.inputs.dataJson) as string);
        expect(Object.keys(data).sort()).toEqual(["access_key_id", "bucket", "kms_key_arn", "prefix", "region", "secret_access_key"]);
        // The active slot's key (test/uploaderKeyRotation.test.ts: which one, and how it rotates).
        expect(keys.map((key) => reveal(key.outputs.secret))).toContain(data.secret_access_key);
        expect(findLeaks(ev)).toEqual([]);
    });

    it("passes the policy pack's bucket policy", async () => {
        const ev = await evaluateStack(stack);
        const resources = ev.resources.map((r) => ({
            type: r.type,
            urn: r.urn,
            name: r.name,
            props: {
                ...(reveal(r.outputs) as object),
                id: r.type === "aws:s3/bucket:Bucket" ? (reveal(r.outputs) as { bucket: string }).bucket : undefined,
            },
        }));
        const found: string[] = [];
        (bucketsProtected.validateStack as (a: StackValidationArgs, report: (m: string) => void) => void)(
            { resources } as unknown as StackValidationArgs,
            (m) => found.push(m),
        );
        expect(found).toEqual([]);
    });
});

describe("BackupBucket alone", () => {
    const period = rotationPeriod(new Date(TEST_CLOCK), 90);
    const args = {
        bucketPrefix: "t-",
        prefix: "supabase",
        retentionDays: 7,
        kms: true,
        coldTransitionDays: 0,
        vault: { mount: "secret", name: "t/backup" },
        keySlots: passwordSlots(period, 0),
    };

    it("protects its data unless the caller says otherwise, and leaves the rest to the caller", async () => {
        const protectedByDefault = await evaluateProgramInline(() => (new BackupBucket("b", args), {}));
        expect(byName(protectedByDefault, "b-bucket").options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(byName(protectedByDefault, "b-key").options).toMatchObject({ protect: true, retainOnDelete: true });
        expect(byName(protectedByDefault, "b-versioning").options.protect).toBeUndefined();
        const throwaway = await evaluateProgramInline(() => (new BackupBucket("b", args, { protect: false, retainOnDelete: false }), {}));
        for (const name of ["b-bucket", "b-key"]) expect(byName(throwaway, name).options.protect ?? false, name).toBe(false);
        expect(byName(throwaway, "b-bucket").options.retainOnDelete ?? false).toBe(false);
    });
});

describe("BackupBucket identity", () => {
    // provider-pitfalls #12: a ForceNew change on a protected resource fails the whole `up`.
    it("never plans to replace the protected bucket: object lock turned on later goes through the lock configuration", async () => {
        const [before, after] = [await evaluateStack("dev"), await evaluateStack("dev", { overrides: { backupObjectLock: "true" } })];
        const [old, next] = [byName(before, "backups-bucket"), byName(after, "backups-bucket")];
        const ignored = next.options.ignoreChanges ?? [];
        expect(ignored).toEqual(expect.arrayContaining(["objectLockEnabled", "bucketPrefix"]));
        const changed = Object.keys({ ...old.inputs, ...next.inputs }).filter(
            (k) => JSON.stringify(old.inputs[k]) !== JSON.stringify(next.inputs[k]),
        );
        expect(changed).toEqual(["objectLockEnabled"]);
        for (const input of changed) expect(ignored).toContain(input);
        expect(byName(after, "backups-object-lock").inputs).toMatchObject({
            objectLockEnabled: "Enabled",
            rule: { defaultRetention: { mode: "GOVERNANCE", days: 6 } },
        });
        expect(next.options).toMatchObject({ protect: true, retainOnDelete: true });
    });
});
