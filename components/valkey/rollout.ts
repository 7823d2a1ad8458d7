/**
 * Waiting for a zone's StatefulSet to roll out, and saying why it does not: the `ZoneRollout` dynamic resource.
 *
 * The Kubernetes provider's own wait for a StatefulSet gives up after 10 minutes with "timed out waiting to be
 * Ready", whatever held the pods back. This one reads the pods while it waits and fails within a minute or two with
 * the scheduler's own reason (`0/3 nodes are available: ...`) or the container's (`ErrImageNeverPull`,
 * `CrashLoopBackOff`), plus what to change. A pod left unschedulable under an older pod template (the StatefulSet
 * controller never replaces a pod that is not running, so a template change that would let it schedule never
 * reaches it) is deleted, so the controller recreates it from the new template: it holds no data.
 *
 * The StatefulSets carry `pulumi.com/skipAwait`; each zone's ZoneRollout depends on its StatefulSet and the next
 * zone's StatefulSet depends on the ZoneRollout, so zones still roll one after another. A new StatefulSet is done
 * when its pods run; a changed one when every pod is updated and Ready.
 */
import * as pulumi from "@pulumi/pulumi";

/** What a pod looks like to the rollout (a subset of V1Pod). */
export interface PodView {
    name: string;
    phase?: string;
    /** `controller-revision-hash` label: the StatefulSet revision the pod was made from. */
    revision?: string;
    conditions: {
        type: string;
        status: string;
        reason?: string;
        message?: string;
        since?: number;
    }[];
    /** Waiting containers (init and regular): reason, message, since when the pod has been waiting (ms epoch). */
    waiting: { container: string; reason: string; message?: string }[];
    createdAt?: number;
}

/** How long a condition may last before the rollout fails on it. */
export interface PatienceOptions {
    /** A pod the scheduler cannot place, s. Default 60. */
    unschedulableSeconds: number;
    /** A container that cannot start (image, config, crash loop), s. Default 90. */
    stuckContainerSeconds: number;
}

/** What to do about the pods now: give up with a reason, delete stale unschedulable pods, or keep waiting. */
export interface PodVerdict {
    /** Problems that end the rollout (already explained, with the fix). */
    problems: string[];
    /** Pods to delete: unschedulable under an older revision, so the controller recreates them. */
    recreate: string[];
}

const CONTAINER_STUCK =
    /^(ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName|CreateContainerConfigError|CreateContainerError|CrashLoopBackOff)$/;

/**
 * Judges the pods of a StatefulSet (pure). `updateRevision` is the StatefulSet's target revision; `now` the
 * observer's clock (ms).
 */
export function judgePods(
    statefulSet: string,
    pods: PodView[],
    updateRevision: string | undefined,
    now: number,
    patience: PatienceOptions,
): PodVerdict {
    const problems: string[] = [];
    const recreate: string[] = [];
    for (const pod of pods) {
        const scheduled = pod.conditions.find((c) => c.type === "PodScheduled");
        if (
            pod.phase === "Pending" &&
            scheduled?.status === "False" &&
            scheduled.reason === "Unschedulable"
        ) {
            if (updateRevision && pod.revision && pod.revision !== updateRevision) {
                recreate.push(pod.name);
                continue;
            }
            const since = scheduled.since ?? pod.createdAt ?? now;
            if (now - since >= patience.unschedulableSeconds * 1000) {
                problems.push(
                    `pod ${pod.name} of StatefulSet ${statefulSet} cannot be scheduled for ${Math.round((now - since) / 1000)} s: ${(scheduled.message ?? "no reason given").replace(/\.$/, "")}. ` +
                        unschedulableHint(scheduled.message ?? ""),
                );
            }
            continue;
        }
        for (const w of pod.waiting) {
            if (!CONTAINER_STUCK.test(w.reason)) continue;
            const since = pod.createdAt ?? now;
            if (now - since >= patience.stuckContainerSeconds * 1000) {
                problems.push(
                    `pod ${pod.name} of StatefulSet ${statefulSet}: container ${w.container} is waiting with ${w.reason}${w.message ? ` (${w.message})` : ""}. ${containerHint(w.reason)}`,
                );
            }
        }
    }
    return { problems, recreate };
}

