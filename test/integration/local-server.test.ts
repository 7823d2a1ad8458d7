import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as net from "node:net";
import type { Persistence } from "../../components/config";
import { processAlive, serverVersionText } from "../../components/local/process";
import { hasAvailabilityZone } from "../../components/local/nodes";
import {
    valkeyServerProvider as provider,
    type ValkeyServerOutputs,
} from "../../components/local/server";
import { type LocalServerSpec, serverInputs } from "../../components/local/serverConf";
import { cliBinary, rawCommand, replicasLinked, serverBinary, sleep } from "../helpers/servers";

/**
 * The ValkeyServer provider against real server processes (valkey-server, else redis-server): its methods are
 * called directly, as the engine would call them, and judged with the CLI and an independent client.
 * Ports 7600-7699 (and their bus ports 17600-17699) on 127.0.1.1 / 127.0.2.1 belong to this file.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), "valkey-local-server-"));
/** Every server a test created, so `after` can stop what a failed test left behind. */
const created = new Map<string, ValkeyServerOutputs>();

function spec(port: number, overrides: Partial<LocalServerSpec> = {}): LocalServerSpec {
    const zoneIndex = overrides.host === "127.0.1.1" ? 0 : 1;
    return {
        zone: `zone-${"ab"[zoneIndex]}`,
        host: "127.0.2.1",
        port,
        dataDir: path.join(root, `node-${port}`),
        binary: serverBinary(),
        nodeTimeoutMs: 2000,
        maxmemoryBytes: 64 * 2 ** 20,
        maxmemoryPolicy: "noeviction",
        persistence: "none" as Persistence,
        ...overrides,
    };
}

async function create(s: LocalServerSpec, password?: string): Promise<ValkeyServerOutputs> {
    const inputs = serverInputs(s, password);
    const check = await provider.check!({} as never, inputs);
    assert.deepEqual(check.failures, []);
    const result = await provider.create(inputs);
    assert.equal(result.id, `${s.host}:${s.port}`);
    created.set(result.id, result.outs!);
    return result.outs!;
}

async function destroy(outs: ValkeyServerOutputs): Promise<void> {
    await provider.delete!(`${outs.host}:${outs.port}`, outs);
    created.delete(`${outs.host}:${outs.port}`);
}

/** The CLI's answer to a command, as the independent judge. */
function cli(host: string, port: number, ...args: string[]): string {
    const res = spawnSync(cliBinary(), ["-h", host, "-p", String(port), ...args], {
        encoding: "utf8",
        timeout: 5000,
    });
    return `${res.stdout}${res.stderr}`.trim();
}

/** Processes whose title names host:port (the server sets `<binary> <host>:<port> [cluster]`). */
function processesServing(host: string, port: number): string[] {
    const out = spawnSync("pgrep", ["-af", `${host}:${port}`], { encoding: "utf8" }).stdout ?? "";
    return out.split("\n").filter((l) => l.includes(`${host}:${port} `) && !l.includes("pgrep"));
}

function sessionOf(pid: number): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

async function until(
    what: string,
    ms: number,
    ok: () => Promise<boolean> | boolean,
): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
        if (Date.now() > deadline)
            throw new Error(`timed out after ${ms} ms waiting until ${what}`);
        await sleep(100);
    }
}

after(async () => {
    for (const outs of created.values()) {
        await provider.delete!(`${outs.host}:${outs.port}`, { ...outs, persistence: "none" }).catch(
            () => undefined,
        );
    }
    fs.rmSync(root, { recursive: true, force: true });
});

