/**
 * How a slot move carries keys: a script on each source (GETKEYSINSLOT + MIGRATE, so key names never travel to
 * the bootstrap). On password-protected nodes the script authenticates to the target as a user made for the move
 * with a fresh password, because servers keep slow commands' arguments (SLOWLOG) and the nodes' password must
 * never be there; the user is gone afterwards, and one left by a run that died is removed by the next run.
 * Slots with more keys than one MIGRATE takes, and scripts cut short by their time budget, lose nothing.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeSpec } from "../../components/valkey/bootstrap/topology";
import { rawCommand } from "../helpers/servers";
import {
    assertHealthy,
    assertKeys,
    collector,
    clusterClient,
    fill,
    keysOnPrimaries,
    members,
    resetAll,
    run,
    runWatched,
    serversForSuite,
} from "./bootstrapSupport";

/** This file's ports: 25900-26199 (cluster bus +10000). */
const BASE_PORT = 25900;
const PASSWORD = "move-test-Secret-5b1e";
const USER = "valkey-platform-migrate";

type SlowlogEntry = [number, number, number, string[], ...unknown[]];

/** Every node's slow log (each node set to log every command before the run). */
async function slowlogs(nodes: NodeSpec[], password?: string): Promise<SlowlogEntry[]> {
    const all: SlowlogEntry[] = [];
    for (const n of nodes)
        all.push(
            ...(JSON.parse(
                await rawCommand(n.host, n.port, ["SLOWLOG", "GET", "-1"], password),
            ) as SlowlogEntry[]),
        );
    return all;
}

async function logEveryCommand(nodes: NodeSpec[], password?: string): Promise<void> {
    for (const n of nodes) {
        await rawCommand(n.host, n.port, ["CONFIG", "SET", "slowlog-max-len", "100000"], password);
        await rawCommand(n.host, n.port, ["SLOWLOG", "RESET"], password);
        await rawCommand(
            n.host,
            n.port,
            ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
            password,
        );
    }
}

async function users(nodes: NodeSpec[], password?: string): Promise<string[]> {
    const names: string[] = [];
    for (const n of nodes)
        names.push(
            ...(JSON.parse(
                await rawCommand(n.host, n.port, ["ACL", "USERS"], password),
            ) as string[]),
        );
    return names;
}

