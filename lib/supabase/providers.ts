/**
 * Dynamic providers of the hosted project, one per object the Management API manages. Each has a
 * real `read` (refresh shows drift) and `diff` (preview shows what `up` would change), and sends
 * only the fields the deployment owns.
 *
 * Pulumi serializes these objects into the state: they capture the client module and nothing
 * else. The access token reaches them as a secret input (`accessToken`) and is kept as a secret
 * output, because `read` during a refresh sees only the stored outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
    allowedPitrVariants,
    computeRefusesPitr,
    computeVariantOf,
    poolSizeRefusal,
    selectedVariant,
    sizeOfComputeVariant,
    type PitrSetting,
    type PitrVariant,
} from "./addons";
import { accepted, managementClient, ManagementApiError, unwrap, type ManagementClient } from "./client";
import { regionOfReplica, replicaChanges, replicaCountRefusal } from "./replicas";
import { HEALTHY_STATUS, keyOwnership, markedKeyDescription, parseKeyDescription, TERMINAL_STATUSES } from "./rules";

/** Every resource's connection inputs. */
export interface ApiInputs {
    apiUrl: string;
    accessToken: string;
    /** Per-attempt timeout in seconds (tests shorten it). */
    timeoutSeconds?: number;
}

type Outs = Record<string, unknown>;

/** `deadline` (epoch ms) bounds every request's attempts, backoff and waits (see ClientOptions.deadline). */
function client(inputs: ApiInputs, deadline?: number): ManagementClient {
    return managementClient({
        baseUrl: inputs.apiUrl,
        token: inputs.accessToken,
        timeoutMs: (inputs.timeoutSeconds ?? 30) * 1000,
        deadline,
    });
}

/** Fields whose change only refreshes the connection: never a change of the project itself. */
const CONNECTION = ["apiUrl", "accessToken", "timeoutSeconds"];

/** A diff over the setting fields: a change of a `replace` field replaces, any other updates. */
function diffFields(olds: Outs, news: Outs, fields: readonly string[], replace: readonly string[] = []): pulumi.dynamic.DiffResult {
    const changed = [...fields, ...CONNECTION].filter((f) => JSON.stringify(olds[f] ?? null) !== JSON.stringify(news[f] ?? null));
    const replaces = changed.filter((f) => replace.includes(f));
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the project ------------------------------------------------------------------------------

export interface ProjectInputs extends ApiInputs {
    /** Adopt this project; absent: create one from `create`. */
    ref?: string;
    create?: { organizationSlug: string; name: string; region: string; instanceSize?: string; dbPass: string };
    /** How long to wait for ACTIVE_HEALTHY, and how often to look. */
    waitSeconds?: number;
    pollSeconds?: number;
}

/**
 * Waits for ACTIVE_HEALTHY, within `waitSeconds` all told: each request's timeout, retries and
 * backoff, and each pause between polls, get only what is left of the wait.
 */
async function waitHealthy(inputs: ProjectInputs, ref: string) {
    const waitSeconds = inputs.waitSeconds ?? 900;
    const deadline = Date.now() + waitSeconds * 1000;
    const api = client(inputs, deadline);
    const op = "GET /v1/projects/{ref}";
    let lastStatus: string | undefined;
    for (;;) {
        let project;
        try {
            project = unwrap(op, await api.GET("/v1/projects/{ref}", { params: { path: { ref } } }), inputs.accessToken);
        } catch (e) {
            if (!(e instanceof ManagementApiError && e.deadlineReached)) throw e;
            throw new ManagementApiError(
                `Supabase project ${ref} did not reach ${HEALTHY_STATUS} within ${waitSeconds} s (${lastStatus ? `last seen ${lastStatus}` : "no status seen"}; ` +
                    `the last look: ${e.message}); run again when it is healthy`,
                undefined,
                op,
                true,
            );
        }
        lastStatus = project.status;
        if (project.status === HEALTHY_STATUS) return project;
        if ((TERMINAL_STATUSES as readonly string[]).includes(project.status)) {
            throw new ManagementApiError(
                `Supabase project ${ref} is ${project.status}, which it will not leave by itself: resolve it in the dashboard or with Supabase support, then run again`,
                undefined,
                op,
            );
        }
        await sleep(Math.min((inputs.pollSeconds ?? 10) * 1000, Math.max(0, deadline - Date.now())));
        if (Date.now() >= deadline)
            throw new ManagementApiError(
                `Supabase project ${ref} is still ${project.status} after ${waitSeconds} s (expected ${HEALTHY_STATUS}); run again when it is healthy`,
                undefined,
                op,
                true,
            );
    }
}

function projectOuts(
    inputs: ProjectInputs,
    p: { ref: string; name: string; region: string; status: string; organization_slug?: string; database?: { host: string } },
): Outs {
    return {
        apiUrl: inputs.apiUrl,
        accessToken: inputs.accessToken,
        timeoutSeconds: inputs.timeoutSeconds,
        ref: p.ref,
        name: p.name,
        region: p.region,
        status: p.status,
        organizationSlug: p.organization_slug ?? null,
        databaseHost: p.database?.host ?? null,
        // Never stored: the password lives in Vault (the credentials component).
        create: inputs.create ? { ...inputs.create, dbPass: undefined } : null,
    };
}

export const projectProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ProjectInputs) {
        const api = client(inputs);
        let ref = inputs.ref;
        if (!ref) {
            if (!inputs.create)
                throw new Error("supabaseProjectRef or supabaseOrganizationSlug is required to adopt or create the project");
            const c = inputs.create;
            const body = {
                db_pass: c.dbPass,
                name: c.name,
                organization_slug: c.organizationSlug,
                region_selection: { type: "specific" as const, code: c.region as "eu-central-1" },
                ...(c.instanceSize ? { desired_instance_size: c.instanceSize as "micro" } : {}),
            };
            ref = unwrap("POST /v1/projects", await api.POST("/v1/projects", { body }), inputs.accessToken).ref;
        }
        const project = await waitHealthy(inputs, ref);
        return { id: ref, outs: projectOuts(inputs, project) };
    },
    async read(id: string, props: ProjectInputs) {
        const r = await client(props).GET("/v1/projects/{ref}", { params: { path: { ref: id } } });
        if (r.response.status === 404) return {};
        return { id, props: { ...props, ...projectOuts(props, unwrap("GET /v1/projects/{ref}", r, props.accessToken)) } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        // The ref is the identity; `create` only matters when there is none, so its changes are not.
        return diffFields(olds, { ...news, ref: news.ref ?? olds.ref }, ["ref"], ["ref"]);
    },
    async update(id: string, _olds: Outs, news: ProjectInputs) {
        return { outs: projectOuts(news, await waitHealthy(news, id)) };
    },
    // A project is never deleted by the program (the resource is also protected and retained on delete).
    async delete() {},
};

