/**
 * The few Vault HTTP API calls the tool makes (KV v2 read, AppRole role-id, secret-id and login),
 * each with a timeout and bounded retries on connection errors and 5xx. Tokens and secrets never
 * appear in errors: only the method, path and Vault's own error strings.
 */
const TIMEOUT_MS = 10_000;
const ATTEMPTS = 3;

export class VaultError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
        this.name = "VaultError";
    }
}

export class VaultClient {
    constructor(
        readonly address: string,
        private readonly token: string,
    ) {}

    /** Another client for the same Vault with another token (an AppRole's). */
    withToken(token: string): VaultClient {
        return new VaultClient(this.address, token);
    }

    async request(
        method: "GET" | "POST",
        path: string,
        body?: object,
    ): Promise<{ data?: Record<string, unknown>; auth?: { client_token: string } }> {
        const url = `${this.address.replace(/\/$/, "")}/v1/${path}`;
        let last: unknown;
        for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                const res = await fetch(url, {
                    method,
                    headers: { "X-Vault-Token": this.token, ...(body ? { "Content-Type": "application/json" } : {}) },
                    body: body ? JSON.stringify(body) : undefined,
                    signal: AbortSignal.timeout(TIMEOUT_MS),
                });
                const text = await res.text();
                if (res.status >= 500 && attempt < ATTEMPTS) {
                    last = new VaultError(`${method} ${path}: HTTP ${res.status}`, res.status);
                    continue;
                }
                if (!res.ok) {
                    let errors = "";
                    try {
                        errors = ((JSON.parse(text) as { errors?: string[] }).errors ?? []).join("; ");
                    } catch {
                        // not JSON
                    }
                    throw new VaultError(`${method} ${path}: HTTP ${res.status}${errors ? ` (${errors})` : ""}`, res.status);
                }
                return text ? (JSON.parse(text) as { data?: Record<string, unknown> }) : {};
            } catch (err) {
                if (err instanceof VaultError) throw err;
                last = err;
                await new Promise((r) => setTimeout(r, 200 * attempt));
            }
        }
        if (last instanceof VaultError) throw last;
        throw new VaultError(`cannot reach Vault at ${this.address} (${method} ${path}): ${(last as Error)?.message ?? String(last)}`);
    }

    /** A KV v2 secret's data (`vault kv get <mount>/<name>`). */
    async readKv(mount: string, name: string): Promise<Record<string, string>> {
        const res = await this.request("GET", `${mount}/data/${name}`);
        return ((res.data as { data?: Record<string, string> } | undefined)?.data ?? {}) as Record<string, string>;
    }

    /** Logs in as an AppRole with a fresh single-use secret-id, which is destroyed afterwards by its accessor. */
    async appRoleToken(mount: string, role: string): Promise<{ token: string; cleanup: () => Promise<void> }> {
        const roleId = String((await this.request("GET", `auth/${mount}/role/${role}/role-id`)).data?.role_id ?? "");
        const created = (
            await this.request("POST", `auth/${mount}/role/${role}/secret-id`, {
                num_uses: 1,
                ttl: "5m",
                metadata: { purpose: "ops doctor" },
            })
        ).data as { secret_id: string; secret_id_accessor: string };
        const login = await this.request("POST", `auth/${mount}/login`, { role_id: roleId, secret_id: created.secret_id });
        const token = login.auth?.client_token;
        if (!token) throw new VaultError(`auth/${mount}/login: no token for role ${role}`);
        return {
            token,
            cleanup: async () => {
                await this.request("POST", `auth/${mount}/role/${role}/secret-id-accessor/destroy`, {
                    secret_id_accessor: created.secret_id_accessor,
                }).catch(() => undefined);
            },
        };
    }
}
