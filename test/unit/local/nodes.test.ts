import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    MAX_LOCAL_ZONES,
    localNodes,
    localProblems,
    nodePort,
    serverBinary,
    zoneHost,
} from "../../../components/local/nodes";
import { computeLayout } from "../../../components/valkey/layout";

const ZONES = ["zone-a", "zone-b", "zone-c"];

describe("zoneHost", () => {
    it("gives zone i the loopback address 127.0.(i+1).1", () => {
        assert.equal(zoneHost(0), "127.0.1.1");
        assert.equal(zoneHost(1), "127.0.2.1");
        assert.equal(zoneHost(2), "127.0.3.1");
        assert.equal(zoneHost(MAX_LOCAL_ZONES - 1), "127.0.254.1");
    });

    it("refuses a zone index without an address", () => {
        assert.throws(() => zoneHost(MAX_LOCAL_ZONES), /outside 0\.\.253/);
        assert.throws(() => zoneHost(-1), /outside/);
    });
});

describe("localNodes", () => {
    it("places the default layout (3 shards x 1 replica over 3 zones) per zone, by ordinal", () => {
        const nodes = localNodes(
            "valkey",
            computeLayout({ shards: 3, replicasPerShard: 1, zones: ZONES }),
            7000,
        );
        assert.deepEqual(
            nodes.map((n) => `${n.name} ${n.host}:${n.port} shard ${n.shard} ${n.role}`),
            [
                "valkey-zone-a-0 127.0.1.1:7000 shard 0 primary",
                "valkey-zone-a-1 127.0.1.1:7003 shard 2 replica",
                "valkey-zone-b-0 127.0.2.1:7001 shard 0 replica",
                "valkey-zone-b-1 127.0.2.1:7004 shard 1 primary",
                "valkey-zone-c-0 127.0.3.1:7002 shard 1 replica",
                "valkey-zone-c-1 127.0.3.1:7005 shard 2 primary",
            ],
        );
    });

    const topology = fc
        .record({
            zoneCount: fc.integer({ min: 2, max: 6 }),
            shards: fc.integer({ min: 1, max: 24 }),
            replicas: fc.integer({ min: 0, max: 5 }),
            basePort: fc.integer({ min: 1024, max: 40000 }),
        })
        .filter((t) => t.replicas + 1 <= t.zoneCount);
    const zonesOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `z${i}`);

    it("gives every node its own port, from basePort up, and its zone's address", () => {
        fc.assert(
            fc.property(topology, (t) => {
                const layout = computeLayout({
                    shards: t.shards,
                    replicasPerShard: t.replicas,
                    zones: zonesOf(t.zoneCount),
                });
                const nodes = localNodes("v", layout, t.basePort);
                assert.equal(nodes.length, t.shards * (t.replicas + 1));
                assert.equal(new Set(nodes.map((n) => n.port)).size, nodes.length);
                for (const n of nodes) {
                    assert.ok(n.port >= t.basePort);
                    assert.equal(n.host, zoneHost(zonesOf(t.zoneCount).indexOf(n.zone)));
                    assert.equal(n.port, nodePort(t.basePort, t.zoneCount, n.zoneIndex, n.ordinal));
                }
            }),
        );
    });

    it("never moves an existing node when shards are added", () => {
        fc.assert(
            fc.property(topology, fc.integer({ min: 1, max: 12 }), (t, more) => {
                const zones = zonesOf(t.zoneCount);
                const before = localNodes(
                    "v",
                    computeLayout({ shards: t.shards, replicasPerShard: t.replicas, zones }),
                    t.basePort,
                );
                const after = localNodes(
                    "v",
                    computeLayout({ shards: t.shards + more, replicasPerShard: t.replicas, zones }),
                    t.basePort,
                );
                const where = new Map(
                    after.map((n) => [n.name, `${n.host}:${n.port} ${n.shard} ${n.role}`]),
                );
                for (const n of before) {
                    assert.equal(where.get(n.name), `${n.host}:${n.port} ${n.shard} ${n.role}`);
                }
            }),
        );
    });
});

describe("localProblems", () => {
    it("accepts the defaults", () => {
        assert.deepEqual(
            localProblems({ zones: ZONES, shards: 3, replicasPerShard: 1, basePort: 7000 }),
            [],
        );
    });

    it("refuses cluster-bus ports past 65535 and says which basePort fits", () => {
        assert.deepEqual(
            localProblems({ zones: ZONES, shards: 3, replicasPerShard: 1, basePort: 55533 }),
            [
                {
                    path: "local.basePort",
                    message:
                        "valkey.local.basePort: got 55533; the nodes use ports 55533-55538 and their cluster bus ports (+10000) would pass 65535. Use a basePort of at most 55530, e.g. 7000.",
                },
            ],
        );
        assert.deepEqual(
            localProblems({ zones: ZONES, shards: 3, replicasPerShard: 1, basePort: 55530 }),
            [],
        );
    });

    it("refuses more zones than loopback addresses", () => {
        const zones = Array.from({ length: 255 }, (_, i) => `z${i}`);
        const problems = localProblems({ zones, shards: 3, replicasPerShard: 1, basePort: 1024 });
        assert.deepEqual(problems, [
            {
                path: "zones",
                message:
                    "valkey.zones: got 255 zones; the local platform gives each zone its own loopback address 127.0.<n>.1 and has 254. List at most 254 zones.",
            },
        ]);
    });
});

describe("serverBinary", () => {
    const onPath =
        (...found: string[]) =>
        (c: string) =>
            found.includes(c);
    it("prefers the configured binary, then valkey-server, then redis-server", () => {
        assert.equal(
            serverBinary("/opt/valkey/bin/valkey-server", onPath("valkey-server")),
            "/opt/valkey/bin/valkey-server",
        );
        assert.equal(
            serverBinary(undefined, onPath("valkey-server", "redis-server")),
            "valkey-server",
        );
        assert.equal(serverBinary(undefined, onPath("redis-server")), "redis-server");
        assert.equal(serverBinary("", onPath("redis-server")), "redis-server");
    });

    it("names valkey-server when neither is installed, so the provider's check says what to install", () => {
        assert.equal(serverBinary(undefined, onPath()), "valkey-server");
    });
});
