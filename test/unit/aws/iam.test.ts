import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    actionsOf,
    ec2TrustPolicy,
    interruptionQueuePolicy,
    karpenterControllerPolicies,
    KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS,
    PolicyDocument,
    partitionOf,
    podIdentityTrustPolicy,
    resourcesOf,
    roleNames,
    wildcardProblems,
} from "../../../components/aws/iam";

const scope = {
    partition: "aws",
    region: "us-east-1",
    accountId: "123456789012",
    clusterName: "valkey-prod",
    queueArn: "arn:aws:sqs:us-east-1:123456789012:valkey-prod",
    nodeRoleArn: "arn:aws:iam::123456789012:role/valkey-prod-karpenter-node",
};

/** The documents as IAM would receive them: serialised, then parsed back. */
function parsed(): Record<string, PolicyDocument> {
    return JSON.parse(JSON.stringify(karpenterControllerPolicies(scope)));
}

const statements = (docs: Record<string, PolicyDocument>) =>
    Object.values(docs).flatMap((d) => d.Statement);

describe("Karpenter controller policies", () => {
    it("are five valid documents with unique statement ids", () => {
        const docs = parsed();
        assert.deepEqual(Object.keys(docs), [
            "nodeLifecycle",
            "iamIntegration",
            "eksIntegration",
            "interruption",
            "resourceDiscovery",
        ]);
        const sids = statements(docs).map((s) => s.Sid);
        assert.equal(new Set(sids).size, sids.length);
        for (const doc of Object.values(docs)) {
            assert.equal(doc.Version, "2012-10-17");
            for (const s of doc.Statement) {
                assert.equal(s.Effect, "Allow");
                assert.ok(actionsOf(s).length > 0);
                assert.ok(resourcesOf(s).length > 0, `${s.Sid} names no resource`);
            }
        }
    });
    it("grant no wildcard action, and nothing on * beyond Karpenter's documented read-only calls", () => {
        for (const [name, doc] of Object.entries(parsed())) {
            assert.deepEqual(
                wildcardProblems(doc, KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS),
                [],
                name,
            );
        }
        const unscoped = statements(parsed())
            .filter((s) => resourcesOf(s).includes("*"))
            .flatMap(actionsOf)
            .sort();
        assert.deepEqual(unscoped, [...KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS].sort());
        // Every unscoped action is a read: Describe*, Get*, List*.
        for (const action of unscoped) assert.match(action, /^[a-z0-9]+:(Describe|Get|List)/);
    });
    it("scope every write to resources tagged for this cluster", () => {
        const writes = statements(parsed()).filter((s) =>
            actionsOf(s).some((a) =>
                /^ec2:(RunInstances|CreateFleet|CreateLaunchTemplate|CreateTags|TerminateInstances|DeleteLaunchTemplate)$/.test(
                    a,
                ),
            ),
        );
        for (const s of writes) {
            if (s.Sid === "AllowScopedEC2InstanceAccessActions") {
                // Images, snapshots, subnets and security groups are read by RunInstances, not created or changed.
                assert.ok(
                    resourcesOf(s).every((r) =>
                        /:(image|snapshot|security-group|subnet|capacity-reservation)\/\*$/.test(r),
                    ),
                );
                continue;
            }
            const conditions = JSON.stringify(s.Condition);
            assert.match(
                conditions,
                /kubernetes\.io\/cluster\/valkey-prod":"owned"/,
                `${s.Sid} is not scoped to the cluster`,
            );
            assert.match(
                conditions,
                /karpenter\.sh\/nodepool/,
                `${s.Sid} is not scoped to Karpenter's resources`,
            );
        }
        for (const s of statements(parsed())) {
            for (const r of resourcesOf(s)) {
                if (r.startsWith("arn:aws:ec2:"))
                    assert.ok(
                        r.startsWith("arn:aws:ec2:us-east-1:"),
                        `${s.Sid}: ${r} leaves the region`,
                    );
            }
        }
    });
    it("pass only the node role, only to EC2, and read only this queue and this cluster", () => {
        const all = statements(parsed());
        const pass = all.filter((s) => actionsOf(s).includes("iam:PassRole"));
        assert.equal(pass.length, 1);
        assert.equal(pass[0].Resource, scope.nodeRoleArn);
        assert.deepEqual(pass[0].Condition, {
            StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] },
        });
        const sqs = all.filter((s) => actionsOf(s).some((a) => a.startsWith("sqs:")));
        assert.deepEqual(
            sqs.map((s) => s.Resource),
            [scope.queueArn],
        );
        const describe = all.filter((s) => actionsOf(s).includes("eks:DescribeCluster"));
        assert.deepEqual(
            describe.map((s) => s.Resource),
            ["arn:aws:eks:us-east-1:123456789012:cluster/valkey-prod"],
        );
        const profiles = all.filter((s) =>
            actionsOf(s).some(
                (a) => /InstanceProfile$/.test(a) && a !== "iam:ListInstanceProfiles",
            ),
        );
        for (const s of profiles)
            assert.deepEqual(resourcesOf(s), ["arn:aws:iam::123456789012:instance-profile/*"]);
    });
    it("fit in the 10,240 characters IAM allows for a role's inline policies", () => {
        const total = Object.values(karpenterControllerPolicies(scope)).reduce(
            (n, d) => n + JSON.stringify(d).length,
            0,
        );
        assert.ok(total < 10240, `${total} characters`);
    });
    it("follow the partition of the region", () => {
        assert.equal(partitionOf("us-east-1"), "aws");
        assert.equal(partitionOf("cn-north-1"), "aws-cn");
        assert.equal(partitionOf("us-gov-west-1"), "aws-us-gov");
        const cn = karpenterControllerPolicies({
            ...scope,
            partition: "aws-cn",
            region: "cn-north-1",
            queueArn: "arn:aws-cn:sqs:cn-north-1:123456789012:valkey-prod",
            nodeRoleArn: "arn:aws-cn:iam::123456789012:role/valkey-prod-karpenter-node",
        });
        assert.ok(JSON.stringify(cn).includes("arn:aws-cn:ec2:cn-north-1::image/*"));
        assert.ok(!JSON.stringify(cn).includes("arn:aws:"));
    });
});

