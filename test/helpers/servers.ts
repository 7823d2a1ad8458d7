/**
 * Real Valkey (or Redis) server processes on loopback for integration tests and benchmarks, one loopback address
 * per simulated zone (zone-a on 127.0.1.1, zone-b on 127.0.2.1, ...), always cleaned up.
 *
 * Every server gets its own temporary directory and config file, `cluster-enabled yes`, and both `bind` and
 * `bind-source-addr` set to its zone address: without the second, cluster-bus connections leave from 127.0.0.1
 * and nodes on different loopback addresses never complete the handshake. Protected mode is off (or a password
 * is set): with protected mode on, replicas on 127.0.2.1 never sync while `redis-cli --cluster check` still
 * prints all OK.
 *
 * The binary is `$VALKEY_SERVER` when set (`redis-server` runs the suites on Redis 7), else `valkey-server`.
 * Servers are stopped by `stop()`/`stopAll()`, and killed on process exit as a last resort.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** One node of the direct form of the bootstrap provider's `nodes` input. */
export interface TestNode {
    id: string;
    host: string;
    port: number;
    zone: string;
}

/** How to start one server. */
export interface ServerOptions {
    host: string;
    port: number;
    /** cluster-node-timeout in ms. Default 2000. */
    nodeTimeoutMs?: number;
    /** requirepass and masterauth. Default none (protected mode off). */
    password?: string;
    /** maxmemory in bytes. Default 0 (no limit). */
    maxmemoryBytes?: number;
    /** More `directive value` lines for the config file. */
    extraConfig?: string[];
    /** Data directory; default a new temporary one under `dataRoot` (removed on stop). */
    dir?: string;
    /** Where temporary data directories go: default `$VALKEY_TEST_DATA_ROOT`, else the OS temp dir. */
    dataRoot?: string;
}

/** A running (or stopped) server process. */
export interface Server extends Required<Pick<ServerOptions, "host" | "port" | "nodeTimeoutMs">> {
    dir: string;
    password?: string;
    options: ServerOptions;
    process?: ChildProcess;
    /** True while the process runs. */
    readonly running: boolean;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    const killAll = (): void => {
        for (const p of live) {
            try {
                p.kill("SIGKILL");
            } catch {
                // already gone
            }
        }
        live.clear();
        for (const d of tempDirs) {
            try {
                fs.rmSync(d, { recursive: true, force: true });
            } catch {
                // best effort
            }
        }
    };
    process.once("exit", killAll);
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.once(sig, () => {
            killAll();
            process.exit(130);
        });
    }
}

