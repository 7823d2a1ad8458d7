import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { aivenPlan } from "../../policy/aivenPlan";
import { aivenStack, serviceOf } from "./aivenFixtures";
import { messages } from "./harness";

describe("valkey-aiven-plan", () => {
    test("passes premium and business plans", async () => {
        const r = aivenStack();
        assert.deepEqual(await messages(aivenPlan, r), []);
        serviceOf(r).props.plan = "business-4";
        assert.deepEqual(await messages(aivenPlan, r), []);
    });

    test("refuses a startup plan, proposing the same size with standbys", async () => {
        const r = aivenStack();
        serviceOf(r).props.plan = "startup-8";
        assert.deepEqual(await messages(aivenPlan, r), [
            'Aiven service (valkey-prod) must run a business or premium plan, whose standbys sit in other availability zones, not "startup-8" (1 node, no standby). Use "business-8" or "premium-8" in valkey:aiven.plan',
        ]);
    });

    test("refuses hobbyist, and a plan of no known family", async () => {
        const r = aivenStack();
        serviceOf(r).props.plan = "hobbyist";
        assert.deepEqual(await messages(aivenPlan, r), [
            'Aiven service (valkey-prod) must run a business or premium plan, whose standbys sit in other availability zones, not "hobbyist" (1 node, no standby). Use "business-4" or "premium-4" in valkey:aiven.plan',
        ]);
        serviceOf(r).props.plan = "custom-16";
        assert.deepEqual(await messages(aivenPlan, r), [
            'Aiven service (valkey-prod) must run a business or premium plan, whose standbys sit in other availability zones, not "custom-16" (a plan of none of the hobbyist, startup, business and premium families, whose standbys the pack cannot tell). Use "business-4" or "premium-4" in valkey:aiven.plan',
        ]);
    });
});
