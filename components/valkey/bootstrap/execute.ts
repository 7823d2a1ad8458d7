/**
 * Runs the planner's steps against real nodes: observe every node, plan, run the steps, observe again, until
 * the plan is done. Waits (for a handshake, gossip, a replica's sync) are bounded; a wait that runs out fails
 * with the nodes that did not get there. Slot moves use the cluster protocol both Redis 7.0 and Valkey 7.2+
 * accept: SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT + MIGRATE ... KEYS (run on the source by a server-side script,
 * so key names never travel to the bootstrap), SETSLOT NODE on the target, the source and every other primary.
 *
 * Nothing here prints or throws the password: errors are built from server messages and scrubbed.
 */
import { ClusterNodeEntry, parseClusterNodes, parseInfo } from "./parse";
import {
    configuredNodeTimeout,
    NodeObservation,
    Observation,
    ObservedShard,
    observedShards,
    Plan,
    plan,
    PlanOptions,
    Step,
} from "./plan";
import { expandRanges, SLOT_COUNT, SlotMove } from "./slots";
import { DesiredTopology, NodeSpec } from "./topology";
import { Arg, NodeClient, Transport } from "./transport";

/** Options of a run. */
export interface ReconcileOptions {
    transport: Transport;
    /** The nodes' password (MIGRATE authenticates to the target with it). */
    password?: string;
    /**
     * The configured cluster-node-timeout, restored after a fast bootstrap. Default: read from the servers
     * (`configuredNodeTimeout`).
     */
    nodeTimeoutMs?: number;
    /** Short node timeout of a pulse (see plan.ts). Default 500. */
    fastNodeTimeoutMs?: number;
    /** maxmemory to assume for nodes that report none (headroom check). */
    maxmemoryBytes?: number;
    /** Progress messages (which step, how many slots and keys moved). */
    log?: (message: string) => void;
    /** Bound on each wait for the cluster to catch up, ms. Default max(30 s, 15 x nodeTimeoutMs). */
    waitTimeoutMs?: number;
    /** How long planned nodes may stay unreachable (starting, overloaded) before the run fails, ms. Default 15000. */
    unreachableGraceMs?: number;
    /** Pause between observations while waiting, ms. Default 25. */
    pollMs?: number;
    /** Slots per pipelined migration batch. Default 128. */
    slotsPerBatch?: number;
    /**
     * Connections per node for the CLUSTER SETSLOT steps of a slot move. Valkey 8 holds each SETSLOT until the
     * node's replicas acknowledge it, so one connection moves one slot per replica round trip; over several, one
     * round trip acknowledges them all. Default 16.
     */
    connectionsPerNode?: number;
    /** Keys per GETKEYSINSLOT / MIGRATE. Default 1000, at most 4000 (Lua's bound on one call's arguments). */
    keysPerCall?: number;
    /**
     * How long one key-moving script may keep starting MIGRATEs on a source, ms (the server's CPU time on Valkey 8,
     * where TIME stands still inside scripts; wall time on Redis 7). It blocks the source like the
     * MIGRATEs it runs; clients wait. The budget is checked between MIGRATEs, so one MIGRATE of huge keys can carry
     * a script past the server's busy-reply-threshold (5 s), where other clients get BUSY until it ends, as they
     * would wait on the same MIGRATE sent alone. Default 100.
     */
    scriptBudgetMs?: number;
    /**
     * Nodes log at `warning` during slot moves (see `quietLogs`). Default true; false leaves their levels alone.
     */
    quietMoves?: boolean;
    /** MIGRATE timeout, ms. Default 10000. */
    migrateTimeoutMs?: number;
    /**
     * Test hook: called at every checkpoint ("prepare", "meet", "migrate:importing", "migrate:keys", ...);
     * returning true stops the run there with `Interrupted`, as if the process had been killed.
     */
    interrupt?: (point: string) => boolean;
}

/** What a run found and did. */
export interface ReconcileResult {
    observation: Observation;
    shards: ObservedShard[];
    drift: string[];
    /** Rounds that ran steps (0 when the cluster was already as planned). */
    actions: number;
    moved: { slots: number; keys: number };
}

/** A run that could not complete; the message names the nodes and says what to do. */
export class BootstrapError extends Error {
    constructor(
        message: string,
        public readonly problems: string[] = [message],
    ) {
        super(message);
        this.name = "BootstrapError";
    }
}

/** Thrown when the `interrupt` test hook stops a run. */
export class Interrupted extends Error {
    constructor(public readonly point: string) {
        super(`interrupted at ${point}`);
        this.name = "Interrupted";
    }
}

/** Removes every occurrence of `secret` from a message. */
export function redact(message: string, secret?: string): string {
    return secret ? message.split(secret).join("***") : message;
}

function append<K, V>(m: Map<K, V[]>, k: K, v: V): void {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
        p,
        new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
        }),
    ]).finally(() => clearTimeout(timer));
}

/** Asks every node what it knows (in parallel); an unreachable node is reported, not thrown. */
export async function observe(
    desired: DesiredTopology,
    transport: Transport,
    password?: string,
): Promise<Observation> {
    const nodes = await Promise.all(desired.nodes.map((n) => observeNode(n, transport, password)));
    return { nodes };
}

