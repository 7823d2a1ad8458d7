/**
 * Zone separation: every Valkey StatefulSet pinned to one zone, enough zones, the slot-bootstrap layout with
 * every copy of a shard in its own zone and a failover majority after the loss of any one zone, and node pools
 * in every zone the StatefulSets need.
 *
 * The layout and the quorum rule come from components/valkey/layout.ts, the same code the program and the
 * bootstrap provider run; this module only maps the bootstrap's zones onto the zones the StatefulSets are
 * really pinned to.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
    Layout,
    PodSlot,
    computeLayout,
    quorumOffenders,
    quorumSafeShardCounts,
    sharedZoneShards,
} from "../components/valkey/layout";
import {
    PlainResource,
    Violation,
    configWithDefaults,
    part,
    plainResources,
    reportAll,
    violation,
} from "./common";
import {
    BootstrapTarget,
    LABELS,
    bootstrapTargets,
    clusterOf,
    labelsOf,
    objectName,
    poolCoversZone,
    valkeyClusters,
    valkeyPools,
    valkeyStatefulSets,
    zonePinOf,
} from "./resources";

/** Config of the zone-separation policy. */
export interface ZoneSeparationConfig {
    /** Distinct zones every Valkey cluster must span. Default 3 (dev: 2). */
    minZones: number;
}

/** Defaults of the zone-separation policy: production's. */
export const ZONE_SEPARATION_DEFAULTS: ZoneSeparationConfig = { minZones: 3 };

function listOr(values: readonly (string | number)[]): string {
    return values.length <= 1
        ? values.join("")
        : `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
}

/** The zone a bootstrap zone really is: the zone its StatefulSet is pinned to (it may differ from its name). */
function actualZones(
    target: BootstrapTarget,
    statefulSets: PlainResource[],
): Map<string, { zone: string; statefulSet?: string }> {
    const out = new Map<string, { zone: string; statefulSet?: string }>();
    for (const z of target.zones) {
        const byName = target.statefulSetOfZone.get(z);
        const sts =
            (byName !== undefined
                ? statefulSets.find((s) => objectName(s) === byName)
                : undefined) ??
            statefulSets.find((s) => labelsOf(s)[LABELS.zone] === z) ??
            statefulSets.find((s) => zonePinOf(s).zone === z);
        const pinned = sts ? zonePinOf(sts).zone : undefined;
        out.set(z, { zone: pinned ?? z, statefulSet: sts ? objectName(sts) : undefined });
    }
    return out;
}

function checkBootstrap(target: BootstrapTarget, resources: readonly PlainResource[]): Violation[] {
    const out: Violation[] = [];
    const thing = "Slot bootstrap";
    if (target.zones.length === 0) {
        return [
            violation(
                thing,
                target.name,
                "list the zone of every node, so the layout can be checked",
                target.urn,
            ),
        ];
    }
    let layout: Layout;
    try {
        layout = computeLayout({
            shards: target.shards,
            replicasPerShard: target.replicasPerShard,
            zones: target.zones,
        });
    } catch (e) {
        return [
            violation(
                thing,
                target.name,
                `describe a valid topology: ${(e as Error).message}`,
                target.urn,
            ),
        ];
    }
    // The bootstrap's StatefulSets: those it names, else those of the one cluster of the stack.
    const all = valkeyStatefulSets(resources);
    const named = all.filter((s) => [...target.statefulSetOfZone.values()].includes(objectName(s)));
    const clusters = new Set((named.length > 0 ? named : all).map(clusterOf));
    const statefulSets =
        clusters.size === 1 ? all.filter((s) => clusters.has(clusterOf(s))) : named;
    const actual = actualZones(target, statefulSets);
    const where = (slot: PodSlot): PodSlot => ({
        ...slot,
        zone: actual.get(slot.zone)?.zone ?? slot.zone,
    });
    const placed: Layout = {
        shards: layout.shards.map((s) => ({
            shard: s.shard,
            primary: where(s.primary),
            replicas: s.replicas.map(where),
        })),
        zones: layout.zones,
    };
    const moved = [...actual.entries()].filter(([z, a]) => a.zone !== z);
    const because =
        moved.length > 0
            ? ` (${moved.map(([z, a]) => `StatefulSet ${a.statefulSet}, the bootstrap's zone ${z}, is pinned to ${a.zone}`).join("; ")})`
            : "";

    const zoneCount = new Set([...actual.values()].map((a) => a.zone)).size;
    const fix =
        moved.length > 0
            ? "Pin each StatefulSet to the zone the bootstrap places it in"
            : `Use at most ${Math.max(0, zoneCount - 1)} replicas per shard, or ${target.replicasPerShard + 1} zones`;
    for (const { shard, zone } of sharedZoneShards(placed)) {
        const s = placed.shards[shard];
        const copies = [s.primary, ...s.replicas].filter((c) => c.zone === zone);
        const who = copies.some((c) => c.role === "primary")
            ? `its primary and ${copies.length - 1 === 1 ? "a replica" : `${copies.length - 1} replicas`}`
            : `${copies.length} replicas`;
        out.push(
            violation(
                thing,
                target.name,
                `keep every replica out of its primary's zone and each copy of a shard in its own zone: shard ${shard} has ${who} in zone ${zone}${because}. ${fix}`,
                target.urn,
            ),
        );
    }

    const zoneUniverse = [...new Set([...actual.values()].map((a) => a.zone))];
    const primaryZones = placed.shards.map((s) => s.primary.zone);
    for (const { zone, primaries } of quorumOffenders(primaryZones, zoneUniverse)) {
        const alternatives = quorumSafeShardCounts(target.shards, zoneUniverse.length);
        const quorumFix =
            zoneUniverse.length <= 2
                ? "Use 3 or more zones"
                : `Use ${alternatives.length > 0 ? `${listOr(alternatives)} shards, or ` : ""}${zoneUniverse.length + 1} zones`;
        out.push(
            violation(
                thing,
                target.name,
                `keep a failover majority after the loss of any one zone: zone ${zone} holds ${primaries} of ${target.shards} primaries, and the survivors could not elect replacements${because}. ${moved.length > 0 ? fix : quorumFix}`,
                target.urn,
            ),
        );
    }
    return out;
}

