/**
 * Shared pieces of the slot-bootstrap integration tests: running the bootstrap against a set of real servers,
 * judging the result with `redis-cli --cluster check` and the replicas' link status, and writing/reading keys
 * through a cluster-aware client.
 */
import * as assert from "node:assert/strict";
import { after, before } from "node:test";
import {
    reconcile,
    ReconcileOptions,
    ReconcileResult,
} from "../../components/valkey/bootstrap/execute";
import { desiredTopology, NodeSpec } from "../../components/valkey/bootstrap/topology";
import {
    directTransport,
    NodeClient,
    Transport,
} from "../../components/valkey/bootstrap/transport";
import {
    ClusterServers,
    ClusterServersOptions,
    clusterCheck,
    rawCommand,
    replicasLinked,
    startClusterServers,
} from "../helpers/servers";

/** Node timeout of the test servers: small, so failure detection and rejoin delays stay short. */
export const NODE_TIMEOUT_MS = 1000;

/**
 * A test file's servers: started before its tests (with this suite's node timeout unless given) and stopped
 * after them. Call it inside `describe`; use the result inside the tests.
 */
export function serversForSuite(
    options: Omit<ClusterServersOptions, "nodeTimeoutMs"> & { nodeTimeoutMs?: number },
): ClusterServers {
    let set: ClusterServers | undefined;
    before(async () => {
        set = await startClusterServers({ nodeTimeoutMs: NODE_TIMEOUT_MS, ...options });
    });
    after(async () => {
        await set?.stopAll();
    });
    const started = (): ClusterServers => {
        if (!set) throw new Error("the suite's servers are not started yet");
        return set;
    };
    return {
        get servers() {
            return started().servers;
        },
        nodes: () => started().nodes(),
        server: (id) => started().server(id),
        grow: (perZone) => started().grow(perZone),
        stopAll: () => started().stopAll(),
    };
}

/** The nodes that have a role with `shards` x `replicasPerShard` (the cluster members once converged). */
export function members(nodes: NodeSpec[], shards: number, replicasPerShard: number): NodeSpec[] {
    return desiredTopology({ shards, replicasPerShard, nodes }).nodes.filter(
        (n) => n.role !== undefined,
    );
}

/** A log collector for the bootstrap's progress messages. */
export function collector(): { log: (m: string) => void; lines: string[] } {
    const lines: string[] = [];
    return { log: (m) => lines.push(m), lines };
}

/** Runs the bootstrap (the same `reconcile` the provider runs) with a fresh transport. */
export async function run(
    nodes: NodeSpec[],
    shards: number,
    replicasPerShard: number,
    options: Partial<ReconcileOptions> = {},
): Promise<ReconcileResult> {
    return runWatched(nodes, shards, replicasPerShard, (_, c) => c, options);
}

/**
 * `run` over a transport whose every connection passes through `watch` (to count or record commands, or to
 * refuse some the way a server would).
 */
export async function runWatched(
    nodes: NodeSpec[],
    shards: number,
    replicasPerShard: number,
    watch: (node: NodeSpec, client: NodeClient) => NodeClient,
    options: Partial<ReconcileOptions> = {},
): Promise<ReconcileResult> {
    const desired = desiredTopology({ shards, replicasPerShard, nodes });
    const inner = directTransport({ password: options.password });
    const transport: Transport = {
        client: async (node) => watch(node, await inner.client(node)),
        clients: async (node, n) => (await inner.clients!(node, n)).map((c) => watch(node, c)),
        close: () => inner.close(),
    };
    try {
        return await reconcile(desired, { nodeTimeoutMs: NODE_TIMEOUT_MS, ...options, transport });
    } finally {
        await transport.close();
    }
}

/**
 * Asserts a healthy cluster: `redis-cli --cluster check` passes (the independent judge), every replica reports
 * master_link_status:up, and every node reports cluster_state:ok.
 */
