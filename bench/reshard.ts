/**
 * Benchmark: adding a shard to a cluster holding 1,000,000 keys (100-byte values, spread over all slots), every
 * shard with one replica (the shape of every real stack: Valkey 8 holds each CLUSTER SETSLOT until the replicas
 * have it), the slot bootstrap vs the server's own CLI (`valkey-cli --cluster add-node` for the new primary and
 * its replica + `rebalance --cluster-use-empty-masters`), on identical datasets, one after the other on the same
 * machine. A cluster-aware writer (iovalkey Cluster) writes and reads back during each move. Reports keys and
 * slots moved per second, client errors, and checks no key is lost.
 *
 * One shard is added to five (5 -> 6): 3 -> 4 would break the quorum rule over three zones, which the bootstrap
 * refuses. Both clusters are formed the same way and loaded with the same keys.
 *
 * Run: node --import tsx bench/reshard.ts [--keys 1000000] [--replicas 1] [--bootstrap-only]; VALKEY_SERVER=redis-server
 * for Redis 7. `--bootstrap-only` skips the CLI's run (no ratio): for repeating the bootstrap's measurement.
 */
import { apply } from "../components/valkey/bootstrap/provider";
import { keySlot } from "../components/valkey/bootstrap/slots";
import {
    cliBinary,
    clusterCheck,
    ClusterServers,
    rawCommand,
    serverBinary,
    sleep,
    startClusterServers,
    TestNode,
} from "../test/helpers/servers";
import { desiredTopology } from "../components/valkey/bootstrap/topology";
import { DATA_ROOT, cli, ratio, since } from "./common";

const BASE_PORT = 27000;
const NODE_TIMEOUT_MS = 5000;

function arg(name: string, dflt: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
}

/** Writes `count` keys with 100-byte values straight to their owners, in pipelines. */
async function load(nodes: TestNode[], count: number): Promise<void> {
    const Redis = require("iovalkey") as typeof import("iovalkey").default;
    const owners = new Array<number>(16384);
    const clients = nodes.map((n) => new Redis({ host: n.host, port: n.port }));
    for (const [i, c] of clients.entries()) {
        const text = String(await c.call("CLUSTER", "NODES"));
        const me = text.split("\n").find((l) => l.includes("myself"))!;
        for (const r of me.trim().split(" ").slice(8)) {
            const [a, b] = r.split("-").map(Number);
            for (let s = a; s <= (b ?? a); s++) owners[s] = i;
        }
    }
    const value = "v".repeat(100);
    const batch = 20_000;
    for (let i = 0; i < count; i += batch) {
        const pipes = clients.map((c) => c.pipeline());
        for (let k = i; k < Math.min(count, i + batch); k++) {
            const key = `key:${k}`;
            pipes[owners[keySlot(key)]].set(key, value);
        }
        await Promise.all(pipes.map((p) => p.exec()));
    }
    for (const c of clients) c.disconnect();
}

async function keysOn(nodes: TestNode[]): Promise<number[]> {
    return Promise.all(
        nodes.map(async (n) => Number(await rawCommand(n.host, n.port, ["DBSIZE"]))),
    );
}

/** The cluster before the move: five shards formed by the bootstrap and loaded; the sixth shard's nodes empty. */
interface Prepared {
    servers: ClusterServers;
    all: TestNode[];
    /** Members of the five-shard cluster. */
    five: TestNode[];
    /** The sixth shard's primary and replicas (as the 6-shard layout places them). */
    sixth: { primary: TestNode; replicas: TestNode[] };
}

async function prepare(keys: number, replicas: number): Promise<Prepared> {
    const servers = await startClusterServers({
        // 6 shards x (1 + replicas) over three zones.
        perZone: 2 * (1 + replicas),
        basePort: BASE_PORT,
        nodeTimeoutMs: NODE_TIMEOUT_MS,
        dataRoot: DATA_ROOT,
        addressPerServer: true,
    });
    const all = servers.nodes();
    const roles = (shards: number) =>
        desiredTopology({ shards, replicasPerShard: replicas, nodes: all }).nodes.filter(
            (n) => n.role !== undefined,
        );
    const fiveIds = new Set(roles(5).map((n) => n.id));
    const five = all.filter((n) => fiveIds.has(n.id));
    const planned = desiredTopology({ shards: 6, replicasPerShard: replicas, nodes: all })
        .plannedShards[5];
    const byId = (id: string): TestNode => all.find((n) => n.id === id)!;
    const sixth = { primary: byId(planned.primary), replicas: planned.replicas.map(byId) };
    if ([sixth.primary, ...sixth.replicas].some((n) => fiveIds.has(n.id)))
        throw new Error("the sixth shard's nodes are members of the five-shard cluster");
    await apply({
        shards: 5,
        replicasPerShard: replicas,
        nodes: five,
        nodeTimeoutMs: NODE_TIMEOUT_MS,
    });
    const t0 = performance.now();
    await load(five, keys);
    console.log(`  loaded ${keys} keys in ${(since(t0) / 1000).toFixed(1)} s`);
    return { servers, all, five, sixth };
}

