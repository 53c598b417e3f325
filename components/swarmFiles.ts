/** Files for a Swarm service's tasks: secret ones as Docker secrets, public ones as Docker configs. */
import * as pulumi from "@pulumi/pulumi";
import { Secret } from "@pulumi/docker/secret";
import { ServiceConfig } from "@pulumi/docker/serviceConfig";
import { contentName, dockerName } from "../lib/docker";

export interface SwarmFilesArgs {
    /** Prefix of the child resources' names. */
    name: string;
    /** Stack and owner, for the configs' Docker names (`toolboxai-<stack>-<owner>-<file>-<hash>`). */
    stack: string;
    owner: string;
    /** Absolute path in the task to content. */
    secret: Record<string, pulumi.Input<string>>;
    public: Record<string, pulumi.Input<string>>;
    /** uid (and gid) owning the files in the task. */
    uid: string;
    labels: { label: string; value: string }[];
}

const slug = (path: string) => path.split("/").pop()!.replace(/[._]/g, "-");

/**
 * Both are immutable: secrets are auto-named, configs named from their content, so new content is
 * a new object and the service rolls over to it. Secrets are mode 0400, configs 0444.
 */
export function swarmFiles(args: SwarmFilesArgs, opts: pulumi.CustomResourceOptions) {
    const secrets = Object.entries(args.secret).map(([path, content]) => {
        const data = pulumi.secret(pulumi.output(content).apply((c) => Buffer.from(c).toString("base64")));
        const secret = new Secret(`${args.name}-secret-${slug(path)}`, { data, labels: args.labels }, opts);
        return { secretId: secret.id, secretName: secret.name, fileName: path, fileMode: 0o400, fileUid: args.uid, fileGid: args.uid };
    });
    const configs = Object.entries(args.public).map(([path, content]) => {
        const name = pulumi.output(content).apply((c) => contentName(dockerName(args.stack, `${args.owner}-${slug(path)}`), c));
        const config = new ServiceConfig(`${args.name}-config-${slug(path)}`, { name, dataRaw: content, labels: args.labels }, opts);
        return { configId: config.id, configName: config.name, fileName: path, fileMode: 0o444, fileUid: args.uid, fileGid: args.uid };
    });
    return { secrets, configs };
}
