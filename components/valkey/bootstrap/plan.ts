/**
 * The slot-bootstrap planner, pure: what every node says about the cluster (its parsed `CLUSTER NODES`, state,
 * role, memory) plus the desired topology -> the next ordered steps, or what to wait for, or why it refuses.
 *
 * The executor calls it in a loop (observe, plan, run the steps, observe again) until it reports `done`, so a
 * run killed at any step is finished by the next: every decision is taken from the cluster as it is, never from
 * a record of what a previous run meant to do. Phases, first unfinished first:
 *
 *   prepare    a cluster with no slot anywhere: give each node a distinct config epoch (no collision rounds)
 *              and assign the balanced slot ranges before the nodes meet
 *   meet       every member meets every other at its current address (also after restarts on new addresses)
 *   replicas   replicas follow their shard's current primary
 *   openSlots  slots left importing/migrating are finished forward (or rolled back if the target is gone)
 *   placement  a planned primary serving as replica takes its role back (CLUSTER FAILOVER on it)
 *   cover      slots no node serves are assigned to their shard
 *   rebalance  slots move (with their keys) to the shard targets; leaving primaries are drained
 *   leave      drained leaving nodes are reset and forgotten by every remaining node
 *   converge   wait until every node agrees on the slot map, reports cluster_state:ok, replicas linked; a node
 *              with a complete view still reporting fail gets a short cluster-node-timeout pulse meanwhile
 *   restore    cluster-node-timeout back to the configured value where a killed run left another
 */
import { Layout, PodSlot, quorumOffenders, sharedZoneShards } from "../layout";
import { ClusterNodeEntry } from "./parse";
import {
    balancedRanges,
    expandRanges,
    formatRanges,
    Holding,
    rebalanceMoves,
    shardOfSlot,
    SLOT_COUNT,
    SlotMove,
    SlotRange,
    targetCounts,
    toRanges,
} from "./slots";
import { DesiredTopology, PlannedNode } from "./topology";

/** What one node reported, or why it could not be asked. */
export interface NodeObservation {
    /** The node's stable id from the input. */
    id: string;
    reachable: boolean;
    /** Why it is unreachable (already free of secrets). */
    error?: string;
    /** It answered but refused the password: waiting will not help. */
    authFailed?: boolean;
    /** Its Valkey node id. */
    myId?: string;
    /** Its parsed `CLUSTER NODES`. */
    view?: ClusterNodeEntry[];
    /** `cluster_state` from CLUSTER INFO. */
    clusterState?: string;
    currentEpoch?: number;
    /** `master` or `slave`, from INFO replication. */
    role?: string;
    /** On replicas: master_link_status is up. */
    masterLinkUp?: boolean;
    /** Keys in the node (DBSIZE). */
    keys?: number;
    usedMemory?: number;
    usedMemoryDataset?: number;
    /** maxmemory in bytes; 0 is no limit. */
    maxmemory?: number;
    nodeTimeoutMs?: number;
    /** When the answer arrived (ms since the epoch, the observer's clock). */
    observedAt?: number;
}

/** Every node's observation, in input order. */
export interface Observation {
    nodes: NodeObservation[];
}

/** One action on one node. Node fields are input node ids; `forget` names the Valkey id to forget. */
export type Step =
    | { kind: "setNodeTimeout"; node: string; ms: number }
    | {
          kind: "pulseNodeTimeout";
          node: string;
          ms: number;
          holdMs: number;
          restoreMs: number;
          /** A primary's pulse: counts against `budget`. */
          counted: boolean;
          /** At most this many counted pulses at once (see `convergeNudges`). */
          budget: number;
      }
    | { kind: "setConfigEpoch"; node: string; epoch: number }
    | { kind: "addSlots"; node: string; ranges: SlotRange[] }
    | { kind: "meet"; node: string; peer: string }
    | { kind: "replicate"; node: string; primary: string }
    | { kind: "failover"; node: string }
    | { kind: "setSlotNode"; node: string; slot: number; owner: string }
    | {
          kind: "stable";
          node: string;
          slot: number;
          /**
           * Sent to a primary with no open state for the slot, to clear a replica's stale one: Valkey 8 replicates
           * SETSLOT to replicas and refuses it on a replica itself. Nothing changes on the primary.
           */
          forReplica?: string;
      }
    | { kind: "migrate"; moves: SlotMove[] }
    | { kind: "reset"; node: string }
    | { kind: "forget"; node: string; forget: string; label: string };

/** The phases, in the order the planner works through them. */
export type Phase =
    | "blocked"
    | "prepare"
    | "meet"
    | "replicas"
    | "openSlots"
    | "placement"
    | "cover"
    | "rebalance"
    | "leave"
    | "converge"
    | "restore"
    | "done";

/** The planner's answer. */
export interface Plan {
    phase: Phase;
    /** Stages run one after another; the steps of a stage may run in parallel. */
    stages: Step[][];
    /** Nothing to do until gossip, a handshake or a sync catches up: what, and on which nodes. */
    wait?: { reason: string; nodes: string[] };
    /** Why the planner refuses to go on (the run must fail with these). */
    problems: string[];
    /** True when the only problems are unreachable nodes, which may be starting: worth observing again. */
    retryable?: boolean;
    /** Differences between the cluster and the plan, for diff and read (only with `PlanOptions.drift`). */
    drift: string[];
}

/** Knobs of the planner. */
export interface PlanOptions {
    /** The configured cluster-node-timeout; restored after a fast bootstrap. Undefined: never touched. */
    nodeTimeoutMs?: number;
    /** The short node timeout of a pulse (the server clamps the rejoin delay to >= 500 ms). Default 500. */
    fastNodeTimeoutMs?: number;
    /** maxmemory to assume where a node reports none. */
    maxmemoryBytes?: number;
    /** Fraction of maxmemory a primary may reach after receiving slots. Default 0.9. */
    headroom?: number;
    /** Also list the drift (costly on large clusters; the executor asks only at the end). Default false. */
    drift?: boolean;
}

