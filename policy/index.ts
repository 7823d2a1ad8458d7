/**
 * The valkey-platform CrossGuard policy pack: refuses unsafe Valkey plans before they reach a cloud.
 *
 * Every policy is mandatory unless the stack's policy config says otherwise:
 * `pulumi preview --policy-pack policy --policy-pack-config policy/config.<env>.json`. Constructing the pack
 * starts the policy server, so this file only assembles; the policies live in their own modules.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("valkey-platform", {
    description:
        "Zone separation, memory ratios and the production rules for Valkey on EKS and AKS.",
    enforcementLevel: "mandatory",
    policies,
});
