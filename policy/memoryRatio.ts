/**
 * Memory ratio: the rendered valkey.conf joined with the containers that run it. Requests equal limits,
 * maxmemory leaves headroom under the limit, the pod fits the node size its pool launches, and the volume holds
 * two copies of the data when persistence is on.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { parseBytes } from "../components/quantity";
import { DAEMONSET_MEMORY_BYTES, NodeSize } from "../components/sizing";
import {
    PlainResource,
    Violation,
    configWithDefaults,
    gib,
    part,
    plainResources,
    reportAll,
    violation,
} from "./common";
import {
    LABELS,
    containersOf,
    dataClaimOf,
    objectName,
    objectNamespace,
    poolCoversZone,
    poolNodeSizes,
    valkeyClusters,
    valkeyConfOf,
    valkeyContainerOf,
    valkeyPools,
    zonePinOf,
} from "./resources";
import { ValkeyConf, maxmemoryOf, parseValkeyConf, persistenceOn } from "./valkeyConf";

/** Config of the memory-ratio policy. */
export interface MemoryRatioConfig {
    /** Largest maxmemory as a share of the Valkey container's memory limit. Default 0.75. */
    maxmemoryRatio: number;
    /** Smallest data volume as a multiple of maxmemory when persistence is on. Default 2. */
    volumeToMemoryFactor: number;
}

/** Defaults of the memory-ratio policy. */
export const MEMORY_RATIO_DEFAULTS: MemoryRatioConfig = {
    maxmemoryRatio: 0.75,
    volumeToMemoryFactor: 2,
};

type Obj = Record<string, any>;
const memoryOf = (c: Obj, kind: "requests" | "limits"): number | undefined =>
    parseBytes(c.resources?.[kind]?.memory);
const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/** The memory the scheduler reserves for one pod: the sum of its containers' requests (limits when unset). */
function podMemory(sts: PlainResource): number {
    return containersOf(sts).reduce(
        (sum, c) => sum + (memoryOf(c, "requests") ?? memoryOf(c, "limits") ?? 0),
        0,
    );
}

function checkNodeFit(sts: PlainResource, resources: readonly PlainResource[]): Violation[] {
    const zone = zonePinOf(sts).zone;
    const pools = valkeyPools(resources).filter(
        (p) => zone === undefined || poolCoversZone(p, zone),
    );
    const candidates: { size: NodeSize; pool: string }[] = pools.flatMap((p) =>
        poolNodeSizes(p).known.map((size) => ({ size, pool: `${p.thing} ${p.name}` })),
    );
    if (candidates.length === 0) return [];
    const containers = podMemory(sts);
    const need = containers + DAEMONSET_MEMORY_BYTES;
    if (candidates.some((c) => c.size.allocatableMemoryBytes >= need)) return [];
    const largest = candidates.reduce((a, b) =>
        b.size.allocatableMemoryBytes > a.size.allocatableMemoryBytes ? b : a,
    );
    return [
        violation(
            "StatefulSet",
            objectName(sts),
            `fit the memory its node size offers: a pod needs ${gib(need)} (containers ${gib(containers)} + ${gib(DAEMONSET_MEMORY_BYTES)} for node daemons) but ${largest.size.name} (${largest.pool}) offers ${gib(largest.size.allocatableMemoryBytes)} to pods. Lower valkey:memory or use a larger node size`,
            sts.urn,
        ),
    ];
}

/**
 * The pure check: per Valkey StatefulSet, memory requests == limits in every container; maxmemory of the
 * cluster's valkey.conf <= `maxmemoryRatio` x the Valkey container's limit; the pod fits the allocatable
 * memory of the node sizes its pools launch (sizing tables); the data volume >= `volumeToMemoryFactor` x
 * maxmemory when persistence is on.
 */
export function checkMemoryRatio(
    resources: readonly PlainResource[],
    config: MemoryRatioConfig,
): Violation[] {
    const out: Violation[] = [];
    for (const [cluster, statefulSets] of valkeyClusters(resources)) {
        out.push(...part(() => checkClusterMemory(cluster, statefulSets, resources, config)));
    }
    return out;
}

