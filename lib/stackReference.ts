/** A typed StackReference to a toolboxai stack, for consumer programs. */
import * as pulumi from "@pulumi/pulumi";
import type { OutputName, ToolboxaiStackOutputs } from "./contract";

export class ToolboxaiStackReference {
    readonly ref: pulumi.StackReference;

    /** `stack` is `<org>/toolboxai/<stack>` (or `toolboxai/<stack>` on a self-managed backend). */
    constructor(name: string, stack: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions) {
        this.ref = new pulumi.StackReference(name, { name: stack }, opts);
    }

    /** An output as an Output, secret when the stack exports it as a secret; fails if the stack lacks it. */
    output<K extends OutputName>(name: K): pulumi.Output<ToolboxaiStackOutputs[K]> {
        return this.ref.requireOutput(name) as pulumi.Output<ToolboxaiStackOutputs[K]>;
    }

    /** An output's value now, with its secretness (getOutputValue would throw on a secret). */
    async details<K extends OutputName>(name: K): Promise<{ value: ToolboxaiStackOutputs[K]; secret: boolean }> {
        const d = await this.ref.getOutputDetails(name);
        return d.secretValue !== undefined
            ? { value: d.secretValue as ToolboxaiStackOutputs[K], secret: true }
            : { value: d.value as ToolboxaiStackOutputs[K], secret: false };
    }
}
