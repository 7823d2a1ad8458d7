/**
 * Day-two measurements on the local Kubernetes cluster (issue 13): a writer that behaves like an application and
 * measures what it sees (write success, the longest write gap per shard, latency, keys lost), and a watcher that
 * reads cluster_state from inside the pods (recovery time). The method is described in bench/README.md.
 *
 * Everything here is asynchronous: a synchronous child process (spawnSync) would stall the writer's event loop and
 * show up as a write gap that the cluster never caused.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Cluster, ClusterOptions } from "iovalkey";
import { keySlot } from "../../components/valkey/bootstrap/slots";
import { sleep } from "./engine";
import { KUBECONFIG, KUBECTL, type PodState } from "./kube";

/** kubectl against the local cluster without blocking the event loop; rejects with stderr on a non-zero exit. */
export function kubectlAsync(args: string[], timeoutMs = 120_000): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            KUBECTL,
            args,
            {
                env: { ...process.env, KUBECONFIG },
                timeout: timeoutMs,
                maxBuffer: 64 * 2 ** 20,
                encoding: "utf8",
            },
            (error, stdout, stderr) => {
                if (error) {
                    reject(
                        new Error(
                            `kubectl ${args.join(" ")}: ${error.message}: ${stderr}${stdout}`,
                        ),
                    );
                } else resolve(stdout);
            },
        );
    });
}

/** kubectl's JSON of a query, asynchronously. */
export async function kubectlJsonAsync<T = any>(...args: string[]): Promise<T> {
    return JSON.parse(await kubectlAsync([...args, "-o", "json"])) as T;
}

/** valkey-cli inside a pod (its REDISCLI_AUTH carries the password), asynchronously. */
export async function podCliAsync(
    namespace: string,
    pod: string,
    ...args: string[]
): Promise<string> {
    const out = await kubectlAsync(
        ["exec", "-n", namespace, pod, "-c", "valkey", "--", "valkey-cli", ...args],
        30_000,
    );
    return out.replace(/\r/g, "");
}

/** The Valkey pods of a namespace with their node, zone, readiness and IP (as `valkeyPods`, asynchronously). */
export async function valkeyPodsAsync(namespace: string): Promise<PodState[]> {
    const [nodes, pods] = await Promise.all([
        kubectlJsonAsync("get", "nodes"),
        kubectlJsonAsync("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=valkey"),
    ]);
    const zoneOf = new Map<string, string>(
        nodes.items.map((n: any) => [
            n.metadata.name,
            n.metadata.labels["topology.kubernetes.io/zone"],
        ]),
    );
    return pods.items.map((p: any) => ({
        name: p.metadata.name,
        node: p.spec.nodeName ?? "",
        zone: zoneOf.get(p.spec.nodeName) ?? "",
        ready: (p.status.conditions ?? []).some(
            (c: any) => c.type === "Ready" && c.status === "True",
        ),
        ip: p.status.podIP ?? "",
    }));
}

/** One shard as the writer found it when it started. */
export interface ShardInfo {
    /** Index in the writer's reports. */
    index: number;
    /** The pod that was the shard's primary at the start. */
    primaryPod: string;
    /** Its Valkey node id. */
    primaryId: string;
    /** Inclusive slot ranges. */
    slots: [number, number][];
}

/** Reads CLUSTER SHARDS through a cluster client: each shard's slots and primary. */
export async function clusterShards(cluster: Cluster): Promise<ShardInfo[]> {
    const reply = (await cluster.call("CLUSTER", "SHARDS")) as unknown[][];
    const shards: ShardInfo[] = [];
    for (const entry of reply) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
        const flat = (fields.get("slots") as unknown[]).map(Number);
        if (flat.length === 0) continue;
        const slots: [number, number][] = [];
        for (let i = 0; i + 1 < flat.length; i += 2) slots.push([flat[i], flat[i + 1]]);
        for (const node of fields.get("nodes") as unknown[][]) {
            const attrs = new Map<string, unknown>();
            for (let i = 0; i + 1 < node.length; i += 2) attrs.set(String(node[i]), node[i + 1]);
            if (attrs.get("role") !== "master") continue;
            const name = String(attrs.get("hostname") ?? attrs.get("endpoint") ?? attrs.get("ip"));
            shards.push({
                index: 0,
                primaryPod: name.split(".")[0],
                primaryId: String(attrs.get("id")),
                slots,
            });
        }
    }
    shards.sort((a, b) => a.slots[0][0] - b.slots[0][0]);
    shards.forEach((s, i) => (s.index = i));
    return shards;
}