function unschedulableHint(message: string): string {
    const hints: string[] = [];
    if (/anti-affinity/i.test(message))
        hints.push(
            'valkey:podAntiAffinity is "required" (one Valkey pod per node): add nodes to the zone, use fewer pods per zone (valkey:shards, valkey:replicasPerShard), or set valkey:podAntiAffinity to "preferred".',
        );
    if (/Insufficient memory|Insufficient cpu/i.test(message))
        hints.push("Lower valkey:memory or valkey:cpu, or use larger nodes.");
    if (/node affinity|node selector|didn't match/i.test(message))
        hints.push(
            "Every zone in valkey:zones needs schedulable nodes labelled topology.kubernetes.io/zone with that zone (and the platform's node selector).",
        );
    if (
        /unbound immediate PersistentVolumeClaims|volume node affinity|persistentvolumeclaim/i.test(
            message,
        )
    )
        hints.push(
            "Check the storage class (valkey:kubernetes.storageClassName): it must provision volumes in every zone, with WaitForFirstConsumer.",
        );
    return hints.length > 0
        ? hints.join(" ")
        : "See `kubectl describe pod` for the scheduler's events.";
}

function containerHint(reason: string): string {
    if (/Image/.test(reason))
        return "Check valkey:image: the nodes must be able to pull it (or have it, for a local image).";
    if (reason === "CrashLoopBackOff") return "See `kubectl logs --previous` for why Valkey exits.";
    return "See `kubectl describe pod`.";
}

/** Inputs of a ZoneRollout as the provider receives them. */
export interface ZoneRolloutInputs {
    /** kubeconfig content or path. */
    kubeconfig: string;
    namespace: string;
    statefulSet: string;
    /** Changes whenever the StatefulSet's spec does (its uid and generation): a new rollout to wait for. */
    revision: string;
    /** See `PatienceOptions`. */
    unschedulableSeconds?: number;
    stuckContainerSeconds?: number;
    /** The whole wait, s. Default 1800 (a large dataset loads slowly). */
    timeoutSeconds?: number;
}

/** Outputs: the inputs and what the rollout ended with. */
export interface ZoneRolloutOutputs extends ZoneRolloutInputs {
    readyReplicas: number;
    updateRevision: string;
}

function podView(p: any): PodView {
    const statuses = [
        ...(p.status?.initContainerStatuses ?? []),
        ...(p.status?.containerStatuses ?? []),
    ];
    return {
        name: p.metadata?.name ?? "",
        phase: p.status?.phase,
        revision: p.metadata?.labels?.["controller-revision-hash"],
        createdAt: p.metadata?.creationTimestamp
            ? new Date(p.metadata.creationTimestamp).getTime()
            : undefined,
        conditions: (p.status?.conditions ?? []).map((c: any) => ({
            type: c.type,
            status: c.status,
            reason: c.reason,
            message: c.message,
            since: c.lastTransitionTime ? new Date(c.lastTransitionTime).getTime() : undefined,
        })),
        waiting: statuses
            .filter((s: any) => s.state?.waiting)
            .map((s: any) => ({
                container: s.name,
                reason: s.state.waiting.reason ?? "",
                message: s.state.waiting.message,
            })),
    };
}

/**
 * Waits until the StatefulSet has rolled out (every replica updated and ready), failing early with the reason a
 * pod cannot get there. Uses the Kubernetes API through @kubernetes/client-node.
 */
export async function waitForRollout(
    inputs: ZoneRolloutInputs,
    until: "ready" | "started",
    log: (message: string) => void = () => undefined,
): Promise<{ readyReplicas: number; updateRevision: string }> {
    const k8s = require("@kubernetes/client-node");
    const fs = require("node:fs") as typeof import("node:fs");
    const kc = new k8s.KubeConfig();
    if (!inputs.kubeconfig.includes("\n") && fs.existsSync(inputs.kubeconfig))
        kc.loadFromFile(inputs.kubeconfig);
    else kc.loadFromString(inputs.kubeconfig);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const patience: PatienceOptions = {
        unschedulableSeconds: inputs.unschedulableSeconds ?? 60,
        stuckContainerSeconds: inputs.stuckContainerSeconds ?? 90,
    };
    const deadline = Date.now() + (inputs.timeoutSeconds ?? 1800) * 1000;
    const { namespace, statefulSet: name } = inputs;
    let last = "";
    for (;;) {
        const sts = await apps.readNamespacedStatefulSet({ name, namespace });
        const want = sts.spec?.replicas ?? 1;
        const st = sts.status ?? {};
        const updateRevision = st.updateRevision ?? "";
        const observed = (st.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
        const updated = st.updatedReplicas ?? 0;
        const ready = st.readyReplicas ?? 0;
        if (observed && (st.replicas ?? 0) === want && updated === want && ready === want) {
            return { readyReplicas: ready, updateRevision };
        }
        const selector = Object.entries(sts.spec?.selector?.matchLabels ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
        const items = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
        if (
            until === "started" &&
            observed &&
            items.length === want &&
            items.every(
                (p: any) =>
                    p.status?.phase === "Running" &&
                    (p.status?.containerStatuses ?? []).every((c: any) => c.started === true),
            )
        ) {
            return { readyReplicas: ready, updateRevision };
        }
        const pods = items.map(podView);
        const verdict = judgePods(name, pods, updateRevision, Date.now(), patience);
        for (const pod of verdict.recreate) {
            log(
                `${name}: deleting ${pod}, unschedulable under an older pod template, so it is recreated from the new one`,
            );
            await core.deleteNamespacedPod({ name: pod, namespace }).catch(() => undefined);
        }
        if (verdict.problems.length > 0) {
            throw new Error(
                `StatefulSet ${namespace}/${name} cannot roll out:\n  - ${verdict.problems.join("\n  - ")}`,
            );
        }
        const status = `${name}: ${ready}/${want} ready, ${updated}/${want} updated`;
        if (status !== last) log(status);
        last = status;
        if (Date.now() > deadline) {
            throw new Error(
                `StatefulSet ${namespace}/${name} did not roll out within ${inputs.timeoutSeconds ?? 1800} s (${status}).`,
            );
        }
        await new Promise((r) => setTimeout(r, 2000));
    }
}

/** The ZoneRollout provider: create and update wait for the rollout; delete leaves everything alone. */
export const zoneRolloutProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        const failures: { property: string; reason: string }[] = [];
        for (const key of ["kubeconfig", "namespace", "statefulSet"]) {
            if (typeof news[key] !== "string" || news[key] === "")
                failures.push({ property: key, reason: `${key} is required.` });
        }
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        const keys = [
            "namespace",
            "statefulSet",
            "revision",
            "unschedulableSeconds",
            "stuckContainerSeconds",
            "timeoutSeconds",
        ];
        const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return {
            changes: changed.length > 0,
            replaces: changed.filter((k) => k === "namespace" || k === "statefulSet"),
            deleteBeforeReplace: false,
        };
    },
    async create(inputs) {
        // A new StatefulSet: its pods only have to run. Ready means "serving in a formed cluster", which the slot
        // bootstrap (after every zone) brings about; and pods that come back over kept volumes reach it only once
        // the other zones' pods run too.
        const outs = await waitForRollout(inputs as ZoneRolloutInputs, "started");
        return { id: `${inputs.namespace}/${inputs.statefulSet}`, outs: { ...inputs, ...outs } };
    },
    async update(_id, _olds, news) {
        // A change to a running zone: every pod Ready again before the next zone rolls.
        const outs = await waitForRollout(news as ZoneRolloutInputs, "ready");
        return { outs: { ...news, ...outs } };
    },
    async read(id, props) {
        return { id, props };
    },
    async delete() {
        // Nothing to undo: the StatefulSet is its own resource.
    },
};

/** The arguments of a ZoneRollout. */
export interface ZoneRolloutArgs {
    /** kubeconfig content or path (kept secret). */
    kubeconfig: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    statefulSet: pulumi.Input<string>;
    /** Changes whenever the StatefulSet's spec does; use its uid and `metadata.generation`. */
    revision: pulumi.Input<string>;
    /** See `PatienceOptions`; defaults there. */
    unschedulableSeconds?: number;
    stuckContainerSeconds?: number;
    /** The whole wait, s. Default 1800. */
    timeoutSeconds?: number;
}

/** Waits for a zone's StatefulSet to roll out and fails early with the reason when it cannot (module comment). */
export class ZoneRollout extends pulumi.dynamic.Resource {
    declare readonly readyReplicas: pulumi.Output<number>;
    declare readonly updateRevision: pulumi.Output<string>;

    constructor(name: string, args: ZoneRolloutArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            zoneRolloutProvider,
            name,
            {
                ...args,
                kubeconfig: pulumi.secret(args.kubeconfig),
                readyReplicas: undefined,
                updateRevision: undefined,
            },
            {
                ...opts,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "kubeconfig"],
            },
        );
    }
}