async function verify(nodes: TestNode[], keys: number, label: string): Promise<void> {
    const primaries: TestNode[] = [];
    for (const n of nodes) {
        const info = await rawCommand(n.host, n.port, ["INFO", "replication"]);
        if (/^role:master/m.test(info)) primaries.push(n);
    }
    const total = (await keysOn(primaries)).reduce((a, b) => a + b, 0);
    const check = await clusterCheck(nodes[0].host, nodes[0].port);
    if (total !== keys || !check.ok)
        throw new Error(
            `${label}: ${total} keys of ${keys}, check ${check.ok ? "ok" : "failed"}\n${check.output.slice(-1500)}`,
        );
}

/**
 * A cluster-aware application during the move: one iovalkey Cluster client writing `w:<n>` keys and reading
 * each back, one at a time (so a redirect or an error is seen per command). MOVED/ASK are followed by the client
 * and not errors; anything else is counted.
 */
function writer(nodes: TestNode[]): { stop: () => Promise<{ writes: number; errors: string[] }> } {
    const { Cluster } = require("iovalkey") as typeof import("iovalkey");
    const client = new Cluster(
        nodes.map((n) => ({ host: n.host, port: n.port })),
        { maxRedirections: 64, retryDelayOnMoved: 0, retryDelayOnClusterDown: 100 },
    );
    let running = true;
    let writes = 0;
    const errors: string[] = [];
    const done = (async () => {
        while (running) {
            const key = `w:${writes}`;
            try {
                await client.set(key, String(writes));
                const got = await client.get(key);
                if (got !== String(writes)) errors.push(`${key}: read ${got}`);
                writes++;
            } catch (e) {
                errors.push((e as Error).message);
                await sleep(5);
            }
        }
        // Every acknowledged write reads back after the move.
        for (let i = 0; i < writes; i += 500) {
            const keys = Array.from({ length: Math.min(500, writes - i) }, (_, k) => `w:${i + k}`);
            const got = await Promise.all(keys.map((k) => client.get(k)));
            got.forEach((v, k) => {
                if (v !== String(i + k)) errors.push(`w:${i + k} lost (read ${v})`);
            });
        }
        client.disconnect();
    })();
    return {
        async stop() {
            running = false;
            await done;
            return { writes, errors };
        },
    };
}

/** Waits until every node knows every one of `ids` as a full member (handshake done). */
async function waitKnown(nodes: TestNode[], ids: string[]): Promise<void> {
    for (;;) {
        const views = await Promise.all(
            nodes.map((n) => rawCommand(n.host, n.port, ["CLUSTER", "NODES"])),
        );
        const known = views.every((v) =>
            ids.every((id) =>
                v.split("\n").some((l) => l.startsWith(id) && !l.includes("handshake")),
            ),
        );
        if (known) return;
        await sleep(20);
    }
}

/** The dataset's keys on a node (the writer's `w:` keys left out). */
async function datasetKeys(n: TestNode): Promise<number> {
    const total = Number(await rawCommand(n.host, n.port, ["DBSIZE"]));
    const writerKeys = JSON.parse(await rawCommand(n.host, n.port, ["KEYS", "w:*"])) as string[];
    return total - writerKeys.length;
}

interface Result {
    label: string;
    ms: number;
    moved: number;
    slots: number;
    transferMs: number;
    writes: number;
    errors: string[];
}

async function slotsOf(n: TestNode): Promise<number> {
    const text = await rawCommand(n.host, n.port, ["CLUSTER", "NODES"]);
    const me = text.split("\n").find((l) => l.includes("myself"))!;
    return me
        .trim()
        .split(" ")
        .slice(8)
        .filter((r) => !r.startsWith("["))
        .reduce((sum, r) => {
            const [a, b] = r.split("-").map(Number);
            return sum + (b ?? a) - a + 1;
        }, 0);
}

