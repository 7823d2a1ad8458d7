/**
 * Mocked outputs for the AWS platform, and a runner that builds it alone under Pulumi mocks.
 *
 * @pulumi/eks's Cluster is a remote (multi-language) component: under mocks it registers as one resource of type
 * `eks:index:Cluster` and its outputs are whatever the mocks return. The platform reads `kubeconfigJson` (for its
 * Kubernetes provider) and `clusterSecurityGroupId` (for Karpenter's discovery tag); everything else it needs
 * (the cluster name) it knows as plain strings. Plain AWS resources get the computed ARNs and ids the platform
 * reads (role and queue ARNs, the queue URL, the launch template version), and `getCallerIdentity` an account.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../../components/config";
import type { KubernetesPlatform } from "../../components/platform";
import { installRecordingMocks, type OutputsFor, type RecordedResource } from "./program";

/** The account of every mocked ARN. */
export const ACCOUNT_ID = "123456789012";

/** A kubeconfig shaped like the one @pulumi/eks generates (exec through `aws eks get-token`). */
export function fakeEksKubeconfig(clusterName: string): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: "kubernetes",
                cluster: {
                    server: "https://MOCK.gr7.us-east-1.eks.amazonaws.com",
                    "certificate-authority-data": "TU9DSy1DQQ==",
                },
            },
        ],
        contexts: [{ name: "aws", context: { cluster: "kubernetes", user: "aws" } }],
        "current-context": "aws",
        users: [
            {
                name: "aws",
                user: {
                    exec: {
                        apiVersion: "client.authentication.k8s.io/v1beta1",
                        command: "aws",
                        args: [
                            "--region",
                            "us-east-1",
                            "eks",
                            "get-token",
                            "--cluster-name",
                            clusterName,
                            "--output",
                            "json",
                        ],
                    },
                },
            },
        ],
    });
}

/**
 * Outputs the mocks cannot compute for the AWS platform's resources and invokes. Pass it as `outputsFor` to
 * `runProgram`, or merge it into the helper's defaults.
 */
export const awsOutputsFor: OutputsFor = (args) => {
    const inputs = args.inputs ?? {};
    const region = "us-east-1";
    switch (args.type) {
        case "eks:index:Cluster":
            return {
                kubeconfigJson: fakeEksKubeconfig(inputs.name),
                clusterSecurityGroupId: "sg-0eks0cluster0mock",
                nodeSecurityGroupId: "sg-0eks0cluster0mock",
                oidcProviderArn: "",
            };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                accountId: ACCOUNT_ID,
                arn: `arn:aws:iam::${ACCOUNT_ID}:user/mock`,
                userId: "AIDAMOCK",
                id: ACCOUNT_ID,
            };
        case "aws:iam/role:Role":
            return { arn: `arn:aws:iam::${ACCOUNT_ID}:role/${inputs.name ?? args.name}` };
        case "aws:sqs/queue:Queue":
            return {
                arn: `arn:aws:sqs:${region}:${ACCOUNT_ID}:${inputs.name}`,
                url: `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${inputs.name}`,
            };
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return { latestVersion: 1 };
        case "aws:cloudwatch/eventRule:EventRule":
            return {
                name: args.name,
                arn: `arn:aws:events:${region}:${ACCOUNT_ID}:rule/${args.name}`,
            };
        default:
            return undefined;
    }
};

/** What one build of the AWS platform registered. */
export interface AwsRun {
    platform: KubernetesPlatform;
    resources: RecordedResource[];
    ofType(type: string): RecordedResource[];
    named(name: string, type?: string): RecordedResource;
}

/** Builds the AWS platform alone (no ValkeyCluster) under mocks for `settings` on stack `stack`. */
export async function runAwsPlatform(settings: Settings, stack: string): Promise<AwsRun> {
    const resources = await installRecordingMocks(stack, false, awsOutputsFor);
    // Imported after setMocks, as the Pulumi runtime expects.
    const { createAwsPlatform } = await import("../../components/aws");
    const platform = createAwsPlatform(settings.name, settings);
    await settle(platform);
    return {
        platform,
        resources,
        ofType: (type) => resources.filter((r) => r.type === type),
        named(name, type) {
            const found = resources.filter(
                (r) => r.name === name && (type === undefined || r.type === type),
            );
            if (found.length !== 1) {
                throw new Error(
                    `expected one ${type ?? "resource"} named ${name}, found ${found.length}`,
                );
            }
            return found[0];
        },
    };
}

/** Resolves an Output (or plain value). */
export function resolve<T>(o: pulumi.Input<T> | undefined): Promise<T | undefined> {
    return new Promise((done) => {
        if (pulumi.Output.isInstance(o)) {
            (o as pulumi.Output<T>).apply((v) => {
                done(v);
                return v;
            });
        } else {
            done(o as T | undefined);
        }
    });
}

async function settle(platform: KubernetesPlatform): Promise<void> {
    await resolve(platform.storageClassName);
    await resolve(platform.kubeconfig);
    for (let i = 0; i < 20; i++) {
        await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 100));
}
