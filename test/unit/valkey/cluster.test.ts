import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import { computeLayout } from "../../../components/valkey/layout";
import { parseBytes } from "../../../components/quantity";
import { manifestOf, validateManifest } from "../../helpers/manifests";
import { ProgramRun, isSecret, runProgram, stackConfig, valueOf } from "../../helpers/program";

/**
 * The Valkey layer of every stack that deploys to Kubernetes, run as the whole program under Pulumi mocks with
 * the stack's own config file.
 */
const STACKS = (process.env.VALKEY_TEST_STACKS ?? "dev,prod,prod-azure,k8s-render").split(",");

const STS = "kubernetes:apps/v1:StatefulSet";

for (const stack of STACKS) {
    describe(`Valkey layer of stack ${stack}`, () => {
        let run: ProgramRun;
        const raw: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(stackConfig(stack))) {
            if (k.startsWith("valkey:")) raw[k.slice("valkey:".length)] = v;
        }
        const settings = resolveSettings(raw, stack);

        before(async () => {
            run = await runProgram(stack);
        });

        it("one StatefulSet per zone, each pinned to its zone by required node affinity", () => {
            const sets = run.ofType(STS);
            const statefulSetZones = sets.map((s) => s.inputs.metadata.labels["valkey.io/zone"]);
            assert.equal(sets.length, settings.zones.length);
            assert.equal(new Set(statefulSetZones).size, sets.length);
            for (const s of sets) {
                const zone = s.inputs.metadata.labels["valkey.io/zone"];
                assert.equal(s.inputs.metadata.name, `${settings.name}-${zone.toLowerCase()}`);
                const terms = s.inputs.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
                assert.deepEqual(terms, [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: [zone] }] }]);
                assert.equal(s.inputs.spec.podManagementPolicy, "Parallel");
                assert.deepEqual(s.inputs.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
            }
        });

        it("pod counts per zone follow the layout", () => {
            const zones = run.ofType(STS).map((s) => s.inputs.metadata.labels["valkey.io/zone"]);
            const layout = computeLayout({ shards: settings.shards, replicasPerShard: settings.replicasPerShard, zones });
            const total = run.ofType(STS).reduce((n, s) => n + s.inputs.spec.replicas, 0);
            assert.equal(total, settings.shards * (settings.replicasPerShard + 1));
            for (const s of run.ofType(STS)) {
                const zone = s.inputs.metadata.labels["valkey.io/zone"];
                assert.equal(s.inputs.spec.replicas, layout.zones.find((z) => z.zone === zone)!.pods.length);
            }
        });

        it("containers: requests == limits, non-root, read-only root fs, probes, preStop, grace period", () => {
            for (const s of run.ofType(STS)) {
                const pod = s.inputs.spec.template.spec;
                assert.equal(pod.securityContext.runAsNonRoot, true);
                for (const c of pod.containers) {
                    assert.deepEqual(c.resources.requests, c.resources.limits, `${c.name} requests == limits`);
                    assert.equal(c.securityContext.runAsNonRoot, true);
                    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
                    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
                }
                const valkey = pod.containers.find((c: any) => c.name === "valkey");
                assert.equal(valkey.image, settings.image);
                assert.equal(valkey.resources.limits.memory, settings.memory);
                assert.deepEqual(valkey.readinessProbe.exec.command, ["sh", "/etc/valkey/readiness.sh"]);
                assert.deepEqual(valkey.livenessProbe.exec.command, ["sh", "/etc/valkey/liveness.sh"]);
                assert.deepEqual(valkey.startupProbe.exec.command, ["sh", "/etc/valkey/liveness.sh"]);
                assert.deepEqual(valkey.lifecycle.preStop.exec.command, ["sh", "/etc/valkey/prestop.sh"]);
                assert.ok(pod.terminationGracePeriodSeconds >= 2 * (settings.nodeTimeoutMs / 1000) + 10, "grace covers the failover wait");
                assert.ok(valkey.args.includes("--cluster-announce-hostname"));
                const zone = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0];
                assert.deepEqual(valkey.args.slice(-2), ["--availability-zone", zone], "Valkey 8 reports the pod's zone");
                assert.equal(pod.containers.some((c: any) => c.name === "exporter"), settings.metrics);
                assert.equal(pod.initContainers.some((c: any) => c.name === "kernel-tuning"), settings.kernelTuning);
                const env = Object.fromEntries(valkey.env.map((e: any) => [e.name, e]));
                assert.deepEqual(env.REDISCLI_AUTH.valueFrom, { secretKeyRef: { name: `${settings.name}-auth`, key: "password" } });
                const claim = s.inputs.spec.volumeClaimTemplates[0];
                assert.equal(claim.spec.resources.requests.storage, settings.volumeSize);
            }
        });

        it("the rendered valkey.conf sets maxmemory to the ratio of the container limit", () => {
            const conf = run.named(`${settings.name}-conf`, "kubernetes:core/v1:ConfigMap").inputs.data["valkey.conf"] as string;
            const maxmemory = Number(/^maxmemory (\d+)$/m.exec(conf)![1]);
            const limit = parseBytes(run.ofType(STS)[0].inputs.spec.template.spec.containers[0].resources.limits.memory)!;
            assert.equal(maxmemory, Math.floor(settings.maxmemoryRatio * limit));
            assert.ok(maxmemory <= 0.8 * limit);
            assert.match(conf, new RegExp(`^cluster-node-timeout ${settings.nodeTimeoutMs}$`, "m"));
            assert.doesNotMatch(conf, /^requirepass/m);
        });

        it("secrets stay secret: password and kubeconfig outputs, no password in plain inputs of the ConfigMap", async () => {
            assert.equal(await isSecret(run.outputs.password), true);
            const pw = await valueOf(run.outputs.password);
            assert.match(pw as string, /^mock-password-/);
            if (run.outputs.kubeconfig !== undefined) {
                assert.equal(await isSecret(run.outputs.kubeconfig), true);
            }
            const conf = run.named(`${settings.name}-conf`, "kubernetes:core/v1:ConfigMap");
            assert.ok(!JSON.stringify(conf.inputs).includes(pw as string));
            const auth = run.named(`${settings.name}-auth`, "kubernetes:core/v1:Secret");
            assert.equal(auth.inputs.stringData["auth.conf"], `requirepass ${pw}\nmasterauth ${pw}\n`);
            assert.deepEqual(auth.secretPaths, ["stringData"], "the auth Secret's data is sent as a secret");
            for (const s of run.ofType("kubernetes:core/v1:Secret")) {
                assert.ok(s.secretPaths.some((p) => p.startsWith("stringData")), `${s.name} stringData is secret`);
            }
        });

        it("a PodDisruptionBudget of one and a NetworkPolicy that opens only what the cluster needs", () => {
            const pdb = run.named(`${settings.name}-pdb`, "kubernetes:policy/v1:PodDisruptionBudget");
            assert.equal(pdb.inputs.spec.maxUnavailable, 1);
            const np = run.named(`${settings.name}-netpol`, "kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec;
            assert.deepEqual(np.policyTypes, ["Ingress", "Egress"]);
            const ports = (rule: any) => rule.ports.map((p: any) => p.port);
            assert.deepEqual(ports(np.ingress[0]), [6379, 16379]);
            assert.deepEqual(np.ingress[0].from, [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "valkey", "app.kubernetes.io/instance": settings.name } } }]);
            assert.deepEqual(
                np.ingress[1].from.map((f: any) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
                settings.allowedNamespaces,
            );
            assert.deepEqual(ports(np.ingress[1]), [6379]);
            assert.equal(np.ingress.some((r: any) => ports(r).includes(9121)), settings.metrics);
        });

        it("a headless Service that publishes pods before they are ready, and a client Service", () => {
            const headless = run.named(`${settings.name}-headless`, "kubernetes:core/v1:Service").inputs.spec;
            assert.equal(headless.clusterIP, "None");
            assert.equal(headless.publishNotReadyAddresses, true);
            const client = run.named(`${settings.name}-client`, "kubernetes:core/v1:Service").inputs.spec;
            assert.deepEqual(client.ports.map((p: any) => p.port), [6379]);
        });

        it("a connection Secret in each allowed namespace", async () => {
            const secrets = run.ofType("kubernetes:core/v1:Secret").filter((s) => s.name.startsWith(`${settings.name}-connection-`));
            assert.deepEqual(secrets.map((s) => s.inputs.metadata.namespace).sort(), [...settings.allowedNamespaces].sort());
            for (const s of secrets) {
                assert.deepEqual(Object.keys(s.inputs.stringData).sort(), ["VALKEY_CLUSTER", "VALKEY_HOST", "VALKEY_PASSWORD", "VALKEY_PORT", "VALKEY_SSL", "VALKEY_USER"]);
                assert.equal(s.inputs.stringData.VALKEY_PASSWORD, await valueOf(run.outputs.password));
            }
            assert.deepEqual(await valueOf(run.outputs.connectionSecrets), settings.allowedNamespaces.map((ns) => `${ns}/${settings.name}-connection`));
        });

        it("the slot bootstrap over the StatefulSets of every zone, with the password as a secret", () => {
            const dynamic = run.ofType("pulumi-nodejs:dynamic:Resource");
            const slots = dynamic.filter((r) => r.name === `${settings.name}-slots`);
            const drain = dynamic.filter((r) => r.name === `${settings.name}-drain`);
            if (settings.cloud === "kubernetes" && settings.kubernetes.renderDirectory !== undefined) {
                assert.equal(slots.length + drain.length, 0, "rendering manifests reaches no cluster, so there is no bootstrap");
                return;
            }
            assert.equal(slots.length, 1);
            assert.equal(drain.length, 1, "a drain instance runs before the StatefulSets change");
            assert.equal(drain[0].inputs.phase, "drain");
            assert.equal(slots[0].inputs.phase, "converge");
            assert.deepEqual({ ...drain[0].inputs, phase: "converge", __provider: undefined }, { ...slots[0].inputs, __provider: undefined });
            const inputs = slots[0].inputs;
            assert.equal(inputs.shards, settings.shards);
            assert.equal(inputs.replicasPerShard, settings.replicasPerShard);
            assert.equal(inputs.nodeTimeoutMs, settings.nodeTimeoutMs);
            assert.deepEqual(
                inputs.kubernetes.statefulSets,
                run.ofType(STS).map((s) => ({ zone: s.inputs.metadata.labels["valkey.io/zone"], name: s.inputs.metadata.name })),
            );
            assert.equal(inputs.kubernetes.namespace, settings.namespace);
            assert.ok(slots[0].secretPaths.includes("password"), "password is sent as a secret");
            assert.ok(slots[0].secretPaths.includes("kubernetes"), "the kubeconfig is sent as a secret");
        });

        it("a ServiceMonitor exactly when enabled", () => {
            const monitors = run.ofType("kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
            assert.equal(monitors.length, settings.serviceMonitor ? 1 : 0);
        });

        it("alert rules and a Grafana dashboard exactly when the ServiceMonitor is on (issue 14)", () => {
            const rules = run.ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule");
            const dashboards = run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1");
            assert.equal(rules.length, settings.serviceMonitor ? 1 : 0);
            assert.equal(dashboards.length, settings.serviceMonitor ? 1 : 0);
        });

        it("every Kubernetes object is valid against the upstream schemas", async () => {
            let validated = 0;
            for (const r of run.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm"))) {
                const manifest = manifestOf(r);
                try {
                    if ((await validateManifest(manifest)) === "validated") validated++;
                } catch (e) {
                    assert.fail(`${r.type} ${r.name}: ${(e as Error).message}`);
                }
            }
            assert.ok(validated >= 10, `validated ${validated} manifests`);
        });
    });
}