describe("ValkeyServer provider: create, read, delete", () => {
    let outs: ValkeyServerOutputs;
    before(async () => {
        outs = await create(
            spec(7601, { availabilityZone: hasAvailabilityZone(serverVersionText(serverBinary())) }),
        );
    });

    it("reports its zone in INFO server on Valkey 8 (availability-zone)", (t) => {
        if (!hasAvailabilityZone(serverVersionText(serverBinary()))) {
            t.skip(`${serverBinary()} has no availability-zone directive`);
            return;
        }
        assert.match(cli("127.0.2.1", 7601, "info", "server"), /^availability_zone:zone-b$/m);
    });

    it("starts a cluster-mode server that answers on its zone address only", () => {
        assert.equal(cli("127.0.2.1", 7601, "ping"), "PONG");
        assert.match(cli("127.0.2.1", 7601, "info", "cluster"), /^cluster_enabled:1$/m);
        assert.match(cli("127.0.0.1", 7601, "ping"), /Connection refused/);
        assert.equal(
            cli("127.0.2.1", 7601, "config", "get", "maxmemory").split("\n")[1],
            String(64 * 2 ** 20),
        );
        assert.equal(
            cli("127.0.2.1", 7601, "config", "get", "protected-mode").split("\n")[1],
            "no",
        );
    });

    it("records the pid and node id, detaches the process and keeps the config private", () => {
        assert.ok(processAlive(outs.pid));
        assert.equal(outs.alive, true);
        assert.equal(outs.nodeId, cli("127.0.2.1", 7601, "cluster", "myid"));
        // Its own session: the end of `pulumi up` (or of this test process) does not take it down.
        assert.equal(sessionOf(outs.pid), outs.pid);
        assert.notEqual(sessionOf(outs.pid), sessionOf(process.pid));
        const mode = fs.statSync(path.join(outs.dataDir, "valkey.conf")).mode & 0o777;
        assert.equal(mode, 0o600);
    });

    it("read sees it alive", async () => {
        const read = await provider.read!("127.0.2.1:7601", outs);
        assert.equal(read.id, "127.0.2.1:7601");
        assert.equal(read.props!.alive, true);
        assert.equal(read.props!.pid, outs.pid);
    });

    it("delete stops it and, without persistence, removes its directory", async () => {
        await destroy(outs);
        assert.equal(processAlive(outs.pid), false);
        assert.deepEqual(processesServing("127.0.2.1", 7601), []);
        assert.match(cli("127.0.2.1", 7601, "ping"), /Connection refused/);
        assert.equal(fs.existsSync(outs.dataDir), false);
        const read = await provider.read!("127.0.2.1:7601", outs);
        assert.equal(read.props!.alive, false);
        // Deleting again (an interrupted destroy retried) is a no-op.
        await provider.delete!("127.0.2.1:7601", outs);
    });
});

describe("ValkeyServer provider: refusals", () => {
    it("names the port when something else listens on it, and leaves nothing behind", async () => {
        const blocker = net.createServer();
        await new Promise<void>((r) => blocker.listen(7610, "127.0.2.1", r));
        try {
            const s = spec(7610);
            await assert.rejects(
                provider.create(serverInputs(s)),
                (e: Error) =>
                    e.message ===
                    "cannot start the Valkey node 127.0.2.1:7610 (zone zone-b): its client port is not free: port 7610 on 127.0.2.1 is already in use by another process. Stop that process or choose another valkey:local.basePort.",
            );
            assert.equal(fs.existsSync(s.dataDir), false);
        } finally {
            blocker.close();
        }
    });

    it("names the cluster bus port (port + 10000) when that one is taken", async () => {
        const blocker = net.createServer();
        await new Promise<void>((r) => blocker.listen(17611, "127.0.2.1", r));
        try {
            await assert.rejects(
                provider.create(serverInputs(spec(7611))),
                /^Error: cannot start the Valkey node 127\.0\.2\.1:7611 \(zone zone-b\): its cluster bus port is not free: port 17611 on 127\.0\.2\.1 is already in use/,
            );
        } finally {
            blocker.close();
        }
    });

    it("check names a missing binary and what to install", async () => {
        const result = await provider.check!(
            {} as never,
            serverInputs(spec(7612, { binary: "valkey-server-not-installed" })),
        );
        assert.deepEqual(result.failures, [
            {
                property: "binary",
                reason: '"valkey-server-not-installed" is not on PATH. Install Valkey (valkey-server) or Redis 7 (redis-server), or set valkey:local.serverBinary.',
            },
        ]);
    });

    it("reports a server that exits at start with its log, and leaves no process", async () => {
        // A node directory whose nodes.conf is garbage: the server refuses to start.
        const s = spec(7613, { persistence: "rdb" });
        fs.mkdirSync(s.dataDir, { recursive: true });
        fs.writeFileSync(path.join(s.dataDir, "nodes.conf"), "this is not a cluster config\n");
        await assert.rejects(provider.create(serverInputs(s)), (e: Error) => {
            assert.match(
                e.message,
                /^the Valkey node 127\.0\.2\.1:7613 \(.*\) exited with code 1 right after starting\. The end of .*server\.log:\n/,
            );
            assert.match(e.message, /cluster config file/i);
            return true;
        });
        assert.deepEqual(processesServing("127.0.2.1", 7613), []);
    });
});