/** The state of one shard as observed. */
export interface ObservedShard {
    shard: number;
    /** Input id of the node serving the shard's slots (the planned primary when none does). */
    primary: string;
    /** Input ids of the shard's nodes replicating `primary`. */
    replicas: string[];
    slots: SlotRange[];
}

/**
 * The servers' configured cluster-node-timeout, for callers that do not pass it: the largest that any reachable
 * node reports. A bootstrap only ever lowers it for a while (a pulse), and never on every node at once (at most
 * half the primaries hold a short one), so the largest is the configured one; undefined when no node answered.
 */
export function configuredNodeTimeout(observation: Observation): number | undefined {
    const seen = observation.nodes
        .filter((n) => n.reachable && Number.isFinite(n.nodeTimeoutMs) && n.nodeTimeoutMs! > 0)
        .map((n) => n.nodeTimeoutMs!);
    return seen.length > 0 ? Math.max(...seen) : undefined;
}

/** The slot count as a local constant: hot loops read it 16384 times per node. */
const SLOTS: number = SLOT_COUNT;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function append<K, V>(m: Map<K, V[]>, k: K, v: V): void {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
}

/** Everything derived from an observation that the phases share. */
class Cluster {
    readonly nodes: PlannedNode[];
    readonly obs = new Map<string, NodeObservation>();
    /** Input id -> Valkey id, for reachable nodes. */
    readonly vid = new Map<string, string>();
    /** Valkey id -> input id. */
    readonly byVid = new Map<string, PlannedNode>();
    /** Reachable nodes' views, by Valkey id. */
    readonly views = new Map<string, Map<string, ClusterNodeEntry>>();
    /** The agreed owner (Valkey id) of every slot, or undefined. */
    readonly owner: (string | undefined)[] = new Array(SLOTS).fill(undefined);
    readonly roleNodes: PlannedNode[];
    readonly problems: string[] = [];

    constructor(
        readonly desired: DesiredTopology,
        observation: Observation,
    ) {
        this.nodes = desired.nodes;
        for (const o of observation.nodes) this.obs.set(o.id, o);
        for (const n of this.nodes) {
            const o = this.obs.get(n.id);
            if (o?.reachable && o.myId) {
                const dup = this.byVid.get(o.myId);
                if (dup) {
                    this.problems.push(
                        `nodes: ${dup.id} and ${n.id} reach the same server (Valkey node ${o.myId}); give each node its own address.`,
                    );
                    continue;
                }
                this.vid.set(n.id, o.myId);
                this.byVid.set(o.myId, n);
                this.views.set(n.id, new Map((o.view ?? []).map((e) => [e.id, e])));
            }
        }
        // Unreachable input nodes are matched to cluster members by address.
        for (const n of this.nodes) {
            if (this.vid.has(n.id)) continue;
            for (const view of this.views.values()) {
                const e = [...view.values()].find(
                    (x) => !x.handshake && x.ip === n.host && x.port === n.port,
                );
                if (e && !this.byVid.has(e.id)) {
                    this.vid.set(n.id, e.id);
                    this.byVid.set(e.id, n);
                    break;
                }
            }
        }
        this.roleNodes = this.nodes.filter((n) => n.role !== undefined);
        this.computeOwners();
    }

    reachable(id: string): boolean {
        return this.obs.get(id)?.reachable === true && this.views.has(id);
    }

    self(id: string): ClusterNodeEntry | undefined {
        const v = this.vid.get(id);
        return v ? this.views.get(id)?.get(v) : undefined;
    }

    /** A label for a Valkey id: the input id when known, else the id and last known address. */
    label(vid: string): string {
        const n = this.byVid.get(vid);
        if (n) return n.id;
        for (const view of this.views.values()) {
            const e = view.get(vid);
            if (e) return `node ${vid.slice(0, 8)} at ${e.ip}:${e.port}`;
        }
        return `node ${vid.slice(0, 8)}`;
    }

    private computeOwners(): void {
        const claimEpoch: number[] = new Array(SLOTS).fill(-1);
        for (const n of this.nodes) {
            if (!this.reachable(n.id)) continue;
            const me = this.self(n.id);
            if (!me || !me.master) continue;
            for (const s of expandRanges(me.slots)) {
                if (me.configEpoch > claimEpoch[s]) {
                    claimEpoch[s] = me.configEpoch;
                    this.owner[s] = me.id;
                }
            }
        }
        // Slots no reachable node claims: what the reachable views say (a dead or unknown owner).
        const votes = new Map<number, Map<string, number>>();
        const unclaimed = claimEpoch.some((e) => e < 0);
        for (const view of unclaimed ? this.views.values() : []) {
            for (const e of view.values()) {
                if (e.myself || e.handshake || !e.master) continue;
                for (const s of expandRanges(e.slots)) {
                    if (this.owner[s] !== undefined && claimEpoch[s] >= 0) continue;
                    const m = votes.get(s) ?? new Map<string, number>();
                    m.set(e.id, (m.get(e.id) ?? 0) + 1);
                    votes.set(s, m);
                }
            }
        }
        for (const [s, m] of votes) {
            this.owner[s] = [...m.entries()].sort(
                (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1),
            )[0][0];
        }
        this.owner.forEach((o, s) => {
            if (o !== undefined) append(this.slotsByVid, o, s);
        });
        for (const [vid, slots] of this.slotsByVid)
            this.rangesKey.set(vid, formatRanges(toRanges(slots)));
    }

    /** Per Valkey id, its agreed slots as a ranges string. */
    readonly rangesKey = new Map<string, string>();

