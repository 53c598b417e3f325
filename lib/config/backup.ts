/** The backup bucket (region, retention, encryption, object lock) and the nightly job's schedule. */
import { DEFAULT_BACKUP_SCHEDULE } from "../backup";
import { awsRegion, boolean, cronSchedule, integer, oneOf, schemaList, vaultPathPrefix } from "./parsers";
import { ok } from "./schema";
import { vaultSettings } from "./vault";

const LOCK_MODES = ["GOVERNANCE", "COMPLIANCE"] as const;
/** The login the backup job dumps with (docs/operations/database-roles.md#backup). */
export const BACKUP_DATABASE_LOGINS = ["own-role", "owner"] as const;
export type BackupDatabaseLogin = (typeof BACKUP_DATABASE_LOGINS)[number];

export const backupSettings = vaultSettings
    .group("Backups")
    .add("awsRegion", awsRegion, {
        type: "string",
        doc: "AWS region of the backup bucket.",
        required: "is required: an AWS region code such as eu-central-1",
    })
    .add("backupRetentionDays", integer(1, 3650), {
        type: "integer",
        doc: "Days a backup is kept (1-3650).",
        default: (s) => (s.environment === "prod" ? 30 : 7),
        defaultText: "prod: 30; else 7",
    })
    .add("backupPrefix", vaultPathPrefix, { type: "string", doc: "Key prefix of the backups in the bucket.", default: "supabase" })
    .add("backupKms", boolean, {
        type: "boolean",
        doc: "Encrypt backups with a customer-managed KMS key (rotation on, bucket key on) instead of SSE-S3.",
        default: (s) => s.environment === "prod",
        defaultText: "prod: true; else false",
    })
    .add("backupObjectLock", boolean, {
        type: "boolean",
        doc: "S3 Object Lock on the bucket (turned on later, it is enabled on the existing bucket; AWS never turns it off, false only drops the default retention).",
        default: (s) => s.environment === "prod",
        defaultText: "prod: true; else false",
    })
    .add("backupObjectLockMode", oneOf(LOCK_MODES), { type: "string", doc: "GOVERNANCE or COMPLIANCE.", default: "GOVERNANCE" })
    // 0 (Pulumi.yaml's default) means a day less than the retention.
    .add(
        "backupObjectLockDays",
        (raw, s) => {
            const r = integer(0, 3650)(raw);
            return r.ok && r.value === 0 ? ok(lockDaysFor(s.backupRetentionDays)) : r;
        },
        {
            type: "integer",
            doc: "Default lock retention in days; shorter than backupRetentionDays.",
            default: (s) => lockDaysFor(s.backupRetentionDays),
            yamlDefault: 0,
            defaultText: "backupRetentionDays - 1",
            check: (days, s) =>
                s.backupObjectLock && s.backupRetentionDays && days >= s.backupRetentionDays
                    ? `must be shorter than backupRetentionDays (${s.backupRetentionDays}): a locked backup could not expire`
                    : undefined,
        },
    )
    .add("backupColdTransitionDays", integer(0, 3650), {
        type: "integer",
        doc: "Days before backups move to STANDARD_IA; 0 for never. Only where it saves money: at least 30, and 30 days before expiry.",
        default: 0,
        check: (days, s) =>
            days && s.backupRetentionDays && (days < 30 || s.backupRetentionDays - days < 30)
                ? `must be 0, or at least 30 and at least 30 days before expiry (backupRetentionDays ${s.backupRetentionDays}): STANDARD_IA bills 30 days minimum`
                : undefined,
    })
    .add("backupSchedule", cronSchedule, {
        type: "string",
        doc: "When the backup job runs: a cron expression in UTC (5 fields).",
        default: DEFAULT_BACKUP_SCHEDULE,
        defaultText: `${DEFAULT_BACKUP_SCHEDULE} (02:00 UTC daily)`,
    })
    .add("backupSchemas", schemaList, {
        type: "string",
        doc: "Comma-separated schemas the backup dumps; empty dumps the whole database, as the guide's script.",
        default: (): string[] => [],
        yamlDefault: "",
        defaultText: "whole database",
    })
    .add("backupDatabaseLogin", oneOf(BACKUP_DATABASE_LOGINS), {
        type: "string",
        doc: "The backup job's database login. own-role: its own read-only logins (pg_read_all_data, BYPASSRLS), and `pulumi up` fails where the deployer may not grant BYPASSRLS (hosted PostgreSQL 15). owner: the owner's login, for such servers only: the backup container then holds the owner's password (docs/operations/database-roles.md#backup).",
        default: "own-role",
    });

/** Without a valid retention the lock days stay 0: the retention's own problem is reported. */
function lockDaysFor(retentionDays: number | undefined): number {
    return retentionDays ? Math.max(1, retentionDays - 1) : 0;
}
