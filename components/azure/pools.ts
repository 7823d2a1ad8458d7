/**
 * The AKS node pools as plain data: one system pool across the zones, and one Valkey user pool per zone.
 *
 * Pure: settings in, pool specs out, no cloud package. The Valkey pools are zonal by construction (each has
 * `availabilityZones` of exactly one zone), so the pods the Valkey layer pins to a zone always find nodes there;
 * their size follows the layout: one node per Valkey pod (the pods carry a one-per-node anti-affinity) plus
 * headroom for the autoscaler.
 */
import type { Settings } from "../config";
import type { Toleration } from "../platform";
import { AKS_VALKEY_MAX_PODS } from "../sizing";
import { computeLayout } from "../valkey/layout";
import { osDiskFor } from "./vmSize";

/** Labels of the Valkey nodes, which the Valkey pods select. */
export const VALKEY_NODE_LABELS: Readonly<Record<string, string>> = { workload: "valkey" };

/** The taint of the Valkey nodes: nothing but Valkey (and daemons) runs there. */
export const VALKEY_TOLERATION: Readonly<Toleration> = {
    key: "workload",
    operator: "Equal",
    value: "valkey",
    effect: "NoSchedule",
};

/** The zones AKS offers in a region (`availabilityZones` values). */
export const AKS_ZONES = ["1", "2", "3"] as const;

/** A taint in AKS's `key=value:Effect` form. */
export function taintString(t: Toleration): string {
    return `${t.key}=${t.value ?? ""}:${t.effect}`;
}

/** The `topology.kubernetes.io/zone` label AKS puts on a node in zone `zone` of `location`: `eastus2-1`. */
export function aksZoneLabel(location: string, zone: string): string {
    return `${location}-${zone}`;
}

/** One AKS agent pool, as the ManagedCluster / AgentPool APIs take it. */
export interface AgentPoolSpec {
    /** AKS pool name: lower-case letters and digits, starting with a letter, at most 12 characters. */
    name: string;
    mode: "System" | "User";
    vmSize: string;
    /** Zones of the pool's nodes; exactly one for a Valkey pool. */
    availabilityZones: string[];
    enableAutoScaling: true;
    minCount: number;
    maxCount: number;
    /** Initial node count (the autoscaler owns it afterwards). */
    count: number;
    /** Always Regular: Spot VMs can be evicted at any time and must never run Valkey. */
    scaleSetPriority: "Regular";
    type: "VirtualMachineScaleSets";
    osType: "Linux";
    osSKU: "Ubuntu";
    osDiskType: "Ephemeral" | "Managed";
    osDiskSizeGB: number;
    /** Pods per node; undefined keeps AKS's default. */
    maxPods?: number;
    orchestratorVersion: string;
    nodeLabels: Record<string, string>;
    nodeTaints: string[];
    upgradeSettings: {
        maxSurge: string;
        drainTimeoutInMinutes?: number;
        nodeSoakDurationInMinutes?: number;
    };
    linuxOSConfig?: { transparentHugePageEnabled: "never"; transparentHugePageDefrag: "never" };
}

/**
 * The pool name for a zone's Valkey nodes: `vk`, the zone and the VM size (`vk1e64dsv5` for Standard_E64ds_v5 in
 * zone 1). The size is in the name because AKS cannot change a pool's VM size: a new size is a new pool, which
 * Pulumi creates before it deletes the old one (draining its nodes under the PodDisruptionBudget), and that only
 * works when the two names differ. At most 12 characters, as AKS requires of Linux pools.
 */
export function valkeyPoolName(zone: string, vmSize: string): string {
    const size = vmSize
        .replace(/^Standard_/, "")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "");
    return `vk${zone}${size}`.slice(0, 12);
}

/**
 * The Valkey user pools, one per zone in zone order. Each holds one node per Valkey pod of its zone
 * (`minCount`), and may grow by `azure.poolHeadroom` nodes when a node is being replaced.
 */
export function valkeyPoolSpecs(settings: Settings): AgentPoolSpec[] {
    const az = settings.azure;
    const layout = computeLayout({
        shards: settings.shards,
        replicasPerShard: settings.replicasPerShard,
        zones: settings.zones,
    });
    const osDisk = osDiskFor(az.vmSize);
    const prod = settings.environment === "prod";
    return layout.zones.map(({ zone, pods }) => ({
        name: valkeyPoolName(zone, az.vmSize),
        mode: "User" as const,
        vmSize: az.vmSize,
        availabilityZones: [zone],
        enableAutoScaling: true as const,
        minCount: pods.length,
        maxCount: pods.length + az.poolHeadroom,
        count: pods.length,
        scaleSetPriority: "Regular" as const,
        type: "VirtualMachineScaleSets" as const,
        osType: "Linux" as const,
        osSKU: "Ubuntu" as const,
        osDiskType: osDisk.type,
        osDiskSizeGB: osDisk.sizeGB,
        // The allocatable memory in components/sizing.ts is computed for this many pods per node.
        maxPods: AKS_VALKEY_MAX_PODS,
        orchestratorVersion: az.kubernetesVersion,
        nodeLabels: { ...VALKEY_NODE_LABELS },
        nodeTaints: [taintString(VALKEY_TOLERATION)],
        upgradeSettings: {
            // One extra node at a time: a surge node of a large E-series size is expensive and needs quota.
            maxSurge: "1",
            // The PDB lets a drain proceed only once the replaced pod's replica has resynced: allow for it.
            drainTimeoutInMinutes: 60,
            nodeSoakDurationInMinutes: prod ? 10 : 0,
        },
        // Valkey's fork for RDB/AOF rewrite suffers latency spikes and memory bloat with transparent huge pages.
        linuxOSConfig: {
            transparentHugePageEnabled: "never" as const,
            transparentHugePageDefrag: "never" as const,
        },
    }));
}

/**
 * The system pool (CoreDNS, metrics-server, CSI controllers, Cilium operator): spread over the Valkey zones,
 * at least one node per zone in prod, one node in dev.
 */
export function systemPoolSpec(settings: Settings): AgentPoolSpec {
    const az = settings.azure;
    const osDisk = osDiskFor(az.systemVmSize);
    const prod = settings.environment === "prod";
    const minCount = prod ? settings.zones.length : 1;
    return {
        name: "system",
        mode: "System",
        vmSize: az.systemVmSize,
        availabilityZones: [...settings.zones],
        enableAutoScaling: true,
        minCount,
        maxCount: prod ? 2 * settings.zones.length : 3,
        count: minCount,
        scaleSetPriority: "Regular",
        type: "VirtualMachineScaleSets",
        osType: "Linux",
        osSKU: "Ubuntu",
        osDiskType: osDisk.type,
        osDiskSizeGB: osDisk.sizeGB,
        orchestratorVersion: az.kubernetesVersion,
        nodeLabels: {},
        nodeTaints: [],
        upgradeSettings: { maxSurge: "1" },
    };
}
