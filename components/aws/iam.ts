/**
 * IAM policy documents of the AWS platform as plain objects: the Karpenter controller's permissions, the trust
 * policies of the node and Pod Identity roles, and the interruption queue's resource policy. Pure: the component
 * serialises them with `JSON.stringify`; tests parse and check them.
 *
 * The Karpenter statements follow the controller policy Karpenter publishes for v1.8 (the getting-started
 * `cloudformation.yaml` and its reference page, split the same way into node lifecycle, IAM integration, EKS
 * integration, interruption and resource discovery), every write scoped to this cluster by its tags.
 */

/** One IAM policy statement. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: "*" | { Service?: string | string[]; AWS?: string | string[] };
    Action: string | string[];
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
    Version: "2012-10-17";
    Id?: string;
    Statement: PolicyStatement[];
}

/** Where the policies apply: the cluster and the account, region and partition it lives in. */
export interface PolicyScope {
    partition: string;
    region: string;
    accountId: string;
    clusterName: string;
}

/** The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`). */
export function partitionOf(region: string): string {
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    return "aws";
}

/** The IAM role names of the platform, from the cluster name (each at most 64 characters). */
export function roleNames(clusterName: string): {
    karpenterController: string;
    karpenterNode: string;
    systemNode: string;
    ebsCsi: string;
} {
    return {
        karpenterController: `${clusterName}-karpenter`,
        karpenterNode: `${clusterName}-karpenter-node`,
        systemNode: `${clusterName}-system-node`,
        ebsCsi: `${clusterName}-ebs-csi`,
    };
}

