/**
 * The slot-bootstrap dynamic provider: forms, reshards and heals the Valkey cluster of a set of nodes, and the
 * `ValkeySlots` resource the program declares.
 *
 * The provider object is serialized into the Pulumi state and runs in the dynamic-provider host, so its methods
 * `require` libraries at call time and read the password from their inputs, never from a closure. Its methods
 * are plain async functions: tests and benchmarks call them directly.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ReconcileResult } from "./execute";
import type { NodeSpec } from "./topology";
import type { KubernetesTarget } from "./transport";
import { computeLayout } from "../layout";
import { BootstrapError, inspect, reconcile } from "./execute";
import { desiredTopology, topologyProblems, TopologyError } from "./topology";
import { directTransport, kubernetesTransport, resolveKubernetesNodes } from "./transport";

/** The inputs as the provider receives them (secrets unwrapped by the engine). */
export interface ValkeySlotsInputs {
    shards: number;
    replicasPerShard: number;
    /** requirepass of the nodes; optional for local test clusters. */
    password?: string;
    /** The direct form: every node, per zone in ordinal order. */
    nodes?: NodeSpec[];
    /** The Kubernetes form: resolved to `nodes` through the Kubernetes API. */
    kubernetes?: KubernetesTarget;
    /** Zones in layout order; default the zones of the nodes in order of first appearance. */
    zones?: string[];
    /** The servers' cluster-node-timeout; lowered while forming a new cluster, then restored to this. */
    nodeTimeoutMs?: number;
    /** maxmemory to assume where a node reports none (headroom check before draining shards). */
    maxmemoryBytes?: number;
    /**
     * `converge` (default): bring the cluster to the topology. `drain`: the instance that runs before the
     * StatefulSets change; it acts only when the running pods exceed the new topology (a scale-in), so the
     * pods to be removed are drained and forgotten before their StatefulSet deletes them.
     */
    phase?: "converge" | "drain";
}

/** One copy of a shard in the outputs. */
export interface NodeOutput {
    /** The node's stable id (pod name). */
    id: string;
    zone: string;
    /** Its Valkey node id. */
    nodeId: string;
}

/** One shard in the outputs. */
export interface ShardOutput {
    shard: number;
    primary: NodeOutput;
    replicas: NodeOutput[];
    /** Inclusive slot ranges the primary serves. */
    slots: [number, number][];
}

/** The outputs: the inputs plus what the cluster looks like. */
export interface ValkeySlotsOutputs extends ValkeySlotsInputs {
    /** Per shard: primary, replicas, slot ranges. */
    topology: ShardOutput[];
    /** "ok" when every planned node reports cluster_state:ok, else what is wrong. */
    clusterState: string;
    /** Differences from the plan (uncovered slots, nodes that left, same-zone pairs, broken quorum). */
    drift: string[];
    /** The nodes the run used (the Kubernetes form resolved), without secrets. */
    resolvedNodes: NodeSpec[];
}

/** The sentinel the engine passes for values unknown during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Whether any input is unknown (preview). The engine adds `__provider`, the serialized provider, whose source
 * contains the sentinel itself: leave it out.
 */
function hasUnknown(inputs: object): boolean {
    const { __provider: _provider, ...rest } = inputs as Record<string, unknown>;
    return JSON.stringify(rest).includes(UNKNOWN);
}

