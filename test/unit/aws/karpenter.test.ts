import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import {
    DISCOVERY_TAG,
    ec2NodeClassManifest,
    instanceSize,
    karpenterHelmValues,
    nodePoolLimits,
    nodePoolManifest,
    VALKEY_TOLERATIONS,
    valkeyInstanceFamilies,
} from "../../../components/aws/karpenter";
import { validateManifest } from "./schemas";

const dev = resolveSettings({}, "dev");
const prod = resolveSettings({}, "prod");

type Requirement = { key: string; operator: string; values: string[] };
const requirementsOf = (m: ReturnType<typeof nodePoolManifest>): Requirement[] =>
    ((m.spec.template as any).spec.requirements as Requirement[]).slice();
const requirement = (
    m: ReturnType<typeof nodePoolManifest>,
    key: string,
): Requirement | undefined => requirementsOf(m).find((r) => r.key === key);

describe("Valkey NodePool", () => {
    for (const [env, s] of [
        ["dev", dev],
        ["prod", prod],
    ] as const) {
        it(`${env}: validates against Karpenter's karpenter.sh/v1 schema`, async () => {
            await validateManifest(nodePoolManifest(s, "valkey"));
        });
        it(`${env}: arm64, Linux, on-demand only, r7g/r8g of the configured size, in the configured zones`, () => {
            const m = nodePoolManifest(s, "valkey");
            assert.deepEqual(requirement(m, "kubernetes.io/arch"), {
                key: "kubernetes.io/arch",
                operator: "In",
                values: ["arm64"],
            });
            assert.deepEqual(requirement(m, "kubernetes.io/os")?.values, ["linux"]);
            assert.deepEqual(requirement(m, "karpenter.sh/capacity-type"), {
                key: "karpenter.sh/capacity-type",
                operator: "In",
                values: ["on-demand"],
            });
            assert.deepEqual(requirement(m, "karpenter.k8s.aws/instance-family")?.values, [
                "r7g",
                "r8g",
            ]);
            assert.deepEqual(requirement(m, "karpenter.k8s.aws/instance-size")?.values, [
                instanceSize(s.aws.instanceType),
            ]);
            assert.deepEqual(requirement(m, "topology.kubernetes.io/zone"), {
                key: "topology.kubernetes.io/zone",
                operator: "In",
                values: ["us-east-1a", "us-east-1b", "us-east-1c"],
            });
            // Nothing may widen the pool: every requirement is a positive In.
            for (const r of requirementsOf(m)) assert.equal(r.operator, "In", r.key);
        });
        it(`${env}: tainted and labelled workload=valkey, matching what the Valkey pods tolerate`, () => {
            const template = nodePoolManifest(s, "valkey").spec.template as any;
            assert.deepEqual(template.metadata.labels, { workload: "valkey" });
            assert.deepEqual(template.spec.taints, [
                { key: "workload", value: "valkey", effect: "NoSchedule" },
            ]);
            const t = template.spec.taints[0];
            assert.ok(
                VALKEY_TOLERATIONS.some(
                    (x) =>
                        x.key === t.key &&
                        x.value === t.value &&
                        x.effect === t.effect &&
                        x.operator === "Equal",
                ),
            );
            assert.deepEqual(template.spec.nodeClassRef, {
                group: "karpenter.k8s.aws",
                kind: "EC2NodeClass",
                name: "valkey",
            });
        });
        it(`${env}: consolidates only empty nodes, disrupts one node at a time, never expires nodes`, () => {
            const m = nodePoolManifest(s, "valkey");
            assert.deepEqual(m.spec.disruption, {
                consolidationPolicy: "WhenEmpty",
                consolidateAfter: "10m",
                budgets: [{ nodes: "1" }],
            });
            assert.equal((m.spec.template as any).spec.expireAfter, "Never");
        });
    }
    it("limits: one node of the configured size per Valkey pod, plus one spare per zone", () => {
        // dev: 3 shards x 2 copies + 3 zones = 9 x r7g.large (2 vCPU, 16 GiB).
        assert.deepEqual(nodePoolLimits(dev), { cpu: "18", memory: "144Gi" });
        // prod: 3 shards x 3 copies + 3 zones = 12 x r7g.xlarge (4 vCPU, 32 GiB).
        assert.deepEqual(nodePoolLimits(prod), { cpu: "48", memory: "384Gi" });
        assert.deepEqual(nodePoolManifest(prod, "valkey").spec.limits, {
            cpu: "48",
            memory: "384Gi",
        });
    });
    it("network-optimised families only behind the setting", () => {
        assert.deepEqual(valkeyInstanceFamilies(false), ["r7g", "r8g"]);
        assert.deepEqual(valkeyInstanceFamilies(true), ["r7g", "r8g", "r7gn", "r8gn", "m7gn"]);
        const s = resolveSettings(
            { aws: { networkOptimised: true, instanceType: "r7gn.xlarge" }, memory: "22Gi" },
            "prod",
        );
        const m = nodePoolManifest(s, "valkey");
        assert.deepEqual(requirement(m, "karpenter.k8s.aws/instance-family")?.values, [
            "r7g",
            "r8g",
            "r7gn",
            "r8gn",
            "m7gn",
        ]);
        assert.deepEqual(requirement(m, "karpenter.k8s.aws/instance-size")?.values, ["xlarge"]);
    });
});

