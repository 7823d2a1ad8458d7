/**
 * Healing on real servers: after a primary is killed and its replica takes over, the provider's read/diff report
 * the drift (quorum broken, placement off the plan) and update restores the planned placement with CLUSTER
 * FAILOVER; after every node restarts on a new port the cluster re-forms with the same node ids and slots; a
 * node that joined from outside the plan is reported and forgotten.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    valkeySlotsProvider,
    ValkeySlotsOutputs,
} from "../../components/valkey/bootstrap/provider";
import {
    killServer,
    rawCommand,
    restartServer,
    sleep,
    startServer,
    stopServer,
    zoneAddress,
} from "../helpers/servers";
import { assertHealthy, NODE_TIMEOUT_MS, run, serversForSuite } from "./bootstrapSupport";

/** This file's ports: 24900-25199 (cluster bus +10000). */
const BASE_PORT = 24900;

async function waitFor(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

describe("slot bootstrap: heal", { timeout: 240_000 }, () => {
    const servers = serversForSuite({
        perZone: 2,
        basePort: BASE_PORT,
    });

    const inputs = () => ({
        shards: 3,
        replicasPerShard: 1,
        nodes: servers.nodes(),
        nodeTimeoutMs: NODE_TIMEOUT_MS,
    });

    it("restores the planned placement after a primary dies and its replica takes over", async () => {
        const created = (await valkeySlotsProvider.create!(inputs())).outs as ValkeySlotsOutputs;
        const shard0 = created.topology[0];
        assert.equal(shard0.primary.zone, "zone-a");
        const replica = servers.nodes().find((n) => n.id === shard0.replicas[0].id)!;

        await killServer(servers.server(shard0.primary.id));
        await waitFor("the replica to take over", 20_000, async () =>
            /role:master/.test(
                await rawCommand(replica.host, replica.port, ["INFO", "replication"]),
            ),
        );
        // The old primary comes back (same node id) and rejoins as a replica of the new one.
        await restartServer(servers.server(shard0.primary.id));

        const read = (await valkeySlotsProvider.read!(created.topology[0].primary.id, created))
            .props as ValkeySlotsOutputs;
        assert.ok(
            read.drift.includes(`shard 0 is served by ${replica.id}, planned ${shard0.primary.id}`),
            read.drift.join("\n"),
        );
        assert.ok(
            read.drift.includes("quorum broken: zone zone-b holds 2 of 3 primaries"),
            read.drift.join("\n"),
        );
        assert.equal(read.topology[0].primary.id, replica.id);
        const diff = await valkeySlotsProvider.diff!("id", read, inputs());
        assert.equal(diff.changes, true, "diff reports the drift as a change");
        assert.deepEqual(diff.replaces, []);
        const checked = await valkeySlotsProvider.check!(created, inputs());
        assert.ok(
            (checked.inputs.drift as string[]).length > 0,
            "check carries the live drift into the preview",
        );

        const updated = (await valkeySlotsProvider.update!("id", read, inputs()))
            .outs as ValkeySlotsOutputs;
        assert.equal(updated.topology[0].primary.id, shard0.primary.id);
        assert.deepEqual(updated.drift, []);
        assert.equal(updated.clusterState, "ok");
        await assertHealthy(servers.nodes(), undefined, 3);
        assert.equal((await valkeySlotsProvider.diff!("id", updated, inputs())).changes, false);
    });

    it("re-forms the cluster after every node restarts on a new port, keeping node ids and slots", async () => {
        const before = await run(servers.nodes(), 3, 1);
        const ids = new Map(before.observation.nodes.map((o) => [o.id, o.myId]));
        // All down first, so that no node can follow another's move: only new MEETs can rejoin them.
        await Promise.all(servers.servers.map((s) => killServer(s)));
        await Promise.all(servers.servers.map((s) => restartServer(s, { port: s.port + 50 })));

        const after = await run(servers.nodes(), 3, 1);
        await assertHealthy(servers.nodes(), undefined, 3);
        assert.deepEqual(
            new Map(after.observation.nodes.map((o) => [o.id, o.myId])),
            ids,
            "same Valkey node ids",
        );
        assert.deepEqual(
            after.shards.map((s) => [s.primary, s.slots]),
            before.shards.map((s) => [s.primary, s.slots]),
        );
        for (const n of servers.nodes()) {
            const nodesText = await rawCommand(n.host, n.port, ["CLUSTER", "NODES"]);
            assert.doesNotMatch(
                nodesText,
                new RegExp(`:${n.port - 50}@`),
                `${n.id} still lists an old address`,
            );
        }
    });

    it("reports a member that is not in nodes as a node that left, and forgets it", async () => {
        const stranger = await startServer({
            host: zoneAddress(0),
            port: BASE_PORT + 90,
            nodeTimeoutMs: NODE_TIMEOUT_MS,
        });
        try {
            const nodes = servers.nodes();
            await rawCommand(nodes[0].host, nodes[0].port, [
                "CLUSTER",
                "MEET",
                stranger.host,
                String(stranger.port),
            ]);
            const strangerId = await rawCommand(stranger.host, stranger.port, ["CLUSTER", "MYID"]);
            await waitFor("the stranger to be known", 10_000, async () =>
                (await rawCommand(nodes[1].host, nodes[1].port, ["CLUSTER", "NODES"])).includes(
                    strangerId,
                ),
            );
            const read = (
                await valkeySlotsProvider.read!("id", {
                    ...inputs(),
                    drift: [],
                } as unknown as ValkeySlotsOutputs)
            ).props as ValkeySlotsOutputs;
            assert.ok(
                read.drift.some(
                    (d) =>
                        d.includes(
                            `node ${strangerId.slice(0, 8)} at ${stranger.host}:${stranger.port}`,
                        ) && d.includes("a node that left"),
                ),
                read.drift.join("\n"),
            );
            // The stranger must not re-introduce itself: it is reset by hand here, as a departed pod would be gone.
            await rawCommand(stranger.host, stranger.port, ["CLUSTER", "RESET", "HARD"]);
            const healed = await run(nodes, 3, 1);
            assert.deepEqual(healed.drift, []);
            for (const n of nodes) {
                assert.ok(
                    !(await rawCommand(n.host, n.port, ["CLUSTER", "NODES"])).includes(strangerId),
                    `${n.id} forgot it`,
                );
            }
            await assertHealthy(nodes, undefined, 3);
        } finally {
            await stopServer(stranger);
        }
    });
});
