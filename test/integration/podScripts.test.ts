/**
 * The pod scripts of the Kubernetes StatefulSets (readiness, liveness, preStop) run as they run in the pod, with
 * sh and valkey-cli/redis-cli, against real server processes. The cluster is formed by `redis-cli --cluster
 * create`, independent of our bootstrap, so these tests judge the scripts alone.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Cluster } from "iovalkey";
import { livenessScript, preStopScript, readinessScript } from "../../components/valkey/conf";
import {
    ClusterServers,
    Server,
    cliBinary,
    clusterCheck,
    rawCommand,
    sleep,
    startClusterServers,
} from "../helpers/servers";

const PASSWORD = "pod-scripts-test-pw";
const BASE_PORT = 8100;
const NODE_TIMEOUT_MS = 2000;
const scripts = {
    readiness: readinessScript({ tls: false, nodeTimeoutMs: NODE_TIMEOUT_MS }),
    liveness: livenessScript({ tls: false, nodeTimeoutMs: NODE_TIMEOUT_MS }),
    preStop: preStopScript({ tls: false, nodeTimeoutMs: NODE_TIMEOUT_MS }),
};

/** Runs a pod script against one server, the way the kubelet runs it in the pod. */
function runScript(script: string, server: Pick<Server, "host" | "port">, timeoutMs = 60_000) {
    const res = spawnSync("sh", ["-c", script], {
        encoding: "utf8",
        timeout: timeoutMs,
        env: { ...process.env, REDISCLI_AUTH: PASSWORD, VALKEYCLI_AUTH: PASSWORD, PROBE_HOST: server.host, PROBE_PORT: String(server.port) },
    });
    return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (await fn()) return;
        await sleep(200);
    }
    assert.fail(`timed out waiting for ${what}`);
}

const field = (info: string, name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info.replace(/\r/g, ""))?.[1];

