import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aivenIpFilter } from "../../policy/aivenIpFilter";
import { aivenStack, serviceOf } from "./aivenFixtures";
import { messages } from "./harness";

describe("valkey-aiven-ip-filter", () => {
    test("passes the valid Aiven service", async () => {
        assert.deepEqual(await messages(aivenIpFilter, aivenStack()), []);
    });

    test("refuses 0.0.0.0/0 among the entries", async () => {
        const r = aivenStack();
        serviceOf(r).props.valkeyUserConfig.ipFilterStrings.push("0.0.0.0/0");
        assert.deepEqual(await messages(aivenIpFilter, r), [
            'Aiven service (valkey-prod) must not admit clients from every address: its IP filter holds "0.0.0.0/0". List the networks your applications connect from in valkey:aiven.ipFilter, e.g. ["10.0.0.0/16"]',
        ]);
    });

    test("refuses ::/0, in the object form too", async () => {
        const r = aivenStack();
        delete serviceOf(r).props.valkeyUserConfig.ipFilterStrings;
        serviceOf(r).props.valkeyUserConfig.ipFilterObjects = [
            { network: "10.0.0.0/8", description: "VPC" },
            { network: "::/0" },
        ];
        assert.deepEqual(await messages(aivenIpFilter, r), [
            'Aiven service (valkey-prod) must not admit clients from every address: its IP filter holds "::/0". List the networks your applications connect from in valkey:aiven.ipFilter, e.g. ["10.0.0.0/16"]',
        ]);
    });

    test("refuses a service without an IP filter (Aiven admits every address then)", async () => {
        const r = aivenStack();
        delete serviceOf(r).props.valkeyUserConfig.ipFilterStrings;
        assert.deepEqual(await messages(aivenIpFilter, r), [
            'Aiven service (valkey-prod) must not admit clients from every address: it sets no IP filter, and Aiven then admits 0.0.0.0/0 and ::/0. List the networks your applications connect from in valkey:aiven.ipFilter, e.g. ["10.0.0.0/16"]',
        ]);
        delete serviceOf(r).props.valkeyUserConfig;
        assert.equal((await messages(aivenIpFilter, r)).length, 1);
    });

    test("reads the deprecated ipFilters too", async () => {
        const r = aivenStack();
        delete serviceOf(r).props.valkeyUserConfig.ipFilterStrings;
        serviceOf(r).props.valkeyUserConfig.ipFilters = ["10.0.0.0/16"];
        assert.deepEqual(await messages(aivenIpFilter, r), []);
    });
});