/** Options of a `DayTwoWriter`. */
export interface DayTwoWriterOptions {
    /** Seed addresses (the gateway's). */
    seeds: { host: string; port: number }[];
    /** The gateway's natMap (the announced pod names to local listeners). */
    natMap: ClusterOptions["natMap"];
    password: string;
    /** Prefix of the keys: one per scenario keeps the scenarios' keys apart. */
    label: string;
    /** Plain keys per shard, written in rounds. Default 300. */
    keysPerShard?: number;
    /** Plain writers per shard (each owns its keys; a shard's outage never stalls another's writers). Default 3. */
    workersPerShard?: number;
    /** Attempts per second over every plain writer. Default 180. */
    opsPerSecond?: number;
    /** Keys per shard written with SET + WAIT 1 (the WAIT-acknowledged set). Default 100; 0 for none. */
    waitKeysPerShard?: number;
    /** Attempts per second of the one WAIT writer per shard. Default 20. */
    waitOpsPerSecond?: number;
    /** WAIT's timeout, ms. Default 500. */
    waitTimeoutMs?: number;
    /** The client's command timeout, ms. Default 2000. */
    commandTimeoutMs?: number;
}

/** What the writer saw on one shard. */
export interface ShardReport {
    shard: number;
    /** The shard's primary when the writer started. */
    primaryAtStart: string;
    attempts: number;
    failedAttempts: number;
    writes: number;
    /** The longest time between two consecutive successful plain writes to the shard, ms. */
    longestGapMs: number;
    /** When that gap ended (epoch ms). */
    longestGapEndedAt: number;
    /** Failed attempts by the error's first word. */
    errors: Record<string, number>;
    /** The first and the last failed attempt (epoch ms; 0 when none failed). */
    firstFailedAt: number;
    lastFailedAt: number;
}

/** What the writer saw, over its whole run. */
export interface WriterReport {
    label: string;
    durationMs: number;
    /** Plain SET attempts (each application attempt includes the client's own retries). */
    attempts: number;
    failedAttempts: number;
    /** Logical plain writes that succeeded (each retried until it did). */
    writes: number;
    /** Successful attempts / attempts. */
    successRate: number;
    /** Logical writes still failing when the writer stopped (each retried for up to `stopRetryMs`). */
    abandonedWrites: number;
    /** Logical writes that succeeded / logical writes begun. */
    eventualSuccess: number;
    longestGapMs: number;
    /** The shard with the longest gap. */
    longestGapShard: number;
    shards: ShardReport[];
    latencyMs: { p50: number; p99: number; max: number };
    /** Failed attempts by the error's first word (CLUSTERDOWN, timeout, ...). */
    errors: Record<string, number>;
    /** Error replies the client retried on its own (MOVED, ASK, TRYAGAIN, CLUSTERDOWN ...), by first word. */
    clientRetries: Record<string, number>;
    /** SET + WAIT 1 writes: attempts, those a replica acknowledged, those it did not within the timeout. */
    wait: { attempts: number; acknowledged: number; notAcknowledged: number; failed: number };
    /** The writer process's own longest event-loop stall, ms (a gap this long may be the writer's, not Valkey's). */
    eventLoopMaxMs: number;
}

/** The writer's read-back of every key it wrote. */
export interface ReadBack {
    plainKeys: number;
    /** Plain keys missing or older than their last acknowledged value. */
    plainLost: string[];
    waitKeys: number;
    /** WAIT-acknowledged keys missing or older than their last WAIT-acknowledged value. */
    waitLost: string[];
    /** Values newer than anything sent (never expected). */
    wrong: string[];
    readErrors: string[];
}

interface KeySet {
    keys: string[];
    /** Last acknowledged round per key (0: never). */
    acked: Int32Array;
    /** Last round sent per key (an attempt that failed may still have been applied). */
    sent: Int32Array;
}

