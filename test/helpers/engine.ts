/**
 * The real Pulumi engine over a throw-away copy of the project, for the engine tests
 * (test/integration/engine*.test.ts), and the independent judges they use: `redis-cli --cluster check`,
 * INFO replication on every node, the server processes on the stack's ports, and a cluster-aware writer.
 *
 * A copy never touches the user's own state or stack files: it lives in a temporary directory (index.ts,
 * components/, policy/, Pulumi.yaml, Pulumi.local.yaml, package.json, tsconfig.json, and a symlink to the
 * repository's node_modules) with its own file backend, its own `valkey:local.basePort` and `valkey:local.dataDir`.
 * It shares the repository's PULUMI_HOME (plugins, nothing stack-specific).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

/** The repository root. */
export const ROOT = path.resolve(__dirname, "..", "..");
/** The engine that scripts/toolchain/install.sh builds, and its environment. */
export const TOOLCHAIN_BIN = path.join(ROOT, ".toolchain", "bin");
const ENV_SH = path.join(ROOT, "scripts", "toolchain", "env.sh");

/** What the project copy holds besides node_modules. */
export const PROJECT_FILES = [
    "index.ts",
    "components",
    "policy",
    "Pulumi.yaml",
    "package.json",
    "tsconfig.json",
] as const;

/** The versions pinned in scripts/toolchain/versions.env. */
export function pinnedVersions(): Record<string, string> {
    const text = fs.readFileSync(path.join(ROOT, "scripts", "toolchain", "versions.env"), "utf8");
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^([A-Z_]+)=(\S+)$/.exec(line.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

/**
 * Why the engine cannot run the tests (undefined when it can): the CLI of the pinned version with the Node
 * language host beside it and the dynamic-provider host, as `bash scripts/toolchain/install.sh` leaves them in
 * .toolchain/bin (or an official install of the pinned version on PATH, which install.sh accepts too).
 */
export function engineProblem(): string | undefined {
    const fix =
        "run `bash scripts/toolchain/install.sh` (it builds the engine into .toolchain/bin)";
    const want = `v${pinnedVersions().PULUMI_VERSION}`;
    const res = spawnSync(
        "bash",
        [
            "-c",
            `. "${ENV_SH}" && command -v pulumi && pulumi version && command -v pulumi-language-nodejs && command -v pulumi-resource-pulumi-nodejs`,
        ],
        { encoding: "utf8", timeout: 30_000 },
    );
    const lines = (res.stdout ?? "").trim().split("\n");
    if (!lines[0]) {
        return `The Pulumi engine is not built: no pulumi in .toolchain/bin or on PATH; ${fix}.`;
    }
    if (lines[1] !== want) {
        return `The Pulumi engine at ${lines[0]} reports ${JSON.stringify(lines[1] ?? res.stderr)}, not the pinned ${want}; ${fix}.`;
    }
    if (!lines[2]) {
        return `The Pulumi engine has no Node language host (pulumi-language-nodejs) beside ${lines[0]}; ${fix}.`;
    }
    if (!lines[3] || !fs.existsSync(lines[3])) {
        return `The dynamic-provider host pulumi-resource-pulumi-nodejs is missing (it links into node_modules/@pulumi/pulumi); run npm ci, then ${fix}.`;
    }
    return undefined;
}

/**
 * Whether the engine tests run: skipped only with VALKEY_SKIP_ENGINE_TESTS=1; otherwise `problem` is set when
 * the engine is missing, and the tests must fail with it (a missing engine is a broken setup, not a skip).
 */
export function engineGate(): { skip: string | false; problem?: string } {
    if (process.env.VALKEY_SKIP_ENGINE_TESTS === "1") {
        return { skip: "VALKEY_SKIP_ENGINE_TESTS=1" };
    }
    return { skip: false, problem: engineProblem() };
}

/** The result of one CLI run. */
export interface RunResult {
    /** The exit code; null when the run was killed. */
    code: number | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved as they arrived. */
    out: string;
    /** Wall time in ms. */
    ms: number;
    /** Set when the run hit its time limit and was killed. */
    timedOut: boolean;
}

/** The sleep of a test. */
export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs a command in its own process group (so a time-out stops the whole tree: CLI, language host, program,
 * provider hosts), capturing its output. Never rejects: the caller judges the result.
 */
export function runProcess(
    command: string,
    args: string[],
    opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child: ChildProcess = spawn(command, args, {
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let stderr = "";
        let out = "";
        let timedOut = false;
        child.stdout!.on("data", (d: Buffer) => {
            stdout += d;
            out += d;
        });
        child.stderr!.on("data", (d: Buffer) => {
            stderr += d;
            out += d;
        });
        const killGroup = (signal: NodeJS.Signals): void => {
            try {
                process.kill(-child.pid!, signal);
            } catch {
                // already gone
            }
        };
        const timer = setTimeout(() => {
            timedOut = true;
            killGroup("SIGTERM");
            setTimeout(() => killGroup("SIGKILL"), 10_000).unref();
        }, opts.timeoutMs);
        const finish = (code: number | null): void => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr, out, ms: Date.now() - started, timedOut });
        };
        child.on("error", (e) => {
            out += String(e);
            finish(null);
        });
        child.on("close", (code) => finish(timedOut ? null : code));
    });
}

