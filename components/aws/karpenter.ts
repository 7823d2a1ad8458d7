/**
 * Karpenter's objects for the Valkey nodes as plain manifests: the EC2NodeClass (how a node is launched), the
 * NodePool (which instances, where, how they may be disrupted) and the Helm values of the controller. Pure: the
 * component hands them to `k8s.apiextensions.CustomResource` and `k8s.helm.v3.Release`; tests validate them
 * against Karpenter's published schemas.
 */
import type { Settings } from "../config";
import type { Toleration } from "../platform";
import {
    AWS_NODE_SIZES,
    MEMORY_OPTIMISED_GRAVITON_FAMILIES,
    NETWORK_OPTIMISED_GRAVITON_FAMILIES,
} from "../sizing";

/** The tag that marks the private subnets and the cluster security group Karpenter launches nodes into. */
export const DISCOVERY_TAG = "karpenter.sh/discovery";
/** Namespace and service account of the Karpenter controller (Karpenter's documented defaults for v1). */
export const KARPENTER_NAMESPACE = "kube-system";
export const KARPENTER_SERVICE_ACCOUNT = "karpenter";
/** The Helm charts, pinned to `valkey:aws.karpenterVersion`: the CRDs (upgraded with the controller) and the controller. */
export const KARPENTER_CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd";
export const KARPENTER_CHART = "oci://public.ecr.aws/karpenter/karpenter";

/** The label of the Valkey nodes, which the Valkey pods select. */
export const VALKEY_NODE_LABELS: Readonly<Record<string, string>> = { workload: "valkey" };
/** The taint of the Valkey nodes, so that nothing else lands there. */
export const VALKEY_TAINT = { key: "workload", value: "valkey", effect: "NoSchedule" } as const;
/** What the Valkey pods carry to run on the tainted nodes. */
export const VALKEY_TOLERATIONS: readonly Toleration[] = [
    {
        key: VALKEY_TAINT.key,
        operator: "Equal",
        value: VALKEY_TAINT.value,
        effect: VALKEY_TAINT.effect,
    },
];

/** A Kubernetes object as plain data. */
export interface Manifest {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    spec: Record<string, unknown>;
}

/** The instance families the Valkey NodePool may launch. */
export function valkeyInstanceFamilies(networkOptimised: boolean): string[] {
    return networkOptimised
        ? [...MEMORY_OPTIMISED_GRAVITON_FAMILIES, ...NETWORK_OPTIMISED_GRAVITON_FAMILIES]
        : [...MEMORY_OPTIMISED_GRAVITON_FAMILIES];
}

/** The size part of an instance type: `xlarge` of `r7g.xlarge`. */
export function instanceSize(instanceType: string): string {
    const dot = instanceType.indexOf(".");
    return dot < 0 ? instanceType : instanceType.slice(dot + 1);
}

/** How many Valkey pods the cluster runs: every shard's primary and replicas. */
export function valkeyPodCount(settings: Pick<Settings, "shards" | "replicasPerShard">): number {
    return settings.shards * (settings.replicasPerShard + 1);
}

/**
 * The NodePool's CPU and memory limits: one node of the configured size per Valkey pod (the pods keep one per
 * node) plus one spare per zone, so that drift and consolidation can launch a replacement before draining.
 */
export function nodePoolLimits(
    settings: Pick<Settings, "shards" | "replicasPerShard" | "zones" | "aws">,
): {
    cpu: string;
    memory: string;
} {
    const size = AWS_NODE_SIZES.find((s) => s.name === settings.aws.instanceType);
    if (!size) {
        throw new Error(
            `internal: no size for ${settings.aws.instanceType}; config validation should have refused it`,
        );
    }
    const nodes = valkeyPodCount(settings) + settings.zones.length;
    return {
        cpu: String(nodes * size.vcpus),
        memory: `${Math.round((nodes * size.memoryBytes) / 2 ** 30)}Gi`,
    };
}

/** What the EC2NodeClass needs besides the settings. */
export interface NodeClassInputs {
    /** Name of the EC2NodeClass (and of the NodePool that uses it). */
    name: string;
    clusterName: string;
    /** Name of the IAM role of the nodes; Karpenter creates the instance profile. */
    nodeRoleName: string;
    /** AL2023 AMI release: `latest` or a pinned `vYYYYMMDD`. */
    amiVersion: string;
    tags: Record<string, string>;
}

