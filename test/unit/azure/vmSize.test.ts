import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { osDiskFor, vmSizeFeatures } from "../../../components/azure/vmSize";
import { AZURE_NODE_SIZES } from "../../../components/sizing";

describe("vmSizeFeatures", () => {
    const table: [string, { premium: boolean; temp?: number; ephemeral: boolean }][] = [
        ["Standard_E64ds_v5", { premium: true, temp: 2400, ephemeral: true }],
        ["Standard_E64s_v5", { premium: true, ephemeral: false }],
        ["Standard_E64d_v5", { premium: false, temp: 2400, ephemeral: true }],
        ["Standard_E64_v5", { premium: false, ephemeral: false }],
        ["Standard_E2ds_v5", { premium: true, temp: 75, ephemeral: true }],
        ["Standard_D4ds_v5", { premium: true, temp: 150, ephemeral: true }],
        ["Standard_E32-16ds_v5", { premium: true, temp: 1200, ephemeral: true }],
        ["Standard_DS2_v2", { premium: false, ephemeral: false }],
        ["Standard_B4ms", { premium: true, ephemeral: false }],
    ];
    for (const [name, want] of table) {
        it(name, () => {
            const f = vmSizeFeatures(name);
            assert.ok(f);
            assert.equal(f.premiumStorage, want.premium);
            assert.equal(f.tempDiskGiB, want.temp);
            assert.equal(f.ephemeralOsDisk, want.ephemeral);
        });
    }
    it("is undefined for what is not a size name", () => {
        for (const bad of ["E64ds_v5", "standard_e64ds_v5", "Standard_", "r7g.xlarge"]) {
            assert.equal(vmSizeFeatures(bad), undefined, bad);
        }
    });
    it("agrees with the sizing table's vCPUs for every E-series row", () => {
        for (const size of AZURE_NODE_SIZES) {
            assert.equal(vmSizeFeatures(size.name)?.vcpus, size.vcpus, size.name);
        }
    });
});

describe("osDiskFor", () => {
    it("ephemeral on the temp disk where there is one, capped at 128 GiB", () => {
        assert.deepEqual(osDiskFor("Standard_E64ds_v5"), { type: "Ephemeral", sizeGB: 128 });
        assert.deepEqual(osDiskFor("Standard_E2ds_v5"), { type: "Ephemeral", sizeGB: 75 });
        assert.deepEqual(osDiskFor("Standard_D4ds_v5"), { type: "Ephemeral", sizeGB: 128 });
    });
    it("a managed disk otherwise", () => {
        assert.deepEqual(osDiskFor("Standard_E64s_v5"), { type: "Managed", sizeGB: 128 });
        assert.deepEqual(osDiskFor("Standard_B4ms"), { type: "Managed", sizeGB: 128 });
    });
});
