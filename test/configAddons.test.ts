/**
 * The add-on settings in the stack config, refused before any resource exists: supabasePitr (the
 * variants, hosted only, a compute size that carries it), supabaseInstanceSize for a created or an
 * adopted project, and databasePoolSize against the pooler's limit of the size in config.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, SECRET_KEYS } from "../lib/config";
import { readStackFiles } from "../lib/offline/stackFiles";
import { CREATE_PROJECT, PROJECT_DIR } from "./harness";

const PROD_SECRETS = {
    vaultToken: "hvs.config-pitr-test-token-0000000",
    supabaseAccessToken: `sbp_${"fade".repeat(10)}`,
    registryUsername: "toolboxai-deploy-bot",
    registryPassword: "ghp_registry-config-pitr-test-00",
};

/** A stack file's settings with `changes` on top (undefined removes a key), prod's secrets set as secrets. */
function settingsOf(stack: "dev" | "prod", changes: Record<string, string | undefined>) {
    const files = readStackFiles(PROJECT_DIR, stack);
    const values: Record<string, string | undefined> = Object.fromEntries(
        Object.entries({ ...files.defaults, ...files.values }).map(([k, v]) => [k.replace(/^toolboxai:/, ""), v]),
    );
    Object.assign(values, stack === "prod" ? PROD_SECRETS : { vaultToken: PROD_SECRETS.vaultToken }, changes);
    for (const [k, v] of Object.entries(changes)) if (v === undefined) delete values[k];
    return () => parseStackConfig({ values, secretKeys: new Set(SECRET_KEYS.filter((k) => values[k] !== undefined)) }).settings;
}

function problemOf(stack: "dev" | "prod", changes: Record<string, string | undefined>, key = "supabasePitr"): string {
    try {
        settingsOf(stack, changes)();
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        // The line the operator reads: `toolboxai:<key> = <value>: <what is allowed>`.
        const lines = (e as Error).message.split("\n").filter((line) => line.includes(`toolboxai:${key} = `));
        expect(lines).toHaveLength(1);
        return lines[0];
    }
    throw new Error("expected a ConfigError");
}

describe("supabasePitr", () => {
    it("is left alone when unset, and takes off or a variant on an adopted project", () => {
        expect(settingsOf("prod", {})().supabasePitr).toBeUndefined();
        expect(settingsOf("prod", { supabasePitr: "pitr_7" })().supabasePitr).toBe("pitr_7");
        expect(settingsOf("prod", { supabasePitr: "off" })().supabasePitr).toBe("off");
    });

    it("refuses an unknown variant, naming the value and the allowed ones", () => {
        const problem = problemOf("prod", { supabasePitr: "pitr_30" });
        expect(problem).toContain('"pitr_30"');
        expect(problem).toMatch(/one of off, pitr_7, pitr_14, pitr_28/);
    });

    it("refuses it in local mode", () => {
        expect(problemOf("dev", { supabasePitr: "pitr_7" })).toMatch(
            /only used when supabaseMode is hosted: remove it with `pulumi config rm supabasePitr`/,
        );
    });

    it("refuses PITR on a created project of Micro or of the organization's default size, and names the fix", () => {
        const micro = problemOf("prod", { ...CREATE_PROJECT, supabaseInstanceSize: "micro", supabasePitr: "pitr_14" });
        expect(micro).toContain('"pitr_14"');
        expect(micro).toMatch(
            /needs compute Small or larger, and supabaseInstanceSize is micro: set `pulumi config set supabaseInstanceSize small`/,
        );
        expect(problemOf("prod", { ...CREATE_PROJECT, supabasePitr: "pitr_7" })).toMatch(/supabaseInstanceSize is unset/);
    });

    it("accepts PITR on a created project of Small or larger, and off on any size", () => {
        expect(settingsOf("prod", { ...CREATE_PROJECT, supabaseInstanceSize: "small", supabasePitr: "pitr_28" })().supabasePitr).toBe(
            "pitr_28",
        );
        expect(settingsOf("prod", { ...CREATE_PROJECT, supabaseInstanceSize: "micro", supabasePitr: "off" })().supabasePitr).toBe("off");
    });
});