describe("slot bootstrap: moving keys by a script on the source", { timeout: 240_000 }, () => {
    const servers = serversForSuite({ perZone: 2, basePort: BASE_PORT, password: PASSWORD });

    it("authenticates MIGRATE as a user made for the move: the nodes' password never reaches a slow log, the user is gone after", async () => {
        const nodes = servers.nodes();
        await run(nodes, 3, 0, { password: PASSWORD });
        const client = clusterClient(members(nodes, 3, 0), PASSWORD);
        try {
            const values = await fill(client, 4000);
            await logEveryCommand(nodes, PASSWORD);
            const grown = await run(nodes, 6, 0, { password: PASSWORD });
            assert.ok(grown.moved.keys > 1000, `${grown.moved.keys} keys moved`);
            await assertHealthy(members(nodes, 6, 0), PASSWORD, 0);
            assert.equal(await assertKeys(client, values), 4000);
            assert.equal(await keysOnPrimaries(members(nodes, 6, 0), PASSWORD), 4000);

            const entries = await slowlogs(nodes, PASSWORD);
            const text = JSON.stringify(entries);
            assert.ok(!text.includes(PASSWORD), "no slow log entry holds the nodes' password");
            const scripts = entries.filter(
                ([, , , args]) => String(args[0]).toUpperCase() === "EVAL",
            );
            assert.ok(
                scripts.length > 0,
                "the keys moved by the script (EVAL entries in the sources' slow logs)",
            );
            // The credentials the script carried: the move's user, with a password that no longer opens anything.
            const [, , , args] = scripts[0];
            assert.equal(args[8], USER);
            const leaked = String(args[9]);
            assert.match(leaked, /^[0-9a-f]{64}$/);
            assert.deepEqual(
                (await users(nodes, PASSWORD)).filter((u) => u === USER),
                [],
                "the move's user is deleted when the move ends",
            );
            for (const n of members(nodes, 6, 0)) {
                const Redis = require("iovalkey") as typeof import("iovalkey").default;
                const probe = new Redis({
                    host: n.host,
                    port: n.port,
                    lazyConnect: true,
                    enableReadyCheck: false,
                    maxRetriesPerRequest: 0,
                    retryStrategy: () => null,
                });
                try {
                    await probe.connect();
                    await assert.rejects(
                        probe.call("AUTH", USER, leaked),
                        /WRONGPASS|invalid username/,
                    );
                } finally {
                    probe.disconnect();
                }
            }
        } finally {
            client.disconnect();
            for (const n of nodes)
                await rawCommand(
                    n.host,
                    n.port,
                    ["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
                    PASSWORD,
                );
        }
    });

    it("removes a move's user that a run which died left behind, at the next run", async () => {
        const nodes = members(servers.nodes(), 6, 0);
        await rawCommand(
            nodes[0].host,
            nodes[0].port,
            ["ACL", "SETUSER", USER, "on", ">left-by-a-dead-run", "~*", "+restore-asking"],
            PASSWORD,
        );
        assert.ok((await users(nodes, PASSWORD)).includes(USER));
        const result = await run(servers.nodes(), 6, 0, { password: PASSWORD });
        assert.equal(
            result.actions,
            0,
            "nothing to change: the cleanup runs on a converged cluster too",
        );
        assert.deepEqual(
            (await users(nodes, PASSWORD)).filter((u) => u === USER),
            [],
        );
    });

    it("moves slots holding more keys than one MIGRATE takes, over scripts cut short by their time budget", async () => {
        const nodes = servers.nodes();
        await resetAll(nodes, PASSWORD);
        await run(nodes, 3, 0, { password: PASSWORD });
        const client = clusterClient(members(nodes, 3, 0), PASSWORD);
        try {
            // 20 hash tags x 150 keys: each tag's slot holds 150 keys, 7 per MIGRATE below.
            const values = new Map<string, string>();
            const writes: Promise<unknown>[] = [];
            for (let t = 0; t < 20; t++)
                for (let k = 0; k < 150; k++) {
                    const key = `{tag${t}}:${k}`;
                    values.set(key, `v-${t}-${k}`);
                    writes.push(client.set(key, `v-${t}-${k}`));
                }
            await Promise.all(writes);
            const plain = await fill(client, 2000);
            // Every script's reply: [keys moved, slots emptied].
            const replies: [number, number][] = [];
            const grown = await runWatched(
                nodes,
                6,
                0,
                (_, c) => ({
                    ...c,
                    call: async (cmd) => {
                        const reply = await c.call(cmd);
                        if (String(cmd[0]).toUpperCase() === "EVAL")
                            replies.push(reply as [number, number]);
                        return reply;
                    },
                }),
                { password: PASSWORD, keysPerCall: 7, scriptBudgetMs: 0 },
            );
            // With no budget a script stops after its first MIGRATE (7 keys at most), and a tag's slot (150 keys)
            // takes 22 scripts, all but the last ending inside the slot (none emptied).
            assert.deepEqual(
                replies.filter(([keys]) => keys > 7),
                [],
                "no script ran a second MIGRATE",
            );
            const cut = replies.filter(([keys, emptied]) => keys === 7 && emptied === 0).length;
            assert.ok(cut >= 21, `${cut} scripts stopped inside a slot`);
            assert.ok(grown.moved.keys > 1000, `${grown.moved.keys} keys moved`);
            await assertHealthy(members(nodes, 6, 0), PASSWORD, 0);
            assert.equal(await assertKeys(client, values), 3000);
            assert.equal(await assertKeys(client, plain), 2000);
            // A slot assigned with keys still on its source would lose them when the source hears the new owner.
            assert.equal(await keysOnPrimaries(members(nodes, 6, 0), PASSWORD), 5000);
        } finally {
            client.disconnect();
        }
    });

    it("waits while a source sees the cluster down, then moves on (no attempt spent)", async () => {
        const nodes = servers.nodes();
        await resetAll(nodes, PASSWORD);
        await run(nodes, 3, 0, { password: PASSWORD });
        const client = clusterClient(members(nodes, 3, 0), PASSWORD);
        try {
            const values = await fill(client, 2000);
            // One source refuses its first twelve key-moving scripts the way a source refuses while it counts
            // the cluster down: more than the five attempts a failing MIGRATE gets, even over two chains.
            const source = members(nodes, 3, 0)[0].id;
            let refusals = 12;
            const log = collector();
            await runWatched(
                nodes,
                6,
                0,
                (node, c) => ({
                    ...c,
                    call: (cmd) =>
                        node.id === source &&
                        String(cmd[0]).toUpperCase() === "EVAL" &&
                        refusals-- > 0
                            ? Promise.reject(
                                  new Error(
                                      "ERR Script attempted to execute a command while the cluster is down script: f, on @user_script:22.",
                                  ),
                              )
                            : c.call(cmd),
                }),
                { password: PASSWORD, log: log.log },
            );
            assert.ok(refusals < 0, "every refusal was met");
            assert.ok(
                log.lines.some((l) => /reports the cluster down; waiting for it/.test(l)),
                log.lines.join("\n"),
            );
            await assertHealthy(members(nodes, 6, 0), PASSWORD, 0);
            assert.equal(await assertKeys(client, values), 2000);
        } finally {
            client.disconnect();
        }
    });

    it("has every node log at warning while slots move (Valkey logs each slot at notice), then puts each level back", async () => {
        const nodes = servers.nodes();
        await resetAll(nodes, PASSWORD);
        await run(nodes, 3, 0, { password: PASSWORD });
        const client = clusterClient(members(nodes, 3, 0), PASSWORD);
        const level = async (n: NodeSpec): Promise<string> =>
            (
                JSON.parse(
                    await rawCommand(n.host, n.port, ["CONFIG", "GET", "loglevel"], PASSWORD),
                ) as string[]
            )[1];
        try {
            await fill(client, 1000);
            const verbose = nodes[1];
            await rawCommand(
                verbose.host,
                verbose.port,
                ["CONFIG", "SET", "loglevel", "verbose"],
                PASSWORD,
            );
            // The levels as the first key-moving script starts.
            let during: string[] | undefined;
            const log = collector();
            await runWatched(
                nodes,
                6,
                0,
                (_, c) => ({
                    ...c,
                    call: async (cmd) => {
                        if (String(cmd[0]).toUpperCase() === "EVAL" && !during)
                            during = await Promise.all(nodes.map(level));
                        return c.call(cmd);
                    },
                }),
                { password: PASSWORD, log: log.log },
            );
            assert.deepEqual(
                during,
                nodes.map(() => "warning"),
                "every node at warning during the move",
            );
            assert.ok(
                log.lines.some((l) => /6 nodes log at warning during the move/.test(l)),
                log.lines.join("\n"),
            );
            assert.deepEqual(
                await Promise.all(nodes.map(level)),
                nodes.map((n) => (n === verbose ? "verbose" : "notice")),
                "each node back at its own level",
            );

            // A node left at warning by a move whose run died (its mark names the level it had) gets that level
            // back at the next run; a warning an operator chose (no mark) stays.
            const [left, chosen] = [nodes[2], nodes[3]];
            for (const n of [left, chosen])
                await rawCommand(
                    n.host,
                    n.port,
                    ["CONFIG", "SET", "loglevel", "warning"],
                    PASSWORD,
                );
            await rawCommand(
                left.host,
                left.port,
                ["ACL", "SETUSER", "valkey-platform-loglevel-notice", "reset"],
                PASSWORD,
            );
            assert.equal((await run(nodes, 6, 0, { password: PASSWORD })).actions, 0);
            assert.equal(await level(left), "notice");
            assert.equal(await level(chosen), "warning");
            assert.deepEqual(
                (await users(nodes, PASSWORD)).filter((u) => u.startsWith("valkey-platform-")),
                [],
                "no mark left",
            );
        } finally {
            client.disconnect();
            for (const n of nodes)
                await rawCommand(n.host, n.port, ["CONFIG", "SET", "loglevel", "notice"], PASSWORD);
        }
    });
});