function onPath(bin: string): boolean {
    return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

let binaryCache: string | undefined;

/**
 * The server binary: `$VALKEY_SERVER` when set (e.g. `redis-server` for Redis 7), else `valkey-server`, which
 * must be on PATH: the tests never fall back to another server silently.
 */
export function serverBinary(): string {
    if (binaryCache) return binaryCache;
    const chosen = process.env.VALKEY_SERVER || "valkey-server";
    if (!chosen.includes("/") && !onPath(chosen)) {
        throw new Error(
            `${chosen} is not on PATH. Install the servers with 'bash scripts/install-servers.sh' (valkey-server 8 from bookworm-backports, redis-server 7), or set VALKEY_SERVER to a server binary.`,
        );
    }
    binaryCache = chosen;
    return binaryCache;
}

/**
 * The CLI used as the independent judge: `$VALKEY_CLI` when set, else the server's own (`redis-cli` for a Redis
 * server, `valkey-cli` otherwise).
 */
export function cliBinary(): string {
    if (process.env.VALKEY_CLI) return process.env.VALKEY_CLI;
    return path.basename(serverBinary()).startsWith("redis") ? "redis-cli" : "valkey-cli";
}

/**
 * A loopback address of a simulated zone: zone index 0 -> 127.0.1.1, 1 -> 127.0.2.1, ...; `hostIndex` k gives the
 * zone's (k+1)-th address (127.0.1.2, ...).
 */
export function zoneAddress(zoneIndex: number, hostIndex = 0): string {
    return `127.0.${zoneIndex + 1}.${hostIndex + 1}`;
}

/** The name of a simulated zone: 0 -> zone-a, 1 -> zone-b, ... */
export function zoneName(zoneIndex: number): string {
    return `zone-${String.fromCharCode(97 + zoneIndex)}`;
}

function configText(s: Server): string {
    const o = s.options;
    const lines = [
        `port ${s.port}`,
        `bind ${s.host}`,
        `bind-source-addr ${s.host}`,
        `dir ${s.dir}`,
        `logfile ${path.join(s.dir, "server.log")}`,
        "daemonize no",
        "cluster-enabled yes",
        "cluster-config-file nodes.conf",
        `cluster-node-timeout ${s.nodeTimeoutMs}`,
        'save ""',
        "appendonly no",
        // An empty cluster's first sync should not sit out the default 5 s diskless delay.
        "repl-diskless-sync-delay 0",
        `protected-mode ${o.password ? "yes" : "no"}`,
    ];
    if (o.password) {
        lines.push(`requirepass "${o.password}"`, `masterauth "${o.password}"`);
    }
    if (o.maxmemoryBytes) {
        lines.push(`maxmemory ${o.maxmemoryBytes}`, "maxmemory-policy noeviction");
    }
    lines.push(...(o.extraConfig ?? []));
    return lines.join("\n") + "\n";
}

/** Resolves once `host:port` answers PING (or asks for a password), rejects after `timeoutMs`. */
export async function waitForPing(host: string, port: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const sock = net.connect({ host, port });
            let buf = "";
            const done = (v: boolean): void => {
                sock.destroy();
                resolve(v);
            };
            sock.setTimeout(500, () => done(false));
            sock.on("error", () => done(false));
            sock.on("connect", () => sock.write("PING\r\n"));
            sock.on("data", (d) => {
                buf += d.toString();
                if (buf.includes("\r\n"))
                    done(buf.startsWith("+PONG") || buf.startsWith("-NOAUTH"));
            });
        });
        if (ok) return;
        if (Date.now() > deadline)
            throw new Error(`server ${host}:${port} did not answer PING within ${timeoutMs} ms`);
        await sleep(25);
    }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

/** Starts one server and waits until it answers PING. */
export async function startServer(options: ServerOptions): Promise<Server> {
    installExitHook();
    const root = options.dataRoot ?? process.env.VALKEY_TEST_DATA_ROOT ?? os.tmpdir();
    const dir = options.dir ?? fs.mkdtempSync(path.join(root, "valkey-it-"));
    tempDirs.add(dir);
    const server: Server = {
        host: options.host,
        port: options.port,
        nodeTimeoutMs: options.nodeTimeoutMs ?? 2000,
        password: options.password,
        dir,
        options: { ...options, dir },
        get running() {
            return (
                this.process !== undefined &&
                this.process.exitCode === null &&
                this.process.signalCode === null
            );
        },
    };
    await launch(server);
    return server;
}

/** How to start a server other than directly: a script that ends by exec'ing the server with its arguments. */
export interface Launcher {
    command: string;
    /** Arguments before the config file's path. */
    args: string[];
    env?: Record<string, string>;
    /** How long to wait for the first PING answer, ms. Default 10000. */
    timeoutMs?: number;
}

async function launch(server: Server, via?: Launcher): Promise<void> {
    const conf = path.join(server.dir, "server.conf");
    fs.writeFileSync(conf, configText(server), { mode: 0o600 });
    const child = spawn(via ? via.command : serverBinary(), [...(via?.args ?? []), conf], {
        stdio: ["ignore", "ignore", "pipe"],
        detached: false,
        env: { ...process.env, VALKEY_SERVER: serverBinary(), ...via?.env },
    });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += d.toString()));
    live.add(child);
    child.once("exit", () => live.delete(child));
    server.process = child;
    try {
        await Promise.race([
            waitForPing(server.host, server.port, via?.timeoutMs),
            new Promise<never>((_, reject) =>
                child.once("exit", (code) =>
                    reject(
                        new Error(
                            `${serverBinary()} on ${server.host}:${server.port} exited with ${code}: ${stderr}${tail(server)}`,
                        ),
                    ),
                ),
            ),
        ]);
    } catch (e) {
        child.kill("SIGKILL");
        throw e;
    }
}

