/**
 * Benchmark: forming a cluster until cluster_state:ok on every node (and every replica linked), the slot
 * bootstrap vs `redis-cli --cluster create`, for 3x1 (6 nodes) and 30x1 (60 nodes), side by side on the same
 * machine in one run, from servers that have been up for a few seconds.
 *
 * Run: node --import tsx bench/bootstrap.ts [--rounds N] [--sizes 3,30]
 */
import * as os from "node:os";
import { apply } from "../components/valkey/bootstrap/provider";
import {
    cliBinary,
    serverBinary,
    clusterCheck,
    replicasLinked,
    sleep,
    startClusterServers,
    TestNode,
} from "../test/helpers/servers";
import { DATA_ROOT, cli, median, ratio, since, waitClusterOk } from "./common";

const BASE_PORT = 26000;
/** The platform default node timeout (components/config.ts), for both contenders. */
const NODE_TIMEOUT_MS = 5000;
/** Time the servers are up before the clock starts (past the server's 2 s writable delay). */
const WARM_MS = 3000;

function arg(name: string, dflt: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
}

async function withServers<T>(shards: number, fn: (nodes: TestNode[]) => Promise<T>): Promise<T> {
    // 2 x shards nodes over 3 zones.
    const set = await startClusterServers({
        perZone: (2 * shards) / 3,
        basePort: BASE_PORT,
        nodeTimeoutMs: NODE_TIMEOUT_MS,
        dataRoot: DATA_ROOT,
        // One address per server, as pods have: with one per zone, the TIME_WAIT sockets the previous rounds'
        // killed servers leave make every new link's source-port search cost kernel time (see bench/README.md).
        addressPerServer: true,
    });
    try {
        await sleep(WARM_MS);
        const nodes = set.nodes();
        const result = await fn(nodes);
        const check = await clusterCheck(nodes[0].host, nodes[0].port);
        const linked = await replicasLinked(nodes);
        if (!check.ok || !linked.ok)
            throw new Error(
                `cluster not healthy after the run:\n${check.output}\n${linked.problems.join("\n")}`,
            );
        return result;
    } finally {
        await set.stopAll();
    }
}

/**
 * The bootstrap, timed by its own call: it returns only once every node reports cluster_state:ok and every
 * replica's link is up (checked again independently afterwards), so it needs no watcher competing for the CPU.
 */
async function ours(shards: number): Promise<number> {
    return withServers(shards, async (nodes) => {
        const t0 = performance.now();
        const log = process.env.BENCH_LOG
            ? (m: string) => console.log(`    [${since(t0).toFixed(0)} ms] ${m}`)
            : undefined;
        const out = await apply(
            { shards, replicasPerShard: 1, nodes, nodeTimeoutMs: NODE_TIMEOUT_MS },
            log,
        );
        const ms = since(t0);
        if (out.clusterState !== "ok") throw new Error(`bootstrap returned ${out.clusterState}`);
        return ms;
    });
}

/** `redis-cli --cluster create`, which returns before the cluster is ok: a watcher polls every node every 50 ms. */
async function reference(shards: number): Promise<{ okMs: number; linkedMs: number }> {
    return withServers(shards, async (nodes) => {
        const t0 = performance.now();
        const watcher = waitClusterOk(nodes);
        await cli([
            "--cluster",
            "create",
            ...nodes.map((n) => `${n.host}:${n.port}`),
            "--cluster-replicas",
            "1",
            "--cluster-yes",
        ]);
        const r = await watcher;
        return { okMs: r.okMs, linkedMs: Math.max(r.linkedMs, since(t0)) };
    });
}

async function main(): Promise<void> {
    // Load the client library once before any clock runs (a constant, whatever the cluster size).
    require("iovalkey");
    const rounds = Number(arg("rounds", "3"));
    const sizes = arg("sizes", "3,30").split(",").map(Number);
    const rows: string[] = [];
    for (const shards of sizes) {
        const a: number[] = [];
        const b: { okMs: number; linkedMs: number }[] = [];
        for (let r = 0; r < rounds; r++) {
            // Alternate so that machine noise hits both alike.
            a.push(await ours(shards));
            b.push(await reference(shards));
            console.log(
                `  ${shards}x1 round ${r + 1}: bootstrap ${a[r].toFixed(0)} ms (ok everywhere, replicas linked), ${cliBinary()} ok everywhere ${b[r].okMs.toFixed(0)} ms, linked ${b[r].linkedMs.toFixed(0)} ms`,
            );
        }
        const am = median(a);
        const bo = median(b.map((x) => x.okMs));
        const bl = median(b.map((x) => x.linkedMs));
        rows.push(
            `${shards}x1 (${shards * 2} nodes): bootstrap ${am.toFixed(0)} ms; ${cliBinary()} ${bo.toFixed(0)} ms to cluster_state:ok everywhere (ratio ${ratio(am, bo)}), ${bl.toFixed(0)} ms to replicas linked (ratio ${ratio(am, bl)})`,
        );
    }
    console.log(
        `\nbootstrap vs ${cliBinary()} --cluster create on ${serverBinary()}, median of ${rounds}, node timeout ${NODE_TIMEOUT_MS} ms, servers up ${WARM_MS} ms, load average ${os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")} at the end (target ratio <= 0.25):`,
    );
    for (const r of rows) console.log(`  ${r}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