    /** The Valkey ids whose slots a node sees differently from the agreed owner map. */
    disagreements(n: PlannedNode): string[] {
        const view = this.views.get(n.id)!;
        const out: string[] = [];
        for (const e of view.values()) {
            const seen = e.master && !e.handshake ? formatRanges(e.slots) : "";
            if (seen !== (this.rangesKey.get(e.id) ?? "")) out.push(e.id);
        }
        for (const vid of this.rangesKey.keys()) if (!view.has(vid)) out.push(vid);
        return out;
    }

    private readonly slotsByVid = new Map<string, number[]>();
    private readonly primaries = new Map<number, PlannedNode>();

    /** Results computed once per plan. */
    readonly memo: { moves?: SlotMove[] } = {};

    /** The Valkey ids that own slots. */
    ownerVids(): string[] {
        return [...this.slotsByVid.keys()];
    }

    /** Slots owned by a Valkey id, ascending. */
    slotsOf(vid: string): number[] {
        return this.slotsByVid.get(vid) ?? [];
    }

    /** Whether `a` knows `b` as a full member at b's input address. */
    knows(a: PlannedNode, b: PlannedNode): boolean {
        const bv = this.vid.get(b.id);
        const e = bv ? this.views.get(a.id)?.get(bv) : undefined;
        return e !== undefined && !e.handshake && !e.noaddr && e.ip === b.host && e.port === b.port;
    }

    /** Whether `a` has a handshake under way with b's address. */
    shaking(a: PlannedNode, b: PlannedNode): boolean {
        const view = this.views.get(a.id);
        if (!view) return false;
        return [...view.values()].some((e) => e.handshake && e.ip === b.host && e.port === b.port);
    }

    /** A node that is in a cluster: it knows other nodes, is known by a reachable node, or owns slots. */
    member(n: PlannedNode): boolean {
        const v = this.vid.get(n.id);
        if (
            this.reachable(n.id) &&
            (this.views.get(n.id)!.size > 1 || (this.self(n.id)?.slots.length ?? 0) > 0)
        )
            return true;
        if (!v) return false;
        for (const [id, view] of this.views) if (id !== n.id && view.has(v)) return true;
        return false;
    }

    /** The shard's nodes, planned primary first. */
    shardNodes(shard: number): PlannedNode[] {
        const p = this.desired.plannedShards[shard];
        return [p.primary, ...p.replicas].map((id) => this.nodes.find((n) => n.id === id)!);
    }

    /**
     * The node serving a shard now: its planned primary if that serves slots, else a shard node that does (after
     * a failover), else the planned primary. Another shard node that serves slots (roles reshuffle when
     * replicasPerShard changes) is drained like a leaving node, then attached as a replica.
     */
    currentPrimary(shard: number): PlannedNode {
        let p = this.primaries.get(shard);
        if (!p) {
            const members = this.shardNodes(shard);
            const serving = members.filter(
                (n) =>
                    this.reachable(n.id) &&
                    this.self(n.id)?.master &&
                    this.slotsOf(this.vid.get(n.id)!).length > 0,
            );
            p = serving.find((n) => n === members[0]) ?? serving[0] ?? members[0];
            this.primaries.set(shard, p);
        }
        return p;
    }
}

/**
 * Plans the next steps. Pure: the same observation and desired topology always give the same plan.
 */