describe("ValkeyServer provider: two zones", () => {
    const password = "local-test-password-1";
    let a: ValkeyServerOutputs;
    let b: ValkeyServerOutputs;
    before(async () => {
        a = await create(spec(7620, { host: "127.0.1.1" }), password);
        b = await create(spec(7621, { host: "127.0.2.1" }), password);
    });
    after(async () => {
        await destroy(a);
        await destroy(b);
    });

    it("nodes on different loopback addresses meet, and a replica in the other zone syncs", async () => {
        await rawCommand("127.0.1.1", 7620, ["CLUSTER", "MEET", "127.0.2.1", "7621"], password);
        const bothKnown = async (): Promise<boolean> => {
            for (const [host, port] of [
                ["127.0.1.1", 7620],
                ["127.0.2.1", 7621],
            ] as const) {
                const nodes = await rawCommand(host, port, ["CLUSTER", "NODES"], password);
                const lines = nodes.trim().split("\n");
                if (
                    lines.length !== 2 ||
                    lines.some((l) => /handshake|noaddr/.test(l) || !/ connected/.test(l))
                ) {
                    return false;
                }
            }
            return true;
        };
        await until("both nodes know each other", 15000, bothKnown);
        const nodes = await rawCommand("127.0.2.1", 7621, ["CLUSTER", "NODES"], password);
        assert.match(nodes, new RegExp(`^${a.nodeId} 127\\.0\\.1\\.1:7620@17620 `, "m"));
        await rawCommand("127.0.1.1", 7620, ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"], password);
        await rawCommand("127.0.2.1", 7621, ["CLUSTER", "REPLICATE", a.nodeId], password);
        await until(
            "the replica's link is up",
            20000,
            async () => (await replicasLinked([{ host: "127.0.2.1", port: 7621 }], password)).ok,
        );
        const linked = await replicasLinked(
            [
                { host: "127.0.1.1", port: 7620 },
                { host: "127.0.2.1", port: 7621 },
            ],
            password,
        );
        assert.deepEqual(linked, { ok: true, replicas: 1, problems: [] });
    });
});

describe("ValkeyServer provider: update and refresh", () => {
    let outs: ValkeyServerOutputs;
    before(async () => {
        outs = await create(spec(7630));
    });
    after(async () => {
        await destroy(outs);
    });

    it("applies memory, timeout and persistence to the running process, without a restart", async () => {
        const news = serverInputs(
            spec(7630, { maxmemoryBytes: 32 * 2 ** 20, nodeTimeoutMs: 3000, persistence: "rdb" }),
        );
        const diff = await provider.diff!("127.0.2.1:7630", outs, news);
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: true });
        const updated = await provider.update!("127.0.2.1:7630", outs, news);
        assert.equal(updated.outs!.pid, outs.pid);
        assert.equal(updated.outs!.nodeId, outs.nodeId);
        assert.equal(
            cli("127.0.2.1", 7630, "config", "get", "maxmemory").split("\n")[1],
            String(32 * 2 ** 20),
        );
        assert.equal(
            cli("127.0.2.1", 7630, "config", "get", "cluster-node-timeout").split("\n")[1],
            "3000",
        );
        assert.equal(
            cli("127.0.2.1", 7630, "config", "get", "save").split("\n")[1],
            "3600 1 300 100 60 10000",
        );
        assert.match(
            fs.readFileSync(path.join(outs.dataDir, "valkey.conf"), "utf8"),
            /^maxmemory 33554432$/m,
        );
        outs = updated.outs!;
    });

    it("asks to replace (old one first) when the port or the binary changes", async () => {
        const moved = await provider.diff!(
            "127.0.2.1:7630",
            outs,
            serverInputs(spec(7631, { dataDir: outs.dataDir, persistence: "rdb" })),
        );
        assert.deepEqual(moved.replaces, ["port", "busPort"]);
        assert.equal(moved.deleteBeforeReplace, true);
        const other = await provider.diff!(
            "127.0.2.1:7630",
            outs,
            serverInputs(spec(7630, { binary: "/usr/local/bin/valkey-server" })),
        );
        assert.deepEqual(other.replaces, ["binary"]);
    });

    it("refresh shows a killed server dead, and the next update restarts it as the same node", async () => {
        process.kill(outs.pid, "SIGKILL");
        await until("the killed server is gone", 5000, () => !processAlive(outs.pid));
        const read = await provider.read!("127.0.2.1:7630", outs);
        assert.equal(read.props!.alive, false);
        const same = serverInputs(
            spec(7630, { maxmemoryBytes: 32 * 2 ** 20, nodeTimeoutMs: 3000, persistence: "rdb" }),
        );
        const diff = await provider.diff!("127.0.2.1:7630", read.props!, same);
        assert.deepEqual(diff, { changes: true, replaces: [], deleteBeforeReplace: true });
        const restarted = await provider.update!("127.0.2.1:7630", read.props!, same);
        assert.notEqual(restarted.outs!.pid, outs.pid);
        assert.equal(restarted.outs!.alive, true);
        assert.equal(restarted.outs!.nodeId, outs.nodeId);
        assert.equal(cli("127.0.2.1", 7630, "ping"), "PONG");
        outs = restarted.outs!;
    });
});

