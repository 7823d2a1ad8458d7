/**
 * Valkey node pools: arm64 Graviton on EKS, memory-optimised E-series on AKS, never burstable. Valkey is
 * memory-bound and runs at a steady load; burstable CPU credits run out exactly when it is busiest.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    AZURE_NODE_SIZES,
    MEMORY_OPTIMISED_GRAVITON_FAMILIES,
    NETWORK_OPTIMISED_GRAVITON_FAMILIES,
    findNodeSize,
    isBurstable,
} from "../components/sizing";
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

/** The instance families a Valkey NodePool may use. */
export const GRAVITON_FAMILIES: readonly string[] = [
    ...MEMORY_OPTIMISED_GRAVITON_FAMILIES,
    ...NETWORK_OPTIMISED_GRAVITON_FAMILIES,
];

const BURSTABLE =
    "burstable instances throttle once their CPU credits run out under sustained load";

function checkKarpenterPool(pool: ValkeyPool): Violation[] {
    const out: Violation[] = [];
    const v = (rule: string): number => out.push(violation(pool.thing, pool.name, rule, pool.urn));
    const arch = requirementOf(pool, KARPENTER.arch);
    if (!arch || arch.operator !== "In" || arch.values.length !== 1 || arch.values[0] !== "arm64") {
        v(
            `run arm64 (Graviton) nodes only: require ${KARPENTER.arch} In ["arm64"]${arch ? `, not ${arch.operator} ${json(arch.values)}` : ""}`,
        );
    }
    const types = requirementOf(pool, KARPENTER.instanceType);
    const families = requirementOf(pool, KARPENTER.instanceFamily);
    const restricted =
        (types && types.operator === "In") || (families && families.operator === "In");
    if (!restricted) {
        v(
            `restrict its instances to Graviton families (${KARPENTER.instanceFamily} In ${json(GRAVITON_FAMILIES)})`,
        );
    }
    if (types && types.operator === "In") {
        for (const t of types.values) {
            const size = findNodeSize(t);
            if (isBurstable(t)) {
                v(
                    `not use burstable instance type ${t}: ${BURSTABLE}. Use a memory-optimised Graviton type such as r7g.xlarge`,
                );
            } else if (!size || size.arch !== "arm64" || !GRAVITON_FAMILIES.includes(size.family)) {
                v(`use Graviton instance types (${GRAVITON_FAMILIES.join("/")}), not ${t}`);
            }
        }
    }
    if (families && families.operator === "In") {
        for (const f of families.values) {
            if (isBurstable(f)) {
                v(
                    `not use the burstable instance family ${f}: ${BURSTABLE}. Use ${GRAVITON_FAMILIES.slice(0, 2).join(" or ")}`,
                );
            } else if (!GRAVITON_FAMILIES.includes(f)) {
                v(`use Graviton instance families (${GRAVITON_FAMILIES.join("/")}), not ${f}`);
            }
        }
    }
    return out;
}

function checkAksPool(pool: ValkeyPool): Violation[] {
    const size = pool.vmSize;
    if (size === undefined) {
        return [
            violation(
                pool.thing,
                pool.name,
                "set its vmSize to a memory-optimised E-series v5 size",
                pool.urn,
            ),
        ];
    }
    if (isBurstable(size)) {
        return [
            violation(
                pool.thing,
                pool.name,
                `not use the burstable VM size ${size}: ${BURSTABLE}. Use an E-series v5 size such as Standard_E16ds_v5`,
                pool.urn,
            ),
        ];
    }
    if (!AZURE_NODE_SIZES.some((s) => s.name === size)) {
        return [
            violation(
                pool.thing,
                pool.name,
                `use a memory-optimised E-series v5 VM size (e.g. Standard_E16ds_v5), not ${size}`,
                pool.urn,
            ),
        ];
    }
    return [];
}

/** The pure check: every Valkey node pool runs Graviton arm64 (EKS) or E-series v5 (AKS), none burstable. */
export function checkNodePools(resources: readonly PlainResource[]): Violation[] {
    return valkeyPools(resources).flatMap((p) =>
        part(() => (p.cloud === "aws" ? checkKarpenterPool(p) : checkAksPool(p))),
    );
}

/** The node-pool policy (stack). */
export const nodePools: StackValidationPolicy = {
    name: "valkey-node-pools",
    description:
        "Checks that the node pools reserved for Valkey run arm64 Graviton instances on EKS and memory-optimised E-series v5 VMs on AKS, and never burstable (t*, B*) sizes.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        reportAll(checkNodePools(plainResources(args)), reportViolation);
    },
};
