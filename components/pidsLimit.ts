/** A PIDs limit (CIS Docker 5.28) on a single-host container, through the Docker CLI (lib/docker.ts pidsLimitCommand). */
import * as pulumi from "@pulumi/pulumi";
import { Command } from "@pulumi/command/local/command";
import { pidsLimitCommand } from "../lib/docker";

export interface PidsLimitArgs {
    /** The container's Docker name. */
    target: pulumi.Input<string>;
    limit: number;
    /** The engine the provider talks to (DOCKER_HOST for the CLI). */
    dockerHost: string;
    /** Anything whose change means the provider made a new container, which starts without the limit. */
    rewrittenBy: pulumi.Input<unknown>[];
}

export function pidsLimit(name: string, args: PidsLimitArgs, opts: pulumi.CustomResourceOptions): Command {
    return new Command(
        name,
        {
            create: pulumi.output(args.target).apply((target) => pidsLimitCommand(target, args.limit)),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [args.limit, ...args.rewrittenBy],
            // Nothing to undo: the object goes with its own resource.
            addPreviousOutputInEnv: false,
        },
        opts,
    );
}