/** Problems with the inputs, for `check` (plain data in, messages out). */
export function inputProblems(inputs: ValkeySlotsInputs): { property: string; reason: string }[] {
    const out: { property: string; reason: string }[] = [];
    const hasNodes = inputs.nodes !== undefined && inputs.nodes !== null;
    const hasK8s = inputs.kubernetes !== undefined && inputs.kubernetes !== null;
    if (hasNodes === hasK8s) {
        out.push({
            property: hasNodes ? "kubernetes" : "nodes",
            reason: "give exactly one of nodes (the direct form) or kubernetes (a StatefulSet per zone).",
        });
    }
    const unknown = hasUnknown(inputs);
    if (hasNodes && !unknown && Array.isArray(inputs.nodes)) {
        for (const p of topologyProblems({
            shards: inputs.shards,
            replicasPerShard: inputs.replicasPerShard,
            nodes: inputs.nodes,
            zones: inputs.zones,
        })) {
            const property = p.slice(0, p.indexOf(":")).replace(/\[.*$/, "") || "nodes";
            out.push({ property, reason: p });
        }
    }
    if (hasK8s && !unknown) {
        const k = inputs.kubernetes!;
        if (!k.namespace)
            out.push({ property: "kubernetes", reason: "kubernetes.namespace is required." });
        if (!k.kubeconfig)
            out.push({
                property: "kubernetes",
                reason: "kubernetes.kubeconfig is required (file content or path).",
            });
        if (!Array.isArray(k.statefulSets) || k.statefulSets.length === 0) {
            out.push({
                property: "kubernetes",
                reason: "kubernetes.statefulSets must list the StatefulSet of each zone: [{ zone, name }].",
            });
        }
    }
    if (
        inputs.nodeTimeoutMs !== undefined &&
        (!Number.isInteger(inputs.nodeTimeoutMs) || inputs.nodeTimeoutMs < 100)
    ) {
        out.push({
            property: "nodeTimeoutMs",
            reason: `nodeTimeoutMs: got ${JSON.stringify(inputs.nodeTimeoutMs)}; use the servers' cluster-node-timeout in ms (e.g. 5000).`,
        });
    }
    return out;
}

/** Runs `fn` with the topology and a transport for the inputs, closing the transport afterwards. */
async function withCluster<T>(
    inputs: ValkeySlotsInputs,
    fn: (ctx: {
        desired: ReturnType<typeof desiredTopology>;
        transport: ReturnType<typeof directTransport>;
        nodes: NodeSpec[];
    }) => Promise<T>,
): Promise<T> {
    const nodes = inputs.kubernetes
        ? await resolveKubernetesNodes(inputs.kubernetes)
        : (inputs.nodes ?? []);
    const desired = desiredTopology({
        shards: inputs.shards,
        replicasPerShard: inputs.replicasPerShard,
        nodes,
        zones: inputs.zones,
    });
    const transport = inputs.kubernetes
        ? kubernetesTransport(inputs.kubernetes, { password: inputs.password })
        : directTransport({ password: inputs.password });
    try {
        return await fn({ desired, transport, nodes });
    } finally {
        await transport.close();
    }
}

function outputsOf(
    all: ValkeySlotsInputs,
    nodes: NodeSpec[],
    result: Pick<ReconcileResult, "observation" | "shards" | "drift">,
): ValkeySlotsOutputs {
    const {
        drift: _checked,
        topology: _t,
        clusterState: _c,
        resolvedNodes: _r,
        ...inputs
    } = all as ValkeySlotsOutputs;
    const obs = new Map(result.observation.nodes.map((n) => [n.id, n]));
    const zone = new Map(nodes.map((n) => [n.id, n.zone]));
    const out = (id: string): NodeOutput => ({
        id,
        zone: zone.get(id) ?? "",
        nodeId: obs.get(id)?.myId ?? "",
    });
    const topology = result.shards.map((s) => ({
        shard: s.shard,
        primary: out(s.primary),
        replicas: s.replicas.map(out),
        slots: s.slots,
    }));
    const roleIds = new Set(result.shards.flatMap((s) => [s.primary, ...s.replicas]));
    const notOk = [...roleIds].filter((id) => obs.get(id)?.clusterState !== "ok");
    return {
        ...inputs,
        topology,
        clusterState: notOk.length === 0 ? "ok" : `not ok on ${notOk.join(", ")}`,
        drift: result.drift,
        resolvedNodes: nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, zone: n.zone })),
    };
}

/** Errors leave the provider without the password and with every problem listed. */
function clean(e: unknown, password?: string): Error {
    const msg = e instanceof Error ? e.message : String(e);
    const scrubbed = password ? msg.split(password).join("***") : msg;
    if (e instanceof BootstrapError || e instanceof TopologyError) return new Error(scrubbed);
    return new Error(`slot bootstrap failed: ${scrubbed}`);
}

/** Brings the cluster to the inputs' topology and returns the outputs. */
export async function apply(
    inputs: ValkeySlotsInputs,
    log?: (msg: string) => void,
): Promise<ValkeySlotsOutputs> {
    try {
        return await withCluster(inputs, async ({ desired, transport, nodes }) => {
            const result = await reconcile(desired, {
                transport,
                password: inputs.password,
                nodeTimeoutMs: inputs.nodeTimeoutMs,
                maxmemoryBytes: inputs.maxmemoryBytes,
                log,
            });
            return outputsOf(inputs, nodes, result);
        });
    } catch (e) {
        throw clean(e, inputs.password);
    }
}

/**
 * The drain phase: reconciles only when more pods run than the new topology needs in every zone (a scale-in
 * whose StatefulSets have not shrunk yet), which drains and forgets the pods the topology drops. Before the
 * first rollout, or when the cluster grows, there is nothing to drain: the converge phase does the work.
 */
