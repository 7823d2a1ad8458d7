/**
 * The StorageClass of the Valkey volumes on AKS, as a plain manifest: Azure Premium SSD through the disk CSI driver.
 *
 * Pure: settings in, manifest out, no cloud package (the component creates it; tests validate it with
 * kubernetes-models). Premium SSD disks are zonal (LRS): WaitForFirstConsumer makes the driver create each disk
 * in the zone of the node its pod was scheduled to, which the Valkey layer pins by construction.
 */
import type { Settings } from "../config";

/** Name of the StorageClass: `<name>-premium` (`valkey-premium`). */
export function storageClassName(clusterName: string): string {
    return `${clusterName}-premium`;
}

/** The Azure disk CSI driver. */
export const AZURE_DISK_PROVISIONER = "disk.csi.azure.com";

/** A `storage.k8s.io/v1` StorageClass as plain data. */
export interface StorageClassManifest {
    apiVersion: "storage.k8s.io/v1";
    kind: "StorageClass";
    metadata: { name: string; labels: Record<string, string> };
    provisioner: string;
    parameters: Record<string, string>;
    reclaimPolicy: "Retain" | "Delete";
    volumeBindingMode: "WaitForFirstConsumer";
    allowVolumeExpansion: true;
}

/**
 * The Premium SSD StorageClass: `Premium_LRS` by default, or `PremiumV2_LRS` with the provisioned IOPS and
 * throughput of `azure.diskIops` / `azure.diskMbps`. Volumes are kept (Retain) in prod, so deleting the stack or a
 * PVC never deletes data by accident; dev deletes them with the claim.
 */
export function storageClassManifest(settings: Settings): StorageClassManifest {
    const az = settings.azure;
    const parameters: Record<string, string> = {
        skuName: az.diskSku,
        // Host caching: PremiumV2 supports none, disks of 4 TiB and more support none, and Valkey's disk traffic
        // is the AOF's sequential writes, which a read cache does not help.
        cachingMode: "None",
        fsType: "ext4",
        // No SAS export of the disks or their snapshots: the data only leaves through Valkey.
        networkAccessPolicy: "DenyAll",
    };
    if (az.diskSku === "PremiumV2_LRS") {
        parameters.DiskIOPSReadWrite = String(az.diskIops);
        parameters.DiskMBpsReadWrite = String(az.diskMbps);
    }
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
            name: storageClassName(settings.name),
            labels: {
                "app.kubernetes.io/part-of": "valkey-platform",
                "app.kubernetes.io/instance": settings.name,
            },
        },
        provisioner: AZURE_DISK_PROVISIONER,
        parameters,
        reclaimPolicy: settings.environment === "prod" ? "Retain" : "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
    };
}
