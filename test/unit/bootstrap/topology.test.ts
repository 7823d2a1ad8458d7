/**
 * The desired topology: nodes mapped onto the zone layout by (zone, ordinal), with exact messages for bad input.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    desiredTopology,
    NodeSpec,
    topologyProblems,
    TopologyError,
} from "../../../components/valkey/bootstrap/topology";

/** `perZone` nodes in each of `zones` zones, listed per zone in ordinal order. */
function nodes(perZone: number, zones = ["zone-a", "zone-b", "zone-c"]): NodeSpec[] {
    return zones.flatMap((zone, z) =>
        Array.from({ length: perZone }, (_, i) => ({
            id: `valkey-${zone}-${i}`,
            host: `127.0.${z + 1}.1`,
            port: 7000 + i,
            zone,
        })),
    );
}

describe("desiredTopology", () => {
    it("maps 3 x 1 onto two pods per zone (table)", () => {
        const d = desiredTopology({ shards: 3, replicasPerShard: 1, nodes: nodes(2) });
        assert.deepEqual(d.plannedShards, [
            { shard: 0, primary: "valkey-zone-a-0", replicas: ["valkey-zone-b-0"] },
            { shard: 1, primary: "valkey-zone-b-1", replicas: ["valkey-zone-c-0"] },
            { shard: 2, primary: "valkey-zone-c-1", replicas: ["valkey-zone-a-1"] },
        ]);
        assert.deepEqual(d.zones, ["zone-a", "zone-b", "zone-c"]);
    });

    it("gives nodes beyond the layout no role", () => {
        const d = desiredTopology({ shards: 3, replicasPerShard: 1, nodes: nodes(4) });
        assert.deepEqual(
            d.nodes.filter((n) => n.role === undefined).map((n) => n.id),
            [
                "valkey-zone-a-2",
                "valkey-zone-a-3",
                "valkey-zone-b-2",
                "valkey-zone-b-3",
                "valkey-zone-c-2",
                "valkey-zone-c-3",
            ],
        );
    });

    it("keeps every existing node's role when shards grow (property)", () => {
        const safe = [3, 5, 6, 7, 8, 9];
        fc.assert(
            fc.property(
                fc.constantFrom(...safe),
                fc.constantFrom(...safe),
                fc.integer({ min: 0, max: 2 }),
                (a, b, r) => {
                    const [small, big] = a <= b ? [a, b] : [b, a];
                    const list = nodes(Math.ceil((big * (r + 1)) / 3 + 1));
                    const before = desiredTopology({
                        shards: small,
                        replicasPerShard: r,
                        nodes: list,
                    });
                    const after = desiredTopology({
                        shards: big,
                        replicasPerShard: r,
                        nodes: list,
                    });
                    for (const n of before.nodes.filter((x) => x.role !== undefined)) {
                        const m = after.nodes.find((x) => x.id === n.id)!;
                        assert.deepEqual([m.shard, m.copy], [n.shard, n.copy], n.id);
                    }
                },
            ),
        );
    });

    it("takes the zone order from the input when given", () => {
        const d = desiredTopology({
            shards: 3,
            replicasPerShard: 1,
            nodes: nodes(2),
            zones: ["zone-c", "zone-b", "zone-a"],
        });
        assert.equal(d.plannedShards[0].primary, "valkey-zone-c-0");
    });
});

describe("topologyProblems", () => {
    it("lists every problem with the fix (exact messages)", () => {
        const list = nodes(1);
        assert.deepEqual(topologyProblems({ shards: 3, replicasPerShard: 1, nodes: list }), [
            'nodes: zone "zone-a" has 1 node; 3 shards x 1 replicas over 3 zones need 2 there. Add nodes to that zone, or lower shards or replicasPerShard.',
            'nodes: zone "zone-b" has 1 node; 3 shards x 1 replicas over 3 zones need 2 there. Add nodes to that zone, or lower shards or replicasPerShard.',
            'nodes: zone "zone-c" has 1 node; 3 shards x 1 replicas over 3 zones need 2 there. Add nodes to that zone, or lower shards or replicasPerShard.',
        ]);
        assert.deepEqual(topologyProblems({ shards: 3, replicasPerShard: 3, nodes: nodes(4) }), [
            'replicasPerShard: got 3 with 3 zones; shard 0 would have two copies in zone "zone-a". Use at most 2 replicas per shard, or more zones.',
        ]);
        assert.deepEqual(topologyProblems({ shards: 4, replicasPerShard: 0, nodes: nodes(2) }), [
            'shards: got 4 with 3 zones; losing zone "zone-a", which holds 2 primaries, leaves no failover majority. Choose a shard count whose largest zone holds fewer than half the primaries, or add zones.',
        ]);
        const dup = [
            ...nodes(2),
            { id: "valkey-zone-a-0", host: "127.0.1.1", port: 7000, zone: "zone-a" },
        ];
        assert.deepEqual(topologyProblems({ shards: 3, replicasPerShard: 1, nodes: dup }), [
            'nodes[6].id: "valkey-zone-a-0" is listed twice; node ids must be unique.',
            "nodes[6]: address 127.0.1.1:7000 is listed twice; each node needs its own address.",
        ]);
        assert.deepEqual(
            topologyProblems({
                shards: 3,
                replicasPerShard: 1,
                nodes: [{ id: "x", host: "h", port: 60000, zone: "z" }],
            }),
            ["nodes[0].port: got 60000; use 1-55535 (the cluster bus listens on port + 10000)."],
        );
    });

    it("desiredTopology throws all of them at once", () => {
        assert.throws(
            () => desiredTopology({ shards: 0, replicasPerShard: -1, nodes: [] }),
            (e: unknown) =>
                e instanceof TopologyError &&
                e.problems.length === 2 &&
                /^shards: got 0/.test(e.problems[0]),
        );
    });
});
