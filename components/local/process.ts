/**
 * The runtime of the ValkeyServer provider: start, probe and stop one server process on loopback, speaking
 * just enough of the protocol (RESP) for PING, CLUSTER MYID, CONFIG SET and SHUTDOWN.
 *
 * This module is serialized with the provider into the state and runs in the engine's dynamic-provider
 * process, so it imports nothing at runtime: every library is `require`d inside the function that uses it,
 * and everything here is a plain function or plain data.
 */

/** The files a local node keeps in its directory. */
export const LOCAL_FILES = {
    /** The rendered configuration the server is started with (mode 0600: it holds the password, if any). */
    conf: "valkey.conf",
    /** The server's stdout and stderr. */
    log: "server.log",
    pid: "server.pid",
    /** The node's cluster state: its node id, epoch and what it knows of the others. */
    nodes: "nodes.conf",
    /** Marks a directory this platform created, so deleting a node never removes a directory it did not make. */
    marker: ".valkey-platform",
} as const;

/** The inputs of one server process, as the provider receives them (plain values). */
export interface ValkeyServerInputs {
    /** The zone the node stands for. */
    zone: string;
    /** The zone's loopback address, e.g. `127.0.2.1`. */
    host: string;
    /** Client port. */
    port: number;
    /** Cluster-bus port (client port + 10000 unless configured otherwise). */
    busPort: number;
    /** The node's own directory, absolute. */
    dataDir: string;
    /** `valkey-server`, `redis-server` or a path to either. */
    binary: string;
    /** aof+rdb | rdb | none: SHUTDOWN saves with persistence; delete removes the directory without. */
    persistence: string;
    /** The configuration file's text (`renderLocalConf`); secret when it holds a password. */
    conf: string;
    /** The directives an update applies to the running server with CONFIG SET, as [name, value]. */
    liveConfig: [string, string][];
    /** requirepass and masterauth; unset means no auth (the server binds to loopback only). */
    password?: string;
    /** How long create waits for the first PONG. Default 20000 ms. */
    startTimeoutMs?: number;
}

/** What the provider records for a server: its inputs plus what it observed. */
export interface ValkeyServerOutputs extends ValkeyServerInputs {
    /** The server's process id. */
    pid: number;
    /** Whether the server answered PING when last created, updated or read (`pulumi refresh`). */
    alive: boolean;
    /** The Valkey node id (CLUSTER MYID), kept in nodes.conf across restarts. */
    nodeId: string;
}

const DEFAULT_START_TIMEOUT_MS = 20000;
/** How long a stop waits for SHUTDOWN, then for SIGTERM, before it sends SIGKILL. */
export const STOP_TIMEOUT_MS = 10000;

// Protocol.

/** A reply of the server: simple string, integer, bulk string (null when absent) or array. */
export type Reply = string | number | null | Reply[];

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends one command on a fresh iovalkey connection (authenticated when a password is given) and resolves with
 * its reply. With `closeIsReply` a connection the server closes without replying counts as success (SHUTDOWN
 * does that). No retries and no offline queue: a node that does not answer is an answer here.
 */
export async function command(
    host: string,
    port: number,
    args: string[],
    opts: { password?: string; timeoutMs?: number; closeIsReply?: boolean } = {},
): Promise<Reply> {
    // Required inside the function: the provider is serialized into the state and run in another process.
    const { Valkey } = require("iovalkey") as typeof import("iovalkey");
    const timeoutMs = opts.timeoutMs ?? 2000;
    const client = new Valkey({
        host,
        port,
        password: opts.password,
        lazyConnect: true,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        reconnectOnError: () => false,
    });
    // Errors also arrive as events; the awaited calls below report them.
    client.on("error", () => undefined);
    let sent = false;
    try {
        await client.connect();
        sent = true;
        return (await client.call(args[0], ...args.slice(1))) as Reply;
    } catch (e) {
        const message = (e as Error).message ?? String(e);
        if (opts.closeIsReply && sent && /Connection is closed|ECONNRESET|EPIPE/.test(message)) {
            return null;
        }
        if (/timed? ?out/i.test(message)) {
            throw new Error(`${host}:${port} did not answer ${args[0]} within ${timeoutMs} ms`);
        }
        if (!sent) {
            throw new Error(`${host}:${port} cannot be reached for ${args[0]}: ${message}`);
        }
        throw new Error(`${host}:${port} refused ${args[0]}: ${message}`);
    } finally {
        client.disconnect();
    }
}

