import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { zoneSeparation } from "../../policy/zoneSeparation";
import { T, awsShape, awsStack, azureStack, find, podSpec, requirement } from "./fixtures";
import { messages } from "./harness";

const sts = (r: PlainResource[], zone: string): PlainResource => find(r, T.sts, `valkey-${zone}`);
const zoneTerms = (s: PlainResource): any[] =>
    podSpec(s).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms;
const bootstrap = (r: PlainResource[]): PlainResource => find(r, T.dynamic, "valkey-bootstrap");

describe("valkey-zone-separation", () => {
    test("passes the valid AWS and Azure stacks", async () => {
        assert.deepEqual(await messages(zoneSeparation, awsStack()), []);
        assert.deepEqual(await messages(zoneSeparation, azureStack()), []);
    });

    test("refuses a StatefulSet without a zone affinity", async () => {
        const r = awsStack();
        delete podSpec(sts(r, "us-east-1a")).affinity;
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1a) must be pinned to one zone by a required node affinity on topology.kubernetes.io/zone",
        ]);
    });

    test("refuses a StatefulSet that allows two zones", async () => {
        const r = awsStack();
        zoneTerms(sts(r, "us-east-1a"))[0].matchExpressions[0].values = [
            "us-east-1a",
            "us-east-1b",
        ];
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1a) must be pinned to exactly one zone; its required node affinity allows us-east-1a, us-east-1b",
        ]);
    });

    test("refuses alternative node selector terms that add a zone", async () => {
        const r = awsStack();
        zoneTerms(sts(r, "us-east-1a")).push({
            matchExpressions: [
                { key: "topology.kubernetes.io/zone", operator: "In", values: ["us-east-1c"] },
            ],
        });
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1a) must be pinned to exactly one zone; its required node affinity allows us-east-1a, us-east-1c",
        ]);
    });

    test("refuses a zone expression with another operator than In", async () => {
        const r = awsStack();
        zoneTerms(sts(r, "us-east-1a"))[0].matchExpressions[0].operator = "NotIn";
        assert.deepEqual(await messages(zoneSeparation, r), [
            'StatefulSet (valkey-us-east-1a) must pin its zone with operator In on topology.kubernetes.io/zone, not "NotIn"',
        ]);
    });

    test("accepts a nodeSelector pin", async () => {
        const r = awsStack();
        const spec = podSpec(sts(r, "us-east-1a"));
        delete spec.affinity;
        spec.nodeSelector["topology.kubernetes.io/zone"] = "us-east-1a";
        assert.deepEqual(await messages(zoneSeparation, r), []);
    });

    test("refuses a StatefulSet pinned to another zone than its label says", async () => {
        const r = awsStack();
        sts(r, "us-east-1a").props.metadata.labels["valkey.io/zone"] = "us-east-1b";
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1a) must be pinned to the zone of its valkey.io/zone label (us-east-1b), not us-east-1a",
        ]);
    });

    test("refuses fewer zones than minZones, and honours a dev minZones of 2", async () => {
        const shape = {
            ...awsShape(),
            zones: ["us-east-1a", "us-east-1b"],
            shards: 4,
            replicasPerShard: 1,
        };
        const r = awsStack(shape);
        assert.deepEqual(await messages(zoneSeparation, r), [
            "Valkey cluster (valkey) must span at least 3 zones so that losing one keeps it up; its StatefulSets are pinned to 2 (us-east-1a, us-east-1b). List 3 or more zones in valkey:zones",
            "Slot bootstrap (valkey-bootstrap) must keep a failover majority after the loss of any one zone: zone us-east-1a holds 2 of 4 primaries, and the survivors could not elect replacements. Use 3 or more zones",
            "Slot bootstrap (valkey-bootstrap) must keep a failover majority after the loss of any one zone: zone us-east-1b holds 2 of 4 primaries, and the survivors could not elect replacements. Use 3 or more zones",
        ]);
        assert.equal((await messages(zoneSeparation, r, { minZones: 2 })).length, 2);
    });

    test("refuses a replica in its primary's zone (a StatefulSet pinned to another's zone)", async () => {
        const r = awsStack();
        zoneTerms(sts(r, "us-east-1c"))[0].matchExpressions[0].values = ["us-east-1a"];
        const because =
            "(StatefulSet valkey-us-east-1c, the bootstrap's zone us-east-1c, is pinned to us-east-1a)";
        const fix = "Pin each StatefulSet to the zone the bootstrap places it in";
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1c) must be pinned to the zone of its valkey.io/zone label (us-east-1c), not us-east-1a",
            "Valkey cluster (valkey) must span at least 3 zones so that losing one keeps it up; its StatefulSets are pinned to 2 (us-east-1a, us-east-1b). List 3 or more zones in valkey:zones",
            `Slot bootstrap (valkey-bootstrap) must keep every replica out of its primary's zone and each copy of a shard in its own zone: shard 0 has its primary and a replica in zone us-east-1a ${because}. ${fix}`,
            `Slot bootstrap (valkey-bootstrap) must keep every replica out of its primary's zone and each copy of a shard in its own zone: shard 1 has 2 replicas in zone us-east-1a ${because}. ${fix}`,
            `Slot bootstrap (valkey-bootstrap) must keep every replica out of its primary's zone and each copy of a shard in its own zone: shard 2 has its primary and a replica in zone us-east-1a ${because}. ${fix}`,
            `Slot bootstrap (valkey-bootstrap) must keep a failover majority after the loss of any one zone: zone us-east-1a holds 2 of 3 primaries, and the survivors could not elect replacements ${because}. ${fix}`,
        ]);
    });

    test("refuses 4 shards in 3 zones and proposes 3, 5 or 6 shards, or 4 zones", async () => {
        const r = awsStack();
        bootstrap(r).props.shards = 4;
        assert.deepEqual(await messages(zoneSeparation, r), [
            "Slot bootstrap (valkey-bootstrap) must keep a failover majority after the loss of any one zone: zone us-east-1a holds 2 of 4 primaries, and the survivors could not elect replacements. Use 3, 5 or 6 shards, or 4 zones",
        ]);
    });

    test("refuses more replicas than other zones", async () => {
        const r = awsStack();
        bootstrap(r).props.replicasPerShard = 3;
        const msgs = await messages(zoneSeparation, r);
        assert.equal(msgs.length, 3);
        assert.equal(
            msgs[0],
            "Slot bootstrap (valkey-bootstrap) must keep every replica out of its primary's zone and each copy of a shard in its own zone: shard 0 has its primary and a replica in zone us-east-1a. Use at most 2 replicas per shard, or 4 zones",
        );
    });

    test("reads the bootstrap's zones from kubernetes.statefulSets too", async () => {
        const r = awsStack();
        const b = bootstrap(r);
        delete b.props.nodes;
        b.props.kubernetes = {
            namespace: "valkey",
            statefulSets: ["us-east-1a", "us-east-1b", "us-east-1c"].map((zone) => ({
                zone,
                name: `valkey-${zone}`,
            })),
        };
        assert.deepEqual(await messages(zoneSeparation, r), []);
        b.props.shards = 4;
        assert.equal((await messages(zoneSeparation, r)).length, 1);
    });

    test("takes the layout's zones from an explicit zones input", async () => {
        const r = awsStack();
        const b = bootstrap(r);
        b.props.shards = 4;
        b.props.zones = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];
        // 4 primaries over 4 zones, one each: a failover majority survives any zone.
        assert.deepEqual(await messages(zoneSeparation, r), []);
    });

    test("refuses a bootstrap whose nodes carry no zone", async () => {
        const r = awsStack();
        bootstrap(r).props.nodes = [];
        assert.deepEqual(await messages(zoneSeparation, r), [
            "Slot bootstrap (valkey-bootstrap) must list the zone of every node, so the layout can be checked",
        ]);
    });

    test("refuses a NodePool that misses a zone of the StatefulSets", async () => {
        const r = awsStack();
        requirement(find(r, T.nodePool, "valkey"), "topology.kubernetes.io/zone").values = [
            "us-east-1a",
            "us-east-1b",
        ];
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-us-east-1c) must have a Valkey node pool in its zone us-east-1c; the pools (NodePool valkey) cover us-east-1a, us-east-1b. Add the zone to the pools",
        ]);
    });

    test("refuses AKS pools that miss a zone of the StatefulSets", async () => {
        const r = azureStack().filter((x) => x.name !== "valkey-pool-3");
        assert.deepEqual(await messages(zoneSeparation, r), [
            "StatefulSet (valkey-eastus2-3) must have a Valkey node pool in its zone eastus2-3; the pools (AgentPool valkey1, AgentPool valkey2) cover 1, 2. Add the zone to the pools",
        ]);
    });

    test("checks the local form: nodes on loopback, no StatefulSets", async () => {
        const zones = ["zone-a", "zone-b", "zone-c"];
        const nodes = zones.flatMap((zone, z) =>
            [0, 1].map((i) => ({
                id: `valkey-${zone}-${i}`,
                host: `127.0.${z + 1}.1`,
                port: 7000 + 2 * z + i,
                zone,
            })),
        );
        const slots = (shards: number): PlainResource[] => [
            {
                type: T.dynamic,
                name: "valkey-slots",
                urn: "urn:pulumi:local::valkey-platform::pulumi-nodejs:dynamic:Resource::valkey-slots",
                props: { shards, replicasPerShard: 1, nodes, zones },
            },
        ];
        assert.deepEqual(await messages(zoneSeparation, slots(3)), []);
        assert.deepEqual(await messages(zoneSeparation, slots(4)), [
            "Slot bootstrap (valkey-slots) must keep a failover majority after the loss of any one zone: zone zone-a holds 2 of 4 primaries, and the survivors could not elect replacements. Use 3, 5 or 6 shards, or 4 zones",
        ]);
    });

    test("counts the zones of a cluster without StatefulSets from its bootstrap (minZones)", async () => {
        const nodes = ["zone-a", "zone-b", "zone-c"].map((zone, z) => ({ id: `valkey-${zone}-0`, host: `127.0.${z + 1}.1`, port: 7000 + z, zone }));
        const slots: PlainResource[] = [
            {
                type: T.dynamic,
                name: "valkey-slots",
                urn: "urn:pulumi:local::valkey-platform::pulumi-nodejs:dynamic:Resource::valkey-slots",
                props: { shards: 3, replicasPerShard: 1, nodes },
            },
        ];
        assert.deepEqual(await messages(zoneSeparation, slots, { minZones: 3 }), []);
        assert.deepEqual(await messages(zoneSeparation, slots, { minZones: 4 }), [
            "Slot bootstrap (valkey-slots) must span at least 4 zones so that losing one keeps the cluster up; its nodes are in 3 (zone-a, zone-b, zone-c). List 4 or more zones in valkey:zones",
        ]);
    });

    test("ignores a stack without Valkey (local cloud)", async () => {
        assert.deepEqual(await messages(zoneSeparation, []), []);
    });
});
