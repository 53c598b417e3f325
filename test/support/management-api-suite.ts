/**
 * The wiring every test file against the Management API double shares: one double per file,
 * a clean project list, log and fault list per test, and at the end the check that none of the
 * double's secrets (token, keys, JWT secret, database passwords) appeared in an error a test caught
 * or, with `watchConsole`, in anything the code under test wrote to the console.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { startManagementApiDouble, type ManagementApiDouble } from "./management-api-double";

export interface ManagementApiSuite {
    /** The file's double (started before the first test). */
    readonly api: ManagementApiDouble;
    /** Every message `failure` caught, checked for secrets after the last test. */
    readonly errors: string[];
    /** The message `p` rejects with (kept for the secrets check); fails the test if `p` resolves. */
    failure(p: Promise<unknown>): Promise<string>;
}

export function useManagementApiDouble(options: { watchConsole?: boolean } = {}): ManagementApiSuite {
    let api: ManagementApiDouble | undefined;
    const errors: string[] = [];
    const logged: string[] = [];
    beforeAll(async () => {
        api = await startManagementApiDouble();
    });
    afterAll(async () => {
        if (!api) return;
        await api.close();
        const texts = [...errors, ...logged].join("\n");
        for (const secret of api.secrets())
            expect(texts.includes(secret), "a secret of the double appeared in an error or log").toBe(false);
    });
    beforeEach(() => {
        api!.projects.clear();
        api!.log.length = 0;
        api!.clearFaults();
        if (options.watchConsole)
            for (const level of ["log", "info", "warn", "error", "debug"] as const)
                vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    });
    if (options.watchConsole) afterEach(() => vi.restoreAllMocks());
    return {
        get api() {
            if (!api) throw new Error("the Management API double starts in beforeAll: use it inside a test or hook");
            return api;
        },
        errors,
        async failure(p) {
            try {
                await p;
            } catch (e) {
                const message = e instanceof Error ? e.message : String(e);
                errors.push(message);
                return message;
            }
            throw new Error("expected a failure");
        },
    };
}
