import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A Kubernetes toleration, as the platform asks Valkey pods to carry it. */
export interface Toleration {
    key: string;
    operator: "Equal" | "Exists";
    value?: string;
    effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/**
 * The seam between a cloud and the Valkey layer: what every cloud (EKS, AKS, an existing cluster) hands to
 * `ValkeyCluster`. The Valkey layer knows nothing else about the cloud it runs on.
 */
export interface KubernetesPlatform {
    /** The provider every Kubernetes object of the Valkey layer is created with. */
    provider: k8s.Provider;
    /** Zones as the nodes' `topology.kubernetes.io/zone` label values, one StatefulSet per zone, in order. */
    zones: string[];
    /** The StorageClass of the Valkey volumes (zonal, WaitForFirstConsumer). */
    storageClassName: pulumi.Input<string>;
    /** Labels a node must carry to run Valkey pods. */
    nodeSelector: Record<string, string>;
    /** Taints of the Valkey nodes, which the Valkey pods tolerate. */
    tolerations: Toleration[];
    /** CPU architecture of the Valkey nodes. */
    arch: "arm64" | "amd64";
    /** Memory the kubelet offers to pods on one Valkey node, bytes; undefined when the platform cannot know. */
    allocatableMemoryBytes?: number;
    /** The kubeconfig of the cluster (secret), when the program created it. */
    kubeconfig?: pulumi.Output<string>;
    /** Resources the Valkey layer must wait for (node pools, CSI add-ons, Karpenter's NodePool). */
    dependsOn?: pulumi.Resource[];
}
