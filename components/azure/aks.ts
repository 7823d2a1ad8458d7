import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import { childName } from "../naming";
import type { KubernetesPlatform } from "../platform";
import { AZURE_NODE_SIZES } from "../sizing";
import type { AddressPlan } from "./addressPlan";
import { providerKubeconfig } from "./kubeconfig";
import {
    type AgentPoolSpec,
    aksZoneLabel,
    systemPoolSpec,
    VALKEY_NODE_LABELS,
    VALKEY_TOLERATION,
    valkeyPoolSpecs,
} from "./pools";
import { storageClassManifest } from "./storageClass";

/** Built-in role: Network Contributor (the control plane manages load balancers and IPs in the node subnet). */
export const NETWORK_CONTRIBUTOR_ROLE = "4d97b98b-1d4f-4787-a291-c67834d212e7";
/** Built-in role: Contributor (the disk CSI driver, as the control plane, creates the Valkey disks in their group). */
export const CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c";
/** Built-in role: Azure Kubernetes Service RBAC Cluster Admin (the deployer creates the Kubernetes objects). */
export const AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/** The AKS maintenance configurations that schedule the automatic upgrade channels. */
export const AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule";
export const NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule";

/** Arguments of `AksCluster`. */
export interface AksClusterArgs {
    /** The validated settings; `azure.*`, `zones`, `shards` and `replicasPerShard` decide the pools. */
    settings: Settings;
    /** The resource group of the cluster (from `AzureNetwork`). */
    resourceGroupName: pulumi.Input<string>;
    /** The subnet every pool's nodes join (from `AzureNetwork`). */
    nodeSubnetId: pulumi.Input<string>;
    /** The address plan: overlay pod range, Service range, DNS Service IP. */
    addressPlan: AddressPlan;
    /** Tags for every Azure resource. */
    tags: Record<string, string>;
}

/** `dnsPrefix` of the cluster: `<name>-<stack>`, as a DNS label of at most 54 characters. */
export function aksDnsPrefix(name: string, stack: string): string {
    return `${name}-${stack}`
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .slice(0, 54)
        .replace(/^-+|-+$/g, "");
}

/**
 * Resource options of the disks' resource group: in prod it stays in Azure when the stack is destroyed (its
 * disks were created with reclaim policy Retain), elsewhere it goes with the stack.
 */
export function diskResourceGroupOptions(settings: Settings): { retainOnDelete: boolean } {
    return { retainOnDelete: settings.environment === "prod" };
}

/** The maintenance window of the settings as AKS takes it: weekly, on a day, from a UTC hour. */
export function maintenanceWindow(
    settings: Settings,
): containerservice.MaintenanceConfigurationArgs["maintenanceWindow"] {
    const w = settings.azure.maintenanceWindow;
    return {
        schedule: { weekly: { dayOfWeek: w.day, intervalWeeks: 1 } },
        durationHours: w.durationHours,
        startTime: `${String(w.startHour).padStart(2, "0")}:00`,
        utcOffset: "+00:00",
    };
}

/** An agent pool spec without its name, with the node subnet: the shape both AKS APIs take. */
function poolArgs(spec: AgentPoolSpec, nodeSubnetId: pulumi.Input<string>) {
    const { name: _name, ...rest } = spec;
    return { ...rest, vnetSubnetID: nodeSubnetId };
}

