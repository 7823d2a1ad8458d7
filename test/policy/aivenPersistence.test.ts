import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aivenPersistence } from "../../policy/aivenPersistence";
import { aivenStack, serviceOf } from "./aivenFixtures";
import { messages } from "./harness";

describe("valkey-aiven-persistence", () => {
    test("passes rdb, and persistence left to Aiven's default", async () => {
        const r = aivenStack();
        assert.deepEqual(await messages(aivenPersistence, r), []);
        delete serviceOf(r).props.valkeyUserConfig.valkeyPersistence;
        assert.deepEqual(await messages(aivenPersistence, r), []);
    });

    test("refuses persistence off", async () => {
        const r = aivenStack();
        serviceOf(r).props.valkeyUserConfig.valkeyPersistence = "off";
        assert.deepEqual(await messages(aivenPersistence, r), [
            'Aiven service (valkey-prod) must keep persistence on (valkeyUserConfig.valkeyPersistence "rdb"), not "off": without it Aiven takes no backups and a restart loses every key. Set valkey:persistence to "rdb"',
        ]);
    });
});