async function observeNode(
    node: NodeSpec,
    transport: Transport,
    password?: string,
): Promise<NodeObservation> {
    try {
        const client = await withTimeout(
            transport.client(node),
            10_000,
            `connecting to ${node.id}`,
        );
        const r = await withTimeout(
            client.pipeline([
                ["CLUSTER", "MYID"],
                ["CLUSTER", "NODES"],
                ["CLUSTER", "INFO"],
                ["INFO", "replication", "memory"],
                ["DBSIZE"],
                ["CONFIG", "GET", "cluster-node-timeout"],
            ]),
            10_000,
            `asking ${node.id}`,
        );
        const failed = r.find((x) => x.error);
        if (failed) throw failed.error;
        const v = r.map((x) => x.value);
        const cinfo = parseInfo(String(v[2]));
        const info = parseInfo(String(v[3]));
        const timeout = v[5] as string[];
        return {
            id: node.id,
            reachable: true,
            myId: String(v[0]),
            view: parseClusterNodes(String(v[1])),
            clusterState: cinfo.cluster_state,
            currentEpoch: Number(cinfo.cluster_current_epoch),
            role: info.role,
            masterLinkUp: info.master_link_status === "up",
            keys: Number(v[4]),
            usedMemory: Number(info.used_memory),
            usedMemoryDataset: Number(info.used_memory_dataset ?? info.used_memory),
            maxmemory: Number(info.maxmemory ?? 0),
            nodeTimeoutMs: Number(timeout?.[1]),
            observedAt: Date.now(),
        };
    } catch (e) {
        const error = redact((e as Error).message, password);
        return {
            id: node.id,
            reachable: false,
            error,
            authFailed: /WRONGPASS|NOAUTH|invalid password/i.test(error),
        };
    }
}

/** Observes and plans without changing anything: for diff and read. */
export async function inspect(
    desired: DesiredTopology,
    options: Pick<ReconcileOptions, "transport" | "password" | "nodeTimeoutMs" | "maxmemoryBytes">,
): Promise<{ observation: Observation; plan: Plan; shards: ObservedShard[] }> {
    const observation = await observe(desired, options.transport, options.password);
    const p = plan(observation, desired, {
        nodeTimeoutMs: options.nodeTimeoutMs,
        maxmemoryBytes: options.maxmemoryBytes,
        drift: true,
    });
    return { observation, plan: p, shards: observedShards(observation, desired) };
}

const PHASE_TEXT: Record<string, string> = {
    prepare: "assigning slots and config epochs to the new nodes",
    meet: "introducing nodes (CLUSTER MEET)",
    replicas: "attaching replicas (CLUSTER REPLICATE)",
    openSlots: "finishing slots left importing/migrating",
    placement: "restoring the planned primary (CLUSTER FAILOVER)",
    cover: "assigning slots no node serves",
    rebalance: "moving slots with their keys",
    leave: "removing drained nodes (CLUSTER RESET, CLUSTER FORGET)",
    restore: "restoring cluster-node-timeout",
};

/** The state of one run. */
class Run {
    readonly byId: Map<string, NodeSpec>;
    readonly moved = { slots: 0, keys: 0 };
    private stopped?: string;
    private vids = new Map<string, string>();

    constructor(
        readonly desired: DesiredTopology,
        readonly o: ReconcileOptions,
    ) {
        this.byId = new Map(desired.nodes.map((n) => [n.id, n]));
    }

    log(msg: string): void {
        this.o.log?.(redact(msg, this.o.password));
    }

    checkpoint(point: string): void {
        if (this.stopped) throw new Interrupted(this.stopped);
        if (this.o.interrupt?.(point)) {
            this.stopped = point;
            throw new Interrupted(point);
        }
    }

    /** Reachable primaries that are cluster members, from the last observation. */
    masters: string[] = [];
    /** Every reachable node, from the last observation. */
    reachable: string[] = [];

    remember(observation: Observation): void {
        for (const n of observation.nodes) if (n.myId) this.vids.set(n.id, n.myId);
        this.reachable = observation.nodes.filter((n) => n.reachable).map((n) => n.id);
        this.masters = observation.nodes
            .filter((n) => n.reachable && n.role === "master" && (n.view?.length ?? 0) > 1)
            .map((n) => n.id);
    }

    vid(id: string): string {
        const v = this.vids.get(id);
        if (!v) throw new BootstrapError(`${id}: Valkey node id unknown (node unreachable?)`);
        return v;
    }

    async client(id: string): Promise<NodeClient> {
        return this.o.transport.client(this.byId.get(id)!);
    }

    /** Up to `connectionsPerNode` connections to a node (one when the transport has no pool). */
    async clients(id: string): Promise<NodeClient[]> {
        const t = this.o.transport;
        const node = this.byId.get(id)!;
        if (!t.clients) return [await t.client(node)];
        return t.clients(node, Math.max(1, this.o.connectionsPerNode ?? 16));
    }

    fail(step: string, node: string, e: unknown): never {
        if (e instanceof Interrupted || e instanceof BootstrapError || e instanceof StepError)
            throw e;
        throw new StepError(
            `${step} on ${node} failed: ${redact((e as Error).message ?? String(e), this.o.password)}`,
        );
    }
}

class StepError extends Error {}

function commandsOf(step: Step, run: Run): Arg[][] {
    switch (step.kind) {
        case "setNodeTimeout":
            return [["CONFIG", "SET", "cluster-node-timeout", String(step.ms)]];
        case "setConfigEpoch":
            return [["CLUSTER", "SET-CONFIG-EPOCH", step.epoch]];
        case "addSlots":
            return [["CLUSTER", "ADDSLOTSRANGE", ...step.ranges.flat()]];
        case "meet": {
            const peer = run.byId.get(step.peer)!;
            return [["CLUSTER", "MEET", peer.host, peer.port]];
        }
        case "replicate":
            return [["CLUSTER", "REPLICATE", run.vid(step.primary)]];
        case "setSlotNode":
            return [["CLUSTER", "SETSLOT", step.slot, "NODE", run.vid(step.owner)]];
        case "stable":
            return [["CLUSTER", "SETSLOT", step.slot, "STABLE"]];
        case "reset":
            return [["CLUSTER", "RESET", "HARD"]];
        case "forget":
            return [["CLUSTER", "FORGET", step.forget]];
        default:
            throw new Error(`no commands for ${step.kind}`);
    }
}

