import { describe, expect, it } from "vitest";
import { byName, evaluateStack, ofType, STACKS, SWARM } from "./harness";

describe.each(STACKS)("DockerNetworks (%s)", (stack) => {
    it("creates the guide's three networks, named per stack, internal where the guide has them", async () => {
        const networks = ofType(await evaluateStack(stack), "docker:index/network:Network");
        expect(networks.map((n) => [n.inputs.name, n.inputs.internal]).sort()).toEqual([
            [`toolboxai-${stack}-backend`, true],
            [`toolboxai-${stack}-cache`, true],
            [`toolboxai-${stack}-frontend`, false],
        ]);
        for (const n of networks) {
            expect(n.inputs.driver).toBe("bridge");
            expect(n.inputs.labels).toEqual(expect.arrayContaining([{ label: "com.toolboxai.stack", value: stack }]));
            expect(n.options.deleteBeforeReplace).toBe(true);
            expect(n.options.provider).toMatch(/pulumi:providers:docker::providers-docker$/);
        }
    });

    it("uses overlay networks, internal where the single-host ones are, in Swarm mode", async () => {
        const networks = ofType(await evaluateStack(stack, { overrides: SWARM }), "docker:index/network:Network");
        expect(networks.map((n) => [n.inputs.name, n.inputs.driver, n.inputs.internal]).sort()).toEqual([
            [`toolboxai-${stack}-backend`, "overlay", true],
            [`toolboxai-${stack}-cache`, "overlay", true],
            [`toolboxai-${stack}-frontend`, "overlay", false],
        ]);
    });

    it("sets explicit subnets where config gives them", async () => {
        const ev = await evaluateStack(stack, { overrides: { networkSubnets: JSON.stringify({ backend: "172.30.1.0/24" }) } });
        expect(byName(ev, "networks-backend").inputs.ipamConfigs).toEqual([{ subnet: "172.30.1.0/24" }]);
        expect(byName(ev, "networks-cache").inputs.ipamConfigs).toBeUndefined();
    });
});
