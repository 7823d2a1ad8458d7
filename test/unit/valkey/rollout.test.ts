import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgePods, PodView } from "../../../components/valkey/rollout";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const PATIENCE = { unschedulableSeconds: 60, stuckContainerSeconds: 90 };
const SCHEDULER =
    "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 node(s) didn't match Pod's node affinity/selector.";

function unschedulable(name: string, secondsAgo: number, revision = "rev-2"): PodView {
    return {
        name,
        phase: "Pending",
        revision,
        createdAt: NOW - secondsAgo * 1000,
        conditions: [
            {
                type: "PodScheduled",
                status: "False",
                reason: "Unschedulable",
                message: SCHEDULER,
                since: NOW - secondsAgo * 1000,
            },
        ],
        waiting: [],
    };
}

describe("judgePods (zone rollout)", () => {
    it("waits for a pod unschedulable for less than the patience, then fails with the scheduler's reason and the fix", () => {
        assert.deepEqual(
            judgePods(
                "valkey-zone-a",
                [unschedulable("valkey-zone-a-1", 30)],
                "rev-2",
                NOW,
                PATIENCE,
            ),
            {
                problems: [],
                recreate: [],
            },
        );
        const v = judgePods(
            "valkey-zone-a",
            [unschedulable("valkey-zone-a-1", 61)],
            "rev-2",
            NOW,
            PATIENCE,
        );
        assert.deepEqual(v.recreate, []);
        assert.equal(v.problems.length, 1);
        assert.equal(
            v.problems[0],
            `pod valkey-zone-a-1 of StatefulSet valkey-zone-a cannot be scheduled for 61 s: ${SCHEDULER} ` +
                'valkey:podAntiAffinity is "required" (one Valkey pod per node): add nodes to the zone, use fewer pods per zone (valkey:shards, valkey:replicasPerShard), or set valkey:podAntiAffinity to "preferred". ' +
                "Every zone in valkey:zones needs schedulable nodes labelled topology.kubernetes.io/zone with that zone (and the platform's node selector).",
        );
    });
    it("recreates a pod left unschedulable under an older template instead of failing", () => {
        const v = judgePods(
            "valkey-zone-a",
            [unschedulable("valkey-zone-a-1", 600, "rev-1")],
            "rev-2",
            NOW,
            PATIENCE,
        );
        assert.deepEqual(v, { problems: [], recreate: ["valkey-zone-a-1"] });
    });
    it("fails on a container that cannot start once the patience is over, and ignores ordinary waits", () => {
        const pod = (reason: string, secondsAgo: number): PodView => ({
            name: "valkey-zone-b-0",
            phase: "Pending",
            createdAt: NOW - secondsAgo * 1000,
            conditions: [{ type: "PodScheduled", status: "True" }],
            waiting: [
                {
                    container: "valkey",
                    reason,
                    message: "image not present with pull policy of Never",
                },
            ],
        });
        assert.deepEqual(
            judgePods("valkey-zone-b", [pod("ErrImageNeverPull", 30)], undefined, NOW, PATIENCE)
                .problems,
            [],
        );
        assert.deepEqual(
            judgePods("valkey-zone-b", [pod("ContainerCreating", 600)], undefined, NOW, PATIENCE)
                .problems,
            [],
        );
        assert.deepEqual(
            judgePods("valkey-zone-b", [pod("ErrImageNeverPull", 91)], undefined, NOW, PATIENCE)
                .problems,
            [
                "pod valkey-zone-b-0 of StatefulSet valkey-zone-b: container valkey is waiting with ErrImageNeverPull (image not present with pull policy of Never). Check valkey:image: the nodes must be able to pull it (or have it, for a local image).",
            ],
        );
    });
});