describe("wildcardProblems", () => {
    it("reports wildcard actions and unscoped writes, by statement", () => {
        const doc: PolicyDocument = {
            Version: "2012-10-17",
            Statement: [
                { Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" },
                {
                    Sid: "AllEc2",
                    Effect: "Allow",
                    Action: "ec2:*",
                    Resource: "arn:aws:ec2:us-east-1:*:instance/*",
                },
                {
                    Sid: "Terminate",
                    Effect: "Allow",
                    Action: ["ec2:TerminateInstances", "ec2:DescribeImages"],
                    Resource: "*",
                },
                { Sid: "Deny", Effect: "Deny", Action: "*", Resource: "*" },
            ],
        };
        assert.deepEqual(wildcardProblems(doc, KARPENTER_DOCUMENTED_UNSCOPED_ACTIONS), [
            "Admin: wildcard action *",
            "AllEc2: wildcard action ec2:*",
            "Terminate: ec2:TerminateInstances on every resource",
        ]);
    });
});

describe("trust and resource policies", () => {
    it("Pod Identity roles trust one service account of one namespace of one cluster", () => {
        const doc = JSON.parse(
            JSON.stringify(podIdentityTrustPolicy("valkey-dev", "kube-system", "karpenter")),
        );
        assert.deepEqual(doc.Statement, [
            {
                Sid: "AllowEksAuthToAssumeRoleForPodIdentity",
                Effect: "Allow",
                Principal: { Service: "pods.eks.amazonaws.com" },
                Action: ["sts:AssumeRole", "sts:TagSession"],
                Condition: {
                    StringEquals: {
                        "aws:RequestTag/eks-cluster-name": "valkey-dev",
                        "aws:RequestTag/kubernetes-namespace": "kube-system",
                        "aws:RequestTag/kubernetes-service-account": "karpenter",
                    },
                },
            },
        ]);
    });
    it("node roles trust EC2 only", () => {
        assert.deepEqual(ec2TrustPolicy().Statement, [
            {
                Effect: "Allow",
                Principal: { Service: "ec2.amazonaws.com" },
                Action: "sts:AssumeRole",
            },
        ]);
    });
    it("the interruption queue accepts EventBridge and SQS, and refuses plain HTTP", () => {
        const doc = JSON.parse(
            JSON.stringify(interruptionQueuePolicy(scope.queueArn)),
        ) as PolicyDocument;
        const allow = doc.Statement.filter((s) => s.Effect === "Allow");
        assert.deepEqual(
            allow.map((s) => [s.Principal, s.Action, s.Resource]),
            [
                [
                    { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
                    "sqs:SendMessage",
                    scope.queueArn,
                ],
            ],
        );
        const deny = doc.Statement.find((s) => s.Effect === "Deny")!;
        assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": false } });
    });
    it("role names stay within IAM's 64 characters for the longest cluster name config allows", () => {
        for (const n of Object.values(roleNames("x".repeat(40)))) assert.ok(n.length <= 64, n);
    });
});