function describe(step: Step): string {
    switch (step.kind) {
        case "meet":
            return `CLUSTER MEET ${step.peer}`;
        case "forget":
            return `CLUSTER FORGET ${step.label}`;
        case "migrate":
            return `migrate ${step.moves.length} slots`;
        default:
            return step.kind;
    }
}

/**
 * Runs one stage: per node its steps in order (one pipeline), nodes in parallel, timeout pulses alongside (they
 * touch other nodes: the plan never pulses a node it also gives other steps); migrations and failovers after.
 */
async function runStage(steps: Step[], run: Run): Promise<void> {
    const simple = new Map<string, Step[]>();
    const special: Step[] = [];
    const pulses: Extract<Step, { kind: "pulseNodeTimeout" }>[] = [];
    for (const s of steps) {
        if (s.kind === "migrate" || s.kind === "failover") special.push(s);
        else if (s.kind === "pulseNodeTimeout") pulses.push(s);
        else append(simple, s.node, s);
    }
    const pulsed = pulses.length > 0 ? pulse(pulses, run) : Promise.resolve();
    const rest = Promise.all(
        [...simple].map(async ([node, list]) => {
            for (const s of list) run.checkpoint(s.kind);
            const client = await run.client(node).catch((e) => run.fail("connect", node, e));
            if (list.some((s) => s.kind === "stable")) await checkStableIsSafe(client, list, run);
            const cmds = list.flatMap((s) => commandsOf(s, run));
            const res = await client
                .pipeline(cmds)
                .catch((e) => run.fail(describe(list[0]), node, e));
            res.forEach((r, i) => {
                if (r.error) run.fail(describe(list[i]), node, r.error);
            });
        }),
    );
    // Both settle before an error is passed on, so that no pulse is left running behind a failed step.
    const [a, b] = await Promise.allSettled([pulsed, rest]);
    if (a.status === "rejected") throw a.reason;
    if (b.status === "rejected") throw b.reason;
    for (const s of special) {
        try {
            if (s.kind === "failover") await failover(s.node, run);
            else if (s.kind === "migrate") await migrate(s.moves, run);
        } catch (e) {
            run.fail(describe(s), s.kind === "failover" ? s.node : "the cluster", e);
        }
    }
}

/** Pause between a pulsed node's CLUSTER INFO checks, ms. */
const PULSE_POLL_MS = 10;

/**
 * Short node timeouts: each node gets its short timeout, keeps it until it reports cluster_state:ok (or for
 * `holdMs` at most) and gets the configured one back at once. Primaries' pulses (`counted`) run at most `budget`
 * at a time, a place freed only once its node has the configured timeout back, so that too few primaries ever
 * hold a short timeout together to fail a healthy node (see plan.ts); replicas' run all at once.
 */
async function pulse(
    steps: Extract<Step, { kind: "pulseNodeTimeout" }>[],
    run: Run,
): Promise<void> {
    type Pulse = (typeof steps)[number];
    const set = (s: Pulse, ms: number): Promise<unknown> =>
        run
            .client(s.node)
            .then((c) => c.call(["CONFIG", "SET", "cluster-node-timeout", String(ms)]))
            .catch((e) => run.fail("CONFIG SET cluster-node-timeout", s.node, e));
    const hold = async (s: Pulse): Promise<void> => {
        const deadline = Date.now() + s.holdMs;
        try {
            const client = await run.client(s.node);
            while (Date.now() < deadline) {
                await sleep(Math.min(PULSE_POLL_MS, Math.max(0, deadline - Date.now())));
                const info = String(await client.call(["CLUSTER", "INFO"]));
                if (info.includes("cluster_state:ok")) return;
            }
        } finally {
            await set(s, s.restoreMs);
        }
    };
    const budget = Math.max(1, Math.min(...steps.map((s) => (s.counted ? s.budget : Infinity))));
    let running = 0;
    const waiting: (() => void)[] = [];
    // After any failure no further pulse starts: a node whose timeout could not be set or restored may still hold
    // a short one, and the budget can no longer tell.
    let stopped = false;
    const one = async (s: Pulse): Promise<void> => {
        if (s.counted) {
            while (running >= budget && !stopped) await new Promise<void>((r) => waiting.push(r));
            if (stopped) return;
            running++;
        } else if (stopped) return;
        try {
            run.checkpoint("pulseNodeTimeout");
            await set(s, s.ms).catch(async (e) => {
                // The reply may be lost after the server applied it: restore, best effort.
                await set(s, s.restoreMs).catch(() => undefined);
                throw e;
            });
            // A run killed here leaves a short timeout behind; the next run restores it (see plan.ts).
            run.checkpoint("pulse:hold");
            await hold(s);
        } catch (e) {
            stopped = true;
            throw e;
        } finally {
            if (s.counted) {
                running--;
                // Wake every waiting pulse when stopped (each returns), else the next one.
                if (stopped) waiting.splice(0).forEach((wake) => wake());
                else waiting.shift()?.();
            }
        }
    };
    const results = await Promise.allSettled(steps.map(one));
    const failed = results.find((r) => r.status === "rejected") as
        PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
}

/** Rolling a slot back to stable on a node that holds keys in it would hide those keys: refuse. */
async function checkStableIsSafe(client: NodeClient, steps: Step[], run: Run): Promise<void> {
    for (const s of steps) {
        if (s.kind !== "stable" || s.forReplica) continue;
        const n = Number(await client.call(["CLUSTER", "COUNTKEYSINSLOT", s.slot]));
        if (n > 0) {
            throw new BootstrapError(
                `slot ${s.slot} is left importing on ${s.node} with ${n} keys from a node that no longer serves it; move them to the slot's owner by hand (CLUSTER SETSLOT ${s.slot} MIGRATING + MIGRATE) before running again.`,
            );
        }
    }
    void run;
}

