/**
 * The `local-k8s` stack under the real Pulumi engine and the Kubernetes provider plugin, on the three-zone
 * cluster that scripts/kube runs on this machine (three kubelets with their own containerd, local volumes, cluster
 * DNS): up, a no-change preview, the policy pack, 3 -> 5 -> 3 shards under a cluster-aware writer that reaches the
 * pods from outside through the gateway of the slot bootstrap's own transport, a pod's data across its deletion,
 * destroy keeping the volumes and a later up finding the data again, destroy.
 *
 * The cluster is judged from inside, as an operator would: `valkey-cli --cluster check` and INFO replication run in
 * the pods with `kubectl exec`, pods' nodes and zones from the Kubernetes API. The test brings the cluster up
 * (`scripts/kube/up.sh`, which builds what is missing) and down (`scripts/kube/down.sh`). Without the engine it
 * fails and names the install command; VALKEY_SKIP_ENGINE_TESTS=1 skips it, VALKEY_SKIP_KUBE_TESTS=1 too.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { after, before, describe } from "node:test";
import { clusterGateway, type ClusterGateway } from "../../components/valkey/bootstrap/transport";
import { ClusterWriter, EngineProject, describeRun, engineGate, sequentialSteps, type RunResult } from "../helpers/engine";
import { KUBECONFIG, kubeScript, kubectl, kubectlJson, podCli, valkeyPods } from "../helpers/kube";

const gate = engineGate();
const skip = gate.skip || (process.env.VALKEY_SKIP_KUBE_TESTS === "1" ? "VALKEY_SKIP_KUBE_TESTS=1" : false);
const NS = "valkey";
const ZONES = ["zone-a", "zone-b", "zone-c"];
const STATEFUL_SETS = ZONES.map((zone) => ({ zone, name: `valkey-${zone}` }));
const PASSWORD = randomBytes(18).toString("base64url");

/** Wall times of the steps, printed at the end. */
const timings: Record<string, string> = {};

/**
 * Asserts the Valkey layer in the namespace is healthy with `shards` primaries and one replica each: every pod
 * Ready on a node of its StatefulSet's zone, `valkey-cli --cluster check` clean, every replica linked to a primary
 * in another zone.
 */
/**
 * Waits (30 s at most: six readiness periods) until every Valkey pod is Ready. An up that creates the
 * StatefulSets returns once the slot bootstrap has formed the cluster; each pod reports Ready at its next
 * readiness probe (every 5 s), which can come after the up returned.
 */
function waitReady(): void {
    kubectl("wait", "-n", NS, "--for=condition=Ready", "pod", "-l", "app.kubernetes.io/name=valkey", "--timeout=30s");
}

function assertHealthy(shards: number): void {
    const pods = valkeyPods(NS);
    assert.equal(pods.length, shards * 2, JSON.stringify(pods));
    for (const p of pods) {
        assert.ok(p.ready, `${p.name} is not Ready`);
        assert.ok(p.name.startsWith(`valkey-${p.zone}-`), `${p.name} runs on ${p.node} in ${p.zone}`);
    }
    const check = podCli(NS, pods[0].name, "--cluster", "check", "127.0.0.1:6379");
    assert.match(check, /\[OK\] All 16384 slots covered\./, check);
    assert.doesNotMatch(check, /\[(ERR|WARNING)\]/, check);
    assert.equal((check.match(/^M: /gm) ?? []).length, shards, check);
    assert.equal((check.match(/^S: /gm) ?? []).length, shards, check);

    const zoneOfIp = new Map(pods.map((p) => [p.ip, p.zone]));
    const lines = podCli(NS, pods[0].name, "cluster", "nodes").trim().split("\n");
    const byId = new Map(lines.map((l) => [l.split(" ")[0], l.split(" ")]));
    for (const [, f] of byId) {
        if (!f[2].includes("slave")) continue;
        const zone = zoneOfIp.get(f[1].split(":")[0]);
        const primaryZone = zoneOfIp.get(byId.get(f[3])![1].split(":")[0]);
        assert.ok(zone && primaryZone && zone !== primaryZone, `replica ${f[1]} (${zone}) follows a primary in ${primaryZone}`);
    }
    for (const p of pods) {
        const info = podCli(NS, p.name, "info", "replication");
        if (/^role:slave$/m.test(info)) assert.match(info, /^master_link_status:up$/m, `${p.name}: ${info}`);
    }
}