/** A one-line account of a failed run, for assertion messages. */
export function describeRun(what: string, r: RunResult): string {
    const how = r.timedOut ? `timed out after ${r.ms} ms` : `exited ${r.code} after ${r.ms} ms`;
    return `${what} ${how}; output:\n${r.out.slice(-12_000)}`;
}

/** Options of a project copy. */
export interface EngineProjectOptions {
    /** Part of the temporary directory's name. */
    label: string;
    /**
     * valkey:local.basePort of the copy (local stacks): its nodes use basePort .. basePort + 19 (and their bus
     * ports). Without it the copy sets no local.* config.
     */
    basePort?: number;
    /** The stack. Default `local`. */
    stack?: string;
}

/**
 * A copy of the project in a temporary directory with its own file backend and data directory, driven through
 * the real CLI. `cleanup()` destroys the stack, removes it, stops any server left on its ports and deletes the
 * directory; call it from an `after` hook.
 */
export class EngineProject {
    /** The copy. */
    readonly dir: string;
    /** The file backend (PULUMI_BACKEND_URL). */
    readonly stateDir: string;
    /** valkey:local.dataDir: one directory per node. */
    readonly dataDir: string;
    readonly stack: string;
    readonly basePort: number;
    /** The ports a copy owns: basePort .. basePort + PORT_SPAN - 1. */
    static readonly PORT_SPAN = 20;
    private initialised = false;

    private constructor(root: string, opts: EngineProjectOptions) {
        this.dir = path.join(root, "project");
        this.stateDir = path.join(root, "state");
        this.dataDir = path.join(root, "data");
        this.stack = opts.stack ?? "local";
        this.basePort = opts.basePort ?? 0;
    }

    /** The temporary directory that holds the copy, its state and its data. */
    get root(): string {
        return path.dirname(this.dir);
    }

    /** The ports of this copy's nodes (client ports). */
    get ports(): number[] {
        return Array.from({ length: EngineProject.PORT_SPAN }, (_, i) => this.basePort + i);
    }