// ---- settings ---------------------------------------------------------------------------------

export interface SslInputs extends ApiInputs {
    ref: string;
    enforced: boolean;
}

async function readSsl(inputs: SslInputs): Promise<boolean> {
    const op = "GET /v1/projects/{ref}/ssl-enforcement";
    return unwrap(
        op,
        await client(inputs).GET("/v1/projects/{ref}/ssl-enforcement", { params: { path: { ref: inputs.ref } } }),
        inputs.accessToken,
    ).currentConfig.database;
}

async function applySsl(inputs: SslInputs): Promise<Outs> {
    const op = "PUT /v1/projects/{ref}/ssl-enforcement";
    const r = unwrap(
        op,
        await client(inputs).PUT("/v1/projects/{ref}/ssl-enforcement", {
            params: { path: { ref: inputs.ref } },
            body: { requestedConfig: { database: inputs.enforced } },
        }),
        inputs.accessToken,
    );
    if (!r.appliedSuccessfully || r.currentConfig.database !== inputs.enforced) {
        throw new ManagementApiError(
            `Supabase did not apply SSL enforcement = ${inputs.enforced} to ${inputs.ref}; run again`,
            undefined,
            op,
        );
    }
    return { ...inputs };
}

export const sslEnforcementProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SslInputs) {
        return { id: `${inputs.ref}/ssl-enforcement`, outs: await applySsl(inputs) };
    },
    async read(id: string, props: SslInputs) {
        return { id, props: { ...props, enforced: await readSsl(props) } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "enforced"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: SslInputs) {
        return { outs: await applySsl(news) };
    },
    // Left as it is on destroy: turning enforcement off is never a side effect.
    async delete() {},
};

export interface NetworkInputs extends ApiInputs {
    ref: string;
    ipv4: string[];
    ipv6: string[];
}

async function applyNetwork(inputs: NetworkInputs): Promise<Outs> {
    const op = "POST /v1/projects/{ref}/network-restrictions/apply";
    const r = unwrap(
        op,
        await client(inputs).POST("/v1/projects/{ref}/network-restrictions/apply", {
            params: { path: { ref: inputs.ref } },
            body: { dbAllowedCidrs: inputs.ipv4, dbAllowedCidrsV6: inputs.ipv6 },
        }),
        inputs.accessToken,
    );
    return { ...inputs, status: r.status };
}

