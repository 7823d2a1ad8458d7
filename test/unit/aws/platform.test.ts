/**
 * The AWS platform built alone under Pulumi mocks, for the dev and prod defaults: what it creates, how the
 * pieces are wired, and what it hands the Valkey layer.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { resolveSettings, Settings } from "../../../components/config";
import {
    KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS,
    PolicyDocument,
    wildcardProblems,
} from "../../../components/aws/iam";
import { planSubnets } from "../../../components/aws/subnets";
import { AWS_NODE_SIZES } from "../../../components/sizing";
import { ACCOUNT_ID, AwsRun, resolve, runAwsPlatform } from "../../helpers/awsMocks";
import { validateManifest } from "./schemas";

const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];

for (const stack of ["dev", "prod"] as const) {
    describe(`AWS platform under mocks: ${stack}`, () => {
        let settings: Settings;
        let run: AwsRun;
        const prod = stack === "prod";
        const clusterName = `valkey-${stack}`;
        before(async () => {
            settings = resolveSettings({}, stack);
            run = await runAwsPlatform(settings, stack);
        });

        it("registers the two components with their type tokens", () => {
            assert.equal(
                run.named("valkey", "valkey-platform:aws:Network").type,
                "valkey-platform:aws:Network",
            );
            assert.equal(
                run.named("valkey", "valkey-platform:aws:Eks").type,
                "valkey-platform:aws:Eks",
            );
        });

        it("a VPC with one public and one private subnet per zone, as planned", () => {
            assert.equal(
                run.named("valkey-vpc", "aws:ec2/vpc:Vpc").inputs.cidrBlock,
                "10.0.0.0/16",
            );
            const plan = planSubnets("10.0.0.0/16", ZONES);
            const subnets = run.ofType("aws:ec2/subnet:Subnet");
            assert.equal(subnets.length, 6);
            for (const p of plan) {
                const pub = run.named(`valkey-public-${p.zone}`, "aws:ec2/subnet:Subnet").inputs;
                const priv = run.named(`valkey-private-${p.zone}`, "aws:ec2/subnet:Subnet").inputs;
                assert.deepEqual([pub.availabilityZone, pub.cidrBlock], [p.zone, p.publicCidr]);
                assert.deepEqual([priv.availabilityZone, priv.cidrBlock], [p.zone, p.privateCidr]);
                assert.equal(pub.tags["kubernetes.io/role/elb"], "1");
                assert.equal(priv.tags["kubernetes.io/role/internal-elb"], "1");
                assert.equal(priv.tags["karpenter.sh/discovery"], clusterName);
                assert.equal(
                    pub.tags["karpenter.sh/discovery"],
                    undefined,
                    "Karpenter must not put nodes in public subnets",
                );
            }
        });

        it(`${prod ? "a NAT gateway per zone, each zone routing through its own" : "one NAT gateway that every zone routes through"}`, () => {
            const nats = run.ofType("aws:ec2/natGateway:NatGateway");
            assert.equal(nats.length, prod ? 3 : 1);
            for (const zone of ZONES) {
                const table = run.named(
                    `valkey-private-${zone}`,
                    "aws:ec2/routeTable:RouteTable",
                ).inputs;
                const natZone = prod ? zone : ZONES[0];
                assert.deepEqual(table.routes, [
                    { cidrBlock: "0.0.0.0/0", natGatewayId: `valkey-nat-${natZone}-id` },
                ]);
            }
            assert.equal(
                run.named("valkey-s3", "aws:ec2/vpcEndpoint:VpcEndpoint").inputs.serviceName,
                "com.amazonaws.us-east-1.s3",
            );
        });

        it("an EKS cluster: pinned version, API authentication, logs, private endpoint in prod, no extended support", () => {
            const c = run.named("valkey-eks", "eks:index:Cluster").inputs;
            assert.equal(c.name, clusterName);
            assert.equal(c.version, "1.33");
            assert.equal(c.authenticationMode, "API");
            assert.deepEqual(c.enabledClusterLogTypes, ["api", "audit", "authenticator"]);
            assert.equal(c.endpointPrivateAccess, true);
            assert.equal(c.endpointPublicAccess, !prod);
            assert.deepEqual(c.upgradePolicy, { supportType: "STANDARD" });
            assert.equal(c.skipDefaultNodeGroup, true);
            assert.equal(c.vpcCniOptions.enableNetworkPolicy, true);
            assert.equal(c.deletionProtection, prod);
            assert.deepEqual(
                c.privateSubnetIds,
                ZONES.map((z) => `valkey-private-${z}-id`),
            );
            assert.deepEqual(
                c.publicSubnetIds,
                ZONES.map((z) => `valkey-public-${z}-id`),
            );
        });

        it("a small Graviton managed node group across the zones, IMDSv2 and encrypted root volumes", () => {
            const ng = run.named("valkey-system-nodes", "aws:eks/nodeGroup:NodeGroup").inputs;
            assert.equal(ng.clusterName, clusterName);
            assert.equal(ng.amiType, "AL2023_ARM_64_STANDARD");
            assert.equal(ng.capacityType, "ON_DEMAND");
            assert.deepEqual(ng.instanceTypes, ["m7g.large"]);
            assert.deepEqual(ng.scalingConfig, {
                desiredSize: prod ? 3 : 2,
                minSize: prod ? 3 : 2,
                maxSize: prod ? 4 : 3,
            });
            assert.deepEqual(
                ng.subnetIds,
                ZONES.map((z) => `valkey-private-${z}-id`),
            );
            const lt = run.named(
                "valkey-system-nodes",
                "aws:ec2/launchTemplate:LaunchTemplate",
            ).inputs;
            assert.equal(lt.metadataOptions.httpTokens, "required");
            assert.equal(lt.blockDeviceMappings[0].ebs.encrypted, "true");
        });

        it("the EBS CSI add-on with its own role through Pod Identity, after the Pod Identity agent", () => {
            const ebs = run.named("valkey-ebs-csi", "aws:eks/addon:Addon").inputs;
            assert.equal(ebs.addonName, "aws-ebs-csi-driver");
            assert.deepEqual(ebs.podIdentityAssociations, [
                {
                    roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${clusterName}-ebs-csi`,
                    serviceAccount: "ebs-csi-controller-sa",
                },
            ]);
            assert.equal(
                run.named("valkey-ebs-csi", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    .inputs.policyArn,
                "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
            );
            assert.equal(
                run.named("valkey-pod-identity-agent", "aws:eks/addon:Addon").inputs.addonName,
                "eks-pod-identity-agent",
            );
            assert.equal(
                run.named("valkey-coredns", "aws:eks/addon:Addon").inputs.addonName,
                "coredns",
            );
        });

        it("Karpenter: node role with an EC2_LINUX access entry, controller role bound through Pod Identity", () => {
            const entry = run.named(
                "valkey-karpenter-node",
                "aws:eks/accessEntry:AccessEntry",
            ).inputs;
            assert.deepEqual(
                [entry.clusterName, entry.type, entry.principalArn],
                [
                    clusterName,
                    "EC2_LINUX",
                    `arn:aws:iam::${ACCOUNT_ID}:role/${clusterName}-karpenter-node`,
                ],
            );
            const pia = run.named(
                "valkey-karpenter-controller",
                "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            ).inputs;
            assert.deepEqual(
                [pia.namespace, pia.serviceAccount, pia.roleArn],
                [
                    "kube-system",
                    "karpenter",
                    `arn:aws:iam::${ACCOUNT_ID}:role/${clusterName}-karpenter`,
                ],
            );
            assert.equal(
                run.named("valkey-cluster-sg-discovery", "aws:ec2/tag:Tag").inputs.value,
                clusterName,
            );
        });

        it("every IAM document parses, and none grants a wildcard action or an undocumented action on *", () => {
            const docs: [string, PolicyDocument][] = [
                ...run
                    .ofType("aws:iam/role:Role")
                    .map(
                        (r) =>
                            [`${r.name} trust`, JSON.parse(r.inputs.assumeRolePolicy)] as [
                                string,
                                PolicyDocument,
                            ],
                    ),
                ...run
                    .ofType("aws:iam/rolePolicy:RolePolicy")
                    .map((r) => [r.name, JSON.parse(r.inputs.policy)] as [string, PolicyDocument]),
                ...run
                    .ofType("aws:sqs/queuePolicy:QueuePolicy")
                    .map((r) => [r.name, JSON.parse(r.inputs.policy)] as [string, PolicyDocument]),
            ];
            assert.equal(run.ofType("aws:iam/role:Role").length, 4);
            assert.equal(run.ofType("aws:iam/rolePolicy:RolePolicy").length, 5);
            for (const [name, doc] of docs) {
                assert.equal(doc.Version, "2012-10-17", name);
                assert.deepEqual(
                    wildcardProblems(doc, KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS),
                    [],
                    name,
                );
            }
            const text = JSON.stringify(docs);
            assert.ok(!text.includes("undefined"), "a document carries an unresolved value");
            assert.ok(text.includes(`arn:aws:sqs:us-east-1:${ACCOUNT_ID}:${clusterName}`));
        });

        it("the interruption queue and the four EventBridge rules that feed it", () => {
            const q = run.named("valkey-karpenter-interruption", "aws:sqs/queue:Queue").inputs;
            assert.deepEqual(
                [q.name, q.messageRetentionSeconds, q.sqsManagedSseEnabled],
                [clusterName, 300, true],
            );
            const rules = run
                .ofType("aws:cloudwatch/eventRule:EventRule")
                .map((r) => JSON.parse(r.inputs.eventPattern)["detail-type"][0]);
            assert.deepEqual(rules.sort(), [
                "AWS Health Event",
                "EC2 Instance Rebalance Recommendation",
                "EC2 Instance State-change Notification",
                "EC2 Spot Instance Interruption Warning",
            ]);
            for (const t of run.ofType("aws:cloudwatch/eventTarget:EventTarget")) {
                assert.equal(t.inputs.arn, `arn:aws:sqs:us-east-1:${ACCOUNT_ID}:${clusterName}`);
            }
        });

        it("the Karpenter Helm releases: pinned version, cluster name and queue set, CRDs from their own chart", () => {
            const crd = run.named("valkey-karpenter-crd", "kubernetes:helm.sh/v3:Release").inputs;
            const ctl = run.named("valkey-karpenter", "kubernetes:helm.sh/v3:Release").inputs;
            assert.deepEqual(
                [crd.chart, crd.version],
                ["oci://public.ecr.aws/karpenter/karpenter-crd", "1.8.1"],
            );
            assert.deepEqual(
                [ctl.chart, ctl.version, ctl.namespace, ctl.skipCrds],
                ["oci://public.ecr.aws/karpenter/karpenter", "1.8.1", "kube-system", true],
            );
            assert.deepEqual(ctl.values.settings, { clusterName, interruptionQueue: clusterName });
        });

        it("the EC2NodeClass and NodePool as custom resources that validate against Karpenter's schemas", async () => {
            const nc = run.named(
                "valkey-nodeclass",
                "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
            ).inputs;
            const np = run.named("valkey-nodepool", "kubernetes:karpenter.sh/v1:NodePool").inputs;
            await validateManifest(nc as any);
            await validateManifest(np as any);
            assert.equal(nc.spec.role, `${clusterName}-karpenter-node`);
            assert.deepEqual(nc.spec.subnetSelectorTerms, [
                { tags: { "karpenter.sh/discovery": clusterName } },
            ]);
            assert.equal(nc.spec.metadataOptions.httpTokens, "required");
            const req = (key: string) =>
                np.spec.template.spec.requirements.find((r: any) => r.key === key)?.values;
            assert.deepEqual(req("karpenter.sh/capacity-type"), ["on-demand"]);
            assert.deepEqual(req("kubernetes.io/arch"), ["arm64"]);
            assert.deepEqual(req("karpenter.k8s.aws/instance-family"), ["r7g", "r8g"]);
            assert.deepEqual(req("topology.kubernetes.io/zone"), ZONES);
            assert.deepEqual(np.spec.template.spec.taints, [
                { key: "workload", value: "valkey", effect: "NoSchedule" },
            ]);
            assert.deepEqual(np.spec.disruption.budgets, [{ nodes: "1" }]);
            assert.equal(np.spec.disruption.consolidationPolicy, "WhenEmpty");
        });

        it(`the valkey-gp3 StorageClass (reclaim ${prod ? "Retain" : "Delete"}), valid against the Kubernetes schema`, async () => {
            const sc = run.named("valkey-gp3", "kubernetes:storage.k8s.io/v1:StorageClass").inputs;
            await validateManifest({
                apiVersion: "storage.k8s.io/v1",
                kind: "StorageClass",
                ...sc,
            });
            assert.equal(sc.metadata.name, "valkey-gp3");
            assert.equal(sc.provisioner, "ebs.csi.aws.com");
            assert.deepEqual(sc.parameters, {
                type: "gp3",
                iops: "6000",
                throughput: "500",
                encrypted: "true",
                "csi.storage.k8s.io/fstype": "xfs",
            });
            assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
            assert.equal(sc.allowVolumeExpansion, true);
            assert.equal(sc.reclaimPolicy, prod ? "Retain" : "Delete");
        });

        it("every in-cluster object goes through the cluster's own provider", () => {
            const inCluster = run.resources.filter(
                (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"),
            );
            assert.equal(inCluster.length, 5);
            for (const r of inCluster) {
                assert.match(
                    r.provider ?? "",
                    /pulumi:providers:kubernetes::valkey-eks-k8s::/,
                    r.name,
                );
            }
            const provider = run.named("valkey-eks-k8s", "pulumi:providers:kubernetes");
            assert.deepEqual(
                provider.secretPaths,
                ["kubeconfig"],
                "the kubeconfig must reach the state as a secret",
            );
            assert.equal(
                JSON.parse(provider.inputs.kubeconfig).users[0].user.exec.args[5],
                clusterName,
            );
        });

        it("hands the Valkey layer the zones, class, selector, tolerations, arch and allocatable memory", async () => {
            const p = run.platform;
            assert.deepEqual(p.zones, ZONES);
            assert.equal(await resolve(p.storageClassName), "valkey-gp3");
            assert.deepEqual(p.nodeSelector, { workload: "valkey" });
            assert.deepEqual(p.tolerations, [
                { key: "workload", operator: "Equal", value: "valkey", effect: "NoSchedule" },
            ]);
            assert.equal(p.arch, "arm64");
            const size = AWS_NODE_SIZES.find(
                (s) => s.name === (prod ? "r7g.xlarge" : "r7g.large"),
            )!;
            assert.equal(p.allocatableMemoryBytes, size.allocatableMemoryBytes);
            assert.ok(await (p.kubeconfig as any).isSecret, "the kubeconfig must be a secret");
            assert.equal(p.dependsOn?.length, 4);
            const depTypes = await Promise.all(
                (p.dependsOn ?? []).map((d) => resolve((d as any).urn as any)),
            );
            assert.deepEqual(
                depTypes.map((u) => String(u).split("::")[2].split("$").pop()),
                [
                    "kubernetes:karpenter.sh/v1:NodePool",
                    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
                    "aws:eks/addon:Addon",
                    "kubernetes:storage.k8s.io/v1:StorageClass",
                ],
            );
        });
    });
}
