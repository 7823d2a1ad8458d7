import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
    aksZoneLabel,
    systemPoolSpec,
    taintString,
    valkeyPoolName,
    valkeyPoolSpecs,
    VALKEY_TOLERATION,
} from "../../../components/azure/pools";
import { resolveSettings, type Settings } from "../../../components/config";
import { AKS_VALKEY_MAX_PODS, AZURE_NODE_SIZES } from "../../../components/sizing";
import { computeLayout } from "../../../components/valkey/layout";
import { stackConfig } from "../../helpers/program";

/** The settings of a stack file, as the program resolves them. */
function stackSettings(stack: string, overrides: Record<string, unknown> = {}): Settings {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stackConfig(stack))) {
        if (k.startsWith("valkey:")) raw[k.slice("valkey:".length)] = v;
    }
    return resolveSettings({ ...raw, ...overrides }, stack);
}

const dev = resolveSettings({ cloud: "azure" }, "dev");
const prod = stackSettings("prod-azure");

describe("Valkey pools", () => {
    for (const [env, settings] of [
        ["dev", dev],
        ["prod", prod],
    ] as const) {
        it(`${env}: one pool per zone, each in exactly that zone, E-series v5 with premium storage, never Spot`, () => {
            const pools = valkeyPoolSpecs(settings);
            assert.deepEqual(
                pools.map((p) => p.availabilityZones),
                settings.zones.map((z) => [z]),
            );
            assert.deepEqual(
                pools.map((p) => p.name),
                settings.zones.map(
                    (z) =>
                        `vk${z}${settings.azure.vmSize === "Standard_E64ds_v5" ? "e64dsv5" : "e4dsv5"}`,
                ),
            );
            for (const p of pools) {
                assert.match(
                    p.name,
                    /^[a-z][a-z0-9]{0,11}$/,
                    "AKS pool names: lower-case alphanumeric, <= 12",
                );
                assert.match(p.vmSize, /^Standard_E\d+d?s_v5$/);
                assert.equal(p.mode, "User");
                assert.equal(p.scaleSetPriority, "Regular");
                assert.equal(p.enableAutoScaling, true);
                assert.deepEqual(p.nodeLabels, { workload: "valkey" });
                assert.deepEqual(p.nodeTaints, ["workload=valkey:NoSchedule"]);
                assert.equal(p.maxPods, AKS_VALKEY_MAX_PODS);
                assert.equal(p.orchestratorVersion, settings.azure.kubernetesVersion);
                assert.equal(p.linuxOSConfig?.transparentHugePageEnabled, "never");
                assert.equal(p.upgradeSettings.maxSurge, "1");
            }
        });
        it(`${env}: min nodes = Valkey pods of the zone (one per node), max adds the headroom`, () => {
            const layout = computeLayout(settings);
            for (const [i, p] of valkeyPoolSpecs(settings).entries()) {
                const pods = layout.zones[i].pods.length;
                assert.equal(p.minCount, pods);
                assert.equal(p.count, pods);
                assert.equal(p.maxCount, pods + settings.azure.poolHeadroom);
            }
        });
    }
    it("ephemeral OS disk on sizes with a temp disk, a managed one on the Esv5 sizes", () => {
        assert.equal(valkeyPoolSpecs(prod)[0].osDiskType, "Ephemeral");
        assert.equal(valkeyPoolSpecs(prod)[0].osDiskSizeGB, 128);
        const esv5 = stackSettings("prod-azure", { azure: { vmSize: "Standard_E64s_v5" } });
        assert.equal(valkeyPoolSpecs(esv5)[0].osDiskType, "Managed");
    });
    it("node soak between upgrades only in prod", () => {
        assert.equal(valkeyPoolSpecs(prod)[0].upgradeSettings.nodeSoakDurationInMinutes, 10);
        assert.equal(valkeyPoolSpecs(dev)[0].upgradeSettings.nodeSoakDurationInMinutes, 0);
    });
    it("the pools hold every Valkey pod, one per node, for any valid topology", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 3, max: 24 }),
                fc.integer({ min: 1, max: 2 }),
                fc.integer({ min: 0, max: 3 }),
                (shards, replicas, headroom) => {
                    let settings: Settings;
                    try {
                        settings = resolveSettings(
                            {
                                cloud: "azure",
                                shards,
                                replicasPerShard: replicas,
                                azure: { poolHeadroom: headroom },
                            },
                            "prod-azure",
                        );
                    } catch {
                        return; // refused by validation (quorum rule): nothing to build
                    }
                    const pools = valkeyPoolSpecs(settings);
                    const total = pools.reduce((n, p) => n + p.minCount, 0);
                    assert.equal(total, shards * (replicas + 1));
                    for (const p of pools) assert.equal(p.maxCount - p.minCount, headroom);
                },
            ),
        );
    });
});

describe("system pool", () => {
    it("spans the zones; one node per zone in prod, one node in dev", () => {
        const p = systemPoolSpec(prod);
        assert.equal(p.mode, "System");
        assert.deepEqual(p.availabilityZones, ["1", "2", "3"]);
        assert.equal(p.minCount, 3);
        assert.equal(p.maxCount, 6);
        assert.equal(p.scaleSetPriority, "Regular");
        assert.equal(systemPoolSpec(dev).minCount, 1);
        assert.deepEqual(p.nodeTaints, []);
    });
});

describe("Valkey pool names", () => {
    it("carry the zone and the VM size, so a new size is a new pool", () => {
        assert.equal(valkeyPoolName("1", "Standard_E64ds_v5"), "vk1e64dsv5");
        assert.equal(valkeyPoolName("3", "Standard_E32-16ds_v5"), "vk3e3216dsv5");
        assert.equal(valkeyPoolName("2", "Standard_E104ids_v5"), "vk2e104idsv5");
    });
    it("are valid AKS Linux pool names and distinct for every zone and E-series size", () => {
        const names = new Set<string>();
        for (const size of AZURE_NODE_SIZES) {
            for (const zone of ["1", "2", "3"]) {
                const n = valkeyPoolName(zone, size.name);
                assert.match(n, /^[a-z][a-z0-9]{0,11}$/, n);
                names.add(n);
            }
        }
        assert.equal(names.size, AZURE_NODE_SIZES.length * 3);
    });
});

describe("zone labels and taints", () => {
    it("AKS labels nodes <location>-<zone>", () => {
        assert.equal(aksZoneLabel("eastus2", "1"), "eastus2-1");
    });
    it("the taint string matches the toleration the pods carry", () => {
        assert.equal(taintString(VALKEY_TOLERATION), "workload=valkey:NoSchedule");
    });
});