export const networkRestrictionsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: NetworkInputs) {
        return { id: `${inputs.ref}/network-restrictions`, outs: await applyNetwork(inputs) };
    },
    async read(id: string, props: NetworkInputs) {
        const op = "GET /v1/projects/{ref}/network-restrictions";
        const r = unwrap(
            op,
            await client(props).GET("/v1/projects/{ref}/network-restrictions", { params: { path: { ref: props.ref } } }),
            props.accessToken,
        );
        return { id, props: { ...props, ipv4: r.config.dbAllowedCidrs ?? [], ipv6: r.config.dbAllowedCidrsV6 ?? [], status: r.status } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        const sorted = (o: Outs) => ({
            ...o,
            ipv4: [...((o.ipv4 as string[]) ?? [])].sort(),
            ipv6: [...((o.ipv6 as string[]) ?? [])].sort(),
        });
        return diffFields(sorted(olds), sorted(news), ["ref", "ipv4", "ipv6"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: NetworkInputs) {
        return { outs: await applyNetwork(news) };
    },
    // Left as they are on destroy: opening the database to the internet is never a side effect.
    async delete() {},
};

export interface PoolerInputs extends ApiInputs {
    ref: string;
    poolMode: "transaction" | "session";
    defaultPoolSize: number;
}

async function readPooler(inputs: PoolerInputs): Promise<Outs> {
    const op = "GET /v1/projects/{ref}/config/database/pooler";
    const all = unwrap(
        op,
        await client(inputs).GET("/v1/projects/{ref}/config/database/pooler", { params: { path: { ref: inputs.ref } } }),
        inputs.accessToken,
    );
    const primary = all.find((p) => p.database_type === "PRIMARY");
    if (!primary) throw new ManagementApiError(`Supabase reports no pooler for the primary database of ${inputs.ref}`, undefined, op);
    return {
        ...inputs,
        poolMode: primary.pool_mode,
        defaultPoolSize: primary.default_pool_size,
        host: primary.db_host,
        port: primary.db_port,
        user: primary.db_user,
    };
}

async function applyPooler(inputs: PoolerInputs): Promise<Outs> {
    const op = "PATCH /v1/projects/{ref}/config/database/pooler";
    unwrap(
        op,
        await client(inputs).PATCH("/v1/projects/{ref}/config/database/pooler", {
            params: { path: { ref: inputs.ref } },
            body: { pool_mode: inputs.poolMode, default_pool_size: inputs.defaultPoolSize },
        }),
        inputs.accessToken,
    );
    // The host, port and user come from the API: nobody copies them into config.
    return readPooler(inputs);
}

export const poolerProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: PoolerInputs) {
        return { id: `${inputs.ref}/pooler`, outs: await applyPooler(inputs) };
    },
    async read(id: string, props: PoolerInputs) {
        return { id, props: await readPooler(props) };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "poolMode", "defaultPoolSize"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: PoolerInputs) {
        return { outs: await applyPooler(news) };
    },
    async delete() {},
};

/** The auth settings a deployment owns; any other auth setting is left alone. */
export interface OwnedAuthSettings {
    site_url?: string;
    uri_allow_list?: string;
    jwt_exp?: number;
    disable_signup?: boolean;
}
export const OWNED_AUTH_SETTINGS = ["site_url", "uri_allow_list", "jwt_exp", "disable_signup"] as const;

export interface AuthInputs extends ApiInputs {
    ref: string;
    settings: OwnedAuthSettings;
}

export const authSettingsProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: AuthInputs) {
        return { id: `${inputs.ref}/auth`, outs: await applyAuth(inputs) };
    },
    async read(id: string, props: AuthInputs) {
        const op = "GET /v1/projects/{ref}/config/auth";
        const all = unwrap(
            op,
            await client(props).GET("/v1/projects/{ref}/config/auth", { params: { path: { ref: props.ref } } }),
            props.accessToken,
        ) as Record<string, unknown>;
        // Only the keys this deployment set: the rest (and the hashed secrets) are not its business.
        const settings = Object.fromEntries(Object.keys(props.settings ?? {}).map((k) => [k, all[k] ?? null]));
        return { id, props: { ...props, settings } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "settings"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: AuthInputs) {
        return { outs: await applyAuth(news) };
    },
    async delete() {},
};

async function applyAuth(inputs: AuthInputs): Promise<Outs> {
    const owned = Object.fromEntries(
        Object.entries(inputs.settings).filter(([k, v]) => (OWNED_AUTH_SETTINGS as readonly string[]).includes(k) && v !== undefined),
    );
    if (Object.keys(owned).length > 0) {
        const op = "PATCH /v1/projects/{ref}/config/auth";
        unwrap(
            op,
            await client(inputs).PATCH("/v1/projects/{ref}/config/auth", { params: { path: { ref: inputs.ref } }, body: owned }),
            inputs.accessToken,
        );
    }
    return { ...inputs, settings: owned };
}

// ---- keys -------------------------------------------------------------------------------------

export interface ApiKeyInputs extends ApiInputs {
    ref: string;
    type: "publishable" | "secret";
    /** 4-64 characters, `^[a-z_][a-z0-9_]+$`. */
    name: string;
    /** Free text; the API stores it with the owner's marker after it (lib/supabase/rules.ts markedKeyDescription). */
    description: string;
    /** The stack that owns the key, `<project>/<stack>`: another stack's key is never adopted, changed or deleted. */
    owner: string;
    /** Sent as the reason when the key is deleted. */
    deleteReason: string;
}

function keyOuts(inputs: ApiKeyInputs, key: { id?: string | null; api_key?: string | null }): Outs {
    return { ...inputs, keyId: key.id ?? null, apiKey: key.api_key ?? null };
}

