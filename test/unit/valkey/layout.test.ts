import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SettingsError, resolveSettings } from "../../../components/config";
import {
    computeLayout,
    quorumHolds,
    quorumOffenders,
    quorumSafeShardCounts,
    sharedZoneShards,
} from "../../../components/valkey/layout";

const zoneNames = (n: number) => Array.from({ length: n }, (_, i) => `zone-${String.fromCharCode(97 + i)}`);

describe("computeLayout (table)", () => {
    it("3 shards x 1 replica over 3 zones: primaries a, b, c; replicas in the next zone", () => {
        const l = computeLayout({ shards: 3, replicasPerShard: 1, zones: zoneNames(3) });
        assert.deepEqual(
            l.shards.map((s) => [s.primary.zone, ...s.replicas.map((r) => r.zone)]),
            [
                ["zone-a", "zone-b"],
                ["zone-b", "zone-c"],
                ["zone-c", "zone-a"],
            ],
        );
        assert.deepEqual(
            l.zones.map((z) => z.pods.map((p) => `${p.role[0]}${p.shard}@${p.ordinal}`)),
            [
                ["p0@0", "r2@1"],
                ["r0@0", "p1@1"],
                ["r1@0", "p2@1"],
            ],
        );
    });
    it("growing shards only appends ordinals: existing pods keep their roles", () => {
        const before = computeLayout({ shards: 3, replicasPerShard: 1, zones: zoneNames(3) });
        const after = computeLayout({ shards: 5, replicasPerShard: 1, zones: zoneNames(3) });
        for (let z = 0; z < 3; z++) {
            assert.deepEqual(after.zones[z].pods.slice(0, before.zones[z].pods.length), before.zones[z].pods);
        }
    });
    it("the quorum rule: 3, 5, 6 shards over 3 zones hold; 4 does not", () => {
        assert.deepEqual([3, 4, 5, 6, 7, 8, 9].map((s) => quorumHolds(s, 3)), [true, false, true, true, true, true, true]);
        assert.deepEqual(quorumSafeShardCounts(4, 3), [3, 5, 6]);
        assert.deepEqual(quorumOffenders(["a", "a", "b", "c"], ["a", "b", "c"]), [{ zone: "a", primaries: 2 }]);
        assert.deepEqual(quorumOffenders(["a", "b", "c"], ["a", "b", "c"]), []);
    });
});

describe("computeLayout (properties)", () => {
    const topology = fc.record({
        shards: fc.integer({ min: 1, max: 60 }),
        zoneCount: fc.integer({ min: 1, max: 6 }),
        replicasPerShard: fc.integer({ min: 0, max: 5 }),
    });

    it("every shard has exactly one primary and replicasPerShard replicas; pods per zone are ordinals 0..n-1", () => {
        fc.assert(
            fc.property(topology, ({ shards, zoneCount, replicasPerShard }) => {
                const l = computeLayout({ shards, replicasPerShard, zones: zoneNames(zoneCount) });
                assert.equal(l.shards.length, shards);
                const all = l.zones.flatMap((z) => z.pods);
                assert.equal(all.length, shards * (replicasPerShard + 1));
                for (let s = 0; s < shards; s++) {
                    const copies = all.filter((p) => p.shard === s);
                    assert.equal(copies.filter((p) => p.role === "primary").length, 1);
                    assert.equal(copies.filter((p) => p.role === "replica").length, replicasPerShard);
                }
                for (const z of l.zones) {
                    assert.deepEqual(z.pods.map((p) => p.ordinal), z.pods.map((_, i) => i));
                    assert.ok(z.pods.every((p) => p.zone === z.zone));
                }
            }),
            { numRuns: 300 },
        );
    });

    it("no shard has two copies in one zone when replicas + 1 <= zones", () => {
        fc.assert(
            fc.property(topology, ({ shards, zoneCount, replicasPerShard }) => {
                fc.pre(replicasPerShard + 1 <= zoneCount);
                const l = computeLayout({ shards, replicasPerShard, zones: zoneNames(zoneCount) });
                assert.deepEqual(sharedZoneShards(l), []);
            }),
            { numRuns: 300 },
        );
    });

    it("primaries are spread round-robin: zones differ by at most one primary", () => {
        fc.assert(
            fc.property(topology, ({ shards, zoneCount, replicasPerShard }) => {
                const l = computeLayout({ shards, replicasPerShard, zones: zoneNames(zoneCount) });
                const counts = zoneNames(zoneCount).map((z) => l.shards.filter((s) => s.primary.zone === z).length);
                assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts}`);
            }),
            { numRuns: 300 },
        );
    });

    it("whenever validation accepts the input, losing any one zone leaves a majority of primaries", () => {
        fc.assert(
            fc.property(topology, fc.constantFrom("dev", "prod"), ({ shards, zoneCount, replicasPerShard }, stack) => {
                // Availability zones of the default region (the default cloud is AWS).
                const zones = zoneNames(zoneCount).map((z) => `us-east-1${z.slice(-1)}`);
                let accepted = true;
                try {
                    resolveSettings({ shards, replicasPerShard, zones, persistence: "none" }, stack);
                } catch (e) {
                    if (!(e instanceof SettingsError)) throw e;
                    accepted = false;
                }
                fc.pre(accepted);
                const l = computeLayout({ shards, replicasPerShard, zones });
                for (const lost of zones) {
                    const surviving = l.shards.filter((s) => s.primary.zone !== lost).length;
                    assert.ok(2 * surviving > shards, `losing ${lost} leaves ${surviving} of ${shards} primaries`);
                }
                assert.deepEqual(quorumOffenders(l.shards.map((s) => s.primary.zone), zones), []);
            }),
            { numRuns: 500 },
        );
    });
});