describe("ValkeyServer provider: persistence keeps the data across delete and create", () => {
    it("saves on delete, keeps the directory, and a new server there has the data and the node id", async () => {
        const s = spec(7640, { persistence: "rdb" });
        const first = await create(s);
        assert.equal(cli("127.0.2.1", 7640, "cluster", "addslotsrange", "0", "16383"), "OK");
        await until("the single node cluster is ok", 10000, () =>
            /cluster_state:ok/.test(cli("127.0.2.1", 7640, "cluster", "info")),
        );
        assert.equal(cli("127.0.2.1", 7640, "set", "kept", "yes"), "OK");
        await destroy(first);
        assert.equal(processAlive(first.pid), false);
        assert.ok(fs.existsSync(path.join(s.dataDir, "dump.rdb")));
        const second = await create(s);
        try {
            assert.equal(second.nodeId, first.nodeId);
            // A restarted primary serves again once it has waited out the rejoin delay.
            await until("the restarted node's cluster is ok", 15000, () =>
                /cluster_state:ok/.test(cli("127.0.2.1", 7640, "cluster", "info")),
            );
            assert.equal(cli("127.0.2.1", 7640, "get", "kept"), "yes");
        } finally {
            await destroy(second);
        }
        assert.ok(fs.existsSync(s.dataDir));
        fs.rmSync(s.dataDir, { recursive: true, force: true });
    });
});

describe("ValkeyServer provider as the engine runs it", () => {
    it("works serialized, in a plain node process without TypeScript", async () => {
        const { serializeFunction } = require("@pulumi/pulumi/runtime/closure/serializeClosure");
        const serialized = await serializeFunction(() => provider, { allowSecrets: true });
        const file = path.join(root, "provider.js");
        fs.writeFileSync(file, serialized.text);
        const inputs = serverInputs(spec(7650));
        const script = `
            const provider = require(${JSON.stringify(file)}).handler();
            (async () => {
                const inputs = ${JSON.stringify(inputs)};
                const created = await provider.create(inputs);
                const read = await provider.read(created.id, created.outs);
                await provider.delete(created.id, created.outs);
                const gone = await provider.read(created.id, created.outs);
                console.log(JSON.stringify({ id: created.id, pid: created.outs.pid, alive: read.props.alive, after: gone.props.alive }));
            })().catch((e) => { console.error(e); process.exit(1); });`;
        // The engine's provider host resolves packages from the project; this process does so via NODE_PATH.
        const out = execFileSync(process.execPath, ["-e", script], {
            encoding: "utf8",
            timeout: 60000,
            env: { ...process.env, NODE_PATH: path.join(__dirname, "..", "..", "node_modules") },
        });
        const result = JSON.parse(out.trim().split("\n").pop()!);
        assert.equal(result.id, "127.0.2.1:7650");
        assert.equal(result.alive, true);
        assert.equal(result.after, false);
        assert.equal(processAlive(result.pid), false);
        assert.equal(fs.existsSync(inputs.dataDir), false);
    });
});
