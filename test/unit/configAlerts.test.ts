import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../components/config";
import { problems } from "../helpers/settings";

const k8s = { cloud: "kubernetes", zones: ["zone-a", "zone-b", "zone-c"] };

describe("config: valkey:alerts (alert thresholds)", () => {
    it("defaults", () => {
        assert.deepEqual(resolveSettings(k8s, "dev").alerts, {
            replicationLagSeconds: 10,
            memoryUsedRatio: 0.9,
            clientsUsedRatio: 0.85,
            evictedKeysPerSecond: 0,
            failoverWindowMinutes: 15,
        });
    });

    it("takes values as YAML numbers or as the strings `pulumi config set --path` stores", () => {
        const s = resolveSettings(
            {
                ...k8s,
                alerts: {
                    replicationLagSeconds: 30,
                    memoryUsedRatio: "0.8",
                    evictedKeysPerSecond: "250",
                },
            },
            "dev",
        );
        assert.equal(s.alerts.replicationLagSeconds, 30);
        assert.equal(s.alerts.memoryUsedRatio, 0.8);
        assert.equal(s.alerts.evictedKeysPerSecond, 250);
        const json = resolveSettings({ ...k8s, alerts: '{"clientsUsedRatio": 0.5}' }, "dev");
        assert.equal(json.alerts.clientsUsedRatio, 0.5);
    });

    it("refuses bad values with the setting, the value and the fix, all at once", () => {
        assert.deepEqual(
            problems({
                ...k8s,
                alerts: {
                    replicationLagSeconds: 0,
                    memoryUsedRatio: 1.5,
                    clientsUsedRatio: "most",
                    evictedKeysPerSecond: -1,
                    failoverWindowMinutes: 2.5,
                },
            }),
            [
                "valkey.alerts.replicationLagSeconds: got 0; it must be at least 1. Use seconds between 1 and 3600 (10 is the default; a healthy replica acknowledges every second).",
                "valkey.alerts.memoryUsedRatio: got 1.5; it must be at most 1. Use a share of maxmemory between 0.5 and 1, e.g. 0.9.",
                'valkey.alerts.clientsUsedRatio: got "most"; expected a number. Use a share of maxclients between 0.1 and 1, e.g. 0.85.',
                "valkey.alerts.evictedKeysPerSecond: got -1; it must be at least 0. Use 0 to be told of any eviction, or the rate a cache (allkeys-lru) may evict without notice, e.g. 100.",
                "valkey.alerts.failoverWindowMinutes: got 2.5; expected a whole number. Use whole minutes between 5 and 1440, e.g. 15.",
            ],
        );
        assert.deepEqual(problems({ ...k8s, alerts: { failoverWindowMinutes: 1 } }), [
            "valkey.alerts.failoverWindowMinutes: got 1; it must be at least 5. Use whole minutes between 5 and 1440, e.g. 15.",
        ]);
    });
});
