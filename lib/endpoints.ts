/**
 * Endpoints as a container sees them. Hosts and URLs in the stack config serve the commands
 * `pulumi up` runs on the host (migrations, the password change); inside a container a loopback
 * address is the container itself, so there a loopback host becomes the Docker host's alias.
 */

/** The name containers use for the Docker host; the `hosts` entry below makes it resolve on Linux. */
export const HOST_GATEWAY_ALIAS = "host.docker.internal";

/** `host-gateway` is resolved by the engine that starts the container: its default bridge's gateway (docker0). */
export const HOST_GATEWAY_ENTRY: { host: string; ip: string } = { host: HOST_GATEWAY_ALIAS, ip: "host-gateway" };

/** True for names and addresses that mean "this machine": from inside a container, the container. */
export function isLoopbackHost(host: string): boolean {
    const h = host
        .toLowerCase()
        .replace(/^\[(.*)\]$/, "$1")
        .replace(/\.$/, "");
    return h === "localhost" || h.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(h) || h === "::1" || h === "0.0.0.0";
}

/** The container's view of a host: a loopback host becomes HOST_GATEWAY_ALIAS, any other stays. */
export function containerHost(host: string): string {
    return isLoopbackHost(host) ? HOST_GATEWAY_ALIAS : host;
}

/** The container's view of an http(s) URL: only a loopback host changes; scheme, port and path stay. */
export function containerUrl(url: string): string {
    const parsed = new URL(url);
    if (!isLoopbackHost(parsed.hostname)) return url;
    parsed.hostname = HOST_GATEWAY_ALIAS;
    // URL adds "/" to an empty path; config values carry no trailing slash.
    return parsed.toString().replace(/\/+$/, "");
}

/** The `hosts` entries a container needs for the hosts it connects to: the alias's, if it uses it. */
export function gatewayHosts(hosts: readonly string[]): { host: string; ip: string }[] {
    return hosts.some((h) => h.toLowerCase() === HOST_GATEWAY_ALIAS) ? [HOST_GATEWAY_ENTRY] : [];
}
