import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aivenTerminationProtection } from "../../policy/aivenTerminationProtection";
import { T, awsStack } from "./fixtures";
import { aivenStack, serviceOf } from "./aivenFixtures";
import { messages, runPolicy } from "./harness";

describe("valkey-aiven-termination-protection", () => {
    test("passes the valid Aiven service, and stacks without one", async () => {
        assert.deepEqual(await messages(aivenTerminationProtection, aivenStack()), []);
        assert.deepEqual(await messages(aivenTerminationProtection, awsStack()), []);
    });

    test("refuses termination protection off, against the service", async () => {
        const r = aivenStack();
        serviceOf(r).props.terminationProtection = false;
        const found = await runPolicy(aivenTerminationProtection, r);
        assert.deepEqual(
            found.map((v) => v.message),
            [
                "Aiven service (valkey-prod) must have termination protection on (terminationProtection true), not false: without it a destroy or a replacement deletes the service with its data. Set valkey:aiven.terminationProtection to true",
            ],
        );
        assert.equal(found[0].urn, serviceOf(r).urn);
    });

    test("refuses termination protection left unset (Aiven's default is off)", async () => {
        const r = aivenStack();
        delete serviceOf(r).props.terminationProtection;
        assert.deepEqual(await messages(aivenTerminationProtection, r), [
            'Aiven service (valkey-prod) must have termination protection on (terminationProtection true), not "unset": without it a destroy or a replacement deletes the service with its data. Set valkey:aiven.terminationProtection to true',
        ]);
    });

    test("looks at Aiven services only", async () => {
        const r = awsStack();
        const sts = r.find((x) => x.type === T.sts)!;
        sts.props.terminationProtection = false;
        assert.deepEqual(await messages(aivenTerminationProtection, r), []);
    });
});
