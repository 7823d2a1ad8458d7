/**
 * The desired topology of the slot bootstrap, as pure data: the `nodes` input mapped onto the zone layout.
 *
 * Nodes arrive per zone in StatefulSet-ordinal order. Node k of zone z plays the role of copy k of that zone in
 * `computeLayout` (which orders a zone's copies by (shard, copy)), so growing `shards` only appends nodes. Nodes
 * beyond what the layout needs have no role: if they are cluster members they are drained and forgotten.
 */
import { computeLayout, Layout, quorumOffenders, Role, sharedZoneShards } from "../layout";

/** One server of the cluster, the direct form of the provider's `nodes` input. */
export interface NodeSpec {
    /** A stable name for the pod or process, e.g. "valkey-zone-a-0" (not the Valkey node id). */
    id: string;
    /** The address other nodes reach it on (an IP: CLUSTER MEET takes IPs). */
    host: string;
    port: number;
    /** Its zone (topology.kubernetes.io/zone). */
    zone: string;
}

/** What the bootstrap is asked for, before validation. */
export interface TopologyInput {
    shards: number;
    replicasPerShard: number;
    nodes: readonly NodeSpec[];
    /** Zones in layout order; default the zones of `nodes` in order of first appearance. */
    zones?: readonly string[];
}

/** A node with the role the layout gives it (none for nodes beyond the layout). */
export interface PlannedNode extends NodeSpec {
    /** Position in `nodes`. */
    index: number;
    /** Ordinal within its zone, in `nodes` order. */
    ordinal: number;
    shard?: number;
    copy?: number;
    role?: Role;
}

/** The copies of one shard, by node id. */
export interface PlannedShard {
    shard: number;
    primary: string;
    replicas: string[];
}

/** The validated desired topology. */
export interface DesiredTopology {
    shards: number;
    replicasPerShard: number;
    zones: string[];
    layout: Layout;
    nodes: PlannedNode[];
    plannedShards: PlannedShard[];
}

