/**
 * A local double of the Supabase Management API on loopback, built from the spec
 * (lib/supabase/openapi.json): every request is matched to a spec operation, its body validated
 * against the operation's schema (ajv) and its query parameters against their types; every JSON
 * reply is validated against the spec's response schema too, so the double cannot drift from
 * the real shapes. Replies start from Supabase's recorded ones (management-api-recorded/).
 *
 * It keeps state per project (status, keys, SSL, network restrictions, pooler, auth, legacy keys,
 * billing add-ons), the PITR variants each organization's plan allows, and injects faults: any status (401, 403, 404, 429 with X-RateLimit-Reset, 500), a hang, a
 * project status that never reaches ACTIVE_HEALTHY, and replies that go wrong on the way: a 200
 * HTML page (a proxy, a wrong base URL), a JSON body cut short, a connection dropped mid-body, a
 * body that stalls after its headers, a reply sent late. A status, a hang or a page changes
 * nothing; the others are the real reply damaged after the request was handled (its change is made).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";

const SPEC_PATH = resolve(__dirname, "../../lib/supabase/openapi.json");
const RECORDED = join(__dirname, "management-api-recorded");

interface SpecOperation {
    parameters?: { name: string; in: string; required?: boolean; schema?: Record<string, unknown> }[];
    requestBody?: { content?: Record<string, { schema: Record<string, unknown> }> };
    responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}

function recorded(file: string): unknown {
    return (JSON.parse(readFileSync(join(RECORDED, `${file}.default.response.json`), "utf8")) as { body: unknown }).body;
}

export interface Fault {
    /** "GET /v1/projects/{ref}/ssl-enforcement"; absent: any operation. */
    operation?: string;
    status?: number;
    /** For 429: the seconds sent in X-RateLimit-Reset. */
    resetSeconds?: number;
    /** Never answer (until the server closes). */
    hang?: boolean;
    /**
     * The reply damaged on the way: `html` a text/html page instead, 200 unless `status` (nothing handled); after the
     * request was handled, `truncated` the JSON's first half as a complete body, `cut` the full
     * Content-Length but half the body and the connection closed, `stall` the headers and the first
     * bytes, then nothing (until the server closes).
     */
    reply?: "html" | "truncated" | "cut" | "stall";
    /** The error's `message` (default: one fitting the status). */
    message?: string;
    /** Sends the real reply this many milliseconds late. */
    delayMs?: number;
    /** How many matching requests it hits (default 1). */
    times?: number;
}

export interface LoggedRequest {
    operation: string;
    path: string;
    query: Record<string, string>;
    body: unknown;
    status: number;
}

export interface ApiKeyRecord {
    id: string;
    name: string;
    type: "legacy" | "publishable" | "secret";
    api_key: string;
    description: string | null;
    secret_jwt_template: Record<string, unknown> | null;
    hash: string;
    prefix: string;
    inserted_at?: string;
    updated_at?: string;
}

export interface ProjectState {
    ref: string;
    name: string;
    region: string;
    organization_slug: string;
    /** Statuses the next GETs return, in order; the last one stays. */
    statuses: string[];
    dbPass?: string;
    ssl: boolean;
    network: { dbAllowedCidrs: string[]; dbAllowedCidrsV6: string[] };
    /** What GET network-restrictions reports: "stored" as while Supabase has not applied them yet. */
    networkStatus?: "stored" | "applied";
    pooler: { pool_mode: "transaction" | "session"; default_pool_size: number | null };
    auth: Record<string, unknown>;
    legacyEnabled: boolean;
    jwtSecret: string;
    keys: ApiKeyRecord[];
    deletedKeys: { key: ApiKeyRecord; wasCompromised: string; reason: string }[];
    /** Selected add-ons: the compute variant (a new project's is ci_micro) and the PITR variant, if any. */
    addons: { compute: string; pitr?: string };
    /** The add-ons PATCH answers 200 and changes nothing yet (a change Supabase has not applied). */
    addonChangesPending?: boolean;
    /** With PITR on: the recovery points GET database/backups reports (unix seconds). */
    pitrWindow?: { earliest: number; latest: number };
    /** Read replicas, listed by the pooler GET as READ_REPLICA entries. */
    replicas: { identifier: string; region: string }[];
    /** A point-in-time restore ends in RESTORE_FAILED instead of ACTIVE_HEALTHY. */
    restoreFails?: boolean;
    /** The statuses a point-in-time restore goes through (default RESTORING twice, then ACTIVE_HEALTHY or RESTORE_FAILED). */
    restoreStatuses?: string[];
    /** The recovery_time_target_unix of each restore-pitr accepted. */
    restoredTo: number[];
    /** What the security and performance advisors report. */
    lints: { security: Record<string, unknown>[]; performance: Record<string, unknown>[] };
}

