/**
 * Benchmark: adding a shard to a cluster holding 1,000,000 keys (100-byte values, spread over all slots), the
 * slot bootstrap vs `redis-cli --cluster add-node` + `rebalance --cluster-use-empty-masters`, on identical
 * datasets, one after the other on the same machine. Reports keys moved per second and checks no key is lost.
 *
 * One shard is added to five (5 -> 6): 3 -> 4 would break the quorum rule over three zones, which the bootstrap
 * refuses. Both clusters are formed the same way and loaded with the same keys.
 *
 * Run: node --import tsx bench/reshard.ts [--keys 1000000]
 */
import { apply } from "../components/valkey/bootstrap/provider";
import { keySlot } from "../components/valkey/bootstrap/slots";
import {
    clusterCheck,
    ClusterServers,
    rawCommand,
    sleep,
    startClusterServers,
    TestNode,
} from "../test/helpers/servers";
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

/** Five primaries formed by the bootstrap, loaded with the dataset; the sixth node started, empty. */
async function prepare(
    keys: number,
): Promise<{ servers: ClusterServers; five: TestNode[]; sixth: TestNode; all: TestNode[] }> {
    const servers = await startClusterServers({
        perZone: 2,
        basePort: BASE_PORT,
        nodeTimeoutMs: NODE_TIMEOUT_MS,
        dataRoot: DATA_ROOT,
    });
    const all = servers.nodes();
    // 6 shards x 0 replicas over 3 zones use 2 nodes per zone; 5 shards use all but the last of zone c's.
    const five = all.filter((n) => n.id !== "valkey-zone-c-1");
    const sixth = all.find((n) => n.id === "valkey-zone-c-1")!;
    await apply({ shards: 5, replicasPerShard: 0, nodes: all, nodeTimeoutMs: NODE_TIMEOUT_MS });
    const t0 = performance.now();
    await load(five, keys);
    console.log(`  loaded ${keys} keys in ${(since(t0) / 1000).toFixed(1)} s`);
    return { servers, five, sixth, all };
}

async function verify(nodes: TestNode[], keys: number, label: string): Promise<void> {
    const total = (await keysOn(nodes)).reduce((a, b) => a + b, 0);
    const check = await clusterCheck(nodes[0].host, nodes[0].port);
    if (total !== keys || !check.ok)
        throw new Error(
            `${label}: ${total} keys of ${keys}, check ${check.ok ? "ok" : "failed"}\n${check.output.slice(-1500)}`,
        );
}

async function main(): Promise<void> {
    const keys = Number(arg("keys", "1000000"));
    const results: { label: string; ms: number; moved: number; transferMs: number }[] = [];

    {
        const { servers, all, sixth } = await prepare(keys);
        try {
            const t0 = performance.now();
            let last = "";
            let moveStart = 0;
            let moveEnd = 0;
            const out = await apply(
                { shards: 6, replicasPerShard: 0, nodes: all, nodeTimeoutMs: NODE_TIMEOUT_MS },
                (m) => {
                    if (m.startsWith("rebalance: moving ") && !moveStart)
                        moveStart = performance.now();
                    if (/^rebalance: (\d+)\/\1 slots moved/.test(m)) moveEnd = performance.now();
                    if (m.startsWith("rebalance:") && m !== last) console.log(`    ${m}`);
                    last = m;
                },
            );
            const ms = since(t0);
            const moved = Number(await rawCommand(sixth.host, sixth.port, ["DBSIZE"]));
            await verify(all, keys, "bootstrap");
            if (out.clusterState !== "ok") throw new Error(`bootstrap: ${out.clusterState}`);
            results.push({ label: "bootstrap", ms, moved, transferMs: moveEnd - moveStart });
            console.log(
                `  bootstrap: ${moved} keys to the new shard in ${(ms / 1000).toFixed(2)} s, ${(moved / (ms / 1000)).toFixed(0)} keys/s, 0 lost`,
            );
        } finally {
            await servers.stopAll();
        }
    }
    {
        const { servers, five, sixth, all } = await prepare(keys);
        try {
            const t0 = performance.now();
            await cli([
                "--cluster",
                "add-node",
                `${sixth.host}:${sixth.port}`,
                `${five[0].host}:${five[0].port}`,
            ]);
            // rebalance right after add-node fails with "I don't know about node" until every node knows the new one,
            // and with CLUSTERDOWN from the new node until it reports cluster_state:ok: wait for both.
            const sixthId = await rawCommand(sixth.host, sixth.port, ["CLUSTER", "MYID"]);
            for (;;) {
                const views = await Promise.all(
                    five.map((n) => rawCommand(n.host, n.port, ["CLUSTER", "NODES"])),
                );
                const known = views.every((v) =>
                    v.split("\n").some((l) => l.startsWith(sixthId) && !l.includes("handshake")),
                );
                if (
                    known &&
                    /cluster_state:ok/.test(
                        await rawCommand(sixth.host, sixth.port, ["CLUSTER", "INFO"]),
                    )
                )
                    break;
                await sleep(20);
            }
            const t1 = performance.now();
            await cli([
                "--cluster",
                "rebalance",
                `${five[0].host}:${five[0].port}`,
                "--cluster-use-empty-masters",
            ]);
            const ms = since(t0);
            const transferMs = since(t1);
            const moved = Number(await rawCommand(sixth.host, sixth.port, ["DBSIZE"]));
            await verify(all, keys, "redis-cli");
            results.push({ label: "redis-cli", ms, moved, transferMs });
            console.log(
                `  redis-cli: ${moved} keys to the new shard in ${(ms / 1000).toFixed(2)} s, ${(moved / (ms / 1000)).toFixed(0)} keys/s, 0 lost`,
            );
        } finally {
            await servers.stopAll();
        }
    }
    const [a, b] = results;
    const rate = (r: { ms: number; moved: number }): number => r.moved / (r.ms / 1000);
    console.log(
        `\nadd a shard (5 -> 6 primaries, ${keys} keys of 100 bytes), keys moved per second:`,
    );
    const transfer = (r: { transferMs: number; moved: number }): number =>
        r.moved / (r.transferMs / 1000);
    console.log(
        `  end to end (join the new node, move slots, converge): bootstrap ${rate(a).toFixed(0)} keys/s, redis-cli ${rate(b).toFixed(0)} keys/s, ratio ${ratio(rate(a), rate(b))} (target >= 3)`,
    );
    console.log(
        `  slot moves only (bootstrap's migrate step vs redis-cli rebalance): bootstrap ${transfer(a).toFixed(0)} keys/s, redis-cli ${transfer(b).toFixed(0)} keys/s, ratio ${ratio(transfer(a), transfer(b))}`,
    );
    console.log(
        `  lost keys: 0 / 0 (DBSIZE over all primaries equals the keys loaded, redis-cli --cluster check passes)`,
    );
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
