/**
 * The adapter between the program's resources and the checks: which resource is a Valkey StatefulSet, its
 * pinned zone and containers, a cluster's valkey.conf, the node pools that run Valkey, the slot-bootstrap
 * resource's topology. Every assumption about a resource's shape lives here, so following a change in the
 * program (components/valkey/cluster.ts, aws/eks.ts, azure/aks.ts) is one edit in one file.
 *
 * Pure: plain data in, plain data out.
 */
import type { PlainResource } from "./common";
import { AWS_NODE_SIZES, NodeSize, findNodeSize } from "../components/sizing";

/** Type tokens of the resources the pack reads. */
export const TYPES = {
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    configMap: "kubernetes:core/v1:ConfigMap",
    podDisruptionBudget: "kubernetes:policy/v1:PodDisruptionBudget",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    dynamic: "pulumi-nodejs:dynamic:Resource",
} as const;

/** Karpenter NodePools, v1 and the older v1beta1. */
const NODE_POOL_TYPE = /^kubernetes:karpenter\.sh\/v1(beta1)?:NodePool$/;
/** AKS agent pools and managed clusters, unversioned or pinned to an API version (`containerservice/v2024...`). */
const AGENT_POOL_TYPE = /^azure-native:containerservice(\/[^:]+)?:AgentPool$/;
const MANAGED_CLUSTER_TYPE = /^azure-native:containerservice(\/[^:]+)?:ManagedCluster$/;

/** Labels the program puts on every object of a Valkey cluster. */
export const LABELS = {
    name: "app.kubernetes.io/name",
    instance: "app.kubernetes.io/instance",
    zone: "valkey.io/zone",
} as const;

/** The well-known node label of a node's zone. */
export const TOPOLOGY_ZONE = "topology.kubernetes.io/zone";

/** Karpenter requirement keys. */
export const KARPENTER = {
    arch: "kubernetes.io/arch",
    capacityType: "karpenter.sh/capacity-type",
    instanceFamily: "karpenter.k8s.aws/instance-family",
    instanceSize: "karpenter.k8s.aws/instance-size",
    instanceType: "node.kubernetes.io/instance-type",
    zone: TOPOLOGY_ZONE,
} as const;

/** The taint (and node label) that reserves a pool for Valkey: `workload=valkey:NoSchedule`. */
export const VALKEY_POOL_MARK = { key: "workload", value: "valkey" } as const;

type Obj = Record<string, any>;
const obj = (v: unknown): Obj =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** The Kubernetes name of an object (metadata.name), or the Pulumi name when it has none. */
export function objectName(r: PlainResource): string {
    const n = obj(r.props.metadata).name;
    return typeof n === "string" && n !== "" ? n : r.name;
}

/** The namespace of a Kubernetes object, when set. */
export function objectNamespace(r: PlainResource): string | undefined {
    const ns = obj(r.props.metadata).namespace;
    return typeof ns === "string" ? ns : undefined;
}

/** The object's labels (metadata.labels). */
export function labelsOf(r: PlainResource): Record<string, string> {
    return obj(obj(r.props.metadata).labels);
}

/** The pod template spec of a StatefulSet. */
export function podSpecOf(sts: PlainResource): Obj {
    return obj(obj(obj(sts.props.spec).template).spec);
}

function templateLabels(sts: PlainResource): Record<string, string> {
    return obj(obj(obj(obj(sts.props.spec).template).metadata).labels);
}

/** True for a StatefulSet that runs Valkey (`app.kubernetes.io/name: valkey` on it or on its pods). */
export function isValkeyStatefulSet(r: PlainResource): boolean {
    return (
        r.type === TYPES.statefulSet &&
        (labelsOf(r)[LABELS.name] === "valkey" || templateLabels(r)[LABELS.name] === "valkey")
    );
}

/** Every Valkey StatefulSet of a stack. */
export function valkeyStatefulSets(resources: readonly PlainResource[]): PlainResource[] {
    return resources.filter(isValkeyStatefulSet);
}

