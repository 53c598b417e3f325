/**
 * doctor's checks from the Management API's advisors (GET /v1/projects/{ref}/advisors/security and
 * /performance): one check per lint, ERROR failing and WARN warning, with Supabase's remediation.
 */
import type { components } from "../supabase/management-api";

type Lint = components["schemas"]["V1ProjectAdvisorsResponse"]["lints"][number];
type Check = { name: string; status: "pass" | "warn" | "fail"; evidence: string; fix?: string };

export function advisorChecks(kind: "security" | "performance", lints: readonly Lint[]): Check[] {
    const shown = lints.filter((l) => l.level !== "INFO");
    if (shown.length === 0)
        return [{ name: `${kind} advisors`, status: "pass", evidence: `no ${kind} lint at WARN or ERROR (${lints.length} at INFO)` }];
    return shown.map((l) => {
        const on = l.metadata?.schema && l.metadata.name ? ` on ${l.metadata.schema}.${l.metadata.name}` : "";
        return {
            name: `${kind} advisor ${l.name}${on}`,
            status: l.level === "ERROR" ? "fail" : "warn",
            evidence: `${l.level}: ${l.title}: ${l.detail}`,
            fix: l.remediation,
        };
    });
}
