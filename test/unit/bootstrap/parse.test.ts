/**
 * Parsing what nodes print: CLUSTER NODES lines of Redis 7.0 and Valkey 7.2+ (hostnames, aux fields, open slots).
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseClusterNodes, parseInfo } from "../../../components/valkey/bootstrap/parse";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("parseClusterNodes", () => {
    it("reads a fresh node's own line (no IP yet)", () => {
        const [e] = parseClusterNodes(`${A} :7000@17000 myself,master - 0 0 0 connected\n`);
        assert.equal(e.id, A);
        assert.equal(e.ip, "");
        assert.equal(e.port, 7000);
        assert.equal(e.busPort, 17000);
        assert.ok(e.myself && e.master && !e.replica);
        assert.deepEqual(e.slots, []);
        assert.equal(e.configEpoch, 0);
    });

    it("reads slots, ranges, and importing/migrating markers", () => {
        const [e] = parseClusterNodes(
            `${A} 127.0.1.1:7000@17000 myself,master - 0 1700000000000 3 connected 0-5460 5462 [5461->-${B}] [100-<-${B}]`,
        );
        assert.deepEqual(e.slots, [
            [0, 5460],
            [5462, 5462],
        ]);
        assert.deepEqual(e.migrating, [{ slot: 5461, to: B }]);
        assert.deepEqual(e.importing, [{ slot: 100, from: B }]);
        assert.equal(e.pongReceived, 1700000000000);
        assert.equal(e.configEpoch, 3);
    });

    it("reads replicas, failure flags, hostnames and Valkey aux fields", () => {
        const lines = [
            `${B} 10.0.0.2:6379@16379,valkey-zone-b-0 slave,fail? ${A} 1700000000001 1700000000002 4 disconnected`,
            `${A} 10.0.0.1:6379@16379,,shard-id=123,tls-port=0 master,fail - 0 0 4 connected`,
            `${"c".repeat(40)} 10.0.0.3:6379@16379 handshake,noaddr - 0 0 0 disconnected`,
        ].join("\n");
        const [r, p, h] = parseClusterNodes(lines);
        assert.equal(r.hostname, "valkey-zone-b-0");
        assert.ok(r.replica && r.suspected && !r.failed && !r.connected);
        assert.equal(r.masterId, A);
        assert.equal(r.pingSent, 1700000000001);
        assert.equal(p.hostname, undefined);
        assert.ok(p.failed && p.master);
        assert.ok(h.handshake && h.noaddr);
    });

    it("rejects a malformed line", () => {
        assert.throws(() => parseClusterNodes("garbage"), /unexpected CLUSTER NODES line: garbage/);
    });
});

describe("parseInfo", () => {
    it("reads key:value lines and skips section headers", () => {
        assert.deepEqual(
            parseInfo(
                "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n\r\n# Memory\r\nused_memory:1024\r\n",
            ),
            {
                role: "slave",
                master_link_status: "up",
                used_memory: "1024",
            },
        );
    });
});
