import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderValkeyConf } from "../../components/valkey/conf";
import {
    lastDirective,
    maxmemoryOf,
    parseConfMemory,
    parseValkeyConf,
    persistenceOn,
} from "../../policy/valkeyConf";

describe("valkeyConf", () => {
    test("reads Valkey's memory units", () => {
        const table: [string, number | undefined][] = [
            ["4831838208", 4831838208],
            ["1k", 1000],
            ["1kb", 1024],
            ["2m", 2e6],
            ["2mb", 2 * 2 ** 20],
            ["3g", 3e9],
            ["3GB", 3 * 2 ** 30],
            ["12%", undefined],
            ["", undefined],
        ];
        for (const [text, bytes] of table) assert.equal(parseConfMemory(text), bytes, text);
    });

    test("reads what conf.ts renders", () => {
        const text = renderValkeyConf({
            nodeTimeoutMs: 5000,
            maxmemoryBytes: 123456789,
            maxmemoryPolicy: "noeviction",
            persistence: "aof+rdb",
            ioThreads: 2,
            tls: false,
            replicasPerShard: 1,
        });
        const conf = parseValkeyConf(text);
        assert.equal(maxmemoryOf(conf), 123456789);
        assert.equal(persistenceOn(conf), true);
        assert.deepEqual(lastDirective(conf, "include"), ["/etc/valkey-auth/auth.conf"]);
        assert.deepEqual(lastDirective(conf, "bind"), ["*", "-::*"]);
    });

    test("knows when persistence is off", () => {
        const none = renderValkeyConf({
            nodeTimeoutMs: 5000,
            maxmemoryBytes: 1,
            maxmemoryPolicy: "noeviction",
            persistence: "none",
            ioThreads: 1,
            tls: false,
            replicasPerShard: 0,
        });
        assert.equal(persistenceOn(parseValkeyConf(none)), false);
        assert.equal(persistenceOn(parseValkeyConf("appendonly no\nsave 900 1\n")), true);
        // Without a save directive Valkey keeps its default snapshot schedule.
        assert.equal(persistenceOn(parseValkeyConf("appendonly no\n")), true);
        assert.equal(persistenceOn(parseValkeyConf("save 900 1\nsave ''\n")), false);
    });

    test("keeps the last occurrence and quoted words", () => {
        const conf = parseValkeyConf(
            'maxmemory 1gb\n# maxmemory 5gb\nMAXMEMORY 2gb\nsave ""\nrequirepass "a b"\n',
        );
        assert.equal(maxmemoryOf(conf), 2 * 2 ** 30);
        assert.deepEqual(lastDirective(conf, "save"), [""]);
        assert.deepEqual(lastDirective(conf, "requirepass"), ["a b"]);
    });
});