/** Inputs of a ZoneTeardown as the provider receives them. */
export interface ZoneTeardownInputs {
    /** kubeconfig content or path. */
    kubeconfig: string;
    namespace: string;
    statefulSet: string;
    /** How long delete waits for the StatefulSet and its pods to be gone, s. Default 900. */
    timeoutSeconds?: number;
}

/** Waits until a StatefulSet and every pod it selected no longer exist (bounded). */
export async function waitForTeardown(inputs: ZoneTeardownInputs): Promise<void> {
    const k8s = require("@kubernetes/client-node");
    const fs = require("node:fs") as typeof import("node:fs");
    const kc = new k8s.KubeConfig();
    if (!inputs.kubeconfig.includes("\n") && fs.existsSync(inputs.kubeconfig))
        kc.loadFromFile(inputs.kubeconfig);
    else kc.loadFromString(inputs.kubeconfig);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const { namespace, statefulSet: name } = inputs;
    const deadline = Date.now() + (inputs.timeoutSeconds ?? 900) * 1000;
    // The pods' names: `<statefulSet>-<ordinal>`.
    const mine = (p: any): boolean => new RegExp(`^${name}-\\d+$`).test(p.metadata?.name ?? "");
    for (;;) {
        const sts = await apps.readNamespacedStatefulSet({ name, namespace }).catch((e: any) => {
            if (
                e?.code === 404 ||
                e?.response?.statusCode === 404 ||
                /404|not found/i.test(String(e?.message ?? e))
            )
                return undefined;
            throw e;
        });
        const pods = (
            await core.listNamespacedPod({ namespace }).catch(() => ({ items: [] }))
        ).items.filter(mine);
        if (sts === undefined && pods.length === 0) return;
        if (Date.now() > deadline) {
            throw new Error(
                `StatefulSet ${namespace}/${name} is still being deleted after ${inputs.timeoutSeconds ?? 900} s (${pods.length} pods left: ${pods.map((p: any) => p.metadata.name).join(", ")}).`,
            );
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/**
 * The ZoneTeardown provider: nothing to do on create and update; delete (which runs after the StatefulSet's own
 * delete, since the StatefulSet depends on it) waits until the StatefulSet and its pods are gone. The StatefulSets
 * skip the Kubernetes provider's await, its delete wait too: without this a `pulumi up` right after a destroy would
 * meet the old, terminating StatefulSet.
 */
export const zoneTeardownProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return { inputs: news, failures: [] };
    },
    async diff(_id, olds, news) {
        const changed = ["namespace", "statefulSet"].filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: `${inputs.namespace}/${inputs.statefulSet}`, outs: inputs };
    },
    async update(_id, _olds, news) {
        return { outs: news };
    },
    async read(id, props) {
        return { id, props };
    },
    async delete(_id, props) {
        await waitForTeardown(props as ZoneTeardownInputs);
    },
};

/** The arguments of a ZoneTeardown. */
export interface ZoneTeardownArgs {
    /** kubeconfig content or path (kept secret). */
    kubeconfig: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    statefulSet: pulumi.Input<string>;
    /** How long delete waits, s. Default 900. */
    timeoutSeconds?: number;
}

/** Makes `pulumi destroy` wait until a zone's StatefulSet and its pods are gone (see the provider). */
export class ZoneTeardown extends pulumi.dynamic.Resource {
    constructor(name: string, args: ZoneTeardownArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            zoneTeardownProvider,
            name,
            { ...args, kubeconfig: pulumi.secret(args.kubeconfig) },
            {
                ...opts,
                additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "kubeconfig"],
            },
        );
    }
}
