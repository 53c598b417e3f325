// The pack's entry point: `pulumi preview --policy-pack policy --policy-pack-config policy/config.<stack>.json`.
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("toolboxai", { policies: POLICIES, enforcementLevel: "advisory" });
