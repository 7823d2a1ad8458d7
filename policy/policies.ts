/**
 * Every policy of the pack, in the order the pack lists them. Tests run this list in-process; index.ts only
 * wraps it in a PolicyPack (which starts the policy server, so tests never import index.ts).
 */
import type { Policies } from "@pulumi/policy";
import { aivenIpFilter } from "./aivenIpFilter";
import { aivenPersistence } from "./aivenPersistence";
import { aivenPlan } from "./aivenPlan";
import { aivenTerminationProtection } from "./aivenTerminationProtection";
import { auth } from "./auth";
import { disruptionBudget } from "./disruptionBudget";
import { imagePinned } from "./imagePinned";
import { memoryRatio } from "./memoryRatio";
import { networkPolicy } from "./networkPolicy";
import { nodePools } from "./nodePools";
import { noSpot } from "./noSpot";
import { podSecurity } from "./podSecurity";
import { storageClass } from "./storageClass";
import { zoneSeparation } from "./zoneSeparation";

export {
    aivenIpFilter,
    aivenPersistence,
    aivenPlan,
    aivenTerminationProtection,
    auth,
    disruptionBudget,
    imagePinned,
    memoryRatio,
    networkPolicy,
    nodePools,
    noSpot,
    podSecurity,
    storageClass,
    zoneSeparation,
};

/** The policies of the valkey-platform pack. */
export const policies: Policies = [
    zoneSeparation,
    memoryRatio,
    nodePools,
    noSpot,
    storageClass,
    auth,
    imagePinned,
    podSecurity,
    disruptionBudget,
    networkPolicy,
    // Aiven for Valkey services (cloud: aiven, issue 15).
    aivenTerminationProtection,
    aivenIpFilter,
    aivenPlan,
    aivenPersistence,
];
