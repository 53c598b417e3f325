/**
 * Telling drift apart from changes the program makes on schedule, for the nightly check.
 *
 * Two things change a stack with nobody committing anything: the rotation clock (lib/credentials
 * `currentTime`, pinned by TOOLBOXAI_NOW) and certificate renewal (terraform-provider-tls marks a
 * certificate `ready_for_renewal` within its early-renewal window, by the real clock). The check
 * pins the clock to the start of the last successful `pulumi up`, so rotation never shows as a
 * change; a renewal, and what it replaces downstream, is reported as scheduled, not as drift.
 */

/** One entry of `pulumi stack history --json` (fields read here only). */
export interface HistoryEntry {
    kind?: string;
    result?: string;
    startTime?: string | number;
    version?: number;
}

/**
 * `startTime` as the CLI prints it: RFC 3339, Go's `time.Time.String()` form
 * ("2026-11-25 12:00:00 +0000 UTC"), or Unix seconds.
 */
export function historyTime(value: string | number): Date {
    if (typeof value === "number" || /^\d+$/.test(value)) return new Date(Number(value) * 1000);
    const go = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?) ([+-]\d{2})(\d{2})(?: \S+)?$/.exec(value);
    const at = new Date(go ? `${go[1]}T${go[2]}${go[3]}:${go[4]}` : value);
    if (Number.isNaN(at.getTime())) throw new Error(`pulumi stack history: cannot read the time ${JSON.stringify(value)}`);
    return at;
}

/** When the program last ran for a successful `pulumi up`: the clock to evaluate it with again. */
export function lastDeployTime(history: readonly HistoryEntry[]): string {
    const ups = history.filter((h) => h.kind === "update" && h.result === "succeeded" && h.startTime !== undefined);
    if (ups.length === 0)
        throw new Error("pulumi stack history shows no successful `pulumi up`: deploy the stack before checking it for drift");
    const latest = ups.map((h) => historyTime(h.startTime!)).reduce((a, b) => (b > a ? b : a));
    return latest.toISOString();
}

/** One step of `pulumi preview --json` (pulumi display/json.go `previewStep`, fields read here only). */
export interface PreviewStep {
    op: string;
    urn: string;
    oldState?: { type?: string; dependencies?: string[]; parent?: string };
    newState?: { type?: string; dependencies?: string[]; parent?: string };
    diffReasons?: string[];
    replaceReasons?: string[];
}

export interface PreviewDigest {
    steps?: PreviewStep[];
}

/** Operations that change nothing. */
const NO_CHANGE = new Set(["same", "read", "refresh", "discard"]);
/** The TLS provider's early renewal, as Pulumi names the property (and as Terraform does). */
const RENEWAL = new Set(["readyForRenewal", "ready_for_renewal"]);

export interface ChangeClass {
    /** Changes nobody scheduled: a failure of the check. */
    drift: { urn: string; ops: string[]; reasons: string[] }[];
    /** Certificates due for renewal. */
    renewals: string[];
    /** Resources that change only because a renewed certificate feeds them. */
    followingRenewal: string[];
}

/** Sorts every changing resource of a preview into drift, renewal, or a consequence of a renewal. */
export function classifyPreview(preview: PreviewDigest): ChangeClass {
    const byUrn = new Map<string, PreviewStep[]>();
    for (const step of preview.steps ?? []) {
        if (NO_CHANGE.has(step.op)) continue;
        byUrn.set(step.urn, [...(byUrn.get(step.urn) ?? []), step]);
    }
    const reasonsOf = (steps: PreviewStep[]) => [...new Set(steps.flatMap((s) => [...(s.diffReasons ?? []), ...(s.replaceReasons ?? [])]))];
    const typeOf = (steps: PreviewStep[]) => steps.map((s) => s.newState?.type ?? s.oldState?.type).find(Boolean) ?? "";
    const renewals = [...byUrn].filter(([, steps]) => {
        const reasons = reasonsOf(steps);
        return typeOf(steps).startsWith("tls:") && reasons.length > 0 && reasons.every((r) => RENEWAL.has(r));
    });
    const renewed = new Set(renewals.map(([urn]) => urn));
    // Anything that depends, directly or through other changing resources, on a renewed certificate.
    const following = new Set<string>();
    const dependsOn = (steps: PreviewStep[]) =>
        new Set(steps.flatMap((s) => [...(s.newState?.dependencies ?? []), ...(s.oldState?.dependencies ?? [])]));
    for (let grew = true; grew;) {
        grew = false;
        for (const [urn, steps] of byUrn) {
            if (renewed.has(urn) || following.has(urn)) continue;
            if ([...dependsOn(steps)].some((d) => renewed.has(d) || following.has(d))) {
                following.add(urn);
                grew = true;
            }
        }
    }
    const drift = [...byUrn]
        .filter(([urn]) => !renewed.has(urn) && !following.has(urn))
        .map(([urn, steps]) => ({ urn, ops: [...new Set(steps.map((s) => s.op))], reasons: reasonsOf(steps) }));
    return { drift, renewals: [...renewed], followingRenewal: [...following] };
}

/** The check's report, in Markdown for the job summary and the drift issue. */
export function describeChanges(c: ChangeClass): string {
    const lines: string[] = [];
    if (c.drift.length > 0) {
        lines.push(`Drift: ${c.drift.length} resource(s) differ from what the last \`pulumi up\` left, with the clock pinned to it:`);
        for (const d of c.drift) lines.push(`- \`${d.urn}\`: ${d.ops.join(", ")}${d.reasons.length ? ` (${d.reasons.join(", ")})` : ""}`);
    }
    if (c.renewals.length > 0) {
        lines.push(
            `Scheduled: ${c.renewals.length} certificate(s) due for renewal, and ${c.followingRenewal.length} resource(s) that take them:`,
        );
        for (const urn of [...c.renewals, ...c.followingRenewal]) lines.push(`- \`${urn}\``);
    }
    if (lines.length === 0) lines.push("No changes.");
    return `${lines.join("\n")}\n`;
}
