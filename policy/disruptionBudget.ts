/**
 * Disruption budget: a node drain or a cluster upgrade may take one Valkey pod at a time, so a shard never
 * loses its primary and a replica together.
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
import {
    LABELS,
    disruptionBudgetsOf,
    objectName,
    objectNamespace,
    valkeyClusters,
} from "./resources";

/** The pure check: each Valkey cluster has a PodDisruptionBudget over its pods allowing at most one unavailable. */
export function checkDisruptionBudget(resources: readonly PlainResource[]): Violation[] {
    const out: Violation[] = [];
    for (const [cluster, statefulSets] of valkeyClusters(resources)) {
        out.push(...part(() => checkClusterBudget(cluster, statefulSets, resources)));
    }
    return out;
}

/** One cluster: a PodDisruptionBudget over its pods, at most one unavailable. */
function checkClusterBudget(
    cluster: string,
    statefulSets: PlainResource[],
    resources: readonly PlainResource[],
): Violation[] {
    const out: Violation[] = [];
    const pdbs = disruptionBudgetsOf(resources, cluster, objectNamespace(statefulSets[0]));
    if (pdbs.length === 0) {
        out.push(
            violation(
                "Valkey cluster",
                cluster,
                `have a PodDisruptionBudget selecting its pods (${LABELS.instance}: ${cluster}) with maxUnavailable 1, so a node drain takes one pod at a time`,
                statefulSets[0].urn,
            ),
        );
        return out;
    }
    for (const pdb of pdbs) {
        const max = pdb.props.spec?.maxUnavailable;
        if (max !== undefined && max !== 1 && max !== "1") {
            out.push(
                violation(
                    "PodDisruptionBudget",
                    objectName(pdb),
                    `allow at most one unavailable Valkey pod (maxUnavailable 1), not ${json(max)}`,
                    pdb.urn,
                ),
            );
        }
    }
    return out;
}

/** The disruption-budget policy (stack). */
export const disruptionBudget: StackValidationPolicy = {
    name: "valkey-disruption-budget",
    description:
        "Checks that every Valkey cluster has a PodDisruptionBudget over its pods that lets at most one go at a time.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        reportAll(checkDisruptionBudget(plainResources(args)), reportViolation);
    },
};
