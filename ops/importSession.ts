/** The connections of one `ops import` (ops/import.ts). */
import { pipeline } from "node:stream/promises";
import type { Client, QueryResult, QueryResultRow } from "pg";
import type { TargetState } from "../lib/ops/import";
import { connect } from "./db";

const APPLICATION_NAME = "toolboxai-ops-import";

/**
 * The import's connections and what a signal does to them: no statement starts after it, and the
 * statement running on the target (a COPY, an index build, the read-back) is cancelled from a
 * second connection, so the transaction can be rolled back at once. Knows the target's state for
 * the final message.
 */
export class Connections {
    private readonly clients: Client[] = [];
    private writer?: { client: Client; pid: number; control: Client };
    private writerBusy = false;
    private cancelTimer?: NodeJS.Timeout;
    state: TargetState = "untouched";

    constructor(private readonly signal: AbortSignal | undefined) {
        signal?.addEventListener("abort", () => this.onAbort(), { once: true });
    }

    get aborted(): boolean {
        return this.signal?.aborted ?? false;
    }

    get signalName(): string {
        return String(this.signal?.reason ?? "abort");
    }

    /** Throws when the import was asked to stop. */
    check(): void {
        if (this.aborted) throw new Error(`stopped by ${this.signalName}`);
    }

    async open(url: string): Promise<Client> {
        this.check();
        const client = await connect(url, APPLICATION_NAME);
        this.clients.push(client);
        this.check();
        return client;
    }

    /** Opens the control connection, then BEGINs the target's one transaction. */
    async begin(target: Client, url: string): Promise<void> {
        const control = await this.open(url);
        const pid = (await target.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;
        this.writer = { client: target, pid, control };
        this.check();
        await target.query("begin");
        this.state = "in transaction";
    }

    /** One statement of the target's transaction. */
    async write<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
        this.check();
        this.writerBusy = true;
        try {
            return await this.writer!.client.query<R>(sql, params);
        } finally {
            this.writerBusy = false;
        }
    }

    /**
     * Runs a COPY pipeline into or out of the target, made only if no signal came first (a COPY
     * sent to the server must be fed or ended). A signal cancels it like any statement.
     */
    async copy(make: () => (NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream)[]): Promise<void> {
        this.check();
        const streams = make();
        this.writerBusy = true;
        try {
            await pipeline(streams);
        } finally {
            this.writerBusy = false;
        }
    }

    private onAbort(): void {
        // A cancel that reaches the server between two statements does nothing, so it is repeated
        // while a statement runs, until the flow stops starting them and rolls back.
        const cancel = () => {
            if (this.writer && this.writerBusy)
                this.writer.control.query("select pg_cancel_backend($1)", [this.writer.pid]).catch(() => undefined);
        };
        cancel();
        this.cancelTimer = setInterval(cancel, 500);
        this.cancelTimer.unref();
    }

    async rollback(): Promise<void> {
        clearInterval(this.cancelTimer);
        if (this.state !== "in transaction" || !this.writer) return;
        const rolledBack = await withTimeout(
            this.writer.client.query("rollback").then(() => true),
            5_000,
        ).catch(() => false);
        // Not confirmed (the connection is gone or busy): closing it ends the transaction on the server just the same.
        this.state = rolledBack ? "rolled back" : "closed before commit";
    }

    async commit(): Promise<void> {
        this.check();
        this.state = "committing";
        try {
            await this.writer!.client.query("commit");
            this.state = "committed";
        } catch (err) {
            // An error the server answered (a deferred constraint) rolled it back; a lost connection leaves it unknown.
            this.state = (err as { code?: string }).code ? "rolled back" : "commit unknown";
            throw err;
        }
    }

    /** Closes every connection; one that does not close in time (a hung server) is cut. */
    async closeAll(): Promise<void> {
        clearInterval(this.cancelTimer);
        await Promise.all(
            this.clients.map(async (c) => {
                // pg's end() cuts the socket itself when a query is still running (a COPY out of the source).
                const ended = await withTimeout(
                    c.end().then(() => true),
                    3_000,
                ).catch(() => false);
                if (!ended) (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
            }),
        );
    }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
        promise,
        new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}
