/**
 * The alert rules of a cluster (issue 14): the `spec.groups` of the PrometheusRule that ValkeyCluster creates with
 * the ServiceMonitor. Pure: settings in, rule groups out, so the rules are unit-tested by Prometheus' own
 * `promtool` (check rules, test rules) without a cluster.
 *
 * Every metric named here exists in the pinned exporter (oliver006/redis_exporter v1.67.0); the tests check each
 * name against a fixture taken from the exporter's source. Every series carries the `shard` and `zone` labels
 * the ServiceMonitor adds (./scrape.ts), so each alert names the pod, its zone and its shard.
 */
import type { AlertSettings, Persistence, Settings } from "../config";
import { clusterMatchers, metricsJob } from "./scrape";

/** One Prometheus alerting rule, as the Prometheus operator's PrometheusRule takes it. */
export interface AlertRule {
    alert: string;
    expr: string;
    /** How long the condition must hold before the alert fires; absent: it fires at once. */
    for?: string;
    labels: Record<string, string>;
    /** `summary` names what is wrong and where; `description` says what to do. Templates use only `$labels`. */
    annotations: { summary: string; description: string };
}

/** One rule group of a PrometheusRule. */
export interface AlertRuleGroup {
    name: string;
    rules: AlertRule[];
}

/** The settings the rules depend on. */
export type AlertRulesInput = Pick<
    Settings,
    "name" | "namespace" | "replicasPerShard" | "persistence"
> & {
    alerts: AlertSettings;
};

/** The labels that identify one Valkey node in every alert. */
const NODE = "namespace, shard, zone, pod";

/** Every slot of a Valkey cluster. */
export const CLUSTER_SLOTS = 16384;

/** A threshold as a PromQL number literal. */
function num(n: number): string {
    return String(n);
}

/** A share as a percentage for humans: 0.9 -> "90 %". */
function percent(ratio: number): string {
    return `${Number((ratio * 100).toFixed(2))} %`;
}

/** Whether a persistence mode writes RDB snapshots / an append-only file. */
export function persistenceWrites(persistence: Persistence): { rdb: boolean; aof: boolean } {
    return { rdb: persistence !== "none", aof: persistence === "aof+rdb" };
}

/**
 * The alert rules of one cluster. Rules that cannot apply are left out: no replica rules without replicas, no
 * persistence rules without persistence.
 */