describe("supabasePitr with an adopted project's size in config", () => {
    it("refuses PITR on an adopted Micro project at config time", () => {
        expect(problemOf("prod", { supabaseInstanceSize: "micro", supabasePitr: "pitr_7" })).toMatch(/supabaseInstanceSize is micro/);
        expect(settingsOf("prod", { supabaseInstanceSize: "small", supabasePitr: "pitr_7" })().supabasePitr).toBe("pitr_7");
    });
});

describe("supabaseInstanceSize", () => {
    it("is taken for an adopted project as well as a created one", () => {
        expect(settingsOf("prod", { supabaseInstanceSize: "medium" })().supabaseInstanceSize).toBe("medium");
        expect(settingsOf("prod", { ...CREATE_PROJECT, supabaseInstanceSize: "nano" })().supabaseInstanceSize).toBe("nano");
    });

    it("refuses nano for an adopted project, and any size in local mode", () => {
        expect(problemOf("prod", { supabaseInstanceSize: "nano" }, "supabaseInstanceSize")).toMatch(
            /nano cannot be chosen for an existing project .*choose micro or larger/,
        );
        expect(problemOf("dev", { supabaseInstanceSize: "small" }, "supabaseInstanceSize")).toMatch(
            /only used when supabaseMode is hosted/,
        );
    });
});

describe("databasePoolSize against the compute size in config", () => {
    it("refuses a pool above the pooler's client limit, naming the value, the limit and the fix", () => {
        const problem = problemOf("prod", { supabaseInstanceSize: "micro", databasePoolSize: "201" }, "databasePoolSize");
        expect(problem).toContain('"201"');
        expect(problem).toMatch(
            /above the 200 client connections the pooler of compute micro accepts: lower databasePoolSize, or raise supabaseInstanceSize/,
        );
    });

    it("takes a pool up to the limit, and any pool when the size is not in config", () => {
        expect(settingsOf("prod", { supabaseInstanceSize: "micro", databasePoolSize: "200" })().databasePoolSize).toBe(200);
        expect(settingsOf("prod", { databasePoolSize: "900" })().databasePoolSize).toBe(900);
    });
});

describe("supabaseReadReplicas", () => {
    it("takes regions of the spec's enum, or none, and is left alone when unset", () => {
        expect(settingsOf("prod", { supabaseReadReplicas: "eu-west-1,us-east-1" })().supabaseReadReplicas).toEqual([
            "eu-west-1",
            "us-east-1",
        ]);
        expect(settingsOf("prod", { supabaseReadReplicas: "none" })().supabaseReadReplicas).toEqual([]);
        expect(settingsOf("prod", {})().supabaseReadReplicas).toBeUndefined();
    });

    it("refuses an unknown region, naming it and the allowed ones", () => {
        const problem = problemOf("prod", { supabaseReadReplicas: "eu-west-1,mars-1" }, "supabaseReadReplicas");
        expect(problem).toContain('"eu-west-1,mars-1"');
        expect(problem).toMatch(/"mars-1" is not a region: use us-east-1, .*sa-east-1, or none/);
    });

    it("refuses more replicas than the compute size in config allows, and any in local mode", () => {
        expect(
            problemOf(
                "prod",
                { supabaseInstanceSize: "large", supabaseReadReplicas: "eu-west-1,us-east-1,ap-south-1" },
                "supabaseReadReplicas",
            ),
        ).toMatch(/3 read replicas exceed the 2 compute large allows/);
        expect(problemOf("prod", { supabaseInstanceSize: "micro", supabaseReadReplicas: "eu-west-1" }, "supabaseReadReplicas")).toMatch(
            /need compute Small or larger/,
        );
        expect(problemOf("dev", { supabaseReadReplicas: "eu-west-1" }, "supabaseReadReplicas")).toMatch(
            /only used when supabaseMode is hosted/,
        );
    });
});
