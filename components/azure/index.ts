/**
 * The Azure platform (`cloud: azure`): network, AKS and the Premium SSD class, handed to the Valkey layer as a
 * `KubernetesPlatform`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import type { KubernetesPlatform } from "../platform";
import { planAddresses } from "./addressPlan";
import { AksCluster } from "./aks";
import { AzureNetwork } from "./network";

export { AksCluster } from "./aks";
export { AzureNetwork } from "./network";

/** Tags of every Azure resource of a stack. */
export function azureTags(settings: Settings, stack: string): Record<string, string> {
    return {
        "valkey-platform": settings.name,
        environment: settings.environment,
        "pulumi-stack": stack,
    };
}

/**
 * Builds the whole Azure side for `settings` (a resource group, VNet and node subnet; an AKS cluster with a
 * system pool and one zonal E-series pool per zone; the Premium SSD StorageClass) and returns the platform the
 * `ValkeyCluster` is built on. `settings` must come from `resolveSettings`/`loadSettings`, which already
 * refused everything this function would otherwise trip over.
 *
 * @param name prefix of every child resource (the cluster name, `settings.name`, by convention)
 */
export function createAzurePlatform(
    name: string,
    settings: Settings,
    opts?: pulumi.ComponentResourceOptions,
): KubernetesPlatform {
    const tags = azureTags(settings, pulumi.getStack());
    const addressPlan = planAddresses(settings.azure.vnetCidr);
    const network = new AzureNetwork(
        name,
        { location: settings.azure.location, addressPlan, tags },
        opts,
    );
    const aks = new AksCluster(
        name,
        {
            settings,
            resourceGroupName: network.resourceGroupName,
            nodeSubnetId: network.nodeSubnetId,
            addressPlan,
            tags,
        },
        opts,
    );
    return aks.platform;
}