/** CLUSTER FAILOVER on a replica, then wait until it is the primary (FORCE if its primary does not answer). */
async function failover(node: string, run: Run): Promise<void> {
    run.checkpoint("failover");
    const client = await run.client(node);
    const bound = Math.max(5000, 3 * (run.o.nodeTimeoutMs ?? 2000));
    for (const mode of [[], ["FORCE"]] as string[][]) {
        run.log(`placement: CLUSTER FAILOVER ${mode.join(" ")}on ${node}`.replace("  ", " "));
        await client
            .call(["CLUSTER", "FAILOVER", ...mode])
            .catch((e) => run.fail("CLUSTER FAILOVER", node, e));
        const deadline = Date.now() + bound;
        while (Date.now() < deadline) {
            const info = parseInfo(String(await client.call(["INFO", "replication"])));
            if (info.role === "master") return;
            await sleep(50);
        }
    }
    throw new BootstrapError(
        `${node} did not become primary within ${bound} ms after CLUSTER FAILOVER (and FORCE); check that its primary and a majority of primaries are up.`,
    );
}

/**
 * Moves slots with their keys. Sources work in parallel; each source moves its slots in batches, their keys by a
 * script on the source (`MOVE_KEYS`). Keys can only leave a migrating slot (a new key for it is redirected to the
 * target with ASK), so once the script found a slot empty it is empty for good and can be assigned.
 */
async function migrate(moves: SlotMove[], run: Run): Promise<void> {
    const total = moves.length;
    const started = Date.now();
    let lastLog = 0;
    // Declared before `progress`, which reads it: Pulumi's closure serializer refuses a use before the declaration.
    const before = { ...run.moved };
    const progress = (force = false): void => {
        if (force || Date.now() - lastLog > 2000) {
            lastLog = Date.now();
            run.log(
                `rebalance: ${run.moved.slots - before.slots}/${total} slots moved, ${run.moved.keys - before.keys} keys (${((Date.now() - started) / 1000).toFixed(1)} s)`,
            );
        }
    };
    const bySource = new Map<string, SlotMove[]>();
    for (const m of moves) append(bySource, m.from, m);
    const targets = new Set(moves.map((m) => m.to));
    // Every node's connections at once, before the first batch needs them.
    await Promise.all([...bySource.keys(), ...targets].map((id) => run.clients(id)));
    let restoreLogs = async (): Promise<void> => undefined;
    try {
        const auth = await openMigrationUser([...targets], run);
        restoreLogs = await quietLogs(run);
        await moveAll(moves, bySource, targets, auth, run, progress);
    } finally {
        await restoreLogs();
        await closeMigrationUser([...targets], run);
    }
    progress(true);
}

/** Valkey's log levels, most verbose first. */
const LOG_LEVELS = ["debug", "verbose", "notice", "warning", "nothing"];

/**
 * A node whose loglevel a move lowered carries a disabled user named after its own level (no password, no
 * command: it opens nothing) until the level is back, so a run that finds one knows the move's run died and what
 * to put back, and leaves a `warning` an operator chose alone.
 */
const QUIET_MARK = "valkey-platform-loglevel-";

/**
 * Valkey 8 logs every slot's import, assignment and migration at `notice`, on every node that hears of it: a move
 * of 6,554 slots wrote 13,000 lines a minute on one pod. Where a container runtime carries the logs that is most of
 * the move's cost (measured on the local Kubernetes cluster: containerd and its shims used a quarter of the
 * machine, and the move ran at half the speed), and every line lands in the cluster's log store. So every node
 * logs at `warning` while the slots move (warnings, failovers' among them, still show; the bootstrap logs the
 * move), and goes back to its own level after. Returns what puts the levels back. `quietMoves: false` leaves them.
 */
async function quietLogs(run: Run): Promise<() => Promise<void>> {
    if (run.o.quietMoves === false) return async () => undefined;
    const before = new Map<string, string>();
    await Promise.all(
        run.reachable.map(async (id) => {
            const client = await run.client(id).catch(() => undefined);
            const reply = (await client
                ?.call(["CONFIG", "GET", "loglevel"])
                .catch(() => undefined)) as string[] | undefined;
            const level = reply?.[1];
            if (!client || !level || LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf("warning"))
                return;
            try {
                await client.call(["ACL", "SETUSER", QUIET_MARK + level, "reset"]);
                await client.call(["CONFIG", "SET", "loglevel", "warning"]);
                before.set(id, level);
            } catch {
                // A node that refuses keeps its level: a louder move, nothing worse.
            }
        }),
    );
    if (before.size > 0)
        run.log(
            `rebalance: ${before.size} nodes log at warning during the move (Valkey logs every slot's move at notice, on every node); their levels are restored after`,
        );
    return async () => {
        await Promise.all(
            [...before].map(async ([id, level]) => {
                const client = await run.client(id).catch(() => undefined);
                if (client) await restoreLogLevel(client, level);
            }),
        );
    };
}

/** Puts a quieted node back at its level and removes the mark that named it (best effort). */
async function restoreLogLevel(client: NodeClient, level: string): Promise<void> {
    await client
        .call(["CONFIG", "SET", "loglevel", level])
        .then(() => client.call(["ACL", "DELUSER", QUIET_MARK + level]))
        .catch(() => undefined);
}