function errorKind(e: unknown): string {
    const message = String((e as Error)?.message ?? e);
    if (/timed out/i.test(message)) return "timeout";
    if (/Too many Cluster redirections/.test(message)) {
        return `redirections(${/Last error: (?:\w*Error: )?(\S+)/.exec(message)?.[1] ?? "?"})`;
    }
    if (/Connection is closed/.test(message)) return "closed";
    const word = /^[A-Z]+\b/.exec(message)?.[0];
    return word ?? message.slice(0, 40);
}

function percentile(sorted: number[], p: number): number {
    if (sorted.length === 0) return 0;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A cluster-aware writer (iovalkey `Cluster` with its default retries, through the gateway) that writes from the
 * start of a scenario to its end, as an application would, and measures what it sees.
 *
 * - Plain writers: `workersPerShard` per shard, each owning its share of the shard's keys (chosen by slot from the
 *   slot map at the start), writing `SET key <round>` at a fixed pace. A write that fails is retried, paced like
 *   any other attempt, until it succeeds (the application's retry loop); every failed attempt is counted. The
 *   writers of one shard never wait on another shard, so the gap of a shard is its own.
 * - A WAIT writer per shard: `SET` + `WAIT 1 <timeout>` in one pipeline on the key's primary. A write counts as
 *   WAIT-acknowledged only when a replica confirmed it; otherwise it is retried.
 * - `readBack()` reads every key: a key is lost when it is missing or holds an older round than the last one the
 *   cluster acknowledged.
 */
export class DayTwoWriter {
    readonly shards: ShardInfo[];
    private readonly opts: Required<Omit<DayTwoWriterOptions, "natMap" | "seeds" | "password">>;
    private readonly plain: KeySet[];
    private readonly waited: KeySet[];
    private readonly shardStats: {
        attempts: number;
        failed: number;
        writes: number;
        lastOkAt: number;
        longestGapMs: number;
        longestGapEndedAt: number;
        errors: Record<string, number>;
        firstFailedAt: number;
        lastFailedAt: number;
    }[];
    private readonly latencies: number[] = [];
    private readonly errors: Record<string, number> = {};
    private readonly clientRetries: Record<string, number> = {};
    private readonly waitStats = { attempts: 0, acknowledged: 0, notAcknowledged: 0, failed: 0 };
    private abandoned = 0;
    private begun = 0;
    private stopping = false;
    private stopDeadline = Infinity;
    private workers: Promise<void>[] = [];
    private startedAt = 0;
    private stoppedAt = 0;
    private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });

    private constructor(
        private readonly cluster: Cluster,
        shards: ShardInfo[],
        opts: DayTwoWriterOptions,
    ) {
        this.shards = shards;
        this.opts = {
            label: opts.label,
            keysPerShard: opts.keysPerShard ?? 300,
            workersPerShard: opts.workersPerShard ?? 3,
            opsPerSecond: opts.opsPerSecond ?? 180,
            waitKeysPerShard: opts.waitKeysPerShard ?? 100,
            waitOpsPerSecond: opts.waitOpsPerSecond ?? 20,
            waitTimeoutMs: opts.waitTimeoutMs ?? 500,
            commandTimeoutMs: opts.commandTimeoutMs ?? 2000,
        };
        const shardOfSlot = new Int16Array(16384).fill(-1);
        for (const s of shards) {
            for (const [from, to] of s.slots) shardOfSlot.fill(s.index, from, to + 1);
        }
        const pick = (prefix: string, perShard: number): KeySet[] => {
            const sets = shards.map(() => [] as string[]);
            let missing = perShard * shards.length;
            for (let n = 0; missing > 0; n++) {
                const key = `${prefix}:${n}`;
                const shard = shardOfSlot[keySlot(key)];
                if (shard >= 0 && sets[shard].length < perShard) {
                    sets[shard].push(key);
                    missing--;
                }
            }
            return sets.map((keys) => ({
                keys,
                acked: new Int32Array(keys.length),
                sent: new Int32Array(keys.length),
            }));
        };
        this.plain = pick(`d2:${opts.label}`, this.opts.keysPerShard);
        this.waited = pick(`d2:${opts.label}:w`, this.opts.waitKeysPerShard);
        this.shardStats = shards.map(() => ({
            attempts: 0,
            failed: 0,
            writes: 0,
            lastOkAt: 0,
            longestGapMs: 0,
            longestGapEndedAt: 0,
            errors: {},
            firstFailedAt: 0,
            lastFailedAt: 0,
        }));
    }

    /** Connects through the gateway and reads the slot map that assigns keys to shards. */
    static async create(opts: DayTwoWriterOptions): Promise<DayTwoWriter> {
        const { Cluster } = require("iovalkey") as typeof import("iovalkey");
        const cluster = new Cluster(opts.seeds, {
            natMap: opts.natMap,
            // The port-forwards add latency to the first slot map read.
            slotsRefreshTimeout: 2000,
            redisOptions: {
                password: opts.password,
                connectTimeout: 2000,
                commandTimeout: opts.commandTimeoutMs ?? 2000,
            },
        });
        cluster.on("error", () => undefined);
        const writer = new DayTwoWriter(cluster, await clusterShards(cluster), opts);
        // handleError is iovalkey's single entry point for the error replies it handles itself: wrapping it
        // observes the client's own retries without changing them.
        const inner = cluster as unknown as {
            handleError: (error: Error, ttl: unknown, handlers: unknown) => void;
        };
        const handle = inner.handleError.bind(cluster);
        inner.handleError = (error, ttl, handlers) => {
            const kind = errorKind(error);
            writer.clientRetries[kind] = (writer.clientRetries[kind] ?? 0) + 1;
            handle(error, ttl, handlers);
        };
        return writer;
    }

    /** The shard (index) that serves `slot`, as at the start. */
    shardOfSlot(slot: number): number {
        return this.shards.find((s) => s.slots.some(([a, b]) => slot >= a && slot <= b))!.index;
    }

    /** The shard whose primary at the start was `pod`. */
    shardOfPrimary(pod: string): ShardInfo | undefined {
        return this.shards.find((s) => s.primaryPod === pod);
    }

    /** Starts every writer; resolves once each plain key and each WAIT key has been acknowledged once. */
    async start(): Promise<void> {
        this.startedAt = Date.now();
        this.loopDelay.enable();
        const perShard = this.opts.workersPerShard;
        const interval = (1000 * perShard * this.shards.length) / this.opts.opsPerSecond;
        for (const s of this.shards) {
            for (let w = 0; w < perShard; w++) {
                this.workers.push(this.plainWorker(s.index, w, interval));
            }
            if (this.opts.waitKeysPerShard > 0) {
                this.workers.push(this.waitWorker(s.index, 1000 / this.opts.waitOpsPerSecond));
            }
        }
        const written = (sets: KeySet[]) => sets.every((k) => k.acked.every((r) => r > 0));
        const deadline = Date.now() + 120_000;
        while (!(written(this.plain) && written(this.waited))) {
            if (Date.now() > deadline) {
                throw new Error(
                    `the writer did not write every key once within 120 s: ${JSON.stringify(this.report())}`,
                );
            }
            await sleep(100);
        }
    }

    private async pace(next: number, interval: number): Promise<number> {
        const now = Date.now();
        const due = next + interval;
        // No catching up after a stall: the pace stays the pace.
        if (due < now - interval) return now;
        if (due > now) await sleep(due - now);
        return due;
    }

    private async plainWorker(shard: number, w: number, interval: number): Promise<void> {
        const set = this.plain[shard];
        const stats = this.shardStats[shard];
        let next = Date.now() - interval + Math.random() * interval;
        for (let round = 1; ; round++) {
            for (let i = w; i < set.keys.length; i += this.opts.workersPerShard) {
                if (this.stopping) return;
                this.begun++;
                for (;;) {
                    if (Date.now() > this.stopDeadline) {
                        this.abandoned++;
                        return;
                    }
                    next = await this.pace(next, interval);
                    stats.attempts++;
                    set.sent[i] = round;
                    const t0 = Date.now();
                    try {
                        await this.cluster.set(set.keys[i], String(round));
                    } catch (e) {
                        stats.failed++;
                        const kind = errorKind(e);
                        this.errors[kind] = (this.errors[kind] ?? 0) + 1;
                        stats.errors[kind] = (stats.errors[kind] ?? 0) + 1;
                        stats.firstFailedAt ||= t0;
                        stats.lastFailedAt = Date.now();
                        continue;
                    }
                    const t1 = Date.now();
                    this.latencies.push(t1 - t0);
                    set.acked[i] = round;
                    stats.writes++;
                    if (stats.lastOkAt > 0 && t1 - stats.lastOkAt > stats.longestGapMs) {
                        stats.longestGapMs = t1 - stats.lastOkAt;
                        stats.longestGapEndedAt = t1;
                    }
                    stats.lastOkAt = t1;
                    break;
                }
            }
        }
    }

    private async waitWorker(shard: number, interval: number): Promise<void> {
        const set = this.waited[shard];
        let next = Date.now();
        for (let round = 1; ; round++) {
            for (let i = 0; i < set.keys.length; i++) {
                if (this.stopping) return;
                for (;;) {
                    if (Date.now() > this.stopDeadline) return;
                    next = await this.pace(next, interval);
                    this.waitStats.attempts++;
                    set.sent[i] = round;
                    let replicas = -1;
                    try {
                        const res = await this.cluster
                            .pipeline()
                            .set(set.keys[i], String(round))
                            .call("WAIT", "1", String(this.opts.waitTimeoutMs))
                            .exec();
                        const [setError] = res?.[0] ?? [new Error("no reply")];
                        const [waitError, waitValue] = res?.[1] ?? [new Error("no reply")];
                        if (!setError && !waitError) replicas = Number(waitValue);
                    } catch {
                        // a failed attempt: retried below
                    }
                    if (replicas >= 1) {
                        set.acked[i] = round;
                        this.waitStats.acknowledged++;
                        break;
                    }
                    if (replicas === 0) this.waitStats.notAcknowledged++;
                    else this.waitStats.failed++;
                }
            }
        }
    }

    /**
     * Stops writing. A logical write under way is retried to its end for up to `stopRetryMs` (then counted as
     * abandoned: it never succeeded).
     */
    async stop(stopRetryMs = 60_000): Promise<void> {
        if (this.stopping) return;
        this.stopping = true;
        this.stopDeadline = Date.now() + stopRetryMs;
        await Promise.all(this.workers);
        this.stoppedAt = Date.now();
        this.loopDelay.disable();
    }

    /** What the writer saw (call after `stop()`). */
    report(): WriterReport {
        const attempts = this.shardStats.reduce((n, s) => n + s.attempts, 0);
        const failed = this.shardStats.reduce((n, s) => n + s.failed, 0);
        const writes = this.shardStats.reduce((n, s) => n + s.writes, 0);
        const shards: ShardReport[] = this.shardStats.map((s, i) => ({
            shard: i,
            primaryAtStart: this.shards[i].primaryPod,
            attempts: s.attempts,
            failedAttempts: s.failed,
            writes: s.writes,
            longestGapMs: s.longestGapMs,
            longestGapEndedAt: s.longestGapEndedAt,
            errors: { ...s.errors },
            firstFailedAt: s.firstFailedAt,
            lastFailedAt: s.lastFailedAt,
        }));
        const worst = shards.reduce((a, b) => (b.longestGapMs > a.longestGapMs ? b : a));
        const sorted = [...this.latencies].sort((a, b) => a - b);
        return {
            label: this.opts.label,
            durationMs: (this.stoppedAt || Date.now()) - this.startedAt,
            attempts,
            failedAttempts: failed,
            writes,
            successRate: attempts === 0 ? 0 : writes / attempts,
            abandonedWrites: this.abandoned,
            eventualSuccess: this.begun === 0 ? 0 : (this.begun - this.abandoned) / this.begun,
            longestGapMs: worst.longestGapMs,
            longestGapShard: worst.shard,
            shards,
            latencyMs: {
                p50: percentile(sorted, 50),
                p99: percentile(sorted, 99),
                max: sorted[sorted.length - 1] ?? 0,
            },
            errors: { ...this.errors },
            clientRetries: { ...this.clientRetries },
            wait: { ...this.waitStats },
            eventLoopMaxMs: Math.round(this.loopDelay.max / 1e6),
        };
    }

    /**
     * Reads every key back (through this writer's client, or `through` another one): lost plain keys, lost
     * WAIT-acknowledged keys, impossible values.
     */
    async readBack(through?: Cluster): Promise<ReadBack> {
        const client = through ?? this.cluster;
        const out: ReadBack = {
            plainKeys: 0,
            plainLost: [],
            waitKeys: 0,
            waitLost: [],
            wrong: [],
            readErrors: [],
        };
        const jobs: { set: KeySet; i: number; waited: boolean }[] = [];
        for (const set of this.plain)
            set.keys.forEach((_, i) => jobs.push({ set, i, waited: false }));
        for (const set of this.waited)
            set.keys.forEach((_, i) => jobs.push({ set, i, waited: true }));
        let next = 0;
        const reader = async (): Promise<void> => {
            while (next < jobs.length) {
                const { set, i, waited } = jobs[next++];
                const want = set.acked[i];
                if (want === 0) continue;
                if (waited) out.waitKeys++;
                else out.plainKeys++;
                let got: string | null | undefined;
                for (let attempt = 0; attempt < 5 && got === undefined; attempt++) {
                    try {
                        got = await client.get(set.keys[i]);
                    } catch (e) {
                        if (attempt === 4)
                            out.readErrors.push(`GET ${set.keys[i]}: ${(e as Error).message}`);
                        else await sleep(500);
                    }
                }
                if (got === undefined) continue;
                const value = got === null ? 0 : Number(got);
                if (value < want) {
                    (waited ? out.waitLost : out.plainLost).push(
                        `${set.keys[i]}=${got} (acknowledged ${want})`,
                    );
                } else if (value > set.sent[i]) {
                    out.wrong.push(`${set.keys[i]}=${got} (last sent ${set.sent[i]})`);
                }
            }
        };
        await Promise.all(Array.from({ length: 24 }, reader));
        return out;
    }

    close(): void {
        this.cluster.disconnect();
    }
}

