import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { networkPolicy } from "../../policy/networkPolicy";
import { T, awsStack, find } from "./fixtures";
import { messages } from "./harness";

describe("valkey-network-policy", () => {
    test("passes the valid stack", async () => {
        assert.deepEqual(await messages(networkPolicy, awsStack()), []);
    });

    test("refuses a cluster without a NetworkPolicy", async () => {
        const r = awsStack().filter((x) => x.type !== T.netpol);
        assert.deepEqual(await messages(networkPolicy, r), [
            "Valkey cluster (valkey) must have a NetworkPolicy selecting its pods (app.kubernetes.io/instance: valkey) so that only its own pods and the allowed namespaces reach ports 6379 and 16379",
        ]);
    });

    test("refuses a NetworkPolicy in another namespace", async () => {
        const r = awsStack();
        find(r, T.netpol, "valkey-netpol").props.metadata.namespace = "default";
        assert.equal((await messages(networkPolicy, r)).length, 1);
    });
});
