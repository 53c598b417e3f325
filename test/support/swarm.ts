/**
 * A Swarm of several real engines on one machine (shared/reference/docker-engine.md): each
 * dockerd in a network namespace of its own, the namespaces joined by a Linux bridge on the host,
 * so overlay networks (VXLAN, IPsec when encrypted) really cross between nodes. The kernel has no
 * IPVS: virtual IPs and the routing mesh do not work here; dnsrr and host-mode ports do.
 *
 * Every name (bridge, namespaces, veths) and address is drawn at random, so several helpers' test
 * runs can each have their own Swarm at once.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { promisify } from "node:util";
import { startEngine, waitFor, type Engine } from "./docker";
import { requireTool } from "./tools";

const run = promisify(execFile);
const IP = "/usr/sbin/ip";

export interface SwarmNode {
    /** n1, n2, …: n1 is the manager. */
    name: string;
    engine: Engine;
    /** The node's address on the bridge: where its host-mode ports answer, from the host. */
    address: string;
    /** The Swarm's node id. */
    id: string;
    netns: string;
}

export interface Swarm {
    nodes: SwarmNode[];
    manager: SwarmNode;
    /** The node with this Swarm node id. */
    node(id: string): SwarmNode;
    stop(): Promise<void>;
}

async function ip(args: string[]): Promise<string> {
    try {
        return (await run(IP, args, { timeout: 30_000 })).stdout;
    } catch (e) {
        throw new Error(`ip ${args.join(" ")} failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`, { cause: e });
    }
}

/** Removes what a node's engine may leave behind: VXLAN interfaces (`vx-*`, "file exists" next time), then the namespace. */
async function removeNamespace(netns: string): Promise<void> {
    const links = await ip(["-n", netns, "-o", "link", "show", "type", "vxlan"]).catch(() => "");
    for (const name of links.matchAll(/^\d+:\s+([^:@\s]+)/gm)) await ip(["-n", netns, "link", "del", name[1]]).catch(() => undefined);
    await ip(["netns", "del", netns]).catch(() => undefined);
}

/**
 * Starts `count` engines, each in its own namespace, and makes them one Swarm: n1 initialises it
 * and the others join as workers. Everything is removed again by `stop()`, also when start fails.
 */
export async function startSwarm(count = 3): Promise<Swarm> {
    requireTool("/usr/sbin/ip");
    requireTool("/usr/bin/nsenter");
    const tag = `tbx${randomBytes(3).toString("hex")}`;
    const bridge = `${tag}br`;
    // 10.244-254.x.0/24 for the nodes' link; each engine's own pools are 10.64-243.x.x (./docker.ts).
    const prefix = `10.${randomInt(244, 255)}.${randomInt(0, 256)}`;
    const namespaces: string[] = [];
    const engines: Engine[] = [];
    const stop = async () => {
        await Promise.all(engines.map((e) => e.stop().catch(() => undefined)));
        for (const ns of namespaces) await removeNamespace(ns);
        // A process left in a namespace keeps it (and its veth) alive: delete the host's ends too.
        for (let i = 1; i <= namespaces.length; i++) await ip(["link", "del", `${tag}v${i}`]).catch(() => undefined);
        await ip(["link", "del", bridge]).catch(() => undefined);
    };
    try {
        await ip(["link", "add", bridge, "type", "bridge"]);
        await ip(["addr", "add", `${prefix}.1/24`, "dev", bridge]);
        await ip(["link", "set", bridge, "up"]);
        const addresses: string[] = [];
        for (let i = 1; i <= count; i++) {
            const netns = `${tag}n${i}`;
            const veth = `${tag}v${i}`;
            const address = `${prefix}.${10 + i}`;
            await ip(["netns", "add", netns]);
            namespaces.push(netns);
            await ip(["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns]);
            await ip(["link", "set", veth, "master", bridge, "up"]);
            await ip(["-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"]);
            await ip(["-n", netns, "link", "set", "eth0", "up"]);
            await ip(["-n", netns, "link", "set", "lo", "up"]);
            // No default route: an image pull (nothing can be pulled here) fails at once instead of timing out.
            addresses.push(address);
        }
        engines.push(...(await Promise.all(namespaces.map((netns) => startEngine({ netns })))));
        const [first] = engines;
        await first.docker.swarmInit({
            ListenAddr: `${addresses[0]}:2377`,
            AdvertiseAddr: addresses[0],
            // Overlay subnets from a pool of this Swarm's own, away from the engines' bridge pools.
            DefaultAddrPool: [`10.${randomInt(64, 244)}.0.0/16`],
            SubnetSize: 24,
        });
        const token = ((await first.docker.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
        for (let i = 1; i < count; i++)
            await engines[i].docker.swarmJoin({
                ListenAddr: `${addresses[i]}:2377`,
                AdvertiseAddr: addresses[i],
                RemoteAddrs: [`${addresses[0]}:2377`],
                JoinToken: token,
            });
        const ready = await waitFor(
            async () => {
                const list = await first.docker.listNodes();
                return list.length === count && list.every((n) => n.Status?.State === "ready") ? list : undefined;
            },
            60_000,
            async () => `the Swarm's nodes are not all ready: ${JSON.stringify((await first.docker.listNodes()).map((n) => n.Status))}`,
        );
        const nodes = engines.map((engine, i) => {
            const node = ready.find((n) => n.Status?.Addr === addresses[i]);
            if (!node?.ID) throw new Error(`no Swarm node reports address ${addresses[i]}`);
            return { name: `n${i + 1}`, engine, address: addresses[i], id: node.ID, netns: namespaces[i] };
        });
        return {
            nodes,
            manager: nodes[0],
            node(id) {
                const found = nodes.find((n) => n.id === id);
                if (!found) throw new Error(`no node ${id} in this Swarm (${nodes.map((n) => n.id).join(", ")})`);
                return found;
            },
            stop,
        };
    } catch (e) {
        await stop();
        throw e;
    }
}