/**
 * Refuses a key another stack's description marks as its own, before `operation` (the POST of a
 * create, the PATCH of an update, the DELETE) is sent. Only update and delete find the key in this
 * stack's state, so only they can offer to drop it from there.
 */
function refuseForeignKey(inputs: ApiKeyInputs, stored: string | null | undefined, operation: string): void {
    const ownership = keyOwnership(stored, inputs.owner);
    if (ownership.kind !== "other") return;
    const refused = operation.startsWith("DELETE")
        ? "it is not deleted"
        : operation.startsWith("PATCH")
          ? "its description is not changed"
          : "this stack does not adopt it";
    const wayOut = !operation.startsWith("POST")
        ? `or, if this stack should not hold the key, drop it from this stack's state with \`pulumi state delete <its URN>\` (the key stays)`
        : `or, if the stack ${ownership.owner} no longer exists, delete the key in the dashboard (Project Settings > API Keys) and run again`;
    throw new ManagementApiError(
        `the ${inputs.type} API key ${inputs.name} of project ${inputs.ref} belongs to the Pulumi stack ${ownership.owner} ` +
            `(its description ends with [managed by pulumi ${ownership.owner}]), not to ${inputs.owner}: ${refused}. ` +
            `Two stacks must not manage one project's keys: give this stack its own project (supabaseProjectRef), ${wayOut}`,
        undefined,
        operation,
    );
}

export const apiKeyProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ApiKeyInputs) {
        const api = client(inputs);
        const path = { ref: inputs.ref };
        const description = markedKeyDescription(inputs.description, inputs.owner);
        // A create whose reply was lost (timeout) may have made the key: adopt it instead of a second one, if it is this stack's.
        const listed = unwrap(
            "GET /v1/projects/{ref}/api-keys",
            await api.GET("/v1/projects/{ref}/api-keys", { params: { path, query: { reveal: true } } }),
            inputs.accessToken,
        );
        const existing = listed.find((k) => k.name === inputs.name && k.type === inputs.type);
        const op = "POST /v1/projects/{ref}/api-keys";
        if (existing) {
            refuseForeignKey(inputs, existing.description, op);
            if (keyOwnership(existing.description, inputs.owner).kind === "unmarked")
                throw new ManagementApiError(
                    `the ${inputs.type} API key ${inputs.name} of project ${inputs.ref} exists, but its description has no owner marker, ` +
                        `so it was made by hand or by another stack before keys were marked, and this stack (${inputs.owner}) does not adopt it. ` +
                        `Delete it in the dashboard (Project Settings > API Keys) if nothing uses it; if it is this stack's own, ` +
                        `end its description with [managed by pulumi ${inputs.owner}] (PATCH /v1/projects/{ref}/api-keys/{id}); then run again`,
                    undefined,
                    op,
                );
        }
        const key =
            existing ??
            unwrap(
                op,
                await api.POST("/v1/projects/{ref}/api-keys", {
                    params: { path, query: { reveal: true } },
                    body: {
                        type: inputs.type,
                        name: inputs.name,
                        description,
                        ...(inputs.type === "secret" ? { secret_jwt_template: { role: "service_role" } } : {}),
                    },
                }),
                inputs.accessToken,
            );
        if (!key.id || !key.api_key)
            throw new ManagementApiError(`Supabase returned the ${inputs.type} key ${inputs.name} without its id or value`, undefined, op);
        // Adopted with another text (the program's changed since the lost reply): set it, in place.
        if (existing && existing.description !== description) await patchKeyDescription(api, inputs, key.id);
        return { id: key.id, outs: keyOuts(inputs, key) };
    },
    async read(id: string, props: ApiKeyInputs) {
        const r = await client(props).GET("/v1/projects/{ref}/api-keys/{id}", {
            params: { path: { ref: props.ref, id }, query: { reveal: true } },
        });
        // Deleted out of band: refresh drops it, and the next `up` makes a new one.
        if (r.response.status === 404) return {};
        const key = unwrap("GET /v1/projects/{ref}/api-keys/{id}", r, props.accessToken);
        // The text and the owner as the API has them: an edited text, or a key another stack marked, shows as a change.
        const stored = parseKeyDescription(key.description);
        return {
            id,
            props: { ...keyOuts(props, key), name: key.name, type: key.type, description: stored.description, owner: stored.owner },
        };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        // A new name is a new key (rotation): created first, the old one deleted after its dependents moved.
        // The description and the owner are changed in place: replacing would revoke a key every consumer holds.
        return diffFields(olds, news, ["ref", "type", "name", "description", "owner"], ["ref", "type", "name"]);
    },
    async update(id: string, olds: Outs, news: ApiKeyInputs) {
        if (olds.description !== news.description || olds.owner !== news.owner) await patchKeyDescription(client(news), news, id);
        return { outs: { ...olds, ...news, keyId: olds.keyId, apiKey: olds.apiKey } };
    },
    async delete(id: string, props: ApiKeyInputs) {
        const api = client(props);
        const path = { ref: props.ref, id };
        const current = await api.GET("/v1/projects/{ref}/api-keys/{id}", { params: { path } });
        if (current.response.status === 404) return;
        const op = "DELETE /v1/projects/{ref}/api-keys/{id}";
        // A key in this stack's state without a marker predates the markers (the first update marks it): this stack's to delete.
        refuseForeignKey(props, unwrap("GET /v1/projects/{ref}/api-keys/{id}", current, props.accessToken).description, op);
        const r = await api.DELETE("/v1/projects/{ref}/api-keys/{id}", {
            params: { path, query: { was_compromised: false, reason: props.deleteReason } },
        });
        if (r.response.status === 404) return;
        unwrap(op, r, props.accessToken);
    },
};

