/**
 * Node sizes the Valkey pods may run on, with the memory and CPU a pod can actually be given there.
 *
 * Pure data shared by config validation (refuse a pod that does not fit before anything is created) and the
 * policy pack (refuse a plan whose containers do not fit their pools). Allocatable values are estimates that
 * follow the providers' published reservation formulas; they err on the small side.
 */

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** One instance type or VM size. */
export interface NodeSize {
    /** The cloud's name for it: `r7g.xlarge`, `Standard_E16ds_v5`. */
    name: string;
    family: string;
    vcpus: number;
    /** Memory of the VM, bytes. */
    memoryBytes: number;
    /** Memory the kubelet offers to pods after system and kube reservations and the eviction threshold, bytes. */
    allocatableMemoryBytes: number;
    /** CPU the kubelet offers to pods, cores. */
    allocatableCpu: number;
    arch: "arm64" | "amd64";
    /** Whether the size is burstable (t*, B*): never allowed for Valkey. */
    burstable: boolean;
}

/** Memory that node daemons (CNI, CSI node plugin, kube-proxy, log shippers) take next to the Valkey pod. */
export const DAEMONSET_MEMORY_BYTES = 512 * MiB;

/**
 * EKS kubelet reservation on AL2023 (the EKS AMI's bootstrap formula): 255 MiB + 11 MiB per pod the node may run,
 * the 100 MiB hard-eviction threshold, and Karpenter's default VM memory overhead of 7.5 % (what the hypervisor
 * and firmware keep of the nominal size).
 */
function eksAllocatable(memoryBytes: number, maxPods: number): number {
    const usable = Math.floor(memoryBytes * (1 - 0.075));
    return usable - (255 + 11 * maxPods + 100) * MiB;
}

/** EKS CPU reservation: 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above. */
function eksCpu(vcpus: number): number {
    let reserved = 0.06;
    if (vcpus > 1) reserved += 0.01;
    if (vcpus > 2) reserved += 0.005 * Math.min(2, vcpus - 2);
    if (vcpus > 4) reserved += 0.0025 * (vcpus - 4);
    return Math.round((vcpus - reserved) * 1000) / 1000;
}

/** Graviton sizes: [suffix, vCPUs, max pods (the ENI limit of the VPC CNI)]; memory is vCPUs x the family's GiB per vCPU. */
const gravitonSizes: [string, number, number][] = [
    ["medium", 1, 8],
    ["large", 2, 29],
    ["xlarge", 4, 58],
    ["2xlarge", 8, 58],
    ["4xlarge", 16, 234],
    ["8xlarge", 32, 234],
    ["12xlarge", 48, 234],
    ["16xlarge", 64, 737],
];

function graviton(family: string, gibPerVcpu: number): NodeSize[] {
    return gravitonSizes.map(([size, vcpus, maxPods]) => {
        const memoryBytes = vcpus * gibPerVcpu * GiB;
        return {
            name: `${family}.${size}`,
            family,
            vcpus,
            memoryBytes,
            allocatableMemoryBytes: eksAllocatable(memoryBytes, maxPods),
            allocatableCpu: eksCpu(vcpus),
            arch: "arm64" as const,
            burstable: false,
        };
    });
}

/** Memory-optimised Graviton families for Valkey on EKS (8 GiB per vCPU). */
export const MEMORY_OPTIMISED_GRAVITON_FAMILIES = ["r7g", "r8g"] as const;
/** Network-optimised Graviton families, allowed behind `valkey:aws.networkOptimised`. */
export const NETWORK_OPTIMISED_GRAVITON_FAMILIES = ["r7gn", "r8gn", "m7gn"] as const;

/** Every EC2 size the Valkey NodePool may use. */
export const AWS_NODE_SIZES: readonly NodeSize[] = [
    ...graviton("r7g", 8),
    ...graviton("r8g", 8),
    ...graviton("r7gn", 8),
    ...graviton("r8gn", 8),
    ...graviton("m7gn", 4),
];

/**
 * Share of an Azure VM's nominal memory the kubelet never sees as capacity (firmware, kernel memory map): a
 * 16 GiB D4s_v3 node reports 16403296Ki, 2.2 % less (Azure/AKS#1216); 3 % errs on the small side from 16 GiB up.
 */
const AKS_VM_MEMORY_OVERHEAD = 0.03;

/**
 * AKS kubelet reservation (Kubernetes 1.29+): the lesser of 20 MiB per pod + 50 MiB and 25 % of the VM's memory,
 * and the 100 MiB hard-eviction threshold, taken from the capacity the node reports (nominal size less
 * `AKS_VM_MEMORY_OVERHEAD`). The Valkey user pools run with a small max-pods (see `AKS_VALKEY_MAX_PODS`).
 */
function aksAllocatable(memoryBytes: number, maxPods: number): number {
    const capacity = Math.floor(memoryBytes * (1 - AKS_VM_MEMORY_OVERHEAD));
    const reserved = Math.min((20 * maxPods + 50) * MiB, Math.floor(capacity * 0.25));
    return capacity - reserved - 100 * MiB;
}

/** AKS CPU reservation: the same regressive table as the upstream kubelet defaults AKS publishes. */
function aksCpu(vcpus: number): number {
    const reserved = vcpus <= 1 ? 0.06 : vcpus <= 2 ? 0.1 : vcpus <= 4 ? 0.14 : vcpus <= 8 ? 0.18 : vcpus <= 16 ? 0.26 : vcpus <= 32 ? 0.42 : 0.74;
    return Math.round((vcpus - reserved) * 1000) / 1000;
}

/** Max pods per node of the AKS Valkey user pools (one Valkey pod plus daemons). */
export const AKS_VALKEY_MAX_PODS = 30;

/** E-series v5 sizes: vCPUs -> GiB (8 GiB per vCPU; E96 has 672 GiB). */
const eSeries: [number, number][] = [
    [2, 16],
    [4, 32],
    [8, 64],
    [16, 128],
    [20, 160],
    [32, 256],
    [48, 384],
    [64, 512],
    [96, 672],
];

/** E-series v5 variants: plain, with local temp disk (d), with premium storage (s), both (ds). */
const eVariants = ["", "s", "d", "ds"];

/** Every Azure VM size the Valkey user pools may use (memory-optimised E-series v5, amd64). */
export const AZURE_NODE_SIZES: readonly NodeSize[] = eSeries.flatMap(([vcpus, gib]) =>
    eVariants.map((variant) => ({
        name: `Standard_E${vcpus}${variant}_v5`,
        family: `E${variant}v5`,
        vcpus,
        memoryBytes: gib * GiB,
        allocatableMemoryBytes: aksAllocatable(gib * GiB, AKS_VALKEY_MAX_PODS),
        allocatableCpu: aksCpu(vcpus),
        arch: "amd64" as const,
        burstable: false,
    })),
);

/** Looks up an EC2 instance type or Azure VM size by name; undefined when it is not one Valkey may use. */
export function findNodeSize(name: string): NodeSize | undefined {
    return AWS_NODE_SIZES.find((s) => s.name === name) ?? AZURE_NODE_SIZES.find((s) => s.name === name);
}

/** True for burstable sizes (EC2 t*, Azure B*), which Valkey must never run on. */
export function isBurstable(name: string): boolean {
    return /^t\d/.test(name) || /^Standard_B/i.test(name);
}
