/**
 * doctor's backups group checks the newest object against its manifest's SHA-256, not only its
 * table of contents; and restore reports a table with fewer rows than the manifest. The objects
 * are the backup job's own (its bundle run against a real PostgreSQL 15 and s3rver), then
 * corrupted, cut short or stripped of their manifest.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBackupJob } from "../backup-job/build";
import { backupKey } from "../backup-job/job";
import { manifestKey, type Manifest } from "../backup-job/manifest";
import { main } from "../ops/cli";
import { backupJobEnv, createAppDatabase, runBackupJob } from "./support/backup";
import { startPostgres, type PostgresServer } from "./support/postgres";
import { S3RVER_ACCESS_KEY_ID, startS3, type S3Server } from "./support/s3";

const BUCKET = "toolboxai-hash-backups";
const DB_PASSWORD = "hash-test-db-password-3a91";

let pg: PostgresServer;
let s3: S3Server;
let work: string;
let dump: Buffer;
let manifest: Manifest;

type Check = { group: string; name: string; status: string; evidence: string; fix?: string };

const backupFlags = (prefix: string) => [
    "--bucket",
    BUCKET,
    "--prefix",
    prefix,
    "--s3-endpoint",
    s3.endpoint,
    "--aws-credentials-file",
    join(work, "aws_credentials"),
];

async function doctor(prefix: string, ...extra: string[]) {
    const o = await main(["doctor", "--json", "--skip", "database,pooler,redis,vault,hosted", ...backupFlags(prefix), ...extra], {});
    const checks = (JSON.parse(o.stdout) as { checks: Check[] }).checks;
    return { code: o.code, check: (name: string) => checks.find((c) => c.group === "backups" && c.name === name)! };
}

/** A backup under `prefix`: the job's dump (or bytes made from it) and its manifest (or none). */
async function plant(prefix: string, body: Buffer, withManifest: Manifest | undefined): Promise<string> {
    const key = backupKey(prefix, new Date(Date.now() - 60_000));
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    if (withManifest)
        await s3.client.send(
            new PutObjectCommand({ Bucket: BUCKET, Key: manifestKey(key), Body: JSON.stringify({ ...withManifest, key }) }),
        );
    return key;
}

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "toolboxai-hash-"));
    let bundle: string;
    [bundle, pg, s3] = await Promise.all([buildBackupJob(join(work, "backup-job.js")), startPostgres(), startS3([BUCKET])]);
    await pg.sql(`alter role postgres password '${DB_PASSWORD}'`);
    const secret = (name: string, content: string) => {
        writeFileSync(join(work, name), content);
        chmodSync(join(work, name), 0o600);
    };
    secret("pgpass", `127.0.0.1:*:*:postgres:${DB_PASSWORD}\n`);
    secret("aws_credentials", `[default]\naws_access_key_id = ${S3RVER_ACCESS_KEY_ID}\naws_secret_access_key = hash-test-aws-secret\n`);
    writeFileSync(join(work, "aws_config"), "");
    await createAppDatabase(pg, "app", { scale: 200, projectsPerUser: 3 });
    const job = await runBackupJob(bundle, backupJobEnv({ work, pgPort: pg.port, s3Endpoint: s3.endpoint, bucket: BUCKET }));
    expect(job.code).toBe(0);
    const key = String(job.report.key);
    const get = async (k: string) =>
        Buffer.from(await (await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: k }))).Body!.transformToByteArray());
    dump = await get(key);
    manifest = JSON.parse((await get(manifestKey(key))).toString()) as Manifest;
}, 240_000);

afterAll(async () => {
    await Promise.all([pg?.stop(), s3?.stop()]);
    if (work) rmSync(work, { recursive: true, force: true });
});

