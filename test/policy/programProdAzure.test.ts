/**
 * The whole prod-azure program (AKS) under Pulumi mocks, through the whole pack with the prod policy config:
 * no violation; a Spot or B-series Valkey pool is refused.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { bootstrapTargets, valkeyPools, valkeyStatefulSets } from "../../policy/resources";
import { runProgram } from "../helpers/program";
import { cloneResources, fromRecorded, packConfig, runPack } from "./harness";

const AGENT_POOL = /^azure-native:containerservice(\/[^:]+)?:AgentPool$/;

describe("the prod-azure program through the pack", () => {
    let resources: PlainResource[];
    before(async () => {
        resources = fromRecorded((await runProgram("prod-azure")).resources);
    });

    test("has what the pack checks: zone StatefulSets, a Valkey pool per zone, the slot bootstrap", () => {
        assert.equal(valkeyStatefulSets(resources).length, 3);
        assert.equal(valkeyPools(resources).length, 3);
        assert.equal(bootstrapTargets(resources).length, 1);
    });

    test("violates no policy", async () => {
        assert.deepEqual(await runPack(resources, packConfig("prod")), []);
    });

    test("refuses a Spot and a burstable Valkey pool", async () => {
        const r = cloneResources(resources);
        const pools = r.filter(
            (x) => AGENT_POOL.test(x.type) && x.props.nodeLabels?.workload === "valkey",
        );
        pools[0].props.scaleSetPriority = "Spot";
        pools[1].props.vmSize = "Standard_B16ms";
        const found = await runPack(r, packConfig("prod"));
        assert.ok(
            found.some(
                (v) =>
                    v.policy === "valkey-no-spot" &&
                    /must not use Spot VMs for Valkey/.test(v.message),
            ),
            JSON.stringify(found),
        );
        assert.ok(
            found.some(
                (v) =>
                    v.policy === "valkey-node-pools" &&
                    /must not use the burstable VM size Standard_B16ms/.test(v.message),
            ),
            JSON.stringify(found),
        );
    });
});
