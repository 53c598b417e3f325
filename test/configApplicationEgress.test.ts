/**
 * applicationEgressIpv4 in the stack config: the application hosts' egress IPv4 addresses that
 * doctor looks for among the hosted project's network bans; validated before any resource exists,
 * hosted only, and handed to the ops tool through the supabaseProject output.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig, SECRET_KEYS } from "../lib/config";
import { readStackFiles } from "../lib/offline/stackFiles";
import { evaluateStack, PROJECT_DIR } from "./harness";

const SECRETS = {
    vaultToken: "hvs.config-egress-test-token-0000000",
    supabaseAccessToken: `sbp_${"beef".repeat(10)}`,
    registryUsername: "toolboxai-deploy-bot",
    registryPassword: "ghp_registry-config-egress-test-0",
};

function parse(stack: "dev" | "prod", changes: Record<string, string>) {
    const files = readStackFiles(PROJECT_DIR, stack);
    const values: Record<string, string> = Object.fromEntries(
        Object.entries({ ...files.defaults, ...files.values }).map(([k, v]) => [k.replace(/^toolboxai:/, ""), v]),
    );
    Object.assign(values, stack === "prod" ? SECRETS : { vaultToken: SECRETS.vaultToken }, changes);
    return parseStackConfig({ values, secretKeys: new Set(SECRET_KEYS.filter((k) => values[k] !== undefined)) }).settings;
}

function problem(stack: "dev" | "prod", value: string): string {
    try {
        parse(stack, { applicationEgressIpv4: value });
    } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message.split("\n").find((l) => l.includes("toolboxai:applicationEgressIpv4 = "))!;
    }
    throw new Error("expected a ConfigError");
}

describe("applicationEgressIpv4", () => {
    it("takes comma-separated IPv4 addresses, and is absent when unset", () => {
        expect(parse("prod", { applicationEgressIpv4: "203.0.113.7, 198.51.100.23" }).applicationEgressIpv4).toEqual([
            "203.0.113.7",
            "198.51.100.23",
        ]);
        expect(parse("prod", {}).applicationEgressIpv4).toBeUndefined();
    });

    it("refuses a network, IPv6 or a name, naming the setting and the bad entry", () => {
        expect(problem("prod", "203.0.113.0/24")).toMatch(
            /toolboxai:applicationEgressIpv4 = "203\.0\.113\.0\/24": "203\.0\.113\.0\/24" is a network, not an address/,
        );
        expect(problem("prod", "2001:db8::1")).toMatch(/is IPv6: Supabase's network bans are IPv4 only/);
        expect(problem("prod", "app.example.com")).toMatch(/"app\.example\.com" is not an IPv4 address/);
    });

    it("is refused on a local stack (bans are the hosted pooler's)", () => {
        expect(problem("dev", "203.0.113.7")).toMatch(/is only used when supabaseMode is hosted/);
    });

    it("reaches the ops tool through the supabaseProject output", async () => {
        const ev = await evaluateStack("prod", { overrides: { applicationEgressIpv4: "203.0.113.7" } });
        expect((ev.outputs.supabaseProject as { applicationEgressIpv4: unknown }).applicationEgressIpv4).toEqual(["203.0.113.7"]);
        const unset = await evaluateStack("prod");
        expect((unset.outputs.supabaseProject as { applicationEgressIpv4: unknown }).applicationEgressIpv4).toBeNull();
    });
});
