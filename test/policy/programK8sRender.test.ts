/**
 * The existing-cluster program (cloud kubernetes, rendered to manifests) under Pulumi mocks, through the whole
 * pack with the dev policy config: no violation. It creates no node pool or StorageClass, so only the
 * Kubernetes objects are checked.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { valkeyStatefulSets } from "../../policy/resources";
import { runProgram } from "../helpers/program";
import { fromRecorded, packConfig, runPack } from "./harness";

describe("the k8s-render program through the pack", () => {
    let resources: PlainResource[];
    before(async () => {
        resources = fromRecorded((await runProgram("k8s-render")).resources);
    });

    test("has zone StatefulSets", () => {
        assert.equal(valkeyStatefulSets(resources).length, 3);
    });

    test("violates no policy", async () => {
        assert.deepEqual(await runPack(resources, packConfig("dev")), []);
    });
});
