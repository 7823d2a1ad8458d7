/**
 * The whole prod program under Pulumi mocks, through the whole pack with the prod policy config: no violation.
 * One program run per file (the helper clears the module cache between runs).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { bootstrapTargets, valkeyPools, valkeyStatefulSets } from "../../policy/resources";
import { runProgram } from "../helpers/program";
import { fromRecorded, packConfig, runPack } from "./harness";

describe("the prod program through the pack", () => {
    let resources: PlainResource[];
    before(async () => {
        resources = fromRecorded((await runProgram("prod")).resources);
    });

    test("has what the pack checks: zone StatefulSets, a Valkey node pool, the slot bootstrap", () => {
        assert.equal(valkeyStatefulSets(resources).length, 3);
        assert.ok(valkeyPools(resources).length >= 1, "a Valkey NodePool");
        assert.equal(bootstrapTargets(resources).length, 1);
    });

    test("violates no policy", async () => {
        assert.deepEqual(await runPack(resources, packConfig("prod")), []);
    });
});