export async function drainFirst(
    inputs: ValkeySlotsInputs,
    log?: (msg: string) => void,
): Promise<ValkeySlotsOutputs> {
    const skipped = (why: string, nodes: NodeSpec[] = []): ValkeySlotsOutputs => ({
        ...inputs,
        topology: [],
        clusterState: `drain skipped: ${why}`,
        drift: [],
        resolvedNodes: nodes,
    });
    if (!inputs.kubernetes) return apply(inputs, log);
    let nodes: NodeSpec[];
    try {
        nodes = await resolveKubernetesNodes(inputs.kubernetes);
    } catch (e) {
        return skipped(`the pods are not there yet (${clean(e, inputs.password).message})`);
    }
    const zones = inputs.zones ?? inputs.kubernetes.statefulSets.map((s) => s.zone);
    const layout = computeLayout({
        shards: inputs.shards,
        replicasPerShard: inputs.replicasPerShard,
        zones,
    });
    const running = (zone: string) => nodes.filter((n) => n.zone === zone).length;
    const needed = layout.zones.map((z) => ({ zone: z.zone, pods: z.pods.length }));
    if (needed.some((z) => running(z.zone) < z.pods)) return skipped("the cluster grows", nodes);
    if (nodes.length === needed.reduce((n, z) => n + z.pods, 0))
        return skipped("no pod leaves", nodes);
    log?.(
        `drain: ${nodes.length} pods run, the new topology keeps ${layout.shards.length * (inputs.replicasPerShard + 1)}`,
    );
    return apply(inputs, log);
}

/** Observes the cluster without changing it and returns outputs with the drift it found. */
export async function observeOutputs(inputs: ValkeySlotsInputs): Promise<ValkeySlotsOutputs> {
    return withCluster(inputs, async ({ desired, transport, nodes }) => {
        const r = await inspect(desired, {
            transport,
            password: inputs.password,
            nodeTimeoutMs: inputs.nodeTimeoutMs,
            maxmemoryBytes: inputs.maxmemoryBytes,
        });
        const drift = [
            ...r.plan.drift,
            ...r.plan.problems.filter((p) => !r.plan.drift.includes(p)),
        ];
        return outputsOf(inputs, nodes, { observation: r.observation, shards: r.shards, drift });
    });
}

const INPUT_KEYS = [
    "shards",
    "replicasPerShard",
    "nodes",
    "kubernetes",
    "zones",
    "nodeTimeoutMs",
    "maxmemoryBytes",
    "password",
    "phase",
] as const;

/** Which inputs differ between the stored outputs and the new inputs. */
export function changedInputs(
    olds: Partial<ValkeySlotsInputs>,
    news: Partial<ValkeySlotsInputs>,
): string[] {
    const norm = (v: unknown): string => JSON.stringify(v ?? null);
    return INPUT_KEYS.filter((k) => norm(olds[k]) !== norm(news[k]));
}

function progressLog(): (msg: string) => void {
    return (msg) => {
        const p = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        void p.log.info(msg);
    };
}

/**
 * The dynamic provider.
 *
 * Drift reaches `pulumi preview` in two ways: `check` observes the live cluster (best effort) and adds what it
 * found as the `drift` input, so the preview shows it as a changed property, and `diff` reports a change
 * whenever there is drift, so `pulumi up` repairs it. `read` (refresh) stores the drift it finds in the outputs.
 */
export const valkeySlotsProvider: pulumi.dynamic.ResourceProvider = {
    async check(
        olds: ValkeySlotsInputs,
        news: ValkeySlotsInputs,
    ): Promise<pulumi.dynamic.CheckResult> {
        const failures = inputProblems(news);
        if (failures.length > 0 || hasUnknown(news)) return { inputs: news, failures };
        const { drift: _previous, ...inputs } = news as ValkeySlotsInputs & { drift?: string[] };
        try {
            return { inputs: { ...inputs, drift: (await observeOutputs(inputs)).drift }, failures };
        } catch {
            return { inputs, failures };
        }
    },

    async diff(
        id: string,
        olds: ValkeySlotsOutputs,
        news: ValkeySlotsInputs & { drift?: string[] },
    ): Promise<pulumi.dynamic.DiffResult> {
        const changed = changedInputs(olds, news);
        const drift = news.drift ?? olds.drift ?? [];
        return {
            changes: changed.length > 0 || drift.length > 0,
            replaces: [],
            deleteBeforeReplace: false,
        };
    },

    async create(inputs: ValkeySlotsInputs): Promise<pulumi.dynamic.CreateResult> {
        const crypto = require("node:crypto") as typeof import("node:crypto");
        const outs =
            inputs.phase === "drain"
                ? await drainFirst(inputs, progressLog())
                : await apply(inputs, progressLog());
        return { id: `valkey-slots-${crypto.randomUUID()}`, outs };
    },

    async update(
        id: string,
        olds: ValkeySlotsOutputs,
        news: ValkeySlotsInputs,
    ): Promise<pulumi.dynamic.UpdateResult> {
        return {
            outs:
                news.phase === "drain"
                    ? await drainFirst(news, progressLog())
                    : await apply(news, progressLog()),
        };
    },

    async read(id: string, props: ValkeySlotsOutputs): Promise<pulumi.dynamic.ReadResult> {
        try {
            return { id, props: await observeOutputs(props) };
        } catch (e) {
            return {
                id,
                props: {
                    ...props,
                    clusterState: "unreachable",
                    drift: [clean(e, props.password).message],
                },
            };
        }
    },

    async delete(): Promise<void> {
        // The slots live in the nodes' data, which the Kubernetes resources (or local processes) own: leave it.
    },
};

