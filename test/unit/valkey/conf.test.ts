import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    authConf,
    imageHasAvailabilityZone,
    preStopScript,
    readinessScript,
    renderValkeyConf,
} from "../../../components/valkey/conf";

const base = { nodeTimeoutMs: 5000, maxmemoryBytes: 4831838208, maxmemoryPolicy: "noeviction", persistence: "aof+rdb" as const, ioThreads: 2, tls: false, replicasPerShard: 2 };
const directives = (conf: string) => conf.split("\n").filter((l) => l && !l.startsWith("#"));

describe("renderValkeyConf", () => {
    it("cluster mode, nodes.conf on the volume, node timeout, hostname endpoints", () => {
        const d = directives(renderValkeyConf(base));
        for (const line of [
            "cluster-enabled yes",
            "cluster-config-file /data/nodes.conf",
            "cluster-node-timeout 5000",
            "cluster-preferred-endpoint-type hostname",
            "maxmemory 4831838208",
            "maxmemory-policy noeviction",
            "io-threads 2",
            "dir /data",
            "include /etc/valkey-auth/auth.conf",
            "port 6379",
        ]) {
            assert.ok(d.includes(line), `missing ${line}`);
        }
        assert.ok(!d.some((l) => l.startsWith("requirepass")), "the password never sits in the ConfigMap");
    });
    it("persistence modes", () => {
        const of = (persistence: "aof+rdb" | "rdb" | "none") => directives(renderValkeyConf({ ...base, persistence })).filter((l) => /^(appendonly|appendfsync|save)/.test(l));
        assert.deepEqual(of("aof+rdb"), ["appendonly yes", "appendfsync everysec", "save 3600 1 300 100 60 10000"]);
        assert.deepEqual(of("rdb"), ["appendonly no", "save 3600 1 300 100 60 10000"]);
        assert.deepEqual(of("none"), ["appendonly no", 'save ""']);
    });
    it("a replica's full sync starts once every replica of the shard waits, not after the batching delay", () => {
        assert.ok(directives(renderValkeyConf(base)).includes("repl-diskless-sync-max-replicas 2"));
        assert.ok(!directives(renderValkeyConf({ ...base, replicasPerShard: 0 })).some((l) => l.startsWith("repl-diskless-sync-max-replicas")));
    });
    it("TLS closes the plain port and covers the bus and replication", () => {
        const d = directives(renderValkeyConf({ ...base, tls: true }));
        for (const line of ["port 0", "tls-port 6379", "tls-cluster yes", "tls-replication yes", "tls-cert-file /etc/valkey-tls/tls.crt"]) {
            assert.ok(d.includes(line), `missing ${line}`);
        }
        assert.ok(!d.includes("port 6379"));
    });
    it("every directive is known to Redis 7.0 and Valkey 7.2 (no duplicates, no Valkey-only names)", () => {
        const d = directives(renderValkeyConf({ ...base, tls: true }));
        const names = d.map((l) => l.split(" ")[0]);
        assert.equal(new Set(names.filter((n) => n !== "save")).size, names.filter((n) => n !== "save").length);
        for (const n of names) assert.ok(!/primary|availability-zone|cluster-announce-human/.test(n), n);
    });
});

describe("auth and scripts", () => {
    it("auth.conf sets requirepass and masterauth (replicas need both)", () => {
        assert.equal(authConf("s3cret"), "requirepass s3cret\nmasterauth s3cret\n");
        assert.throws(() => authConf("a b"), /must not contain whitespace/);
    });
    it("readiness accepts a serving node or a blank one, and checks the replica link", () => {
        const s = readinessScript({ tls: false, nodeTimeoutMs: 5000 });
        assert.match(s, /cluster_slots_assigned/);
        assert.match(s, /master_link_status/);
        assert.match(s, /\[ "\$known" = "1" \] && \[ "\$assigned" = "0" \] && exit 0/);
        assert.doesNotMatch(s, /-a /, "the password never goes on the command line");
    });
    it("preStop hands a primary's role over with CLUSTER FAILOVER and leaves the stop to the kubelet's SIGTERM", () => {
        const s = preStopScript({ tls: false, nodeTimeoutMs: 5000 });
        assert.ok(s.indexOf("cluster failover") > 0);
        assert.doesNotMatch(s, /shutdown/i, "SHUTDOWN would kill the hook's own container");
        // 2 x 5 s + 10 s, polled every 0.2 s.
        assert.match(s, /while \[ \$i -lt 100 \]/);
    });
});

describe("imageHasAvailabilityZone", () => {
    it("is true for Valkey 8+ tags, digests and unversioned tags, false for older majors", () => {
        const table: [string, boolean][] = [
            ["valkey/valkey:8.1.4", true],
            ["valkey/valkey:9.0.0-alpine", true],
            ["registry.example:5000/valkey/valkey:8.0", true],
            ["valkey/valkey:7.2.5", false],
            ["localhost/valkey:7", false],
            [`valkey/valkey@sha256:${"a".repeat(64)}`, true],
            ["localhost/valkey:local", true],
        ];
        for (const [image, want] of table)
            assert.equal(imageHasAvailabilityZone(image), want, image);
    });
});