async function main(): Promise<void> {
    const keys = Number(arg("keys", "1000000"));
    const replicas = Number(arg("replicas", "1"));
    const results: Result[] = [];
    const bootstrapOnly = process.argv.includes("--bootstrap-only");

    {
        const { servers, all, five, sixth } = await prepare(keys, replicas);
        try {
            const members = [...five, sixth.primary, ...sixth.replicas];
            const w = writer(five);
            const t0 = performance.now();
            let last = "";
            let moveStart = 0;
            let moveEnd = 0;
            const out = await apply(
                {
                    shards: 6,
                    replicasPerShard: replicas,
                    nodes: members,
                    nodeTimeoutMs: NODE_TIMEOUT_MS,
                },
                (m) => {
                    if (m.startsWith("rebalance: moving ") && !moveStart)
                        moveStart = performance.now();
                    if (/^rebalance: (\d+)\/\1 slots moved/.test(m)) moveEnd = performance.now();
                    if (m.startsWith("rebalance:") && m !== last) console.log(`    ${m}`);
                    last = m;
                },
            );
            const ms = since(t0);
            const { writes, errors } = await w.stop();
            const moved = await datasetKeys(sixth.primary);
            await verify(members, keys + writes, "bootstrap");
            if (out.clusterState !== "ok") throw new Error(`bootstrap: ${out.clusterState}`);
            const slots = await slotsOf(sixth.primary);
            results.push({
                label: "bootstrap",
                ms,
                moved,
                slots,
                transferMs: moveEnd - moveStart,
                writes,
                errors,
            });
            console.log(
                `  bootstrap: ${moved} keys, ${slots} slots to the new shard in ${(ms / 1000).toFixed(2)} s (${((moveEnd - moveStart) / 1000).toFixed(2)} s moving: ${(slots / ((moveEnd - moveStart) / 1000)).toFixed(0)} slots/s), writer: ${writes} writes, ${errors.length} errors`,
            );
        } finally {
            await servers.stopAll();
        }
        void all;
    }
    if (bootstrapOnly) return;
    {
        const { servers, five, sixth } = await prepare(keys, replicas);
        try {
            const members = [...five, sixth.primary, ...sixth.replicas];
            const seed = `${five[0].host}:${five[0].port}`;
            const w = writer(five);
            const t0 = performance.now();
            await cli([
                "--cluster",
                "add-node",
                `${sixth.primary.host}:${sixth.primary.port}`,
                seed,
            ]);
            const primaryId = await rawCommand(sixth.primary.host, sixth.primary.port, [
                "CLUSTER",
                "MYID",
            ]);
            // add-node checks that every node agrees and looks the primary up: wait until every node knows it.
            await waitKnown([...five, sixth.primary], [primaryId]);
            for (const r of sixth.replicas) {
                await cli([
                    "--cluster",
                    "add-node",
                    `${r.host}:${r.port}`,
                    seed,
                    "--cluster-slave",
                    "--cluster-master-id",
                    primaryId,
                ]);
            }
            // rebalance right after add-node fails with "I don't know about node" until every node knows the new
            // ones, and with CLUSTERDOWN from the new primary until it reports cluster_state:ok: wait for both.
            const newIds = await Promise.all(
                [sixth.primary, ...sixth.replicas].map((n) =>
                    rawCommand(n.host, n.port, ["CLUSTER", "MYID"]),
                ),
            );
            await waitKnown(members, newIds);
            while (
                !/cluster_state:ok/.test(
                    await rawCommand(sixth.primary.host, sixth.primary.port, ["CLUSTER", "INFO"]),
                )
            )
                await sleep(20);
            const t1 = performance.now();
            await cli(["--cluster", "rebalance", seed, "--cluster-use-empty-masters"]);
            const ms = since(t0);
            const transferMs = since(t1);
            const { writes, errors } = await w.stop();
            const moved = await datasetKeys(sixth.primary);
            await verify(members, keys + writes, "cli");
            const slots = await slotsOf(sixth.primary);
            results.push({ label: "cli", ms, moved, slots, transferMs, writes, errors });
            console.log(
                `  ${cliBinary()}: ${moved} keys, ${slots} slots to the new shard in ${(ms / 1000).toFixed(2)} s (${(transferMs / 1000).toFixed(2)} s rebalancing), writer: ${writes} writes, ${errors.length} errors`,
            );
        } finally {
            await servers.stopAll();
        }
    }
    const [a, b] = results;
    const rate = (r: Result): number => r.moved / (r.ms / 1000);
    const transfer = (r: Result): number => r.moved / (r.transferMs / 1000);
    const slotRate = (r: Result): number => r.slots / (r.transferMs / 1000);
    console.log(
        `\nadd a shard (5 -> 6 primaries, ${replicas} replica(s) per shard, ${keys} keys of 100 bytes) on ${serverBinary()}, side by side with ${cliBinary()}:`,
    );
    console.log(
        `  end to end (join the new nodes, move slots, converge): bootstrap ${rate(a).toFixed(0)} keys/s, ${cliBinary()} ${rate(b).toFixed(0)} keys/s, ratio ${ratio(rate(a), rate(b))} (target >= 5)`,
    );
    console.log(
        `  slot moves only (bootstrap's migrate step vs rebalance): bootstrap ${transfer(a).toFixed(0)} keys/s and ${slotRate(a).toFixed(0)} slots/s (target >= 2000), ${cliBinary()} ${transfer(b).toFixed(0)} keys/s and ${slotRate(b).toFixed(0)} slots/s, ratio ${ratio(transfer(a), transfer(b))}`,
    );
    console.log(
        `  writer during the move: bootstrap ${a.writes} writes, ${a.errors.length} errors${a.errors.length ? ` (${a.errors.slice(0, 3).join("; ")})` : ""}; ${cliBinary()} ${b.writes} writes, ${b.errors.length} errors${b.errors.length ? ` (${b.errors.slice(0, 3).join("; ")})` : ""}`,
    );
    console.log(
        `  lost keys: 0 / 0 (DBSIZE over all primaries equals the keys loaded plus the writer's, every writer key read back, ${cliBinary()} --cluster check passes)`,
    );
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
