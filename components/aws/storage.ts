/**
 * The `valkey-gp3` StorageClass of the Valkey volumes on EKS, as a plain manifest. Pure: the component creates
 * it with `k8s.storage.v1.StorageClass`; tests validate it against the Kubernetes schema.
 */

/** The name the Valkey StatefulSets' volume claims use. */
export const VALKEY_STORAGE_CLASS = "valkey-gp3";
/** Provisioned IOPS of every Valkey volume. */
export const VALKEY_GP3_IOPS = 6000;
/** Provisioned throughput of every Valkey volume, MiB/s. */
export const VALKEY_GP3_THROUGHPUT = 500;
/** gp3 allows at most this many provisioned IOPS per GiB of volume. */
export const GP3_MAX_IOPS_PER_GIB = 500;
/** The smallest volume that can carry `VALKEY_GP3_IOPS`, GiB. */
export const VALKEY_GP3_MIN_GIB = Math.ceil(VALKEY_GP3_IOPS / GP3_MAX_IOPS_PER_GIB);

/** A StorageClass as plain data. */
export interface StorageClassManifest {
    apiVersion: "storage.k8s.io/v1";
    kind: "StorageClass";
    metadata: { name: string };
    provisioner: string;
    parameters: Record<string, string>;
    reclaimPolicy: "Retain" | "Delete";
    volumeBindingMode: "WaitForFirstConsumer";
    allowVolumeExpansion: boolean;
}

/**
 * The `valkey-gp3` class: EBS CSI gp3 with 6000 IOPS and 500 MiB/s, encrypted, xfs, bound where the pod is
 * scheduled (the StatefulSets are zone-pinned), expandable, and kept after its claim is deleted in prod.
 */
export function valkeyStorageClassManifest(prod: boolean): StorageClassManifest {
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: VALKEY_STORAGE_CLASS },
        provisioner: "ebs.csi.aws.com",
        parameters: {
            type: "gp3",
            iops: String(VALKEY_GP3_IOPS),
            throughput: String(VALKEY_GP3_THROUGHPUT),
            encrypted: "true",
            "csi.storage.k8s.io/fstype": "xfs",
        },
        reclaimPolicy: prod ? "Retain" : "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
    };
}