export function plan(
    observation: Observation,
    desired: DesiredTopology,
    options: PlanOptions = {},
): Plan {
    const c = new Cluster(desired, observation);
    const drift = options.drift ? driftOf(c) : [];
    const result = (phase: Phase, stages: Step[][], wait?: Plan["wait"]): Plan => ({
        phase,
        stages: stages.filter((s) => s.length > 0),
        wait,
        problems: [],
        drift,
    });
    // Refusals first: nothing changes when the plan cannot complete.
    const unreachable = c.roleNodes.filter((n) => !c.reachable(n.id));
    if (unreachable.length > 0) {
        const problems = unreachable.map(
            (n) =>
                `${n.id} (${n.host}:${n.port}, ${n.role} of shard ${n.shard}) is unreachable: ${c.obs.get(n.id)?.error ?? "no answer"}. Start it, or change nodes/shards/replicasPerShard.`,
        );
        return {
            phase: "blocked",
            stages: [],
            problems,
            drift,
            retryable:
                c.problems.length === 0 && unreachable.every((n) => !c.obs.get(n.id)?.authFailed),
        };
    }
    const problems = [...c.problems, ...blockers(c, options)];
    if (problems.length > 0) return { phase: "blocked", stages: [], problems, drift };

    const roleNodes = c.roleNodes;

    // prepare: a cluster with no slot assigned anywhere is formed the fast way.
    if (c.owner.every((o) => o === undefined)) {
        const prep: Step[] = [];
        const ranges = balancedRanges(desired.shards);
        const ordered = [
            ...desired.plannedShards.map((s) => s.primary),
            ...desired.plannedShards.flatMap((s) => s.replicas),
        ];
        ordered.forEach((id, i) => {
            const o = c.obs.get(id)!;
            const me = c.self(id)!;
            if (o.view?.length === 1 && me.configEpoch === 0)
                prep.push({ kind: "setConfigEpoch", node: id, epoch: i + 1 });
        });
        for (const s of desired.plannedShards) {
            const me = c.self(s.primary)!;
            if (me.master && !me.masterId && (c.obs.get(s.primary)!.keys ?? 0) === 0) {
                prep.push({ kind: "addSlots", node: s.primary, ranges: [ranges[s.shard]] });
            }
        }
        if (prep.some((s) => s.kind === "addSlots")) {
            // The meets go out with the slots just assigned: orient them by the planned owners.
            const owners = new Set(prep.filter((s) => s.kind === "addSlots").map((s) => s.node));
            return result("prepare", [prep, meets(c, owners).steps]);
        }
    }

    // meet
    const m = meets(c);
    if (m.steps.length > 0) return result("meet", [m.steps]);

    // replicas: every planned replica follows its shard's current primary; a planned primary that is a replica
    // of another shard (left over from a drain) is reset first.
    const reps: Step[] = [];
    const resets: Step[] = [];
    const repWait: string[] = [];
    for (const s of desired.plannedShards) {
        const primary = c.currentPrimary(s.shard);
        const pMe = c.self(primary.id)!;
        if (!pMe.master) {
            if (c.slotsOf(c.vid.get(primary.id)!).length === 0)
                resets.push({ kind: "reset", node: primary.id });
            continue;
        }
        for (const n of c.shardNodes(s.shard)) {
            if (n === primary) continue;
            const me = c.self(n.id)!;
            if (me.replica && me.masterId === c.vid.get(primary.id)) continue;
            if (me.master && c.slotsOf(me.id).length > 0) continue; // drained by the rebalance first
            // A restarted old primary still claims its slots until gossip tells it the newer owner.
            if (!c.knows(n, primary) || (me.master && me.slots.length > 0)) {
                repWait.push(n.id);
                continue;
            }
            reps.push({ kind: "replicate", node: n.id, primary: primary.id });
        }
    }
    if (resets.length > 0) return result("replicas", [resets]);
    // While other handshakes finish, replicas that know their primary attach and nodes that know everyone get
    // their timeout pulse: at 60 nodes the handshakes alone take about a second.
    if (reps.length > 0) return result("replicas", [[...reps, ...convergeNudges(c, options)]]);
    if (m.pending.length > 0) {
        const early = convergeNudges(c, options);
        if (early.length > 0) return result("converge", [early]);
        return result("meet", [], { reason: "cluster handshakes to complete", nodes: m.pending });
    }
    if (repWait.length > 0)
        return result("replicas", [], {
            reason: "replicas to learn their primary through gossip",
            nodes: repWait,
        });

    // openSlots
    const open = openSlotSteps(c);
    if (open.some((stage) => stage.length > 0)) return result("openSlots", open);

    // placement: one failover at a time (concurrent elections can collide on an epoch).
    for (const s of desired.plannedShards) {
        const planned = c.nodes.find((n) => n.id === s.primary)!;
        const cur = c.currentPrimary(s.shard);
        if (cur === planned) continue;
        const me = c.self(planned.id)!;
        if (me.replica && me.masterId === c.vid.get(cur.id)) {
            if (c.obs.get(planned.id)!.masterLinkUp)
                return result("placement", [[{ kind: "failover", node: planned.id }]]);
            return result("placement", [], {
                reason: "the planned primary to sync before it takes over",
                nodes: [planned.id],
            });
        }
    }

    // cover: slots nobody serves go to their shard's current primary.
    const uncovered = new Map<string, number[]>();
    for (let slot = 0; slot < SLOTS; slot++) {
        if (c.owner[slot] !== undefined) continue;
        const p = c.currentPrimary(shardOfSlot(slot, desired.shards));
        append(uncovered, p.id, slot);
    }
    if (uncovered.size > 0) {
        return result("cover", [
            [...uncovered].map(
                ([node, slots]) => ({ kind: "addSlots", node, ranges: toRanges(slots) }) as Step,
            ),
        ]);
    }

    // rebalance
    const moves = rebalancePlan(c);
    if (moves.length > 0) {
        const participants = new Set([...moves.map((mv) => mv.from), ...moves.map((mv) => mv.to)]);
        const masters = roleNodes.filter((n) => c.self(n.id)?.master);
        const unaware = masters.filter((a) =>
            [...participants].some(
                (p) =>
                    p !== a.id &&
                    !c.knows(
                        a,
                        c.nodes.find((n) => n.id === p)!,
                    ),
            ),
        );
        if (unaware.length > 0) {
            return result("rebalance", [], {
                reason: "every primary to know the nodes slots move between",
                nodes: unaware.map((n) => n.id),
            });
        }
        // A primary refuses RESTORE-ASKING with CLUSTERDOWN until it reports cluster_state:ok itself, which a
        // node that just joined does only after its rejoin delay: get the receivers there first.
        const notOk = [...new Set(moves.map((mv) => mv.to))].filter(
            (id) => c.obs.get(id)!.clusterState !== "ok",
        );
        if (notOk.length > 0) {
            const nudges = convergeNudges(c, options).filter((s) => s.kind === "pulseNodeTimeout");
            if (nudges.length > 0) return result("rebalance", [nudges]);
            return result("rebalance", [], {
                reason: "the receiving primaries to report cluster_state:ok",
                nodes: notOk,
            });
        }
        return result("rebalance", [[{ kind: "migrate", moves }]]);
    }

    // leave: drained members without a role are reset, then forgotten.
    const leave = leaveSteps(c);
    if (leave.steps.length > 0) return result("leave", [leave.steps]);
    if (leave.pending.length > 0)
        return result("leave", [], {
            reason: "every node to see the drained nodes without slots",
            nodes: leave.pending,
        });

    // converge. A primary reports cluster_state:ok only once the rejoin delay (cluster-node-timeout clamped to
    // 0.5..5 s) has passed since it last counted itself in a minority, which a fresh node does until it holds or
    // learns of slots; and a node learns a peer's slots only from a PING/PONG/MEET whose sender it already knows
    // (the handshake itself often does not carry them), normally refreshed every nodeTimeout/2. A node that
    // knows every peer and sees none failing but still reports fail gets a short timeout pulse: it pings every
    // peer at once (which carries the slots both ways) and re-evaluates its state with a short rejoin delay.
    // Holding a short timeout longer, on many nodes, makes loaded nodes suspect each other and fail over.
    const waiting = convergeProblems(c);
    const nudges = convergeNudges(c, options);
    if (nudges.length > 0) return result(waiting.length > 0 ? "converge" : "restore", [nudges]);
    if (waiting.length > 0) {
        return result("converge", [], {
            reason: waiting.map((w) => `${w.node}: ${w.why}`).join("; "),
            nodes: waiting.map((w) => w.node),
        });
    }
    return result("done", []);
}