    /**
     * Copies the project, creates the stack in the copy's own backend and points its basePort and dataDir at
     * the copy. Throws with the CLI's output when a step fails.
     */
    static async create(opts: EngineProjectOptions): Promise<EngineProject> {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), `valkey-engine-${opts.label}-`));
        const p = new EngineProject(root, opts);
        fs.mkdirSync(p.dir);
        fs.mkdirSync(p.stateDir);
        fs.mkdirSync(p.dataDir);
        for (const f of [...PROJECT_FILES, `Pulumi.${p.stack}.yaml`]) {
            fs.cpSync(path.join(ROOT, f), path.join(p.dir, f), {
                recursive: true,
                // A node_modules inside policy/ would be a second @pulumi/pulumi; the copy resolves upwards.
                filter: (src) => path.basename(src) !== "node_modules",
            });
        }
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(p.dir, "node_modules"));
        killOnExit(root);
        const init = await p.pulumi(["stack", "init", p.stack], { timeoutMs: 60_000 });
        if (init.code !== 0) throw new Error(describeRun(`pulumi stack init ${p.stack}`, init));
        p.initialised = true;
        if (opts.basePort !== undefined) {
            await p.configSet("local.basePort", String(opts.basePort), { path: true });
            await p.configSet("local.dataDir", p.dataDir, { path: true });
        }
        return p;
    }

    /**
     * Runs `pulumi <args> --non-interactive --color never` in the copy, with env.sh's environment (engine on
     * PATH, PULUMI_HOME, empty passphrase, no downloads) and the copy's own backend.
     */
    pulumi(
        args: string[],
        opts: { timeoutMs: number; env?: Record<string, string> },
    ): Promise<RunResult> {
        const script =
            '. "$1" && export PULUMI_BACKEND_URL="$2" && shift 2 && exec pulumi "$@" --non-interactive --color never';
        const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
        // The copy's stack only: a backend or stack chosen in the caller's shell must not leak in.
        delete env.PULUMI_BACKEND_URL;
        delete env.PULUMI_STACK;
        return runProcess(
            "bash",
            ["-c", script, "bash", ENV_SH, `file://${this.stateDir}`, ...args],
            { cwd: this.dir, env, timeoutMs: opts.timeoutMs },
        );
    }

    /**
     * `pulumi config set valkey:<key> <value>` on the copy's stack (with `--path` for nested keys, `--secret` to
     * store it encrypted).
     */
    async configSet(
        key: string,
        value: string,
        opts: { path?: boolean; secret?: boolean } = {},
    ): Promise<void> {
        const args = [
            "config",
            "set",
            ...(opts.path ? ["--path"] : []),
            ...(opts.secret ? ["--secret"] : []),
            `valkey:${key}`,
            value,
            "-s",
            this.stack,
        ];
        const r = await this.pulumi(args, { timeoutMs: 60_000 });
        if (r.code !== 0) throw new Error(describeRun(`pulumi ${args.join(" ")}`, r));
    }

    /**
     * Runs `fn` while the copy's program has a bug: a stack transformation (registered before index.ts runs)
     * merges `props` into the inputs of the slot-bootstrap resource (`<name>-slots`). For plans that config
     * validation refuses, so only a broken program could produce them: what the policy pack exists to catch.
     * The copy's Pulumi.yaml is restored afterwards.
     */
    async withFault<T>(props: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
        const projectFile = path.join(this.dir, "Pulumi.yaml");
        const original = fs.readFileSync(projectFile, "utf8");
        const main = /^main: (.+)$/m.exec(original)?.[1]?.trim();
        if (main !== "index.ts")
            throw new Error(
                `the copy's Pulumi.yaml has main ${JSON.stringify(main)}, expected index.ts`,
            );
        fs.writeFileSync(
            path.join(this.dir, "engine-fault.ts"),
            [
                'import * as pulumi from "@pulumi/pulumi";',
                `const fault: Record<string, unknown> = ${JSON.stringify(props)};`,
                "pulumi.runtime.registerStackTransformation((a) =>",
                '    a.type === "pulumi-nodejs:dynamic:Resource" && a.name.endsWith("-slots") && "shards" in a.props',
                "        ? { props: { ...a.props, ...fault }, opts: a.opts }",
                "        : undefined,",
                ");",
                "",
            ].join("\n"),
        );
        fs.writeFileSync(
            path.join(this.dir, "engine-fault-main.ts"),
            '// The program with the fault of engine-fault.ts: registered first, then the real program runs.\nimport "./engine-fault";\nexport * from "./index";\n',
        );
        fs.writeFileSync(
            projectFile,
            original.replace(/^main: index\.ts$/m, "main: engine-fault-main.ts"),
        );
        try {
            return await fn();
        } finally {
            fs.writeFileSync(projectFile, original);
            fs.rmSync(path.join(this.dir, "engine-fault.ts"), { force: true });
            fs.rmSync(path.join(this.dir, "engine-fault-main.ts"), { force: true });
        }
    }

    /** Tells `cleanup()` that the stack is gone (a test removed it), so only processes and files remain. */
    forgetStack(): void {
        this.initialised = false;
    }

    /** The stack outputs (secrets shown). */
    async outputs(): Promise<Record<string, unknown>> {
        const r = await this.pulumi(
            ["stack", "output", "--json", "--show-secrets", "-s", this.stack],
            {
                timeoutMs: 60_000,
            },
        );
        if (r.code !== 0) throw new Error(describeRun("pulumi stack output", r));
        return JSON.parse(r.stdout) as Record<string, unknown>;
    }

    /**
     * Undoes everything the copy did, whatever state a failed test left: `pulumi destroy` (unless `destroyed`),
     * `pulumi stack rm`, then SIGKILL for any server process still running from the copy's data directory, and
     * the directory itself. Returns what it had to clean up by force (empty when the tests did their job).
     */
    async cleanup(): Promise<string[]> {
        const notes: string[] = [];
        if (this.initialised) {
            const destroy = await this.pulumi(
                ["destroy", "-s", this.stack, "--yes", "--skip-preview"],
                {
                    timeoutMs: 180_000,
                },
            );
            if (destroy.code !== 0) notes.push(describeRun("cleanup: pulumi destroy", destroy));
            const rm = await this.pulumi(["stack", "rm", this.stack, "--yes", "--force"], {
                timeoutMs: 60_000,
            });
            if (rm.code !== 0 && !/no stack named/i.test(rm.out)) {
                notes.push(describeRun("cleanup: pulumi stack rm", rm));
            }
        }
        for (const proc of processesUnder(this.root)) {
            notes.push(
                `cleanup: killed ${proc.pid} (${proc.cmdline}), still running from ${proc.cwd}`,
            );
            try {
                process.kill(proc.pid, "SIGKILL");
            } catch {
                // gone meanwhile
            }
        }
        fs.rmSync(this.root, { recursive: true, force: true });
        exitRoots.delete(this.root);
        return notes;
    }
}

