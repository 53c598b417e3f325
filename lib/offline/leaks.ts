/**
 * Finds secret values that appear in plain text: in a resource input or output that is not
 * secret, in a non-secret stack output, or in rendered text (the plan, logs).
 */
import type { Evaluation } from "./evaluate";
import { leaves } from "./values";

export interface Leak {
    /** Where the secret came from (resource and field, or setting). */
    secretFrom: string;
    /** Where it was found in plain text. */
    foundIn: string;
}

/** Shorter secret values can't be told apart from ordinary words and numbers. */
const MIN_SECRET_LENGTH = 8;

export function secretTexts(evaluation: Evaluation): Map<string, string> {
    const secrets = new Map<string, string>();
    // Secretness reaches a whole object when one field is secret (a command's environment, say);
    // its other fields, such as a host from plain config, are not secrets.
    const plain = new Set(Object.values(evaluation.plainConfig));
    const add = (text: string, from: string) => {
        if (text.length >= MIN_SECRET_LENGTH && !plain.has(text) && !secrets.has(text)) secrets.set(text, from);
    };
    for (const [key, value] of Object.entries(evaluation.secretConfig)) add(value, `setting ${key}`);
    for (const r of evaluation.resources) {
        for (const [kind, values] of [["inputs", r.inputs], ["outputs", r.outputs]] as const) {
            for (const leaf of leaves(values)) if (leaf.secret) add(leaf.text, `${r.type} ${r.name} ${kind}.${leaf.path}`);
        }
    }
    for (const leaf of leaves(evaluation.outputs)) if (leaf.secret) add(leaf.text, `stack output ${leaf.path}`);
    return secrets;
}

export function findLeaks(evaluation: Evaluation, renderedTexts: Record<string, string> = {}): Leak[] {
    const secrets = secretTexts(evaluation);
    const plainPlaces: { where: string; text: string }[] = [];
    for (const r of evaluation.resources) {
        for (const [kind, values] of [["inputs", r.inputs], ["outputs", r.outputs]] as const) {
            for (const leaf of leaves(values)) if (!leaf.secret) plainPlaces.push({ where: `${r.type} ${r.name} ${kind}.${leaf.path}`, text: leaf.text });
        }
    }
    for (const leaf of leaves(evaluation.outputs)) if (!leaf.secret) plainPlaces.push({ where: `stack output ${leaf.path}`, text: leaf.text });
    for (const [where, text] of Object.entries(renderedTexts)) plainPlaces.push({ where, text });

    const leaks: Leak[] = [];
    for (const place of plainPlaces) {
        for (const [secret, from] of secrets) {
            if (place.text.includes(secret)) leaks.push({ secretFrom: from, foundIn: place.where });
        }
    }
    return leaks;
}
