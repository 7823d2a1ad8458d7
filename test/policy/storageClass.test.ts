import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { storageClass } from "../../policy/storageClass";
import { T, awsStack, azureStack, find } from "./fixtures";
import { messages } from "./harness";

const gp3 = (r: PlainResource[]): PlainResource => find(r, T.sc, "valkey-gp3");
const premium = (r: PlainResource[]): PlainResource => find(r, T.sc, "valkey-premium");

describe("valkey-storage-class", () => {
    test("passes the valid AWS and Azure stacks", async () => {
        assert.deepEqual(await messages(storageClass, awsStack()), []);
        assert.deepEqual(await messages(storageClass, azureStack()), []);
    });

    test("refuses an EBS class that is not gp3", async () => {
        const r = awsStack();
        gp3(r).props.parameters.type = "gp2";
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-gp3) must use EBS volume type gp3 (parameters.type), not "gp2"',
        ]);
    });

    test("refuses unencrypted EBS volumes", async () => {
        const r = awsStack();
        delete gp3(r).props.parameters.encrypted;
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-gp3) must encrypt its volumes (parameters.encrypted "true")',
        ]);
    });

    test("refuses a Standard SSD Azure class", async () => {
        const r = azureStack();
        premium(r).props.parameters.skuName = "StandardSSD_LRS";
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-premium) must use a Premium SSD disk (parameters.skuName Premium_LRS or PremiumV2_LRS), not "StandardSSD_LRS"',
        ]);
    });

    test("refuses another provisioner", async () => {
        const r = awsStack();
        gp3(r).props.provisioner = "kubernetes.io/aws-ebs";
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-gp3) must use the EBS CSI driver (ebs.csi.aws.com, gp3) or the Azure Disk CSI driver (disk.csi.azure.com, Premium SSD), not "kubernetes.io/aws-ebs"',
        ]);
    });

    test("refuses Immediate binding", async () => {
        const r = awsStack();
        gp3(r).props.volumeBindingMode = "Immediate";
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-gp3) must bind volumes WaitForFirstConsumer so each volume is created in its pod\'s zone, not "Immediate"',
        ]);
    });

    test("refuses a class without volume expansion", async () => {
        const r = awsStack();
        delete gp3(r).props.allowVolumeExpansion;
        assert.deepEqual(await messages(storageClass, r), [
            "StorageClass (valkey-gp3) must allow volume expansion (allowVolumeExpansion true) so volumes can grow with the data",
        ]);
    });

    test("refuses Delete in prod and allows it when requireRetain is off (dev)", async () => {
        const r = awsStack();
        gp3(r).props.reclaimPolicy = "Delete";
        assert.deepEqual(await messages(storageClass, r), [
            'StorageClass (valkey-gp3) must keep volumes when their claims are deleted (reclaimPolicy Retain), not "Delete"',
        ]);
        assert.deepEqual(await messages(storageClass, r, { requireRetain: false }), []);
    });

    test("refuses a volume claim without a StorageClass", async () => {
        const r = awsStack();
        delete find(r, T.sts, "valkey-us-east-1b").props.spec.volumeClaimTemplates[0].spec
            .storageClassName;
        assert.deepEqual(await messages(storageClass, r), [
            "StatefulSet (valkey-us-east-1b) must name the StorageClass of its data volume claim; the cluster default is rarely gp3 or Premium SSD with WaitForFirstConsumer",
        ]);
    });

    test("skips a class the stack does not create (an existing cluster's)", async () => {
        const r = awsStack().filter((x) => x.type !== T.sc);
        assert.deepEqual(await messages(storageClass, r), []);
    });
});
