/**
 * A parser's answer for one setting: its value, or what is allowed. Pure (no SDK), so that the
 * parsers serve the ops tool and the backup job as well as the stack config.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; allowed: string };
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const bad = <T>(allowed: string): Parsed<T> => ({ ok: false, allowed });

export interface ConfigProblem {
    key: string;
    /** The bad value as shown to the user; secrets are never echoed. */
    shown: string;
    allowed: string;
}