/**
 * Undoes what a move whose run died left on the reachable nodes: its MIGRATE user (whose password sits in the
 * sources' SLOWLOG; ACL changes do not replicate, so a target that has become a replica since still has it), and
 * a loglevel it lowered (put back to the level its mark names). Runs at the start of every run and at the end of
 * every run that converged.
 */
async function cleanupAfterDeadRuns(run: Run): Promise<void> {
    await Promise.all(
        run.reachable.map(async (id) => {
            const client = await run.client(id).catch(() => undefined);
            const users = (await client?.call(["ACL", "USERS"]).catch(() => undefined)) as
                string[] | undefined;
            if (!client || !users) return;
            for (const user of users) {
                if (user === MIGRATION_USER) {
                    await client.call(["ACL", "DELUSER", user]).catch(() => undefined);
                } else if (user.startsWith(QUIET_MARK)) {
                    const level = user.slice(QUIET_MARK.length);
                    if (LOG_LEVELS.includes(level)) await restoreLogLevel(client, level);
                }
            }
        }),
    );
}

/** The chains of a move (see `migrate`). */
async function moveAll(
    moves: SlotMove[],
    bySource: Map<string, SlotMove[]>,
    targets: Set<string>,
    auth: string[],
    run: Run,
    progress: () => void,
): Promise<void> {
    const total = moves.length;
    const primaries = run.masters;
    const batch = run.o.slotsPerBatch ?? 128;
    await firstAcknowledgement(moves, run);
    run.log(
        `rebalance: moving ${total} slots: ${[...bySource].map(([from, list]) => `${list.length} from ${from}`).join(", ")} to ${[...targets].join(", ")}`,
    );
    // Every source -> target pair moves its slots in a chain of its own (a source migrates to several targets at
    // once and a target imports from several sources at once; each slot is in one chain only).
    const byPair = new Map<string, SlotMove[]>();
    for (const m of moves) append(byPair, `${m.from}\u0000${m.to}`, m);
    // When a chain fails the others stop at their next batch, and the move ends only once all have stopped (what
    // runs after it, like deleting the move's user, must not pull the ground from under a chain still moving).
    let failure: { error: unknown } | undefined;
    await Promise.allSettled(
        [...byPair.values()].map((list) =>
            (async () => {
                const { from, to } = list[0];
                const batches: number[][] = [];
                for (let i = 0; i < list.length; i += batch)
                    batches.push(list.slice(i, i + batch).map((m) => m.slot));
                // A chain opens its next batch (IMPORTING, MIGRATING: replica round trips on Valkey 8) while the
                // current one's keys move; the slots of two batches never overlap.
                let opened = batches.length > 0 ? openBatch(from, to, batches[0], run) : undefined;
                try {
                    for (let k = 0; k < batches.length; k++) {
                        await opened;
                        // An opened batch left unmoved is finished by the next run, like any interrupted move.
                        if (failure) return;
                        const next = batches[k + 1];
                        opened = next ? openBatch(from, to, next, run) : undefined;
                        // Observed when awaited; a failure of the current batch must not leave it unhandled.
                        opened?.catch(() => undefined);
                        await finishBatch(from, to, batches[k], auth, run);
                        progress();
                    }
                } finally {
                    // Nothing of this chain runs after it ended.
                    await opened?.catch(() => undefined);
                }
            })().catch((error) => {
                failure ??= { error };
            }),
        ),
    );
    if (failure) throw failure.error;
    await tellSources(bySource, run);
    // The other primaries are told last: the targets' SETSLOT NODE broadcast the new owners already, so this is a
    // confirmation, kept off the moves' critical path.
    await tellOthers(moves, primaries, run);
}

/**
 * Ends the sources' MIGRATING states. A source that hears a target's SETSLOT NODE (a higher epoch claiming the
 * slot) answers MOVED for it from then on, with or without the state; Valkey 8 also clears the state on that
 * message, Redis 7 keeps it. So a source is told once, when all its chains are done, and only about the slots it
 * still migrates (on Valkey 8 a few its last message had not reached yet; each SETSLOT costs a replica round
 * there, which a SETSLOT per batch on the chain's critical path used to cost).
 */
async function tellSources(bySource: Map<string, SlotMove[]>, run: Run): Promise<void> {
    await Promise.all(
        [...bySource].map(async ([from, list]) => {
            run.checkpoint("migrate:node-source");
            const still = new Set(
                await stillMigrating(
                    run,
                    from,
                    list.map((m) => m.slot),
                ),
            );
            const byTarget = new Map<string, number[]>();
            for (const m of list) if (still.has(m.slot)) append(byTarget, m.to, m.slot);
            for (const [to, slots] of byTarget)
                await setSlotsPhase(
                    run,
                    "migrate:node-source",
                    from,
                    slots,
                    ["NODE", run.vid(to)],
                    SOURCE_DEMOTED,
                );
        }),
    );
}

/**
 * The user the sources' MIGRATEs authenticate as on the targets, for one move: a fresh random password, allowed
 * only what MIGRATE sends (SELECT, RESTORE-ASKING). The key-moving script receives the credentials as arguments,
 * and a server keeps the arguments of slow commands (SLOWLOG) and shows them to MONITOR; the nodes' own password
 * must never be there. The user is deleted when the move ends (which closes its connections). A run that died
 * before that leaves it, and its password in the sources' SLOWLOG (readable by whoever may run SLOWLOG, already
 * an administrator): the next run deletes it before anything else (`cleanupAfterDeadRuns`). Without a password
 * on the nodes, MIGRATE needs no credentials: []. Otherwise ["AUTH2", user, password].
 */
