/**
 * Properties of the rotation clock and the database password's two slots, over arbitrary times,
 * period lengths and generations (fast-check): what every `pulumi up` relies on, at any boundary.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { passwordSlots, rotationKeeper, rotationPeriod } from "../lib/credentials";

const DAY_MS = 86_400_000;
// 1970 to 2200: the clock the program can meet.
const instant = fc.integer({ min: 0, max: 7_258_118_400_000 }).map((ms) => new Date(ms));
const periodDays = fc.integer({ min: 1, max: 3650 });
const generation = fc.integer({ min: 0, max: 1000 });

describe("rotationPeriod", () => {
    it("contains the instant, is exactly periodDays long and starts on a fixed boundary", () => {
        fc.assert(
            fc.property(instant, periodDays, (now, days) => {
                const p = rotationPeriod(now, days);
                expect(p.startsAt.getTime()).toBeLessThanOrEqual(now.getTime());
                expect(now.getTime()).toBeLessThan(p.endsAt.getTime());
                expect(p.endsAt.getTime() - p.startsAt.getTime()).toBe(days * DAY_MS);
                expect(p.startsAt.getTime() % (days * DAY_MS)).toBe(0);
            }),
        );
    });

    it("is the same for every instant of the period, and the next one begins at its end", () => {
        fc.assert(
            fc.property(instant, periodDays, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (now, days, fraction) => {
                const p = rotationPeriod(now, days);
                const inside = new Date(p.startsAt.getTime() + Math.floor(fraction * days * DAY_MS));
                expect(rotationPeriod(inside, days)).toEqual(p);
                expect(rotationPeriod(p.endsAt, days).index).toBe(p.index + 1);
                expect(rotationPeriod(new Date(p.startsAt.getTime() - 1), days).index).toBe(p.index - 1);
            }),
        );
    });

    it("refuses a period that is not a whole number of days >= 1", () => {
        fc.assert(
            fc.property(
                instant,
                fc.oneof(
                    fc.integer({ max: 0 }),
                    fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
                ),
                (now, days) => {
                    expect(() => rotationPeriod(now, days)).toThrow(/whole number of days >= 1/);
                },
            ),
        );
    });
});

describe("rotationKeeper", () => {
    it("changes exactly when the period or the generation changes", () => {
        fc.assert(
            fc.property(instant, instant, periodDays, generation, generation, (t1, t2, days, g1, g2) => {
                const [p1, p2] = [rotationPeriod(t1, days), rotationPeriod(t2, days)];
                const same = p1.index === p2.index && g1 === g2;
                expect(rotationKeeper(p1, g1) === rotationKeeper(p2, g2)).toBe(same);
            }),
        );
    });
});

describe("passwordSlots", () => {
    const counter = fc.integer({ min: 0, max: 100_000 });
    const slotsAt = (c: number) => passwordSlots({ index: c, startsAt: new Date(0), endsAt: new Date(0) }, 0);

    it("one step regenerates exactly the slot that becomes active, and keeps the other's keeper", () => {
        fc.assert(
            fc.property(counter, (c) => {
                const [before, after] = [slotsAt(c), slotsAt(c + 1)];
                const kept = before.active;
                expect(after.active).not.toBe(kept);
                expect(after.keepers[kept]).toBe(before.keepers[kept]);
                expect(after.keepers[after.active]).not.toBe(before.keepers[after.active]);
            }),
        );
    });

    it("two or more steps regenerate both slots (the apply step then logs in with what it applied last)", () => {
        fc.assert(
            fc.property(counter, fc.integer({ min: 2, max: 1000 }), (c, jump) => {
                const [before, after] = [slotsAt(c), slotsAt(c + jump)];
                expect(after.keepers.a).not.toBe(before.keepers.a);
                expect(after.keepers.b).not.toBe(before.keepers.b);
            }),
        );
    });

    it("depends only on period index + generation: a raised generation is a rotation step", () => {
        fc.assert(
            fc.property(counter, generation, (index, g) => {
                const p = { index, startsAt: new Date(0), endsAt: new Date(0) };
                expect(passwordSlots(p, g)).toEqual(slotsAt(index + g));
            }),
        );
    });
});
