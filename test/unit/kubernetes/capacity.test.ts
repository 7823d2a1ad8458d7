import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { capacityProblems, NodeView, PodDemand } from "../../../components/kubernetes/capacity";

const GiB = 2 ** 30;

function node(name: string, zone: string, extra: Partial<NodeView> = {}): NodeView {
    return {
        name,
        labels: { "topology.kubernetes.io/zone": zone, "kubernetes.io/arch": "amd64" },
        unschedulable: false,
        taints: [],
        allocatableMemoryBytes: 8 * GiB,
        allocatableMilliCpu: 2000,
        ...extra,
    };
}

const demand = (over: Partial<PodDemand> = {}): PodDemand => ({
    zones: [
        { zone: "zone-a", pods: 2 },
        { zone: "zone-b", pods: 2 },
        { zone: "zone-c", pods: 2 },
    ],
    memoryBytes: GiB,
    milliCpu: 500,
    antiAffinity: "required",
    arch: "amd64",
    nodeSelector: {},
    tolerated: [],
    ...over,
});

const oneNodePerZone = [
    node("node-a", "zone-a"),
    node("node-b", "zone-b"),
    node("node-c", "zone-c"),
];

describe("capacityProblems (an existing cluster's zones)", () => {
    it("required anti-affinity needs a node per pod: one node per zone cannot hold two pods (the reference cluster's case)", () => {
        const problems = capacityProblems(oneNodePerZone, demand());
        assert.equal(problems.length, 3);
        assert.equal(
            problems[0],
            'valkey.podAntiAffinity: "required" puts one Valkey pod per node, but zone zone-a has 1 node(s) that fit a pod (1.0 GiB, 500m CPU) for 2 pods (node-a). Add nodes to the zone, use fewer pods per zone (valkey:shards, valkey:replicasPerShard), or set valkey:podAntiAffinity to "preferred".',
        );
    });
    it("preferred anti-affinity packs pods on a zone's nodes when they have the room", () => {
        assert.deepEqual(
            capacityProblems(oneNodePerZone, demand({ antiAffinity: "preferred" })),
            [],
        );
        const small = oneNodePerZone.map((n) => ({ ...n, allocatableMemoryBytes: 1.5 * GiB }));
        assert.deepEqual(
            capacityProblems(
                small,
                demand({ antiAffinity: "preferred", zones: [{ zone: "zone-a", pods: 2 }] }),
            ),
            [
                "zone zone-a has 1.5 GiB and 2000m CPU allocatable on the nodes that fit a Valkey pod, for 2 pods of 1.0 GiB and 500m. Add nodes, or lower valkey:memory or valkey:cpu.",
            ],
        );
    });
    it("a zone without nodes, cordoned or tainted nodes, and nodes too small are named", () => {
        assert.deepEqual(
            capacityProblems(
                [node("node-a", "zone-a")],
                demand({ zones: [{ zone: "zone-x", pods: 1 }] }),
            ),
            [
                "zone zone-x has no schedulable node for Valkey (no node is labelled topology.kubernetes.io/zone=zone-x). Add nodes to the zone or remove it from valkey:zones.",
            ],
        );
        const cordoned = [
            node("node-a", "zone-a", { unschedulable: true }),
            node("node-a2", "zone-a", {
                taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
            }),
        ];
        assert.match(
            capacityProblems(cordoned, demand({ zones: [{ zone: "zone-a", pods: 1 }] }))[0],
            /^zone zone-a has no schedulable node for Valkey \(2 node\(s\) in the zone/,
        );
        assert.deepEqual(
            capacityProblems(
                cordoned.slice(1),
                demand({ zones: [{ zone: "zone-a", pods: 1 }], tolerated: ["dedicated"] }),
            ),
            [],
        );
        assert.deepEqual(
            capacityProblems(
                [node("node-a", "zone-a")],
                demand({ zones: [{ zone: "zone-a", pods: 1 }], memoryBytes: 16 * GiB }),
            ),
            [
                "valkey.memory/valkey.cpu: no node of zone zone-a has 16.0 GiB and 500m CPU allocatable (largest: 8.0 GiB, 2000m). Lower valkey:memory or valkey:cpu, or use larger nodes.",
            ],
        );
    });
    it("fits when every zone has a node per pod", () => {
        const six = [
            ...oneNodePerZone,
            node("node-a2", "zone-a"),
            node("node-b2", "zone-b"),
            node("node-c2", "zone-c"),
        ];
        assert.deepEqual(capacityProblems(six, demand()), []);
    });
});