/** A node of the direct form, as Inputs. */
export interface NodeSpecInput {
    id: pulumi.Input<string>;
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    zone: pulumi.Input<string>;
}

/** Arguments of `ValkeySlots`. */
export interface ValkeySlotsArgs {
    /** Primaries; each serves an equal share of the 16384 slots. */
    shards: number;
    /** Replicas per primary, each in a zone other than its primary's. */
    replicasPerShard: number;
    /** requirepass of the nodes (kept secret). Default none, for local test clusters. */
    password?: pulumi.Input<string>;
    /** The direct form: the nodes per zone in ordinal order. Give this or `kubernetes`. */
    nodes?: pulumi.Input<pulumi.Input<NodeSpecInput>[]>;
    /** The Kubernetes form: a StatefulSet per zone, reached through port-forwards. Give this or `nodes`. */
    kubernetes?: {
        /** kubeconfig content or path (kept secret). */
        kubeconfig: pulumi.Input<string>;
        namespace: pulumi.Input<string>;
        statefulSets: { zone: string; name: string }[];
        /** Valkey port of the pods. Default 6379. */
        port?: number;
    };
    /** Zones in layout order. Default the zones of the nodes in order of first appearance. */
    zones?: string[];
    /** The servers' cluster-node-timeout in ms; the bootstrap restores it after forming a new cluster fast. Default: left alone. */
    nodeTimeoutMs?: number;
    /** maxmemory in bytes to assume for the headroom check where a node reports none. Default: no check there. */
    maxmemoryBytes?: number;
    /** `drain` for the instance that runs before the StatefulSets change (see `drainFirst`). Default `converge`. */
    phase?: "converge" | "drain";
}

/**
 * The slot bootstrap of a Valkey cluster: meets its nodes, assigns and moves slots, attaches replicas across
 * zones and keeps the planned placement. Deleting it leaves the cluster and its data alone.
 */
export class ValkeySlots extends pulumi.dynamic.Resource {
    declare readonly shards: pulumi.Output<number>;
    declare readonly replicasPerShard: pulumi.Output<number>;
    /** The password (secret). */
    declare readonly password: pulumi.Output<string | undefined>;
    /** Per shard: primary, replicas (ids, zones, Valkey ids) and slot ranges. */
    declare readonly topology: pulumi.Output<ShardOutput[]>;
    /** "ok" when every planned node reports cluster_state:ok. */
    declare readonly clusterState: pulumi.Output<string>;
    /** Differences from the plan found by the last run or refresh. */
    declare readonly drift: pulumi.Output<string[]>;
    /** The nodes the bootstrap used (the Kubernetes form resolved). */
    declare readonly resolvedNodes: pulumi.Output<NodeSpec[]>;

    constructor(name: string, args: ValkeySlotsArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            shards: args.shards,
            replicasPerShard: args.replicasPerShard,
            password: args.password === undefined ? undefined : pulumi.secret(args.password),
            nodes: args.nodes,
            kubernetes:
                args.kubernetes === undefined
                    ? undefined
                    : pulumi.secret(pulumi.output(args.kubernetes)),
            zones: args.zones,
            nodeTimeoutMs: args.nodeTimeoutMs,
            maxmemoryBytes: args.maxmemoryBytes,
            phase: args.phase,
            topology: undefined,
            clusterState: undefined,
            drift: undefined,
            resolvedNodes: undefined,
        };
        super(valkeySlotsProvider, name, props, {
            ...opts,
            additionalSecretOutputs: [
                ...(opts?.additionalSecretOutputs ?? []),
                "password",
                "kubernetes",
            ],
        });
    }
}
