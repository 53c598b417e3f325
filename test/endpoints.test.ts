import { describe, expect, it } from "vitest";
import { containerHost, containerUrl, gatewayHosts, HOST_GATEWAY_ALIAS, isLoopbackHost } from "../lib/endpoints";

describe("endpoints as a container sees them", () => {
    it.each(["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "api.localhost", "localhost.", "::1", "[::1]", "0.0.0.0"])(
        "%s is loopback",
        (host) => {
            expect(isLoopbackHost(host)).toBe(true);
        },
    );

    it.each([
        "host.docker.internal",
        "db.toolboxaiprodprojref.supabase.co",
        "10.0.0.5",
        "172.17.0.1",
        "128.0.0.1",
        "localhost-db",
        "mylocalhost",
    ])("%s is not loopback", (host) => {
        expect(isLoopbackHost(host)).toBe(false);
    });

    it("turns a loopback host into the Docker host's alias and keeps any other", () => {
        expect(containerHost("127.0.0.1")).toBe(HOST_GATEWAY_ALIAS);
        expect(containerHost("db.toolboxaiprodprojref.supabase.co")).toBe("db.toolboxaiprodprojref.supabase.co");
    });

    it("changes only a URL's loopback host: scheme, port and path stay, no trailing slash appears", () => {
        expect(containerUrl("http://127.0.0.1:54321")).toBe("http://host.docker.internal:54321");
        expect(containerUrl("https://localhost:8200/v1")).toBe("https://host.docker.internal:8200/v1");
        expect(containerUrl("http://[::1]:8200")).toBe("http://host.docker.internal:8200");
        expect(containerUrl("https://toolboxaiprodprojref.supabase.co")).toBe("https://toolboxaiprodprojref.supabase.co");
    });

    it("asks for the host-gateway entry only when a container uses the alias", () => {
        expect(gatewayHosts(["host.docker.internal", "redis"])).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
        expect(gatewayHosts(["aws-0-eu-central-1.pooler.supabase.com", "vault.toolboxai.internal"])).toEqual([]);
    });
});