/** Sets a key's description (with this stack's marker) in place; the key, its id and its value stay. */
async function patchKeyDescription(api: ManagementClient, inputs: ApiKeyInputs, id: string): Promise<void> {
    const op = "PATCH /v1/projects/{ref}/api-keys/{id}";
    const path = { ref: inputs.ref, id };
    const current = await api.GET("/v1/projects/{ref}/api-keys/{id}", { params: { path } });
    if (current.response.status === 404)
        throw new ManagementApiError(
            `the ${inputs.type} API key ${inputs.name} of project ${inputs.ref} no longer exists: run \`pulumi refresh\` (it drops the key) and \`pulumi up\` (it makes a new one)`,
            404,
            op,
        );
    refuseForeignKey(inputs, unwrap("GET /v1/projects/{ref}/api-keys/{id}", current, inputs.accessToken).description, op);
    unwrap(
        op,
        await api.PATCH("/v1/projects/{ref}/api-keys/{id}", {
            params: { path },
            body: { description: markedKeyDescription(inputs.description, inputs.owner) },
        }),
        inputs.accessToken,
    );
}

export interface LegacyKeysInputs extends ApiInputs {
    ref: string;
    enabled: boolean;
}

/** The legacy anon/service_role switch, and the legacy JWT secret while they are on (the backend verifies with it). */
async function legacyState(inputs: LegacyKeysInputs): Promise<{ enabled: boolean; jwtSecret: string | null }> {
    const api = client(inputs);
    const path = { ref: inputs.ref };
    const r = await api.GET("/v1/projects/{ref}/api-keys/legacy", { params: { path } });
    // "will be removed in the future, check for HTTP 404": then the legacy keys are gone.
    const enabled = r.response.status === 404 ? false : unwrap("GET /v1/projects/{ref}/api-keys/legacy", r, inputs.accessToken).enabled;
    if (!enabled) return { enabled, jwtSecret: null };
    const postgrest = unwrap(
        "GET /v1/projects/{ref}/postgrest",
        await api.GET("/v1/projects/{ref}/postgrest", { params: { path } }),
        inputs.accessToken,
    );
    return { enabled, jwtSecret: postgrest.jwt_secret ?? null };
}

async function applyLegacy(inputs: LegacyKeysInputs): Promise<Outs> {
    const now = await legacyState(inputs);
    if (now.enabled !== inputs.enabled) {
        const op = "PUT /v1/projects/{ref}/api-keys/legacy";
        const r = await client(inputs).PUT("/v1/projects/{ref}/api-keys/legacy", {
            params: { path: { ref: inputs.ref }, query: { enabled: inputs.enabled } },
        });
        if (r.response.status === 404 && inputs.enabled)
            throw new ManagementApiError(
                `the legacy API keys of ${inputs.ref} no longer exist and cannot be turned on: set supabaseLegacyKeysEnabled to false`,
                404,
                op,
            );
        if (r.response.status !== 404) unwrap(op, r, inputs.accessToken);
    }
    return { ...inputs, ...(await legacyState(inputs)) };
}

export const legacyKeysProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: LegacyKeysInputs) {
        return { id: `${inputs.ref}/legacy-api-keys`, outs: await applyLegacy(inputs) };
    },
    async read(id: string, props: LegacyKeysInputs) {
        return { id, props: { ...props, ...(await legacyState(props)) } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "enabled"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: LegacyKeysInputs) {
        return { outs: await applyLegacy(news) };
    },
    // Left as they are on destroy: switching keys off would break clients that still use them.
    async delete() {},
};

// ---- point-in-time recovery (the PITR billing add-on) --------------------------------------------

export interface PitrInputs extends ApiInputs {
    ref: string;
    /** supabasePitr: the add-on's variant, or off. */
    variant: PitrSetting;
}

/** The project's add-ons: those selected, and every variant available with its price and limits. */
async function listAddons(inputs: ApiInputs & { ref: string }) {
    return unwrap(
        "GET /v1/projects/{ref}/billing/addons",
        await client(inputs).GET("/v1/projects/{ref}/billing/addons", { params: { path: { ref: inputs.ref } } }),
        inputs.accessToken,
    );
}

