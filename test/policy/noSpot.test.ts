import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { noSpot } from "../../policy/noSpot";
import { T, awsStack, azureStack, find, requirement } from "./fixtures";
import { messages } from "./harness";

describe("valkey-no-spot", () => {
    test("passes the valid AWS and Azure stacks", async () => {
        assert.deepEqual(await messages(noSpot, awsStack()), []);
        assert.deepEqual(await messages(noSpot, azureStack()), []);
    });

    test("refuses a NodePool that allows spot", async () => {
        const r = awsStack();
        requirement(find(r, T.nodePool, "valkey"), "karpenter.sh/capacity-type").values = [
            "spot",
            "on-demand",
        ];
        assert.deepEqual(await messages(noSpot, r), [
            'NodePool (valkey) must not launch Spot capacity for Valkey: karpenter.sh/capacity-type In ["spot","on-demand"] allows "spot", and a reclaimed node takes a primary with two minutes\' notice. Require karpenter.sh/capacity-type In ["on-demand"]',
        ]);
    });

    test("refuses a NotIn that leaves spot allowed", async () => {
        const r = awsStack();
        Object.assign(requirement(find(r, T.nodePool, "valkey"), "karpenter.sh/capacity-type"), {
            operator: "NotIn",
            values: ["reserved"],
        });
        assert.equal((await messages(noSpot, r)).length, 1);
    });

    test("accepts a NodePool without a capacity-type requirement (Karpenter defaults to on-demand)", async () => {
        const r = awsStack();
        const spec = find(r, T.nodePool, "valkey").props.spec.template.spec;
        spec.requirements = spec.requirements.filter(
            (q: any) => q.key !== "karpenter.sh/capacity-type",
        );
        assert.deepEqual(await messages(noSpot, r), []);
    });

    test("refuses a Spot AKS pool", async () => {
        const r = azureStack();
        find(r, T.agentPool, "valkey-pool-3").props.scaleSetPriority = "Spot";
        assert.deepEqual(await messages(noSpot, r), [
            'AgentPool (valkey3) must not use Spot VMs for Valkey (scaleSetPriority "Spot"): an evicted VM takes a primary with 30 seconds\' notice. Use scaleSetPriority "Regular"',
        ]);
    });
});