describe("engine: the local-k8s stack on a real three-zone Kubernetes cluster", { skip, timeout: 75 * 60_000 }, () => {
    let project: EngineProject | undefined;
    const step = sequentialSteps();
    const up = async (what: string): Promise<RunResult> => {
        const r = await project!.pulumi(["up", "-s", project!.stack, "--yes", "--skip-preview"], { timeoutMs: 20 * 60_000 });
        timings[what] = `${(r.ms / 1000).toFixed(1)} s`;
        assert.equal(r.code, 0, describeRun(`pulumi up (${what})`, r));
        return r;
    };

    before(async () => {
        assert.equal(gate.problem, undefined, gate.problem);
        const cluster = await kubeScript("up.sh");
        timings["scripts/kube/up.sh"] = `${(cluster.ms / 1000).toFixed(1)} s`;
        assert.equal(cluster.code, 0, describeRun("scripts/kube/up.sh", cluster));
        project = await EngineProject.create({ label: "k8s", stack: "local-k8s" });
        await project.configSet("kubernetes.kubeconfig", KUBECONFIG, { path: true });
        // A password brought as a secret: the random provider cannot be built here (see scripts/toolchain/README.md).
        await project.configSet("password", PASSWORD, { secret: true });
    });

    after(async () => {
        const notes = project ? await project.cleanup() : [];
        // Destroy keeps the namespace and its volumes by design; the test's own go with the cluster.
        try {
            kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=120s");
        } catch (e) {
            notes.push(`cleanup: ${(e as Error).message}`);
        }
        const down = await kubeScript("down.sh", [], 5 * 60_000);
        timings["scripts/kube/down.sh"] = `${(down.ms / 1000).toFixed(1)} s`;
        console.log(`engine-k8s timings: ${JSON.stringify(timings)}`);
        assert.deepEqual(notes, []);
        assert.equal(down.code, 0, describeRun("scripts/kube/down.sh", down));
    });

    step("pulumi up creates the Valkey layer and the slot bootstrap forms it through the Kubernetes API", async () => {
        const r = await up("first up (3 x 1)");
        assert.doesNotMatch(r.out, /FailedPreStopHook/);
        waitReady();
        assertHealthy(3);
        const kinds = (kind: string) => kubectlJson("get", kind, "-n", NS).items.map((i: any) => i.metadata.name).sort();
        assert.deepEqual(kinds("statefulsets"), STATEFUL_SETS.map((s) => s.name));
        assert.deepEqual(kinds("poddisruptionbudgets"), ["valkey-pdb"]);
        assert.deepEqual(kinds("networkpolicies"), ["valkey-netpol"]);
        assert.deepEqual(kinds("configmaps").filter((n: string) => n.startsWith("valkey")), ["valkey-conf"]);
        assert.ok(kinds("secrets").includes("valkey-auth"));
        const conn = kubectlJson("get", "secret", "valkey-connection", "-n", "default");
        assert.deepEqual(Object.keys(conn.data).sort(), ["VALKEY_CLUSTER", "VALKEY_HOST", "VALKEY_PASSWORD", "VALKEY_PORT", "VALKEY_SSL", "VALKEY_USER"]);
        assert.equal(Buffer.from(conn.data.VALKEY_PASSWORD, "base64").toString(), PASSWORD);
        for (const pvc of kubectlJson("get", "pvc", "-n", NS).items) assert.equal(pvc.status.phase, "Bound", pvc.metadata.name);
        // Valkey 8 reports each pod's zone to zone-aware clients.
        for (const p of valkeyPods(NS)) assert.match(podCli(NS, p.name, "info", "server"), new RegExp(`^availability_zone:${p.zone}$`, "m"));
    });

    step("a second preview proposes no changes (no feature-gated field comes back)", async () => {
        const r = await project!.pulumi(["preview", "-s", project!.stack, "--expect-no-changes"], { timeoutMs: 5 * 60_000 });
        timings["preview --expect-no-changes"] = `${(r.ms / 1000).toFixed(1)} s`;
        assert.equal(r.code, 0, describeRun("pulumi preview --expect-no-changes", r));
    });

    step("the policy pack passes the stack's preview", async () => {
        const r = await project!.pulumi(
            [
                "preview",
                "-s",
                project!.stack,
                "--policy-pack",
                path.join(project!.dir, "policy", "analyzer.sh"),
                "--policy-pack-config",
                path.join(project!.dir, "policy", "config.dev.json"),
            ],
            { timeoutMs: 5 * 60_000 },
        );
        timings["preview --policy-pack"] = `${(r.ms / 1000).toFixed(1)} s`;
        assert.equal(r.code, 0, describeRun("pulumi preview --policy-pack", r));
    });

    step("3 -> 5 -> 3 shards by pulumi up under a writer outside the cluster: no key lost, no error but MOVED/ASK", async () => {
        const gateway: ClusterGateway = await clusterGateway({ kubeconfig: KUBECONFIG, namespace: NS, statefulSets: STATEFUL_SETS }, 6);
        const writer = new ClusterWriter(
            gateway.seeds.map((s) => `${s.host}:${s.port}`),
            { natMap: gateway.natMap, password: PASSWORD, keys: 5000, concurrency: 8, opsPerSecond: 500 },
        );
        try {
            writer.start();
            await writer.firstRoundDone();
            await project!.configSet("shards", "5");
            await up("3 -> 5 shards");
            assertHealthy(5);
            await project!.configSet("shards", "3");
            await up("5 -> 3 shards (drain first)");
            assertHealthy(3);
            await writer.stop();
            const v = await writer.verify();
            assert.deepEqual(
                { errors: writer.errors.slice(0, 5), missing: v.missing, wrong: v.wrong, readErrors: v.readErrors },
                { errors: [], missing: [], wrong: [], readErrors: [] },
            );
            assert.equal(v.checked, 5000);
            const other = Object.keys(writer.redirects).filter((k) => k !== "MOVED" && k !== "ASK");
            assert.deepEqual(other, [], `errors beyond MOVED/ASK: ${JSON.stringify(writer.redirects)}`);
            timings["writer"] = `${writer.writes} writes, redirects ${JSON.stringify(writer.redirects)}`;
        } finally {
            await writer.stop();
            writer.close();
            await gateway.close();
        }
    });

    step("a pod's data survives its deletion", async () => {
        const pod = valkeyPods(NS).find((p) => /^role:slave$/m.test(podCli(NS, p.name, "info", "replication")))!;
        const primary = valkeyPods(NS).find((p) => /^role:master$/m.test(podCli(NS, p.name, "info", "replication")))!;
        const keysBefore = Number(podCli(NS, pod.name, "dbsize").trim());
        kubectl("delete", "pod", "-n", NS, pod.name, "--wait=true");
        kubectl("wait", "-n", NS, "--for=condition=Ready", `pod/${pod.name}`, "--timeout=180s");
        assert.ok(Number(podCli(NS, pod.name, "dbsize").trim()) >= keysBefore);
        assert.ok(primary);
        assertHealthy(3);
    });

    step("destroy keeps the volumes (and their namespace); a later up finds the data again", async () => {
        const marker = `marker-${Date.now()}`;
        const pods = valkeyPods(NS);
        const seed = pods.find((p) => /^role:master$/m.test(podCli(NS, p.name, "info", "replication")))!;
        podCli(NS, seed.name, "-c", "set", marker, "kept");
        // Persisted (AOF every second) before the pods stop.
        await new Promise((r) => setTimeout(r, 1500));
        const claimsBefore = kubectlJson("get", "pvc", "-n", NS).items.map((i: any) => i.metadata.name).sort();
        const destroy = await project!.pulumi(["destroy", "-s", project!.stack, "--yes", "--skip-preview"], { timeoutMs: 10 * 60_000 });
        timings["destroy"] = `${(destroy.ms / 1000).toFixed(1)} s`;
        assert.equal(destroy.code, 0, describeRun("pulumi destroy", destroy));
        assert.doesNotMatch(destroy.out, /FailedPreStopHook/);
        // Destroy returns once the pods are gone (a later up must not meet terminating StatefulSets).
        assert.deepEqual(kubectlJson("get", "statefulsets", "-n", NS).items, []);
        assert.deepEqual(valkeyPods(NS), []);
        const claimsAfter = kubectlJson("get", "pvc", "-n", NS).items.map((i: any) => i.metadata.name).sort();
        assert.deepEqual(claimsAfter, claimsBefore, "every volume claim is kept");

        await up("up again over the kept volumes");
        waitReady();
        assertHealthy(3);
        const any = valkeyPods(NS)[0];
        assert.equal(podCli(NS, any.name, "-c", "get", marker).trim(), "kept");
    });
});
