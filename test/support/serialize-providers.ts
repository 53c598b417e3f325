/**
 * Prints dynamic providers serialized exactly as `pulumi.dynamic.Resource` serializes them into
 * the state, as JSON `{ <export name>: { text, containsSecrets } }`: every export ending in
 * `Provider` of PROVIDERS_MODULE (a path from the project; the Management API's by default). Run
 * it under the engine's TypeScript registration (engine-typescript.cjs, ENGINE_TYPESCRIPT_MAIN),
 * so that the modules are the ones `pulumi up` compiles, not the test runner's.
 */
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";

async function main(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const providers = require(resolve(process.env.PROVIDERS_MODULE ?? "lib/supabase/providers")) as Record<string, unknown>;
    const out: Record<string, { text: string; containsSecrets: boolean }> = {};
    for (const [name, provider] of Object.entries(providers)) {
        if (!name.endsWith("Provider")) continue;
        const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        out[name] = { text: serialized.text, containsSecrets: serialized.containsSecrets };
    }
    process.stdout.write(JSON.stringify(out));
}

main().catch((e: unknown) => {
    process.stderr.write(`serialize-providers: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
