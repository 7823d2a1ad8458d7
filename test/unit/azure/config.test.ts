import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RawSettings, resolveSettings } from "../../../components/config";
import { problems as settingsProblems } from "../../helpers/settings";
import { AZURE_NODE_SIZES, findNodeSize } from "../../../components/sizing";

/** The messages of the one SettingsError that resolving `raw` throws, on the prod-azure stack by default. */
const problems = (raw: RawSettings, stack = "prod-azure"): string[] => settingsProblems(raw, stack);

describe("Azure settings defaults", () => {
    it("zones 1/2/3, autoscaler headroom 1, kubelogin through the Azure CLI", () => {
        const s = resolveSettings({ cloud: "azure" }, "prod-azure");
        assert.deepEqual(s.zones, ["1", "2", "3"]);
        assert.equal(s.azure.poolHeadroom, 1);
        assert.equal(s.azure.kubeloginMode, "azurecli");
        assert.equal(s.azure.diskSku, "Premium_LRS");
    });
    it("dev defaults fit their VM size", () => {
        const s = resolveSettings({ cloud: "azure" }, "dev");
        assert.equal(s.azure.vmSize, "Standard_E4ds_v5");
    });
});

describe("Azure settings refusals", () => {
    it("an E-series size without premium storage (the guide's Standard_E64_v5)", () => {
        assert.deepEqual(problems({ cloud: "azure", azure: { vmSize: "Standard_E64_v5" } }), [
            'valkey.azure.vmSize: got "Standard_E64_v5"; it cannot attach the Premium SSD disks that hold the Valkey volumes (only the "s" sizes can). Use "Standard_E64ds_v5", the same size with premium storage and a temp disk.',
        ]);
        assert.match(
            problems({ cloud: "azure", azure: { vmSize: "Standard_E16d_v5" } })[0],
            /Use "Standard_E16ds_v5"/,
        );
    });
    it("the Esv5 sizes (premium, no temp disk) are accepted", () => {
        assert.equal(
            resolveSettings({ cloud: "azure", azure: { vmSize: "Standard_E64s_v5" } }, "prod-azure")
                .azure.vmSize,
            "Standard_E64s_v5",
        );
    });
    it("a display name instead of the region's programmatic name", () => {
        assert.deepEqual(problems({ cloud: "azure", azure: { location: "East US 2" } }), [
            'valkey.azure.location: got "East US 2"; use the region\'s programmatic name (`az account list-locations -o table`), e.g. "eastus2". The nodes\' zone labels are built from it.',
        ]);
    });
    it("zones that are not AKS zone numbers", () => {
        assert.deepEqual(problems({ cloud: "azure", zones: ["eastus2-1", "eastus2-2", "3"] }), [
            'valkey.zones: got ["eastus2-1","eastus2-2","3"]; on Azure the zones are "1", "2" and "3" ("eastus2-1", "eastus2-2" are not). Use e.g. ["1", "2", "3"].',
        ]);
    });
    it("a VNet range that cannot carry the address plan", () => {
        assert.deepEqual(problems({ cloud: "azure", azure: { vnetCidr: "10.10.1.0/16" } }), [
            'valkey.azure.vnetCidr: got "10.10.1.0/16"; the address is not the first of its /16 block. Use "10.10.0.0/16".',
        ]);
    });
    it("an unpinned Kubernetes version", () => {
        assert.deepEqual(problems({ cloud: "azure", azure: { kubernetesVersion: "latest" } }), [
            'valkey.azure.kubernetesVersion: got "latest"; pin a Kubernetes version AKS offers, e.g. "1.33" (patches then follow valkey.azure.upgradeChannel).',
        ]);
    });
    it("a system pool size that is not a VM size name", () => {
        assert.deepEqual(problems({ cloud: "azure", azure: { systemVmSize: "D4ds_v5" } }), [
            'valkey.azure.systemVmSize: got "D4ds_v5"; use an Azure VM size name, e.g. "Standard_D4ds_v5".',
        ]);
    });
    it("Premium SSD v2 throughput above 0.25 MB/s per IOPS, and IOPS above 500 per GiB", () => {
        assert.deepEqual(
            problems({
                cloud: "azure",
                azure: { diskSku: "PremiumV2_LRS", diskIops: 3000, diskMbps: 1000 },
            }),
            [
                "valkey.azure.diskMbps: got 1000 with diskIops 3000; Premium SSD v2 allows at most 0.25 MB/s per IOPS. Use at most 750, or raise valkey.azure.diskIops.",
            ],
        );
        assert.deepEqual(
            problems(
                {
                    cloud: "azure",
                    memory: "6Gi",
                    volumeSize: "12Gi",
                    azure: { diskSku: "PremiumV2_LRS", diskIops: 8000, diskMbps: 250 },
                },
                "dev",
            ),
            [
                'valkey.azure.diskIops: got 8000 with volumeSize "12Gi"; Premium SSD v2 allows at most 500 IOPS per GiB (6000 here). Use at most 6000, or a larger valkey.volumeSize.',
            ],
        );
    });
    it("an unknown kubelogin mode and a negative headroom", () => {
        assert.deepEqual(
            problems({ cloud: "azure", azure: { kubeloginMode: "devicecode", poolHeadroom: -1 } }),
            [
                "valkey.azure.poolHeadroom: got -1; it must be at least 0.",
                'valkey.azure.kubeloginMode: got "devicecode"; use one of "azurecli", "workloadidentity", "spn", "msi".',
            ],
        );
    });
    it("collects every Azure problem at once", () => {
        const msgs = problems({
            cloud: "azure",
            zones: ["1", "2", "4"],
            azure: { vmSize: "Standard_E64_v5", location: "East US", vnetCidr: "8.8.8.0/24" },
        });
        assert.deepEqual(
            msgs.map((m) => m.split(":")[0]),
            [
                "valkey.azure.vmSize",
                "valkey.azure.location",
                "valkey.zones",
                "valkey.azure.vnetCidr",
            ],
        );
    });
    it("the Azure checks do not run for other clouds", () => {
        assert.doesNotThrow(() =>
            resolveSettings(
                { cloud: "aws", azure: { vmSize: "Standard_E64_v5", location: "East US" } },
                "prod",
            ),
        );
    });
});

describe("E-series allocatable memory", () => {
    it("is below the nominal size by the VM overhead, kubelet reservation and eviction threshold", () => {
        const e64 = findNodeSize("Standard_E64ds_v5")!;
        const GiB = 2 ** 30;
        assert.ok(e64.allocatableMemoryBytes < 0.97 * 512 * GiB);
        assert.ok(e64.allocatableMemoryBytes > 490 * GiB);
        for (const s of AZURE_NODE_SIZES) {
            assert.ok(s.allocatableMemoryBytes < s.memoryBytes * 0.97, s.name);
        }
    });
    it("the prod-azure memory (480Gi) fits an E64ds_v5; 496Gi does not", () => {
        assert.equal(
            resolveSettings({ cloud: "azure", memory: "480Gi" }, "prod-azure").memory,
            "480Gi",
        );
        assert.match(
            problems({ cloud: "azure", memory: "496Gi" })[0],
            /^valkey\.memory: got "496Gi"; it does not fit Standard_E64ds_v5/,
        );
    });
});
