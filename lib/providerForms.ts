/**
 * The forms in which the Docker provider (kreuzwerker/terraform-provider-docker, wrapped by
 * @pulumi/docker) reads values back. A value sent in any other form differs from the state after
 * every refresh, and `cpus` and a container's health check force replacement: so the program
 * sends these forms, and test/providerForms.test.ts checks every such value in both plans.
 */
/**
 * `cpus` as the Docker provider reads it back, so that a refresh finds no difference (`cpus`
 * forces replacement). A port of kreuzwerker/terraform-provider-docker `helpers.go`
 * `nanoInt64ToDecimalString`: the value as NanoCPUs with nine decimals; exactly nine zeros
 * in that text mean one decimal ("1.0", "2.0", "0.5", but "0.05" becomes "0.1"), otherwise
 * trailing zeros are trimmed ("1.5", and "10." for ten).
 */
export function nanoCpusString(nanoCpus: bigint): string {
    if (nanoCpus === 0n) return "0";
    const whole = nanoCpus / 1_000_000_000n;
    const frac = nanoCpus % 1_000_000_000n;
    const nine = `${whole}.${frac.toString().padStart(9, "0")}`;
    if ((nine.match(/0/g) ?? []).length === 9) {
        // big.Rat.FloatString(1): rounded half away from zero to one decimal.
        const tenths = (nanoCpus + 50_000_000n) / 100_000_000n;
        return `${tenths / 10n}.${tenths % 10n}`;
    }
    return nine.replace(/0+$/, "");
}

/** Whether the provider reads `cpus` back as the same amount (0.05 comes back as "0.1"). */
export function cpusReadBackUnchanged(cpus: number): boolean {
    const nano = BigInt(Math.round(cpus * 1e9));
    return BigInt(Math.round(Number.parseFloat(nanoCpusString(nano)) * 1e9)) === nano;
}

/** The `cpus` string to send for `cpus` CPUs; throws when the provider would read back another amount. */
export function providerCpus(cpus: number): string {
    const text = nanoCpusString(BigInt(Math.round(cpus * 1e9)));
    if (!cpusReadBackUnchanged(cpus)) {
        throw new Error(
            `cpus ${cpus} is read back by the Docker provider as "${text}", a different amount, so every refresh would replace the container: choose a value it reads back unchanged, e.g. 0.1, 0.25, 1 or 1.5`,
        );
    }
    return text;
}

const DURATION_UNITS: Record<string, bigint> = {
    ns: 1n,
    us: 1_000n,
    µs: 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};

/** Parses a Go duration ("30s", "5m", "1m30s", "1.5s", "500ms") into nanoseconds; throws on anything else. */
export function parseGoDuration(text: string): bigint {
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
    if (text === "0") return 0n;
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
        throw new Error(`${JSON.stringify(text)} is not a duration: write a number and a unit (ns, us, ms, s, m, h), e.g. "30s" or "5m"`);
    }
    let total = 0n;
    for (const [, num, unit] of parts) {
        const [int, frac = ""] = num.split(".");
        const scale = DURATION_UNITS[unit];
        total += BigInt(int) * scale + (frac ? (BigInt(frac) * scale) / 10n ** BigInt(frac.length) : 0n);
    }
    return total;
}

/** Go's `time.Duration.String()`: "5m0s", "1m0s", "30s", "1h0m0s", "1.5s", "500ms" (a port of Go's time/time.go). */
export function goDurationString(nanos: bigint): string {
    if (nanos === 0n) return "0s";
    const frac = (v: bigint, digits: number) => {
        const scale = 10n ** BigInt(digits);
        const f = (v % scale).toString().padStart(digits, "0").replace(/0+$/, "");
        return { int: v / scale, text: f ? `.${f}` : "" };
    };
    if (nanos < 1_000_000_000n) {
        const [unit, digits] = nanos < 1_000n ? ["ns", 0] : nanos < 1_000_000n ? ["µs", 3] : ["ms", 6];
        const { int, text } = frac(nanos, digits as number);
        return `${int}${text}${unit}`;
    }
    const { int: seconds, text } = frac(nanos, 9);
    const s = `${seconds % 60n}${text}s`;
    const minutes = seconds / 60n;
    if (minutes === 0n) return s;
    const hours = minutes / 60n;
    return hours === 0n ? `${minutes}m${s}` : `${hours}h${minutes % 60n}m${s}`;
}

/** kreuzwerker's `shortDur` (resource_docker_service_funcs.go), how a Swarm service's durations are read back: "5m", "1h", "30s". */
export function goShortDuration(nanos: bigint): string {
    let s = goDurationString(nanos);
    if (s.endsWith("m0s")) s = s.slice(0, -2);
    if (s.endsWith("h0m")) s = s.slice(0, -2);
    return s;
}

export interface HealthcheckSpec {
    tests: string[];
    interval: string;
    timeout: string;
    retries: number;
    startPeriod?: string;
}

/**
 * A health check with its durations in the form the provider reads back: Go's Duration.String
 * for a container (read with `.String()`), `shortDur` for a Swarm service.
 */
export function canonicalHealthcheck(h: HealthcheckSpec, kind: "container" | "service"): HealthcheckSpec {
    const form = (d: string) => (kind === "container" ? goDurationString : goShortDuration)(parseGoDuration(d));
    return {
        ...h,
        interval: form(h.interval),
        timeout: form(h.timeout),
        ...(h.startPeriod !== undefined ? { startPeriod: form(h.startPeriod) } : {}),
    };
}
