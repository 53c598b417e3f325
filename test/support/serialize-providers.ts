/**
 * Prints the Management API dynamic providers serialized exactly as `pulumi.dynamic.Resource`
 * serializes them into the state, as JSON `{ <export name>: { text, containsSecrets } }`. Run it
 * under the engine's TypeScript registration (engine-typescript.cjs, ENGINE_TYPESCRIPT_MAIN), so
 * that the modules are the ones `pulumi up` compiles, not the test runner's.
 */
import * as pulumi from "@pulumi/pulumi";
import * as providers from "../../lib/supabase/providers";

async function main(): Promise<void> {
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
