import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { childName } from "../naming";
import type { AddressPlan } from "./addressPlan";

/** Arguments of `AzureNetwork`. */
export interface AzureNetworkArgs {
    /** Region of the resource group and the VNet, e.g. `eastus2` (setting `azure.location`). */
    location: string;
    /** Where everything goes, from `planAddresses(settings.azure.vnetCidr)`. */
    addressPlan: AddressPlan;
    /** Tags for every Azure resource. */
    tags: Record<string, string>;
}

/**
 * The network of the Azure platform: a resource group, a VNet and the node subnet every AKS pool joins.
 *
 * Ready for Azure CNI overlay: only nodes take addresses from the subnet (pods use the overlay range of the
 * address plan), so one /22 serves every pool and the rest of the VNet stays free for private endpoints or peering.
 */
export class AzureNetwork extends pulumi.ComponentResource {
    /** Name of the resource group that holds the network and the cluster. */
    readonly resourceGroupName: pulumi.Output<string>;
    /** Resource ID of the VNet. */
    readonly vnetId: pulumi.Output<string>;
    /** Resource ID of the node subnet. */
    readonly nodeSubnetId: pulumi.Output<string>;
    /** The address plan the network was built from. */
    readonly addressPlan: AddressPlan;

    constructor(name: string, args: AzureNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:azure:Network", name, {}, opts);
        const { location, addressPlan, tags } = args;
        this.addressPlan = addressPlan;

        const group = new resources.ResourceGroup(
            childName(name, "rg"),
            { location, tags },
            { parent: this },
        );
        const vnet = new network.VirtualNetwork(
            childName(name, "vnet"),
            {
                resourceGroupName: group.name,
                location,
                addressSpace: { addressPrefixes: [addressPlan.vnetCidr] },
                // No inline `subnets`: the subnet is its own resource, and an update of the VNet keeps it.
                tags,
            },
            { parent: this },
        );
        const subnet = new network.Subnet(
            childName(name, "nodes"),
            {
                resourceGroupName: group.name,
                virtualNetworkName: vnet.name,
                addressPrefix: addressPlan.nodeSubnetCidr,
                // Egress goes through the cluster's load balancer; no implicit default outbound IPs.
                defaultOutboundAccess: false,
            },
            { parent: this },
        );

        this.resourceGroupName = group.name;
        this.vnetId = vnet.id;
        this.nodeSubnetId = subnet.id;
        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            vnetId: this.vnetId,
            nodeSubnetId: this.nodeSubnetId,
        });
    }
}