/** What the add-ons list says: the PITR variant (off when none), the compute variant, and the PITR price a month. */
async function readAddons(inputs: PitrInputs) {
    const r = await listAddons(inputs);
    const variant = (selectedVariant(r.selected_addons, "pitr") ?? "off") as PitrSetting;
    const price = r.available_addons.find((a) => a.type === "pitr")?.variants.find((v) => v.id === variant)?.price;
    return {
        variant,
        computeVariant: selectedVariant(r.selected_addons, "compute_instance") ?? null,
        monthlyPriceUsd: price?.interval === "monthly" ? price.amount : variant === "off" ? 0 : null,
    };
}

/**
 * Refuses, before any change is sent, a variant the project's compute or the organization's plan
 * cannot carry: the API would refuse it (400, 402) only after the caller asked to pay for it.
 */
async function checkPitrAllowed(inputs: PitrInputs, variant: PitrVariant, computeVariant: string | null): Promise<void> {
    const fix = "or set `pulumi config set supabasePitr off`";
    const compute = computeRefusesPitr(computeVariant ?? undefined);
    if (compute)
        throw new ManagementApiError(
            `supabasePitr = ${variant} cannot be applied to ${inputs.ref}: ${compute}. Raise the compute size to Small or larger first (docs/hosted-project.md), ${fix}`,
            undefined,
            "PATCH /v1/projects/{ref}/billing/addons",
        );
    const api = client(inputs);
    const project = unwrap(
        "GET /v1/projects/{ref}",
        await api.GET("/v1/projects/{ref}", { params: { path: { ref: inputs.ref } } }),
        inputs.accessToken,
    );
    const slug = project.organization_slug;
    const allowed = allowedPitrVariants(
        unwrap(
            "GET /v1/organizations/{slug}/entitlements",
            await api.GET("/v1/organizations/{slug}/entitlements", { params: { path: { slug } } }),
            inputs.accessToken,
        ).entitlements,
    );
    if (!allowed.includes(variant))
        throw new ManagementApiError(
            `supabasePitr = ${variant} is not allowed by the plan of organization ${slug} (it allows ${allowed.length > 0 ? allowed.join(", ") : "no PITR variant"}): ` +
                `move the organization to Pro or above (Organization settings > Billing), ${allowed.length > 0 ? `choose one of ${allowed.join(", ")}, ` : ""}${fix}`,
            undefined,
            "GET /v1/organizations/{slug}/entitlements",
        );
}

async function applyPitr(inputs: PitrInputs): Promise<Outs> {
    const before = await readAddons(inputs);
    if (before.variant !== inputs.variant) {
        const api = client(inputs);
        if (inputs.variant === "off") {
            const op = "DELETE /v1/projects/{ref}/billing/addons/{addon_variant}";
            accepted(
                op,
                await api.DELETE("/v1/projects/{ref}/billing/addons/{addon_variant}", {
                    params: { path: { ref: inputs.ref, addon_variant: before.variant as PitrVariant } },
                }),
                inputs.accessToken,
            );
        } else {
            await checkPitrAllowed(inputs, inputs.variant, before.computeVariant);
            const op = "PATCH /v1/projects/{ref}/billing/addons";
            try {
                // One call, which either changes the variant or leaves the old one: nothing half-applied.
                accepted(
                    op,
                    await api.PATCH("/v1/projects/{ref}/billing/addons", {
                        params: { path: { ref: inputs.ref } },
                        body: { addon_type: "pitr", addon_variant: inputs.variant },
                    }),
                    inputs.accessToken,
                );
            } catch (e) {
                if (!(e instanceof ManagementApiError) || e.status === undefined || e.status >= 500 || [401, 403].includes(e.status))
                    throw e;
                const why =
                    e.status === 402
                        ? "the organization's plan does not pay for it: move it to Pro or above (Organization settings > Billing)"
                        : "check the project's compute size (Small or larger) and the plan";
                throw new ManagementApiError(
                    `supabasePitr = ${inputs.variant} was refused for ${inputs.ref} (${e.message}); PITR stays ${before.variant}. ${why}, or set \`pulumi config set supabasePitr off\``,
                    e.status,
                    op,
                );
            }
        }
    }
    const after = await readAddons(inputs);
    if (after.variant !== inputs.variant)
        throw new ManagementApiError(
            `Supabase accepted supabasePitr = ${inputs.variant} for ${inputs.ref}, but the project reports ${after.variant}: run \`pulumi up\` again once the dashboard shows the change`,
            undefined,
            "GET /v1/projects/{ref}/billing/addons",
        );
    return { ...inputs, ...after };
}

export const pitrProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: PitrInputs) {
        return { id: `${inputs.ref}/pitr`, outs: await applyPitr(inputs) };
    },
    // A change in the dashboard (another variant, or the add-on removed) is drift that `up` puts back.
    async read(id: string, props: PitrInputs) {
        return { id, props: { ...props, ...(await readAddons(props)) } };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "variant"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: PitrInputs) {
        return { outs: await applyPitr(news) };
    },
    // Left as it is when the setting is removed: losing the recovery window is never a side effect (set off to remove it).
    async delete() {},
};

