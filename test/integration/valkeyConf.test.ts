/**
 * The valkey.conf the Kubernetes pods run (components/valkey/conf.ts) is accepted by a real server and takes
 * effect: rendered for production, with only the pod's paths, address and port swapped for this machine's, it
 * starts `valkey-server` (or Debian's `redis-server` 7.0) and every directive reads back as rendered.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { authConf, PATHS, renderValkeyConf, VALKEY_PORT } from "../../components/valkey/conf";
import { rawCommand, Server, startServer, stopServer, zoneAddress } from "../helpers/servers";

/** This file's port (cluster bus +10000). */
const PORT = 8190;
const PASSWORD = "valkey-conf-test-pw";

describe("valkey.conf on a real server", { timeout: 60_000 }, () => {
    let server: Server | undefined;
    after(async () => {
        if (server) await stopServer(server);
    });

    it("starts the server, with auth on, and every directive in effect", async () => {
        const host = zoneAddress(0);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valkey-conf-it-"));
        const authFile = path.join(dir, "auth.conf");
        fs.writeFileSync(authFile, authConf(PASSWORD), { mode: 0o600 });
        const rendered = renderValkeyConf({
            nodeTimeoutMs: 5000,
            maxmemoryBytes: 64 * 1024 * 1024,
            maxmemoryPolicy: "allkeys-lru",
            persistence: "aof+rdb",
            ioThreads: 2,
            tls: false,
            replicasPerShard: 2,
        });
        // Only what ties the file to a pod changes: the data volume, the Secret mount, the address, the port.
        const local = rendered
            .split("\n")
            .map((line) => {
                if (line === `dir ${PATHS.data}`) return `dir ${dir}`;
                if (line === `cluster-config-file ${PATHS.data}/nodes.conf`)
                    return `cluster-config-file ${dir}/nodes.conf`;
                if (line === `include ${PATHS.authFile}`) return `include ${authFile}`;
                if (line.startsWith("bind ")) return `bind ${host}`;
                if (line === `port ${VALKEY_PORT}`) return `port ${PORT}`;
                return line;
            })
            .join("\n");
        const confFile = path.join(dir, "valkey.conf");
        fs.writeFileSync(confFile, local);

        // The helper's own file comes first (logs, pid, bind-source-addr); the rendered one, included last, wins.
        server = await startServer({
            host,
            port: PORT,
            password: PASSWORD,
            dir,
            extraConfig: [`include ${confFile}`],
        });

        // Without the password the server answers nothing but NOAUTH.
        const anonymous = await new Promise<string>((resolve, reject) => {
            const sock = net.connect({ host, port: PORT }, () => sock.write("PING\r\n"));
            sock.once("data", (d) => {
                sock.destroy();
                resolve(d.toString());
            });
            sock.once("error", reject);
        });
        assert.match(anonymous, /^-NOAUTH/);
        const get = async (name: string): Promise<string> => {
            const reply = JSON.parse(
                await rawCommand(host, PORT, ["CONFIG", "GET", name], PASSWORD),
            ) as string[];
            assert.equal(reply.length, 2, `the server does not know ${name}`);
            return reply[1];
        };
        // Every directive the file sets, read back from the server (save is normalised by the server).
        const directives = rendered
            .split("\n")
            .filter((l) => l !== "" && !l.startsWith("#"))
            .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)] as const)
            .filter(
                ([name]) =>
                    !["include", "dir", "cluster-config-file", "bind", "port"].includes(name),
            );
        assert.ok(directives.length > 20, `only ${directives.length} directives`);
        for (const [name, value] of directives) {
            const got = await get(name);
            if (name === "save") assert.equal(got, value, name);
            else if (/^\d+$/.test(value)) assert.equal(Number(got), Number(value), name);
            else assert.equal(got, value, name);
        }
        assert.equal(await get("repl-diskless-sync-max-replicas"), "2");
        assert.equal(await get("requirepass"), PASSWORD);
        assert.equal(await get("masterauth"), PASSWORD);
        assert.equal(await get("dir"), fs.realpathSync(dir));
    });
});