export interface ManagementApiDouble {
    url: string;
    token: string;
    projects: Map<string, ProjectState>;
    log: LoggedRequest[];
    /** The PITR variants an organization's plan allows (entitlement pitr.available_variants); absent: all three, as on Pro. */
    pitrVariants: Map<string, string[]>;
    inject(fault: Fault): void;
    /** Drops the faults not yet used up (a test's leftovers would hit the next test). */
    clearFaults(): void;
    /** A project as if made in the dashboard (adopt by ref). */
    addProject(ref: string, overrides?: Partial<ProjectState>): ProjectState;
    /** Every secret value the double holds: token, key values, JWT secret, database passwords. */
    secrets(): string[];
    close(): Promise<void>;
}

function key(type: ApiKeyRecord["type"], name: string): ApiKeyRecord {
    const value =
        type === "secret"
            ? `sb_secret_${randomBytes(24).toString("base64url")}`
            : `sb_publishable_${randomBytes(24).toString("base64url")}`;
    const now = new Date().toISOString();
    return {
        id: randomUUID(),
        name,
        type,
        api_key: value,
        description: null,
        secret_jwt_template: type === "secret" ? { role: "service_role" } : null,
        hash: randomBytes(32).toString("base64url"),
        prefix: value.slice(0, 14),
        inserted_at: now,
        updated_at: now,
    };
}

function legacyJwt(role: string): string {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    return `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ iss: "supabase", role })}.${randomBytes(32).toString("base64url")}`;
}