/**
 * An AKS cluster for Valkey: managed identity, Azure RBAC (no local accounts), Azure CNI overlay with Cilium
 * enforcing NetworkPolicy, OIDC issuer and workload identity, automatic upgrades inside a planned maintenance
 * window; a system pool across the zones and one zonal E-series pool per zone for the Valkey pods; the Premium
 * SSD StorageClass; and the Kubernetes provider, which reaches the cluster as the deployer through Azure RBAC.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** The managed cluster. */
    readonly cluster: containerservice.ManagedCluster;
    /** The Valkey user pools, in zone order. */
    readonly valkeyPools: containerservice.AgentPool[];
    /** The provider for the cluster's Kubernetes objects. */
    readonly provider: k8s.Provider;
    /** The Premium SSD StorageClass of the Valkey volumes. */
    readonly storageClass: k8s.storage.v1.StorageClass;
    /** The resource group of the Valkey disks (outside the cluster's node resource group). */
    readonly diskResourceGroupName: pulumi.Output<string>;
    /** The provider's kubeconfig (secret; runs `kubelogin`). */
    readonly kubeconfig: pulumi.Output<string>;
    /** The cluster's OIDC issuer URL, for workload identity federation. */
    readonly oidcIssuerUrl: pulumi.Output<string | undefined>;
    /** What the Valkey layer needs: provider, zones, class, selector, tolerations, arch, allocatable memory. */
    readonly platform: KubernetesPlatform;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:azure:Aks", name, {}, opts);
        const { settings, resourceGroupName, nodeSubnetId, addressPlan, tags } = args;
        const az = settings.azure;
        const prod = settings.environment === "prod";
        const parent = { parent: this };
        const client = authorization.getClientConfigOutput(parent);
        const roleId = (role: string) =>
            pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;

        // A user-assigned control-plane identity exists before the cluster, so its rights on the subnet do too.
        const identity = new managedidentity.UserAssignedIdentity(
            childName(name, "identity"),
            { resourceGroupName, location: az.location, tags },
            parent,
        );
        const subnetRole = new authorization.RoleAssignment(
            childName(name, "subnet-network-contributor"),
            {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: roleId(NETWORK_CONTRIBUTOR_ROLE),
                scope: nodeSubnetId,
            },
            parent,
        );

        const system = systemPoolSpec(settings);
        this.cluster = new containerservice.ManagedCluster(
            childName(name, "aks"),
            {
                resourceGroupName,
                location: az.location,
                dnsPrefix: aksDnsPrefix(settings.name, pulumi.getStack()),
                kubernetesVersion: az.kubernetesVersion,
                // Standard tier: the financially backed API server SLA across zones; Free is enough for dev.
                sku: { name: "Base", tier: prod ? "Standard" : "Free" },
                supportPlan: "KubernetesOfficial",
                identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
                enableRBAC: true,
                aadProfile: { managed: true, enableAzureRBAC: true },
                disableLocalAccounts: true,
                oidcIssuerProfile: { enabled: true },
                securityProfile: { workloadIdentity: { enabled: true } },
                autoUpgradeProfile: {
                    upgradeChannel: az.upgradeChannel,
                    nodeOSUpgradeChannel: "NodeImage",
                },
                networkProfile: {
                    networkPlugin: "azure",
                    networkPluginMode: "overlay",
                    // Cilium enforces NetworkPolicy (the Valkey layer's default-deny policy depends on it).
                    networkDataplane: "cilium",
                    networkPolicy: "cilium",
                    podCidr: addressPlan.podCidr,
                    serviceCidr: addressPlan.serviceCidr,
                    dnsServiceIP: addressPlan.dnsServiceIp,
                    loadBalancerSku: "standard",
                    outboundType: "loadBalancer",
                },
                storageProfile: {
                    diskCSIDriver: { enabled: true },
                    snapshotController: { enabled: true },
                    fileCSIDriver: { enabled: false },
                    blobCSIDriver: { enabled: false },
                },
                // AKS requires the first (system) pool inline; the Valkey pools are AgentPool resources below.
                agentPoolProfiles: [{ name: system.name, ...poolArgs(system, nodeSubnetId) }],
                tags,
            },
            // The autoscaler owns the node count after creation.
            {
                parent: this,
                dependsOn: [subnetRole],
                ignoreChanges: ["agentPoolProfiles[0].count"],
            },
        );
        const clusterName = this.cluster.name;

        this.valkeyPools = valkeyPoolSpecs(settings).map(
            (spec) =>
                new containerservice.AgentPool(
                    childName(name, "pool", spec.availabilityZones[0]),
                    {
                        resourceGroupName,
                        resourceName: clusterName,
                        agentPoolName: spec.name,
                        ...poolArgs(spec, nodeSubnetId),
                        tags,
                    },
                    { parent: this, ignoreChanges: ["count"] },
                ),
        );

        // Upgrades and node image updates only inside the planned window.
        const window = maintenanceWindow(settings);
        const schedules = [
            ...(az.upgradeChannel === "none" ? [] : [AUTO_UPGRADE_SCHEDULE]),
            NODE_OS_UPGRADE_SCHEDULE,
        ];
        for (const configName of schedules) {
            new containerservice.MaintenanceConfiguration(
                childName(
                    name,
                    "maintenance",
                    configName === AUTO_UPGRADE_SCHEDULE ? "upgrade" : "nodeos",
                ),
                {
                    resourceGroupName,
                    resourceName: clusterName,
                    configName,
                    maintenanceWindow: window,
                },
                parent,
            );
        }

        // With Azure RBAC the deployer needs a Kubernetes role on the cluster to create the Valkey objects.
        const admin = new authorization.RoleAssignment(
            childName(name, "rbac-admin"),
            {
                principalId: client.objectId,
                roleDefinitionId: roleId(AKS_RBAC_CLUSTER_ADMIN_ROLE),
                scope: this.cluster.id,
            },
            parent,
        );

        const credentials = containerservice.listManagedClusterUserCredentialsOutput(
            { resourceGroupName, resourceName: clusterName, format: "exec" },
            parent,
        );
        this.kubeconfig = pulumi.secret(
            credentials.kubeconfigs.apply((configs) => {
                const value = configs?.[0]?.value;
                if (!value) {
                    throw new pulumi.ResourceError(
                        "AKS returned no user credentials for the cluster; the Kubernetes provider cannot connect.",
                        this,
                    );
                }
                return providerKubeconfig(
                    value,
                    az.kubeloginMode,
                    aksDnsPrefix(settings.name, pulumi.getStack()),
                );
            }),
        );
        this.provider = new k8s.Provider(
            childName(name, "k8s"),
            { kubeconfig: this.kubeconfig },
            { parent: this, dependsOn: [admin] },
        );

        // The Valkey disks get a resource group of their own. By default the CSI driver puts them in the node
        // resource group (MC_...), which AKS deletes with the cluster: replacing the cluster would take the data
        // with it. Prod keeps the group (and the disks its Retain policy left) on `pulumi destroy` too.
        const disks = new resources.ResourceGroup(
            childName(name, "disks"),
            { location: az.location, tags },
            { parent: this, ...diskResourceGroupOptions(settings) },
        );
        this.diskResourceGroupName = disks.name;
        const diskRole = new authorization.RoleAssignment(
            childName(name, "disks-contributor"),
            {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: roleId(CONTRIBUTOR_ROLE),
                scope: disks.id,
            },
            parent,
        );
        const manifest = storageClassManifest(settings);
        this.storageClass = new k8s.storage.v1.StorageClass(
            childName(name, "storageclass"),
            { ...manifest, parameters: { ...manifest.parameters, resourceGroup: disks.name } },
            {
                parent: this,
                provider: this.provider,
                dependsOn: [diskRole],
            },
        );

        this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL);
        const size = AZURE_NODE_SIZES.find((s) => s.name === az.vmSize);
        this.platform = {
            provider: this.provider,
            zones: settings.zones.map((z) => aksZoneLabel(az.location, z)),
            storageClassName: this.storageClass.metadata.name,
            nodeSelector: { ...VALKEY_NODE_LABELS },
            tolerations: [{ ...VALKEY_TOLERATION }],
            arch: "amd64",
            allocatableMemoryBytes: size?.allocatableMemoryBytes,
            kubeconfig: this.kubeconfig,
            dependsOn: [...this.valkeyPools, admin],
        };
        this.registerOutputs({
            clusterName,
            kubeconfig: this.kubeconfig,
            oidcIssuerUrl: this.oidcIssuerUrl,
            storageClassName: this.storageClass.metadata.name,
            diskResourceGroupName: this.diskResourceGroupName,
        });
    }
}
