/** Vault, where the credentials live, and the rotation of the secrets the program generates. */
import { PROJECT } from "../constants";
import { boolean, httpUrl, integer, vaultMount, vaultPathPrefix } from "./parsers";
import { supabaseSettings } from "./supabase";

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
