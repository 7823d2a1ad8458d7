import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import { childName } from "../naming";
import type { KubernetesPlatform } from "../platform";
import { AWS_NODE_SIZES } from "../sizing";
import {
    ebsCsiManagedPolicyArn,
    ec2TrustPolicy,
    INTERRUPTION_EVENT_PATTERNS,
    interruptionQueuePolicy,
    karpenterControllerPolicies,
    nodeManagedPolicyArns,
    partitionOf,
    podIdentityTrustPolicy,
    roleNames,
} from "./iam";
import {
    DISCOVERY_TAG,
    ec2NodeClassManifest,
    KARPENTER_CHART,
    KARPENTER_CRD_CHART,
    KARPENTER_NAMESPACE,
    KARPENTER_SERVICE_ACCOUNT,
    karpenterHelmValues,
    nodePoolManifest,
    VALKEY_NODE_LABELS,
    VALKEY_TOLERATIONS,
} from "./karpenter";
import { valkeyStorageClassManifest } from "./storage";

/** The service account of the EBS CSI controller, as the EKS add-on creates it. */
export const EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa";

/** The arguments of `Eks`. */
export interface EksArgs {
    /** Validated settings; `aws`, `zones` and the Valkey topology (for the NodePool limits) are read. */
    settings: Settings;
    /** The VPC and its subnets, in zone order. */
    vpcId: pulumi.Input<string>;
    publicSubnetIds: pulumi.Input<string>[];
    privateSubnetIds: pulumi.Input<string>[];
    /** Tags of every AWS resource. */
    tags: Record<string, string>;
}

/**
 * The EKS side of the AWS platform: the cluster (@pulumi/eks, API authentication, pinned version, control-plane
 * logs), a small Graviton managed node group for system pods, the Pod Identity agent, CoreDNS and EBS CSI
 * add-ons, Karpenter (IAM, interruption queue, Helm releases, EC2NodeClass, Valkey NodePool), the `valkey-gp3`
 * StorageClass, and the `KubernetesPlatform` the Valkey layer builds on.
 *
 * The cluster gets an explicit physical name (`valkey:aws.clusterName`) so that the subnets' discovery tags, the
 * IAM roles, the queue and Karpenter's settings can use it as a plain string, before the cluster exists.
 */
export class Eks extends pulumi.ComponentResource {
    /** What the Valkey layer needs from this cluster. */
    public readonly platform: KubernetesPlatform;
    /** The EKS cluster's name. */
    public readonly clusterName: string;
    /** The kubeconfig (secret); it runs `aws eks get-token`, so the AWS CLI must be installed where it is used. */
    public readonly kubeconfig: pulumi.Output<string>;

