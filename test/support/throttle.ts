/**
 * A TCP proxy on loopback that slows what a server sends to its clients to a given rate: a
 * database read through it takes seconds, so a test can act while a COPY is under way.
 */
import { createServer, connect, type Socket } from "node:net";

export interface ThrottledProxy {
    port: number;
    close(): Promise<void>;
}

export async function startThrottledProxy(upstreamPort: number, bytesPerSecond: number): Promise<ThrottledProxy> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
        const upstream = connect(upstreamPort, "127.0.0.1");
        for (const s of [client, upstream]) {
            sockets.add(s);
            s.on("close", () => sockets.delete(s));
            // Either side going away ends the other: the proxy is invisible.
            s.on("error", () => undefined);
        }
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        client.pipe(upstream);
        upstream.on("data", (chunk: Buffer) => {
            client.write(chunk);
            upstream.pause();
            setTimeout(() => upstream.resume(), (chunk.length / bytesPerSecond) * 1000);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as { port: number }).port,
        close: () =>
            new Promise((resolve) => {
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}
