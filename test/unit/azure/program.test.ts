/**
 * The whole program on the Azure platform under mocks, through index.ts: Pulumi.prod-azure.yaml as it is, and the
 * dev stack switched to `cloud: azure`. The Valkey StatefulSets land on this platform's storage class, node
 * selector, tolerations and zones, through the AKS cluster's provider, and wait for the zonal pools.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { manifestOf, validateManifest } from "../../helpers/manifests";
import { ProgramRun, isSecret, runProgram } from "../../helpers/program";

const STS = "kubernetes:apps/v1:StatefulSet";
const POOL = "azure-native:containerservice:AgentPool";
const TOLERATION = { key: "workload", operator: "Equal", value: "valkey", effect: "NoSchedule" };

const RUNS: [string, Record<string, unknown>][] = [
    ["prod-azure", {}],
    ["dev", { "valkey:cloud": "azure" }],
];

for (const [stack, overrides] of RUNS) {
    describe(`the ${stack} program on Azure`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(stack, overrides);
        });

        it("builds the Azure side: network, AKS, one zonal Valkey pool per zone, the Premium SSD class", () => {
            assert.equal(run.ofType("valkey-platform:azure:Network").length, 1);
            assert.equal(run.ofType("valkey-platform:azure:Aks").length, 1);
            assert.equal(run.ofType("azure-native:containerservice:ManagedCluster").length, 1);
            const pools = run.ofType(POOL);
            assert.deepEqual(
                pools.map((p) => p.inputs.availabilityZones),
                [["1"], ["2"], ["3"]],
            );
            for (const p of pools) {
                assert.equal(p.inputs.scaleSetPriority, "Regular");
                assert.match(p.inputs.vmSize, /^Standard_E\d+d?s_v5$/);
            }
            const sc = run.named(
                "valkey-storageclass",
                "kubernetes:storage.k8s.io/v1:StorageClass",
            );
            assert.equal(sc.inputs.provisioner, "disk.csi.azure.com");
            assert.equal(sc.inputs.reclaimPolicy, stack === "prod-azure" ? "Retain" : "Delete");
        });

        it("puts every Valkey StatefulSet on valkey-premium, the Valkey selector and taint, amd64, its AKS zone", async () => {
            const sets = run.ofType(STS);
            assert.equal(sets.length, 3, "one StatefulSet per zone");
            const zones: string[] = [];
            for (const s of sets) {
                assert.equal(await validateManifest(manifestOf(s)), "validated");
                const pod = s.inputs.spec.template.spec;
                assert.deepEqual(
                    s.inputs.spec.volumeClaimTemplates.map((v: any) => v.spec.storageClassName),
                    ["valkey-premium"],
                );
                assert.deepEqual(pod.nodeSelector, {
                    workload: "valkey",
                    "kubernetes.io/arch": "amd64",
                });
                assert.deepEqual(pod.tolerations, [TOLERATION]);
                assert.match(s.provider ?? "", /pulumi:providers:kubernetes::valkey-k8s::/);
                const [term] =
                    pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
                        .nodeSelectorTerms;
                assert.equal(term.matchExpressions[0].key, "topology.kubernetes.io/zone");
                zones.push(...term.matchExpressions[0].values);
            }
            assert.deepEqual(zones.sort(), ["eastus2-1", "eastus2-2", "eastus2-3"]);
        });

        it("the pool taints and labels match what the pods tolerate and select", () => {
            for (const p of run.ofType(POOL)) {
                assert.deepEqual(p.inputs.nodeTaints, [
                    `${TOLERATION.key}=${TOLERATION.value}:${TOLERATION.effect}`,
                ]);
                assert.deepEqual(p.inputs.nodeLabels, { workload: "valkey" });
            }
        });

        it("every Kubernetes object goes through the AKS provider, whose kubeconfig is a secret", async () => {
            const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.ok(k8s.length > 0);
            for (const r of k8s) {
                assert.match(
                    r.provider ?? "",
                    /pulumi:providers:kubernetes::valkey-k8s::/,
                    `${r.type} ${r.name}`,
                );
            }
            const provider = run.named("valkey-k8s", "pulumi:providers:kubernetes");
            assert.ok(provider.secretPaths.includes("kubeconfig"));
            assert.ok(
                await isSecret(run.outputs.kubeconfig),
                "the kubeconfig stack output is secret",
            );
        });
    });
}
