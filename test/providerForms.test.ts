/**
 * Values the Docker provider normalises when it reads a resource back. Any other form differs
 * from the state after every refresh; `cpus` and a container's health check force replacement.
 *
 * Sources (kreuzwerker/terraform-provider-docker, which @pulumi/docker wraps):
 * - `cpus`: Read sets `nanoInt64ToDecimalString(HostConfig.NanoCPUs)` (internal/provider/helpers.go;
 *   helpers_test.go expects 1e9 -> "1.0", 2e9 -> "2.0").
 * - container `healthcheck`: Read sets `Healthcheck.Interval.String()` etc.
 *   (resource_docker_container_funcs.go), i.e. Go's `time.Duration.String` ("5m0s").
 * - service durations: Read formats them with `shortDur` (resource_docker_service_funcs.go), which
 *   trims Go's "m0s" and "h0m" endings ("5m"). Swarm services are now written by the program
 *   (lib/swarm/provider.ts), which keeps what it was given; their health checks keep that form.
 */
import { describe, expect, it } from "vitest";
import {
    cpusReadBackUnchanged,
    goDurationString,
    goShortDuration,
    nanoCpusString,
    parseGoDuration,
    providerCpus,
} from "../lib/providerForms";
import { reveal } from "../lib/offline/values";
import { evaluateStack, STACKS } from "./harness";

describe("the provider's read-back forms", () => {
    it("formats NanoCPUs as nanoInt64ToDecimalString does", () => {
        // helpers_test.go's cases, and the branches of the function: nine zeros mean one decimal.
        expect(nanoCpusString(1_000_000_000n)).toBe("1.0");
        expect(nanoCpusString(2_000_000_000n)).toBe("2.0");
        expect(nanoCpusString(1_500_000_000n)).toBe("1.5");
        expect(nanoCpusString(500_000_000n)).toBe("0.5");
        expect(nanoCpusString(250_000_000n)).toBe("0.25");
        expect(nanoCpusString(10_000_000_000n)).toBe("10.");
        expect(nanoCpusString(50_000_000n)).toBe("0.1");
        expect(nanoCpusString(0n)).toBe("0");
    });

    it("sends cpus in that form, and refuses an amount that would come back as another", () => {
        expect([1, 2, 0.5, 1.5, 0.25, 10, 16, 20].map(providerCpus)).toEqual(["1.0", "2.0", "0.5", "1.5", "0.25", "10.", "16.0", "20."]);
        expect(cpusReadBackUnchanged(0.05)).toBe(false);
        expect(() => providerCpus(0.05)).toThrow(/cpus 0.05 is read back by the Docker provider as "0.1"/);
    });

    it("formats durations as Go's time.Duration.String and kreuzwerker's shortDur", () => {
        const go = (d: string) => goDurationString(parseGoDuration(d));
        // Go's own examples (time.Duration.String docs and time_test.go).
        expect(["5m", "1m", "30s", "1h", "90s", "1.5s", "500ms", "1h30m", "0"].map(go)).toEqual([
            "5m0s",
            "1m0s",
            "30s",
            "1h0m0s",
            "1m30s",
            "1.5s",
            "500ms",
            "1h30m0s",
            "0s",
        ]);
        expect(["5m", "5m0s", "1h", "2m", "10s"].map((d) => goShortDuration(parseGoDuration(d)))).toEqual(["5m", "5m", "1h", "2m", "10s"]);
        expect(() => parseGoDuration("5 minutes")).toThrow(/"5 minutes" is not a duration/);
    });
});

/** Every container's cpus and health check durations in a plan's resources. */
function walk(resources: { type: string; name: string; inputs: Record<string, unknown> }[]) {
    const found: { where: string; value: string; expected: string }[] = [];
    for (const r of resources) {
        const inputs = reveal(r.inputs) as Record<string, unknown>;
        if (r.type === "docker:index/container:Container") {
            if (inputs.cpus !== undefined)
                found.push({
                    where: `${r.name}.cpus`,
                    value: String(inputs.cpus),
                    expected: nanoCpusString(BigInt(Math.round(Number(inputs.cpus) * 1e9))),
                });
            const h = inputs.healthcheck as Record<string, string> | undefined;
            for (const key of ["interval", "timeout", "startPeriod"] as const) {
                if (h?.[key] !== undefined)
                    found.push({
                        where: `${r.name}.healthcheck.${key}`,
                        value: h[key],
                        expected: goDurationString(parseGoDuration(h[key])),
                    });
            }
        }
    }
    return found;
}

describe.each(STACKS)("every normalised value in %s's plan is already canonical", (stack) => {
    it("in a fresh evaluation of the program (not the committed snapshot, which a call site change leaves stale)", async () => {
        const found = walk((await evaluateStack(stack)).resources);
        // Four containers with cpus and a health check each: the walk must see them.
        expect(found.filter((f) => f.where.endsWith(".cpus")).length).toBe(4);
        expect(found.filter((f) => f.where.includes(".healthcheck.")).length).toBe(12);
        for (const f of found) expect(f.value, f.where).toBe(f.expected);
    });
});
