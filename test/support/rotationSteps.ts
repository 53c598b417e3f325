/** dev evaluated at rotation steps N, N+1, N+2 (rotationGeneration 0, 1, 2), one at a time: Pulumi's runtime state is process-global. */
import type { Evaluation } from "../../lib/offline/evaluate";
import { evaluateStack } from "../harness";

export async function rotationSteps(bootstrapPassword: string): Promise<Evaluation[]> {
    const steps: Evaluation[] = [];
    for (const generation of ["0", "1", "2"])
        steps.push(
            await evaluateStack("dev", {
                overrides: { rotationGeneration: generation },
                secrets: { databaseBootstrapPassword: bootstrapPassword },
            }),
        );
    return steps;
}