/** One cluster: its conf, then each StatefulSet's containers, maxmemory share, volume and node fit. */
function checkClusterMemory(
    cluster: string,
    statefulSets: PlainResource[],
    resources: readonly PlainResource[],
    config: MemoryRatioConfig,
): Violation[] {
    const out: Violation[] = [];
    const conf = valkeyConfOf(resources, cluster, objectNamespace(statefulSets[0]));
    const parsed = conf ? parseValkeyConf(conf.text) : undefined;
    const maxmemory = parsed ? maxmemoryOf(parsed) : undefined;
    if (!conf) {
        out.push(
            violation(
                "Valkey cluster",
                cluster,
                `have its valkey.conf in a ConfigMap labelled ${LABELS.instance}: ${cluster}, so maxmemory can be checked`,
                statefulSets[0].urn,
            ),
        );
    } else if (!maxmemory) {
        out.push(
            violation(
                "ConfigMap",
                objectName(conf.resource),
                "set maxmemory in valkey.conf; without it Valkey grows until the container is OOM-killed",
                conf.resource.urn,
            ),
        );
    }
    const cm = conf ? { name: objectName(conf.resource), urn: conf.resource.urn } : undefined;
    for (const sts of statefulSets) {
        out.push(
            ...part(() => checkStatefulSetMemory(sts, cm, parsed, maxmemory, resources, config)),
        );
    }
    return out;
}

/** One StatefulSet: requests == limits, the maxmemory share of its limit, its volume, its node fit. */
function checkStatefulSetMemory(
    sts: PlainResource,
    cm: { name: string; urn: string } | undefined,
    parsed: ValkeyConf | undefined,
    maxmemory: number | undefined,
    resources: readonly PlainResource[],
    config: MemoryRatioConfig,
): Violation[] {
    const out: Violation[] = [];
    const name = objectName(sts);
    for (const c of containersOf(sts)) {
        const request = memoryOf(c, "requests");
        const limit = memoryOf(c, "limits");
        if (limit === undefined) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `set a memory limit on container ${c.name}`,
                    sts.urn,
                ),
            );
        } else if (request !== limit) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `request as much memory as its limit in container ${c.name} (requests ${c.resources?.requests?.memory ?? "unset"}, limits ${c.resources?.limits?.memory}), so the pod is never evicted or OOM-killed ahead of others`,
                    sts.urn,
                ),
            );
        }
    }
    const valkey = valkeyContainerOf(sts);
    const limit = valkey ? memoryOf(valkey, "limits") : undefined;
    if (cm && maxmemory && limit) {
        if (maxmemory > config.maxmemoryRatio * limit) {
            out.push(
                violation(
                    "ConfigMap",
                    cm.name,
                    `keep maxmemory at or below ${pct(config.maxmemoryRatio)} of the memory limit of StatefulSet ${name} (${gib(limit)}): got ${gib(maxmemory)} (${pct(maxmemory / limit)}). The rest is needed for replication buffers, copy-on-write during persistence and fragmentation; set valkey:maxmemoryRatio to ${config.maxmemoryRatio} or less`,
                    cm.urn,
                ),
            );
        }
    }
    if (parsed && maxmemory && persistenceOn(parsed)) {
        const claim = dataClaimOf(sts);
        const storage = parseBytes(claim?.spec?.resources?.requests?.storage);
        const want = config.volumeToMemoryFactor * maxmemory;
        if (storage === undefined) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    "request a data volume (volumeClaimTemplates) with a storage size, since persistence is on",
                    sts.urn,
                ),
            );
        } else if (storage < want) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `request a data volume of at least ${config.volumeToMemoryFactor}x maxmemory (${gib(want)}) with persistence on: got ${gib(storage)}; an AOF rewrite or RDB snapshot needs room for two copies of the data. Raise valkey:volumeSize`,
                    sts.urn,
                ),
            );
        }
    }
    out.push(...checkNodeFit(sts, resources));
    return out;
}

/** The memory-ratio policy (stack). */
export const memoryRatio: StackValidationPolicy = {
    name: "valkey-memory-ratio",
    description:
        "Checks that Valkey containers request as much memory as their limit, that maxmemory leaves headroom under the limit, that the pods fit their node size, and that volumes hold two copies of the data when persistence is on.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxmemoryRatio: {
                type: "number",
                exclusiveMinimum: 0,
                maximum: 0.8,
                default: MEMORY_RATIO_DEFAULTS.maxmemoryRatio,
                description:
                    "Largest maxmemory as a share of the Valkey container's memory limit (at most 0.8).",
            },
            volumeToMemoryFactor: {
                type: "number",
                minimum: 1,
                default: MEMORY_RATIO_DEFAULTS.volumeToMemoryFactor,
                description:
                    "Smallest data volume as a multiple of maxmemory when persistence is on.",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const config = configWithDefaults(
            args.getConfig<Partial<MemoryRatioConfig>>(),
            MEMORY_RATIO_DEFAULTS,
        );
        reportAll(checkMemoryRatio(plainResources(args), config), reportViolation);
    },
};
