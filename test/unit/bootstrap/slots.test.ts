/**
 * Slot arithmetic: balanced ranges, the key hash, and the rebalancing moves (tables plus fast-check properties).
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    balancedRanges,
    expandRanges,
    formatRanges,
    keySlot,
    rebalanceMoves,
    shardOfSlot,
    SLOT_COUNT,
    targetCounts,
    toRanges,
} from "../../../components/valkey/bootstrap/slots";

describe("balancedRanges", () => {
    it("splits 16384 slots into contiguous ranges (table)", () => {
        assert.deepEqual(balancedRanges(1), [[0, 16383]]);
        assert.deepEqual(balancedRanges(3), [
            [0, 5460],
            [5461, 10921],
            [10922, 16383],
        ]);
        assert.deepEqual(targetCounts(5), [3276, 3277, 3277, 3277, 3277]);
    });

    it("covers every slot exactly once, in order, sizes differing by at most one (property)", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1000 }), (shards) => {
                const ranges = balancedRanges(shards);
                assert.equal(ranges.length, shards);
                assert.equal(ranges[0][0], 0);
                assert.equal(ranges[shards - 1][1], SLOT_COUNT - 1);
                for (let i = 1; i < shards; i++) assert.equal(ranges[i][0], ranges[i - 1][1] + 1);
                const sizes = targetCounts(shards);
                assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
            }),
        );
    });

    it("shardOfSlot is the inverse of the ranges (property)", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 500 }),
                fc.integer({ min: 0, max: SLOT_COUNT - 1 }),
                (shards, slot) => {
                    const [a, b] = balancedRanges(shards)[shardOfSlot(slot, shards)];
                    assert.ok(a <= slot && slot <= b);
                },
            ),
        );
    });

    it("refuses impossible shard counts", () => {
        assert.throws(() => balancedRanges(0), /invalid shard count 0/);
        assert.throws(() => balancedRanges(16385), /invalid shard count 16385/);
    });
});

describe("ranges", () => {
    it("compresses and expands (table and property)", () => {
        assert.deepEqual(toRanges([5, 1, 2, 3, 9, 2]), [
            [1, 3],
            [5, 5],
            [9, 9],
        ]);
        assert.equal(formatRanges(toRanges([5, 1, 2, 3, 9])), "1-3,5,9");
        fc.assert(
            fc.property(
                fc.uniqueArray(fc.integer({ min: 0, max: SLOT_COUNT - 1 }), { maxLength: 300 }),
                (slots) => {
                    assert.deepEqual(
                        expandRanges(toRanges(slots)),
                        [...slots].sort((a, b) => a - b),
                    );
                },
            ),
        );
    });
});

describe("keySlot", () => {
    it("matches the server's CRC16 with hash tags (known values)", () => {
        assert.equal(keySlot("123456789"), 0x31c3 % SLOT_COUNT); // the CRC16/XMODEM check value
        assert.equal(keySlot("foo"), 12182);
        assert.equal(keySlot("bar"), 5061);
        assert.equal(keySlot("{user1000}.following"), keySlot("{user1000}.followers"));
        assert.equal(keySlot("{user1000}.following"), keySlot("user1000"));
        assert.equal(
            keySlot("foo{}{bar}"),
            keySlot("foo{}{bar}"),
            "an empty tag hashes the whole key",
        );
        assert.notEqual(keySlot("foo{}{bar}"), keySlot("bar"));
        assert.equal(keySlot(""), 0);
    });
});

describe("rebalanceMoves", () => {
    it("gives a new shard the top of each donor's range (table)", () => {
        const holdings = balancedRanges(3).map(([a, b], i) => ({
            owner: `p${i}`,
            slots: expandRanges([[a, b]]),
        }));
        const targets = new Map(targetCounts(4).map((t, i) => [`p${i}`, t]));
        const moves = rebalanceMoves(holdings, targets);
        assert.equal(moves.length, 16384 - 3 * 4096);
        assert.deepEqual(toRanges(moves.filter((m) => m.from === "p0").map((m) => m.slot)), [
            [4096, 5460],
        ]);
        assert.ok(moves.every((m) => m.to === "p3"));
    });

    it("reaches every target with the fewest moves, only from owners above target (property)", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 12 }),
                fc.integer({ min: 1, max: 12 }),
                fc.integer({ min: 0, max: 1000 }),
                (owners, shards, seed) => {
                    // Random current ownership over `owners` names, targets over `shards` names (overlapping).
                    const slots = Array.from(
                        { length: SLOT_COUNT },
                        (_, s) => `o${(s * 7919 + seed * 31 + (s >> 5)) % owners}`,
                    );
                    const holdingsMap = new Map<string, number[]>();
                    slots.forEach((o, s) => {
                        if (!holdingsMap.has(o)) holdingsMap.set(o, []);
                        holdingsMap.get(o)!.push(s);
                    });
                    const holdings = [...holdingsMap].map(([owner, list]) => ({
                        owner,
                        slots: list,
                    }));
                    const targets = new Map(targetCounts(shards).map((t, i) => [`o${i}`, t]));
                    const moves = rebalanceMoves(holdings, targets);

                    const after = [...slots];
                    const moved = new Set<number>();
                    for (const m of moves) {
                        assert.equal(after[m.slot], m.from, "moves a slot from its owner");
                        assert.ok(!moved.has(m.slot), "moves a slot once");
                        moved.add(m.slot);
                        after[m.slot] = m.to;
                    }
                    const counts = new Map<string, number>();
                    for (const o of after) counts.set(o, (counts.get(o) ?? 0) + 1);
                    for (const [o, t] of targets)
                        assert.equal(counts.get(o) ?? 0, t, `${o} reaches its target`);
                    const surplus = holdings.reduce(
                        (n, h) => n + Math.max(0, h.slots.length - (targets.get(h.owner) ?? 0)),
                        0,
                    );
                    assert.equal(moves.length, surplus, "no more moves than the surplus");
                },
            ),
            { numRuns: 60 },
        );
    });

    it("refuses targets that do not add up", () => {
        assert.throws(
            () => rebalanceMoves([{ owner: "a", slots: [1, 2] }], new Map([["a", 3]])),
            /targets add up to 3 slots but 2 are held/,
        );
    });
});