export async function startManagementApiDouble(options: { token?: string } = {}): Promise<ManagementApiDouble> {
    const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as {
        paths: Record<string, Record<string, SpecOperation>>;
        components: unknown;
    };
    // OpenAPI 3.0 schemas: `nullable` and `discriminator` are ajv keywords; formats are not checked.
    const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true, validateFormats: false });
    // The spec's entitlement `config` is a oneOf whose first branch ({enabled}) also matches the other two
    // (no additionalProperties: false): every numeric or set entitlement would fail it. Any one branch is what it means.
    const entitlementsSchema = JSON.stringify((spec.components as { schemas: Record<string, unknown> }).schemas.V1ListEntitlementsResponse);
    (spec.components as { schemas: Record<string, unknown> }).schemas.V1ListEntitlementsResponse = JSON.parse(
        entitlementsSchema.replace('"config":{"oneOf"', '"config":{"anyOf"'),
    ) as unknown;
    ajv.addSchema({ $id: "spec", components: spec.components } as object);
    const compiled = new Map<string, ValidateFunction>();
    const validator = (schema: Record<string, unknown>) => {
        const id = JSON.stringify(schema);
        let v = compiled.get(id);
        if (!v) {
            const rewritten = JSON.parse(id.replace(/"#\/components\//g, '"spec#/components/')) as object;
            v = ajv.compile(rewritten);
            compiled.set(id, v);
        }
        return v;
    };
    const routes = Object.entries(spec.paths).flatMap(([template, ops]) =>
        Object.entries(ops)
            .filter(([, op]) => typeof op === "object" && op !== null && "responses" in op)
            .map(([method, op]) => ({
                method: method.toUpperCase(),
                template,
                op,
                pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`),
                names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
            })),
    );

    const token = options.token ?? `sbp_${randomBytes(20).toString("hex")}`;
    const projects = new Map<string, ProjectState>();
    const log: LoggedRequest[] = [];
    const faults: (Fault & { left: number })[] = [];
    const hanging = new Set<ServerResponse>();

    const recordedProject = recorded("GET_v1_projects___PROJECT_REF__") as Record<string, unknown>;
    const recordedAuth = recorded("GET_v1_projects___PROJECT_REF___config_auth") as Record<string, unknown>;
    const recordedPooler = (recorded("GET_v1_projects___PROJECT_REF___config_database_pooler") as Record<string, unknown>[])[0];
    const recordedKeys = recorded("GET_v1_projects___PROJECT_REF___api_keys") as ApiKeyRecord[];
    const recordedNetwork = recorded("GET_v1_projects___PROJECT_REF___network_restrictions") as { config: ProjectState["network"] };
    const recordedAddons = recorded("GET_v1_projects___PROJECT_REF___billing_addons") as {
        available_addons: { type: string; variants: { id: string }[] }[];
    };
    const pitrVariants = new Map<string, string[]>();
    const addonVariant = (id: string) => {
        for (const a of recordedAddons.available_addons) {
            const v = a.variants.find((x) => x.id === id);
            if (v) return { type: a.type, variant: v };
        }
        throw new Error(`the recorded add-ons list no variant ${id}`);
    };

    function addProject(ref: string, overrides: Partial<ProjectState> = {}): ProjectState {
        const state: ProjectState = {
            ref,
            name: String(recordedProject.name),
            region: String(recordedProject.region),
            organization_slug: "toolboxai-org",
            statuses: ["ACTIVE_HEALTHY"],
            ssl: false,
            network: structuredClone(recordedNetwork.config),
            pooler: { pool_mode: "transaction", default_pool_size: null },
            // The recording predates one field the spec now requires (nullable): null, as a project that never set it.
            auth: {
                nimbus_oauth_email_optional: null,
                ...(JSON.parse(JSON.stringify(recordedAuth).replace(/localhost:__PORT__/g, "localhost:3000")) as Record<string, unknown>),
            },
            legacyEnabled: true,
            jwtSecret: randomBytes(32).toString("base64url"),
            // The recorded set: legacy anon and service_role, and a default publishable and secret key.
            keys: recordedKeys.map((k) => ({ ...(k.type === "legacy" ? { ...k, api_key: legacyJwt(k.name) } : key(k.type, k.name)) })),
            deletedKeys: [],
            addons: { compute: "ci_micro" },
            replicas: [],
            restoredTo: [],
            lints: { security: [], performance: [] },
            ...overrides,
        };
        projects.set(ref, state);
        return state;
    }

    function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
        res.writeHead(status, {
            "content-type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "120",
            "x-ratelimit-remaining": "119",
            "x-ratelimit-reset": "60",
            ...headers,
        });
        res.end(body === undefined ? "" : JSON.stringify(body));
    }

    function projectView(p: ProjectState): Record<string, unknown> {
        const status = p.statuses.length > 1 ? p.statuses.shift()! : p.statuses[0];
        return {
            ...recordedProject,
            id: p.ref,
            ref: p.ref,
            organization_id: p.organization_slug,
            organization_slug: p.organization_slug,
            name: p.name,
            region: p.region,
            status,
            database: { ...(recordedProject.database as object), host: `db.${p.ref}.supabase.co` },
        };
    }

    /** The handlers: state changes happen only here, after validation and fault injection. */
    function handle(
        operation: string,
        params: Record<string, string>,
        query: URLSearchParams,
        body: Record<string, unknown> | undefined,
    ): [number, unknown] {
        if (operation === "POST /v1/projects") {
            const ref = Array.from(randomBytes(20), (b) => String.fromCharCode(97 + (b % 26))).join("");
            const selection = body!.region_selection as { code?: string } | undefined;
            const p = addProject(ref, {
                name: String(body!.name),
                region: String(selection?.code ?? body!.region ?? "us-east-1"),
                organization_slug: String(body!.organization_slug),
                statuses: ["COMING_UP", "COMING_UP", "ACTIVE_HEALTHY"],
                dbPass: String(body!.db_pass),
            });
            // The create reply has no database block yet (V1ProjectResponse).
            const created = projectView({ ...p, statuses: ["UNKNOWN"] });
            delete created.database;
            return [201, created];
        }
        if (operation === "GET /v1/organizations/{slug}/entitlements") {
            const set = pitrVariants.get(params.slug) ?? ["pitr_7", "pitr_14", "pitr_28"];
            return [
                200,
                {
                    entitlements: [
                        {
                            feature: { key: "pitr.available_variants", type: "set" },
                            hasAccess: set.length > 0,
                            type: "set",
                            config: { enabled: set.length > 0, set },
                        },
                        {
                            feature: { key: "instances.read_replicas", type: "boolean" },
                            hasAccess: set.length > 0,
                            type: "boolean",
                            config: { enabled: set.length > 0 },
                        },
                    ],
                },
            ];
        }
        const p = projects.get(params.ref);
        if (!p) return [404, { message: "Project not found" }];
        const found = (id: string) => p.keys.find((k) => k.id === id);
        const shown = (k: ApiKeyRecord) =>
            query.get("reveal") === "true" || k.type === "legacy" ? k : { ...k, api_key: `${k.api_key.slice(0, 14)}${"·".repeat(8)}` };
        switch (operation) {
            case "GET /v1/projects/{ref}":
                return [200, projectView(p)];
            case "GET /v1/projects/{ref}/ssl-enforcement":
                return [200, { currentConfig: { database: p.ssl }, appliedSuccessfully: true }];
            case "PUT /v1/projects/{ref}/ssl-enforcement":
                p.ssl = (body!.requestedConfig as { database: boolean }).database;
                return [200, { currentConfig: { database: p.ssl }, appliedSuccessfully: true }];
            case "GET /v1/projects/{ref}/network-restrictions":
                return [200, { entitlement: "allowed", config: p.network, status: p.networkStatus ?? "applied" }];
            case "POST /v1/projects/{ref}/network-restrictions/apply":
                p.network = structuredClone({
                    dbAllowedCidrs: (body!.dbAllowedCidrs as string[]) ?? [],
                    dbAllowedCidrsV6: (body!.dbAllowedCidrsV6 as string[]) ?? [],
                });
                return [201, { entitlement: "allowed", config: p.network, status: "stored" }];
            case "GET /v1/projects/{ref}/config/database/pooler":
                return [
                    200,
                    [
                        ...p.replicas.map((r) => ({
                            ...recordedPooler,
                            identifier: r.identifier,
                            database_type: "READ_REPLICA",
                            db_user: `postgres.${p.ref}`,
                            db_host: `aws-0-${r.region}.pooler.supabase.com`,
                            connection_string: `postgresql://postgres.${p.ref}:[YOUR-PASSWORD]@aws-0-${r.region}.pooler.supabase.com:6543/postgres`,
                            connectionString: `postgresql://postgres.${p.ref}:[YOUR-PASSWORD]@aws-0-${r.region}.pooler.supabase.com:6543/postgres`,
                            ...p.pooler,
                        })),
                        {
                            ...recordedPooler,
                            identifier: p.ref,
                            db_user: `postgres.${p.ref}`,
                            db_host: "aws-0-eu-central-1.pooler.supabase.com",
                            connection_string: `postgresql://postgres.${p.ref}:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.supabase.com:6543/postgres`,
                            connectionString: `postgresql://postgres.${p.ref}:[YOUR-PASSWORD]@aws-0-eu-central-1.pooler.supabase.com:6543/postgres`,
                            ...p.pooler,
                        },
                    ],
                ];
            case "PATCH /v1/projects/{ref}/config/database/pooler":
                p.pooler = { ...p.pooler, ...(body as Partial<ProjectState["pooler"]>) };
                return [200, { default_pool_size: p.pooler.default_pool_size, pool_mode: p.pooler.pool_mode }];
            case "GET /v1/projects/{ref}/config/auth":
                return [200, p.auth];
            case "PATCH /v1/projects/{ref}/config/auth":
                p.auth = { ...p.auth, ...structuredClone(body) };
                return [200, p.auth];
            case "GET /v1/projects/{ref}/postgrest":
                return [
                    200,
                    {
                        db_schema: "public,graphql_public",
                        max_rows: 1000,
                        db_extra_search_path: "public, extensions",
                        db_pool: null,
                        jwt_secret: p.jwtSecret,
                    },
                ];
            case "GET /v1/projects/{ref}/api-keys/legacy":
                return [200, { enabled: p.legacyEnabled }];
            case "PUT /v1/projects/{ref}/api-keys/legacy":
                p.legacyEnabled = query.get("enabled") === "true";
                return [200, { enabled: p.legacyEnabled }];
            case "GET /v1/projects/{ref}/api-keys":
                return [200, p.keys.map(shown)];
            case "POST /v1/projects/{ref}/api-keys": {
                if (p.keys.some((k) => k.name === body!.name))
                    return [400, { message: `API key with name ${String(body!.name)} already exists` }];
                const k = {
                    ...key(body!.type as "secret", String(body!.name)),
                    description: (body!.description as string | null) ?? null,
                    secret_jwt_template: (body!.secret_jwt_template as Record<string, unknown> | null) ?? null,
                };
                p.keys.push(k);
                return [201, shown(k)];
            }
            case "GET /v1/projects/{ref}/api-keys/{id}": {
                const k = found(params.id);
                return k ? [200, shown(k)] : [404, { message: "API key not found" }];
            }
            case "PATCH /v1/projects/{ref}/api-keys/{id}": {
                const k = found(params.id);
                if (!k) return [404, { message: "API key not found" }];
                if (body!.name !== undefined && p.keys.some((x) => x !== k && x.name === body!.name))
                    return [400, { message: `API key with name ${String(body!.name)} already exists` }];
                for (const field of ["name", "description", "secret_jwt_template"] as const)
                    if (body![field] !== undefined) Object.assign(k, { [field]: structuredClone(body![field]) });
                k.updated_at = new Date().toISOString();
                return [200, shown(k)];
            }
            case "DELETE /v1/projects/{ref}/api-keys/{id}": {
                const k = found(params.id);
                if (!k) return [404, { message: "API key not found" }];
                p.keys = p.keys.filter((x) => x !== k);
                p.deletedKeys.push({ key: k, wasCompromised: query.get("was_compromised") ?? "", reason: query.get("reason") ?? "" });
                return [200, shown(k)];
            }
            case "GET /v1/projects/{ref}/billing/addons":
                return [
                    200,
                    {
                        selected_addons: [p.addons.compute, p.addons.pitr].filter((v) => v !== undefined).map(addonVariant),
                        available_addons: recordedAddons.available_addons,
                    },
                ];
            case "PATCH /v1/projects/{ref}/billing/addons": {
                const variant = String(body!.addon_variant);
                if (body!.addon_type === "pitr") {
                    if (!variant.startsWith("pitr_")) return [400, { message: `${variant} is not a PITR variant` }];
                    if (["ci_nano", "ci_micro"].includes(p.addons.compute))
                        return [400, { message: "Point in time recovery requires at least a Small compute add-on." }];
                    const allowed = pitrVariants.get(p.organization_slug) ?? ["pitr_7", "pitr_14", "pitr_28"];
                    if (!allowed.includes(variant))
                        return [402, { message: "Your organization's plan does not include point in time recovery." }];
                    if (!p.addonChangesPending) p.addons.pitr = variant;
                } else if (body!.addon_type === "compute_instance") {
                    if (!variant.startsWith("ci_")) return [400, { message: `${variant} is not a compute variant` }];
                    if (p.addonChangesPending) return [200, undefined];
                    p.addons.compute = variant;
                    // The database restarts on its new size.
                    p.statuses = ["RESIZING", "ACTIVE_HEALTHY"];
                } else return [400, { message: `the double does not keep ${String(body!.addon_type)} add-ons` }];
                return [200, undefined];
            }
            case "POST /v1/projects/{ref}/read-replicas/setup": {
                const region = String(body!.read_replica_region);
                const suffix = Array.from(randomBytes(5), (b) => String.fromCharCode(97 + (b % 26))).join("");
                p.replicas.push({ identifier: `${p.ref}-rr-${region}-${suffix}`, region });
                return [201, undefined];
            }
            case "POST /v1/projects/{ref}/read-replicas/remove": {
                const before = p.replicas.length;
                p.replicas = p.replicas.filter((r) => r.identifier !== body!.database_identifier);
                return p.replicas.length < before ? [201, undefined] : [400, { message: "Read replica not found." }];
            }
            case "GET /v1/projects/{ref}/advisors/security":
                return [200, { lints: p.lints.security }];
            case "GET /v1/projects/{ref}/advisors/performance":
                return [200, { lints: p.lints.performance }];
            case "GET /v1/projects/{ref}/database/backups":
                return [
                    200,
                    {
                        region: p.region,
                        walg_enabled: true,
                        pitr_enabled: p.addons.pitr !== undefined,
                        backups: [],
                        physical_backup_data:
                            p.addons.pitr && p.pitrWindow
                                ? {
                                      earliest_physical_backup_date_unix: p.pitrWindow.earliest,
                                      latest_physical_backup_date_unix: p.pitrWindow.latest,
                                  }
                                : {},
                    },
                ];
            case "POST /v1/projects/{ref}/database/backups/restore-pitr": {
                // The recorded reply without the add-on.
                if (!p.addons.pitr) return [400, { message: "PITR is not enabled for this project." }];
                if (p.replicas.length > 0) return [400, { message: "Remove all read replicas before restoring." }];
                p.restoredTo.push(Number(body!.recovery_time_target_unix));
                p.statuses = p.restoreStatuses ?? ["RESTORING", "RESTORING", p.restoreFails ? "RESTORE_FAILED" : "ACTIVE_HEALTHY"];
                return [201, undefined];
            }
            case "DELETE /v1/projects/{ref}/billing/addons/{addon_variant}":
                if (p.addons.pitr !== params.addon_variant) return [400, { message: `${params.addon_variant} is not selected` }];
                delete p.addons.pitr;
                return [200, undefined];
            default:
                return [501, { message: `the double does not implement ${operation}` }];
        }
    }

    async function serve(req: IncomingMessage, res: ServerResponse) {
        const url = new URL(req.url ?? "/", "http://double");
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString("utf8");
        const method = req.method ?? "GET";
        const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
        const entry: LoggedRequest = {
            operation: route ? `${method} ${route.template}` : `${method} ${url.pathname}`,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            body: undefined,
            status: 0,
        };
        log.push(entry);
        const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
            entry.status = status;
            send(res, status, body, headers);
        };
        if (!route) return reply(404, { message: `no operation ${method} ${url.pathname} in the spec` });
        const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(url.pathname.match(route.pattern)![i + 1])]));

        if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { message: "Unauthorized" });
        const fault = faults.find((f) => f.left > 0 && (!f.operation || f.operation === entry.operation));
        if (fault) fault.left--;
        const damage = fault && ((fault.reply !== undefined && fault.reply !== "html") || fault.delayMs !== undefined) ? fault : undefined;
        if (fault && !damage) {
            if (fault.hang) {
                entry.status = -1;
                hanging.add(res);
                return;
            }
            if (fault.reply === "html") {
                // What a proxy's sign-in wall or a wrong base URL gives: a page (200 unless `status`) echoing the request's token.
                entry.status = fault.status ?? 200;
                res.writeHead(entry.status, { "content-type": "text/html; charset=utf-8" });
                res.end(
                    `<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body>\t<p>Session for ${req.headers.authorization ?? ""} expired</p></body></html>`,
                );
                return;
            }
            const status = fault.status ?? 500;
            return reply(
                status,
                {
                    message:
                        fault.message ??
                        (status === 429
                            ? "Too many requests"
                            : status === 403
                              ? "Forbidden resource"
                              : status === 404
                                ? "Not found"
                                : "Internal server error"),
                },
                status === 429 ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(fault.resetSeconds ?? 1) } : {},
            );
        }

        // Query parameters: required ones present, declared ones well typed, no undeclared ones.
        const declared = new Map((route.op.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p]));
        for (const [name, value] of url.searchParams) {
            const p = declared.get(name);
            if (!p) return reply(400, { message: `query parameter ${name} is not declared for ${entry.operation}` });
            if (p.schema?.type === "boolean" && value !== "true" && value !== "false")
                return reply(400, { message: `query parameter ${name} must be true or false` });
        }
        const schema = route.op.requestBody?.content?.["application/json"]?.schema;
        let body: Record<string, unknown> | undefined;
        if (schema) {
            try {
                body = JSON.parse(text) as Record<string, unknown>;
            } catch {
                return reply(400, { message: "body is not JSON" });
            }
            const validate = validator(schema);
            if (!validate(body)) {
                entry.body = body;
                return reply(400, { message: `body does not match the spec: ${ajv.errorsText(validate.errors)}` });
            }
        } else if (text.length > 0) return reply(400, { message: `${entry.operation} takes no body` });
        entry.body = body;

        const [status, answer] = handle(entry.operation, params, url.searchParams, body);
        const responseSchema = route.op.responses[String(status)]?.content?.["application/json"]?.schema;
        if (status < 300 && responseSchema) {
            const validate = validator(responseSchema);
            if (!validate(answer))
                return reply(599, {
                    message: `the double's reply to ${entry.operation} does not match the spec: ${ajv.errorsText(validate.errors)}`,
                });
        }
        if (!damage) return reply(status, answer);
        if (damage.delayMs !== undefined) await new Promise((r) => setTimeout(r, damage.delayMs));
        if (damage.reply === undefined) return reply(status, answer);
        entry.status = status;
        const full = Buffer.from(JSON.stringify(answer));
        const half = full.subarray(0, Math.floor(full.length / 2));
        const headers = { "content-type": "application/json; charset=utf-8" };
        if (damage.reply === "truncated") {
            res.writeHead(status, { ...headers, "content-length": String(half.length) });
            res.end(half);
        } else {
            res.writeHead(status, { ...headers, "content-length": String(full.length) });
            hanging.add(res);
            // Cut once the headers and the half are on their way, so the client sees them before the close.
            res.write(half, () => (damage.reply === "cut" ? setTimeout(() => res.destroy(), 20) : undefined));
        }
    }

    const server: Server = createServer((req, res) => {
        serve(req, res).catch((e: unknown) => send(res, 598, { message: `double failed: ${String(e)}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    return {
        url: `http://127.0.0.1:${port}`,
        token,
        projects,
        log,
        pitrVariants,
        addProject,
        inject: (fault) => faults.push({ ...fault, left: fault.times ?? 1 }),
        clearFaults: () => void (faults.length = 0),
        secrets: () => [
            token,
            ...[...projects.values()].flatMap((p) => [
                p.jwtSecret,
                ...(p.dbPass ? [p.dbPass] : []),
                ...p.keys.map((k) => k.api_key),
                ...p.deletedKeys.map((d) => d.key.api_key),
            ]),
        ],
        close: async () => {
            for (const res of hanging) res.destroy();
            server.closeAllConnections();
            await new Promise<void>((r) => server.close(() => r()));
        },
    };
}