function tail(server: Server): string {
    try {
        return fs
            .readFileSync(path.join(server.dir, "server.log"), "utf8")
            .split("\n")
            .slice(-5)
            .join("\n");
    } catch {
        return "";
    }
}

/** Kills a server with SIGKILL (a crash: nothing is saved) and waits for the process to exit. */
export async function killServer(server: Server): Promise<void> {
    const p = server.process;
    if (!p || !server.running) return;
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    p.kill("SIGKILL");
    await exited;
}

/**
 * Starts a stopped server again with the same data directory (so the same cluster node id from nodes.conf),
 * optionally on a new port.
 */
export async function restartServer(
    server: Server,
    changes: { port?: number; via?: Launcher } = {},
): Promise<void> {
    await killServer(server);
    if (changes.port !== undefined) {
        server.port = changes.port;
        server.options.port = changes.port;
    }
    await launch(server, changes.via);
}

/** Stops a server and removes its directory. */
export async function stopServer(server: Server): Promise<void> {
    await killServer(server);
    fs.rmSync(server.dir, { recursive: true, force: true });
    tempDirs.delete(server.dir);
}

/** Options of a set of servers spread over zones. */
export interface ClusterServersOptions {
    /** Number of zones (addresses 127.0.1.1, 127.0.2.1, ...). Default 3. */
    zones?: number;
    /** Servers per zone. */
    perZone: number;
    /** Port of the first server; server k listens on basePort + k. Keep ranges apart per test file. */
    basePort: number;
    nodeTimeoutMs?: number;
    password?: string;
    maxmemoryBytes?: number;
    extraConfig?: string[];
    /** Where the servers' data directories go (see `ServerOptions.dataRoot`). */
    dataRoot?: string;
    /**
     * Give every server its own address in its zone's range (ordinal k of zone z: 127.0.(z+1).(k+1)), as pods
     * have, instead of one address per zone. Each server's outbound links then bind ports of its own address:
     * killed servers leave thousands of sockets in TIME_WAIT on their addresses for a minute, and a new server
     * binding its source port on a crowded address pays for the search in kernel time.
     */
    addressPerServer?: boolean;
}

/** A set of servers over simulated zones, with the `nodes` list the bootstrap provider takes. */
export interface ClusterServers {
    servers: Server[];
    /** The nodes in provider order: per zone, in ordinal order (valkey-zone-a-0, valkey-zone-a-1, ...). */
    nodes(): TestNode[];
    /** The server behind a node id. */
    server(id: string): Server;
    /** Starts more servers per zone (ordinals continue), e.g. before adding shards. */
    grow(perZone: number): Promise<void>;
    stopAll(): Promise<void>;
}

/**
 * Starts `zones x perZone` servers in parallel; node `valkey-<zone>-<ordinal>` of zone z listens on
 * 127.0.(z+1).1 and port basePort + z * 100 + ordinal (so each zone's ordinals can grow without clashing).
 */
export async function startClusterServers(options: ClusterServersOptions): Promise<ClusterServers> {
    const zones = options.zones ?? 3;
    const byId = new Map<string, { server: Server; zone: string; ordinal: number }>();
    const order: string[] = [];
    const perZoneCount = new Array<number>(zones).fill(0);
    const startMore = async (perZone: number): Promise<void> => {
        const starts: Promise<void>[] = [];
        for (let z = 0; z < zones; z++) {
            for (let k = 0; k < perZone; k++) {
                const ordinal = perZoneCount[z]++;
                const id = `valkey-${zoneName(z)}-${ordinal}`;
                order.push(id);
                starts.push(
                    startServer({
                        host: zoneAddress(z, options.addressPerServer ? ordinal : 0),
                        port: options.basePort + z * 100 + ordinal,
                        nodeTimeoutMs: options.nodeTimeoutMs,
                        password: options.password,
                        maxmemoryBytes: options.maxmemoryBytes,
                        extraConfig: options.extraConfig,
                        dataRoot: options.dataRoot,
                    }).then((server) => {
                        byId.set(id, { server, zone: zoneName(z), ordinal });
                    }),
                );
            }
        }
        const results = await Promise.allSettled(starts);
        const failed = results.find((r) => r.status === "rejected") as
            PromiseRejectedResult | undefined;
        if (failed) throw failed.reason;
    };
    const set: ClusterServers = {
        get servers() {
            return order.map((id) => byId.get(id)!.server);
        },
        nodes() {
            const list: TestNode[] = [];
            for (let z = 0; z < zones; z++) {
                for (const id of order) {
                    const e = byId.get(id)!;
                    if (e.zone === zoneName(z))
                        list.push({ id, host: e.server.host, port: e.server.port, zone: e.zone });
                }
            }
            return list;
        },
        server(id) {
            const e = byId.get(id);
            if (!e) throw new Error(`no server ${id}`);
            return e.server;
        },
        grow: startMore,
        async stopAll() {
            await Promise.all([...byId.values()].map((e) => stopServer(e.server)));
        },
    };
    try {
        await startMore(options.perZone);
    } catch (e) {
        await set.stopAll();
        throw e;
    }
    return set;
}

