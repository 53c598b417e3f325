/**
 * Finds secret values that appear in plain text: in a resource input or output that is not
 * secret, in a non-secret stack output, or in rendered text (the plan, logs).
 */
import type { Evaluation } from "./evaluate";
import { leaves, SecretValue } from "./values";

export interface Leak {
    /** Where the secret came from (resource and field, or setting). */
    secretFrom: string;
    /** Where it was found in plain text. */
    foundIn: string;
}

/** Shorter secret values can't be told apart from ordinary words and numbers. */
const MIN_SECRET_LENGTH = 8;

/** JSON Web Tokens are credentials wherever they appear (the self-hosted anon and service_role keys). */
const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g;

/**
 * The plain text of every secret: secret settings, outputs a provider marks secret, values sent
 * as secrets on their own, and any JWT inside a secret. The wire marks a whole list or object
 * secret when one member is (a container's uploads, a command's environment); its other members,
 * such as file paths or a public certificate, are not secrets and are not taken from it.
 */
export function secretTexts(evaluation: Evaluation): Map<string, string> {
    const secrets = new Map<string, string>();
    const plain = new Set(Object.values(evaluation.plainConfig));
    const add = (text: string, from: string) => {
        if (text.length >= MIN_SECRET_LENGTH && !plain.has(text) && !secrets.has(text)) secrets.set(text, from);
    };
    const fromSecret = (value: unknown, from: string) => {
        if (!(value instanceof SecretValue)) return;
        if (typeof value.value === "string") add(value.value, from);
        for (const leaf of leaves(value)) for (const jwt of leaf.text.match(JWT) ?? []) add(jwt, `${from}.${leaf.path}`);
    };
    for (const [key, value] of Object.entries(evaluation.secretConfig)) add(value, `setting ${key}`);
    for (const r of evaluation.resources) {
        for (const field of r.secretOutputs)
            for (const leaf of leaves(r.outputs[field])) add(leaf.text, `${r.type} ${r.name} outputs.${field}`);
        for (const [field, value] of Object.entries(r.inputs)) fromSecret(value, `${r.type} ${r.name} inputs.${field}`);
    }
    for (const [key, value] of Object.entries(evaluation.outputs)) fromSecret(value, `stack output ${key}`);
    return secrets;
}

export function findLeaks(evaluation: Evaluation, renderedTexts: Record<string, string> = {}): Leak[] {
    const secrets = secretTexts(evaluation);
    const plainPlaces: { where: string; text: string }[] = [];
    for (const r of evaluation.resources) {
        for (const [kind, values] of [
            ["inputs", r.inputs],
            ["outputs", r.outputs],
        ] as const) {
            for (const leaf of leaves(values))
                if (!leaf.secret) plainPlaces.push({ where: `${r.type} ${r.name} ${kind}.${leaf.path}`, text: leaf.text });
        }
    }
    for (const leaf of leaves(evaluation.outputs))
        if (!leaf.secret) plainPlaces.push({ where: `stack output ${leaf.path}`, text: leaf.text });
    for (const [where, text] of Object.entries(renderedTexts)) plainPlaces.push({ where, text });

    const leaks: Leak[] = [];
    for (const place of plainPlaces) {
        for (const [secret, from] of secrets) {
            if (place.text.includes(secret)) leaks.push({ secretFrom: from, foundIn: place.where });
        }
    }
    return leaks;
}
