import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { storageClassManifest } from "../../../components/azure/storageClass";
import { resolveSettings } from "../../../components/config";
import { validateManifest } from "../../helpers/manifests";

describe("Premium SSD StorageClass", () => {
    it("prod: Premium_LRS through the disk CSI driver, WaitForFirstConsumer, expandable, Retain", async () => {
        const sc = storageClassManifest(resolveSettings({ cloud: "azure" }, "prod-azure"));
        assert.equal(await validateManifest(sc as unknown as Record<string, any>), "validated");
        assert.equal(sc.metadata.name, "valkey-premium");
        assert.equal(sc.provisioner, "disk.csi.azure.com");
        assert.deepEqual(sc.parameters, {
            skuName: "Premium_LRS",
            cachingMode: "None",
            fsType: "ext4",
            networkAccessPolicy: "DenyAll",
        });
        assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
        assert.equal(sc.allowVolumeExpansion, true);
        assert.equal(sc.reclaimPolicy, "Retain");
    });
    it("dev deletes volumes with their claims", () => {
        assert.equal(
            storageClassManifest(resolveSettings({ cloud: "azure" }, "dev")).reclaimPolicy,
            "Delete",
        );
    });
    it("PremiumV2_LRS carries the provisioned IOPS and throughput", async () => {
        const sc = storageClassManifest(
            resolveSettings(
                {
                    cloud: "azure",
                    azure: { diskSku: "PremiumV2_LRS", diskIops: 8000, diskMbps: 400 },
                },
                "prod-azure",
            ),
        );
        assert.equal(await validateManifest(sc as unknown as Record<string, any>), "validated");
        assert.equal(sc.parameters.skuName, "PremiumV2_LRS");
        assert.equal(sc.parameters.DiskIOPSReadWrite, "8000");
        assert.equal(sc.parameters.DiskMBpsReadWrite, "400");
        assert.equal(sc.parameters.cachingMode, "None");
    });
    it("is named after the cluster", () => {
        assert.equal(
            storageClassManifest(resolveSettings({ cloud: "azure", name: "cache" }, "dev")).metadata
                .name,
            "cache-premium",
        );
    });
});