/** The verdict of `redis-cli --cluster check`. */
export interface ClusterCheck {
    ok: boolean;
    output: string;
}

/**
 * Runs `redis-cli --cluster check host:port` (the independent judge) and returns pass/fail with its output.
 * Fails on a non-zero exit and on any `[ERR]` or `[WARNING]` line. The password goes through REDISCLI_AUTH,
 * never the command line.
 */
export async function clusterCheck(
    host: string,
    port: number,
    password?: string,
): Promise<ClusterCheck> {
    const env = { ...process.env };
    if (password) env.REDISCLI_AUTH = password;
    else delete env.REDISCLI_AUTH;
    return new Promise((resolve) => {
        const child = spawn(cliBinary(), ["--cluster", "check", `${host}:${port}`], {
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (d) => (output += d.toString()));
        child.stderr.on("data", (d) => (output += d.toString()));
        child.on("error", (e) =>
            resolve({
                ok: false,
                output: `${output}\n${cliBinary()} failed to start: ${e.message}`,
            }),
        );
        // "close", not "exit": the output streams may still hold data when the process exits.
        child.on("close", (code, signal) => {
            const bad =
                /\[ERR\]|\[WARNING\]/.test(output) ||
                !output.includes("[OK] All 16384 slots covered");
            resolve({
                ok: code === 0 && !bad,
                output: code === 0 ? output : `${output}\n(exit ${code ?? signal})`,
            });
        });
    });
}

/** Sends one command with a short-lived raw connection and returns the reply as text (bulk or status). */
export async function rawCommand(
    host: string,
    port: number,
    args: string[],
    password?: string,
): Promise<string> {
    const Redis = require("iovalkey") as typeof import("iovalkey").default;
    const client = new Redis({
        host,
        port,
        password,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 2000,
    });
    try {
        await client.connect();
        const reply = await client.call(args[0], ...args.slice(1));
        return Array.isArray(reply) ? JSON.stringify(reply) : String(reply);
    } finally {
        client.disconnect();
    }
}

/**
 * Checks that every replica among `nodes` reports master_link_status:up (protected mode or a missing masterauth
 * break replication silently while `--cluster check` stays green). Returns the nodes that are not linked.
 */
export async function replicasLinked(
    nodes: { id?: string; host: string; port: number }[],
    password?: string,
): Promise<{ ok: boolean; replicas: number; problems: string[] }> {
    const problems: string[] = [];
    let replicas = 0;
    await Promise.all(
        nodes.map(async (n) => {
            const name = n.id ?? `${n.host}:${n.port}`;
            try {
                const info = await rawCommand(n.host, n.port, ["INFO", "replication"], password);
                if (/^role:slave/m.test(info)) {
                    replicas++;
                    if (!/^master_link_status:up/m.test(info))
                        problems.push(
                            `${name}: ${/^master_link_status:.*$/m.exec(info)?.[0] ?? "no link status"}`,
                        );
                }
            } catch (e) {
                problems.push(`${name}: ${(e as Error).message}`);
            }
        }),
    );
    return { ok: problems.length === 0, replicas, problems };
}
