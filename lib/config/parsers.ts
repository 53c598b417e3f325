/**
 * Field parsers: each takes the raw string and returns the value or what is allowed.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { Cron } from "croner";
import { SCHEMA_NAME } from "../backup";
import { HOST_GATEWAY_ALIAS, isLoopbackHost } from "../endpoints";
import { bad, ok, type ConfigProblem, type Parsed } from "./parsed";

export function oneOf<T extends string>(allowed: readonly T[]) {
    return (raw: string): Parsed<T> =>
        (allowed as readonly string[]).includes(raw) ? ok(raw as T) : bad(`must be one of ${allowed.join(", ")}`);
}

export function integer(min: number, max: number) {
    return (raw: string): Parsed<number> => {
        if (!/^-?\d+$/.test(raw.trim())) return bad(`must be an integer from ${min} to ${max}`);
        const n = Number(raw);
        return n >= min && n <= max ? ok(n) : bad(`must be an integer from ${min} to ${max}`);
    };
}

export const port = integer(1, 65535);

export function boolean(raw: string): Parsed<boolean> {
    if (raw === "true") return ok(true);
    if (raw === "false") return ok(false);
    return bad("must be true or false");
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** A literal IPv4 or IPv6 address (no hostname: Docker binds to addresses). */
export function hostAddress(raw: string): Parsed<string> {
    return isIP(raw) ? ok(raw) : bad("must be an IP address of the Docker host, such as 127.0.0.1, 10.0.0.5 or 0.0.0.0 (every interface)");
}

export function hostname(raw: string): Parsed<string> {
    return HOSTNAME.test(raw) || IPV4.test(raw) ? ok(raw) : bad("must be a DNS hostname or IPv4 address");
}

/** Wraps a parser: the value must not point at loopback, which inside a container is the container. */
/** A registry host as Docker names it: host[:port], no scheme or path. */
export function registryAddress(raw: string): Parsed<string> {
    const [host, portText, ...rest] = raw.split(":");
    const portOk = portText === undefined || port(portText).ok;
    return rest.length === 0 && hostname(host).ok && host.includes(".") && portOk
        ? ok(raw)
        : bad("must be a registry host such as ghcr.io or registry.example.com:5000, without scheme or path");
}

export function reachableFromContainer(parse: (raw: string) => Parsed<string>, hostOf: (value: string) => string) {
    return (raw: string): Parsed<string> => {
        const r = parse(raw);
        if (r.ok && isLoopbackHost(hostOf(r.value))) {
            return bad(
                `must be reachable from inside a container, where ${hostOf(r.value)} is the container itself: use ${HOST_GATEWAY_ALIAS} for the Docker host, or the service's address`,
            );
        }
        return r;
    };
}
export const urlHost = (url: string) => new URL(url).hostname;

export function httpUrl(requireHttps: boolean) {
    return (raw: string): Parsed<string> => {
        const allowed = requireHttps ? "must be an https:// URL with a host" : "must be an http:// or https:// URL with a host";
        let url: URL;
        try {
            url = new URL(raw);
        } catch {
            return bad(allowed);
        }
        const schemes = requireHttps ? ["https:"] : ["http:", "https:"];
        if (!schemes.includes(url.protocol) || url.hostname === "" || url.username || url.password) return bad(allowed);
        if (url.search || url.hash) return bad(`${allowed}, without query or fragment`);
        return ok(raw.replace(/\/+$/, ""));
    };
}

const IDENTIFIER = /^[a-z_][a-z0-9_.$-]{0,62}$/;
export function identifier(raw: string): Parsed<string> {
    return IDENTIFIER.test(raw)
        ? ok(raw)
        : bad("must be a PostgreSQL identifier: lowercase letters, digits, _ . $ -, at most 63 characters");
}

const PATH_SEGMENT = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export function vaultMount(raw: string): Parsed<string> {
    return PATH_SEGMENT.test(raw) ? ok(raw) : bad("must be one path segment of lowercase letters, digits, _ or - (e.g. secret)");
}

