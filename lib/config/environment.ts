/** The first row: which environment this stack is. Every per-environment default reads it. */
import { oneOf } from "./parsers";
import { Schema } from "./schema";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const environmentSettings = new Schema().group("Environment").add("environment", oneOf(ENVIRONMENTS), {
    type: "string",
    doc: "Deployment environment: dev, staging or prod.",
    required: `is required: one of ${ENVIRONMENTS.join(", ")}`,
});
