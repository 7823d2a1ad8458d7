/**
 * The provider's pure parts (input problems, diff) and the `ValkeySlots` resource under Pulumi mocks: it registers
 * as a dynamic resource, its provider serializes, and the password stays secret.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
    changedInputs,
    inputProblems,
    valkeySlotsProvider,
    ValkeySlots,
    ValkeySlotsOutputs,
} from "../../../components/valkey/bootstrap/provider";
import { resolveKubernetesNodes } from "../../../components/valkey/bootstrap/transport";
import { installRecordingMocks, isSecret, valueOf } from "../../helpers/program";

const nodes = ["zone-a", "zone-b", "zone-c"].flatMap((zone, z) =>
    [0, 1].map((i) => ({
        id: `valkey-${zone}-${i}`,
        host: `10.0.${z}.${i + 10}`,
        port: 6379,
        zone,
    })),
);
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("inputProblems", () => {
    it("wants exactly one of nodes or kubernetes", () => {
        assert.deepEqual(inputProblems({ shards: 3, replicasPerShard: 1 }), [
            {
                property: "nodes",
                reason: "give exactly one of nodes (the direct form) or kubernetes (a StatefulSet per zone).",
            },
        ]);
        const k8s = {
            kubeconfig: "k",
            namespace: "valkey",
            statefulSets: [{ zone: "a", name: "valkey-a" }],
        };
        assert.equal(
            inputProblems({ shards: 3, replicasPerShard: 1, nodes, kubernetes: k8s })[0].property,
            "kubernetes",
        );
        assert.deepEqual(inputProblems({ shards: 3, replicasPerShard: 1, kubernetes: k8s }), []);
        assert.deepEqual(
            inputProblems({
                shards: 3,
                replicasPerShard: 1,
                kubernetes: { ...k8s, statefulSets: [] },
            }),
            [
                {
                    property: "kubernetes",
                    reason: "kubernetes.statefulSets must list the StatefulSet of each zone: [{ zone, name }].",
                },
            ],
        );
    });

    it("reports topology problems under the input they concern", () => {
        assert.deepEqual(inputProblems({ shards: 3, replicasPerShard: 1, nodes }), []);
        const problems = inputProblems({
            shards: 3,
            replicasPerShard: 3,
            nodes,
            nodeTimeoutMs: 10,
        });
        assert.deepEqual(
            problems.map((p) => p.property),
            ["nodes", "nodes", "nodes", "replicasPerShard", "nodeTimeoutMs"],
        );
        assert.equal(
            problems[4].reason,
            "nodeTimeoutMs: got 10; use the servers' cluster-node-timeout in ms (e.g. 5000).",
        );
    });

    it("skips node checks while nodes are unknown (preview)", () => {
        assert.deepEqual(
            inputProblems({ shards: 3, replicasPerShard: 1, nodes: UNKNOWN as never }),
            [],
        );
    });
});

describe("check and diff", () => {
    it("check returns failures without touching any node", async () => {
        const r = await valkeySlotsProvider.check!({}, { shards: 0, replicasPerShard: 1, nodes });
        assert.deepEqual(
            r.failures?.map((f) => f.property),
            ["shards"],
        );
    });

    it("diff reports input changes and drift, never a replacement", async () => {
        const olds = {
            shards: 3,
            replicasPerShard: 1,
            nodes,
            drift: [],
        } as unknown as ValkeySlotsOutputs;
        assert.deepEqual(
            await valkeySlotsProvider.diff!("id", olds, { shards: 3, replicasPerShard: 1, nodes }),
            {
                changes: false,
                replaces: [],
                deleteBeforeReplace: false,
            },
        );
        assert.equal(
            (await valkeySlotsProvider.diff!("id", olds, { shards: 5, replicasPerShard: 1, nodes }))
                .changes,
            true,
        );
        const drifted = {
            shards: 3,
            replicasPerShard: 1,
            nodes,
            drift: ["quorum broken: zone zone-b holds 2 of 3 primaries"],
        };
        const d = await valkeySlotsProvider.diff!("id", olds, drifted);
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
        assert.deepEqual(
            changedInputs(olds, { shards: 3, replicasPerShard: 2, nodes, password: "x" }),
            ["replicasPerShard", "password"],
        );
    });
});

describe("resolveKubernetesNodes", () => {
    it("lists each zone's StatefulSet pods in ordinal order with their pod IPs", async () => {
        const reader = {
            statefulSetReplicas: async (_ns: string, name: string) => (name === "valkey-b" ? 3 : 2),
            podIp: async (_ns: string, pod: string) => `10.1.${pod.length}.${pod.slice(-1)}`,
        };
        const list = await resolveKubernetesNodes(
            {
                kubeconfig: "unused",
                namespace: "valkey",
                statefulSets: [
                    { zone: "a", name: "valkey-a" },
                    { zone: "b", name: "valkey-b" },
                ],
            },
            reader,
        );
        assert.deepEqual(
            list.map((n) => [n.id, n.zone, n.port]),
            [
                ["valkey-a-0", "a", 6379],
                ["valkey-a-1", "a", 6379],
                ["valkey-b-0", "b", 6379],
                ["valkey-b-1", "b", 6379],
                ["valkey-b-2", "b", 6379],
            ],
        );
        assert.equal(list[1].host, "10.1.10.1");
    });

    it("names a pod without an IP", async () => {
        const reader = { statefulSetReplicas: async () => 1, podIp: async () => undefined };
        await assert.rejects(
            resolveKubernetesNodes(
                {
                    kubeconfig: "unused",
                    namespace: "valkey",
                    statefulSets: [{ zone: "a", name: "valkey-a" }],
                },
                reader,
            ),
            /pod valkey\/valkey-a-0 has no IP yet; wait until it is scheduled and running\./,
        );
    });
});

describe("ValkeySlots under mocks", () => {
    it("registers a dynamic resource whose serialized provider holds no secret, with the password secret", async () => {
        const resources = await installRecordingMocks("dev", false);
        const slots = new ValkeySlots("valkey-slots", {
            shards: 3,
            replicasPerShard: 1,
            password: "s3cret-password-value",
            nodes,
            nodeTimeoutMs: 5000,
        });
        await valueOf(slots.urn);
        const r = resources.find((x) => x.name === "valkey-slots")!;
        assert.equal(r.type, "pulumi-nodejs:dynamic:Resource");
        assert.equal(typeof r.inputs.__provider, "string");
        assert.ok(r.inputs.__provider.length > 1000, "the provider was serialized");
        assert.ok(!r.inputs.__provider.includes("s3cret-password-value"));
        assert.ok(r.secretPaths.includes("password"), `secret inputs: ${r.secretPaths.join(", ")}`);
        assert.equal(await isSecret(slots.password), true);
        assert.equal(await isSecret(slots.clusterState), false);
        for (const out of [slots.topology, slots.clusterState, slots.drift, slots.resolvedNodes]) {
            assert.ok(
                pulumi.Output.isInstance(out),
                "every output property is declared on the class",
            );
        }
    });
});
