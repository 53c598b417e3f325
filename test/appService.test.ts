import { describe, expect, it } from "vitest";
import type { Evaluation, RecordedResource } from "../lib/offline/evaluate";
import { findLeaks, secretTexts } from "../lib/offline/leaks";
import { reveal } from "../lib/offline/values";
import { byName, evaluateStack, ofType, STACKS } from "./harness";

const envOf = (r: RecordedResource) => Object.fromEntries(((reveal(r.inputs.envs) as string[] | undefined) ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const containers = (ev: Evaluation) => ofType(ev, "docker:index/container:Container");

describe.each(STACKS)("AppService and container hardening (%s)", (stack) => {
    it("gives every container the hardening defaults", async () => {
        const all = containers(await evaluateStack(stack));
        expect(all.map((c) => c.name).sort()).toEqual(["app-backend-0", "app-worker-0", "redis-server"]);
        for (const c of all) {
            expect(c.inputs, c.name).toMatchObject({
                readOnly: true,
                securityOpts: ["no-new-privileges:true"],
                capabilities: { drops: ["ALL"] },
                restart: "unless-stopped",
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "5" },
                privileged: false,
                init: true,
            });
            expect(String(c.inputs.user), c.name).not.toMatch(/^(0|root)(:|$)/);
            expect(c.inputs.memory, c.name).toBeGreaterThan(0);
            expect(Number(c.inputs.cpus), c.name).toBeGreaterThan(0);
            expect(c.inputs.networkMode, c.name).toBeUndefined();
            expect(c.inputs.labels, c.name).toEqual(expect.arrayContaining([{ label: "com.toolboxai.stack", value: stack }]));
        }
    });

    it("puts no secret in any environment variable: secrets arrive as 0400 files", async () => {
        const ev = await evaluateStack(stack);
        const secrets = [...secretTexts(ev).keys()];
        for (const c of containers(ev)) {
            for (const [key, value] of Object.entries(envOf(c))) for (const s of secrets) expect(value, `${c.name} ${key}`).not.toContain(s);
            for (const u of (reveal(c.inputs.uploads) as { file: string; permissions: string }[]).filter((u) => u.file.startsWith("/run/secrets/"))) {
                expect(u.permissions, `${c.name} ${u.file}`).toBe("0400");
            }
        }
        expect(findLeaks(ev)).toEqual([]);
    });

    it("gives the backend the guide's environment, with files for every secret", async () => {
        const ev = await evaluateStack(stack);
        const env = envOf(byName(ev, "app-backend-0"));
        const pooler = stack === "prod";
        expect(env).toMatchObject({
            SUPABASE_URL: stack === "prod" ? "https://toolboxaiprodprojref.supabase.co" : "http://127.0.0.1:54321",
            SUPABASE_SERVICE_KEY_FILE: "/run/secrets/supabase_service_key",
            REDIS_URL: "rediss://toolboxai_backend@redis:6380/0",
            VAULT_ADDR: stack === "prod" ? "https://vault.toolboxai.internal:8200" : "http://127.0.0.1:8200",
            NODE_ENV: stack === "prod" ? "production" : "development",
            PGPASSFILE: "/run/secrets/pgpass",
            VAULT_ROLE_ID_FILE: "/run/secrets/vault_role_id",
            VAULT_SECRET_ID_FILE: "/run/secrets/vault_secret_id",
        });
        const url = new URL(env.DATABASE_URL);
        expect(url.password).toBe("");
        expect(url.port).toBe(pooler ? "6543" : "54322");
        const files = (reveal(byName(ev, "app-backend-0").inputs.uploads) as { file: string }[]).map((u) => u.file).sort();
        expect(files).toEqual([
            "/etc/toolboxai/redis-ca.crt",
            "/run/secrets/pgpass",
            "/run/secrets/redis_password",
            "/run/secrets/supabase_anon_key",
            "/run/secrets/supabase_service_key",
            "/run/secrets/vault_role_id",
            "/run/secrets/vault_secret_id",
        ]);
        expect(byName(ev, "app-backend-0").inputs.healthcheck).toMatchObject({ tests: ["CMD", "curl", "-f", "http://localhost:8000/health"], interval: "30s", timeout: "10s", retries: 3 });
    });

    it("publishes ports on the backend only, and frees the port before a replacement", async () => {
        const ev = await evaluateStack(stack);
        for (const c of containers(ev)) {
            const ports = (c.inputs.ports as unknown[] | undefined) ?? [];
            if (c.name === "app-backend-0") {
                expect(ports).toEqual([{ internal: 8000, external: 8000, protocol: "tcp" }]);
                expect(c.options.deleteBeforeReplace).toBe(true);
            } else expect(ports, c.name).toEqual([]);
        }
    });

    it("runs one container per replica and adds MCP servers from config, without database or Vault secrets", async () => {
        const services = {
            backend: { role: "backend", ports: [{ published: 8000, target: 8000 }] },
            worker: { role: "worker", replicas: 3, command: ["python", "-m", "worker"] },
            "mcp-docs": { role: "mcp", image: "ghcr.io/toolboxai/mcp-docs:1.2.0" },
        };
        const ev = await evaluateStack(stack, { overrides: { services: JSON.stringify(services) } });
        expect(containers(ev).map((c) => c.name).sort()).toEqual(["app-backend-0", "app-mcp-docs-0", "app-worker-0", "app-worker-1", "app-worker-2", "redis-server"]);
        expect(byName(ev, "app-worker-2").inputs.command).toEqual(["python", "-m", "worker"]);
        const mcp = byName(ev, "app-mcp-docs-0");
        expect(Object.keys(envOf(mcp)).sort()).toEqual(["NODE_ENV", "SUPABASE_URL", "VAULT_ADDR"]);
        expect((mcp.inputs.networksAdvanced as { name: string }[]).map((n) => n.name)).toEqual([`toolboxai-${stack}-backend`]);
        for (const w of ["app-worker-0", "app-worker-1", "app-worker-2"]) {
            expect((byName(ev, w).inputs.networksAdvanced as { aliases: string[] }[])[0].aliases).toEqual(["worker"]);
        }
    });
});
