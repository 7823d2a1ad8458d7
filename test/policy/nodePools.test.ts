import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { nodePools } from "../../policy/nodePools";
import { T, awsStack, azureStack, find, requirement } from "./fixtures";
import { messages } from "./harness";

const pool = (r: PlainResource[]): PlainResource => find(r, T.nodePool, "valkey");
const requirements = (r: PlainResource[]): any[] => pool(r).props.spec.template.spec.requirements;

describe("valkey-node-pools", () => {
    test("passes the valid AWS and Azure stacks", async () => {
        assert.deepEqual(await messages(nodePools, awsStack()), []);
        assert.deepEqual(await messages(nodePools, azureStack()), []);
    });

    test("refuses an amd64 NodePool", async () => {
        const r = awsStack();
        requirement(pool(r), "kubernetes.io/arch").values = ["amd64"];
        assert.deepEqual(await messages(nodePools, r), [
            'NodePool (valkey) must run arm64 (Graviton) nodes only: require kubernetes.io/arch In ["arm64"], not In ["amd64"]',
        ]);
    });

    test("refuses a NodePool without an arch requirement", async () => {
        const r = awsStack();
        pool(r).props.spec.template.spec.requirements = requirements(r).filter(
            (q) => q.key !== "kubernetes.io/arch",
        );
        assert.deepEqual(await messages(nodePools, r), [
            'NodePool (valkey) must run arm64 (Graviton) nodes only: require kubernetes.io/arch In ["arm64"]',
        ]);
    });

    test("refuses a NodePool with the burstable t4g family", async () => {
        const r = awsStack();
        requirement(pool(r), "karpenter.k8s.aws/instance-family").values = ["t4g"];
        assert.deepEqual(await messages(nodePools, r), [
            "NodePool (valkey) must not use the burstable instance family t4g: burstable instances throttle once their CPU credits run out under sustained load. Use r7g or r8g",
        ]);
    });

    test("refuses a burstable instance type", async () => {
        const r = awsStack();
        requirements(r).push({
            key: "node.kubernetes.io/instance-type",
            operator: "In",
            values: ["t4g.xlarge"],
        });
        assert.deepEqual(await messages(nodePools, r), [
            "NodePool (valkey) must not use burstable instance type t4g.xlarge: burstable instances throttle once their CPU credits run out under sustained load. Use a memory-optimised Graviton type such as r7g.xlarge",
        ]);
    });

    test("refuses a non-Graviton family and type", async () => {
        const r = awsStack();
        requirement(pool(r), "karpenter.k8s.aws/instance-family").values = ["r7i"];
        requirements(r).push({
            key: "node.kubernetes.io/instance-type",
            operator: "In",
            values: ["r7i.xlarge"],
        });
        assert.deepEqual(await messages(nodePools, r), [
            "NodePool (valkey) must use Graviton instance types (r7g/r8g/r7gn/r8gn/m7gn), not r7i.xlarge",
            "NodePool (valkey) must use Graviton instance families (r7g/r8g/r7gn/r8gn/m7gn), not r7i",
        ]);
    });

    test("refuses a NodePool that does not restrict its instances", async () => {
        const r = awsStack();
        pool(r).props.spec.template.spec.requirements = requirements(r).filter(
            (q) => q.key !== "karpenter.k8s.aws/instance-family",
        );
        assert.deepEqual(await messages(nodePools, r), [
            'NodePool (valkey) must restrict its instances to Graviton families (karpenter.k8s.aws/instance-family In ["r7g","r8g","r7gn","r8gn","m7gn"])',
        ]);
    });

    test("ignores NodePools not reserved for Valkey", async () => {
        const r = awsStack();
        pool(r).props.spec.template.spec.taints = [];
        delete pool(r).props.spec.template.metadata.labels.workload;
        requirement(pool(r), "karpenter.k8s.aws/instance-family").values = ["t4g"];
        assert.deepEqual(await messages(nodePools, r), []);
    });

    test("refuses a burstable B-series AKS pool", async () => {
        const r = azureStack();
        find(r, T.agentPool, "valkey-pool-1").props.vmSize = "Standard_B16ms";
        assert.deepEqual(await messages(nodePools, r), [
            "AgentPool (valkey1) must not use the burstable VM size Standard_B16ms: burstable instances throttle once their CPU credits run out under sustained load. Use an E-series v5 size such as Standard_E16ds_v5",
        ]);
    });

    test("refuses a non-E-series AKS pool", async () => {
        const r = azureStack();
        find(r, T.agentPool, "valkey-pool-2").props.vmSize = "Standard_D8ds_v5";
        assert.deepEqual(await messages(nodePools, r), [
            "AgentPool (valkey2) must use a memory-optimised E-series v5 VM size (e.g. Standard_E16ds_v5), not Standard_D8ds_v5",
        ]);
    });

    test("reads Valkey pools inside a ManagedCluster", async () => {
        const r = azureStack();
        find(r, T.mc, "valkey-aks").props.agentPoolProfiles.push({
            name: "valkeyx",
            vmSize: "Standard_D8ds_v5",
            availabilityZones: ["1"],
            nodeTaints: ["workload=valkey:NoSchedule"],
        });
        assert.deepEqual(await messages(nodePools, r), [
            "ManagedCluster agent pool (valkey-aks/valkeyx) must use a memory-optimised E-series v5 VM size (e.g. Standard_E16ds_v5), not Standard_D8ds_v5",
        ]);
    });
});