describe("pod scripts against real servers", () => {
    let cluster: ClusterServers;

    before(async () => {
        cluster = await startClusterServers({ zones: 3, perZone: 2, basePort: BASE_PORT, nodeTimeoutMs: NODE_TIMEOUT_MS, password: PASSWORD });
    });
    after(async () => {
        await cluster?.stopAll();
    });

    it("readiness: a blank node is ready (waiting for the bootstrap); a node that met others but serves nothing is not", async () => {
        const [a, b] = cluster.servers;
        assert.equal(runScript(scripts.readiness, a).code, 0);
        assert.equal(runScript(scripts.liveness, a).code, 0);
        await rawCommand(a.host, a.port, ["CLUSTER", "MEET", b.host, String(b.port)], PASSWORD);
        await until("the two nodes to know each other", async () => field(await rawCommand(a.host, a.port, ["CLUSTER", "INFO"], PASSWORD), "cluster_known_nodes") === "2");
        assert.equal(runScript(scripts.readiness, a).code, 1);
    });

    it("readiness: every node of a formed cluster becomes ready, replicas only with their link up", async () => {
        // The previous test met two nodes; redis-cli only creates clusters from blank ones.
        for (const s of cluster.servers.slice(0, 2)) await rawCommand(s.host, s.port, ["CLUSTER", "RESET", "HARD"], PASSWORD);
        const addrs = cluster.servers.map((s) => `${s.host}:${s.port}`);
        const create = spawnSync(cliBinary(), ["--cluster", "create", ...addrs, "--cluster-replicas", "1", "--cluster-yes"], {
            encoding: "utf8",
            timeout: 60_000,
            env: { ...process.env, REDISCLI_AUTH: PASSWORD },
        });
        assert.equal(create.status, 0, create.stdout + create.stderr);
        for (const s of cluster.servers) {
            await until(`${s.host}:${s.port} ready`, () => runScript(scripts.readiness, s).code === 0);
        }
        const check = await clusterCheck(cluster.servers[0].host, cluster.servers[0].port, PASSWORD);
        assert.ok(check.ok, check.output);
    });

    it("preStop on a replica returns at once and leaves the server running", async () => {
        const roles = await Promise.all(cluster.servers.map(async (s) => ({ s, info: await rawCommand(s.host, s.port, ["INFO", "replication"], PASSWORD) })));
        const replica = roles.find((r) => field(r.info, "role") === "slave")!.s;
        const t0 = Date.now();
        const res = runScript(scripts.preStop, replica);
        assert.equal(res.code, 0, res.out);
        assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
        assert.equal(runScript(scripts.liveness, replica).code, 0);
    });

    it("preStop hands a primary's slots to its replica and returns as a replica; the kubelet's SIGTERM stops it; no key is lost", async () => {
        const seed = cluster.servers[0];
        const client = new Cluster([{ host: seed.host, port: seed.port }], { redisOptions: { password: PASSWORD } });
        const keys = Array.from({ length: 2000 }, (_, i) => `pod-scripts:${i}`);
        try {
            for (const k of keys) await client.set(k, `v-${k}`);
        } finally {
            client.disconnect();
        }

        // A primary and the replica that follows it.
        const roles = await Promise.all(cluster.servers.map(async (s) => ({ s, info: await rawCommand(s.host, s.port, ["INFO", "replication"], PASSWORD) })));
        const primary = roles.find((r) => field(r.info, "role") === "master" && Number(field(r.info, "connected_slaves")) > 0)!.s;
        const primaryId = (await rawCommand(primary.host, primary.port, ["CLUSTER", "MYID"], PASSWORD)).trim();
        const replicaInfo = roles.find((r) => field(r.info, "role") === "slave" && Number(field(r.info, "master_port")) === primary.port && field(r.info, "master_host") === primary.host)!;
        const replica = replicaInfo.s;
        const slotsBefore = await rawCommand(primary.host, primary.port, ["CLUSTER", "COUNTKEYSINSLOT", "0"], PASSWORD);
        assert.ok(slotsBefore !== undefined);

        const t0 = Date.now();
        const res = runScript(scripts.preStop, primary, 90_000);
        const took = Date.now() - t0;
        assert.equal(res.code, 0, res.out);
        assert.match(res.out, new RegExp(`preStop: handing primary role to ${replica.host.replace(/\./g, "\\.")}:${replica.port}`));
        assert.match(res.out, /preStop: handed over after \d+ s/);
        assert.ok(took < 2 * NODE_TIMEOUT_MS + 10_000, `preStop took ${took} ms`);

        // The replica took over by a coordinated failover (not by failure detection); the old primary is a replica,
        // still running: the hook leaves the stop to the kubelet.
        const info = await rawCommand(replica.host, replica.port, ["INFO", "replication"], PASSWORD);
        assert.equal(field(info, "role"), "master");
        assert.equal(field(await rawCommand(primary.host, primary.port, ["INFO", "replication"], PASSWORD), "role"), "slave");
        // The kubelet's SIGTERM.
        primary.process!.kill("SIGTERM");
        await until("the old primary to stop", () => spawnSync(cliBinary(), ["-h", primary.host, "-p", String(primary.port), "ping"], { encoding: "utf8" }).status !== 0 || !primary.running);
        assert.notEqual(runScript(scripts.liveness, primary).code, 0);
        const nodes = await rawCommand(replica.host, replica.port, ["CLUSTER", "NODES"], PASSWORD);
        // The old primary gave up its slots before it stopped (the others may not have heard yet that it became a
        // replica, but no slot is left on it).
        const line = nodes.split("\n").find((l) => l.startsWith(`${primaryId} `))!;
        assert.deepEqual(line.trim().split(/\s+/).slice(8), [], `the old primary holds no slot: ${line}`);

        const reader = new Cluster([{ host: replica.host, port: replica.port }], { redisOptions: { password: PASSWORD } });
        try {
            const values = await Promise.all(keys.map((k) => reader.get(k)));
            assert.deepEqual(values.filter((v, i) => v !== `v-${keys[i]}`), []);
        } finally {
            reader.disconnect();
        }
        await until("the rest of the cluster to be ready", () => runScript(scripts.readiness, replica).code === 0);
    });

    it("preStop returns within seconds when the handover is refused (no wait for a failover that will not come)", async () => {
        const roles = await Promise.all(cluster.servers.filter((s) => s.running).map(async (s) => ({ s, info: await rawCommand(s.host, s.port, ["INFO", "replication"], PASSWORD) })));
        const primary = roles.find((r) => field(r.info, "role") === "master" && Number(field(r.info, "connected_slaves")) > 0)!.s;
        const replica = roles.find((r) => field(r.info, "role") === "slave" && Number(field(r.info, "master_port")) === primary.port && field(r.info, "master_host") === primary.host)!.s;
        // The hook's CLUSTER FAILOVER is refused: the replica no longer takes the password the pod has.
        await rawCommand(replica.host, replica.port, ["CONFIG", "SET", "requirepass", "another-password-now"], PASSWORD);
        try {
            const t0 = Date.now();
            const res = runScript(scripts.preStop, primary, 60_000);
            assert.equal(res.code, 0, res.out);
            assert.match(res.out, /refused CLUSTER FAILOVER/);
            assert.ok(Date.now() - t0 < 3000, `preStop took ${Date.now() - t0} ms`);
            assert.equal(field(await rawCommand(primary.host, primary.port, ["INFO", "replication"], PASSWORD), "role"), "master");
        } finally {
            await rawCommand(replica.host, replica.port, ["CONFIG", "SET", "requirepass", PASSWORD], "another-password-now");
        }
    });
});