// Processes and files.

/** True when the server at host:port answers PING with PONG (false while it loads or when nothing listens). */
export async function answersPing(host: string, port: number, password?: string): Promise<boolean> {
    try {
        return (await command(host, port, ["PING"], { password, timeoutMs: 1000 })) === "PONG";
    } catch {
        return false;
    }
}

/** True when a process with this id exists and is not a zombie. */
export function processAlive(pid: number | undefined): boolean {
    if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
    try {
        process.kill(pid, 0);
    } catch (e) {
        // EPERM: it exists but belongs to someone else.
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
    const fs = require("node:fs") as typeof import("node:fs");
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
        return true;
    }
}

/**
 * True when process `pid` is the server of `port`: the server sets its title to `<binary> <host>:<port>
 * [cluster]`. Guards against signalling an unrelated process that reused the id after a reboot.
 */
export function processServes(pid: number, port: number): boolean {
    const fs = require("node:fs") as typeof import("node:fs");
    let title: string | undefined;
    try {
        title = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
        try {
            const { execFileSync } =
                require("node:child_process") as typeof import("node:child_process");
            title = execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
        } catch {
            return false;
        }
    }
    return new RegExp(`:${port}\\b`).test(title);
}

/** The pid in the node's pid file, when there is one. */
function pidFromFile(dataDir: string): number | undefined {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    try {
        const pid = Number(fs.readFileSync(path.join(dataDir, LOCAL_FILES.pid), "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** The process that serves this node now: the recorded pid, else the pid file's, if it still serves the port. */
export function currentPid(props: {
    pid?: number;
    port: number;
    dataDir: string;
}): number | undefined {
    for (const pid of [props.pid, pidFromFile(props.dataDir)]) {
        if (pid && processAlive(pid) && processServes(pid, props.port)) return pid;
    }
    return undefined;
}

/** The last lines of the node's log, for error messages. */
export function logTail(dataDir: string, lines = 15): string {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    try {
        const text = fs.readFileSync(path.join(dataDir, LOCAL_FILES.log), "utf8").trimEnd();
        return text.split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

/**
 * Why host:port cannot be bound, or undefined when it can. Checked before starting a server so a clash names
 * the port instead of ending in a timeout.
 */
export function bindProblem(host: string, port: number): Promise<string | undefined> {
    const net = require("node:net") as typeof import("node:net");
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", (e: NodeJS.ErrnoException) => {
            if (e.code === "EADDRINUSE") {
                resolve(`port ${port} on ${host} is already in use by another process`);
            } else if (e.code === "EADDRNOTAVAIL") {
                resolve(
                    `${host} is not an address of this machine; on Linux all of 127.0.0.0/8 is loopback, on macOS add it with "sudo ifconfig lo0 alias ${host} up"`,
                );
            } else {
                resolve(`cannot bind ${host}:${port}: ${e.message}`);
            }
        });
        server.listen({ host, port, exclusive: true }, () =>
            server.close(() => resolve(undefined)),
        );
    });
}

/** What `<binary> --version` prints, or "" when it cannot run. */
export function serverVersionText(binary: string): string {
    const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
    const r = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
    return r.status === 0 ? String(r.stdout) : "";
}

/** Whether a command name resolves to an executable, on PATH or as a path. */
export function executableExists(binary: string): boolean {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    const candidates = binary.includes("/")
        ? [binary]
        : (process.env.PATH ?? "")
              .split(path.delimiter)
              .filter((d) => d !== "")
              .map((d) => path.join(d, binary));
    return candidates.some((file) => {
        try {
            fs.accessSync(file, fs.constants.X_OK);
            return fs.statSync(file).isFile();
        } catch {
            return false;
        }
    });
}

/** The inputs of a property bag (outputs carry more), without undefined optional fields. */
export function inputsOf(props: ValkeyServerInputs): ValkeyServerInputs {
    return {
        zone: props.zone,
        host: props.host,
        port: props.port,
        busPort: props.busPort,
        dataDir: props.dataDir,
        binary: props.binary,
        persistence: props.persistence,
        conf: props.conf,
        liveConfig: props.liveConfig,
        ...(props.password !== undefined && props.password !== null
            ? { password: props.password }
            : {}),
        ...(props.startTimeoutMs !== undefined && props.startTimeoutMs !== null
            ? { startTimeoutMs: props.startTimeoutMs }
            : {}),
    };
}

/**
 * Creates the node's directory (with the marker that allows removing it later) and writes its configuration.
 * `fresh` empties it first: a node without persistence starts with a new node id and no stale cluster state.
 */
export function prepareDir(inputs: ValkeyServerInputs, fresh: boolean): string {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    if (fresh) removeNodeDir(inputs.dataDir);
    const existed = fs.existsSync(inputs.dataDir);
    fs.mkdirSync(inputs.dataDir, { recursive: true });
    if (!existed)
        fs.writeFileSync(
            path.join(inputs.dataDir, LOCAL_FILES.marker),
            "created by valkey-platform\n",
        );
    const confPath = path.join(inputs.dataDir, LOCAL_FILES.conf);
    fs.writeFileSync(confPath, inputs.conf, { mode: 0o600 });
    fs.chmodSync(confPath, 0o600);
    return confPath;
}

/**
 * Removes a node's directory when this platform created it (it holds the marker); otherwise removes only the
 * files a server writes there, so a misconfigured dataDir never costs someone else's files.
 */
export function removeNodeDir(dataDir: string): void {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    if (!fs.existsSync(dataDir)) return;
    if (fs.existsSync(path.join(dataDir, LOCAL_FILES.marker))) {
        fs.rmSync(dataDir, { recursive: true, force: true });
        return;
    }
    const known = [...Object.values(LOCAL_FILES), "dump.rdb", "appendonly.aof", "appendonlydir"];
    for (const name of known) {
        fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
    }
}

/**
 * Starts the server detached (its own session, output to server.log) so it outlives the `pulumi up` process,
 * and waits until it answers PING. On failure nothing is left running and the error carries the log's tail.
 */
export async function startServer(inputs: ValkeyServerInputs, fresh: boolean): Promise<number> {
    const fs = require("node:fs") as typeof import("node:fs");
    const path = require("node:path") as typeof import("node:path");
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    const where = `${inputs.host}:${inputs.port}`;
    for (const port of [inputs.port, inputs.busPort]) {
        // A server that was just killed may hold its port for a moment while the kernel closes its sockets.
        let problem = await bindProblem(inputs.host, port);
        for (let i = 0; problem?.includes("already in use") && i < 10; i++) {
            await new Promise((resolve) => setTimeout(resolve, 300));
            problem = await bindProblem(inputs.host, port);
        }
        if (problem) {
            const role = port === inputs.port ? "client port" : "cluster bus port";
            throw new Error(
                `cannot start the Valkey node ${where} (zone ${inputs.zone}): its ${role} is not free: ${problem}. Stop that process or choose another valkey:local.basePort.`,
            );
        }
    }
    const confPath = prepareDir(inputs, fresh);
    const logPath = path.join(inputs.dataDir, LOCAL_FILES.log);
    const logFd = fs.openSync(logPath, "a");
    let child: import("node:child_process").ChildProcess;
    try {
        child = spawn(inputs.binary, [confPath], {
            cwd: inputs.dataDir,
            detached: true,
            stdio: ["ignore", logFd, logFd],
        });
        await new Promise<void>((resolve, reject) => {
            child.once("spawn", resolve);
            child.once("error", (e: NodeJS.ErrnoException) =>
                reject(
                    new Error(
                        e.code === "ENOENT"
                            ? `cannot start the Valkey node ${where}: "${inputs.binary}" was not found. Install Valkey (valkey-server) or Redis 7 (redis-server), or set valkey:local.serverBinary.`
                            : `cannot start the Valkey node ${where} with "${inputs.binary}": ${e.message}`,
                    ),
                ),
            );
        });
    } finally {
        fs.closeSync(logFd);
    }
    let exited: string | undefined;
    child.on("exit", (code, signal) => {
        exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    child.unref();
    const pid = child.pid!;
    const timeout = inputs.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    for (;;) {
        if (exited !== undefined) {
            throw new Error(
                `the Valkey node ${where} (${inputs.binary}) ${exited} right after starting. The end of ${logPath}:\n${logTail(inputs.dataDir)}`,
            );
        }
        if (await answersPing(inputs.host, inputs.port, inputs.password)) return pid;
        if (Date.now() > deadline) {
            await stopPid(pid, inputs.port, 2000, true);
            throw new Error(
                `the Valkey node ${where} did not answer PING within ${timeout} ms and was stopped. The end of ${logPath}:\n${logTail(inputs.dataDir)}`,
            );
        }
        await sleep(100);
    }
}

/** Waits until a process is gone; true when it went within `ms`. */
export async function waitGone(pid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (processAlive(pid)) {
        if (Date.now() > deadline) return false;
        await sleep(50);
    }
    return true;
}

/**
 * SIGTERM (the server shuts down as configured), then SIGKILL after `ms`. Unless `ours` (a process this
 * provider just spawned, which may not have set its title yet), only a process that serves `port` is signalled.
 */
export async function stopPid(pid: number, port: number, ms: number, ours = false): Promise<void> {
    if (!processAlive(pid) || (!ours && !processServes(pid, port))) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    if (await waitGone(pid, ms)) return;
    try {
        process.kill(pid, "SIGKILL");
    } catch {
        return;
    }
    if (!(await waitGone(pid, 5000))) {
        throw new Error(
            `the Valkey server process ${pid} (port ${port}) did not stop, even after SIGKILL`,
        );
    }
}

/**
 * Stops a node: SHUTDOWN (NOSAVE without persistence, so it never writes a snapshot nobody reads), then
 * SIGTERM and SIGKILL after a bound when it does not go.
 */
export async function stopServer(props: ValkeyServerOutputs): Promise<void> {
    const pid = currentPid(props);
    if (pid === undefined) return;
    const args = props.persistence === "none" ? ["SHUTDOWN", "NOSAVE"] : ["SHUTDOWN"];
    try {
        await command(props.host, props.port, args, {
            password: props.password,
            timeoutMs: STOP_TIMEOUT_MS,
            closeIsReply: true,
        });
    } catch {
        // Unreachable or refusing (e.g. a failed save): signals below.
    }
    if (await waitGone(pid, STOP_TIMEOUT_MS)) return;
    await stopPid(pid, props.port, STOP_TIMEOUT_MS);
}

/** The node id of a running server. */
export async function nodeIdOf(inputs: ValkeyServerInputs): Promise<string> {
    return String(
        await command(inputs.host, inputs.port, ["CLUSTER", "MYID"], { password: inputs.password }),
    );
}

/** Starts a server and returns its outputs; nothing stays running when it fails. */
export async function launch(
    inputs: ValkeyServerInputs,
    fresh: boolean,
): Promise<ValkeyServerOutputs> {
    const pid = await startServer(inputs, fresh);
    try {
        return { ...inputsOf(inputs), pid, alive: true, nodeId: await nodeIdOf(inputs) };
    } catch (e) {
        await stopPid(pid, inputs.port, 2000, true);
        throw e;
    }
}

/**
 * Applies new settings to a running server: CONFIG SET of each live directive (authenticated with the old
 * password), then the password itself. The configuration file was rewritten before, so a restart keeps them.
 */
export async function applyLive(
    olds: ValkeyServerOutputs,
    news: ValkeyServerInputs,
): Promise<void> {
    const opts = { password: olds.password };
    for (const [name, value] of news.liveConfig) {
        await command(news.host, news.port, ["CONFIG", "SET", name, value], opts);
    }
    if ((olds.password ?? "") !== (news.password ?? "")) {
        // masterauth first: a replica keeps reaching its primary while the primaries change their password.
        await command(
            news.host,
            news.port,
            ["CONFIG", "SET", "masterauth", news.password ?? ""],
            opts,
        );
        await command(
            news.host,
            news.port,
            ["CONFIG", "SET", "requirepass", news.password ?? ""],
            opts,
        );
    }
}
