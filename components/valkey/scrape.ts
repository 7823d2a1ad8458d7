/**
 * How Prometheus sees a cluster: the labels every scraped series carries and the selector that picks one
 * cluster's series. Pure: the ServiceMonitor, the alert rules and the dashboard all build on it (issue 14).
 *
 * The exporter sidecar knows nothing about zones or shards, so the ServiceMonitor adds them at scrape time:
 * `zone` from the pod's `valkey.io/zone` label, `shard` from the pod's name, which the layout maps to one shard
 * for good (pods keep their shard when the cluster grows, and the bootstrap restores the placement after a
 * failover, so a pod that became a replica still serves the same slots).
 */
import { podName } from "../naming";
import type { Layout } from "./layout";

/** One relabeling of a ServiceMonitor endpoint (monitoring.coreos.com/v1 RelabelConfig). */
export interface Relabeling {
    sourceLabels: string[];
    targetLabel: string;
    regex?: string;
    replacement?: string;
    action?: "replace";
}

/** The label Prometheus' Kubernetes discovery gives a pod's `valkey.io/zone` label. */
export const ZONE_META_LABEL = "__meta_kubernetes_pod_label_valkey_io_zone";
/** The label Prometheus' Kubernetes discovery gives a pod's name. */
export const POD_NAME_META_LABEL = "__meta_kubernetes_pod_name";

/**
 * The relabelings of the ServiceMonitor endpoint: `zone` from the pod's zone label, then one rule per shard that
 * sets `shard` to the shard's index when the pod's name is one of the shard's pods.
 */
export function scrapeRelabelings(clusterName: string, layout: Layout): Relabeling[] {
    const rules: Relabeling[] = [
        { sourceLabels: [ZONE_META_LABEL], targetLabel: "zone", action: "replace" },
    ];
    for (const { shard, primary, replicas } of layout.shards) {
        const pods = [primary, ...replicas].map((p) => podName(clusterName, p.zone, p.ordinal));
        rules.push({
            sourceLabels: [POD_NAME_META_LABEL],
            // Prometheus anchors the regex; pod names are DNS labels, so they need no escaping.
            regex: `(${pods.join("|")})`,
            targetLabel: "shard",
            replacement: String(shard),
            action: "replace",
        });
    }
    return rules;
}

/** The job label Prometheus gives a cluster's series: the ServiceMonitor scrapes the `<name>-metrics` Service. */
export function metricsJob(clusterName: string): string {
    return `${clusterName}-metrics`;
}

/** The label matchers that pick one cluster's series: its namespace and its metrics job. */
export function clusterMatchers(clusterName: string, namespace: string): string {
    return `namespace="${namespace}",job="${metricsJob(clusterName)}"`;
}
