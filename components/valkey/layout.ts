/**
 * The zone model as pure data: which pod is which shard's primary or replica, in which zone.
 *
 * Pods are placed by construction: one StatefulSet per zone, so the position of a copy in its zone's
 * StatefulSet (its ordinal) says where it runs without asking the scheduler. This module imports no
 * cloud package; the program, the bootstrap provider and the policy pack all share it.
 */

/** The role of one copy of a shard. */
export type Role = "primary" | "replica";

/** One copy of a shard: a pod in a zone's StatefulSet. */
export interface PodSlot {
    /** Shard index, 0-based. */
    shard: number;
    /** 0 for the primary, 1..replicasPerShard for the replicas. */
    copy: number;
    role: Role;
    /** The zone (topology.kubernetes.io/zone label value) of the pod. */
    zone: string;
    /** The pod's ordinal in its zone's StatefulSet. */
    ordinal: number;
}

/** The copies of one shard. */
export interface ShardLayout {
    shard: number;
    primary: PodSlot;
    replicas: PodSlot[];
}

/** The whole placement of a cluster. */
export interface Layout {
    shards: ShardLayout[];
    /** Per zone, in the order of the zones given, the copies its StatefulSet runs, by ordinal. */
    zones: { zone: string; pods: PodSlot[] }[];
}

/** Inputs of the layout: the values that decide how many pods exist and where. */
export interface LayoutInput {
    shards: number;
    replicasPerShard: number;
    zones: readonly string[];
}

/**
 * Computes the placement: shard `s` has its primary in zone `s mod Z` (round-robin) and its replica `r` in zone
 * `(s + r) mod Z`, so with replicasPerShard + 1 <= zones every copy of a shard sits in a different zone.
 *
 * Within a zone the copies are ordered by (shard, copy). Adding shards therefore only appends ordinals to each
 * StatefulSet: existing pods keep their roles when the cluster grows.
 */
export function computeLayout(input: LayoutInput): Layout {
    const { shards, replicasPerShard, zones } = input;
    if (zones.length === 0) {
        throw new Error("computeLayout: at least one zone is required");
    }
    if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(replicasPerShard) || replicasPerShard < 0) {
        throw new Error(`computeLayout: invalid topology ${shards} shards x ${replicasPerShard} replicas`);
    }
    const perZone = new Map<string, PodSlot[]>(zones.map((z) => [z, []]));
    const result: ShardLayout[] = [];
    for (let shard = 0; shard < shards; shard++) {
        const copies: PodSlot[] = [];
        for (let copy = 0; copy <= replicasPerShard; copy++) {
            const zone = zones[(shard + copy) % zones.length];
            const list = perZone.get(zone)!;
            const slot: PodSlot = {
                shard,
                copy,
                role: copy === 0 ? "primary" : "replica",
                zone,
                ordinal: list.length,
            };
            list.push(slot);
            copies.push(slot);
        }
        result.push({ shard, primary: copies[0], replicas: copies.slice(1) });
    }
    return { shards: result, zones: zones.map((zone) => ({ zone, pods: perZone.get(zone)! })) };
}

/** How many primaries each zone holds, for any assignment of primaries to zones. */
export function primariesPerZone(primaryZones: readonly string[], zones: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>(zones.map((z) => [z, 0]));
    for (const z of primaryZones) {
        counts.set(z, (counts.get(z) ?? 0) + 1);
    }
    return counts;
}

/**
 * The quorum rule: Valkey promotes a replica only with votes from a majority of primaries, so after the loss of
 * any one zone the surviving primaries must be a strict majority. Returns the zones that hold too many
 * primaries (an empty list means the rule holds).
 */
export function quorumOffenders(
    primaryZones: readonly string[],
    zones: readonly string[],
): { zone: string; primaries: number }[] {
    const total = primaryZones.length;
    const offenders: { zone: string; primaries: number }[] = [];
    for (const [zone, n] of primariesPerZone(primaryZones, zones)) {
        // Survivors total - n must be > total / 2, i.e. n < total / 2.
        if (2 * n >= total) {
            offenders.push({ zone, primaries: n });
        }
    }
    return offenders;
}

/** True when round-robin placement of `shards` primaries over `zoneCount` zones satisfies the quorum rule. */
export function quorumHolds(shards: number, zoneCount: number): boolean {
    return 2 * Math.ceil(shards / zoneCount) < shards;
}

/**
 * Shard counts near `shards` that satisfy the quorum rule over `zoneCount` zones, for error messages
 * ("Use 3, 5 or 6 shards"). Returns up to `count` values, nearest first, ties to the smaller.
 */
export function quorumSafeShardCounts(shards: number, zoneCount: number, count = 3): number[] {
    const found: number[] = [];
    for (let d = 1; found.length < count && d <= 64; d++) {
        for (const s of [shards - d, shards + d]) {
            if (s >= 3 && quorumHolds(s, zoneCount) && found.length < count) {
                found.push(s);
            }
        }
    }
    return found.sort((a, b) => a - b);
}

/** The zones that hold two copies of one shard (empty when every copy is in its own zone). */
export function sharedZoneShards(layout: Layout): { shard: number; zone: string }[] {
    const out: { shard: number; zone: string }[] = [];
    for (const s of layout.shards) {
        const seen = new Set<string>();
        for (const c of [s.primary, ...s.replicas]) {
            if (seen.has(c.zone)) {
                out.push({ shard: s.shard, zone: c.zone });
            }
            seen.add(c.zone);
        }
    }
    return out;
}