/**
 * The node-timeout lever (see `plan`): a node with a complete, calm view that still reports fail gets a short
 * timeout for a pulse shorter than that timeout, then the configured one again. Its pings carry slots both ways
 * and it re-evaluates its state with a short rejoin delay. A node left with another timeout (a run killed
 * mid-pulse) gets the configured one back.
 *
 * Safety: a node is marked FAIL (and its replica takes over) only with failure reports from a majority of the
 * slot-owning primaries (`size / 2 + 1`), and only primaries' reports count. A node with the configured timeout
 * reports a peer only after that long without an answer, so at most `size / 2` primaries (rounded down) hold a
 * short timeout at any time (`budget`, which the executor enforces, counting a pulse until its node has the
 * configured timeout back): however loaded the machine, a pulse alone cannot fail a healthy node. Primaries left
 * with a short timeout by a killed run are restored before any new primary pulses. Replicas' reports do not
 * count, so they pulse freely, but only once every primary reports ok (earlier, the primaries' pulses reach them
 * anyway). A primary without slots that is about to become a replica never pulses.
 */
function convergeNudges(c: Cluster, options: PlanOptions): Step[] {
    const configured = options.nodeTimeoutMs;
    if (configured === undefined) return [];
    const fast = Math.min(configured, options.fastNodeTimeoutMs ?? 500);
    const primaries = new Set(c.desired.plannedShards.map((s) => c.currentPrimary(s.shard).id));
    const isMaster = (n: PlannedNode): boolean => c.self(n.id)!.master;
    const mastersOk = c.roleNodes.every(
        (n) => !isMaster(n) || c.obs.get(n.id)!.clusterState === "ok",
    );
    const budget = Math.floor(c.ownerVids().length / 2);
    const pulses: Extract<Step, { kind: "pulseNodeTimeout" }>[] = [];
    const restores: Step[] = [];
    let leftShort = false;
    for (const n of c.roleNodes) {
        const o = c.obs.get(n.id)!;
        const master = isMaster(n);
        const eligible = master ? primaries.has(n.id) && budget > 0 : mastersOk;
        if (
            o.clusterState !== "ok" &&
            fast < configured &&
            eligible &&
            completeView(c, n) &&
            calm(c, n, fast * 0.8)
        ) {
            pulses.push({
                kind: "pulseNodeTimeout",
                node: n.id,
                ms: fast,
                // The executor ends a node's pulse as soon as it reports ok: one cron tick (100 ms) for the ping
                // round and the state check, plus round trips. The bound stays under the short timeout, so no ping
                // sent during the pulse can time out under it.
                holdMs: Math.floor(fast * 0.6),
                restoreMs: configured,
                counted: master,
                budget,
            });
        } else if (
            o.nodeTimeoutMs !== undefined &&
            o.nodeTimeoutMs !== configured &&
            (o.clusterState === "ok" || o.nodeTimeoutMs < configured)
        ) {
            restores.push({ kind: "setNodeTimeout", node: n.id, ms: configured });
            if (master && o.nodeTimeoutMs < configured) leftShort = true;
        }
    }
    return [...restores, ...pulses.filter((p) => !leftShort || !p.counted)];
}

/**
 * Whether a node waits for no pong older than `ms`: a ping already outstanding that long would be judged a
 * failure (by this node) the moment a short timeout applies, and a node that suspects its peers counts itself
 * in a minority, which restarts its rejoin delay. (Safety against failovers comes from the pulse budget.)
 */
function calm(c: Cluster, n: PlannedNode, ms: number): boolean {
    const at = c.obs.get(n.id)!.observedAt;
    if (at === undefined) return true;
    for (const e of c.views.get(n.id)!.values()) {
        if (!e.myself && e.pingSent > 0 && at - e.pingSent > ms) return false;
    }
    return true;
}

/**
 * Whether a node knows every planned node and sees none failing: then only slot knowledge and the rejoin delay
 * stand between it and cluster_state:ok, and a short node timeout cannot make it suspect a healthy peer.
 */
function completeView(c: Cluster, n: PlannedNode): boolean {
    const roleVids = new Set(c.roleNodes.map((x) => c.vid.get(x.id)));
    const view = c.views.get(n.id)!;
    if (!c.roleNodes.every((x) => x === n || c.knows(n, x))) return false;
    for (const e of view.values())
        if (roleVids.has(e.id) && (e.failed || e.suspected)) return false;
    return true;
}

/** Refusals: unreachable nodes, slots held by nodes outside the input, missing memory headroom. */
function blockers(c: Cluster, options: PlanOptions): string[] {
    const problems: string[] = [];
    // Slots served by a node the bootstrap cannot drive.
    const foreign = new Map<string, number[]>();
    for (let s = 0; s < SLOTS; s++) {
        const o = c.owner[s];
        if (o === undefined) continue;
        const n = c.byVid.get(o);
        if (!n || !c.reachable(n.id)) append(foreign, o, s);
    }
    for (const [vid, slots] of foreign) {
        const n = c.byVid.get(vid);
        const who = n
            ? `${n.id} (${n.host}:${n.port}), which is unreachable`
            : `${c.label(vid)}, which is not in nodes`;
        problems.push(
            `slots ${formatRanges(toRanges(slots))} are served by ${who}. ${n ? "Start it" : "Add it to nodes"} so its slots can be moved, or wait for its replica to take over.`,
        );
    }
    for (const n of c.roleNodes) {
        const me = c.self(n.id);
        const o = c.obs.get(n.id)!;
        const primary = c.currentPrimary(n.shard!);
        if (me?.master && n !== primary && me.slots.length === 0 && (o.keys ?? 0) > 0) {
            problems.push(
                `${n.id} holds ${plural(o.keys!, "key")} but serves no slot, so it cannot become a replica of shard ${n.shard}; flush it (FLUSHALL) if the keys are stale.`,
            );
        }
    }
    if (problems.length > 0) return problems;
    problems.push(...headroomProblems(c, options));
    return problems;
}

