/**
 * The planner against an in-memory cluster model: from fresh nodes, from any converged shape to any other, and
 * with runs cut short after any number of steps, repeated planning always ends `done` with every slot served by
 * its planned primary, balanced counts, replicas in place, no key lost. Plus tables for refusals and drift.
 *
 * The model is a fake for the planner only (gossip is instant; a MEET introduces just the two nodes; commands a
 * real server would refuse throw). The protocol itself is proven against real servers in test/integration.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ClusterNodeEntry } from "../../../components/valkey/bootstrap/parse";
import {
    NodeObservation,
    Observation,
    plan,
    PlanOptions,
    Step,
} from "../../../components/valkey/bootstrap/plan";
import { SLOT_COUNT, targetCounts, toRanges } from "../../../components/valkey/bootstrap/slots";
import {
    desiredTopology,
    DesiredTopology,
    NodeSpec,
} from "../../../components/valkey/bootstrap/topology";

const TIMEOUT = 2000;
const ZONES = ["zone-a", "zone-b", "zone-c"];

interface FakeNode {
    spec: NodeSpec;
    up: boolean;
    vid: string;
    epoch: number;
    master: boolean;
    masterVid?: string;
    knows: Set<string>;
    importing: Map<number, string>;
    migrating: Map<number, string>;
    timeout: number;
}

/**
 * An in-memory cluster: one truth for slot owners and keys (instant gossip), per-node acquaintance. With
 * `valkey8`, slot states behave as on Valkey 8: replicas hold a copy of their primary's importing/migrating states
 * (SETSLOT is replicated) and refuse SETSLOT themselves; a failover keeps both sides' copies.
 */
