import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Persistence } from "../../../components/config";
import {
    type LocalServerSpec,
    confQuote,
    liveDirectives,
    renderLocalConf,
    serverInputs,
} from "../../../components/local/serverConf";
import { persistenceLines } from "../../../components/valkey/conf";

const SPEC: LocalServerSpec = {
    zone: "zone-b",
    host: "127.0.2.1",
    port: 7001,
    dataDir: "/home/someone/valkey-platform/.local-data/valkey-zone-b-0",
    binary: "valkey-server",
    nodeTimeoutMs: 5000,
    maxmemoryBytes: 201326592,
    maxmemoryPolicy: "noeviction",
    persistence: "none",
};

const lines = (conf: string): string[] =>
    conf.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("renderLocalConf", () => {
    it("binds to and connects from the zone address, in cluster mode, with protected mode off", () => {
        assert.deepEqual(lines(renderLocalConf(SPEC)), [
            "port 7001",
            "cluster-port 17001",
            "bind 127.0.2.1",
            "bind-source-addr 127.0.2.1",
            "cluster-announce-ip 127.0.2.1",
            "protected-mode no",
            "daemonize no",
            'logfile ""',
            'pidfile "/home/someone/valkey-platform/.local-data/valkey-zone-b-0/server.pid"',
            'dir "/home/someone/valkey-platform/.local-data/valkey-zone-b-0"',
            "cluster-enabled yes",
            'cluster-config-file "/home/someone/valkey-platform/.local-data/valkey-zone-b-0/nodes.conf"',
            "cluster-allow-replica-migration no",
            "cluster-require-full-coverage yes",
            "repl-diskless-sync-delay 0",
            "cluster-node-timeout 5000",
            "maxmemory 201326592",
            "maxmemory-policy noeviction",
            "appendonly no",
            'save ""',
        ]);
    });

    for (const mode of ["aof+rdb", "rdb", "none"] as Persistence[]) {
        it(`writes the persistence lines of conf.ts for ${mode}`, () => {
            const conf = lines(renderLocalConf({ ...SPEC, persistence: mode }));
            const tail = conf.slice(conf.indexOf("maxmemory-policy noeviction") + 1);
            assert.deepEqual(tail, persistenceLines(mode));
        });
    }

    it("writes no password without one, requirepass and masterauth with one", () => {
        assert.doesNotMatch(renderLocalConf(SPEC), /requirepass|masterauth/);
        assert.doesNotMatch(renderLocalConf(SPEC, ""), /requirepass|masterauth/);
        const conf = lines(renderLocalConf(SPEC, "s3cretpass"));
        assert.deepEqual(conf.slice(-2), ["requirepass s3cretpass", "masterauth s3cretpass"]);
    });

    it("quotes paths with spaces and quotes", () => {
        const conf = renderLocalConf({ ...SPEC, dataDir: '/home/a b/"x"/' });
        assert.match(conf, /^dir "\/home\/a b\/\\"x\\""$/m);
        assert.match(conf, /^cluster-config-file "\/home\/a b\/\\"x\\"\/nodes.conf"$/m);
    });
});

describe("confQuote", () => {
    it("escapes backslashes and quotes, refuses control characters", () => {
        assert.equal(confQuote('a\\b"c'), '"a\\\\b\\"c"');
        assert.throws(() => confQuote("a\nb"), /must not contain control characters: "a\\nb"/);
    });
});

describe("liveDirectives", () => {
    it("sets availability-zone to the node's zone on servers that have it (Valkey 8)", () => {
        assert.deepEqual(liveDirectives({ ...SPEC, availabilityZone: true }).slice(3, 4), [
            ["availability-zone", SPEC.zone],
        ]);
        assert.ok(!liveDirectives(SPEC).some(([k]) => k === "availability-zone"));
    });

    it("lists what CONFIG SET changes on a running server, with an empty save for no persistence", () => {
        assert.deepEqual(liveDirectives(SPEC), [
            ["cluster-node-timeout", "5000"],
            ["maxmemory", "201326592"],
            ["maxmemory-policy", "noeviction"],
            ["appendonly", "no"],
            ["save", ""],
        ]);
        assert.deepEqual(liveDirectives({ ...SPEC, persistence: "aof+rdb" }).slice(3), [
            ["appendonly", "yes"],
            ["appendfsync", "everysec"],
            ["aof-use-rdb-preamble", "yes"],
            ["save", "3600 1 300 100 60 10000"],
        ]);
    });
});

describe("serverInputs", () => {
    it("derives the bus port, the config and the live directives, and carries no empty password", () => {
        const inputs = serverInputs(SPEC);
        assert.equal(inputs.busPort, 17001);
        assert.equal(inputs.conf, renderLocalConf(SPEC));
        assert.deepEqual(inputs.liveConfig, liveDirectives(SPEC));
        assert.equal("password" in inputs, false);
        assert.equal("startTimeoutMs" in inputs, false);
        assert.equal(serverInputs(SPEC, "pw").password, "pw");
    });
});
