/**
 * A bootstrap run stopped at any step (as if its process had been killed: commands already sent still land) is
 * finished by the next run, for creating a cluster and for moving slots; slots left importing/migrating by
 * hand are completed too. No key is lost.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Interrupted } from "../../components/valkey/bootstrap/execute";
import { keySlot } from "../../components/valkey/bootstrap/slots";
import { rawCommand } from "../helpers/servers";
import {
    assertHealthy,
    assertKeys,
    clusterClient,
    fill,
    keysOnPrimaries,
    members,
    NODE_TIMEOUT_MS,
    resetAll,
    run,
    serversForSuite,
} from "./bootstrapSupport";

/** This file's ports: 24300-24599 (cluster bus +10000). */
const BASE_PORT = 24300;

/** Stops a run at the `nth` time it reaches checkpoint `point`. */
function stopAt(point: string, nth = 1): (p: string) => boolean {
    let seen = 0;
    return (p) => p === point && ++seen === nth;
}

async function expectInterrupted(p: Promise<unknown>, point: string): Promise<void> {
    await assert.rejects(p, (e: unknown) => e instanceof Interrupted && e.point === point);
}

async function nodeTimeouts(nodes: { host: string; port: number }[]): Promise<number[]> {
    return Promise.all(
        nodes.map(async (n) =>
            Number(
                JSON.parse(
                    await rawCommand(n.host, n.port, ["CONFIG", "GET", "cluster-node-timeout"]),
                )[1],
            ),
        ),
    );
}

describe("slot bootstrap: resume", { timeout: 300_000 }, () => {
    // 4 per zone: 5 shards x 1 replica need up to 4 in one zone.
    const servers = serversForSuite({
        perZone: 4,
        basePort: BASE_PORT,
    });

    // Each stop leaves a different state: nothing done; epochs set on some nodes; slots on some primaries; nodes
    // met but no slots anywhere visible to all; replicas half attached; short node timeouts left behind.
    const createStops: [string, number][] = [
        ["prepare", 1],
        ["setConfigEpoch", 3],
        ["addSlots", 2],
        ["meet", 4],
        ["replicate", 2],
        ["pulse:hold", 1],
    ];
    for (const [point, nth] of createStops) {
        it(`finishes a create stopped at ${point} #${nth}`, async () => {
            const nodes = members(servers.nodes(), 3, 1);
            await resetAll(nodes);
            await expectInterrupted(run(nodes, 3, 1, { interrupt: stopAt(point, nth) }), point);
            const result = await run(nodes, 3, 1);
            await assertHealthy(nodes, undefined, 3);
            assert.deepEqual(result.drift, []);
            assert.deepEqual(
                await nodeTimeouts(nodes),
                nodes.map(() => NODE_TIMEOUT_MS),
                "node timeouts restored",
            );
            assert.equal((await run(nodes, 3, 1)).actions, 0, "a third run has nothing to do");
        });
    }

    it("finishes reshards stopped at every step of the slot-move protocol, losing no key", async () => {
        const nodes = servers.nodes();
        await resetAll(nodes);
        await run(nodes, 3, 1);
        const client = clusterClient(members(nodes, 3, 1));
        try {
            const values = await fill(client, 6000);
            // Alternate directions so that scale-out and drain (scale-in) are both interrupted.
            const stops: [string, number][] = [
                ["migrate:importing", 2],
                ["migrate:migrating", 3],
                ["migrate:keys", 4],
                ["migrate:node-target", 2],
                ["migrate:node-source", 3],
                ["migrate:node-others", 2],
            ];
            let shards = 3;
            for (const [point, nth] of stops) {
                const to = shards === 3 ? 5 : 3;
                await expectInterrupted(
                    run(nodes, to, 1, { interrupt: stopAt(point, nth), slotsPerBatch: 64 }),
                    point,
                );
                const result = await run(nodes, to, 1);
                shards = to;
                await assertHealthy(members(nodes, shards, 1), undefined, shards);
                assert.deepEqual(result.drift, [], `after ${point}`);
                assert.equal(await assertKeys(client, values), 6000, `keys after ${point}`);
                assert.equal(
                    await keysOnPrimaries(members(nodes, shards, 1)),
                    6000,
                    `no stray key copies after ${point}`,
                );
            }
        } finally {
            client.disconnect();
        }
    });

    it("completes slots left importing/migrating by hand (keys split between the two nodes)", async () => {
        const nodes = members(servers.nodes(), 3, 1);
        await resetAll(servers.nodes());
        const first = await run(nodes, 3, 1);
        const client = clusterClient(nodes);
        try {
            const values = await fill(client, 3000);
            const byId = new Map(nodes.map((n) => [n.id, n]));
            const vid = (id: string): string =>
                first.observation.nodes.find((o) => o.id === id)!.myId!;
            const [a, b] = [byId.get(first.shards[0].primary)!, byId.get(first.shards[1].primary)!];
            // A slot of shard 0 with 20 keys (one hash tag): half its keys moved to shard 1's primary, then the
            // mover "died".
            let tag = 0;
            while (keySlot(`t${tag}`) > 5000 || keySlot(`t${tag}`) === 200) tag++;
            const slot = keySlot(`t${tag}`);
            const keys = Array.from({ length: 20 }, (_, i) => `{t${tag}}:${i}`);
            for (const k of keys) {
                await client.set(k, `tagged-${k}`);
                values.set(k, `tagged-${k}`);
            }
            await rawCommand(b.host, b.port, [
                "CLUSTER",
                "SETSLOT",
                String(slot),
                "IMPORTING",
                vid(a.id),
            ]);
            await rawCommand(a.host, a.port, [
                "CLUSTER",
                "SETSLOT",
                String(slot),
                "MIGRATING",
                vid(b.id),
            ]);
            const half = keys.slice(0, Math.floor(keys.length / 2));
            await rawCommand(a.host, a.port, [
                "MIGRATE",
                b.host,
                String(b.port),
                "",
                "0",
                "5000",
                "KEYS",
                ...half,
            ]);
            // Slot 200 (shard 0, no keys needed): only the importing side was told.
            await rawCommand(b.host, b.port, ["CLUSTER", "SETSLOT", "200", "IMPORTING", vid(a.id)]);

            const result = await run(nodes, 3, 1);
            await assertHealthy(nodes, undefined, 3);
            assert.deepEqual(result.drift, []);
            assert.equal(await assertKeys(client, values), 3020);
            assert.equal(await keysOnPrimaries(nodes), 3020);
        } finally {
            client.disconnect();
        }
    });
});