    constructor(name: string, args: EksArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:aws:Eks", name, {}, opts);
        const { settings, tags } = args;
        const a = settings.aws;
        const prod = settings.environment === "prod";
        const parent = { parent: this };
        const clusterName = a.clusterName;
        const partition = partitionOf(a.region);
        const roles = roleNames(clusterName);
        const size = AWS_NODE_SIZES.find((s) => s.name === a.instanceType);
        if (!size) {
            throw new pulumi.ResourceError(
                `valkey.aws.instanceType: no size data for "${a.instanceType}"`,
                this,
            );
        }

        // The cluster. Its own security groups are skipped: nodes of the managed group and Karpenter's nodes all
        // join the security group EKS creates, which admits all traffic between its members and the control plane.
        const cluster = new eks.Cluster(
            childName(name, "eks"),
            {
                name: clusterName,
                version: a.kubernetesVersion,
                vpcId: args.vpcId,
                publicSubnetIds: args.publicSubnetIds,
                privateSubnetIds: args.privateSubnetIds,
                authenticationMode: eks.AuthenticationMode.Api,
                endpointPrivateAccess: true,
                endpointPublicAccess: !a.privateEndpoint,
                publicAccessCidrs: a.privateEndpoint ? undefined : a.publicAccessCidrs,
                enabledClusterLogTypes: a.controlPlaneLogs,
                skipDefaultNodeGroup: true,
                skipDefaultSecurityGroups: true,
                createOidcProvider: false,
                // Enforce NetworkPolicy (the Valkey layer's default-deny policy) in the VPC CNI.
                vpcCniOptions: { enableNetworkPolicy: true },
                // Created below once nodes exist; a Deployment without nodes would never report healthy.
                corednsAddonOptions: { enabled: false },
                // EXTENDED support costs six times the standard control-plane price; upgrade instead.
                upgradePolicy: { supportType: "STANDARD" },
                deletionProtection: a.deletionProtection,
                tags,
            },
            parent,
        );
        const afterCluster = { parent: this, dependsOn: [cluster] };

        // Karpenter finds the security group of its nodes by the discovery tag.
        const sgTag = new aws.ec2.Tag(
            childName(name, "cluster-sg-discovery"),
            { resourceId: cluster.clusterSecurityGroupId, key: DISCOVERY_TAG, value: clusterName },
            parent,
        );

        // System node group: Karpenter, CoreDNS and the CSI controller run here, never on Karpenter's own nodes.
        const systemRole = this.nodeRole(
            childName(name, "system-node"),
            roles.systemNode,
            partition,
            tags,
        );
        const systemTemplate = new aws.ec2.LaunchTemplate(
            childName(name, "system-nodes"),
            {
                metadataOptions: {
                    httpEndpoint: "enabled",
                    httpTokens: "required",
                    httpPutResponseHopLimit: 2,
                },
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: {
                            volumeSize: 30,
                            volumeType: "gp3",
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
                tags,
            },
            parent,
        );
        const systemNodes = new aws.eks.NodeGroup(
            childName(name, "system-nodes"),
            {
                clusterName,
                nodeGroupName: "system",
                nodeRoleArn: systemRole.role.arn,
                subnetIds: args.privateSubnetIds,
                version: a.kubernetesVersion,
                amiType: "AL2023_ARM_64_STANDARD",
                capacityType: "ON_DEMAND",
                instanceTypes: [a.systemInstanceType],
                scalingConfig: {
                    desiredSize: a.systemNodeCount,
                    minSize: a.systemNodeCount,
                    maxSize: a.systemNodeCount + 1,
                },
                updateConfig: { maxUnavailable: 1 },
                launchTemplate: {
                    id: systemTemplate.id,
                    version: pulumi.output(systemTemplate.latestVersion).apply(String),
                },
                labels: { "valkey-platform/node-role": "system" },
                tags,
            },
            { parent: this, dependsOn: [cluster, ...systemRole.attachments] },
        );
        const afterNodes = { parent: this, dependsOn: [systemNodes] };

        const podIdentityAgent = new aws.eks.Addon(
            childName(name, "pod-identity-agent"),
            {
                clusterName,
                addonName: "eks-pod-identity-agent",
                resolveConflictsOnCreate: "OVERWRITE",
                tags,
            },
            afterNodes,
        );
        const coredns = new aws.eks.Addon(
            childName(name, "coredns"),
            // EKS installed a self-managed CoreDNS with the cluster; the add-on takes it over.
            { clusterName, addonName: "coredns", resolveConflictsOnCreate: "OVERWRITE", tags },
            afterNodes,
        );

        // EBS CSI driver with its own role through Pod Identity.
        const ebsRole = new aws.iam.Role(
            childName(name, "ebs-csi"),
            {
                name: roles.ebsCsi,
                assumeRolePolicy: JSON.stringify(
                    podIdentityTrustPolicy(clusterName, "kube-system", EBS_CSI_SERVICE_ACCOUNT),
                ),
                tags,
            },
            parent,
        );
        const ebsPolicy = new aws.iam.RolePolicyAttachment(
            childName(name, "ebs-csi"),
            { role: ebsRole.name, policyArn: ebsCsiManagedPolicyArn(partition) },
            parent,
        );
        const ebsCsi = new aws.eks.Addon(
            childName(name, "ebs-csi"),
            {
                clusterName,
                addonName: "aws-ebs-csi-driver",
                resolveConflictsOnCreate: "OVERWRITE",
                podIdentityAssociations: [
                    { roleArn: ebsRole.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT },
                ],
                tags,
            },
            { parent: this, dependsOn: [systemNodes, podIdentityAgent, ebsPolicy] },
        );

        // Karpenter's nodes: their role, and the access entry that lets them join the cluster.
        const karpenterNode = this.nodeRole(
            childName(name, "karpenter-node"),
            roles.karpenterNode,
            partition,
            tags,
        );
        const karpenterAccess = new aws.eks.AccessEntry(
            childName(name, "karpenter-node"),
            { clusterName, principalArn: karpenterNode.role.arn, type: "EC2_LINUX", tags },
            afterCluster,
        );

        // Interruption handling: EventBridge rules feed an SQS queue the controller drains.
        const queue = new aws.sqs.Queue(
            childName(name, "karpenter-interruption"),
            { name: clusterName, messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags },
            parent,
        );
        const queuePolicy = new aws.sqs.QueuePolicy(
            childName(name, "karpenter-interruption"),
            {
                queueUrl: queue.url,
                policy: queue.arn.apply((arn) => JSON.stringify(interruptionQueuePolicy(arn))),
            },
            parent,
        );
        const targets = Object.entries(INTERRUPTION_EVENT_PATTERNS).map(([role, pattern]) => {
            const n = childName(name, "karpenter", role);
            const rule = new aws.cloudwatch.EventRule(
                n,
                { eventPattern: JSON.stringify(pattern), tags },
                parent,
            );
            return new aws.cloudwatch.EventTarget(
                n,
                { rule: rule.name, arn: queue.arn, targetId: "KarpenterInterruptionQueueTarget" },
                parent,
            );
        });

        // The controller's role: Pod Identity for kube-system/karpenter, Karpenter's documented permissions.
        const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
        const controllerRole = new aws.iam.Role(
            childName(name, "karpenter-controller"),
            {
                name: roles.karpenterController,
                assumeRolePolicy: JSON.stringify(
                    podIdentityTrustPolicy(
                        clusterName,
                        KARPENTER_NAMESPACE,
                        KARPENTER_SERVICE_ACCOUNT,
                    ),
                ),
                tags,
            },
            parent,
        );
        const documents = pulumi
            .all([queue.arn, karpenterNode.role.arn, accountId])
            .apply(([queueArn, nodeRoleArn, account]) =>
                karpenterControllerPolicies({
                    partition,
                    region: a.region,
                    accountId: account,
                    clusterName,
                    queueArn,
                    nodeRoleArn,
                }),
            );
        const controllerPolicies = [
            "nodeLifecycle",
            "iamIntegration",
            "eksIntegration",
            "interruption",
            "resourceDiscovery",
        ].map(
            (key) =>
                new aws.iam.RolePolicy(
                    childName(name, "karpenter-controller", key),
                    {
                        role: controllerRole.name,
                        name: key,
                        policy: documents.apply((d) => JSON.stringify(d[key])),
                    },
                    parent,
                ),
        );
        const controllerIdentity = new aws.eks.PodIdentityAssociation(
            childName(name, "karpenter-controller"),
            {
                clusterName,
                namespace: KARPENTER_NAMESPACE,
                serviceAccount: KARPENTER_SERVICE_ACCOUNT,
                roleArn: controllerRole.arn,
                tags,
            },
            { parent: this, dependsOn: [cluster, podIdentityAgent] },
        );

        // Everything in the cluster goes through this provider.
        const kubeconfig = pulumi.secret(cluster.kubeconfigJson);
        const provider = new k8s.Provider(childName(name, "eks-k8s"), { kubeconfig }, parent);
        const inCluster = (
            dependsOn: pulumi.Input<pulumi.Resource>[],
        ): pulumi.CustomResourceOptions => ({
            parent: this,
            provider,
            dependsOn,
        });

        // The CRDs come from their own chart so that upgrading the version upgrades them too (Helm never
        // upgrades a chart's crds/ directory).
        const crds = new k8s.helm.v3.Release(
            childName(name, "karpenter-crd"),
            {
                name: "karpenter-crd",
                chart: KARPENTER_CRD_CHART,
                version: a.karpenterVersion,
                namespace: KARPENTER_NAMESPACE,
            },
            inCluster([systemNodes, karpenterAccess]),
        );
        const karpenter = new k8s.helm.v3.Release(
            childName(name, "karpenter"),
            {
                name: "karpenter",
                chart: KARPENTER_CHART,
                version: a.karpenterVersion,
                namespace: KARPENTER_NAMESPACE,
                skipCrds: true,
                values: karpenterHelmValues({ clusterName, queueName: clusterName }),
            },
            inCluster([
                crds,
                coredns,
                controllerIdentity,
                queuePolicy,
                ...targets,
                ...controllerPolicies,
            ]),
        );

        const nodeClassManifest = ec2NodeClassManifest({
            name: settings.name,
            clusterName,
            nodeRoleName: roles.karpenterNode,
            amiVersion: a.amiVersion,
            tags,
        });
        const nodeClass = new k8s.apiextensions.CustomResource(
            childName(name, "nodeclass"),
            nodeClassManifest,
            inCluster([karpenter, karpenterAccess, sgTag, ...karpenterNode.attachments]),
        );
        const nodePool = new k8s.apiextensions.CustomResource(
            childName(name, "nodepool"),
            nodePoolManifest(settings, nodeClassManifest.metadata.name),
            inCluster([nodeClass]),
        );

        const storage = valkeyStorageClassManifest(prod);
        const storageClass = new k8s.storage.v1.StorageClass(
            childName(name, "gp3"),
            {
                metadata: storage.metadata,
                provisioner: storage.provisioner,
                parameters: storage.parameters,
                reclaimPolicy: storage.reclaimPolicy,
                volumeBindingMode: storage.volumeBindingMode,
                allowVolumeExpansion: storage.allowVolumeExpansion,
            },
            inCluster([ebsCsi]),
        );

        this.clusterName = clusterName;
        this.kubeconfig = kubeconfig;
        this.platform = {
            provider,
            zones: [...settings.zones],
            storageClassName: storageClass.metadata.name,
            nodeSelector: { ...VALKEY_NODE_LABELS },
            tolerations: VALKEY_TOLERATIONS.map((t) => ({ ...t })),
            arch: "arm64",
            allocatableMemoryBytes: size.allocatableMemoryBytes,
            kubeconfig,
            dependsOn: [nodePool, nodeClass, ebsCsi, storageClass],
        };
        this.registerOutputs({ clusterName, kubeconfig });
    }

    /** A node role with the managed policies nodes need, and its attachments (which nodes must wait for). */
    private nodeRole(
        resourceName: string,
        roleName: string,
        partition: string,
        tags: Record<string, string>,
    ): { role: aws.iam.Role; attachments: aws.iam.RolePolicyAttachment[] } {
        const role = new aws.iam.Role(
            resourceName,
            { name: roleName, assumeRolePolicy: JSON.stringify(ec2TrustPolicy()), tags },
            { parent: this },
        );
        const attachments = nodeManagedPolicyArns(partition).map(
            (arn) =>
                new aws.iam.RolePolicyAttachment(
                    `${resourceName}-${arn.slice(arn.lastIndexOf("/") + 1)}`,
                    { role: role.name, policyArn: arn },
                    { parent: this },
                ),
        );
        return { role, attachments };
    }
}