/** The moves that bring every shard's current primary to its balanced count and drain everything else. */
function rebalancePlan(c: Cluster): { slot: number; from: string; to: string }[] {
    if (c.memo.moves) return c.memo.moves;
    const targets = new Map<string, number>();
    const counts = targetCounts(c.desired.shards);
    for (const s of c.desired.plannedShards)
        targets.set(c.currentPrimary(s.shard).id, counts[s.shard]);
    // The common case, a balanced cluster, without walking the slots.
    const holders = c.ownerVids();
    const balanced =
        holders.length === targets.size &&
        holders.every((v) => {
            const n = c.byVid.get(v);
            return n !== undefined && targets.get(n.id) === c.slotsOf(v).length;
        });
    if (balanced) return (c.memo.moves = []);
    const holdings = new Map<string, number[]>();
    for (let s = 0; s < SLOTS; s++) {
        const o = c.owner[s];
        if (o === undefined) return [];
        const n = c.byVid.get(o);
        if (!n) return [];
        append(holdings, n.id, s);
    }
    // Role primaries first, in shard order, then leaving nodes in input order: deterministic.
    const order = [...targets.keys(), ...[...holdings.keys()].filter((id) => !targets.has(id))];
    const list: Holding[] = order
        .filter((id) => holdings.has(id))
        .map((id) => ({ owner: id, slots: holdings.get(id)! }));
    return (c.memo.moves = rebalanceMoves(list, targets));
}

/** Memory check before moving slots: each receiving primary must stay under `headroom` x maxmemory. */
function headroomProblems(c: Cluster, options: PlanOptions): string[] {
    if (c.owner.some((o) => o === undefined)) return [];
    const moves = rebalancePlan(c);
    if (moves.length === 0) return [];
    const headroom = options.headroom ?? 0.9;
    const incoming = new Map<string, number>();
    const perSlot = new Map<string, number>();
    for (const mv of moves) {
        if (!perSlot.has(mv.from)) {
            const o = c.obs.get(mv.from)!;
            const slots = c.slotsOf(c.vid.get(mv.from)!).length;
            perSlot.set(mv.from, slots > 0 ? (o.usedMemoryDataset ?? 0) / slots : 0);
        }
        incoming.set(mv.to, (incoming.get(mv.to) ?? 0) + perSlot.get(mv.from)!);
    }
    const short: string[] = [];
    for (const [id, bytes] of incoming) {
        const o = c.obs.get(id)!;
        const max = o.maxmemory || options.maxmemoryBytes || 0;
        if (max <= 0) continue;
        const after = (o.usedMemory ?? 0) + bytes;
        if (after > headroom * max) {
            short.push(
                `${id} would hold about ${mib(after)} (${mib(o.usedMemory ?? 0)} used + ${mib(bytes)} moving in) against maxmemory ${mib(max)}`,
            );
        }
    }
    if (short.length === 0) return [];
    const leaving = [...new Set(moves.map((mv) => mv.from))].filter(
        (id) => c.nodes.find((n) => n.id === id)?.role === undefined,
    );
    const what =
        leaving.length > 0
            ? `draining ${leaving.join(", ")}`
            : `moving ${plural(moves.length, "slot")}`;
    return [
        `refusing to reshard: ${what} needs more memory than the receiving primaries have (limit ${Math.round(headroom * 100)}% of maxmemory): ${short.join("; ")}. Raise maxmemory, free memory, or keep more shards.`,
    ];
}

function mib(bytes: number): string {
    return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * MEETs so that every member knows every other at its current address: one per pair, from the side that does
 * not know the other. Every pair meets directly rather than through gossip, which takes seconds to spread.
 *
 * Direction matters for speed: a node learns a peer's slots only from a message whose sender it already knows,
 * so the side that sends MEET usually learns the other's slots during the handshake (from the other's first
 * PING) and the side that receives it does not. A node without slots therefore meets the slot owners (replicas
 * get no timeout pulse early on, see `convergeNudges`).
 */
function meets(c: Cluster, owners?: Set<string>): { steps: Step[]; pending: string[] } {
    const participants = c.nodes.filter(
        (n) => c.reachable(n.id) && (n.role !== undefined || c.member(n)),
    );
    const owns = new Map(
        participants.map((n) => [
            n.id,
            owners ? owners.has(n.id) : (c.self(n.id)?.slots.length ?? 0) > 0,
        ]),
    );
    const steps: Step[] = [];
    const pending = new Set<string>();
    for (let i = 0; i < participants.length; i++) {
        for (let j = i + 1; j < participants.length; j++) {
            const a = participants[i];
            const b = participants[j];
            const ab = c.knows(a, b);
            const ba = c.knows(b, a);
            if (ab && ba) continue;
            if (c.shaking(a, b) || c.shaking(b, a)) {
                pending.add(a.id);
                continue;
            }
            let [from, to] = !ab ? [a, b] : [b, a];
            if (!ab && !ba && owns.get(a.id) && !owns.get(b.id)) [from, to] = [b, a];
            steps.push({ kind: "meet", node: from.id, peer: to.id });
        }
    }
    return { steps, pending: [...pending] };
}

/**
 * Finishes slots left importing/migrating by an interrupted move (forward, whatever step it stopped at), or
 * rolls a flag back when the other side is gone or the flag is stale.
 */
