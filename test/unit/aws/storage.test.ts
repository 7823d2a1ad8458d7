import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VALKEY_GP3_MIN_GIB, valkeyStorageClassManifest } from "../../../components/aws/storage";
import { validateManifest } from "./schemas";

describe("valkey-gp3 StorageClass", () => {
    it("validates against the Kubernetes storage.k8s.io/v1 schema (dev and prod)", async () => {
        await validateManifest(valkeyStorageClassManifest(false));
        await validateManifest(valkeyStorageClassManifest(true));
    });
    it("EBS CSI gp3, 6000 IOPS, 500 MiB/s, encrypted, xfs, WaitForFirstConsumer, expandable", () => {
        const sc = valkeyStorageClassManifest(false);
        assert.equal(sc.metadata.name, "valkey-gp3");
        assert.equal(sc.provisioner, "ebs.csi.aws.com");
        assert.deepEqual(sc.parameters, {
            type: "gp3",
            iops: "6000",
            throughput: "500",
            encrypted: "true",
            "csi.storage.k8s.io/fstype": "xfs",
        });
        assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
        assert.equal(sc.allowVolumeExpansion, true);
    });
    it("keeps volumes after their claim is deleted in prod only", () => {
        assert.equal(valkeyStorageClassManifest(true).reclaimPolicy, "Retain");
        assert.equal(valkeyStorageClassManifest(false).reclaimPolicy, "Delete");
    });
    it("gp3 throughput needs 4 IOPS per MiB/s and 500 IOPS per GiB at most: 12 GiB is the smallest volume", () => {
        const sc = valkeyStorageClassManifest(true);
        assert.ok(Number(sc.parameters.throughput) * 4 <= Number(sc.parameters.iops));
        assert.equal(VALKEY_GP3_MIN_GIB, 12);
    });
});