export function alertRules(input: AlertRulesInput): AlertRuleGroup[] {
    const m = clusterMatchers(input.name, input.namespace);
    const t = input.alerts;
    const where = "pod {{ $labels.pod }} (shard {{ $labels.shard }}, zone {{ $labels.zone }})";
    const rule = (
        r: Omit<AlertRule, "labels"> & { severity: "critical" | "warning" },
    ): AlertRule => {
        const { severity, ...rest } = r;
        return { ...rest, labels: { severity, valkey_cluster: input.name } };
    };
    const rules: AlertRule[] = [
        rule({
            alert: "ValkeyMetricsAbsent",
            expr: `absent(up{${m}})`,
            for: "10m",
            severity: "warning",
            annotations: {
                summary: `Prometheus scrapes no target of Valkey cluster ${input.name} (job ${metricsJob(input.name)}, namespace {{ $labels.namespace }})`,
                description:
                    "Every other Valkey alert is blind now. Check that Prometheus selects the ServiceMonitor " +
                    `${metricsJob(input.name)} (serviceMonitorSelector, e.g. kube-prometheus-stack's release label) and that the pods run.`,
            },
        }),
        rule({
            alert: "ValkeyExporterDown",
            expr: `max by (${NODE}) (up{${m}}) == 0`,
            for: "5m",
            severity: "warning",
            annotations: {
                summary: `The metrics exporter of Valkey ${where} does not answer Prometheus`,
                description:
                    "The redis_exporter sidecar is down or unreachable (NetworkPolicy, port 9121). Look at the exporter " +
                    "container of the pod (kubectl describe pod, kubectl logs -c exporter).",
            },
        }),
        rule({
            alert: "ValkeyServerUnreachable",
            expr: `max by (${NODE}) (redis_up{${m}}) == 0`,
            for: "2m",
            severity: "critical",
            annotations: {
                summary: `The exporter cannot reach Valkey on ${where}`,
                description:
                    "The Valkey container is down, restarting or refuses the exporter's password. Check the valkey " +
                    "container (kubectl logs -c valkey, restarts, OOMKilled) and that the auth Secret is unchanged.",
            },
        }),
        rule({
            alert: "ValkeyClusterStateNotOk",
            expr: `min by (${NODE}) (redis_cluster_state{${m}}) == 0`,
            for: "1m",
            severity: "critical",
            annotations: {
                summary: `Valkey ${where} reports cluster_state:fail`,
                description:
                    "This node refuses queries. Run `valkey-cli --cluster check` from a pod; a node cut off from the " +
                    "majority of primaries (a lost zone, a network partition) recovers when it sees them again.",
            },
        }),
        rule({
            alert: "ValkeySlotsUnassigned",
            expr: `min by (${NODE}) (redis_cluster_slots_assigned{${m}}) < ${CLUSTER_SLOTS}`,
            for: "1m",
            severity: "critical",
            annotations: {
                summary: `Valkey ${where} sees slots that no primary owns`,
                description:
                    `Keys in the unowned slots cannot be read or written. Run \`pulumi up\`: the slot bootstrap assigns ` +
                    "every slot, and finishes a reshard that was interrupted.",
            },
        }),
        rule({
            alert: "ValkeySlotsNotServed",
            expr: `max by (${NODE}) (redis_cluster_slots_assigned{${m}} - redis_cluster_slots_ok{${m}}) > 0`,
            for: "1m",
            severity: "critical",
            annotations: {
                summary: `Valkey ${where} sees slots whose primary is failing (PFAIL/FAIL)`,
                description:
                    "A primary is unreachable and no replica has taken over yet. If it lasts, the shard has no healthy " +
                    "replica: see ValkeyShardWithoutReplica, and the pods of that shard.",
            },
        }),
    ];
    if (input.replicasPerShard > 0) {
        rules.push(
            rule({
                alert: "ValkeyShardWithoutReplica",
                expr:
                    `max by (namespace, shard) (redis_instance_info{${m},role="master"}) ` +
                    `unless on (namespace, shard) (redis_master_link_up{${m}} == 1)`,
                for: "2m",
                severity: "critical",
                annotations: {
                    summary:
                        "Valkey shard {{ $labels.shard }} has no replica in sync with its primary",
                    description:
                        "Losing its primary now loses the shard's slots. Find the shard's replica pods: restart a " +
                        "stuck one, check its master_link_status; `pulumi up` re-attaches a replica the bootstrap lost.",
                },
            }),
            rule({
                alert: "ValkeyReplicaLinkDown",
                expr: `min by (${NODE}) (redis_master_link_up{${m}}) == 0`,
                for: "2m",
                severity: "warning",
                annotations: {
                    summary: `Replica ${where} lost the link to its primary`,
                    description:
                        "It cannot take over while the link is down. Check the replica's INFO replication and logs; " +
                        "a password mismatch (masterauth) or a full sync that keeps failing are the usual causes.",
                },
            }),
            rule({
                alert: "ValkeyReplicationLag",
                expr: `max by (${NODE}, slave_ip) (redis_connected_slave_lag_seconds{${m}}) > ${num(t.replicationLagSeconds)}`,
                for: "2m",
                severity: "warning",
                annotations: {
                    summary: `A replica ({{ $labels.slave_ip }}) of primary ${where} lags more than ${t.replicationLagSeconds} s`,
                    description:
                        "Writes since then would be lost by a failover. Look for a saturated network or disk on the " +
                        `replica, or a write burst. Threshold: valkey:alerts.replicationLagSeconds (${t.replicationLagSeconds}).`,
                },
            }),
        );
    }
    rules.push(
        rule({
            alert: "ValkeyFailover",
            // A promotion: the pod is a primary now and was a replica within the window. (A new cluster's pods
            // start as empty primaries and become replicas: that is no failover.)
            expr:
                `max by (${NODE}) (redis_instance_info{${m},role="master"}) and on (namespace, pod) ` +
                `max by (${NODE}) (max_over_time(redis_instance_info{${m},role="slave"}[${t.failoverWindowMinutes}m]))`,
            severity: "warning",
            annotations: {
                summary: `Valkey ${where} was promoted to primary (a failover) in the last ${t.failoverWindowMinutes} minutes`,
                description:
                    "Expected during `pulumi up` (a primary hands over before it restarts). Otherwise a primary failed: " +
                    "find why (node or zone loss, OOMKilled, eviction); `pulumi up` restores the zone placement of the " +
                    `primaries. Window: valkey:alerts.failoverWindowMinutes (${t.failoverWindowMinutes}).`,
            },
        }),
        rule({
            alert: "ValkeyMemoryHigh",
            expr:
                `max by (${NODE}) (redis_memory_used_bytes{${m}} / (redis_memory_max_bytes{${m}} > 0)) ` +
                `> ${num(t.memoryUsedRatio)}`,
            for: "5m",
            severity: "warning",
            annotations: {
                summary: `Valkey ${where} uses more than ${percent(t.memoryUsedRatio)} of maxmemory`,
                description:
                    "Once full, noeviction refuses writes (eviction policies drop keys). Add shards (valkey:shards) or " +
                    `memory (valkey:memory), or delete data. Threshold: valkey:alerts.memoryUsedRatio (${t.memoryUsedRatio}).`,
            },
        }),
        rule({
            alert: "ValkeyWritesRejectedOutOfMemory",
            expr: `sum by (${NODE}) (increase(redis_errors_total{${m},err="OOM"}[5m])) > 0`,
            severity: "critical",
            annotations: {
                summary: `Valkey ${where} refused writes: maxmemory reached`,
                description:
                    "Clients get OOM errors. Add shards or memory now, or delete data; with a cache, use an eviction " +
                    "policy (valkey:maxmemoryPolicy allkeys-lru).",
            },
        }),
        rule({
            alert: "ValkeyKeysEvicted",
            expr: `sum by (${NODE}) (rate(redis_evicted_keys_total{${m}}[5m])) > ${num(t.evictedKeysPerSecond)}`,
            severity: "warning",
            annotations: {
                summary: `Valkey ${where} evicts more than ${t.evictedKeysPerSecond} keys per second`,
                description:
                    "maxmemory is reached and keys are dropped to make room. Add shards or memory if the data must stay. " +
                    `Threshold: valkey:alerts.evictedKeysPerSecond (${t.evictedKeysPerSecond}).`,
            },
        }),
        rule({
            alert: "ValkeyClientsNearLimit",
            expr:
                `max by (${NODE}) (redis_connected_clients{${m}} / (redis_config_maxclients{${m}} > 0)) ` +
                `> ${num(t.clientsUsedRatio)}`,
            for: "5m",
            severity: "warning",
            annotations: {
                summary: `Valkey ${where} has more than ${percent(t.clientsUsedRatio)} of maxclients connected`,
                description:
                    "New connections will be refused at the limit. Look for a client that leaks connections or " +
                    `lacks pooling. Threshold: valkey:alerts.clientsUsedRatio (${t.clientsUsedRatio}).`,
            },
        }),
    );
    const writes = persistenceWrites(input.persistence);
    if (writes.rdb) {
        rules.push(
            rule({
                alert: "ValkeyRdbSaveFailing",
                expr: `min by (${NODE}) (redis_rdb_last_bgsave_status{${m}}) == 0`,
                for: "2m",
                severity: "critical",
                annotations: {
                    summary: `The last RDB snapshot of Valkey ${where} failed`,
                    description:
                        "Valkey refuses writes after a failed snapshot (stop-writes-on-bgsave-error). Check the volume " +
                        "(full? read-only?) and the pod's logs; grow valkey:volumeSize if it is full.",
                },
            }),
        );
    }
    if (writes.aof) {
        rules.push(
            rule({
                alert: "ValkeyAofWriteFailing",
                expr:
                    `min by (${NODE}) (redis_aof_last_write_status{${m}}) == 0 ` +
                    `or min by (${NODE}) (redis_aof_last_bgrewrite_status{${m}}) == 0`,
                for: "2m",
                severity: "critical",
                annotations: {
                    summary: `Valkey ${where} fails to write or rewrite its append-only file`,
                    description:
                        "Writes are not durable and Valkey may refuse them. Check the volume (full? read-only?) and the " +
                        "pod's logs; grow valkey:volumeSize if it is full.",
                },
            }),
        );
    }
    return [{ name: `valkey-${input.name}`, rules }];
}

/** The PrometheusRule `spec` of a cluster. */
export function prometheusRuleSpec(input: AlertRulesInput): { groups: AlertRuleGroup[] } {
    return { groups: alertRules(input) };
}