describe("Kubernetes day-one defects (found on a real cluster)", () => {
    const DYNAMIC = "pulumi-nodejs:dynamic:Resource";

    it("StatefulSets roll one pod at a time without the feature-gated rollingUpdate.maxUnavailable (no perpetual diff)", async () => {
        const run = await runProgram("dev");
        for (const s of run.ofType(STS)) assert.deepEqual(s.inputs.spec.updateStrategy, { type: "RollingUpdate" });
    });

    it("one Valkey pod per node is required by default; valkey:podAntiAffinity preferred spreads softly", async () => {
        const term = { labelSelector: { matchLabels: { "app.kubernetes.io/name": "valkey", "app.kubernetes.io/instance": "valkey" } }, topologyKey: "kubernetes.io/hostname" };
        for (const s of (await runProgram("dev")).ofType(STS)) {
            assert.deepEqual(s.inputs.spec.template.spec.affinity.podAntiAffinity, { requiredDuringSchedulingIgnoredDuringExecution: [term] });
        }
        for (const s of (await runProgram("dev", { "valkey:podAntiAffinity": "preferred" })).ofType(STS)) {
            assert.deepEqual(s.inputs.spec.template.spec.affinity.podAntiAffinity, {
                preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
            });
        }
    });

    it("each zone's rollout is awaited by a ZoneRollout (the provider's own await skipped), none when rendering", async () => {
        const run = await runProgram("dev");
        const sets = run.ofType(STS);
        for (const s of sets) {
            const zone = s.inputs.metadata.labels["valkey.io/zone"];
            assert.equal(s.inputs.metadata.annotations["pulumi.com/skipAwait"], "true");
            const rollout = run.named(`valkey-rollout-${zone}`, DYNAMIC);
            assert.equal(rollout.inputs.statefulSet, s.inputs.metadata.name);
            assert.equal(rollout.inputs.namespace, "valkey");
            assert.ok(rollout.secretPaths.includes("kubeconfig"), "the kubeconfig is sent as a secret");
            const teardown = run.named(`valkey-teardown-${zone}`, DYNAMIC);
            assert.equal(teardown.inputs.statefulSet, s.inputs.metadata.name);
        }
        const render = await runProgram("k8s-render");
        assert.equal(render.resources.filter((r) => /-(rollout|teardown)-/.test(r.name)).length, 0);
        for (const s of render.ofType(STS)) assert.equal(s.inputs.metadata.annotations?.["pulumi.com/skipAwait"], undefined);
    });

    it("a brought valkey:password (secret) replaces the generated one everywhere", async () => {
        const password = "brought-from-a-vault-0123456789";
        const run = await runProgram("dev", { "valkey:password": password }, undefined, ["valkey:password"]);
        assert.equal(run.ofType("random:index/randomPassword:RandomPassword").length, 0);
        const auth = run.named("valkey-auth", "kubernetes:core/v1:Secret");
        assert.equal(auth.inputs.stringData.password, password);
        assert.deepEqual(auth.secretPaths, ["stringData"]);
        const slots = run.named("valkey-slots", DYNAMIC);
        assert.equal(slots.inputs.password, password);
        assert.ok(slots.secretPaths.includes("password"));
        assert.equal(await valueOf(run.outputs.password), password);
        assert.ok(await isSecret(run.outputs.password), "the password output is secret");
    });

    it("a plain-text valkey:password is refused before anything is created", async () => {
        await assert.rejects(runProgram("dev", { "valkey:password": "brought-from-a-vault-0123456789" }), /valkey\.password: is set in plain text/);
    });
});
