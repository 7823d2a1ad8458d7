/**
 * Whether an existing cluster (`cloud: kubernetes`) has room for the Valkey pods, per zone, before anything is
 * created: a StatefulSet whose pods cannot be scheduled otherwise waits until a timeout, and with required
 * anti-affinity a zone needs one node per Valkey pod. The judgement is pure (`capacityProblems`); `readNodes` asks
 * the Kubernetes API.
 */
import { parseBytes, parseCpu } from "../quantity";

/** A node as the capacity check sees it. */
export interface NodeView {
    name: string;
    labels: Record<string, string>;
    /** `spec.unschedulable` (cordoned). */
    unschedulable: boolean;
    /** Taints with effect NoSchedule or NoExecute, as `key=value:effect`. */
    taints: { key: string; value?: string; effect: string }[];
    allocatableMemoryBytes: number;
    allocatableMilliCpu: number;
}

/** What the Valkey pods need. */
export interface PodDemand {
    /** Pods per zone, in zone order. */
    zones: { zone: string; pods: number }[];
    memoryBytes: number;
    milliCpu: number;
    antiAffinity: "required" | "preferred";
    arch: string;
    nodeSelector: Record<string, string>;
    /** Taint keys the pods tolerate (any value, any effect). */
    tolerated: string[];
}

const ZONE_LABEL = "topology.kubernetes.io/zone";

function fmtGi(bytes: number): string {
    return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The problems with placing the pods on the nodes, one message per zone at most; empty when they fit. */
export function capacityProblems(nodes: NodeView[], demand: PodDemand): string[] {
    const problems: string[] = [];
    for (const { zone, pods } of demand.zones) {
        if (pods === 0) continue;
        const inZone = nodes.filter((n) => n.labels[ZONE_LABEL] === zone);
        const eligible = inZone.filter(
            (n) =>
                !n.unschedulable &&
                (n.labels["kubernetes.io/arch"] ?? demand.arch) === demand.arch &&
                Object.entries(demand.nodeSelector).every(([k, v]) => n.labels[k] === v) &&
                n.taints.every((t) => demand.tolerated.includes(t.key)),
        );
        const fits = eligible.filter(
            (n) =>
                n.allocatableMemoryBytes >= demand.memoryBytes &&
                n.allocatableMilliCpu >= demand.milliCpu,
        );
        if (eligible.length === 0) {
            problems.push(
                `zone ${zone} has no schedulable node for Valkey (${inZone.length === 0 ? `no node is labelled ${ZONE_LABEL}=${zone}` : `${inZone.length} node(s) in the zone, none schedulable with arch ${demand.arch}${Object.keys(demand.nodeSelector).length ? ` and labels ${JSON.stringify(demand.nodeSelector)}` : ""} and no untolerated taint`}). Add nodes to the zone or remove it from valkey:zones.`,
            );
        } else if (fits.length === 0) {
            problems.push(
                `valkey.memory/valkey.cpu: no node of zone ${zone} has ${fmtGi(demand.memoryBytes)} and ${demand.milliCpu}m CPU allocatable (largest: ${fmtGi(Math.max(...eligible.map((n) => n.allocatableMemoryBytes)))}, ${Math.max(...eligible.map((n) => n.allocatableMilliCpu))}m). Lower valkey:memory or valkey:cpu, or use larger nodes.`,
            );
        } else if (demand.antiAffinity === "required" && fits.length < pods) {
            problems.push(
                `valkey.podAntiAffinity: "required" puts one Valkey pod per node, but zone ${zone} has ${fits.length} node(s) that fit a pod (${demand.memoryBytes > 0 ? `${fmtGi(demand.memoryBytes)}, ` : ""}${demand.milliCpu}m CPU) for ${pods} pods (${eligible.map((n) => n.name).join(", ")}). Add nodes to the zone, use fewer pods per zone (valkey:shards, valkey:replicasPerShard), or set valkey:podAntiAffinity to "preferred".`,
            );
        } else {
            const memory = fits.reduce((sum, n) => sum + n.allocatableMemoryBytes, 0);
            const cpu = fits.reduce((sum, n) => sum + n.allocatableMilliCpu, 0);
            if (memory < pods * demand.memoryBytes || cpu < pods * demand.milliCpu) {
                problems.push(
                    `zone ${zone} has ${fmtGi(memory)} and ${cpu}m CPU allocatable on the nodes that fit a Valkey pod, for ${pods} pods of ${fmtGi(demand.memoryBytes)} and ${demand.milliCpu}m. Add nodes, or lower valkey:memory or valkey:cpu.`,
                );
            }
        }
    }
    return problems;
}

/** Reads the cluster's nodes through the Kubernetes API (kubeconfig content or a path to one). */
export async function readNodes(kubeconfig: string): Promise<NodeView[]> {
    const k8s = require("@kubernetes/client-node");
    const fs = require("node:fs") as typeof import("node:fs");
    const kc = new k8s.KubeConfig();
    if (!kubeconfig.includes("\n") && fs.existsSync(kubeconfig)) kc.loadFromFile(kubeconfig);
    else kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNode();
    return list.items.map((n: any) => ({
        name: n.metadata?.name ?? "",
        labels: n.metadata?.labels ?? {},
        unschedulable: n.spec?.unschedulable === true,
        taints: (n.spec?.taints ?? []).filter(
            (t: any) => t.effect === "NoSchedule" || t.effect === "NoExecute",
        ),
        allocatableMemoryBytes: parseBytes(n.status?.allocatable?.memory) ?? 0,
        allocatableMilliCpu: Math.round((parseCpu(n.status?.allocatable?.cpu) ?? 0) * 1000),
    }));
}
