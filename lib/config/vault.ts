/** Vault, where the credentials live, and the rotation of the secrets the program generates. */
import { PROJECT } from "../constants";
import { isAbsolute } from "node:path";
import { boolean, httpUrl, integer, vaultMount, vaultPathPrefix } from "./parsers";
import { bad, ok, type Parsed } from "./schema";
import { supabaseSettings } from "./supabase";

/** `vaultCaCert` value for the machine's trust store. */
export const SYSTEM_TRUST = "system";

/** The Vault provider's CA: `system`, or an absolute path to a PEM file (read at `pulumi up`; see loadStackConfig). */
function vaultCaCert(raw: string): Parsed<string> {
    if (raw === SYSTEM_TRUST) return ok(raw);
    if (isAbsolute(raw) && !/\s/.test(raw) && !raw.endsWith("/")) return ok(raw);
    return bad(
        `must be ${SYSTEM_TRUST} (the machine's trust store) or the absolute path of the CA's PEM file, such as /etc/toolboxai/vault-ca.pem`,
    );
}

const isHttps = (address: string | undefined) => address?.startsWith("https:") ?? false;

export const vaultSettings = supabaseSettings
    .group("Vault and rotation")
    .add("vaultAddress", (raw, s) => httpUrl(s.environment === "prod")(raw), {
        type: "string",
        doc: "Vault server URL (https in prod).",
        required: "is required: the Vault server URL",
    })
    .add("vaultMount", vaultMount, { type: "string", doc: "KV v2 mount path.", default: "secret" })
    .add("vaultPathPrefix", vaultPathPrefix, {
        type: "string",
        doc: "Path prefix under the mount; must differ between stacks sharing a Vault.",
        default: PROJECT,
    })
    .add("vaultMountManaged", boolean, {
        type: "boolean",
        doc: "The program creates the KV v2 mount (true) or uses an existing one (false, e.g. a Vault dev server's `secret/`).",
        default: false,
    })
    .add("vaultCaCert", vaultCaCert, {
        type: "string",
        doc: "How the program verifies an https Vault: the absolute path of the CA's PEM file on the machine running pulumi (the same path on every runner: it is stored with the provider), or system for the machine's trust store. Not used with http.",
        optional: true,
        yamlDefault: "",
        defaultText: "required when vaultAddress is https",
        required: (s) =>
            isHttps(s.vaultAddress)
                ? `is required when vaultAddress is https: the absolute path of the CA's PEM file, or ${SYSTEM_TRUST} when the machine's trust store holds it`
                : undefined,
        check: (_, s) =>
            s.vaultAddress && !isHttps(s.vaultAddress)
                ? `must be empty when vaultAddress is http (${s.vaultAddress}): there is no TLS to verify`
                : undefined,
    })
    .add("rotationPeriodDays", integer(1, 3650), {
        type: "integer",
        doc: "Generated secrets rotate at fixed boundaries of this many days (the guide's quarterly rotation).",
        default: 90,
    })
    .add("rotationGeneration", integer(0, 1_000_000), {
        type: "integer",
        doc: "Raise by one to rotate every generated secret at the next `pulumi up`.",
        default: 0,
    });
