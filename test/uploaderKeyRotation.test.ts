/**
 * The backup uploader's AWS access keys rotate with the program's periods: a new key each period, the
 * previous one kept until the next boundary, Vault and the backup container switched in the same `up`.
 * A key is identified as the engine does: its slot (state identity) and its replacementTrigger (a change
 * replaces it). The engine's replacement itself needs the Pulumi CLI (3.208 or later); it is not run here.
 */
import { describe, expect, it } from "vitest";
import { reveal } from "../lib/offline/values";
import type { Evaluation } from "../lib/offline/evaluate";
import { byName, evaluateStack, STACKS, TEST_CLOCK, uploadsOf } from "./harness";

const SLOTS = ["a", "b"] as const;
/** IAM's limit of access keys per user: a third key is refused (LimitExceeded). */
const IAM_KEYS_PER_USER = 2;

interface Keys {
    /** Keys that exist after the `up`, as slot@trigger. */
    existing: string[];
    /** The key Vault and the backup container hold. */
    active: string;
    deleteBeforeReplace: boolean[];
}

function keysOf(ev: Evaluation): Keys {
    const slots = SLOTS.map((slot) => ({ slot, key: byName(ev, `backups-uploader-key-${slot}`) }));
    const identity = ({ slot, key }: (typeof slots)[number]) => `${slot}@${String(key.options.replacementTrigger)}`;
    const vault = JSON.parse(reveal(byName(ev, "backups-uploader-credentials").inputs.dataJson) as string) as { secret_access_key: string };
    const holders = slots.filter((s) => reveal(s.key.outputs.secret) === vault.secret_access_key);
    expect(holders).toHaveLength(1);
    // The backup container's credentials file carries the same key as Vault.
    const container = JSON.stringify(reveal(uploadsOf(ev, byName(ev, "app-backup-0"))));
    expect(container).toContain(vault.secret_access_key);
    for (const other of slots.filter((s) => s !== holders[0])) expect(container).not.toContain(String(reveal(other.key.outputs.secret)));
    return {
        existing: slots.map(identity),
        active: identity(holders[0]),
        deleteBeforeReplace: slots.map((s) => s.key.options.deleteBeforeReplace === true),
    };
}

/** The most keys that exist at once while the engine goes from one set to the next (replacements one by one). */
function peakDuring(before: Keys, after: Keys): number {
    let live = new Set(before.existing);
    let peak = live.size;
    SLOTS.forEach((_slot, i) => {
        const [old, next] = [before.existing[i], after.existing[i]];
        if (old === next) return;
        if (after.deleteBeforeReplace[i]) live.delete(old);
        live.add(next);
        peak = Math.max(peak, live.size);
        live = new Set([...live].filter((k) => k !== old));
    });
    return peak;
}

describe.each(STACKS)("uploader access key rotation (%s)", (stack) => {
    it("crosses a boundary: one new key, the previous one kept for a period, Vault and the container switched", async () => {
        const first = await evaluateStack(stack);
        const { periodDays, nextRotationAfter } = first.outputs.credentialsRotation as { periodDays: number; nextRotationAfter: string };
        const at = (periods: number) =>
            new Date(Date.parse(nextRotationAfter) + (periods - 1) * periodDays * 86_400_000 + 3_600_000).toISOString();
        const same = keysOf(await evaluateStack(stack, { now: new Date(Date.parse(TEST_CLOCK) + 3_600_000).toISOString() }));
        const before = keysOf(first);
        const after = keysOf(await evaluateStack(stack, { now: at(1) }));
        const later = keysOf(await evaluateStack(stack, { now: at(2) }));

        console.log(
            `${stack} keys: before ${before.existing.join(", ")} (active ${before.active}); after one boundary ${after.existing.join(", ")} (active ${after.active}); after two ${later.existing.join(", ")} (active ${later.active})`,
        );
        // Within a period nothing changes.
        expect(same).toEqual(before);
        // One boundary: exactly one new key, it is the active one, and the previously active key is kept.
        const created = after.existing.filter((k) => !before.existing.includes(k));
        expect(created).toEqual([after.active]);
        expect(after.existing).toContain(before.active);
        expect(after.active).not.toBe(before.active);
        // The next boundary retires it.
        expect(later.existing).not.toContain(before.active);
        expect(later.existing).toContain(after.active);
        // Never more keys than IAM allows, even mid-replacement.
        expect(after.deleteBeforeReplace).toEqual([true, true]);
        expect(peakDuring(before, after)).toBeLessThanOrEqual(IAM_KEYS_PER_USER);
        expect(peakDuring(after, later)).toBeLessThanOrEqual(IAM_KEYS_PER_USER);
    });

    it("keeps the key of earlier versions as slot a (state identity, no new key at the upgrade)", async () => {
        const ev = await evaluateStack(stack);
        expect(byName(ev, "backups-uploader-key-a").options.aliases).toEqual(["backups-uploader-key"]);
        expect(byName(ev, "backups-uploader-key-b").options.aliases).toBeUndefined();
        expect(ev.resources.some((r) => r.name === "backups-uploader-key")).toBe(false);
    });
});
