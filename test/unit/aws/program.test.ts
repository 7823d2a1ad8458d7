/**
 * The whole program on the AWS platform under mocks, with the real Pulumi.dev.yaml / Pulumi.prod.yaml: the
 * Valkey StatefulSets land on this platform's storage class, node selector and tolerations, through the EKS
 * cluster's provider, and wait for Karpenter's NodePool.
 *
 * Skipped while index.ts does not build the AWS platform yet.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProgramRun, runProgram } from "../../helpers/program";
import { awsOutputsFor } from "../../helpers/awsMocks";
import { validateManifest } from "./schemas";

/** Runs a stack, or undefined when this build of index.ts does not offer `cloud: aws` yet. */
async function runAws(stack: string): Promise<ProgramRun | undefined> {
    try {
        return await runProgram(stack, {}, awsOutputsFor);
    } catch (e) {
        if (/valkey\.cloud: "aws" is not available yet/.test(String((e as Error).message)))
            return undefined;
        throw e;
    }
}

for (const stack of ["dev", "prod"]) {
    describe(`the ${stack} program on AWS`, () => {
        it("puts every Valkey StatefulSet on valkey-gp3, the Valkey nodes' selector and taint, arm64", async (t) => {
            const run = await runAws(stack);
            if (!run) {
                t.skip("index.ts does not wire cloud: aws yet");
                return;
            }
            const sets = run.ofType("kubernetes:apps/v1:StatefulSet");
            assert.equal(sets.length, 3, "one StatefulSet per zone");
            for (const s of sets) {
                await validateManifest({ apiVersion: "apps/v1", kind: "StatefulSet", ...s.inputs });
                const pod = s.inputs.spec.template.spec;
                assert.deepEqual(
                    s.inputs.spec.volumeClaimTemplates.map((v: any) => v.spec.storageClassName),
                    ["valkey-gp3"],
                    s.name,
                );
                assert.equal(pod.nodeSelector.workload, "valkey", s.name);
                assert.equal(pod.nodeSelector["kubernetes.io/arch"], "arm64", s.name);
                assert.deepEqual(
                    pod.tolerations,
                    [{ key: "workload", operator: "Equal", value: "valkey", effect: "NoSchedule" }],
                    s.name,
                );
                assert.match(
                    s.provider ?? "",
                    /pulumi:providers:kubernetes::valkey-eks-k8s::/,
                    s.name,
                );
                const zone = JSON.stringify(pod.affinity?.nodeAffinity);
                assert.match(
                    zone,
                    /topology\.kubernetes\.io\/zone/,
                    `${s.name} is not pinned to its zone`,
                );
            }
            const zones = sets
                .map(
                    (s) =>
                        JSON.stringify(s.inputs.spec.template.spec.affinity.nodeAffinity).match(
                            /us-east-1[a-c]/,
                        )?.[0],
                )
                .sort();
            assert.deepEqual(zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        });
        it("creates the AWS side once, and the Valkey pods' memory fits the configured instance size", async (t) => {
            const run = await runAws(stack);
            if (!run) {
                t.skip("index.ts does not wire cloud: aws yet");
                return;
            }
            assert.equal(run.ofType("eks:index:Cluster").length, 1);
            assert.equal(run.ofType("kubernetes:karpenter.sh/v1:NodePool").length, 1);
            assert.equal(run.ofType("kubernetes:storage.k8s.io/v1:StorageClass").length, 1);
            const np = run.ofType("kubernetes:karpenter.sh/v1:NodePool")[0].inputs;
            const size = np.spec.template.spec.requirements.find(
                (r: any) => r.key === "karpenter.k8s.aws/instance-size",
            ).values;
            assert.deepEqual(size, [stack === "prod" ? "xlarge" : "large"]);
        });
    });
}
