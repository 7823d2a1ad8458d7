import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import { problems } from "../../helpers/settings";


describe("AWS settings defaults", () => {
    it("dev: cluster named after the stack, two system nodes, latest AL2023, API/audit/authenticator logs", () => {
        const a = resolveSettings({}, "dev").aws;
        assert.equal(a.clusterName, "valkey-dev");
        assert.equal(a.systemNodeCount, 2);
        assert.equal(a.amiVersion, "latest");
        assert.deepEqual(a.controlPlaneLogs, ["api", "audit", "authenticator"]);
        assert.deepEqual(a.publicAccessCidrs, ["0.0.0.0/0"]);
        assert.equal(a.karpenterVersion, "1.8.1");
        assert.equal(a.kubernetesVersion, "1.33");
        assert.equal(a.privateEndpoint, false);
        assert.equal(a.natGateways, "single");
        assert.equal(a.deletionProtection, false);
    });
    it("prod: three system nodes (one per zone), private endpoint, NAT per zone", () => {
        const a = resolveSettings({}, "prod").aws;
        assert.equal(a.clusterName, "valkey-prod");
        assert.equal(a.systemNodeCount, 3);
        assert.equal(a.privateEndpoint, true);
        assert.equal(a.natGateways, "perAz");
        assert.equal(a.deletionProtection, true);
        assert.equal(
            resolveSettings({ aws: { deletionProtection: false } }, "prod").aws.deletionProtection,
            false,
        );
    });
    it("the cluster name follows valkey:name and a stack name with odd characters", () => {
        assert.equal(
            resolveSettings({ name: "cache" }, "Team_A.dev").aws.clusterName,
            "cache-team-a-dev",
        );
        assert.equal(
            resolveSettings({ aws: { clusterName: "shared-valkey" } }, "dev").aws.clusterName,
            "shared-valkey",
        );
    });
});

describe("AWS settings refusals (exact messages)", () => {
    it("a VPC CIDR that is not a usable block", () => {
        assert.deepEqual(problems({ aws: { vpcCidr: "10.0.0.0/8" } }), [
            'valkey.aws.vpcCidr: got "10.0.0.0/8"; a VPC block must be between /16 and /24 here (pods take addresses from the private subnets). Use e.g. "10.0.0.0/16".',
        ]);
        assert.deepEqual(problems({ aws: { vpcCidr: "10.0.5.0/16" } }), [
            'valkey.aws.vpcCidr: got "10.0.5.0/16", which has host bits set. Use its network address, "10.0.0.0/16".',
        ]);
    });
    it("a cluster name AWS cannot carry through its role names", () => {
        assert.deepEqual(problems({ aws: { clusterName: "Valkey_Prod" } }), [
            'valkey.aws.clusterName: got "Valkey_Prod"; it names the EKS cluster, its IAM roles and its queue, so use at most 40 characters of a-z, 0-9 and -, e.g. "valkey-prod".',
        ]);
        assert.equal(problems({}, "a-very-long-stack-name-for-a-feature-branch").length, 1);
    });
    it("unpinned or incompatible versions", () => {
        assert.deepEqual(
            problems({
                aws: {
                    kubernetesVersion: "latest",
                    karpenterVersion: "0.37.0",
                    amiVersion: "2025",
                },
            }),
            [
                'valkey.aws.kubernetesVersion: got "latest"; pin an EKS minor version such as "1.33".',
                'valkey.aws.karpenterVersion: got "0.37.0"; pin a Karpenter 1.x chart version (the v1 NodePool and EC2NodeClass APIs) such as "1.8.1".',
                'valkey.aws.amiVersion: got "2025"; use "latest" or an AL2023 EKS AMI release such as "v20250715".',
            ],
        );
        assert.deepEqual(problems({ aws: { karpenterVersion: "1.4.0" } }), [
            'valkey.aws.karpenterVersion: got "1.4.0" with Kubernetes 1.33; Karpenter supports 1.33 from 1.5. Use 1.5.0 or later, e.g. "1.8.1".',
        ]);
        assert.equal(
            resolveSettings(
                { aws: { karpenterVersion: "1.4.0", kubernetesVersion: "1.32" } },
                "dev",
            ).aws.karpenterVersion,
            "1.4.0",
        );
    });
    it("a system instance type that cannot run the arm64 AMI", () => {
        assert.deepEqual(problems({ aws: { systemInstanceType: "m5.large" } }), [
            'valkey.aws.systemInstanceType: got "m5.large"; the system node group runs the AL2023 arm64 AMI and needs a Graviton type such as "m7g.large".',
        ]);
        assert.equal(
            resolveSettings({ aws: { systemInstanceType: "c7gn.xlarge" } }, "dev").aws
                .systemInstanceType,
            "c7gn.xlarge",
        );
    });
    it("fewer than two system nodes", () => {
        assert.deepEqual(problems({ aws: { systemNodeCount: 1 } }), [
            "valkey.aws.systemNodeCount: got 1; it must be at least 2. Karpenter runs two replicas on separate system nodes; use 2 or more (one per zone in prod).",
        ]);
    });
    it("unknown log types and malformed API CIDRs", () => {
        assert.deepEqual(
            problems({
                aws: {
                    controlPlaneLogs: ["api", "kubelet"],
                    publicAccessCidrs: ["203.0.113.0/24", "office"],
                },
            }),
            [
                'valkey.aws.controlPlaneLogs: got ["kubelet"]; use any of "api", "audit", "authenticator", "controllerManager", "scheduler".',
                'valkey.aws.publicAccessCidrs: got ["office"]; list IPv4 CIDR blocks such as "203.0.113.0/24".',
            ],
        );
    });
    it("a volume too small for the class's 6000 IOPS", () => {
        assert.deepEqual(problems({ memory: "2Gi", volumeSize: "8Gi" }), [
            'valkey.volumeSize: got "8Gi"; the valkey-gp3 class provisions 6000 IOPS and gp3 allows at most 500 per GiB, so volumes on AWS need at least 12Gi. Use 12Gi or more.',
        ]);
        // Only one problem per setting: the 2x-maxmemory rule speaks first.
        assert.equal(problems({ volumeSize: "8Gi" }).length, 1);
        // Other clouds are not bound by gp3.
        assert.equal(
            resolveSettings({ cloud: "kubernetes", memory: "2Gi", volumeSize: "8Gi" }, "dev")
                .volumeSize,
            "8Gi",
        );
    });
});
