import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { disruptionBudget } from "../../policy/disruptionBudget";
import { T, awsStack, find } from "./fixtures";
import { messages } from "./harness";

describe("valkey-disruption-budget", () => {
    test("passes the valid stack", async () => {
        assert.deepEqual(await messages(disruptionBudget, awsStack()), []);
    });

    test("refuses a cluster without a PodDisruptionBudget", async () => {
        const r = awsStack().filter((x) => x.type !== T.pdb);
        assert.deepEqual(await messages(disruptionBudget, r), [
            "Valkey cluster (valkey) must have a PodDisruptionBudget selecting its pods (app.kubernetes.io/instance: valkey) with maxUnavailable 1, so a node drain takes one pod at a time",
        ]);
    });

    test("refuses a PodDisruptionBudget that selects another cluster", async () => {
        const r = awsStack();
        find(r, T.pdb, "valkey-pdb").props.spec.selector.matchLabels["app.kubernetes.io/instance"] =
            "other";
        assert.equal((await messages(disruptionBudget, r)).length, 1);
    });

    test("refuses more than one unavailable pod", async () => {
        const r = awsStack();
        find(r, T.pdb, "valkey-pdb").props.spec.maxUnavailable = "50%";
        assert.deepEqual(await messages(disruptionBudget, r), [
            'PodDisruptionBudget (valkey-pdb) must allow at most one unavailable Valkey pod (maxUnavailable 1), not "50%"',
        ]);
    });
});
