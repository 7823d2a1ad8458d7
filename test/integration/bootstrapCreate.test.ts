/**
 * The slot bootstrap forms clusters on real servers: 3 shards x 1 replica and 5 x 2 over three simulated zones,
 * judged by `redis-cli --cluster check` and the replicas' link status; a second run changes nothing.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { quorumOffenders } from "../../components/valkey/layout";
import { reconcile } from "../../components/valkey/bootstrap/execute";
import { balancedRanges } from "../../components/valkey/bootstrap/slots";
import { desiredTopology } from "../../components/valkey/bootstrap/topology";
import { directTransport, Transport } from "../../components/valkey/bootstrap/transport";
import { rawCommand } from "../helpers/servers";
import {
    assertHealthy,
    collector,
    fingerprint,
    members,
    resetAll,
    run,
    serversForSuite,
} from "./bootstrapSupport";

/** This file's ports: 24000-24299 (cluster bus +10000). */
const BASE_PORT = 24000;

describe("slot bootstrap: create", { timeout: 180_000 }, () => {
    // 5 per zone: enough for 5 shards x 2 replicas (15 nodes); the 3x1 case uses the first 2 of each zone.
    const servers = serversForSuite({
        perZone: 5,
        basePort: BASE_PORT,
    });

    it("creates 3 shards x 1 replica with every replica in another zone, and a second run is a no-op", async () => {
        const nodes = servers.nodes().filter((n) => Number(n.id.split("-").pop()) < 2);
        const log = collector();
        const result = await run(nodes, 3, 1, { log: log.log });

        await assertHealthy(nodes, undefined, 3);
        const ranges = balancedRanges(3);
        const zone = (id: string): string => nodes.find((n) => n.id === id)!.zone;
        assert.equal(result.shards.length, 3);
        result.shards.forEach((s, i) => {
            assert.deepEqual(s.slots, [ranges[i]], `shard ${i} slots`);
            assert.equal(s.replicas.length, 1);
            assert.notEqual(
                zone(s.replicas[0]),
                zone(s.primary),
                `shard ${i} replica shares its primary's zone`,
            );
        });
        assert.deepEqual(
            quorumOffenders(
                result.shards.map((s) => zone(s.primary)),
                ["zone-a", "zone-b", "zone-c"],
            ),
            [],
        );
        assert.deepEqual(result.drift, []);
        assert.ok(
            log.lines.some((l) => l.startsWith("prepare:")),
            log.lines.join("\n"),
        );

        // Idempotent: nothing to do, nothing changes (config epochs, roles, slots).
        const before = await fingerprint(nodes);
        const again = collector();
        const second = await run(nodes, 3, 1, { log: again.log });
        assert.equal(second.actions, 0, again.lines.join("\n"));
        assert.deepEqual(again.lines, []);
        assert.deepEqual(await fingerprint(nodes), before);
        await assertHealthy(nodes, undefined, 3);
    });

    it("creates 5 shards x 2 replicas: every copy of a shard in its own zone, no zone with half the primaries", async () => {
        const nodes = servers.nodes();
        await resetAll(nodes);
        const result = await run(nodes, 5, 2);

        await assertHealthy(members(nodes, 5, 2), undefined, 10);
        const zone = (id: string): string => nodes.find((n) => n.id === id)!.zone;
        assert.equal(result.shards.length, 5);
        for (const s of result.shards) {
            const zones = [s.primary, ...s.replicas].map(zone);
            assert.equal(
                new Set(zones).size,
                3,
                `shard ${s.shard} copies in zones ${zones.join(", ")}`,
            );
        }
        assert.deepEqual(
            quorumOffenders(
                result.shards.map((s) => zone(s.primary)),
                ["zone-a", "zone-b", "zone-c"],
            ),
            [],
        );
        assert.deepEqual(
            result.shards.map((s) => s.slots),
            balancedRanges(5).map((r) => [r]),
        );
        const again = await run(nodes, 5, 2);
        assert.equal(again.actions, 0);
    });

    // Without nodeTimeoutMs the bootstrap reads the servers' configured timeout: a caller that passes only shards,
    // replicasPerShard and nodes gets the same fast formation.
    for (const given of [true, false]) {
        it(`pulses the node timeout of at most half the primaries at once, and leaves every node with the configured one (${given ? "timeout given" : "timeout read from the servers"})`, async () => {
            const nodes = servers.nodes();
            await resetAll(nodes);
            // The platform's node timeout: its 5 s rejoin delay leaves every primary to the pulses, however slow the
            // machine (with this file's 1 s one, a slow formation could see primaries report ok without one).
            const configured = 5000;
            await Promise.all(
                nodes.map((n) =>
                    rawCommand(n.host, n.port, [
                        "CONFIG",
                        "SET",
                        "cluster-node-timeout",
                        String(configured),
                    ]),
                ),
            );
            // Every CONFIG SET cluster-node-timeout the bootstrap sends to the real servers: when it was sent, when
            // the server answered, to which node, with which value.
            const sets: { node: string; ms: number; sent: number; done: number }[] = [];
            const direct = directTransport();
            const transport: Transport = {
                async client(node) {
                    const c = await direct.client(node);
                    return {
                        ...c,
                        async call(command) {
                            const timeout =
                                String(command[0]).toUpperCase() === "CONFIG" &&
                                String(command[2]) === "cluster-node-timeout";
                            const sent = performance.now();
                            const r = await c.call(command);
                            if (timeout)
                                sets.push({
                                    node: node.id,
                                    ms: Number(command[3]),
                                    sent,
                                    done: performance.now(),
                                });
                            return r;
                        },
                    };
                },
                close: () => direct.close(),
            };
            const desired = desiredTopology({ shards: 5, replicasPerShard: 2, nodes });
            let result;
            try {
                result = await reconcile(desired, {
                    transport,
                    nodeTimeoutMs: given ? configured : undefined,
                });
            } finally {
                await transport.close();
            }
            await assertHealthy(members(nodes, 5, 2), undefined, 10);

            // A primary holds a short timeout from the moment the short value is sent until the configured one is
            // acknowledged: those windows may overlap for at most floor(5 / 2) = 2 primaries at any time.
            const primaries = new Set(result.shards.map((s) => s.primary));
            const windows: { node: string; from: number; to: number }[] = [];
            for (const s of sets.filter((x) => x.ms < configured)) {
                const restore = sets.find(
                    (x) => x.node === s.node && x.ms === configured && x.sent >= s.done,
                );
                assert.ok(restore, `${s.node}: short node timeout never restored`);
                windows.push({ node: s.node, from: s.sent, to: restore.done });
            }
            const pulsed = windows.filter((w) => primaries.has(w.node));
            assert.ok(pulsed.length >= 5, `expected a pulse per primary, saw ${pulsed.length}`);
            for (const w of pulsed) {
                const together = pulsed.filter((x) => x.from <= w.from && x.to > w.from);
                assert.ok(
                    together.length <= 2,
                    `${together.length} primaries held a short node timeout at once: ${together.map((x) => x.node).join(", ")}`,
                );
            }
            for (const n of members(nodes, 5, 2)) {
                const got = await rawCommand(n.host, n.port, [
                    "CONFIG",
                    "GET",
                    "cluster-node-timeout",
                ]);
                assert.match(got, new RegExp(`\\b${configured}\\b`), `${n.id} node timeout`);
            }
            await resetAll(nodes);
        });
    }
});