/** One answer of one node to the watcher. */
export interface StateSample {
    /** When the round that asked started (epoch ms, the pod's clock, which is this machine's). */
    t: number;
    ip: string;
    /** cluster_state, or "none" when the node did not answer. */
    state: string;
    /** The node id that the node names as the owner of the watched slot, or "none". */
    owner: string;
}

/**
 * Watches the cluster from inside a pod, as an operator would: a shell loop in `pod` asks every node in `ips`
 * (valkey-cli with the pod's own credentials) for cluster_state and for the owner of `slot`, about every 100 ms,
 * and streams the answers here.
 */
export class StateWatch {
    readonly samples: StateSample[] = [];
    private buffer = "";

    private constructor(private readonly child: ChildProcess) {
        child.stdout!.on("data", (d: Buffer) => {
            this.buffer += d.toString();
            const lines = this.buffer.split("\n");
            this.buffer = lines.pop() ?? "";
            for (const line of lines) {
                const [t, ip, state, owner] = line.trim().split(/\s+/);
                if (owner !== undefined && /^\d+$/.test(t)) {
                    this.samples.push({ t: Number(t), ip, state, owner });
                }
            }
        });
        child.stderr!.on("data", () => undefined);
        child.on("error", () => undefined);
    }

    /** Starts the loop in `pod` (namespace `namespace`), for at most `maxSeconds`. */
    static start(
        namespace: string,
        pod: string,
        ips: string[],
        slot: number,
        maxSeconds = 600,
    ): StateWatch {
        const owner = `awk -v s=${slot} '{ for (i = 9; i <= NF; i++) { if ($i ~ /^\\[/) continue; n = split($i, a, "-"); lo = a[1] + 0; hi = (n > 1 ? a[2] : a[1]) + 0; if (s >= lo && s <= hi) { print $1; exit } } }'`;
        const script = [
            `end=$(( $(date +%s) + ${maxSeconds} ))`,
            'while [ "$(date +%s)" -lt "$end" ]; do',
            "  t=$(date +%s%3N)",
            `  for ip in ${ips.join(" ")}; do`,
            `    st=$(timeout 2 valkey-cli -h "$ip" cluster info 2>/dev/null | tr -d '\\r' | sed -n 's/^cluster_state://p')`,
            `    own=$(timeout 2 valkey-cli -h "$ip" cluster nodes 2>/dev/null | tr -d '\\r' | ${owner})`,
            '    echo "$t $ip ${st:-none} ${own:-none}"',
            "  done",
            "  sleep 0.1",
            "done",
        ].join("\n");
        const child = spawn(
            KUBECTL,
            ["exec", "-n", namespace, pod, "-c", "valkey", "--", "sh", "-c", script],
            { env: { ...process.env, KUBECONFIG }, stdio: ["ignore", "pipe", "pipe"] },
        );
        return new StateWatch(child);
    }