async function openMigrationUser(targets: string[], run: Run): Promise<string[]> {
    if (!run.o.password) return [];
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const password = crypto.randomBytes(32).toString("hex");
    const digest = crypto.createHash("sha256").update(password).digest("hex");
    await Promise.all(
        targets.map(async (id) => {
            const client = await run.client(id);
            await client
                .call([
                    "ACL",
                    "SETUSER",
                    MIGRATION_USER,
                    "reset",
                    "on",
                    `#${digest}`,
                    "~*",
                    "resetchannels",
                    "-@all",
                    "+select",
                    "+restore-asking",
                ])
                .catch((e) => run.fail(`ACL SETUSER ${MIGRATION_USER}`, id, e));
        }),
    );
    return ["AUTH2", MIGRATION_USER, password];
}

/** Deletes the move's user from the targets (best effort: a target that went away takes it along). */
async function closeMigrationUser(targets: string[], run: Run): Promise<void> {
    if (!run.o.password) return;
    await Promise.all(
        targets.map(async (id) => {
            const client = await run.client(id).catch(() => undefined);
            await client?.call(["ACL", "DELUSER", MIGRATION_USER]).catch(() => undefined);
        }),
    );
}

/** A command refused because the node sees the cluster down (CLUSTERDOWN; inside a script, its own words). */
const CLUSTER_DOWN = /CLUSTERDOWN|cluster is down/i;

/** The name of the move's user (see `openMigrationUser`). */
const MIGRATION_USER = "valkey-platform-migrate";

/**
 * Opens each target's first slot on its own before the batches start. Valkey 8 answers a SETSLOT only once the
 * node's replicas have it, and a primary starts streaming to a replica that has just synced only on the replica's
 * first acknowledgement, which replicas send once a second: a new shard's first SETSLOT waits up to a second
 * (measured 0.2-0.9 s), whatever it carries. Paid here once per target, and said so, instead of by every chain's
 * first batch at once.
 */
async function firstAcknowledgement(moves: SlotMove[], run: Run): Promise<void> {
    const started = Date.now();
    const first = new Map<string, SlotMove>();
    for (const m of moves) if (!first.has(m.to)) first.set(m.to, m);
    await Promise.all(
        [...first.values()].map((m) =>
            setSlotsPhase(run, "migrate:importing", m.to, [m.slot], ["IMPORTING", run.vid(m.from)]),
        ),
    );
    const ms = Date.now() - started;
    if (ms >= 100)
        run.log(`rebalance: the targets' replicas acknowledged their first SETSLOT in ${ms} ms`);
}

/**
 * Sends `CLUSTER SETSLOT <slot> ...state` for every slot over the node's connections, pipelined on each: Valkey 8
 * answers each SETSLOT only once the node's replicas have it, so the connections' commands wait for the same
 * acknowledgement rounds instead of one round each. One result per slot, in order.
 */
async function setSlots(
    run: Run,
    node: string,
    slots: number[],
    state: Arg[],
): Promise<{ error?: Error; value?: unknown }[]> {
    const pool = await run.clients(node);
    const groups: number[][] = pool.map(() => []);
    slots.forEach((s, i) => groups[i % pool.length].push(s));
    const replies = await Promise.all(
        groups.map((g, i) => pool[i].pipeline(g.map((s) => ["CLUSTER", "SETSLOT", s, ...state]))),
    );
    const out: { error?: Error; value?: unknown }[] = new Array(slots.length);
    groups.forEach((g, i) => g.forEach((_, j) => (out[j * pool.length + i] = replies[i][j])));
    return out;
}

/**
 * A SETSLOT NODE on the source that failed because the source is a replica now: it learnt from the target (whose
 * SETSLOT NODE came first and bumped its epoch) that it lost its last slot, and followed it (Valkey 8 unblocks the
 * waiting SETSLOT with "UNBLOCKED ... instance state changed"; a later one is refused "only with masters").
 */
const SOURCE_DEMOTED = /UNBLOCKED|only with masters/;

/** Fails the run with the first error among the replies of `what` on `node`. */
function checkReplies(run: Run, res: { error?: Error }[], what: string, node: string): void {
    const bad = res.find((r) => r.error);
    if (bad) run.fail(what, node, bad.error);
}

/**
 * `CLUSTER SETSLOT <slot> ...state` for a batch's slots on one node (a checkpoint first); errors matching `ok` are
 * not failures.
 */
async function setSlotsPhase(
    run: Run,
    point: string,
    node: string,
    slots: number[],
    state: Arg[],
    ok?: RegExp,
): Promise<void> {
    run.checkpoint(point);
    const res = await setSlots(run, node, slots, state);
    checkReplies(
        run,
        res.filter((r) => !(ok && r.error && ok.test(r.error.message))),
        `CLUSTER SETSLOT ${state[0]}`,
        node,
    );
}

/** Opens a batch's slots for the move: IMPORTING on the target, then MIGRATING on the source. */
async function openBatch(from: string, to: string, slots: number[], run: Run): Promise<void> {
    await setSlotsPhase(run, "migrate:importing", to, slots, ["IMPORTING", run.vid(from)]);
    await setSlotsPhase(run, "migrate:migrating", from, slots, ["MIGRATING", run.vid(to)]);
}