/**
 * The pure check: every Valkey StatefulSet pinned to exactly one zone (matching its `valkey.io/zone` label),
 * at least `minZones` zones per cluster, every slot-bootstrap layout zone-separated and quorum-safe, and the
 * Valkey node pools covering every zone a StatefulSet is pinned to.
 */
export function checkZoneSeparation(
    resources: readonly PlainResource[],
    config: ZoneSeparationConfig,
): Violation[] {
    const out: Violation[] = [];
    for (const [cluster, statefulSets] of valkeyClusters(resources)) {
        out.push(...part(() => checkCluster(cluster, statefulSets, resources, config)));
    }
    const clusters = valkeyClusters(resources);
    for (const target of bootstrapTargets(resources)) {
        out.push(...part(() => checkBootstrap(target, resources)));
        // A cluster without StatefulSets (server processes, the direct form) counts its zones here.
        if (clusters.size === 0 && target.zones.length < config.minZones) {
            out.push(
                violation(
                    "Slot bootstrap",
                    target.name,
                    `span at least ${config.minZones} zones so that losing one keeps the cluster up; its nodes are in ${target.zones.length} (${target.zones.join(", ")}). List ${config.minZones} or more zones in valkey:zones`,
                    target.urn,
                ),
            );
        }
    }
    return out;
}

/** The StatefulSets of one cluster: pinned, enough zones, node pools in those zones. */
function checkCluster(
    cluster: string,
    statefulSets: PlainResource[],
    resources: readonly PlainResource[],
    config: ZoneSeparationConfig,
): Violation[] {
    const out: Violation[] = [];
    const pools = valkeyPools(resources);
    const zones = new Set<string>();
    let allPinned = true;
    for (const sts of statefulSets) {
        const name = objectName(sts);
        const pin = zonePinOf(sts);
        if (pin.problem !== undefined) {
            out.push(violation("StatefulSet", name, pin.problem, sts.urn));
            allPinned = false;
            continue;
        }
        const zone = pin.zone!;
        zones.add(zone);
        const labelled = labelsOf(sts)[LABELS.zone];
        if (labelled !== undefined && labelled !== zone) {
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `be pinned to the zone of its ${LABELS.zone} label (${labelled}), not ${zone}`,
                    sts.urn,
                ),
            );
        }
        if (pools.length > 0 && !pools.some((p) => poolCoversZone(p, zone))) {
            const covered = [...new Set(pools.flatMap((p) => p.zones ?? []))];
            out.push(
                violation(
                    "StatefulSet",
                    name,
                    `have a Valkey node pool in its zone ${zone}; the pools (${pools.map((p) => `${p.thing} ${p.name}`).join(", ")}) cover ${covered.length > 0 ? covered.join(", ") : "no zone"}. Add the zone to the pools`,
                    sts.urn,
                ),
            );
        }
    }
    // An unpinned StatefulSet is the problem to fix first; its zones cannot be counted.
    if (allPinned && zones.size < config.minZones) {
        out.push(
            violation(
                "Valkey cluster",
                cluster,
                `span at least ${config.minZones} zones so that losing one keeps it up; its StatefulSets are pinned to ${zones.size} (${[...zones].join(", ")}). List ${config.minZones} or more zones in valkey:zones`,
                statefulSets[0].urn,
            ),
        );
    }
    return out;
}

/** The zone-separation policy (stack). */
export const zoneSeparation: StackValidationPolicy = {
    name: "valkey-zone-separation",
    description:
        "Checks that every Valkey StatefulSet is pinned to one zone, that each cluster spans enough zones, that the slot-bootstrap layout keeps replicas out of their primary's zone and a failover majority after the loss of any zone, and that the Valkey node pools cover those zones.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minZones: {
                type: "integer",
                minimum: 1,
                default: ZONE_SEPARATION_DEFAULTS.minZones,
                description:
                    "Distinct zones every Valkey cluster must span (3 in prod, 2 is enough for dev).",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const config = configWithDefaults(
            args.getConfig<Partial<ZoneSeparationConfig>>(),
            ZONE_SEPARATION_DEFAULTS,
        );
        reportAll(checkZoneSeparation(plainResources(args), config), reportViolation);
    },
};