/** AWS managed policies a node needs to join EKS, run the VPC CNI, pull images and be reached by SSM. */
export function nodeManagedPolicyArns(partition: string): string[] {
    return [
        `arn:${partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy`,
        `arn:${partition}:iam::aws:policy/AmazonEKS_CNI_Policy`,
        `arn:${partition}:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly`,
        `arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    ];
}

/** The AWS managed policy of the EBS CSI controller. */
export function ebsCsiManagedPolicyArn(partition: string): string {
    return `arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`;
}

/** Trust policy of a node role: EC2 instances assume it. */
export function ec2TrustPolicy(): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Service: "ec2.amazonaws.com" },
                Action: "sts:AssumeRole",
            },
        ],
    };
}

/**
 * Trust policy of a role used through EKS Pod Identity, restricted by the session tags Pod Identity sets to one
 * service account in one namespace of one cluster.
 */
export function podIdentityTrustPolicy(
    clusterName: string,
    namespace: string,
    serviceAccount: string,
): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AllowEksAuthToAssumeRoleForPodIdentity",
                Effect: "Allow",
                Principal: { Service: "pods.eks.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Condition: {
                    StringEquals: {
                        "aws:RequestTag/eks-cluster-name": clusterName,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": serviceAccount,
                    },
                },
            },
        ],
    };
}

/** What the Karpenter controller policies need besides the scope. */
export interface KarpenterPolicyInputs extends PolicyScope {
    /** ARN of the SQS interruption queue. */
    queueArn: string;
    /** ARN of the role Karpenter's nodes run with (the only role it may pass). */
    nodeRoleArn: string;
}

/**
 * The Karpenter controller's permissions as five documents (node lifecycle, IAM integration, EKS integration,
 * interruption, resource discovery), each attached to the controller role as an inline policy.
 */
export function karpenterControllerPolicies(
    p: KarpenterPolicyInputs,
): Record<string, PolicyDocument> {
    const ec2 = (type: string, account = "*"): string =>
        `arn:${p.partition}:ec2:${p.region}:${account}:${type}/*`;
    const owned = `kubernetes.io/cluster/${p.clusterName}`;
    const createdResources = [
        ec2("fleet"),
        ec2("instance"),
        ec2("volume"),
        ec2("network-interface"),
        ec2("launch-template"),
        ec2("spot-instances-request"),
    ];
    const instanceProfiles = `arn:${p.partition}:iam::${p.accountId}:instance-profile/*`;
    const doc = (statements: PolicyStatement[]): PolicyDocument => ({
        Version: "2012-10-17",
        Statement: statements,
    });
    return {
        nodeLifecycle: doc([
            {
                Sid: "AllowScopedEC2InstanceAccessActions",
                Effect: "Allow",
                Resource: [
                    `arn:${p.partition}:ec2:${p.region}::image/*`,
                    `arn:${p.partition}:ec2:${p.region}::snapshot/*`,
                    ec2("security-group"),
                    ec2("subnet"),
                    ec2("capacity-reservation"),
                ],
                Action: ["ec2:RunInstances", "ec2:CreateFleet"],
            },
            {
                Sid: "AllowScopedEC2LaunchTemplateAccessActions",
                Effect: "Allow",
                Resource: ec2("launch-template"),
                Action: ["ec2:RunInstances", "ec2:CreateFleet"],
                Condition: {
                    StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                    StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                },
            },
            {
                Sid: "AllowScopedEC2InstanceActionsWithTags",
                Effect: "Allow",
                Resource: createdResources,
                Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
                Condition: {
                    StringEquals: {
                        [`aws:RequestTag/${owned}`]: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": p.clusterName,
                    },
                    StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
                },
            },
            {
                Sid: "AllowScopedResourceCreationTagging",
                Effect: "Allow",
                Resource: createdResources,
                Action: "ec2:CreateTags",
                Condition: {
                    StringEquals: {
                        [`aws:RequestTag/${owned}`]: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": p.clusterName,
                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
                    },
                    StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
                },
            },
            {
                Sid: "AllowScopedResourceTagging",
                Effect: "Allow",
                Resource: ec2("instance"),
                Action: "ec2:CreateTags",
                Condition: {
                    StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                    StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                    StringEqualsIfExists: { "aws:RequestTag/eks:eks-cluster-name": p.clusterName },
                    "ForAllValues:StringEquals": {
                        "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
                    },
                },
            },
            {
                Sid: "AllowScopedDeletion",
                Effect: "Allow",
                Resource: [ec2("instance"), ec2("launch-template")],
                Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
                Condition: {
                    StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                    StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                },
            },
        ]),
        iamIntegration: doc([
            {
                Sid: "AllowPassingInstanceRole",
                Effect: "Allow",
                Resource: p.nodeRoleArn,
                Action: "iam:PassRole",
                Condition: {
                    StringEquals: {
                        "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"],
                    },
                },
            },
            {
                Sid: "AllowScopedInstanceProfileCreationActions",
                Effect: "Allow",
                Resource: instanceProfiles,
                Action: "iam:CreateInstanceProfile",
                Condition: {
                    StringEquals: {
                        [`aws:RequestTag/${owned}`]: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": p.clusterName,
                        "aws:RequestTag/topology.kubernetes.io/region": p.region,
                    },
                    StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
                },
            },
            {
                Sid: "AllowScopedInstanceProfileTagActions",
                Effect: "Allow",
                Resource: instanceProfiles,
                Action: "iam:TagInstanceProfile",
                Condition: {
                    StringEquals: {
                        [`aws:ResourceTag/${owned}`]: "owned",
                        "aws:ResourceTag/topology.kubernetes.io/region": p.region,
                        [`aws:RequestTag/${owned}`]: "owned",
                        "aws:RequestTag/eks:eks-cluster-name": p.clusterName,
                        "aws:RequestTag/topology.kubernetes.io/region": p.region,
                    },
                    StringLike: {
                        "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                        "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
                    },
                },
            },
            {
                Sid: "AllowScopedInstanceProfileActions",
                Effect: "Allow",
                Resource: instanceProfiles,
                Action: [
                    "iam:AddRoleToInstanceProfile",
                    "iam:RemoveRoleFromInstanceProfile",
                    "iam:DeleteInstanceProfile",
                ],
                Condition: {
                    StringEquals: {
                        [`aws:ResourceTag/${owned}`]: "owned",
                        "aws:ResourceTag/topology.kubernetes.io/region": p.region,
                    },
                    StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
                },
            },
            {
                Sid: "AllowInstanceProfileReadActions",
                Effect: "Allow",
                Resource: instanceProfiles,
                Action: "iam:GetInstanceProfile",
            },
            {
                // IAM's List actions take no resource ARN; the instance-profile garbage collector lists them all.
                Sid: "AllowUnscopedInstanceProfileListAction",
                Effect: "Allow",
                Resource: "*",
                Action: "iam:ListInstanceProfiles",
            },
        ]),
        eksIntegration: doc([
            {
                Sid: "AllowAPIServerEndpointDiscovery",
                Effect: "Allow",
                Resource: `arn:${p.partition}:eks:${p.region}:${p.accountId}:cluster/${p.clusterName}`,
                Action: "eks:DescribeCluster",
            },
        ]),
        interruption: doc([
            {
                Sid: "AllowInterruptionQueueActions",
                Effect: "Allow",
                Resource: p.queueArn,
                Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            },
        ]),
        resourceDiscovery: doc([
            {
                // EC2 Describe* calls support no resource-level permissions; the condition keeps them in this region.
                Sid: "AllowRegionalReadActions",
                Effect: "Allow",
                Resource: "*",
                Action: [
                    "ec2:DescribeCapacityReservations",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstances",
                    "ec2:DescribeInstanceTypeOfferings",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory",
                    "ec2:DescribeSubnets",
                ],
                Condition: { StringEquals: { "aws:RequestedRegion": p.region } },
            },
            {
                Sid: "AllowSSMReadActions",
                Effect: "Allow",
                Resource: `arn:${p.partition}:ssm:${p.region}::parameter/aws/service/*`,
                Action: "ssm:GetParameter",
            },
            {
                // The price list API is served from a few regions only and has no resources.
                Sid: "AllowPricingReadActions",
                Effect: "Allow",
                Resource: "*",
                Action: "pricing:GetProducts",
            },
        ]),
    };
}

/**
 * Every action Karpenter's published controller policy allows on `"*"`: read-only calls that AWS cannot scope to
 * a resource. Anything else on `"*"` is a widening beyond what Karpenter documents.
 */
export const KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS: readonly string[] = [
    "ec2:DescribeCapacityReservations",
    "ec2:DescribeImages",
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceTypeOfferings",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSpotPriceHistory",
    "ec2:DescribeSubnets",
    "pricing:GetProducts",
    "iam:ListInstanceProfiles",
];

/** The EventBridge event patterns Karpenter's interruption handling consumes, by rule role. */
export const INTERRUPTION_EVENT_PATTERNS: Readonly<
    Record<string, { source: string[]; "detail-type": string[] }>
> = {
    "scheduled-change": { source: ["aws.health"], "detail-type": ["AWS Health Event"] },
    "spot-interruption": {
        source: ["aws.ec2"],
        "detail-type": ["EC2 Spot Instance Interruption Warning"],
    },
    rebalance: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
    "instance-state-change": {
        source: ["aws.ec2"],
        "detail-type": ["EC2 Instance State-change Notification"],
    },
};

/** The interruption queue's resource policy: EventBridge (and SQS) may send; nothing may use plain HTTP. */
export function interruptionQueuePolicy(queueArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Id: "EC2InterruptionPolicy",
        Statement: [
            {
                Sid: "AllowEventBridgeToSend",
                Effect: "Allow",
                Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
                Action: "sqs:SendMessage",
                Resource: queueArn,
            },
            {
                Sid: "DenyHTTP",
                Effect: "Deny",
                Principal: "*",
                Action: "sqs:*",
                Resource: queueArn,
                Condition: { Bool: { "aws:SecureTransport": false } },
            },
        ],
    };
}

/** The actions of a statement as a list. */
export function actionsOf(s: PolicyStatement): string[] {
    return typeof s.Action === "string" ? [s.Action] : s.Action;
}

/** The resources of a statement as a list (empty for trust policies). */
export function resourcesOf(s: PolicyStatement): string[] {
    return s.Resource === undefined
        ? []
        : typeof s.Resource === "string"
          ? [s.Resource]
          : s.Resource;
}

/**
 * What a document allows too broadly: wildcard actions (`*`, `service:*`, `service:Prefix*`) anywhere in an Allow,
 * and actions on `"*"` outside `allowedUnscoped`. Each entry names the statement and the action.
 */
export function wildcardProblems(
    doc: PolicyDocument,
    allowedUnscoped: readonly string[],
): string[] {
    const problems: string[] = [];
    doc.Statement.forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        const sid = s.Sid ?? `#${i}`;
        for (const action of actionsOf(s)) {
            if (action.includes("*")) {
                problems.push(`${sid}: wildcard action ${action}`);
            } else if (resourcesOf(s).includes("*") && !allowedUnscoped.includes(action)) {
                problems.push(`${sid}: ${action} on every resource`);
            }
        }
    });
    return problems;
}