/** Moves an opened batch's keys, then assigns its slots to the target (on the target first, then the source). */
async function finishBatch(
    from: string,
    to: string,
    slots: number[],
    auth: string[],
    run: Run,
): Promise<void> {
    const src = await run.client(from);
    const toVid = run.vid(to);
    const target = run.byId.get(to)!;
    const keysPerCall = Math.min(4000, Math.max(1, Math.floor(run.o.keysPerCall ?? 1000)));
    const [, user = "", password = ""] = auth;

    let pending = slots;
    let attempts = 0;
    let downSince: number | undefined;
    while (pending.length > 0) {
        run.checkpoint("migrate:keys");
        let reply: unknown;
        try {
            reply = await src.call([
                "EVAL",
                MOVE_KEYS,
                0,
                target.host,
                target.port,
                run.o.migrateTimeoutMs ?? 10_000,
                run.o.scriptBudgetMs ?? 100,
                keysPerCall,
                user,
                password,
                ...pending,
            ]);
        } catch (e) {
            const message = redact((e as Error).message, password);
            // The source refuses while it sees the cluster down (a node it counts failed, on an overloaded
            // machine for instance): wait for the cluster, as long as any other wait of the run.
            if (CLUSTER_DOWN.test(message)) {
                downSince ??= Date.now();
                const bound =
                    run.o.waitTimeoutMs ?? Math.max(30_000, 15 * (run.o.nodeTimeoutMs ?? 2000));
                if (Date.now() - downSince < bound) {
                    if (Date.now() - downSince < 250)
                        run.log(
                            `rebalance: ${from} reports the cluster down; waiting for it before moving keys`,
                        );
                    await sleep(250);
                    continue;
                }
            }
            // A transient I/O error between the nodes: try again from the first slot not emptied, a few times.
            if (++attempts > 5)
                run.fail("EVAL (GETKEYSINSLOT + MIGRATE)", from, new Error(message));
            run.log(`rebalance: moving keys from ${from} to ${to} failed (${message}); retrying`);
            await sleep(200 * attempts);
            continue;
        }
        downSince = undefined;
        const [keys, emptied] = reply as [number, number];
        run.moved.keys += keys;
        pending = pending.slice(emptied);
    }

    // Assign on the target (it stops asking ASK-redirected clients for ASKING). Its SETSLOT NODE bumps its epoch
    // and sends the new owner to every node at once; the source is told at the end of the move (`tellSources`).
    await setSlotsPhase(run, "migrate:node-target", to, slots, ["NODE", toVid]);
    run.moved.slots += slots.length;
}

/**
 * Moves the keys of slots (ARGV[8..]) from this node, a source whose slots are MIGRATING, to the target at
 * ARGV[1]:ARGV[2]: for each slot, GETKEYSINSLOT then one MIGRATE ... REPLACE KEYS of what it returned (ARGV[3]
 * MIGRATE timeout, ARGV[5] keys per MIGRATE, ARGV[6]/ARGV[7] AUTH2 credentials, none when empty), until the slot
 * has no key left. A script runs alone, so a GETKEYSINSLOT that returned fewer keys than asked, once those moved,
 * means the slot is empty (a migrating slot takes no new keys: writes of missing keys are sent to the target).
 * Stops starting MIGRATEs after ARGV[4] ms and returns {keys moved, slots emptied from the front of the list}; the
 * milliseconds are the server's CPU time (`os.clock`) on Valkey 8, where TIME stands still inside a script, and
 * TIME's on Redis 7, which has no `os` in scripts. The caller calls again with the rest. A MIGRATE error ends the
 * script with that error (keys already moved stay moved). Key names never leave the server, which is most of a
 * move's work on the bootstrap's side.
 */
const MOVE_KEYS = `
local host, port, timeout = ARGV[1], ARGV[2], ARGV[3]
local budget, per = tonumber(ARGV[4]), tonumber(ARGV[5])
local user, password = ARGV[6], ARGV[7]
local ok, clock = pcall(function() return os.clock end)
local function now()
  if ok and clock then return clock() * 1000 end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local started = now()
local moved, emptied = 0, 0
for i = 8, #ARGV do
  local slot = tonumber(ARGV[i])
  while true do
    local keys = redis.call('CLUSTER', 'GETKEYSINSLOT', slot, per)
    if #keys > 0 then
      local cmd = {'MIGRATE', host, port, '', 0, timeout, 'REPLACE'}
      if password ~= '' then
        cmd[#cmd + 1] = 'AUTH2'; cmd[#cmd + 1] = user; cmd[#cmd + 1] = password
      end
      cmd[#cmd + 1] = 'KEYS'
      for _, k in ipairs(keys) do cmd[#cmd + 1] = k end
      redis.call(unpack(cmd))
      moved = moved + #keys
    end
    if #keys < per then break end
    if now() - started > budget then return {moved, emptied} end
  end
  emptied = emptied + 1
  if now() - started > budget then return {moved, emptied} end
end
return {moved, emptied}
`;

/** The node's own view (CLUSTER NODES), or undefined when it does not answer. */
async function ownView(run: Run, id: string): Promise<ClusterNodeEntry[] | undefined> {
    // A connection of the SETSLOT pool: the node's main connection may be queued behind a batch of MIGRATEs.
    const pool = await run.clients(id);
    const client = pool[pool.length - 1];
    return client
        .call(["CLUSTER", "NODES"])
        .then((text) => parseClusterNodes(String(text)))
        .catch(() => undefined);
}

/**
 * The slots among `slots` that `source` still migrates (all of them when its view cannot be read: a SETSLOT NODE
 * too many is harmless, one too few leaves the slot open).
 */
async function stillMigrating(run: Run, source: string, slots: number[]): Promise<number[]> {
    const view = await ownView(run, source);
    const me = view?.find((e) => e.myself);
    if (!me) return slots;
    const open = new Set(me.migrating.map((m) => m.slot));
    return slots.filter((s) => open.has(s));
}

/**
 * SETSLOT NODE on every other primary for the moved slots it still places elsewhere, best effort: each target's
 * SETSLOT NODE bumped its epoch and sent the new owner to every node, so usually there is none left; a primary
 * that misses one learns it by gossip.
 */
