/**
 * Benchmark: resharding through the Kubernetes API (the production path on EKS and AKS, where `pulumi up` runs
 * outside the cluster network and the slot bootstrap reaches every pod through port-forwards) beside the direct
 * transport (pod IPs, which this machine's local cluster routes to), on the same pods, in one run.
 *
 * Needs the local three-zone cluster (`bash scripts/kube/up.sh`, which this script runs) and the engine
 * (`bash scripts/toolchain/install.sh`). It deploys the `local-k8s` stack in a throw-away copy with 5 shards x 1
 * replica (10 pods), drains it to 3 shards, loads the keys, then adds 2 shards back through each transport in turn
 * (draining to 3 between), and prints slots/s and keys/s of each move and the round trip of one command. It
 * destroys the stack and stops the cluster at the end.
 *
 * Run: node --import tsx bench/reshard-k8s.ts [--keys 200000] [--cpu 500m]
 */
import { apply } from "../components/valkey/bootstrap/provider";
import { keySlot } from "../components/valkey/bootstrap/slots";
import {
    directTransport,
    kubernetesTransport,
    resolveKubernetesNodes,
    type KubernetesTarget,
} from "../components/valkey/bootstrap/transport";
import { EngineProject, describeRun } from "../test/helpers/engine";
import { KUBECONFIG, kubeScript, kubectl } from "../test/helpers/kube";
import { since } from "./common";

const NS = "valkey";
const ZONES = ["zone-a", "zone-b", "zone-c"];

function arg(name: string, dflt: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : dflt;
}

/** Writes `count` keys of 100 bytes straight to their owners (pod IPs), in pipelines. */
async function load(target: KubernetesTarget, password: string, count: number): Promise<void> {
    const Redis = require("iovalkey") as typeof import("iovalkey").default;
    const nodes = await resolveKubernetesNodes(target);
    const clients = nodes.map((n) => new Redis({ host: n.host, port: n.port, password }));
    const owners = new Array<number>(16384).fill(-1);
    for (const [i, c] of clients.entries()) {
        const me = String(await c.call("CLUSTER", "NODES"))
            .split("\n")
            .find((l) => l.includes("myself"))!;
        if (!me.includes("master")) continue;
        for (const r of me.trim().split(" ").slice(8)) {
            if (r.startsWith("[")) continue;
            const [a, b] = r.split("-").map(Number);
            for (let s = a; s <= (b ?? a); s++) owners[s] = i;
        }
    }
    const value = "v".repeat(100);
    for (let i = 0; i < count; i += 20_000) {
        const pipes = clients.map((c) => c.pipeline());
        for (let k = i; k < Math.min(count, i + 20_000); k++) {
            const key = `key:${k}`;
            pipes[owners[keySlot(key)]].set(key, value);
        }
        await Promise.all(pipes.map((p) => p.exec()));
    }
    for (const c of clients) c.disconnect();
}

/** Mean round trip of PING through a transport to one pod, ms. */
async function roundTrip(
    transport: ReturnType<typeof directTransport>,
    node: { id: string; host: string; port: number; zone: string },
): Promise<number> {
    const c = await transport.client(node);
    await c.call(["PING"]);
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) await c.call(["PING"]);
    return since(t0) / 500;
}

interface Move {
    label: string;
    slots: number;
    keys: number;
    moveMs: number;
    totalMs: number;
}

async function grow(label: string, inputs: Parameters<typeof apply>[0]): Promise<Move> {
    let moveStart = 0;
    let moveEnd = 0;
    let slots = 0;
    let keys = 0;
    const t0 = performance.now();
    const out = await apply(inputs, (m) => {
        if (m.startsWith("rebalance: moving ") && !moveStart) moveStart = performance.now();
        const done = /^rebalance: (\d+)\/\1 slots moved, (\d+) keys/.exec(m);
        if (done) {
            moveEnd = performance.now();
            slots = Number(done[1]);
            keys = Number(done[2]);
        }
    });
    if (out.clusterState !== "ok") throw new Error(`${label}: ${out.clusterState}`);
    return { label, slots, keys, moveMs: moveEnd - moveStart, totalMs: since(t0) };
}

async function main(): Promise<void> {
    const keys = Number(arg("keys", "200000"));
    const password = `bench-${Date.now()}-k8s-reshard`;
    const up = await kubeScript("up.sh");
    if (up.code !== 0) throw new Error(describeRun("scripts/kube/up.sh", up));
    const project = await EngineProject.create({ label: "bench-k8s", stack: "local-k8s" });
    try {
        await project.configSet("kubernetes.kubeconfig", KUBECONFIG, { path: true });
        await project.configSet("password", password, { secret: true });
        await project.configSet("shards", "5");
        // The stack's 250m CPU limit throttles the servers (each SETSLOT NODE broadcasts the new owner to every
        // node); 10 pods of 500m fit the three nodes of this 2-core machine.
        await project.configSet("cpu", arg("cpu", "500m"));
        const r = await project.pulumi(["up", "-s", project.stack, "--yes", "--skip-preview"], {
            timeoutMs: 20 * 60_000,
        });
        if (r.code !== 0) throw new Error(describeRun("pulumi up", r));

        const target: KubernetesTarget = {
            kubeconfig: KUBECONFIG,
            namespace: NS,
            statefulSets: ZONES.map((zone) => ({ zone, name: `valkey-${zone}` })),
        };
        const viaApi = { shards: 5, replicasPerShard: 1, password, kubernetes: target };
        await apply({ ...viaApi, shards: 3 });
        const t0 = performance.now();
        await load(target, password, keys);
        console.log(`  loaded ${keys} keys in ${(since(t0) / 1000).toFixed(1)} s`);

        const nodes = await resolveKubernetesNodes(target);
        const k8s = kubernetesTransport(target, { password });
        const direct = directTransport({ password });
        const rttApi = await roundTrip(k8s, nodes[0]);
        const rttDirect = await roundTrip(direct, nodes[0]);
        await k8s.close();
        await direct.close();

        const a = await grow("through the Kubernetes API", viaApi);
        await apply({ ...viaApi, shards: 3 });
        const b = await grow("direct (pod IPs)", {
            shards: 5,
            replicasPerShard: 1,
            password,
            nodes,
            zones: ZONES,
        });
        await apply({ shards: 3, replicasPerShard: 1, password, nodes, zones: ZONES });

        console.log(
            `\nadd 2 shards (3 -> 5 primaries, 1 replica each, ${keys} keys of 100 bytes) on the local Kubernetes cluster:`,
        );
        for (const m of [a, b]) {
            console.log(
                `  ${m.label}: ${m.slots} slots, ${m.keys} keys in ${(m.moveMs / 1000).toFixed(2)} s of moves (${(m.totalMs / 1000).toFixed(2)} s end to end): ${(m.slots / (m.moveMs / 1000)).toFixed(0)} slots/s, ${(m.keys / (m.moveMs / 1000)).toFixed(0)} keys/s`,
            );
        }
        console.log(
            `  one command's round trip (PING, sequential): ${rttApi.toFixed(2)} ms through the API (port-forward), ${rttDirect.toFixed(2)} ms direct; slots/s ratio API/direct ${(a.slots / a.moveMs / (b.slots / b.moveMs)).toFixed(2)} (target >= 1000 slots/s through the API)`,
        );
    } finally {
        const notes = await project.cleanup();
        kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=180s");
        const down = await kubeScript("down.sh", [], 5 * 60_000);
        if (notes.length > 0 || down.code !== 0)
            console.error(notes.join("\n"), down.out.slice(-2000));
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