// ---- compute size (the compute add-on) -----------------------------------------------------------

export interface ComputeInputs extends ApiInputs {
    ref: string;
    /** supabaseInstanceSize; absent: the size is left as it is (only read, for its limits). */
    size?: string;
    /** databasePoolSize: refused above the pooler's client limit of the compute, before anything is sent. */
    poolSize: number;
    /** How long to wait for ACTIVE_HEALTHY after a resize, and how often to look. */
    waitSeconds?: number;
    pollSeconds?: number;
}

/** The compute add-on as the API lists it: the size, and the connection limits of each variant. */
async function readCompute(inputs: ComputeInputs) {
    const r = await listAddons(inputs);
    const variants = r.available_addons.find((a) => a.type === "compute_instance")?.variants ?? [];
    const limitsOf = (variant: string) => {
        const meta = variants.find((v) => v.id === variant)?.meta as
            { connections_direct?: unknown; connections_pooler?: unknown } | undefined;
        return typeof meta?.connections_direct === "number" && typeof meta.connections_pooler === "number"
            ? { direct: meta.connections_direct, pooler: meta.connections_pooler }
            : undefined;
    };
    const variant = selectedVariant(r.selected_addons, "compute_instance");
    return { size: sizeOfComputeVariant(variant), limitsOf };
}

function computeOuts(inputs: ComputeInputs, size: string, limits: { direct: number; pooler: number } | undefined): Outs {
    return {
        ...inputs,
        // Unmanaged, the size stays unset: only a managed size is compared (drift).
        size: inputs.size === undefined ? undefined : size,
        actualSize: size,
        connectionsDirect: limits?.direct ?? null,
        connectionsPooler: limits?.pooler ?? null,
    };
}

async function applyCompute(inputs: ComputeInputs): Promise<Outs> {
    const before = await readCompute(inputs);
    const target = inputs.size ?? before.size;
    const limits = before.limitsOf(computeVariantOf(target));
    const op = "PATCH /v1/projects/{ref}/billing/addons";
    // The pool must fit the compute it will run on: refused before the resize, and before the pooler is changed.
    const refusal = limits && poolSizeRefusal(inputs.poolSize, target, limits);
    if (refusal) throw new ManagementApiError(`databasePoolSize = ${inputs.poolSize} ${refusal}`, undefined, op);
    if (target === before.size) return computeOuts(inputs, before.size, limits);
    if (target === "nano")
        throw new ManagementApiError(
            `supabaseInstanceSize = nano cannot be applied to ${inputs.ref}, which runs ${before.size}: no compute add-on selects nano; choose micro or larger`,
            undefined,
            op,
        );
    accepted(
        op,
        await client(inputs).PATCH("/v1/projects/{ref}/billing/addons", {
            params: { path: { ref: inputs.ref } },
            body: { addon_type: "compute_instance", addon_variant: computeVariantOf(target) as "ci_small" },
        }),
        inputs.accessToken,
    );
    // The database restarts on its new size: wait for it as for a new project.
    await waitHealthy({ ...inputs, waitSeconds: inputs.waitSeconds ?? 900 }, inputs.ref);
    const after = await readCompute(inputs);
    if (after.size !== target)
        throw new ManagementApiError(
            `Supabase accepted supabaseInstanceSize = ${target} for ${inputs.ref}, but the project reports ${after.size}: run \`pulumi up\` again once the dashboard shows the change`,
            undefined,
            "GET /v1/projects/{ref}/billing/addons",
        );
    return computeOuts(inputs, after.size, after.limitsOf(computeVariantOf(after.size)));
}

