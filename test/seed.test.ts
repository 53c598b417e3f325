/** The seed design on the plan (components/seed.ts); the real engine runs it in test/engine.test.ts. */
import { describe, expect, it } from "vitest";
import { reveal, SecretValue } from "../lib/offline/values";
import { SEED_LABEL } from "../components/seed";
import { byName, evaluateStack, ofType, runningContainers, STACKS } from "./harness";

describe.each(STACKS)("seed containers and replacement (%s)", (stack) => {
    it("gives every hardened container a never-started seed that carries its files into the same volumes", async () => {
        const ev = await evaluateStack(stack);
        const running = runningContainers(ev);
        expect(running.length).toBe(4);
        for (const c of running) {
            expect(c.inputs.uploads, c.name).toBeUndefined();
            expect(c.inputs.readOnly, c.name).toBe(true);
            const seed = byName(ev, `${c.name}-seed`);
            expect(seed.inputs, seed.name).toMatchObject({
                start: false,
                mustRun: false,
                readOnly: false,
                networkMode: "none",
                user: c.inputs.user,
                image: c.inputs.image,
            });
            expect(seed.inputs.uploads, seed.name).toBeInstanceOf(SecretValue);
            // The seed's volumes are the container's own (Redis adds its data volume, which no upload touches).
            const paths = (v: unknown) =>
                (reveal(v) as { volumeName: string; containerPath: string }[]).map((x) => `${x.volumeName}:${x.containerPath}`);
            expect(paths(c.inputs.volumes), c.name).toEqual(expect.arrayContaining(paths(seed.inputs.volumes)));
            // Each upload lands inside one of those volumes.
            const mounts = (reveal(seed.inputs.volumes) as { containerPath: string }[]).map((v) => `${v.containerPath}/`);
            for (const u of reveal(seed.inputs.uploads) as { file: string }[])
                expect(
                    mounts.some((m) => u.file.startsWith(m)),
                    u.file,
                ).toBe(true);
            // New content makes a new seed, whose id replaces the container (labels force replacement).
            expect(reveal(c.inputs.labels), c.name).toContainEqual({ label: SEED_LABEL, value: seed.outputs.id ?? expect.any(String) });
            expect(c.options.dependencies, c.name).toContain(seed.urn);
        }
        // Redis has a second seed for the files a rotation changes (the ACL, the health check's password),
        // which its label does not name: new passwords reach the running server (test/redisRotation.test.ts).
        const credentialsSeed = byName(ev, "redis-credentials-seed");
        expect(credentialsSeed.inputs).toMatchObject({ start: false, mustRun: false, networkMode: "none" });
        expect(reveal(byName(ev, "redis-server").inputs.labels)).not.toContainEqual({
            label: SEED_LABEL,
            value: credentialsSeed.outputs.id,
        });
        expect(byName(ev, "redis-server").options.dependencies).toContain(credentialsSeed.urn);
        expect(ofType(ev, "docker:index/container:Container").length).toBe(9);
    });

    it("replaces Redis and the backend delete-first; the protected data volume ignores label changes", async () => {
        const ev = await evaluateStack(stack);
        expect(byName(ev, "redis-server").options.deleteBeforeReplace).toBe(true);
        expect(byName(ev, "app-backend-0").options.deleteBeforeReplace).toBe(true);
        const data = byName(ev, "redis-data");
        expect(data.options).toMatchObject({ protect: true, retainOnDelete: true, ignoreChanges: ["labels"] });
    });

    it("plans the same data volume after a tag change, so protect does not block the up", async () => {
        const before = byName(await evaluateStack(stack), "redis-data");
        // The environment is one of the tags every label carries.
        const after = byName(await evaluateStack(stack, { overrides: { environment: "staging" } }), "redis-data");
        const changed = Object.keys({ ...before.inputs, ...after.inputs }).filter(
            (k) => JSON.stringify(reveal(before.inputs[k])) !== JSON.stringify(reveal(after.inputs[k])),
        );
        // Labels force a replacement (docker_volume), which protect refuses: every change must be ignored.
        expect(changed).toEqual(["labels"]);
        expect(changed.filter((k) => !(after.options.ignoreChanges ?? []).includes(k))).toEqual([]);
    });
});
