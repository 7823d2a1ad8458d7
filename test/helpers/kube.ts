/**
 * The local three-zone Kubernetes cluster of scripts/kube (real kubelets, containerd, volumes) for the engine
 * tests: bringing it up and down, and the independent judges they use there (kubectl, and valkey-cli run inside the
 * pods with `kubectl exec`, as an operator would).
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { ROOT, runProcess, type RunResult } from "./engine";

/** The cluster's working folder, kubeconfig and kubectl (scripts/kube keeps everything there). */
export const KUBE_LOCAL = path.join(ROOT, ".kube-local");
export const KUBECONFIG = path.join(KUBE_LOCAL, "kubeconfig");
export const KUBECTL = path.join(KUBE_LOCAL, "bin", "kubectl");

/** Runs one of scripts/kube's scripts (up.sh builds what is missing first: minutes on a cold machine). */
export function kubeScript(script: "up.sh" | "down.sh" | "zone.sh", args: string[] = [], timeoutMs = 45 * 60_000): Promise<RunResult> {
    return runProcess("bash", [path.join(ROOT, "scripts", "kube", script), ...args], { cwd: ROOT, timeoutMs });
}

/** kubectl against the local cluster; returns stdout, throws with stderr on a non-zero exit. */
export function kubectl(...args: string[]): string {
    const r = spawnSync(KUBECTL, args, { encoding: "utf8", env: { ...process.env, KUBECONFIG }, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
}

/** kubectl's JSON of a query. */
export function kubectlJson<T = any>(...args: string[]): T {
    return JSON.parse(kubectl(...args, "-o", "json")) as T;
}

/** valkey-cli inside a pod (the pod's REDISCLI_AUTH carries the password), as an operator runs it. */
export function podCli(namespace: string, pod: string, ...args: string[]): string {
    return kubectl("exec", "-n", namespace, pod, "-c", "valkey", "--", "valkey-cli", ...args).replace(/\r/g, "");
}

/** A pod of the Valkey layer as the tests judge it. */
export interface PodState {
    name: string;
    zone: string;
    node: string;
    ready: boolean;
    ip: string;
}

/** The Valkey pods of a namespace with the zone of the node each runs on. */
export function valkeyPods(namespace: string): PodState[] {
    const nodes = kubectlJson("get", "nodes");
    const zoneOf = new Map<string, string>(
        nodes.items.map((n: any) => [n.metadata.name, n.metadata.labels["topology.kubernetes.io/zone"]]),
    );
    const pods = kubectlJson("get", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=valkey");
    return pods.items.map((p: any) => ({
        name: p.metadata.name,
        node: p.spec.nodeName,
        zone: zoneOf.get(p.spec.nodeName) ?? "",
        ready: (p.status.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"),
        ip: p.status.podIP,
    }));
}
