/**
 * No Spot capacity for Valkey: a reclaimed Spot node takes a primary (and its volume's attachment) with two
 * minutes' notice, and Spot reclaims hit many nodes of one zone at once.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    PlainResource,
    Violation,
    json,
    part,
    plainResources,
    reportAll,
    violation,
} from "./common";
import { KARPENTER, ValkeyPool, requirementOf, valkeyPools } from "./resources";

/**
 * The pure check: no Valkey node pool may launch Spot capacity. A Karpenter NodePool without a capacity-type
 * requirement launches on-demand only (Karpenter's default); AKS pools must not use scaleSetPriority Spot.
 */
export function checkNoSpot(resources: readonly PlainResource[]): Violation[] {
    const out: Violation[] = [];
    for (const pool of valkeyPools(resources)) {
        out.push(...part(() => checkPoolSpot(pool)));
    }
    return out;
}

/** One Valkey pool: on-demand (Karpenter) or Regular (AKS) capacity only. */
function checkPoolSpot(pool: ValkeyPool): Violation[] {
    const out: Violation[] = [];
    if (pool.cloud === "aws") {
        const req = requirementOf(pool, KARPENTER.capacityType);
        if (!req) return out;
        const allowsSpot =
            (req.operator === "In" && req.values.includes("spot")) ||
            (req.operator === "NotIn" && !req.values.includes("spot")) ||
            req.operator === "Exists";
        if (allowsSpot) {
            out.push(
                violation(
                    pool.thing,
                    pool.name,
                    `not launch Spot capacity for Valkey: ${KARPENTER.capacityType} ${req.operator} ${json(req.values)} allows "spot", and a reclaimed node takes a primary with two minutes' notice. Require ${KARPENTER.capacityType} In ["on-demand"]`,
                    pool.urn,
                ),
            );
        }
    } else if (pool.priority?.toLowerCase() === "spot") {
        out.push(
            violation(
                pool.thing,
                pool.name,
                `not use Spot VMs for Valkey (scaleSetPriority "Spot"): an evicted VM takes a primary with 30 seconds' notice. Use scaleSetPriority "Regular"`,
                pool.urn,
            ),
        );
    }
    return out;
}

/** The no-Spot policy (stack). */
export const noSpot: StackValidationPolicy = {
    name: "valkey-no-spot",
    description:
        "Checks that no node pool reserved for Valkey launches Spot capacity (Karpenter capacity type spot, AKS scaleSetPriority Spot).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        reportAll(checkNoSpot(plainResources(args)), reportViolation);
    },
};