    private rounds(after: number): { t: number; samples: StateSample[] }[] {
        const byT = new Map<number, StateSample[]>();
        for (const s of this.samples) {
            if (s.t < after) continue;
            const list = byT.get(s.t) ?? [];
            list.push(s);
            byT.set(s.t, list);
        }
        return [...byT.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([t, samples]) => ({ t, samples }));
    }

    /**
     * The start of the first complete round after `after` in which every node reports cluster_state:ok and names an
     * owner of the slot that is not one of `lostIds`; undefined while there is none.
     */
    recoveredAt(lostIds: string[], after: number, nodes: number): number | undefined {
        for (const r of this.rounds(after)) {
            if (
                r.samples.length >= nodes &&
                r.samples.every(
                    (s) => s.state === "ok" && s.owner !== "none" && !lostIds.includes(s.owner),
                )
            ) {
                return r.t;
            }
        }
        return undefined;
    }

    /** The first round after `after` in which some node did not report cluster_state:ok. */
    firstNotOkAt(after: number): number | undefined {
        return this.rounds(after).find((r) => r.samples.some((s) => s.state !== "ok"))?.t;
    }

    /** Resolves with `recoveredAt` once there is one; rejects after `timeoutMs`. */
    async waitRecovered(
        lostIds: string[],
        after: number,
        nodes: number,
        timeoutMs: number,
    ): Promise<number> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const t = this.recoveredAt(lostIds, after, nodes);
            if (t !== undefined) return t;
            if (Date.now() > deadline) {
                const last = this.samples.slice(-nodes).map((s) => `${s.ip} ${s.state} ${s.owner}`);
                throw new Error(
                    `the cluster did not recover within ${timeoutMs} ms (owner must not be ${lostIds.join(", ")}); last answers: ${last.join("; ")}`,
                );
            }
            await sleep(100);
        }
    }

    stop(): void {
        if (this.child.exitCode === null) this.child.kill("SIGTERM");
    }
}

