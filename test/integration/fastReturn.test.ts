/**
 * A primary that comes back before its shard failed over (its node restarted within the node timeout): without
 * care it serves its older dataset again (the last RDB snapshot, or nothing without persistence), its replica
 * resyncs from it, and writes the replica had acknowledged (WAIT 1) are gone. Seen on the real Kubernetes cluster
 * with persistence rdb: 1,000 of 3,000 WAIT-acknowledged writes lost.
 *
 * Each case first reproduces the loss with a plain restart (the control), then restarts the same way through the
 * pod's start.sh, which holds a node that stopped as a primary until its replica has taken over: nothing is lost
 * and the node rejoins as the replica. Real servers, judged by reading every acknowledged key back.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { keySlot } from "../../components/valkey/bootstrap/slots";
import { startScript } from "../../components/valkey/conf";
import { rawCommand, restartServer, type Server, sleep } from "../helpers/servers";
import {
    assertHealthy,
    members,
    NODE_TIMEOUT_MS,
    resetAll,
    run,
    serversForSuite,
} from "./bootstrapSupport";

const BASE_PORT = 25600;
const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "valkey-start-")), "start.sh");
fs.writeFileSync(script, startScript({ tls: false, nodeTimeoutMs: NODE_TIMEOUT_MS }));

type Iovalkey = typeof import("iovalkey").default;

/** Writes `count` keys of the slots `[from, to]` straight to `primary`, each acknowledged by a replica (WAIT 1). */
async function writeAcknowledged(
    primary: Server,
    from: number,
    to: number,
    count: number,
    tag: string,
): Promise<string[]> {
    const Redis = require("iovalkey") as Iovalkey;
    const c = new Redis({ host: primary.host, port: primary.port });
    const keys: string[] = [];
    try {
        for (let i = 0; keys.length < count; i++) {
            const key = `${tag}:${i}`;
            const slot = keySlot(key);
            if (slot < from || slot > to) continue;
            await c.set(key, `v-${key}`);
            keys.push(key);
        }
        assert.equal(
            Number(await c.call("WAIT", "1", "2000")),
            1,
            "a replica acknowledged the writes",
        );
    } finally {
        c.disconnect();
    }
    return keys;
}

/** The keys that do not read back from the cluster (through a cluster-aware client). */
async function lost(seeds: Server[], keys: string[]): Promise<string[]> {
    const { Cluster } = require("iovalkey") as typeof import("iovalkey");
    const c = new Cluster(
        seeds.map((s) => ({ host: s.host, port: s.port })),
        { retryDelayOnClusterDown: 100 },
    );
    try {
        const got = await Promise.all(keys.map((k) => c.get(k)));
        return keys.filter((k, i) => got[i] !== `v-${k}`);
    } finally {
        c.disconnect();
    }
}

async function role(s: Server): Promise<string> {
    return /^role:(\w+)/m.exec(await rawCommand(s.host, s.port, ["INFO", "replication"]))![1];
}

async function untilHealthy(nodes: Server[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
        try {
            await assertHealthy(
                nodes.map((n, i) => ({ id: `n${i}`, host: n.host, port: n.port, zone: "" })),
                undefined,
                3,
            );
            return;
        } catch (e) {
            if (Date.now() > deadline) throw e;
            await sleep(250);
        }
    }
}

describe("a primary back before its failover", { timeout: 240_000 }, () => {
    const servers = serversForSuite({ perZone: 2, basePort: BASE_PORT });

    for (const persistence of ["rdb", "none"] as const) {
        for (const through of ["plain restart (the hazard)", "start.sh"] as const) {
            it(`persistence ${persistence}, ${through}`, async () => {
                const nodes = members(servers.nodes(), 3, 1);
                await resetAll(servers.nodes());
                const formed = await run(nodes, 3, 1);
                const byId = new Map(
                    nodes.map((n) => [
                        n.id,
                        servers.servers[servers.nodes().findIndex((x) => x.id === n.id)],
                    ]),
                );
                const shard = formed.shards[0];
                const primary = byId.get(shard.primary)!;
                const replica = byId.get(shard.replicas[0])!;
                const [from, to] = shard.slots[0];
                // No snapshot of an earlier case: this one's "last snapshot" is its own.
                fs.rmSync(path.join(primary.dir, "dump.rdb"), { force: true });
                const before = await writeAcknowledged(primary, from, to, 300, `a-${persistence}`);
                if (persistence === "rdb") await rawCommand(primary.host, primary.port, ["SAVE"]);
                const after = await writeAcknowledged(primary, from, to, 300, `b-${persistence}`);

                // The node is lost and back at once (SIGKILL: nothing saved since).
                if (through === "start.sh") {
                    await restartServer(primary, {
                        via: {
                            command: "sh",
                            args: [script],
                            env: { DATA_DIR: primary.dir },
                            timeoutMs: 60_000,
                        },
                    });
                } else {
                    await restartServer(primary);
                }
                const all = [...byId.values()];
                await untilHealthy(all);
                const missing = await lost(all, [...before, ...after]);
                if (through === "start.sh") {
                    assert.deepEqual(missing, [], "every acknowledged write reads back");
                    assert.equal(await role(replica), "master", "the replica took over");
                    assert.equal(
                        await role(primary),
                        "slave",
                        "the returning node rejoined as its replica",
                    );
                } else {
                    // The control: the loss that start.sh prevents really happens without it.
                    assert.ok(
                        missing.length >= after.length,
                        `a plain restart lost ${missing.length} acknowledged writes`,
                    );
                    assert.equal(await role(primary), "master");
                }
            });
        }
    }
});