/** The Valkey cluster a StatefulSet belongs to: its `app.kubernetes.io/instance` label. */
export function clusterOf(sts: PlainResource): string {
    return (
        labelsOf(sts)[LABELS.instance] ?? templateLabels(sts)[LABELS.instance] ?? objectName(sts)
    );
}

/** The Valkey StatefulSets grouped by cluster, in the stack's order. */
export function valkeyClusters(resources: readonly PlainResource[]): Map<string, PlainResource[]> {
    const out = new Map<string, PlainResource[]>();
    for (const sts of valkeyStatefulSets(resources)) {
        const c = clusterOf(sts);
        out.set(c, [...(out.get(c) ?? []), sts]);
    }
    return out;
}

/** The regular containers of a StatefulSet's pods. */
export function containersOf(sts: PlainResource): Obj[] {
    return list(podSpecOf(sts).containers).map(obj);
}

/** The init containers of a StatefulSet's pods. */
export function initContainersOf(sts: PlainResource): Obj[] {
    return list(podSpecOf(sts).initContainers).map(obj);
}

/** The container that runs the server: the one named `valkey`, else the first. */
export function valkeyContainerOf(sts: PlainResource): Obj | undefined {
    const cs = containersOf(sts);
    return cs.find((c) => c.name === "valkey") ?? cs[0];
}

/** The StatefulSet's data volume claim template: the one named `data`, else the first. */
export function dataClaimOf(sts: PlainResource): Obj | undefined {
    const vcts = list(obj(sts.props.spec).volumeClaimTemplates).map(obj);
    return vcts.find((v) => obj(v.metadata).name === "data") ?? vcts[0];
}

/** Where a StatefulSet's pods may run: its one zone, or why it is not pinned to exactly one. */
export interface ZonePin {
    zone?: string;
    /** The rule that fails, phrased to follow "must". */
    problem?: string;
}

/** Zones allowed by both: `any` (no restriction yet) narrowed by a list of allowed zones. */
function narrow(allowed: Set<string> | "any", values: string[]): Set<string> {
    return new Set(allowed === "any" ? values : values.filter((z) => allowed.has(z)));
}

/**
 * The zone a StatefulSet is pinned to by required node affinity on `topology.kubernetes.io/zone` (a
 * `nodeSelector` on the same label narrows it too). Node selector terms are alternatives, so the zones a pod
 * may use are the union over terms; a term without a zone expression allows every zone.
 */
