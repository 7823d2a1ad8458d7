import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { childName, zoneSuffix } from "../naming";
import { DISCOVERY_TAG } from "./karpenter";
import { planSubnets, ZoneSubnets } from "./subnets";

/** The arguments of `Network`. Validated by config (`valkey:aws.*`) before they get here. */
export interface NetworkArgs {
    /** Availability zones by name (`us-east-1a`), one public and one private subnet each. */
    zones: string[];
    /** The region, for the S3 gateway endpoint. */
    region: string;
    /** The VPC block, split by `planSubnets`. */
    vpcCidr: string;
    /** One NAT gateway per zone (each zone keeps egress when another fails) or one for all (cheaper). */
    natGateways: "perAz" | "single";
    /** The EKS cluster name, for Karpenter's discovery tag on the private subnets. */
    clusterName: string;
    /** Tags of every resource. */
    tags: Record<string, string>;
}

/**
 * The VPC of the AWS platform: public and private subnets in every configured zone, an internet gateway, NAT per
 * zone or a single one, and an S3 gateway endpoint (image layers from ECR come from S3 without paying for NAT).
 * Private subnets carry the tags internal load balancers and Karpenter's subnet discovery look for; public ones
 * the tag internet-facing load balancers look for.
 */
export class Network extends pulumi.ComponentResource {
    /** The VPC. */
    public readonly vpcId: pulumi.Output<string>;
    /** Public subnets, in zone order. */
    public readonly publicSubnetIds: pulumi.Output<string>[];
    /** Private subnets (nodes and pods), in zone order. */
    public readonly privateSubnetIds: pulumi.Output<string>[];
    /** The CIDR plan the subnets follow. */
    public readonly plan: ZoneSubnets[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:aws:Network", name, {}, opts);
        const plan = planSubnets(args.vpcCidr, args.zones);
        const parent = { parent: this };
        const tagged = (
            role: string,
            extra: Record<string, string> = {},
        ): Record<string, string> => ({
            ...args.tags,
            Name: role,
            ...extra,
        });

        const vpcName = childName(name, "vpc");
        const vpc = new aws.ec2.Vpc(
            vpcName,
            {
                cidrBlock: args.vpcCidr,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: tagged(vpcName),
            },
            parent,
        );
        const igwName = childName(name, "igw");
        const igw = new aws.ec2.InternetGateway(
            igwName,
            { vpcId: vpc.id, tags: tagged(igwName) },
            parent,
        );
        const publicRtName = childName(name, "public");
        const publicRouteTable = new aws.ec2.RouteTable(
            publicRtName,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
                tags: tagged(publicRtName),
            },
            parent,
        );

        const publicSubnets = plan.map((p) => {
            const n = childName(name, "public", zoneSuffix(p.zone));
            const subnet = new aws.ec2.Subnet(
                n,
                {
                    vpcId: vpc.id,
                    cidrBlock: p.publicCidr,
                    availabilityZone: p.zone,
                    mapPublicIpOnLaunch: false,
                    tags: tagged(n, { "kubernetes.io/role/elb": "1" }),
                },
                parent,
            );
            new aws.ec2.RouteTableAssociation(
                n,
                { subnetId: subnet.id, routeTableId: publicRouteTable.id },
                parent,
            );
            return subnet;
        });

        // Named by zone in both modes, so that going from single to perAz only adds gateways.
        const natZones = args.natGateways === "perAz" ? plan : plan.slice(0, 1);
        const nats = natZones.map((p, i) => {
            const n = childName(name, "nat", zoneSuffix(p.zone));
            const eip = new aws.ec2.Eip(
                n,
                { domain: "vpc", tags: tagged(n) },
                { ...parent, dependsOn: [igw] },
            );
            return new aws.ec2.NatGateway(
                n,
                { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: tagged(n) },
                parent,
            );
        });

        const privateRouteTables: aws.ec2.RouteTable[] = [];
        const privateSubnets = plan.map((p, i) => {
            const n = childName(name, "private", zoneSuffix(p.zone));
            const subnet = new aws.ec2.Subnet(
                n,
                {
                    vpcId: vpc.id,
                    cidrBlock: p.privateCidr,
                    availabilityZone: p.zone,
                    mapPublicIpOnLaunch: false,
                    tags: tagged(n, {
                        "kubernetes.io/role/internal-elb": "1",
                        [DISCOVERY_TAG]: args.clusterName,
                    }),
                },
                parent,
            );
            const nat = nats[args.natGateways === "perAz" ? i : 0];
            const routeTable = new aws.ec2.RouteTable(
                n,
                {
                    vpcId: vpc.id,
                    routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
                    tags: tagged(n),
                },
                parent,
            );
            privateRouteTables.push(routeTable);
            new aws.ec2.RouteTableAssociation(
                n,
                { subnetId: subnet.id, routeTableId: routeTable.id },
                parent,
            );
            return subnet;
        });

        const s3Name = childName(name, "s3");
        new aws.ec2.VpcEndpoint(
            s3Name,
            {
                vpcId: vpc.id,
                serviceName: `com.amazonaws.${args.region}.s3`,
                vpcEndpointType: "Gateway",
                routeTableIds: privateRouteTables.map((t) => t.id),
                tags: tagged(s3Name),
            },
            parent,
        );

        this.vpcId = vpc.id;
        this.publicSubnetIds = publicSubnets.map((s) => s.id);
        this.privateSubnetIds = privateSubnets.map((s) => s.id);
        this.plan = plan;
        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}