async function tellOthers(moves: SlotMove[], primaries: string[], run: Run): Promise<void> {
    await Promise.all(
        primaries.map(async (id) => {
            const mine = moves.filter((m) => m.from !== id && m.to !== id);
            if (mine.length === 0) return;
            run.checkpoint("migrate:node-others");
            const view = await ownView(run, id);
            const owners = new Array<string | undefined>(SLOT_COUNT);
            for (const e of view ?? []) for (const s of expandRanges(e.slots)) owners[s] = e.id;
            const byTarget = new Map<string, number[]>();
            for (const m of mine)
                if (!view || owners[m.slot] !== run.vid(m.to)) append(byTarget, m.to, m.slot);
            for (const [to, slots] of byTarget) {
                await setSlots(run, id, slots, ["NODE", run.vid(to)]).catch(() => undefined);
            }
        }),
    );
}

/**
 * Brings the cluster to the desired topology: observe, plan, act, repeat until done. Resumable: a run stopped
 * anywhere is finished by the next. Throws `BootstrapError` (with every problem) when the planner refuses or
 * a wait runs out.
 */
export async function reconcile(
    desired: DesiredTopology,
    options: ReconcileOptions,
): Promise<ReconcileResult> {
    // The configured node timeout, when the caller does not give it, is what the servers say (see
    // `configuredNodeTimeout`): the fast formation and the timeout restore then work the same for any caller.
    const o: ReconcileOptions = { ...options };
    const run = new Run(desired, o);
    const planOptions: PlanOptions = {
        nodeTimeoutMs: o.nodeTimeoutMs,
        fastNodeTimeoutMs: o.fastNodeTimeoutMs,
        maxmemoryBytes: o.maxmemoryBytes,
    };
    const waitBound = (): number =>
        o.waitTimeoutMs ?? Math.max(30_000, 15 * (o.nodeTimeoutMs ?? 2000));
    const pollMs = options.pollMs ?? 25;
    let waitingSince = Date.now();
    let lastWait = "";
    let actions = 0;
    let failures = 0;
    let unreachableSince = Date.now();
    let unreachableLogged = false;
    let roundMs = 0;
    let confirming = false;
    for (let round = 0; round < 10_000; round++) {
        const roundStart = Date.now();
        const observation = await observe(desired, options.transport, options.password);
        run.remember(observation);
        if (round === 0) await cleanupAfterDeadRuns(run);
        if (o.nodeTimeoutMs === undefined) {
            o.nodeTimeoutMs = configuredNodeTimeout(observation);
            planOptions.nodeTimeoutMs = o.nodeTimeoutMs;
            if (o.nodeTimeoutMs !== undefined)
                run.log(`cluster-node-timeout: ${o.nodeTimeoutMs} ms (read from the servers)`);
        }
        const p = plan(observation, desired, planOptions);
        if (
            p.phase === "blocked" &&
            p.retryable &&
            Date.now() - unreachableSince < (options.unreachableGraceMs ?? 15_000)
        ) {
            if (!unreachableLogged)
                run.log(`waiting for unreachable nodes: ${p.problems.join(" ")}`);
            unreachableLogged = true;
            await sleep(200);
            continue;
        }
        unreachableSince = Date.now();
        unreachableLogged = false;
        if (p.phase === "blocked") {
            throw new BootstrapError(
                redact(
                    `The slot bootstrap cannot continue:\n${p.problems.map((x) => `  - ${x}`).join("\n")}`,
                    options.password,
                ),
                p.problems.map((x) => redact(x, options.password)),
            );
        }
        if (p.phase === "done" && actions > 0 && !confirming) {
            // Once more before saying so: on Valkey 8 a replica applies a replicated SETSLOT NODE before it has
            // heard of the new owner's epoch, and a ping its primary sent before the move can still flip the slot
            // back for a moment (seen as "Nodes don't agree" right after a move).
            confirming = true;
            await sleep(Math.max(pollMs, 50));
            continue;
        }
        confirming = false;
        if (p.phase === "done") {
            if (actions > 0)
                run.log(
                    `converged: ${desired.shards} shards x ${desired.replicasPerShard} replicas, cluster_state:ok on every node`,
                );
            await cleanupAfterDeadRuns(run);
            const drift = plan(observation, desired, { ...planOptions, drift: true }).drift;
            return {
                observation,
                shards: observedShards(observation, desired),
                drift,
                actions,
                moved: run.moved,
            };
        }
        if (p.wait) {
            const what = `${p.phase}: waiting for ${p.wait.reason}`;
            if (what !== lastWait) run.log(what);
            lastWait = what;
            if (Date.now() - waitingSince > waitBound()) {
                throw new BootstrapError(
                    redact(
                        `The cluster did not converge within ${Math.round(waitBound() / 1000)} s: waiting for ${p.wait.reason} (nodes: ${p.wait.nodes.join(", ")}).`,
                        options.password,
                    ),
                );
            }
            roundMs = Date.now() - roundStart;
            // Observing is not free for busy nodes (or for this process on a small machine): poll no more often
            // than a round takes.
            await sleep(Math.max(pollMs, roundMs));
            continue;
        }
        const count = p.stages.reduce((n, s) => n + s.length, 0);
        run.log(
            `${p.phase}: ${PHASE_TEXT[p.phase] ?? p.phase} (${count} step${count === 1 ? "" : "s"})`,
        );
        run.checkpoint(p.phase);
        try {
            for (const stage of p.stages) await runStage(stage, run);
            failures = 0;
        } catch (e) {
            if (!(e instanceof StepError)) throw e;
            // Gossip may not have caught up with the observation the plan was made from: plan again.
            if (++failures >= 4) throw new BootstrapError(e.message);
            run.log(`${p.phase}: ${e.message}; observing again`);
            await sleep(100 * failures);
        }
        actions++;
        waitingSince = Date.now();
    }
    throw new BootstrapError("The slot bootstrap made no progress after 10000 rounds.");
}
