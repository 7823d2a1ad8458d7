import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    AIVEN_PLAN_FAMILIES,
    AIVEN_PRODUCTION_FAMILIES,
    aivenCloudHasZones,
    aivenFamilyForReplicas,
    aivenPlanReplicas,
    aivenPlanWithFamily,
    parseAivenPlan,
} from "../../../components/aiven/plan";

describe("Aiven plans", () => {
    it("takes plan names apart", () => {
        const table: [string, ReturnType<typeof parseAivenPlan>][] = [
            ["hobbyist", { family: "hobbyist" }],
            ["startup-4", { family: "startup", size: "4" }],
            ["business-28", { family: "business", size: "28" }],
            ["premium-200", { family: "premium", size: "200" }],
            ["business-8-ssd", { family: "business", size: "8-ssd" }],
            ["business", undefined],
            ["hobbyist-1", undefined],
            ["custom-8", undefined],
            ["Business-4", undefined],
            ["", undefined],
        ];
        for (const [plan, expected] of table)
            assert.deepEqual(parseAivenPlan(plan), expected, plan);
    });

    it("the family decides nodes and standbys; only business and premium span zones", () => {
        assert.deepEqual(
            Object.entries(AIVEN_PLAN_FAMILIES).map(([f, i]) => [
                f,
                i.nodes,
                i.replicas,
                i.zoneRedundant,
            ]),
            [
                ["hobbyist", 1, 0, false],
                ["startup", 1, 0, false],
                ["business", 2, 1, true],
                ["premium", 3, 2, true],
            ],
        );
        assert.deepEqual(AIVEN_PRODUCTION_FAMILIES, ["business", "premium"]);
        assert.equal(aivenPlanReplicas("premium-8"), 2);
        assert.equal(aivenPlanReplicas("custom-8"), undefined);
    });

    it("proposes the plan of the same size in the family that gives the replicas", () => {
        assert.equal(aivenFamilyForReplicas(0), "startup");
        assert.equal(aivenFamilyForReplicas(1), "business");
        assert.equal(aivenFamilyForReplicas(2), "premium");
        assert.equal(aivenFamilyForReplicas(3), undefined);
        assert.equal(aivenPlanWithFamily("business-16", "premium"), "premium-16");
        assert.equal(aivenPlanWithFamily("hobbyist", "business"), "business-4");
    });

    it("property: the proposed plan gives exactly the replicas asked for, at the same size", () => {
        const family = fc.constantFrom("startup", "business", "premium");
        fc.assert(
            fc.property(
                family,
                fc.integer({ min: 1, max: 512 }),
                fc.integer({ min: 0, max: 2 }),
                (f, size, replicas) => {
                    const target = aivenFamilyForReplicas(replicas)!;
                    const proposed = aivenPlanWithFamily(`${f}-${size}`, target);
                    assert.equal(aivenPlanReplicas(proposed), replicas);
                    assert.equal(parseAivenPlan(proposed)?.size, String(size));
                },
            ),
        );
    });

    it("knows the clouds where Aiven spreads nodes over availability zones", () => {
        for (const c of [
            "aws-us-east-1",
            "google-europe-west1",
            "azure-eastus2",
            "upcloud-fi-hel",
        ]) {
            assert.equal(aivenCloudHasZones(c), true, c);
        }
        for (const c of ["do-nyc", "upcloud-de-fra", "awsx-us-east-1"]) {
            assert.equal(aivenCloudHasZones(c), false, c);
        }
    });
});