export async function assertHealthy(
    nodes: NodeSpec[],
    password?: string,
    replicas?: number,
): Promise<void> {
    const check = await clusterCheck(nodes[0].host, nodes[0].port, password);
    assert.ok(check.ok, `redis-cli --cluster check failed:\n${check.output}`);
    const linked = await replicasLinked(nodes, password);
    assert.ok(linked.ok, `replicas not linked: ${linked.problems.join("; ")}`);
    if (replicas !== undefined) assert.equal(linked.replicas, replicas, "replica count");
    for (const n of nodes) {
        const info = await rawCommand(n.host, n.port, ["CLUSTER", "INFO"], password);
        assert.match(info, /cluster_state:ok/, `${n.id} cluster_state`);
    }
}

/** Each node's CLUSTER NODES line about itself, minus the ping/pong times: a fingerprint of the cluster. */
export async function fingerprint(nodes: NodeSpec[], password?: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of nodes) {
        const text = await rawCommand(n.host, n.port, ["CLUSTER", "NODES"], password);
        for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
            const f = line.trim().split(" ");
            // id addr flags master [ping pong] epoch link slots...
            out.push(`${n.id}: ${[f[0], f[1], f[2], f[3], f[6], f[7], ...f.slice(8)].join(" ")}`);
        }
    }
    return out.sort();
}

/** Resets every node to a fresh, empty, unclustered state (new node ids), keeping the processes. */
export async function resetAll(nodes: NodeSpec[], password?: string): Promise<void> {
    await Promise.all(
        nodes.map(async (n) => {
            await rawCommand(n.host, n.port, ["FLUSHALL"], password).catch(() => undefined);
            await rawCommand(n.host, n.port, ["CLUSTER", "RESET", "HARD"], password);
            await rawCommand(
                n.host,
                n.port,
                ["CONFIG", "SET", "cluster-node-timeout", String(NODE_TIMEOUT_MS)],
                password,
            );
        }),
    );
}

type ClusterClient = import("iovalkey").Cluster;

/** A cluster-aware client (iovalkey Cluster) on the given nodes. */
export function clusterClient(nodes: NodeSpec[], password?: string): ClusterClient {
    const { Cluster } = require("iovalkey") as typeof import("iovalkey");
    return new Cluster(
        nodes.map((n) => ({ host: n.host, port: n.port })),
        {
            redisOptions: { password },
            slotsRefreshTimeout: 2000,
            retryDelayOnClusterDown: 100,
            retryDelayOnFailover: 100,
        },
    );
}

/** Writes `count` keys `key:<i>` spread over all slots; returns their values. */
export async function fill(
    client: ClusterClient,
    count: number,
    prefix = "key",
): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    const batch = 500;
    for (let i = 0; i < count; i += batch) {
        const writes: Promise<unknown>[] = [];
        for (let k = i; k < Math.min(count, i + batch); k++) {
            const key = `${prefix}:${k}`;
            const value = `v0-${k}`;
            values.set(key, value);
            writes.push(client.set(key, value));
        }
        await Promise.all(writes);
    }
    return values;
}

/** Asserts every key reads back its expected value; returns the number checked. */
export async function assertKeys(
    client: ClusterClient,
    values: Map<string, string>,
): Promise<number> {
    const entries = [...values];
    const wrong: string[] = [];
    for (let i = 0; i < entries.length; i += 500) {
        const chunk = entries.slice(i, i + 500);
        const got = await Promise.all(chunk.map(([k]) => client.get(k)));
        chunk.forEach(([k, v], j) => {
            if (got[j] !== v) wrong.push(`${k}: expected ${v}, got ${got[j]}`);
        });
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} keys wrong`);
    return entries.length;
}

/** The total number of keys held by primaries (DBSIZE summed over masters). */
export async function keysOnPrimaries(nodes: NodeSpec[], password?: string): Promise<number> {
    let total = 0;
    for (const n of nodes) {
        const role = await rawCommand(n.host, n.port, ["INFO", "replication"], password);
        if (/^role:master/m.test(role))
            total += Number(await rawCommand(n.host, n.port, ["DBSIZE"], password));
    }
    return total;
}