function openSlotSteps(c: Cluster): Step[][] {
    const moves = new Map<number, SlotMove>();
    const fix: Step[] = [];
    const primaryOk = (n: PlannedNode | undefined): n is PlannedNode =>
        n !== undefined && c.reachable(n.id) && c.self(n.id)!.master;
    const ownerOf = (slot: number): PlannedNode | undefined => {
        const v = c.owner[slot];
        return v ? c.byVid.get(v) : undefined;
    };
    for (const n of c.nodes) {
        const me = c.reachable(n.id) ? c.self(n.id) : undefined;
        if (!me) continue;
        if (!me.master) {
            // Valkey 8 replicates the slot states to replicas and refuses SETSLOT on them: a replica's open slot
            // follows its primary's. One the primary no longer has (it was a primary itself when the slot
            // opened, or the primary's SETSLOT is still on its way) is cleared by a SETSLOT STABLE on the primary,
            // which changes nothing there and reaches the replica through replication.
            const primary = me.masterId ? c.byVid.get(me.masterId) : undefined;
            if (!primaryOk(primary)) continue;
            const pm = c.self(primary.id)!;
            const open = new Set([...pm.importing, ...pm.migrating].map((x) => x.slot));
            for (const { slot } of [...me.importing, ...me.migrating]) {
                const dup = fix.some(
                    (f) => f.kind === "stable" && f.node === primary.id && f.slot === slot,
                );
                if (!open.has(slot) && !dup)
                    fix.push({ kind: "stable", node: primary.id, slot, forReplica: n.id });
            }
            continue;
        }
        for (const { slot, from } of me.importing) {
            const owner = ownerOf(slot);
            const source = c.byVid.get(from);
            if (owner === n) fix.push({ kind: "setSlotNode", node: n.id, slot, owner: n.id });
            else if (owner !== undefined && owner === source && primaryOk(n))
                moves.set(slot, { slot, from: owner.id, to: n.id });
            else fix.push({ kind: "stable", node: n.id, slot });
        }
        for (const { slot, to } of me.migrating) {
            const owner = ownerOf(slot);
            const target = c.byVid.get(to);
            if (owner === n && primaryOk(target) && target !== n)
                moves.set(slot, { slot, from: n.id, to: target.id });
            else if (owner !== undefined && owner === target)
                fix.push({ kind: "setSlotNode", node: n.id, slot, owner: owner.id });
            else fix.push({ kind: "stable", node: n.id, slot });
        }
    }
    // A slot being moved forward needs no separate fix on either side.
    const rest = fix.filter(
        (f) => !((f.kind === "stable" || f.kind === "setSlotNode") && moves.has(f.slot)),
    );
    return [rest, moves.size > 0 ? [{ kind: "migrate", moves: [...moves.values()] }] : []];
}

/** Reset drained members without a role, then make every remaining node forget them. */
function leaveSteps(c: Cluster): { steps: Step[]; pending: string[] } {
    const steps: Step[] = [];
    const pending: string[] = [];
    const roleVids = new Set(c.roleNodes.map((n) => c.vid.get(n.id)));
    const claimed = (vid: string): boolean =>
        [...c.views.values()].some((v) => (v.get(vid)?.slots.length ?? 0) > 0);
    // Leaving input nodes that still know the cluster.
    for (const n of c.nodes) {
        if (n.role !== undefined || !c.reachable(n.id)) continue;
        const v = c.vid.get(n.id)!;
        if (c.views.get(n.id)!.size <= 1) continue;
        if (claimed(v)) {
            pending.push(n.id);
            continue;
        }
        steps.push({ kind: "reset", node: n.id });
    }
    if (steps.length > 0 || pending.length > 0) return { steps, pending };
    // Forget every Valkey id a role node knows that is not a role node (reset ones, dead ones, strangers).
    for (const n of c.roleNodes) {
        for (const e of c.views.get(n.id)!.values()) {
            if (e.myself || e.handshake || roleVids.has(e.id)) continue;
            if (e.slots.length > 0) {
                pending.push(n.id);
                continue;
            }
            const me = c.self(n.id)!;
            if (me.masterId === e.id) continue; // follows it still; the replicas phase moves it first
            steps.push({ kind: "forget", node: n.id, forget: e.id, label: c.label(e.id) });
        }
    }
    return { steps, pending };
}

/** Why the cluster has not converged yet, per node (empty when it has). */
function convergeProblems(c: Cluster): { node: string; why: string }[] {
    const out: { node: string; why: string }[] = [];
    const roleVids = new Set(c.roleNodes.map((n) => c.vid.get(n.id)));
    for (const n of c.roleNodes) {
        const o = c.obs.get(n.id)!;
        const view = c.views.get(n.id)!;
        const me = c.self(n.id)!;
        const whys: string[] = [];
        if (o.clusterState !== "ok") whys.push(`cluster_state:${o.clusterState ?? "unknown"}`);
        const strangers = c.roleNodes.filter((x) => x !== n && !c.knows(n, x)).map((x) => x.id);
        if (strangers.length > 0) whys.push(`does not know ${strangers.join(", ")}`);
        const unhealthy = [...view.values()]
            .filter((e) => roleVids.has(e.id) && !e.myself && (e.failed || e.suspected))
            .map((e) => c.label(e.id));
        if (unhealthy.length > 0) whys.push(`sees ${unhealthy.join(", ")} as failing`);
        const extra = [...view.values()]
            .filter((e) => !roleVids.has(e.id) && !e.handshake)
            .map((e) => c.label(e.id));
        if (extra.length > 0) whys.push(`still knows ${extra.join(", ")}`);
        const wrong = c.disagreements(n);
        if (wrong.length > 0)
            whys.push(`sees the slots of ${wrong.map((v) => c.label(v)).join(", ")} differently`);
        if (me.importing.length + me.migrating.length > 0) whys.push(`has open slots`);
        if (n.role === "replica" || c.currentPrimary(n.shard!) !== n) {
            const primary = c.currentPrimary(n.shard!);
            if (primary !== n) {
                if (!me.replica || me.masterId !== c.vid.get(primary.id))
                    whys.push(`is not a replica of ${primary.id}`);
                else if (!o.masterLinkUp) whys.push(`master_link_status is not up`);
            }
        }
        if (whys.length > 0) out.push({ node: n.id, why: whys.join(", ") });
    }
    return out;
}