export function zonePinOf(sts: PlainResource): ZonePin {
    const spec = podSpecOf(sts);
    const required = obj(
        obj(obj(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
    );
    const terms = list(required.nodeSelectorTerms).map(obj);
    let allowed: Set<string> | "any" = terms.length === 0 ? "any" : new Set<string>();
    for (const term of terms) {
        let termZones: Set<string> | "any" = "any";
        for (const e of list(term.matchExpressions).map(obj)) {
            if (e.key !== TOPOLOGY_ZONE) continue;
            if (e.operator !== "In") {
                return {
                    problem: `pin its zone with operator In on ${TOPOLOGY_ZONE}, not ${JSON.stringify(e.operator)}`,
                };
            }
            termZones = narrow(termZones, list(e.values).map(String));
        }
        if (termZones === "any" || allowed === "any") {
            allowed = "any";
        } else {
            for (const z of termZones) allowed.add(z);
        }
    }
    const selectorZone = obj(spec.nodeSelector)[TOPOLOGY_ZONE];
    if (typeof selectorZone === "string") {
        allowed = narrow(allowed, [selectorZone]);
    }
    if (allowed === "any") {
        return { problem: `be pinned to one zone by a required node affinity on ${TOPOLOGY_ZONE}` };
    }
    if (allowed.size === 0) {
        return { problem: `allow exactly one zone in its required node affinity; it allows none` };
    }
    if (allowed.size > 1) {
        return {
            problem: `be pinned to exactly one zone; its required node affinity allows ${[...allowed].join(", ")}`,
        };
    }
    return { zone: [...allowed][0] };
}

/** The valkey.conf text of a cluster: the ConfigMap with the cluster's instance label (or named `<cluster>-conf`). */
export function valkeyConfOf(
    resources: readonly PlainResource[],
    cluster: string,
    namespace?: string,
): { text: string; resource: PlainResource } | undefined {
    const maps = resources.filter(
        (r) =>
            r.type === TYPES.configMap &&
            typeof obj(r.props.data)["valkey.conf"] === "string" &&
            (namespace === undefined ||
                objectNamespace(r) === undefined ||
                objectNamespace(r) === namespace),
    );
    const found =
        maps.find((r) => labelsOf(r)[LABELS.instance] === cluster) ??
        maps.find((r) => objectName(r) === `${cluster}-conf`);
    return found ? { text: obj(found.props.data)["valkey.conf"], resource: found } : undefined;
}

/** True when a label selector (`matchLabels`) selects the pods of `cluster`. */
export function selectsCluster(selector: unknown, cluster: string): boolean {
    const labels = obj(obj(selector).matchLabels);
    const name = labels[LABELS.name];
    return labels[LABELS.instance] === cluster && (name === undefined || name === "valkey");
}

/** Objects of `type` in `namespace` (when given) whose `spec[selectorField]` picks the pods of `cluster`. */
function selectingCluster(
    resources: readonly PlainResource[],
    type: string,
    selectorField: "selector" | "podSelector",
    cluster: string,
    namespace?: string,
): PlainResource[] {
    return resources.filter(
        (r) =>
            r.type === type &&
            selectsCluster(obj(r.props.spec)[selectorField], cluster) &&
            (namespace === undefined ||
                objectNamespace(r) === undefined ||
                objectNamespace(r) === namespace),
    );
}

/** The PodDisruptionBudgets whose selector picks the pods of `cluster`. */
export function disruptionBudgetsOf(
    resources: readonly PlainResource[],
    cluster: string,
    namespace?: string,
): PlainResource[] {
    return selectingCluster(resources, TYPES.podDisruptionBudget, "selector", cluster, namespace);
}

/** The NetworkPolicies whose pod selector picks the pods of `cluster`. */
export function networkPoliciesOf(
    resources: readonly PlainResource[],
    cluster: string,
    namespace?: string,
): PlainResource[] {
    return selectingCluster(resources, TYPES.networkPolicy, "podSelector", cluster, namespace);
}

/** The StorageClass of the stack with a Kubernetes name, if the stack creates it. */
export function storageClassNamed(
    resources: readonly PlainResource[],
    name: string,
): PlainResource | undefined {
    return resources.find((r) => r.type === TYPES.storageClass && objectName(r) === name);
}

/** A Karpenter scheduling requirement. */
export interface Requirement {
    key: string;
    operator: string;
    values: string[];
}

/** A node pool the Valkey pods run on, whatever the cloud. */
export interface ValkeyPool {
    /** How messages name it: `NodePool`, `AgentPool`, `ManagedCluster agent pool`. */
    thing: string;
    name: string;
    urn: string;
    cloud: "aws" | "azure";
    /** Zones the pool launches nodes in; undefined when the pool does not restrict them (Karpenter). */
    zones?: string[];
    /** Karpenter requirements (empty on AKS). */
    requirements: Requirement[];
    /** AKS VM size. */
    vmSize?: string;
    /** AKS scale set priority (`Regular`, `Spot`). */
    priority?: string;
}

function taintMarks(taints: unknown[]): boolean {
    return taints.some((t) => {
        if (typeof t === "string") {
            // AKS form: key=value:Effect
            const [kv] = t.split(":");
            const [k, v] = kv.split("=");
            return k === VALKEY_POOL_MARK.key && v === VALKEY_POOL_MARK.value;
        }
        const o = obj(t);
        return o.key === VALKEY_POOL_MARK.key && o.value === VALKEY_POOL_MARK.value;
    });
}

function aksPool(thing: string, name: string, urn: string, p: Obj): ValkeyPool | undefined {
    const marked =
        taintMarks(list(p.nodeTaints)) ||
        obj(p.nodeLabels)[VALKEY_POOL_MARK.key] === VALKEY_POOL_MARK.value;
    if (!marked) return undefined;
    return {
        thing,
        name,
        urn,
        cloud: "azure",
        zones: list(p.availabilityZones).map(String),
        requirements: [],
        vmSize: typeof p.vmSize === "string" ? p.vmSize : undefined,
        priority: typeof p.scaleSetPriority === "string" ? p.scaleSetPriority : undefined,
    };
}

/**
 * The node pools reserved for Valkey (tainted or labelled `workload=valkey`): Karpenter NodePools, AKS agent
 * pools, and the agent pool profiles inside an AKS ManagedCluster.
 */
export function valkeyPools(resources: readonly PlainResource[]): ValkeyPool[] {
    const pools: ValkeyPool[] = [];
    for (const r of resources) {
        if (NODE_POOL_TYPE.test(r.type)) {
            const template = obj(obj(r.props.spec).template);
            const spec = obj(template.spec);
            const marked =
                taintMarks(list(spec.taints)) ||
                obj(obj(template.metadata).labels)[VALKEY_POOL_MARK.key] === VALKEY_POOL_MARK.value;
            if (!marked) continue;
            const requirements: Requirement[] = list(spec.requirements)
                .map(obj)
                .map((q) => ({
                    key: String(q.key),
                    operator: String(q.operator),
                    values: list(q.values).map(String),
                }));
            const zoneReq = requirements.find(
                (q) => q.key === KARPENTER.zone && q.operator === "In",
            );
            pools.push({
                thing: "NodePool",
                name: objectName(r),
                urn: r.urn,
                cloud: "aws",
                zones: zoneReq?.values,
                requirements,
            });
        } else if (AGENT_POOL_TYPE.test(r.type)) {
            const name = typeof r.props.agentPoolName === "string" ? r.props.agentPoolName : r.name;
            const pool = aksPool("AgentPool", name, r.urn, r.props);
            if (pool) pools.push(pool);
        } else if (MANAGED_CLUSTER_TYPE.test(r.type)) {
            for (const profile of list(r.props.agentPoolProfiles).map(obj)) {
                const pool = aksPool(
                    "ManagedCluster agent pool",
                    `${r.name}/${profile.name}`,
                    r.urn,
                    profile,
                );
                if (pool) pools.push(pool);
            }
        }
    }
    return pools;
}

/** The first requirement of a pool on a key. */
export function requirementOf(pool: ValkeyPool, key: string): Requirement | undefined {
    return pool.requirements.find((q) => q.key === key);
}

/**
 * True when a pool launches nodes in `zone`. A Karpenter pool without a zone requirement uses every zone of its
 * subnets; an AKS pool lists its zones as numbers ("1") while nodes carry `<region>-1`.
 */
export function poolCoversZone(pool: ValkeyPool, zone: string): boolean {
    if (pool.zones === undefined) return true;
    return pool.zones.some((z) => z === zone || zone.endsWith(`-${z}`));
}

/**
 * The node sizes a pool may launch, from the sizing tables: the AKS VM size, or the Karpenter pool's instance
 * types (or families, narrowed by sizes). `unknown` lists names the tables do not hold.
 */
export function poolNodeSizes(pool: ValkeyPool): { known: NodeSize[]; unknown: string[] } {
    if (pool.cloud === "azure") {
        if (!pool.vmSize) return { known: [], unknown: [] };
        const size = findNodeSize(pool.vmSize);
        return size ? { known: [size], unknown: [] } : { known: [], unknown: [pool.vmSize] };
    }
    const types = requirementOf(pool, KARPENTER.instanceType);
    if (types && types.operator === "In") {
        const known = types.values
            .map((t) => findNodeSize(t))
            .filter((s): s is NodeSize => s !== undefined);
        return { known, unknown: types.values.filter((t) => !findNodeSize(t)) };
    }
    const families = requirementOf(pool, KARPENTER.instanceFamily);
    if (!families || families.operator !== "In") return { known: [], unknown: [] };
    const sizes = requirementOf(pool, KARPENTER.instanceSize);
    const known = AWS_NODE_SIZES.filter(
        (s) =>
            families.values.includes(s.family) &&
            (!sizes ||
                sizes.operator !== "In" ||
                sizes.values.includes(s.name.slice(s.family.length + 1))),
    );
    return {
        known,
        unknown: families.values.filter((f) => !AWS_NODE_SIZES.some((s) => s.family === f)),
    };
}

/** The topology the slot-bootstrap resource will build. */
export interface BootstrapTarget {
    name: string;
    urn: string;
    shards: number;
    replicasPerShard: number;
    /** The zones in the bootstrap's order (the order `computeLayout` assigns primaries in). */
    zones: string[];
    /** The StatefulSet the bootstrap addresses in each of its zones, when its inputs say. */
    statefulSetOfZone: Map<string, string>;
}

/** The StatefulSet of a pod host name: `valkey-us-east-1a-0.valkey-headless...` -> `valkey-us-east-1a`. */
function statefulSetOfHost(host: unknown): string | undefined {
    if (typeof host !== "string") return undefined;
    const pod = host.split(".")[0];
    const m = /^(.+)-\d+$/.exec(pod);
    return m ? m[1] : undefined;
}

/**
 * The slot-bootstrap resources of a stack (`ValkeySlots`): dynamic resources with `shards` and
 * `replicasPerShard` inputs. Their zones in layout order come from `zones`, else from `kubernetes.statefulSets`
 * ({ zone, name }) or `nodes` ({ id, host, port, zone }, listed per zone in ordinal order).
 */
export function bootstrapTargets(resources: readonly PlainResource[]): BootstrapTarget[] {
    const out: BootstrapTarget[] = [];
    for (const r of resources) {
        if (r.type !== TYPES.dynamic) continue;
        // The drain instance that runs before the StatefulSets repeats the same topology: check it once.
        if (r.props.phase === "drain") continue;
        const shards = Number(r.props.shards);
        const replicasPerShard = Number(r.props.replicasPerShard);
        if (
            r.props.shards === undefined ||
            r.props.replicasPerShard === undefined ||
            !Number.isInteger(shards) ||
            !Number.isInteger(replicasPerShard)
        ) {
            continue;
        }
        // An explicit `zones` input is the layout order (a zone without nodes keeps its place), as in the provider.
        const zones: string[] = list(r.props.zones).filter(
            (z): z is string => typeof z === "string",
        );
        const statefulSetOfZone = new Map<string, string>();
        const addZone = (z: unknown, sts?: string): void => {
            if (typeof z !== "string") return;
            if (!zones.includes(z)) zones.push(z);
            if (sts && !statefulSetOfZone.has(z)) statefulSetOfZone.set(z, sts);
        };
        const k8sSets = list(obj(r.props.kubernetes).statefulSets).map(obj);
        if (k8sSets.length > 0) {
            for (const s of k8sSets)
                addZone(s.zone, typeof s.name === "string" ? s.name : undefined);
        } else {
            for (const n of list(r.props.nodes).map(obj))
                addZone(n.zone, statefulSetOfHost(n.host) ?? statefulSetOfHost(n.id));
        }
        out.push({ name: r.name, urn: r.urn, shards, replicasPerShard, zones, statefulSetOfZone });
    }
    return out;
}
