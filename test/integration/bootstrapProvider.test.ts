/**
 * The dynamic provider as the engine runs it: serialized with Pulumi's closure serializer, loaded from that text
 * in a plain `node` process (no TypeScript loader, like the dynamic-provider host) and driven through its
 * methods against password-protected servers. The password never shows in outputs (other than the secret
 * `password` property), logs or errors; delete leaves the cluster and its data alone.
 */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { apply, valkeySlotsProvider } from "../../components/valkey/bootstrap/provider";
import { rawCommand } from "../helpers/servers";
import { assertHealthy, collector, NODE_TIMEOUT_MS, serversForSuite } from "./bootstrapSupport";

/** This file's ports: 25200-25499 (cluster bus +10000). */
const BASE_PORT = 25200;
const ROOT = path.resolve(__dirname, "..", "..");
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;

/** Runs provider methods from the serialized text in a plain node process; returns each call's result. */
async function inHost(
    providerText: string,
    exportName: string,
    calls: { method: string; args: unknown[] }[],
): Promise<{ results: { ok: boolean; value?: any; error?: string }[]; output: string }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valkey-provider-"));
    fs.writeFileSync(path.join(dir, "provider.js"), providerText);
    fs.writeFileSync(path.join(dir, "calls.json"), JSON.stringify(calls), { mode: 0o600 });
    // The host loads the provider with require-from-string, resolving packages from its working directory.
    const script = `
        const fs = require("fs");
        const requireFromString = require("require-from-string");
        const provider = requireFromString(fs.readFileSync(${JSON.stringify(path.join(dir, "provider.js"))}, "utf8"))[${JSON.stringify(exportName)}]();
        (async () => {
            const results = [];
            for (const c of JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, "calls.json"))}, "utf8"))) {
                try { results.push({ ok: true, value: await provider[c.method](...c.args) }); }
                catch (e) { results.push({ ok: false, error: String(e && e.message) }); }
            }
            process.stdout.write("\\nRESULTS " + JSON.stringify(results) + "\\n");
        })();`;
    try {
        return await new Promise((resolve, reject) => {
            const child = spawn(process.execPath, ["-e", script], {
                cwd: ROOT,
                stdio: ["ignore", "pipe", "pipe"],
            });
            let output = "";
            child.stdout.on("data", (d) => (output += d.toString()));
            child.stderr.on("data", (d) => (output += d.toString()));
            child.on("close", (code) => {
                const line = output.split("\n").find((l) => l.startsWith("RESULTS "));
                if (code !== 0 || !line)
                    reject(new Error(`provider host exited ${code}:\n${output}`));
                else
                    resolve({
                        results: JSON.parse(line.slice(8)),
                        output: output.replace(line, ""),
                    });
            });
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("slot bootstrap: the dynamic provider", { timeout: 240_000 }, () => {
    const servers = serversForSuite({
        perZone: 2,
        basePort: BASE_PORT,
        password: PASSWORD,
    });

    it("runs serialized in a plain node process: check, create, diff, read, delete", async () => {
        const serialized = await pulumi.runtime.serializeFunction(() => valkeySlotsProvider);
        assert.ok(
            !serialized.text.includes(PASSWORD),
            "the serialized provider captures no password",
        );
        const inputs = {
            shards: 3,
            replicasPerShard: 1,
            password: PASSWORD,
            nodes: servers.nodes(),
            nodeTimeoutMs: NODE_TIMEOUT_MS,
        };

        const first = await inHost(serialized.text, serialized.exportName, [
            { method: "check", args: [{}, inputs] },
            { method: "create", args: [inputs] },
        ]);
        const [check, create] = first.results;
        assert.ok(check.ok && create.ok, JSON.stringify(first.results) + first.output);
        assert.deepEqual(check.value.failures, []);
        const outs = create.value.outs;
        assert.match(create.value.id, /^valkey-slots-/);
        assert.equal(outs.clusterState, "ok");
        assert.equal(outs.topology.length, 3);
        assert.deepEqual(outs.drift, []);
        const { password, ...rest } = outs;
        assert.equal(
            password,
            PASSWORD,
            "the password output (marked secret on the resource) carries the input",
        );
        assert.ok(!JSON.stringify(rest).includes(PASSWORD), "no other output holds the password");
        assert.ok(!first.output.includes(PASSWORD), "no log line holds the password");
        assert.match(first.output, /prepare: assigning slots/, "progress goes to Pulumi's log");
        await assertHealthy(servers.nodes(), PASSWORD, 3);

        const n = servers.nodes()[0];
        await rawCommand(n.host, n.port, ["SET", "survives-delete", "yes"], PASSWORD).catch(
            async () => {
                // The key may hash to another node: write it where it belongs.
                for (const m of servers.nodes()) {
                    if (
                        (await rawCommand(
                            m.host,
                            m.port,
                            ["SET", "survives-delete", "yes"],
                            PASSWORD,
                        ).catch(() => "")) === "OK"
                    )
                        return;
                }
            },
        );
        const second = await inHost(serialized.text, serialized.exportName, [
            { method: "diff", args: [create.value.id, outs, inputs] },
            { method: "read", args: [create.value.id, outs] },
            { method: "check", args: [inputs, { ...inputs, shards: 4 }] },
            { method: "delete", args: [create.value.id, outs] },
        ]);
        const [diff, read, badCheck, del] = second.results;
        assert.ok(
            diff.ok && read.ok && badCheck.ok && del.ok,
            JSON.stringify(second.results) + second.output,
        );
        assert.equal(diff.value.changes, false);
        assert.deepEqual(read.value.props.drift, []);
        assert.deepEqual(read.value.props.topology, outs.topology);
        const failures = badCheck.value.failures as { property: string; reason: string }[];
        assert.deepEqual(
            failures.map((f) => f.property),
            ["nodes", "nodes", "shards"],
        );
        assert.match(
            failures[0].reason,
            /^nodes: zone "zone-a" has 2 nodes; 4 shards x 1 replicas over 3 zones need 3 there\./,
        );
        assert.match(
            failures[2].reason,
            /^shards: got 4 with 3 zones; losing zone "zone-a", which holds 2 primaries, leaves no failover majority\./,
        );
        // delete leaves the cluster and its data alone.
        await assertHealthy(servers.nodes(), PASSWORD, 3);
        let found = false;
        for (const m of servers.nodes()) {
            found ||=
                (await rawCommand(m.host, m.port, ["GET", "survives-delete"], PASSWORD).catch(
                    () => "",
                )) === "yes";
        }
        assert.ok(found, "data survives delete");
    });

    it("keeps the password out of errors and logs when a run fails", async () => {
        const log = collector();
        const wrong = `${PASSWORD}-wrong`;
        await assert.rejects(
            apply(
                {
                    shards: 3,
                    replicasPerShard: 1,
                    password: wrong,
                    nodes: servers.nodes(),
                    nodeTimeoutMs: NODE_TIMEOUT_MS,
                },
                log.log,
            ),
            (e: Error) => {
                assert.match(e.message, /is unreachable: .*(WRONGPASS|NOAUTH|invalid)/i);
                assert.ok(!e.message.includes(wrong) && !e.message.includes(PASSWORD), e.message);
                return true;
            },
        );
        assert.ok(!log.lines.join("\n").includes(PASSWORD));
    });
});
