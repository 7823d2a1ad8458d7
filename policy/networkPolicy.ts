/**
 * Network policy: every Valkey cluster's pods sit behind a NetworkPolicy, so only the cluster itself and the
 * allowed namespaces reach the client port and the cluster bus.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { PlainResource, Violation, part, plainResources, reportAll, violation } from "./common";
import { LABELS, networkPoliciesOf, objectNamespace, valkeyClusters } from "./resources";

/** The pure check: each Valkey cluster has a NetworkPolicy whose pod selector picks its pods. */
export function checkNetworkPolicy(resources: readonly PlainResource[]): Violation[] {
    const out: Violation[] = [];
    for (const [cluster, statefulSets] of valkeyClusters(resources)) {
        out.push(...part(() => checkClusterNetworkPolicy(cluster, statefulSets, resources)));
    }
    return out;
}

/** One cluster: a NetworkPolicy over its pods. */
function checkClusterNetworkPolicy(
    cluster: string,
    statefulSets: PlainResource[],
    resources: readonly PlainResource[],
): Violation[] {
    const out: Violation[] = [];
    if (networkPoliciesOf(resources, cluster, objectNamespace(statefulSets[0])).length === 0) {
        out.push(
            violation(
                "Valkey cluster",
                cluster,
                `have a NetworkPolicy selecting its pods (${LABELS.instance}: ${cluster}) so that only its own pods and the allowed namespaces reach ports 6379 and 16379`,
                statefulSets[0].urn,
            ),
        );
    }
    return out;
}

/** The network-policy policy (stack). */
export const networkPolicy: StackValidationPolicy = {
    name: "valkey-network-policy",
    description: "Checks that every Valkey cluster has a NetworkPolicy over its pods.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        reportAll(checkNetworkPolicy(plainResources(args)), reportViolation);
    },
};