const exitRoots = new Set<string>();
let exitHookInstalled = false;

/**
 * Last resort when the test process ends without its `after` hook (Ctrl-C, a crash): SIGKILL the servers
 * started from `root` and remove it. `cleanup()` does this properly and unregisters the root.
 */
function killOnExit(root: string): void {
    if (!exitHookInstalled) {
        exitHookInstalled = true;
        const killAll = (): void => {
            for (const r of exitRoots) {
                for (const proc of processesUnder(r)) {
                    try {
                        process.kill(proc.pid, "SIGKILL");
                    } catch {
                        // gone meanwhile
                    }
                }
                fs.rmSync(r, { recursive: true, force: true });
            }
        };
        process.once("exit", killAll);
        for (const signal of ["SIGINT", "SIGTERM"] as const) {
            process.once(signal, () => {
                killAll();
                process.exit(130);
            });
        }
    }
    exitRoots.add(root);
}

/** A process on this machine. */
export interface ProcessInfo {
    pid: number;
    cmdline: string;
    cwd: string;
}

function listProcesses(): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const cmdline = fs
                .readFileSync(`/proc/${entry}/cmdline`, "utf8")
                .replace(/\0/g, " ")
                .trim();
            const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
            out.push({ pid: Number(entry), cmdline, cwd });
        } catch {
            // gone, or not ours to read
        }
    }
    return out;
}

/**
 * Server processes whose working directory is inside `root`: the local platform starts each server in its
 * node directory, so this finds exactly the servers of one project copy and never anybody else's.
 */
export function processesUnder(root: string): ProcessInfo[] {
    const prefix = root.endsWith(path.sep) ? root : root + path.sep;
    return listProcesses().filter(
        (p) => /(valkey|redis)-server/.test(p.cmdline) && (p.cwd + path.sep).startsWith(prefix),
    );
}

/**
 * `pgrep -af` for server processes on any of `ports` (the server sets its title to `<binary> <host>:<port>
 * [cluster]`): the lines it prints, empty when none runs.
 */
export function serversOnPorts(ports: number[]): string[] {
    const pattern = `(valkey|redis)-server [0-9.]+:(${ports.join("|")})( |$)`;
    const r = spawnSync("pgrep", ["-af", pattern], { encoding: "utf8" });
    return (r.stdout ?? "")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.includes("pgrep"));
}

/** The CLI used as the independent judge: `valkey-cli` when on PATH, else `redis-cli`. */
export function cliBinary(): string {
    if (process.env.VALKEY_CLI) return process.env.VALKEY_CLI;
    const found =
        spawnSync("sh", ["-c", "command -v valkey-cli"], { stdio: "ignore" }).status === 0;
    return found ? "valkey-cli" : "redis-cli";
}

/** `host:port` split. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
    const i = endpoint.lastIndexOf(":");
    return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

/** The CLI's answer to one command on one node. */
export function cli(endpoint: string, ...args: string[]): { code: number | null; out: string } {
    const { host, port } = parseEndpoint(endpoint);
    const r = spawnSync(cliBinary(), ["-h", host, "-p", String(port), ...args], {
        encoding: "utf8",
        timeout: 10_000,
    });
    return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/** What `redis-cli --cluster check` says about a cluster. */
export interface ClusterCheck {
    code: number | null;
    out: string;
    /** `M:` lines: primaries. */
    primaries: number;
    /** `S:` lines: replicas. */
    replicas: number;
}

/** `redis-cli --cluster check <seed>`, the independent judge of a cluster. */
export function clusterCheck(seed: string): ClusterCheck {
    const r = spawnSync(cliBinary(), ["--cluster", "check", seed], {
        encoding: "utf8",
        timeout: 30_000,
    });
    // redis-cli colours its report even into a pipe.
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "");
    return {
        code: r.status,
        out,
        primaries: (out.match(/^M: /gm) ?? []).length,
        replicas: (out.match(/^S: /gm) ?? []).length,
    };
}