/**
 * The EC2NodeClass of the Valkey nodes: AL2023 (arm64 follows from the NodePool's arch), IMDSv2 required with a
 * hop limit of 1 so pods cannot reach the node's credentials, an encrypted gp3 root volume, and subnets and
 * security groups found by the discovery tag.
 */
export function ec2NodeClassManifest(p: NodeClassInputs): Manifest {
    const discovery = { tags: { [DISCOVERY_TAG]: p.clusterName } };
    return {
        apiVersion: "karpenter.k8s.aws/v1",
        kind: "EC2NodeClass",
        metadata: { name: p.name },
        spec: {
            role: p.nodeRoleName,
            amiSelectorTerms: [{ alias: `al2023@${p.amiVersion}` }],
            subnetSelectorTerms: [discovery],
            securityGroupSelectorTerms: [discovery],
            metadataOptions: {
                httpEndpoint: "enabled",
                httpProtocolIPv6: "disabled",
                httpPutResponseHopLimit: 1,
                httpTokens: "required",
            },
            blockDeviceMappings: [
                {
                    deviceName: "/dev/xvda",
                    ebs: {
                        volumeSize: "30Gi",
                        volumeType: "gp3",
                        encrypted: true,
                        deleteOnTermination: true,
                    },
                },
            ],
            tags: p.tags,
        },
    };
}

/**
 * The NodePool of the Valkey nodes: arm64 on-demand Graviton of the configured families and size, only in the
 * configured zones, tainted and labelled for Valkey; emptied nodes are removed, busy ones never consolidated;
 * at most one node disrupted at a time, and never by expiry (which ignores budgets in Karpenter v1).
 */
export function nodePoolManifest(
    settings: Pick<Settings, "shards" | "replicasPerShard" | "zones" | "aws">,
    nodeClassName: string,
    name: string = nodeClassName,
): Manifest {
    const limits = nodePoolLimits(settings);
    return {
        apiVersion: "karpenter.sh/v1",
        kind: "NodePool",
        metadata: { name },
        spec: {
            template: {
                metadata: { labels: { ...VALKEY_NODE_LABELS } },
                spec: {
                    nodeClassRef: {
                        group: "karpenter.k8s.aws",
                        kind: "EC2NodeClass",
                        name: nodeClassName,
                    },
                    taints: [{ ...VALKEY_TAINT }],
                    requirements: [
                        { key: "kubernetes.io/arch", operator: "In", values: ["arm64"] },
                        { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
                        {
                            key: "karpenter.sh/capacity-type",
                            operator: "In",
                            values: ["on-demand"],
                        },
                        {
                            key: "karpenter.k8s.aws/instance-family",
                            operator: "In",
                            values: valkeyInstanceFamilies(settings.aws.networkOptimised),
                        },
                        {
                            key: "karpenter.k8s.aws/instance-size",
                            operator: "In",
                            values: [instanceSize(settings.aws.instanceType)],
                        },
                        {
                            key: "topology.kubernetes.io/zone",
                            operator: "In",
                            values: [...settings.zones],
                        },
                    ],
                    // Expiry is a forced disruption in Karpenter v1 and would not wait for the budget below.
                    expireAfter: "Never",
                },
            },
            disruption: {
                consolidationPolicy: "WhenEmpty",
                consolidateAfter: "10m",
                budgets: [{ nodes: "1" }],
            },
            limits,
        },
    };
}

/** The Helm values of the Karpenter controller. */
export function karpenterHelmValues(p: {
    clusterName: string;
    queueName: string;
}): Record<string, unknown> {
    return {
        settings: { clusterName: p.clusterName, interruptionQueue: p.queueName },
        serviceAccount: { name: KARPENTER_SERVICE_ACCOUNT },
        // Two replicas on two system nodes (the chart's anti-affinity keeps them apart): a leader and a standby.
        replicas: 2,
        controller: {
            resources: {
                requests: { cpu: "500m", memory: "1Gi" },
                limits: { memory: "1Gi" },
            },
        },
        logLevel: "info",
    };
}