export function vaultPathPrefix(raw: string): Parsed<string> {
    const segments = raw.split("/");
    return segments.every((s) => PATH_SEGMENT.test(s))
        ? ok(raw)
        : bad("must be path segments of lowercase letters, digits, _ or - joined by /, with no '..', spaces or empty segments");
}

const PROJECT_REF = /^[a-z]{20}$/;
export function projectRef(raw: string): Parsed<string> {
    return PROJECT_REF.test(raw) ? ok(raw) : bad("must be a Supabase project ref: 20 lowercase letters");
}

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
export function awsRegion(raw: string): Parsed<string> {
    return AWS_REGION.test(raw) ? ok(raw) : bad("must be an AWS region code such as eu-central-1");
}

export function dockerHost(raw: string): Parsed<string> {
    if (/^unix:\/\/\/\S+$/.test(raw)) return ok(raw);
    if (/^ssh:\/\/([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:\d{1,5})?$/.test(raw)) return ok(raw);
    return bad("must be unix:///path/to/docker.sock or ssh://user@host[:port]; plain tcp:// would expose the engine unencrypted");
}

// Docker's reference grammar (distribution/reference, reference/regexp.go): an optional registry
// domain (dot-separated components that may hold '-' and upper case, then an optional port), then
// lowercase path components joined by '.', '_', '__' or any run of '-'; a tag; a digest.
const ALNUM = "[a-z0-9]+";
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|-+)${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const IMAGE = new RegExp(
    `^(?<repo>(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(?<tag>\\w[\\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$`,
);
export function image(pinned: boolean) {
    return (raw: string): Parsed<string> => {
        const m = IMAGE.exec(raw);
        if (!m?.groups) return bad("must be an image reference such as ghcr.io/org/app:1.2.3 or name@sha256:<64 hex>");
        const { tag, digest } = m.groups;
        if (pinned && !digest && (!tag || tag === "latest")) {
            return bad("must be pinned in prod: an explicit tag other than latest, or @sha256:<digest>");
        }
        return ok(raw);
    };
}

export function caCertificate(raw: string): Parsed<string> {
    const allowed = "must be a PEM CA certificate (-----BEGIN CERTIFICATE----- ...)";
    try {
        // node:crypto parses it as the TLS stack will; a leaf certificate cannot anchor verification.
        const cert = new X509Certificate(raw);
        return cert.ca ? ok(`${raw.trim()}\n`) : bad(`${allowed}; this one is not a CA (basicConstraints CA:FALSE)`);
    } catch {
        return bad(allowed);
    }
}

export function cronSchedule(raw: string): Parsed<string> {
    const allowed = "must be a 5-field cron expression in UTC such as 0 2 * * * (minute hour day month weekday)";
    if (raw.trim().split(/\s+/).length !== 5) return bad(allowed);
    try {
        // croner is what the job schedules with: what parses here runs there.
        new Cron(raw, { paused: true, timezone: "UTC" });
        return ok(raw.trim());
    } catch {
        return bad(allowed);
    }
}

export function schemaList(raw: string): Parsed<string[]> {
    const schemas = raw.split(",").map((s) => s.trim());
    return schemas.every((s) => SCHEMA_NAME.test(s)) ? ok(schemas) : bad("must be comma-separated schema names such as public,private");
}

/** A JSON object (a YAML mapping in the stack file), or a problem under `key`. */
export function jsonObject(key: string, raw: string, report: (p: ConfigProblem) => void): Record<string, unknown> | undefined {
    try {
        const value = JSON.parse(raw);
        if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
        // Reported below.
    }
    report({ key, shown: JSON.stringify(raw), allowed: "must be a JSON object (in the stack file, a YAML mapping)" });
    return undefined;
}

/** The Management API base URL: https, or http on loopback only (a local double of the API in tests). */
export function managementUrl(raw: string): Parsed<string> {
    const r = httpUrl(false)(raw);
    if (!r.ok) return r;
    const url = new URL(r.value);
    return url.protocol !== "https:" && !isLoopbackHost(url.hostname)
        ? bad("must be an https:// URL (http:// only on a loopback host)")
        : r;
}