describe("doctor: the newest backup against its manifest", () => {
    it("passes the job's own object, hashing all of it", async () => {
        const r = await doctor("supabase");
        expect(r.check("SHA-256")).toMatchObject({
            status: "pass",
            evidence: `${dump.length} bytes hashed: ${manifest.sha256}, equal to the manifest's`,
        });
        expect(r.check("pg_restore --list").status).toBe("pass");
        expect(r.code).toBe(0);
    }, 60_000);

    it("fails an object with one byte flipped (same size), with a fix, where the table of contents still reads", async () => {
        const corrupt = Buffer.from(dump);
        // Past the table of contents: reading only that would pass this object.
        corrupt[Math.floor(corrupt.length * 0.75)] ^= 0xff;
        await plant("corrupt", corrupt, manifest);
        const r = await doctor("corrupt");
        expect(r.code).toBe(1);
        expect(r.check("pg_restore --list").status).toBe("pass");
        expect(r.check("SHA-256")).toMatchObject({
            status: "fail",
            evidence: expect.stringMatching(
                new RegExp(`SHA-256 [0-9a-f]{64} differs from the manifest's ${manifest.sha256} \\(same size: the bytes changed\\)$`),
            ) as string,
            fix: expect.stringMatching(/^the newest backup is corrupt: do not rely on it; take a new backup now/) as string,
        });
        // People read the same fix in the table.
        const table = await main(["doctor", "--skip", "database,pooler,redis,vault,hosted", ...backupFlags("corrupt")], {});
        expect(table.stdout).toMatch(/FAIL\s+backups: SHA-256/);
        expect(table.stdout).toMatch(/backups: SHA-256\n\s+fix: the newest backup is corrupt/);

        // Above the size limit it is not hashed, and the output says so rather than passing it.
        const capped = await doctor("corrupt", "--backup-hash-max-mb", "0");
        expect(capped.check("SHA-256")).toMatchObject({
            status: "skip",
            evidence: expect.stringMatching(/^not checked: \d+ MiB is above --backup-hash-max-mb 0; run ops drill/) as string,
        });
        expect(capped.code).toBe(0);
    }, 60_000);

    it("fails an object whose size is not the manifest's, before hashing it", async () => {
        await plant("truncated", dump.subarray(0, dump.length - 100), manifest);
        const r = await doctor("truncated");
        expect(r.code).toBe(1);
        expect(r.check("SHA-256")).toMatchObject({
            status: "fail",
            evidence: expect.stringMatching(new RegExp(`is ${dump.length - 100} bytes, its manifest says ${dump.length}: `)) as string,
        });
    }, 60_000);

    it("warns when the newest backup has no manifest: its hash cannot be checked", async () => {
        await plant("nomanifest", dump, undefined);
        const r = await doctor("nomanifest");
        expect(r.check("SHA-256")).toMatchObject({
            status: "warn",
            evidence: expect.stringMatching(/^no manifest beside nomanifest\/\d{8}T\d{6}Z\.dump: its SHA-256 cannot be checked/) as string,
        });
        expect(r.check("pg_restore --list").status).toBe("pass");
    }, 60_000);
});

describe("restore: row counts against the manifest", () => {
    it("reports a restore with fewer rows than its manifest says, table by table", async () => {
        const rows = manifest.tables["public.projects"];
        expect(rows).toBeGreaterThan(0);
        await plant("fewer", dump, { ...manifest, tables: { ...manifest.tables, "public.projects": rows + 1 } });
        await pg.sql("create database fewer");
        const target = `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:${pg.port}/fewer?sslmode=disable`;
        const r = await main(["restore", "--json", ...backupFlags("fewer"), "--target", target], {});
        expect(r.code).toBe(1);
        expect((JSON.parse(r.stdout) as { problems: string[] }).problems).toEqual([
            `public.projects: manifest ${rows + 1} rows, restored ${rows}`,
        ]);
        const text = await main(["restore", ...backupFlags("fewer"), "--target", target, "--clean"], {});
        expect(text.code).toBe(1);
        expect(text.stdout).toMatch(new RegExp(`public\\.projects\\s+${rows + 1}\\s+${rows}\\s+DIFFERS`));
    }, 120_000);
});