/** Thrown by `desiredTopology` with every problem of the input. */
export class TopologyError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `Invalid slot bootstrap input (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "TopologyError";
    }
}

const json = (v: unknown): string => JSON.stringify(v);

/** The zones of the nodes, in order of first appearance. */
export function zonesOf(nodes: readonly NodeSpec[]): string[] {
    const out: string[] = [];
    for (const n of nodes) if (!out.includes(n.zone)) out.push(n.zone);
    return out;
}

/** Every problem with a topology input (empty when it is valid). Messages name the input and say the fix. */
export function topologyProblems(input: TopologyInput): string[] {
    const problems: string[] = [];
    const { shards, replicasPerShard } = input;
    const nodes = input.nodes ?? [];
    if (!Number.isInteger(shards) || shards < 1) {
        problems.push(
            `shards: got ${json(shards)}; use a whole number of at least 1 (3 or more for failover).`,
        );
    }
    if (!Number.isInteger(replicasPerShard) || replicasPerShard < 0) {
        problems.push(
            `replicasPerShard: got ${json(replicasPerShard)}; use a whole number of at least 0.`,
        );
    }
    const ids = new Set<string>();
    const addrs = new Set<string>();
    nodes.forEach((n, i) => {
        if (!n || typeof n.id !== "string" || n.id === "")
            problems.push(
                `nodes[${i}].id: got ${json(n?.id)}; give each node a stable name such as "valkey-zone-a-0".`,
            );
        else if (ids.has(n.id))
            problems.push(
                `nodes[${i}].id: ${json(n.id)} is listed twice; node ids must be unique.`,
            );
        else ids.add(n.id);
        if (!n || typeof n.host !== "string" || n.host === "")
            problems.push(
                `nodes[${i}].host: got ${json(n?.host)}; give the IP other nodes reach it on.`,
            );
        if (!n || !Number.isInteger(n.port) || n.port < 1 || n.port > 55535)
            problems.push(
                `nodes[${i}].port: got ${json(n?.port)}; use 1-55535 (the cluster bus listens on port + 10000).`,
            );
        if (!n || typeof n.zone !== "string" || n.zone === "")
            problems.push(`nodes[${i}].zone: got ${json(n?.zone)}; give the node's zone.`);
        const addr = `${n?.host}:${n?.port}`;
        if (n?.host && addrs.has(addr))
            problems.push(
                `nodes[${i}]: address ${addr} is listed twice; each node needs its own address.`,
            );
        addrs.add(addr);
    });
    if (problems.length > 0) return problems;

    const zones = input.zones && input.zones.length > 0 ? [...input.zones] : zonesOf(nodes);
    if (zones.length === 0) {
        problems.push(`nodes: got none; list the cluster's servers as { id, host, port, zone }.`);
        return problems;
    }
    for (const n of nodes) {
        if (!zones.includes(n.zone))
            problems.push(
                `nodes: ${n.id} is in zone ${json(n.zone)}, which is not in zones ${json(zones)}; add the zone or fix the node.`,
            );
    }
    if (problems.length > 0) return problems;
    const layout = computeLayout({ shards, replicasPerShard, zones });
    for (const z of layout.zones) {
        const have = nodes.filter((n) => n.zone === z.zone).length;
        if (have < z.pods.length) {
            problems.push(
                `nodes: zone ${json(z.zone)} has ${have} node${have === 1 ? "" : "s"}; ${shards} shards x ${replicasPerShard} replicas over ${zones.length} zones need ${z.pods.length} there. Add nodes to that zone, or lower shards or replicasPerShard.`,
            );
        }
    }
    const same = sharedZoneShards(layout);
    if (same.length > 0) {
        problems.push(
            `replicasPerShard: got ${replicasPerShard} with ${zones.length} zones; shard ${same[0].shard} would have two copies in zone ${json(same[0].zone)}. Use at most ${zones.length - 1} replicas per shard, or more zones.`,
        );
    }
    const offenders = quorumOffenders(
        layout.shards.map((s) => s.primary.zone),
        zones,
    );
    if (offenders.length > 0 && shards > 1) {
        const o = offenders[0];
        problems.push(
            `shards: got ${shards} with ${zones.length} zones; losing zone ${json(o.zone)}, which holds ${o.primaries} ${o.primaries === 1 ? "primary" : "primaries"}, leaves no failover majority. Choose a shard count whose largest zone holds fewer than half the primaries, or add zones.`,
        );
    }
    return problems;
}

/** Validates the input and maps every node onto the layout. Throws `TopologyError` listing every problem. */
export function desiredTopology(input: TopologyInput): DesiredTopology {
    const problems = topologyProblems(input);
    if (problems.length > 0) throw new TopologyError(problems);
    const zones = input.zones && input.zones.length > 0 ? [...input.zones] : zonesOf(input.nodes);
    const layout = computeLayout({
        shards: input.shards,
        replicasPerShard: input.replicasPerShard,
        zones,
    });
    const ordinals = new Map<string, number>();
    const nodes: PlannedNode[] = input.nodes.map((n, index) => {
        const ordinal = ordinals.get(n.zone) ?? 0;
        ordinals.set(n.zone, ordinal + 1);
        const pod = layout.zones.find((z) => z.zone === n.zone)?.pods[ordinal];
        return {
            id: n.id,
            host: n.host,
            port: n.port,
            zone: n.zone,
            index,
            ordinal,
            ...(pod ? { shard: pod.shard, copy: pod.copy, role: pod.role } : {}),
        };
    });
    const plannedShards: PlannedShard[] = layout.shards.map((s) => {
        const find = (shard: number, copy: number): string =>
            nodes.find((n) => n.shard === shard && n.copy === copy)!.id;
        return {
            shard: s.shard,
            primary: find(s.shard, 0),
            replicas: s.replicas.map((r) => find(s.shard, r.copy)),
        };
    });
    return {
        shards: input.shards,
        replicasPerShard: input.replicasPerShard,
        zones,
        layout,
        nodes,
        plannedShards,
    };
}