export const computeProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ComputeInputs) {
        return { id: `${inputs.ref}/compute`, outs: await applyCompute(inputs) };
    },
    // A size changed in the dashboard is drift when the stack sets supabaseInstanceSize.
    async read(id: string, props: ComputeInputs) {
        const now = await readCompute(props);
        return { id, props: computeOuts(props, now.size, now.limitsOf(computeVariantOf(now.size))) };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        return diffFields(olds, news, ["ref", "size", "poolSize"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: ComputeInputs) {
        return { outs: await applyCompute(news) };
    },
    // Left as it is: a resize is never a side effect of removing the setting.
    async delete() {},
};

// ---- read replicas -----------------------------------------------------------------------------

export interface ReplicasInputs extends ApiInputs {
    ref: string;
    /** supabaseReadReplicas: one replica per region; [] removes them all. */
    regions: string[];
    /** How long to wait for new replicas to be listed, and how often to look. */
    waitSeconds?: number;
    pollSeconds?: number;
}

/** The replicas as the pooler lists them, with their read-only connection (no password: the database user's). */
async function listReplicas(inputs: ReplicasInputs) {
    const all = unwrap(
        "GET /v1/projects/{ref}/config/database/pooler",
        await client(inputs).GET("/v1/projects/{ref}/config/database/pooler", { params: { path: { ref: inputs.ref } } }),
        inputs.accessToken,
    );
    return all
        .filter((p) => p.database_type === "READ_REPLICA")
        .map((p) => ({
            identifier: p.identifier,
            region: regionOfReplica(p.identifier) ?? null,
            host: p.db_host,
            port: p.db_port,
            user: p.db_user,
            database: p.db_name,
        }));
}

function replicasOuts(inputs: ReplicasInputs, replicas: Awaited<ReturnType<typeof listReplicas>>): Outs {
    // A replica of a shape this code cannot place shows as "unknown": drift against any list of regions.
    return { ...inputs, regions: replicas.map((r) => r.region ?? "unknown"), replicas };
}

async function applyReplicas(inputs: ReplicasInputs): Promise<Outs> {
    const current = await listReplicas(inputs);
    const { remove, add } = replicaChanges(
        current.map((r) => ({ identifier: r.identifier, region: r.region ?? undefined })),
        inputs.regions,
    );
    if (add.length > 0) {
        // Checked before any change: the API would fail the setup only after the removals went through.
        const compute = sizeOfComputeVariant(selectedVariant((await listAddons(inputs)).selected_addons, "compute_instance"));
        const refusal = replicaCountRefusal(inputs.regions.length, compute);
        if (refusal)
            throw new ManagementApiError(
                `supabaseReadReplicas = ${inputs.regions.join(",")}: ${refusal}`,
                undefined,
                "POST /v1/projects/{ref}/read-replicas/setup",
            );
    }
    const api = client(inputs);
    const done: string[] = [];
    const step = async (what: string, op: string, send: () => Promise<{ error?: unknown; response: Response }>) => {
        try {
            accepted(op, await send(), inputs.accessToken);
            done.push(what);
        } catch (e) {
            if (!(e instanceof ManagementApiError) || e.status === 401 || e.status === 403) throw e;
            throw new ManagementApiError(
                `${what} failed (${e.message}); ${done.length > 0 ? `done before it: ${done.join(", ")}` : "no step before it"}. ` +
                    "Run `pulumi up` again to finish (it compares with the replicas the project lists); `pulumi refresh` shows where it stands",
                e.status,
                op,
            );
        }
    };
    for (const identifier of remove)
        await step(`removing replica ${identifier}`, "POST /v1/projects/{ref}/read-replicas/remove", () =>
            api.POST("/v1/projects/{ref}/read-replicas/remove", {
                params: { path: { ref: inputs.ref } },
                body: { database_identifier: identifier },
            }),
        );
    for (const region of add)
        await step(`setting up a replica in ${region}`, "POST /v1/projects/{ref}/read-replicas/setup", () =>
            api.POST("/v1/projects/{ref}/read-replicas/setup", {
                params: { path: { ref: inputs.ref } },
                body: { read_replica_region: region as "eu-west-1" },
            }),
        );
    // A new replica is listed once it is set up: wait for the list to match, within the wait.
    const deadline = Date.now() + (inputs.waitSeconds ?? 1800) * 1000;
    const want = [...inputs.regions].sort().join(",");
    for (;;) {
        const now = await listReplicas(inputs);
        const outs = replicasOuts(inputs, now);
        if ([...(outs.regions as string[])].sort().join(",") === want) return outs;
        if (Date.now() >= deadline)
            throw new ManagementApiError(
                `the read replicas of ${inputs.ref} are ${(outs.regions as string[]).join(", ") || "none"}, not ${inputs.regions.join(", ") || "none"}, after ${inputs.waitSeconds ?? 1800} s: ` +
                    "a replica takes a while to set up; run `pulumi up` again later (it adds or removes only what differs)",
                undefined,
                "GET /v1/projects/{ref}/config/database/pooler",
            );
        await sleep(Math.min((inputs.pollSeconds ?? 15) * 1000, Math.max(0, deadline - Date.now())));
    }
}

export const readReplicasProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: ReplicasInputs) {
        return { id: `${inputs.ref}/read-replicas`, outs: await applyReplicas(inputs) };
    },
    // A replica removed (or added) by hand changes the listed regions: drift that `up` puts right.
    async read(id: string, props: ReplicasInputs) {
        return { id, props: replicasOuts(props, await listReplicas(props)) };
    },
    async diff(_id: string, olds: Outs, news: Outs) {
        const sorted = (o: Outs) => ({ ...o, regions: [...((o.regions as string[]) ?? [])].sort() });
        return diffFields(sorted(olds), sorted(news), ["ref", "regions"], ["ref"]);
    },
    async update(_id: string, _olds: Outs, news: ReplicasInputs) {
        return { outs: await applyReplicas(news) };
    },
    // Left as they are when the setting is removed (set none to remove them): users may be reading from them.
    async delete() {},
};