class Fake {
    readonly nodes: FakeNode[];
    readonly owner: (string | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
    /** Keys per slot per holder (a slot's keys may be split between the two sides of a move). */
    readonly keys = new Map<number, Map<string, number>>();
    private retired = new Map<string, NodeSpec>();
    private seq = 0;

    constructor(
        specs: NodeSpec[],
        readonly valkey8 = false,
    ) {
        this.nodes = specs.map((spec) => ({
            spec,
            up: true,
            vid: this.newVid(),
            epoch: 0,
            master: true,
            knows: new Set(),
            importing: new Map(),
            migrating: new Map(),
            timeout: TIMEOUT,
        }));
    }

    private newVid(): string {
        return (++this.seq).toString(16).padStart(40, "0");
    }

    byId(id: string): FakeNode {
        return this.nodes.find((n) => n.spec.id === id)!;
    }

    byVid(vid: string): FakeNode | undefined {
        return this.nodes.find((n) => n.vid === vid);
    }

    /** Valkey 8 replication of a primary's slot states to its replicas. */
    mirror(primary: FakeNode): void {
        if (!this.valkey8) return;
        for (const r of this.nodes) {
            if (r.masterVid !== primary.vid) continue;
            r.importing = new Map(primary.importing);
            r.migrating = new Map(primary.migrating);
        }
    }

    keysOf(vid: string): number {
        let n = 0;
        for (const m of this.keys.values()) n += m.get(vid) ?? 0;
        return n;
    }

    totalKeys(): number {
        let n = 0;
        for (const m of this.keys.values()) for (const c of m.values()) n += c;
        return n;
    }

    /** Puts `count` keys in random slots, on each slot's owner. */
    seedKeys(count: number, rnd: () => number): void {
        for (let i = 0; i < count; i++) {
            const slot = Math.floor(rnd() * SLOT_COUNT);
            const o = this.owner[slot]!;
            const m = this.keys.get(slot) ?? new Map<string, number>();
            m.set(o, (m.get(o) ?? 0) + 1);
            this.keys.set(slot, m);
        }
    }

    private entry(
        viewer: FakeNode,
        vid: string,
        ranges: Map<string, [number, number][]>,
    ): ClusterNodeEntry {
        const n = this.byVid(vid);
        const spec = n?.spec ?? this.retired.get(vid)!;
        const self = viewer.vid === vid;
        const master = n ? n.master : true;
        const flags = [
            ...(self ? ["myself"] : []),
            master ? "master" : "slave",
            ...(!n || !n.up ? ["fail"] : []),
        ];
        return {
            id: vid,
            ip: spec.host,
            port: spec.port,
            busPort: spec.port + 10000,
            flags,
            myself: self,
            master,
            replica: !master,
            failed: !n || !n.up,
            suspected: false,
            handshake: false,
            noaddr: !n,
            masterId: n?.masterVid,
            configEpoch: n?.epoch ?? 0,
            pingSent: 0,
            pongReceived: 0,
            connected: !!n && n.up,
            slots: n && master ? (ranges.get(vid) ?? []) : [],
            importing: self ? [...viewer.importing].map(([slot, from]) => ({ slot, from })) : [],
            migrating: self ? [...viewer.migrating].map(([slot, to]) => ({ slot, to })) : [],
        };
    }

    observe(): Observation {
        const slotsByVid = new Map<string, number[]>();
        this.owner.forEach((o, s) => {
            if (o === undefined) return;
            if (!slotsByVid.has(o)) slotsByVid.set(o, []);
            slotsByVid.get(o)!.push(s);
        });
        const ranges = new Map([...slotsByVid].map(([v, list]) => [v, toRanges(list)]));
        const allOwned = this.owner.every((o) => o !== undefined);
        const keysByVid = new Map<string, number>();
        for (const m of this.keys.values())
            for (const [v, c] of m) keysByVid.set(v, (keysByVid.get(v) ?? 0) + c);
        return {
            nodes: this.nodes.map((n): NodeObservation => {
                if (!n.up)
                    return { id: n.spec.id, reachable: false, error: "connect ECONNREFUSED" };
                const view = [n.vid, ...n.knows].map((v) => this.entry(n, v, ranges));
                const covered =
                    allOwned &&
                    [...slotsByVid.keys()].every(
                        (o) => (o === n.vid || n.knows.has(o)) && this.byVid(o)?.up,
                    );
                const member = n.knows.size > 0 || slotsByVid.has(n.vid);
                const masterNode = n.masterVid ? this.byVid(n.masterVid) : undefined;
                const keys = keysByVid.get(n.master ? n.vid : (masterNode?.vid ?? "")) ?? 0;
                return {
                    id: n.spec.id,
                    reachable: true,
                    myId: n.vid,
                    view,
                    clusterState: covered && member ? "ok" : "fail",
                    role: n.master ? "master" : "slave",
                    masterLinkUp: !n.master && !!masterNode?.up,
                    keys,
                    usedMemory: 1_000_000 + keys * 100,
                    usedMemoryDataset: keys * 100,
                    maxmemory: 0,
                    nodeTimeoutMs: n.timeout,
                    observedAt: 0,
                };
            }),
        };
    }

    private slotKeys(slot: number, vid: string): number {
        return this.keys.get(slot)?.get(vid) ?? 0;
    }

    private moveKeys(slot: number, from: string, to: string): void {
        const m = this.keys.get(slot);
        if (!m) return;
        const k = m.get(from) ?? 0;
        m.delete(from);
        if (k > 0) m.set(to, (m.get(to) ?? 0) + k);
    }

    /** Applies one step as a server would, throwing where a server would refuse. */
    apply(step: Step): void {
        const node = "node" in step ? this.byId(step.node) : undefined;
        if (node && !node.up) throw new Error(`${step.kind} on ${node.spec.id}: node is down`);
        switch (step.kind) {
            case "setNodeTimeout":
                node!.timeout = step.ms;
                return;
            case "pulseNodeTimeout":
                node!.timeout = step.restoreMs;
                return;
            case "setConfigEpoch":
                if (node!.knows.size > 0 || node!.epoch !== 0)
                    throw new Error("ERR the node table must be empty and the epoch 0");
                node!.epoch = step.epoch;
                return;
            case "addSlots":
                if (!node!.master) throw new Error("ERR addslots on a replica");
                for (const [a, b] of step.ranges) {
                    for (let s = a; s <= b; s++) {
                        if (this.owner[s] !== undefined)
                            throw new Error(`ERR Slot ${s} is already busy`);
                        this.owner[s] = node!.vid;
                    }
                }
                return;
            case "meet": {
                const peer = this.byId(step.peer);
                if (peer.up) {
                    node!.knows.add(peer.vid);
                    peer.knows.add(node!.vid);
                }
                return;
            }
            case "replicate": {
                const primary = this.byId(step.primary);
                if (!node!.knows.has(primary.vid)) throw new Error("ERR Unknown node");
                if (this.owner.includes(node!.vid))
                    throw new Error(
                        "ERR To set a master the node must be empty and without assigned slots.",
                    );
                if (node!.master && this.keysOf(node!.vid) > 0)
                    throw new Error("ERR the node holds keys");
                node!.master = false;
                node!.masterVid = primary.vid;
                return;
            }
            case "failover": {
                const old = this.byVid(node!.masterVid!)!;
                if (node!.master)
                    throw new Error("ERR You should send CLUSTER FAILOVER to a replica");
                this.owner.forEach((o, s) => {
                    if (o === old.vid) {
                        this.owner[s] = node!.vid;
                        this.moveKeys(s, old.vid, node!.vid);
                    }
                });
                for (const r of this.nodes)
                    if (r.masterVid === old.vid && r !== node) r.masterVid = node!.vid;
                node!.master = true;
                node!.masterVid = undefined;
                node!.epoch = Math.max(...this.nodes.map((n) => n.epoch)) + 1;
                old.master = false;
                old.masterVid = node!.vid;
                // Redis 7 closes a demoted primary's open slots; Valkey 8 keeps them (its new primary has the same).
                if (!this.valkey8) {
                    old.importing.clear();
                    old.migrating.clear();
                }
                return;
            }
            case "setSlotNode": {
                if (this.valkey8 && !node!.master)
                    throw new Error("ERR Please use SETSLOT only with masters.");
                const target = this.byId(step.owner);
                if (
                    this.owner[step.slot] === node!.vid &&
                    target !== node &&
                    this.slotKeys(step.slot, node!.vid) > 0
                ) {
                    throw new Error(
                        "ERR Can't assign hashslot to a different node while I still hold keys for this hash slot.",
                    );
                }
                this.owner[step.slot] = target.vid;
                node!.importing.delete(step.slot);
                node!.migrating.delete(step.slot);
                target.importing.delete(step.slot);
                this.mirror(node!);
                this.mirror(target);
                return;
            }
            case "stable":
                if (this.valkey8 && !node!.master)
                    throw new Error("ERR Please use SETSLOT only with masters.");
                node!.importing.delete(step.slot);
                node!.migrating.delete(step.slot);
                this.mirror(node!);
                return;
            case "migrate":
                for (const m of step.moves) {
                    const from = this.byId(m.from);
                    const to = this.byId(m.to);
                    if (!from.up || !to.up || !to.master) throw new Error("IOERR target unusable");
                    if (this.owner[m.slot] !== from.vid)
                        throw new Error(`ERR I'm not the owner of hash slot ${m.slot}`);
                    this.moveKeys(m.slot, from.vid, to.vid);
                    this.owner[m.slot] = to.vid;
                    from.migrating.delete(m.slot);
                    to.importing.delete(m.slot);
                    this.mirror(from);
                    this.mirror(to);
                }
                return;
            case "reset": {
                if (node!.master && this.keysOf(node!.vid) > 0)
                    throw new Error(
                        "ERR CLUSTER RESET can't be called with master nodes containing keys",
                    );
                if (this.owner.includes(node!.vid))
                    throw new Error("ERR reset node still owns slots");
                this.retired.set(node!.vid, node!.spec);
                node!.vid = this.newVid();
                node!.knows.clear();
                node!.master = true;
                node!.masterVid = undefined;
                node!.epoch = 0;
                node!.importing.clear();
                node!.migrating.clear();
                return;
            }
            case "forget":
                if (node!.masterVid === step.forget) throw new Error("ERR Can't forget my master!");
                if (node!.vid === step.forget)
                    throw new Error("ERR I tried hard but I can't forget myself...");
                node!.knows.delete(step.forget);
                return;
        }
    }

    /**
     * Leaves a move half done, as a killed mover would: the slot importing on `to`, migrating on its owner, and
     * half its keys moved.
     */
    halfMove(slot: number, to: FakeNode): void {
        const owner = this.byVid(this.owner[slot]!)!;
        if (owner === to || !to.master) return;
        to.importing.set(slot, owner.vid);
        owner.migrating.set(slot, to.vid);
        this.mirror(to);
        this.mirror(owner);
        const m = this.keys.get(slot);
        const k = m?.get(owner.vid) ?? 0;
        if (m && k > 1) {
            m.set(owner.vid, k - Math.floor(k / 2));
            m.set(to.vid, (m.get(to.vid) ?? 0) + Math.floor(k / 2));
        }
    }
}

function specs(perZone: number): NodeSpec[] {
    return ZONES.flatMap((zone, z) =>
        Array.from({ length: perZone }, (_, i) => ({
            id: `valkey-${zone}-${i}`,
            host: `127.0.${z + 1}.1`,
            port: 7000 + i,
            zone,
        })),
    );
}

/** Nodes per zone that `shards` x `replicas` need at most. */
function needPerZone(shards: number, replicas: number): number {
    return Math.max(
        ...desiredTopology({
            shards,
            replicasPerShard: replicas,
            nodes: specs(20),
        }).layout.zones.map((z) => z.pods.length),
    );
}

const OPTIONS: PlanOptions = { nodeTimeoutMs: TIMEOUT };

/**
 * Plans and applies until done. `cut(round, steps)` returns how many of the round's steps run (a run killed
 * after that many). Fails on a wait (gossip is instant here) or after too many rounds.
 */
function converge(
    fake: Fake,
    desired: DesiredTopology,
    cut: (round: number, steps: number) => number = (_, n) => n,
): number {
    for (let round = 0; round < 300; round++) {
        const p = plan(fake.observe(), desired, OPTIONS);
        assert.deepEqual(p.problems, [], `round ${round}: blocked`);
        if (p.phase === "done") return round;
        assert.equal(p.wait, undefined, `round ${round}: waits for ${p.wait?.reason}`);
        const steps = p.stages.flat();
        assert.ok(steps.length > 0, `round ${round}: ${p.phase} without steps`);
        for (const s of steps.slice(0, cut(round, steps.length))) fake.apply(s);
    }
    assert.fail("no convergence within 300 rounds");
}

/** The end state the plan promises. */
function assertConverged(fake: Fake, desired: DesiredTopology, keys: number): void {
    const counts = targetCounts(desired.shards);
    for (const s of desired.plannedShards) {
        const p = fake.byId(s.primary);
        assert.ok(p.master, `${s.primary} is the primary of shard ${s.shard}`);
        assert.equal(
            fake.owner.filter((o) => o === p.vid).length,
            counts[s.shard],
            `shard ${s.shard} slot count`,
        );
        for (const r of s.replicas)
            assert.equal(fake.byId(r).masterVid, p.vid, `${r} replicates shard ${s.shard}`);
    }
    assert.ok(
        fake.owner.every((o) => o !== undefined),
        "every slot served",
    );
    const roleVids = new Set(desired.nodes.filter((n) => n.role).map((n) => fake.byId(n.id).vid));
    for (const n of desired.nodes.filter((x) => x.role)) {
        const f = fake.byId(n.id);
        assert.deepEqual(
            [...f.knows].filter((v) => !roleVids.has(v)),
            [],
            `${n.id} knows no one outside the plan`,
        );
        assert.equal(f.knows.size, roleVids.size - 1, `${n.id} knows every planned node`);
        assert.equal(f.importing.size + f.migrating.size, 0, `${n.id} has no open slot`);
        assert.equal(f.timeout, TIMEOUT, `${n.id} node timeout restored`);
    }
    assert.equal(fake.totalKeys(), keys, "no key lost or duplicated");
}

// Shard counts that keep the quorum rule over 3 zones.
const SHARDS = [3, 5, 6, 7, 8, 9];

describe("plan (in-memory cluster)", () => {
    it("forms a cluster from fresh nodes, then has nothing left to do", () => {
        fc.assert(
            fc.property(
                fc.constantFrom(...SHARDS),
                fc.integer({ min: 0, max: 2 }),
                fc.integer({ min: 0, max: 2 }),
                (shards, replicas, spare) => {
                    const fake = new Fake(specs(needPerZone(shards, replicas) + spare));
                    const desired = desiredTopology({
                        shards,
                        replicasPerShard: replicas,
                        nodes: fake.nodes.map((n) => n.spec),
                    });
                    converge(fake, desired);
                    assertConverged(fake, desired, 0);
                    const again = plan(fake.observe(), desired, OPTIONS);
                    assert.equal(again.phase, "done");
                    assert.deepEqual(again.stages, []);
                },
            ),
            { numRuns: 30 },
        );
    });

    it("goes from any converged shape to any other, keys and all, even when runs are cut short", () => {
        fc.assert(
            fc.property(
                fc.constantFrom(...SHARDS),
                fc.integer({ min: 0, max: 2 }),
                fc.constantFrom(...SHARDS),
                fc.integer({ min: 0, max: 2 }),
                fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
                fc.integer({ min: 1, max: 1 << 30 }),
                (s0, r0, s1, r1, cuts, seed) => {
                    const per = Math.max(needPerZone(s0, r0), needPerZone(s1, r1));
                    const fake = new Fake(specs(per));
                    const list = fake.nodes.map((n) => n.spec);
                    converge(
                        fake,
                        desiredTopology({ shards: s0, replicasPerShard: r0, nodes: list }),
                    );
                    let x = seed;
                    const rnd = (): number => (x = (x * 48271) % 2147483647) / 2147483647;
                    fake.seedKeys(2000, rnd);
                    const desired = desiredTopology({
                        shards: s1,
                        replicasPerShard: r1,
                        nodes: list,
                    });
                    // Round r keeps the first cuts[r] mod (steps + 1) steps, as if the run died there; later rounds run in full.
                    converge(fake, desired, (round, n) =>
                        round < cuts.length ? cuts[round] % (n + 1) : n,
                    );
                    assertConverged(fake, desired, 2000);
                },
            ),
            { numRuns: 40, examples: [[3, 0, 3, 1, [0], 1]] },
        );
    });

    // Valkey 8: the replicas hold copies of the slot states, the failover's new primary keeps its copy and the old
    // one (now a replica) keeps a stale one; SETSLOT to a replica is refused.
    for (const valkey8 of [false, true])
        it(`finishes moves left half done (importing/migrating, keys split) and restores the planned placement${valkey8 ? " (Valkey 8 slot states on replicas)" : ""}`, () => {
            fc.assert(
                fc.property(
                    fc.constantFrom(3, 5, 6),
                    fc.integer({ min: 1, max: 2 }),
                    fc.array(fc.nat(SLOT_COUNT - 1), { minLength: 1, maxLength: 20 }),
                    (shards, replicas, slots) => {
                        const fake = new Fake(specs(needPerZone(shards, replicas)), valkey8);
                        const desired = desiredTopology({
                            shards,
                            replicasPerShard: replicas,
                            nodes: fake.nodes.map((n) => n.spec),
                        });
                        converge(fake, desired);
                        fake.seedKeys(5000, Math.random);
                        const primaries = desired.plannedShards.map((s) => fake.byId(s.primary));
                        slots.forEach((slot, i) =>
                            fake.halfMove(slot, primaries[i % primaries.length]),
                        );
                        // A failover moved shard 0's primary role to its replica.
                        fake.apply({
                            kind: "failover",
                            node: desired.plannedShards[0].replicas[0],
                        });
                        if (valkey8) {
                            // A replica with a state its primary no longer has (it was a primary when the slot
                            // opened, or its primary's SETSLOT has not reached it yet).
                            const r = fake.byId(desired.plannedShards[1].replicas[0]);
                            r.importing.set(
                                slots[0],
                                fake.byId(desired.plannedShards[2].primary).vid,
                            );
                        }
                        converge(fake, desired);
                        assertConverged(fake, desired, 5000);
                    },
                ),
                { numRuns: 30 },
            );
        });
});

describe("plan: node-timeout pulses", () => {
    // A formed cluster whose nodes all still report fail (their rejoin delay has not passed): what the plan does
    // right after the handshakes of a fresh formation.
    const waiting = (
        shards: number,
    ): { obs: Observation; desired: DesiredTopology; primaries: Set<string> } => {
        const fake = new Fake(specs(needPerZone(shards, 1)));
        const desired = desiredTopology({
            shards,
            replicasPerShard: 1,
            nodes: fake.nodes.map((n) => n.spec),
        });
        converge(fake, desired);
        const obs = fake.observe();
        for (const n of obs.nodes) n.clusterState = "fail";
        return { obs, desired, primaries: new Set(desired.plannedShards.map((s) => s.primary)) };
    };
    const pulsesOf = (steps: Step[]) =>
        steps.filter(
            (s): s is Extract<Step, { kind: "pulseNodeTimeout" }> => s.kind === "pulseNodeTimeout",
        );

    it("pulses every primary, counted against a budget of half the primaries; replicas wait for them", () => {
        for (const shards of SHARDS) {
            const { obs, desired, primaries } = waiting(shards);
            const p = plan(obs, desired, OPTIONS);
            assert.equal(p.phase, "converge");
            const pulses = pulsesOf(p.stages.flat());
            assert.deepEqual(new Set(pulses.map((s) => s.node)), primaries, `${shards} shards`);
            for (const s of pulses) {
                assert.equal(s.counted, true);
                assert.equal(s.budget, Math.floor(shards / 2));
                assert.ok(
                    s.ms < TIMEOUT && s.holdMs < s.ms,
                    "the hold stays under the short timeout",
                );
                assert.equal(s.restoreMs, TIMEOUT);
            }
            // Once the primaries are ok, the replicas pulse, uncounted.
            for (const n of obs.nodes) if (primaries.has(n.id)) n.clusterState = "ok";
            const next = pulsesOf(plan(obs, desired, OPTIONS).stages.flat());
            assert.equal(next.length, shards);
            assert.ok(next.every((s) => !s.counted && !primaries.has(s.node)));
        }
    });

    it("restores a primary left with a short timeout before any primary pulses again", () => {
        const { obs, desired } = waiting(5);
        const left = desired.plannedShards[2].primary;
        obs.nodes.find((n) => n.id === left)!.nodeTimeoutMs = 500;
        // Not calm: it has a ping outstanding for long, so it gets no pulse of its own.
        obs.nodes.find((n) => n.id === left)!.observedAt = 10_000;
        for (const e of obs.nodes.find((n) => n.id === left)!.view!) if (!e.myself) e.pingSent = 1;
        const steps = plan(obs, desired, OPTIONS).stages.flat();
        assert.deepEqual(steps, [{ kind: "setNodeTimeout", node: left, ms: TIMEOUT }]);
    });
});

describe("plan: refusals and drift", () => {
    const converged = (
        shards = 3,
        replicas = 1,
        per = 2,
    ): { fake: Fake; desired: DesiredTopology } => {
        const fake = new Fake(specs(per));
        const desired = desiredTopology({
            shards,
            replicasPerShard: replicas,
            nodes: fake.nodes.map((n) => n.spec),
        });
        converge(fake, desired);
        return { fake, desired };
    };

    it("refuses while a planned node is unreachable, naming it (retryable)", () => {
        const { fake, desired } = converged();
        fake.byId("valkey-zone-b-1").up = false;
        const p = plan(fake.observe(), desired, OPTIONS);
        assert.equal(p.phase, "blocked");
        assert.equal(p.retryable, true);
        assert.deepEqual(p.problems, [
            "valkey-zone-b-1 (127.0.2.1:7001, primary of shard 1) is unreachable: connect ECONNREFUSED. Start it, or change nodes/shards/replicasPerShard.",
        ]);
    });

    it("refuses slots served by a node outside the input", () => {
        const fake = new Fake(specs(3));
        const formed = fake.nodes.filter((n) => n.spec.port < 7002).map((n) => n.spec);
        converge(fake, desiredTopology({ shards: 3, replicasPerShard: 1, nodes: formed }));
        // valkey-zone-a-0 (shard 0's primary) is dropped from the input in favour of a spare.
        const swapped = formed.map((n) =>
            n.id === "valkey-zone-a-0" ? fake.byId("valkey-zone-a-2").spec : n,
        );
        const p = plan(
            fake.observe(),
            desiredTopology({ shards: 3, replicasPerShard: 1, nodes: swapped }),
            OPTIONS,
        );
        assert.equal(p.phase, "blocked");
        assert.deepEqual(p.problems, [
            "slots 0-5460 are served by node 00000000 at 127.0.1.1:7000, which is not in nodes. Add it to nodes so its slots can be moved, or wait for its replica to take over.",
        ]);
    });

    it("refuses a drain the remaining primaries lack memory for, listing each one", () => {
        const { fake, desired } = converged(5, 1, 4);
        fake.seedKeys(50_000, Math.random);
        const obs = fake.observe();
        for (const o of obs.nodes) o.maxmemory = 2_000_000;
        const p = plan(
            obs,
            desiredTopology({ shards: 3, replicasPerShard: 1, nodes: desired.nodes }),
            OPTIONS,
        );
        assert.equal(p.phase, "blocked");
        assert.equal(p.problems.length, 1);
        assert.match(
            p.problems[0],
            /^refusing to reshard: draining valkey-zone-a-2, valkey-zone-b-3 needs more memory than the receiving primaries have \(limit 90% of maxmemory\): valkey-zone-a-0 would hold about [\d.]+ MiB \([\d.]+ MiB used \+ [\d.]+ MiB moving in\) against maxmemory 1\.9 MiB; /,
        );
        assert.match(p.problems[0], /Raise maxmemory, free memory, or keep more shards\.$/);
    });

    it("reports drift: broken quorum and placement after a failover, a node that left, uncovered slots", () => {
        const { fake, desired } = converged();
        assert.deepEqual(plan(fake.observe(), desired, { ...OPTIONS, drift: true }).drift, []);
        fake.apply({ kind: "failover", node: desired.plannedShards[0].replicas[0] });
        const drift = plan(fake.observe(), desired, { ...OPTIONS, drift: true }).drift;
        assert.deepEqual(drift, [
            "shard 0 is served by valkey-zone-b-0, planned valkey-zone-a-0",
            "quorum broken: zone zone-b holds 2 of 3 primaries",
        ]);

        const { fake: f2, desired: d2 } = converged(3, 1, 3);
        f2.apply({ kind: "meet", node: "valkey-zone-a-0", peer: "valkey-zone-c-2" });
        assert.deepEqual(plan(f2.observe(), d2, { ...OPTIONS, drift: true }).drift, [
            "valkey-zone-c-2 is a member but has no role in the plan",
        ]);

        const fresh = new Fake(specs(2));
        const d3 = desiredTopology({
            shards: 3,
            replicasPerShard: 1,
            nodes: fresh.nodes.map((n) => n.spec),
        });
        const d = plan(fresh.observe(), d3, { ...OPTIONS, drift: true }).drift;
        assert.equal(d[0], "slots 0-16383 are not served by any node");
        assert.ok(d.includes("valkey-zone-a-0 has not joined the cluster"));
    });

    it("reports two copies of a shard in one zone", () => {
        const { fake, desired } = converged(3, 1, 2);
        // Shard 0's replica (zone b) re-pointed by hand to follow shard 1's primary (also zone b).
        fake.byId("valkey-zone-b-0").masterVid = fake.byId("valkey-zone-b-1").vid;
        const drift = plan(fake.observe(), desired, { ...OPTIONS, drift: true }).drift;
        assert.ok(drift.includes("shard 1 has two copies in zone zone-b"), drift.join("\n"));
        assert.ok(drift.includes("shard 0 has 0 replicas, planned 1"), drift.join("\n"));
    });
});