/**
 * A one-line account of a scenario, printed so the numbers land in the test output. With `faultAt` (epoch ms) each
 * shard's longest gap and its failed attempts are placed in time relative to the fault (`+2.1 s`).
 */
export function summaryLine(
    scenario: string,
    r: WriterReport,
    back: ReadBack,
    extra: Record<string, string | number> = {},
    faultAt?: number,
): string {
    const at = (t: number) =>
        faultAt === undefined
            ? ""
            : ` at ${t >= faultAt ? "+" : ""}${((t - faultAt) / 1000).toFixed(1)} s`;
    const shard = (s: ShardReport) =>
        `${s.shard} (${s.primaryAtStart}): gap ${(s.longestGapMs / 1000).toFixed(2)} s${at(s.longestGapEndedAt - s.longestGapMs)}` +
        (s.failedAttempts > 0
            ? `, ${s.failedAttempts} failed ${JSON.stringify(s.errors)}${at(s.firstFailedAt)}..${at(s.lastFailedAt).trim()}`
            : "");
    const parts = [
        `day-two ${scenario}:`,
        `writes ${r.writes}/${r.attempts} attempts (success ${(100 * r.successRate).toFixed(2)} %, eventual ${(100 * r.eventualSuccess).toFixed(2)} %)`,
        `longest gap ${(r.longestGapMs / 1000).toFixed(2)} s (shard ${r.longestGapShard}, primary at start ${r.shards[r.longestGapShard].primaryAtStart})`,
        `shards ${r.shards.map(shard).join("; ")}`,
        `latency p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms max ${r.latencyMs.max} ms`,
        `WAIT-acked ${r.wait.acknowledged} (not acked ${r.wait.notAcknowledged}, failed ${r.wait.failed})`,
        `lost ${back.plainLost.length}/${back.plainKeys} plain, ${back.waitLost.length}/${back.waitKeys} WAIT-acked`,
        `errors ${JSON.stringify(r.errors)}`,
        `client retries ${JSON.stringify(r.clientRetries)}`,
        `writer loop stall max ${r.eventLoopMaxMs} ms`,
        ...Object.entries(extra).map(([k, v]) => `${k} ${v}`),
    ];
    return parts.join(" | ");
}
