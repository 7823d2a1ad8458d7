import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { createAzurePlatform } from "../../../components/azure";
import { CONTRIBUTOR_ROLE, diskResourceGroupOptions } from "../../../components/azure/aks";
import { valkeyPoolName } from "../../../components/azure/pools";
import { resolveSettings, type Settings } from "../../../components/config";
import type { KubernetesPlatform } from "../../../components/platform";
import { findNodeSize } from "../../../components/sizing";
import { ValkeyCluster } from "../../../components/valkey/cluster";
import { computeLayout } from "../../../components/valkey/layout";
import { manifestOf, validateManifest } from "../../helpers/manifests";
import {
    FAKE_AKS_KUBECONFIG,
    type RecordedResource,
    stackConfig,
    unwrapSecrets,
    valueOf,
} from "../../helpers/program";

/**
 * The Azure platform under Pulumi mocks, for a dev and a prod stack: the platform is built from resolved settings
 * and a ValkeyCluster is built on it, exactly as index.ts does for `cloud: azure`.
 */

const T = {
    network: "valkey-platform:azure:Network",
    aks: "valkey-platform:azure:Aks",
    rg: "azure-native:resources:ResourceGroup",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    role: "azure-native:authorization:RoleAssignment",
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
    maintenance: "azure-native:containerservice:MaintenanceConfiguration",
    k8sProvider: "pulumi:providers:kubernetes",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    sts: "kubernetes:apps/v1:StatefulSet",
};

const CLIENT = {
    clientId: "c",
    objectId: "deployer-object-id",
    subscriptionId: "sub-0001",
    tenantId: "t",
};

interface Run {
    resources: RecordedResource[];
    platform: KubernetesPlatform;
    settings: Settings;
    ofType(type: string): RecordedResource[];
    one(type: string): RecordedResource;
}

async function runAzure(stack: string, raw: Record<string, unknown>): Promise<Run> {
    const resources: RecordedResource[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const secretPaths: string[] = [];
                const inputs = unwrapSecrets(args.inputs, "", secretPaths) as Record<string, any>;
                const extra: Record<string, unknown> = {};
                if (args.type === "random:index/randomPassword:RandomPassword")
                    extra.result = "mock-password-0123456789abcdef";
                if (args.type === T.identity) extra.principalId = `${args.name}-principal`;
                if (args.type === T.cluster)
                    extra.oidcIssuerProfile = { enabled: true, issuerURL: "https://oidc.mock/" };
                const id = `/subscriptions/sub-0001/mock/${args.name}`;
                const urn = `urn:pulumi:${stack}::valkey-platform::${args.type}::${args.name}`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    inputs,
                    state: { ...args.inputs, ...extra },
                    id,
                    urn,
                    provider: args.provider,
                    secretPaths,
                });
                return {
                    id,
                    state: {
                        ...args.inputs,
                        name: args.inputs.name ?? `${args.name}-az`,
                        ...extra,
                    },
                };
            },
            call(args) {
                if (args.token === "azure-native:authorization:getClientConfig") return CLIENT;
                if (
                    args.token === "azure-native:containerservice:listManagedClusterUserCredentials"
                ) {
                    return {
                        kubeconfigs: [
                            {
                                name: "clusterUser",
                                value: Buffer.from(FAKE_AKS_KUBECONFIG).toString("base64"),
                            },
                        ],
                    };
                }
                return args.inputs;
            },
        },
        "valkey-platform",
        stack,
        true,
    );
    const settings = resolveSettings(raw, stack);
    const platform = createAzurePlatform(settings.name, settings);
    new ValkeyCluster(settings.name, { settings, platform });
    await valueOf(platform.kubeconfig);
    await valueOf(platform.storageClassName);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    return {
        resources,
        platform,
        settings,
        ofType,
        one(type) {
            const found = ofType(type);
            assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
            return found[0];
        },
    };
}

