/**
 * The AWS platform (`cloud: aws`): a VPC over the configured zones, EKS with Karpenter's Graviton NodePool and
 * the EBS CSI `valkey-gp3` class, handed to the Valkey layer as a `KubernetesPlatform`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import type { KubernetesPlatform } from "../platform";
import { Eks } from "./eks";
import { Network } from "./network";
import { platformTags } from "./tags";

export { Eks } from "./eks";
export { Network } from "./network";

/**
 * Builds the whole AWS side for validated settings and returns the platform the ValkeyCluster is built on.
 * Creates a `valkey-platform:aws:Network` and a `valkey-platform:aws:Eks` component, both named `name`.
 *
 * @param name prefix of every child (the cluster name of the settings, e.g. `valkey`)
 * @param settings resolved settings with `cloud: "aws"`
 * @param opts options of both components (e.g. a parent)
 */
export function createAwsPlatform(
    name: string,
    settings: Settings,
    opts?: pulumi.ComponentResourceOptions,
): KubernetesPlatform {
    const tags = platformTags(settings, pulumi.getStack());
    const network = new Network(
        name,
        {
            zones: settings.zones,
            region: settings.aws.region,
            vpcCidr: settings.aws.vpcCidr,
            natGateways: settings.aws.natGateways,
            clusterName: settings.aws.clusterName,
            tags,
        },
        opts,
    );
    const cluster = new Eks(
        name,
        {
            settings,
            vpcId: network.vpcId,
            publicSubnetIds: network.publicSubnetIds,
            privateSubnetIds: network.privateSubnetIds,
            tags,
        },
        opts,
    );
    return cluster.platform;
}