/** One node's INFO replication, as the fields the tests read. */
export interface Replication {
    endpoint: string;
    role?: string;
    masterLinkStatus?: string;
    connectedSlaves?: number;
    error?: string;
}

/** INFO replication of every node. */
export function replicationOf(endpoints: string[]): Replication[] {
    return endpoints.map((endpoint) => {
        const r = cli(endpoint, "INFO", "replication");
        if (r.code !== 0 || !/^role:/m.test(r.out)) return { endpoint, error: r.out };
        const field = (name: string): string | undefined =>
            new RegExp(`^${name}:(.*)$`, "m").exec(r.out)?.[1]?.trim();
        return {
            endpoint,
            role: field("role"),
            masterLinkStatus: field("master_link_status"),
            connectedSlaves: Number(field("connected_slaves") ?? NaN),
        };
    });
}

/** What is wrong with the replication of the nodes: unreachable nodes and replicas whose link is not up. */
export function replicationProblems(nodes: Replication[]): string[] {
    return nodes.flatMap((n) => {
        if (n.error !== undefined) return [`${n.endpoint}: INFO replication failed: ${n.error}`];
        if (n.role === "slave" && n.masterLinkStatus !== "up") {
            return [`${n.endpoint}: replica with master_link_status:${n.masterLinkStatus}`];
        }
        return [];
    });
}

/** The sum of DBSIZE over the primaries among `endpoints`. */
export function keysOnPrimaries(endpoints: string[]): number {
    let total = 0;
    for (const n of replicationOf(endpoints)) {
        if (n.role !== "master") continue;
        const r = cli(n.endpoint, "DBSIZE");
        total += Number(r.out);
    }
    return total;
}

/** Options of the writer. */
export interface WriterOptions {
    /** Distinct keys, written in rounds. Default 20000. */
    keys?: number;
    /** Writes in flight (each key belongs to one worker, so a key never has two writes in flight). Default 16. */
    concurrency?: number;
    /** Pace, in writes per second over all workers, so the writer does not starve the engine. Default 4000. */
    opsPerSecond?: number;
    /** iovalkey's natMap, for a cluster reached through local listeners (`clusterGateway`). */
    natMap?: import("iovalkey").ClusterOptions["natMap"];
    /** The cluster's password. Default none. */
    password?: string;
}

/**
 * A cluster-aware writer (iovalkey `Cluster`): sets `engine:<i>` to its round number, over and over, and records
 * the last value each key was acknowledged with. Every error a command throws is recorded; the redirections the
 * client follows on its own are counted by kind (MOVED, ASK, and anything else it retries, such as TRYAGAIN or
 * CLUSTERDOWN).
 */
export class ClusterWriter {
    readonly keys: number;
    readonly concurrency: number;
    readonly opsPerSecond: number;
    /** Acknowledged writes. */
    writes = 0;
    /** Completed rounds (every key written once per round). */
    rounds = 0;
    /** Errors thrown by commands (each one a failure). */
    readonly errors: string[] = [];
    errorCount = 0;
    /** Error replies the client handled itself, by their first word. */
    readonly redirects: Record<string, number> = {};
    private readonly last: (number | undefined)[];
    private stopped = false;
    private workers: Promise<void>[] = [];
    private firstRound!: Promise<void>;
    private cluster: import("iovalkey").Cluster;

    constructor(seeds: string[], opts: WriterOptions = {}) {
        this.keys = opts.keys ?? 20_000;
        this.concurrency = opts.concurrency ?? 16;
        this.opsPerSecond = opts.opsPerSecond ?? 4000;
        this.last = new Array(this.keys).fill(undefined);
        const { Cluster } = require("iovalkey") as typeof import("iovalkey");
        this.cluster = new Cluster(seeds.map(parseEndpoint), {
            // Follow redirections (the default 16 allows more hops than a reshard causes).
            maxRedirections: 16,
            slotsRefreshTimeout: 2000,
            natMap: opts.natMap,
            redisOptions: { connectTimeout: 5000, commandTimeout: 10_000, password: opts.password },
        });
        this.cluster.on("error", () => undefined);
        // Count what the client retries on its own. handleError is iovalkey's (internal) single entry point
        // for error replies of cluster commands; wrapping it observes, it does not change the handling.
        const inner = this.cluster as unknown as {
            handleError: (error: Error, ttl: unknown, handlers: unknown) => void;
        };
        const handle = inner.handleError.bind(this.cluster);
        inner.handleError = (error, ttl, handlers) => {
            const kind = String(error?.message ?? error).split(" ")[0] || "unknown";
            this.redirects[kind] = (this.redirects[kind] ?? 0) + 1;
            handle(error, ttl, handlers);
        };
    }