/** Whether a resource was created with `provider` (references read `<urn>::<id>`). */
function usesProvider(r: RecordedResource, provider: RecordedResource): boolean {
    return r.provider?.endsWith(`${T.k8sProvider}::${provider.name}::${provider.id}`) ?? false;
}

function rawOf(stack: string): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(stackConfig(stack))) {
        if (k.startsWith("valkey:")) raw[k.slice("valkey:".length)] = v;
    }
    return raw;
}

const STACKS: [string, Record<string, unknown>][] = [
    ["dev-azure", { cloud: "azure" }],
    ["prod-azure", rawOf("prod-azure")],
];

for (const [stack, raw] of STACKS) {
    describe(`Azure platform, stack ${stack}`, () => {
        let run: Run;
        before(async () => {
            run = await runAzure(stack, raw);
        });

        it("two components with the agreed type tokens, everything Azure inside them", () => {
            assert.equal(run.ofType(T.network).length, 1);
            assert.equal(run.ofType(T.aks).length, 1);
            for (const r of run.resources.filter((x) => x.type.startsWith("azure-native:"))) {
                assert.ok(r.urn.includes(r.name), r.name);
            }
        });

        it("network: resource group, VNet and node subnet from the address plan", () => {
            const groups = run
                .ofType(T.rg)
                .map((g) => g.name)
                .sort();
            assert.deepEqual(groups, ["valkey-disks", "valkey-rg"]);
            const rg = run.ofType(T.rg).find((g) => g.name === "valkey-rg")!;
            assert.equal(rg.inputs.location, run.settings.azure.location);
            assert.deepEqual(run.one(T.vnet).inputs.addressSpace, {
                addressPrefixes: ["10.10.0.0/16"],
            });
            assert.equal(run.one(T.vnet).inputs.subnets, undefined);
            assert.equal(run.one(T.subnet).inputs.addressPrefix, "10.10.0.0/22");
            assert.equal(run.one(T.subnet).inputs.defaultOutboundAccess, false);
        });

        it("cluster: pinned version, managed identity, Azure RBAC without local accounts, OIDC + workload identity", () => {
            const c = run.one(T.cluster).inputs;
            assert.equal(c.kubernetesVersion, "1.33");
            assert.equal(c.identity.type, "UserAssigned");
            assert.deepEqual(c.identity.userAssignedIdentities, [run.one(T.identity).id]);
            assert.deepEqual(c.aadProfile, { managed: true, enableAzureRBAC: true });
            assert.equal(c.disableLocalAccounts, true);
            assert.equal(c.enableRBAC, true);
            assert.deepEqual(c.oidcIssuerProfile, { enabled: true });
            assert.deepEqual(c.securityProfile, { workloadIdentity: { enabled: true } });
            assert.equal(c.sku.tier, run.settings.environment === "prod" ? "Standard" : "Free");
            assert.equal(c.dnsPrefix, `valkey-${stack}`);
        });

        it("network policy is enforced: Azure CNI overlay with the Cilium dataplane and policy engine", () => {
            const n = run.one(T.cluster).inputs.networkProfile;
            assert.equal(n.networkPlugin, "azure");
            assert.equal(n.networkPluginMode, "overlay");
            assert.equal(n.networkDataplane, "cilium");
            assert.equal(n.networkPolicy, "cilium");
            assert.deepEqual(
                [n.podCidr, n.serviceCidr, n.dnsServiceIP],
                ["10.244.0.0/16", "10.0.0.0/16", "10.0.0.10"],
            );
        });

        it("automatic upgrades and a planned maintenance window from the settings", () => {
            const c = run.one(T.cluster).inputs;
            assert.deepEqual(c.autoUpgradeProfile, {
                upgradeChannel: "patch",
                nodeOSUpgradeChannel: "NodeImage",
            });
            const configs = run.ofType(T.maintenance);
            assert.deepEqual(configs.map((m) => m.inputs.configName).sort(), [
                "aksManagedAutoUpgradeSchedule",
                "aksManagedNodeOSUpgradeSchedule",
            ]);
            for (const m of configs) {
                assert.deepEqual(m.inputs.maintenanceWindow, {
                    schedule: { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } },
                    durationHours: 4,
                    startTime: "02:00",
                    utcOffset: "+00:00",
                });
            }
        });

        it("the system pool is inline, spread over the zones, in the node subnet", () => {
            const [system] = run.one(T.cluster).inputs.agentPoolProfiles;
            assert.equal(system.mode, "System");
            assert.deepEqual(system.availabilityZones, ["1", "2", "3"]);
            assert.equal(system.vnetSubnetID, run.one(T.subnet).id);
            assert.equal(system.scaleSetPriority, "Regular");
        });

        it("one Valkey pool per zone, each with exactly that zone, E-series v5, Regular priority, label and taint", () => {
            const pools = run.ofType(T.pool);
            const layout = computeLayout(run.settings);
            assert.equal(pools.length, run.settings.zones.length);
            assert.deepEqual(
                pools.map((p) => p.inputs.availabilityZones),
                run.settings.zones.map((z) => [z]),
            );
            for (const [i, p] of pools.entries()) {
                const pool = p.inputs;
                assert.equal(
                    pool.agentPoolName,
                    valkeyPoolName(run.settings.zones[i], run.settings.azure.vmSize),
                );
                assert.equal(pool.vmSize, run.settings.azure.vmSize);
                assert.match(pool.vmSize, /^Standard_E\d+d?s_v5$/);
                assert.equal(pool.mode, "User");
                assert.equal(pool.scaleSetPriority, "Regular");
                assert.equal(pool.spotMaxPrice, undefined);
                assert.equal(pool.enableAutoScaling, true);
                assert.equal(pool.minCount, layout.zones[i].pods.length);
                assert.equal(pool.maxCount, layout.zones[i].pods.length + 1);
                assert.deepEqual(pool.nodeLabels, { workload: "valkey" });
                assert.deepEqual(pool.nodeTaints, ["workload=valkey:NoSchedule"]);
                assert.equal(pool.osDiskType, "Ephemeral");
                assert.equal(pool.vnetSubnetID, run.one(T.subnet).id);
                assert.equal(pool.resourceName, `${run.one(T.cluster).name}-az`);
            }
        });

        it("role assignments: the control plane on the subnet, the deployer as AKS RBAC cluster admin", () => {
            const roles = run.ofType(T.role);
            const subnet = roles.find((r) => r.inputs.scope === run.one(T.subnet).id);
            assert.ok(subnet);
            assert.equal(subnet.inputs.principalId, `${run.one(T.identity).name}-principal`);
            assert.equal(
                subnet.inputs.roleDefinitionId,
                "/subscriptions/sub-0001/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7",
            );
            const admin = roles.find((r) => r.inputs.scope === run.one(T.cluster).id);
            assert.ok(admin);
            assert.equal(admin.inputs.principalId, CLIENT.objectId);
            assert.match(admin.inputs.roleDefinitionId, /\/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b$/);
        });

        it("the Valkey disks live in a resource group of their own, which the control plane may write", async () => {
            const disks = run.ofType(T.rg).find((g) => g.name === "valkey-disks");
            assert.ok(disks, "a disks resource group");
            assert.equal(disks.inputs.location, run.settings.azure.location);
            const role = run.ofType(T.role).find((r) => r.inputs.scope === disks.id);
            assert.ok(role, "a role assignment on the disks group");
            assert.equal(role.inputs.principalId, `${run.one(T.identity).name}-principal`);
            assert.equal(role.inputs.principalType, "ServicePrincipal");
            assert.match(role.inputs.roleDefinitionId, new RegExp(`/${CONTRIBUTOR_ROLE}$`));
            // The driver puts each disk where the class says, not in the node resource group AKS deletes.
            const sc = run.one(T.storageClass);
            assert.equal(sc.inputs.parameters.resourceGroup, "valkey-disks-az");
            // Prod keeps the group (and its retained disks) when the stack is destroyed.
            assert.deepEqual(diskResourceGroupOptions(run.settings), {
                retainOnDelete: run.settings.environment === "prod",
            });
        });

        it("the Kubernetes provider uses the user credentials through kubelogin, as a secret", async () => {
            const provider = run.one(T.k8sProvider);
            assert.ok(
                provider.secretPaths.includes("kubeconfig"),
                `secret paths: ${provider.secretPaths}`,
            );
            const config = JSON.parse(provider.inputs.kubeconfig);
            assert.equal(
                config.clusters[0].cluster.server,
                "https://valkey-mock.hcp.eastus2.azmk8s.io:443",
            );
            assert.deepEqual(config.users[0].user.exec.args.slice(-2), ["--login", "azurecli"]);
            assert.ok(await (run.platform.kubeconfig as any).isSecret);
        });

        it("the Premium SSD StorageClass, created through that provider, valid against the Kubernetes schema", async () => {
            const sc = run.one(T.storageClass);
            assert.ok(usesProvider(sc, run.one(T.k8sProvider)), sc.provider);
            assert.equal(await validateManifest(manifestOf(sc)), "validated");
            assert.equal(sc.inputs.provisioner, "disk.csi.azure.com");
            assert.equal(sc.inputs.parameters.skuName, "Premium_LRS");
            assert.equal(sc.inputs.volumeBindingMode, "WaitForFirstConsumer");
            assert.equal(sc.inputs.allowVolumeExpansion, true);
            assert.equal(
                sc.inputs.reclaimPolicy,
                run.settings.environment === "prod" ? "Retain" : "Delete",
            );
        });

        it("the platform hand-off: AKS zone labels, class, selector, tolerations, amd64, allocatable memory, pools to wait for", async () => {
            const p = run.platform;
            assert.deepEqual(p.zones, ["eastus2-1", "eastus2-2", "eastus2-3"]);
            assert.equal(await valueOf(p.storageClassName), "valkey-premium");
            assert.deepEqual(p.nodeSelector, { workload: "valkey" });
            assert.deepEqual(p.tolerations, [
                { key: "workload", operator: "Equal", value: "valkey", effect: "NoSchedule" },
            ]);
            assert.equal(p.arch, "amd64");
            assert.equal(
                p.allocatableMemoryBytes,
                findNodeSize(run.settings.azure.vmSize)!.allocatableMemoryBytes,
            );
            assert.ok(p.allocatableMemoryBytes! > run.settings.memoryBytes);
            assert.equal(p.dependsOn?.length, run.settings.zones.length + 1);
        });

        it("the Valkey StatefulSets land on this platform: its class, selector, tolerations, zones and provider", async () => {
            const sets = run.ofType(T.sts);
            assert.equal(sets.length, 3);
            for (const s of sets) {
                assert.equal(await validateManifest(manifestOf(s)), "validated");
                assert.ok(usesProvider(s, run.one(T.k8sProvider)), s.provider);
                const pod = s.inputs.spec.template.spec;
                assert.deepEqual(pod.nodeSelector, {
                    workload: "valkey",
                    "kubernetes.io/arch": "amd64",
                });
                assert.deepEqual(pod.tolerations, [
                    { key: "workload", operator: "Equal", value: "valkey", effect: "NoSchedule" },
                ]);
                const zone =
                    pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
                        .nodeSelectorTerms[0].matchExpressions[0].values[0];
                assert.match(zone, /^eastus2-[123]$/);
                assert.equal(s.inputs.metadata.name, `valkey-${zone}`);
                assert.equal(
                    s.inputs.spec.volumeClaimTemplates[0].spec.storageClassName,
                    "valkey-premium",
                );
            }
        });
    });
}