/** The shards as they are now: who serves each, who follows it, which slots. */
export function observedShards(
    observation: Observation,
    desired: DesiredTopology,
): ObservedShard[] {
    const c = new Cluster(desired, observation);
    return desired.plannedShards.map((s) => {
        const primary = c.currentPrimary(s.shard);
        const pv = c.vid.get(primary.id);
        const replicas = c.nodes
            .filter(
                (n) =>
                    c.reachable(n.id) &&
                    pv !== undefined &&
                    c.self(n.id)?.replica &&
                    c.self(n.id)?.masterId === pv,
            )
            .map((n) => n.id);
        return {
            shard: s.shard,
            primary: primary.id,
            replicas,
            slots: pv ? toRanges(c.slotsOf(pv)) : [],
        };
    });
}

/** Differences between the observed cluster and the plan, as messages for diff/read. */
function driftOf(c: Cluster): string[] {
    const drift: string[] = [];
    for (const n of c.roleNodes) {
        if (!c.reachable(n.id)) drift.push(`${n.id} is unreachable`);
    }
    const uncovered: number[] = [];
    for (let s = 0; s < SLOTS; s++) if (c.owner[s] === undefined) uncovered.push(s);
    if (uncovered.length > 0)
        drift.push(`slots ${formatRanges(toRanges(uncovered))} are not served by any node`);
    const failedOwners = new Set<string>();
    for (const view of c.views.values())
        for (const e of view.values())
            if (e.failed && c.slotsOf(e.id).length > 0) failedOwners.add(e.id);
    for (const v of failedOwners) drift.push(`slots of ${c.label(v)} are served by a failed node`);
    const roleVids = new Set(c.roleNodes.map((n) => c.vid.get(n.id)));
    const left = new Set<string>();
    for (const n of c.roleNodes) {
        for (const e of c.views.get(n.id)?.values() ?? []) {
            if (!e.myself && !e.handshake && !roleVids.has(e.id)) left.add(e.id);
        }
    }
    for (const v of left) {
        const n = c.byVid.get(v);
        drift.push(
            n
                ? `${n.id} is a member but has no role in the plan`
                : `${c.label(v)} is a member that is not in nodes (a node that left)`,
        );
    }
    for (const n of c.roleNodes) {
        if (!c.reachable(n.id)) continue;
        if (!c.member(n)) drift.push(`${n.id} has not joined the cluster`);
        const me = c.self(n.id)!;
        if (me.importing.length + me.migrating.length > 0)
            drift.push(`${n.id} has slots left importing/migrating`);
    }
    // Placement of the shards as they are, checked with the layout's own rules.
    const obsLayout: Layout = {
        shards: [],
        zones: c.desired.zones.map((zone) => ({ zone, pods: [] })),
    };
    const primaryZones: string[] = [];
    for (const s of c.desired.plannedShards) {
        const cur = c.currentPrimary(s.shard);
        const pv = c.vid.get(cur.id);
        if (!pv || !c.reachable(cur.id)) continue;
        const replicas = c.nodes.filter(
            (n) => c.reachable(n.id) && c.self(n.id)?.replica && c.self(n.id)?.masterId === pv,
        );
        const pod = (n: PlannedNode, copy: number): PodSlot => ({
            shard: s.shard,
            copy,
            role: copy === 0 ? "primary" : "replica",
            zone: n.zone,
            ordinal: n.ordinal,
        });
        obsLayout.shards.push({
            shard: s.shard,
            primary: pod(cur, 0),
            replicas: replicas.map((r, i) => pod(r, i + 1)),
        });
        if (c.slotsOf(pv).length > 0) primaryZones.push(cur.zone);
        if (cur.id !== s.primary)
            drift.push(`shard ${s.shard} is served by ${cur.id}, planned ${s.primary}`);
        if (replicas.length !== s.replicas.length)
            drift.push(
                `shard ${s.shard} has ${plural(replicas.length, "replica")}, planned ${s.replicas.length}`,
            );
    }
    for (const p of sharedZoneShards(obsLayout))
        drift.push(`shard ${p.shard} has two copies in zone ${p.zone}`);
    if (primaryZones.length > 1) {
        for (const o of quorumOffenders(primaryZones, c.desired.zones)) {
            drift.push(
                `quorum broken: zone ${o.zone} holds ${o.primaries} of ${primaryZones.length} primaries`,
            );
        }
    }
    const counts = targetCounts(c.desired.shards);
    const off = c.desired.plannedShards.filter((s) => {
        const pv = c.vid.get(c.currentPrimary(s.shard).id);
        return pv !== undefined && c.slotsOf(pv).length !== counts[s.shard];
    });
    if (off.length > 0 && uncovered.length < SLOTS)
        drift.push(
            `slots are not balanced over ${plural(c.desired.shards, "shard")} (shards ${off.map((s) => s.shard).join(", ")})`,
        );
    for (const n of c.roleNodes) {
        const o = c.obs.get(n.id);
        if (c.reachable(n.id) && o?.clusterState !== "ok" && c.member(n))
            drift.push(`${n.id} reports cluster_state:${o?.clusterState}`);
        if (c.reachable(n.id) && o?.role === "slave" && !o.masterLinkUp)
            drift.push(`${n.id} replica link is down`);
    }
    return drift;
}