describe("Valkey EC2NodeClass", () => {
    const m = ec2NodeClassManifest({
        name: "valkey",
        clusterName: "valkey-prod",
        nodeRoleName: "valkey-prod-karpenter-node",
        amiVersion: "latest",
        tags: { "valkey-platform/cluster": "valkey" },
    });
    it("validates against Karpenter's karpenter.k8s.aws/v1 schema", async () => {
        await validateManifest(m);
    });
    it("AL2023, IMDSv2 required with hop limit 1, an encrypted gp3 root volume", () => {
        assert.deepEqual(m.spec.amiSelectorTerms, [{ alias: "al2023@latest" }]);
        assert.deepEqual(m.spec.metadataOptions, {
            httpEndpoint: "enabled",
            httpProtocolIPv6: "disabled",
            httpPutResponseHopLimit: 1,
            httpTokens: "required",
        });
        assert.deepEqual(m.spec.blockDeviceMappings, [
            {
                deviceName: "/dev/xvda",
                ebs: {
                    volumeSize: "30Gi",
                    volumeType: "gp3",
                    encrypted: true,
                    deleteOnTermination: true,
                },
            },
        ]);
        assert.equal(m.spec.role, "valkey-prod-karpenter-node");
    });
    it("finds subnets and security groups by the cluster's discovery tag", () => {
        const byTag = [{ tags: { [DISCOVERY_TAG]: "valkey-prod" } }];
        assert.deepEqual(m.spec.subnetSelectorTerms, byTag);
        assert.deepEqual(m.spec.securityGroupSelectorTerms, byTag);
    });
    it("a pinned AMI release becomes the alias version", async () => {
        const pinned = ec2NodeClassManifest({
            name: "v",
            clusterName: "c",
            nodeRoleName: "r",
            amiVersion: "v20250715",
            tags: {},
        });
        assert.deepEqual(pinned.spec.amiSelectorTerms, [{ alias: "al2023@v20250715" }]);
        await validateManifest(pinned);
    });
});

describe("Karpenter Helm values", () => {
    it("name the cluster and the interruption queue, and the service account Pod Identity is bound to", () => {
        const v = karpenterHelmValues({
            clusterName: "valkey-dev",
            queueName: "valkey-dev",
        }) as any;
        assert.deepEqual(v.settings, {
            clusterName: "valkey-dev",
            interruptionQueue: "valkey-dev",
        });
        assert.deepEqual(v.serviceAccount, { name: "karpenter" });
        assert.equal(v.replicas, 2);
    });
});