    static keyName(i: number): string {
        return `engine:${i}`;
    }

    /** Starts writing; `firstRoundDone()` resolves once every key has been written. */
    start(): void {
        let pending = this.concurrency;
        let resolveFirst!: () => void;
        this.firstRound = new Promise((r) => (resolveFirst = r));
        const started = Date.now();
        const perWorker = this.opsPerSecond / this.concurrency;
        for (let w = 0; w < this.concurrency; w++) {
            this.workers.push(
                (async () => {
                    let done = 0;
                    for (let round = 0; !this.stopped; round++) {
                        for (let i = w; i < this.keys && !this.stopped; i += this.concurrency) {
                            const value = String(round);
                            try {
                                await this.cluster.set(ClusterWriter.keyName(i), value);
                                this.last[i] = round;
                                this.writes++;
                            } catch (e) {
                                this.errorCount++;
                                if (this.errors.length < 20) {
                                    this.errors.push(
                                        `SET ${ClusterWriter.keyName(i)}: ${(e as Error).message}`,
                                    );
                                }
                            }
                            done++;
                            const ahead = (done / perWorker) * 1000 - (Date.now() - started);
                            if (ahead > 0) await sleep(ahead);
                        }
                        if (round === 0 && --pending === 0) {
                            resolveFirst();
                        }
                        if (w === 0) this.rounds = round + 1;
                    }
                })(),
            );
        }
    }

    /** Resolves once every key has been written at least once. */
    firstRoundDone(): Promise<void> {
        return this.firstRound;
    }

    /** Stops writing and waits for the writes in flight. */
    async stop(): Promise<void> {
        this.stopped = true;
        await Promise.all(this.workers);
    }

    /**
     * Reads every key back through the cluster client: the keys that are missing and those whose value is not
     * the last one acknowledged (first 20 of each), and how many keys were checked.
     */
    async verify(): Promise<{
        checked: number;
        missingCount: number;
        wrongCount: number;
        missing: string[];
        wrong: string[];
        readErrors: string[];
    }> {
        const missing: string[] = [];
        const wrong: string[] = [];
        const readErrors: string[] = [];
        let checked = 0;
        let next = 0;
        const reader = async (): Promise<void> => {
            while (next < this.keys) {
                const i = next++;
                const want = this.last[i];
                if (want === undefined) continue;
                checked++;
                try {
                    const got = await this.cluster.get(ClusterWriter.keyName(i));
                    if (got === null) missing.push(ClusterWriter.keyName(i));
                    else if (got !== String(want)) {
                        wrong.push(`${ClusterWriter.keyName(i)}=${got}, last acknowledged ${want}`);
                    }
                } catch (e) {
                    readErrors.push(`GET ${ClusterWriter.keyName(i)}: ${(e as Error).message}`);
                }
            }
        };
        await Promise.all(Array.from({ length: 32 }, reader));
        return {
            checked,
            missingCount: missing.length,
            wrongCount: wrong.length,
            missing: missing.slice(0, 20),
            wrong: wrong.slice(0, 20),
            readErrors: readErrors.slice(0, 20),
        };
    }

    /** How many keys were acknowledged at least once. */
    get writtenKeys(): number {
        return this.last.filter((v) => v !== undefined).length;
    }

    close(): void {
        this.cluster.disconnect();
    }
}

/**
 * A `test` for steps that build on each other: once one fails, the later ones are skipped (with the reason)
 * instead of failing on what it left behind. One per `describe`.
 */
export function sequentialSteps(): (name: string, fn: () => Promise<void>) => void {
    let healthy = true;
    return (name, fn) => {
        test(name, async (t) => {
            if (!healthy) {
                t.skip("an earlier step failed; the steps build on each other");
                return;
            }
            try {
                await fn();
            } catch (e) {
                healthy = false;
                throw e;
            }
        });
    };
}
