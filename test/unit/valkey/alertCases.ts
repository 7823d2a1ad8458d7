/**
 * Synthetic series for `promtool test rules`: for every alert of components/valkey/alerts.ts, cases where it must
 * fire (with the exact labels and annotations) and cases where it must stay quiet. Values are derived from the
 * thresholds, so the same cases prove the thresholds of any settings (a value just past the threshold fires, the
 * threshold itself does not).
 */
import type { AlertRulesInput } from "../../../components/valkey/alerts";
import { metricsJob } from "../../../components/valkey/scrape";

/** One series of a promtool test: labels and values in promtool's expanding notation. */
export interface InputSeries {
    series: string;
    values: string;
}

/** One expected firing alert: its labels (besides alertname) and the values its annotation templates read. */
export interface ExpectedAlert {
    labels: Record<string, string>;
}

/** One promtool test group for one alert. */
export interface AlertCase {
    alert: string;
    /** "fires" or "quiet", for the test's own name and the coverage check. */
    kind: "fires" | "quiet";
    name: string;
    series: InputSeries[];
    evalTime: string;
    expected: ExpectedAlert[];
}

/** One Valkey node as the ServiceMonitor labels its series (plus labels the alerts must aggregate away). */
interface Node {
    pod: string;
    shard: string;
    zone: string;
}

/** `n` times `v`, space-separated: promtool's explicit values (no expanding notation to get wrong). */
function repeat(v: string | number, n: number): string {
    return Array.from({ length: n }, () => String(v)).join(" ");
}

/** A counter that grows by `step` each minute for `n` minutes, from `start`. */
function counter(start: number, step: number, n: number): string {
    return Array.from({ length: n }, (_, i) => String(start + i * step)).join(" ");
}

/** Every alert case for one rendering of the rules. */
export function alertCases(input: AlertRulesInput): AlertCase[] {
    const ns = input.namespace;
    const job = metricsJob(input.name);
    const t = input.alerts;
    const a0: Node = { pod: `${input.name}-zone-a-0`, shard: "0", zone: "zone-a" };
    const b0: Node = { pod: `${input.name}-zone-b-0`, shard: "0", zone: "zone-b" };
    const c0: Node = { pod: `${input.name}-zone-c-0`, shard: "1", zone: "zone-c" };
    const sel = (metric: string, node: Node, extra: Record<string, string> = {}): string => {
        const labels: Record<string, string> = {
            namespace: ns,
            job,
            service: job,
            endpoint: "metrics",
            container: "exporter",
            instance: `${node.pod}.example:9121`,
            pod: node.pod,
            shard: node.shard,
            zone: node.zone,
            ...extra,
        };
        return `${metric}{${Object.entries(labels)
            .map(([k, v]) => `${k}="${v}"`)
            .join(",")}}`;
    };
    const s = (
        metric: string,
        node: Node,
        values: string,
        extra: Record<string, string> = {},
    ): InputSeries => ({
        series: sel(metric, node, extra),
        values,
    });
    const at = (node: Node, more: Record<string, string> = {}): ExpectedAlert => ({
        labels: { namespace: ns, shard: node.shard, zone: node.zone, pod: node.pod, ...more },
    });
    const info = (role: "master" | "slave") => ({
        role,
        redis_version: "8.1.4",
        redis_mode: "cluster",
        run_id: "abc",
    });
    const N = 20;
    const cases: AlertCase[] = [];
    const add = (
        alert: string,
        kind: AlertCase["kind"],
        name: string,
        evalTime: string,
        series: InputSeries[],
        expected: ExpectedAlert[] = [],
    ) => cases.push({ alert, kind, name: `${alert} ${kind}: ${name}`, evalTime, series, expected });

    add(
        "ValkeyMetricsAbsent",
        "fires",
        "no target of the job is scraped",
        "12m",
        [{ series: `up{namespace="${ns}",job="some-other-job"}`, values: repeat(1, N) }],
        [{ labels: { namespace: ns, job } }],
    );
    add("ValkeyMetricsAbsent", "quiet", "the targets are scraped", "12m", [
        s("up", a0, repeat(1, N)),
    ]);

    add(
        "ValkeyExporterDown",
        "fires",
        "a target fails its scrapes for 5 minutes",
        "6m",
        [s("up", a0, repeat(0, N)), s("up", b0, repeat(1, N))],
        [at(a0)],
    );
    add("ValkeyExporterDown", "quiet", "a scrape failure shorter than 5 minutes", "6m", [
        s("up", a0, `0 0 0 ${repeat(1, N)}`),
    ]);

    add(
        "ValkeyServerUnreachable",
        "fires",
        "the exporter cannot reach Valkey for 2 minutes",
        "3m",
        [s("redis_up", a0, repeat(1, N)), s("redis_up", b0, repeat(0, N))],
        [at(b0)],
    );
    add("ValkeyServerUnreachable", "quiet", "the exporter reaches Valkey", "3m", [
        s("redis_up", a0, repeat(1, N)),
    ]);

    add(
        "ValkeyClusterStateNotOk",
        "fires",
        "one node reports cluster_state:fail",
        "2m",
        [s("redis_cluster_state", a0, repeat(0, N)), s("redis_cluster_state", c0, repeat(1, N))],
        [at(a0)],
    );
    add("ValkeyClusterStateNotOk", "quiet", "every node reports ok", "2m", [
        s("redis_cluster_state", a0, repeat(1, N)),
        s("redis_cluster_state", c0, repeat(1, N)),
    ]);

    add(
        "ValkeySlotsUnassigned",
        "fires",
        "a node sees 16000 of 16384 slots assigned",
        "2m",
        [s("redis_cluster_slots_assigned", c0, repeat(16000, N))],
        [at(c0)],
    );
    add("ValkeySlotsUnassigned", "quiet", "all 16384 slots are assigned", "2m", [
        s("redis_cluster_slots_assigned", c0, repeat(16384, N)),
    ]);

    add(
        "ValkeySlotsNotServed",
        "fires",
        "slots of a failing primary",
        "2m",
        [
            s("redis_cluster_slots_assigned", a0, repeat(16384, N)),
            s("redis_cluster_slots_ok", a0, repeat(10923, N)),
        ],
        [at(a0)],
    );
    add("ValkeySlotsNotServed", "quiet", "every assigned slot is ok", "2m", [
        s("redis_cluster_slots_assigned", a0, repeat(16384, N)),
        s("redis_cluster_slots_ok", a0, repeat(16384, N)),
    ]);

    if (input.replicasPerShard > 0) {
        add(
            "ValkeyShardWithoutReplica",
            "fires",
            "the only replica of shard 0 lost its link",
            "3m",
            [
                s("redis_instance_info", a0, repeat(1, N), info("master")),
                s("redis_instance_info", b0, repeat(1, N), info("slave")),
                s("redis_master_link_up", b0, repeat(0, N), {
                    master_host: "10.0.0.1",
                    master_port: "6379",
                }),
                s("redis_instance_info", c0, repeat(1, N), info("master")),
                s(
                    "redis_master_link_up",
                    { ...c0, pod: `${input.name}-zone-a-1`, zone: "zone-a" },
                    repeat(1, N),
                ),
            ],
            [{ labels: { namespace: ns, shard: "0" } }],
        );
        add(
            "ValkeyShardWithoutReplica",
            "fires",
            "shard 0's replica pod is gone",
            "3m",
            [s("redis_instance_info", a0, repeat(1, N), info("master"))],
            [{ labels: { namespace: ns, shard: "0" } }],
        );
        add("ValkeyShardWithoutReplica", "quiet", "shard 0's replica is in sync", "3m", [
            s("redis_instance_info", a0, repeat(1, N), info("master")),
            s("redis_instance_info", b0, repeat(1, N), info("slave")),
            s("redis_master_link_up", b0, repeat(1, N), {
                master_host: "10.0.0.1",
                master_port: "6379",
            }),
        ]);

        add(
            "ValkeyReplicaLinkDown",
            "fires",
            "master_link_status:down for 2 minutes",
            "3m",
            [
                s("redis_master_link_up", b0, repeat(0, N), {
                    master_host: "10.0.0.1",
                    master_port: "6379",
                }),
            ],
            [at(b0)],
        );
        add("ValkeyReplicaLinkDown", "quiet", "master_link_status:up", "3m", [
            s("redis_master_link_up", b0, repeat(1, N), {
                master_host: "10.0.0.1",
                master_port: "6379",
            }),
        ]);

        const lag = (value: number) =>
            s("redis_connected_slave_lag_seconds", a0, repeat(value, N), {
                slave_ip: "10.0.1.7",
                slave_port: "6379",
                slave_state: "online",
            });
        add(
            "ValkeyReplicationLag",
            "fires",
            `lag ${t.replicationLagSeconds + 5} s`,
            "3m",
            [lag(t.replicationLagSeconds + 5)],
            [at(a0, { slave_ip: "10.0.1.7" })],
        );
        add(
            "ValkeyReplicationLag",
            "quiet",
            `lag ${t.replicationLagSeconds} s, the threshold itself`,
            "3m",
            [lag(t.replicationLagSeconds)],
        );
    }

    // Failover: a replica (role slave) promoted to primary 5 minutes in.
    const w = t.failoverWindowMinutes;
    const long = w + 20;
    // "1" from minute `from` up to `to`, no sample ("_") elsewhere.
    const during = (from: number, to: number) =>
        Array.from({ length: long }, (_, i) => (i >= from && i < to ? "1" : "_")).join(" ");
    add(
        "ValkeyFailover",
        "fires",
        "a replica was promoted a minute ago",
        "6m",
        [
            s("redis_instance_info", b0, during(0, 5), info("slave")),
            s("redis_instance_info", b0, during(5, long), info("master")),
            s("redis_instance_info", c0, during(0, long), info("master")),
        ],
        [at(b0)],
    );
    add(
        "ValkeyFailover",
        "quiet",
        `the promotion is older than the ${w}-minute window`,
        `${5 + w + 1}m`,
        [
            s("redis_instance_info", b0, during(0, 5), info("slave")),
            s("redis_instance_info", b0, during(5, long), info("master")),
        ],
    );
    add(
        "ValkeyFailover",
        "quiet",
        "a new pod starts as an empty primary and becomes a replica",
        "8m",
        [
            s("redis_instance_info", b0, during(0, 2), info("master")),
            s("redis_instance_info", b0, during(2, long), info("slave")),
        ],
    );

    const mem = (used: number) => [
        s("redis_memory_used_bytes", c0, repeat(used, N)),
        s("redis_memory_max_bytes", c0, repeat(1000000, N)),
    ];
    const usedAbove = Math.round(t.memoryUsedRatio * 1000000) + 1000;
    const usedBelow = Math.round(t.memoryUsedRatio * 1000000) - 1000;
    add(
        "ValkeyMemoryHigh",
        "fires",
        `${usedAbove} of 1000000 bytes used for 5 minutes`,
        "6m",
        mem(usedAbove),
        [at(c0)],
    );
    add("ValkeyMemoryHigh", "quiet", `${usedBelow} of 1000000 bytes used`, "6m", mem(usedBelow));
    add("ValkeyMemoryHigh", "quiet", "no maxmemory set (0)", "6m", [
        s("redis_memory_used_bytes", c0, repeat(5000, N)),
        s("redis_memory_max_bytes", c0, repeat(0, N)),
    ]);

    add(
        "ValkeyWritesRejectedOutOfMemory",
        "fires",
        "OOM errors rising",
        "4m",
        [s("redis_errors_total", a0, counter(0, 5, N), { err: "OOM" })],
        [at(a0)],
    );
    add(
        "ValkeyWritesRejectedOutOfMemory",
        "quiet",
        "old OOM errors only, other errors rising",
        "8m",
        [
            s("redis_errors_total", a0, repeat(3, N), { err: "OOM" }),
            s("redis_errors_total", a0, counter(0, 50, N), { err: "ERR" }),
        ],
    );

    const perMinute = (perSecond: number) => perSecond * 60;
    add(
        "ValkeyKeysEvicted",
        "fires",
        `${t.evictedKeysPerSecond + 1} evictions per second`,
        "6m",
        [s("redis_evicted_keys_total", b0, counter(0, perMinute(t.evictedKeysPerSecond + 1), N))],
        [at(b0)],
    );
    add("ValkeyKeysEvicted", "quiet", `${t.evictedKeysPerSecond / 2} evictions per second`, "6m", [
        s("redis_evicted_keys_total", b0, counter(100, perMinute(t.evictedKeysPerSecond / 2), N)),
    ]);

    const clients = (n: number) => [
        s("redis_connected_clients", a0, repeat(n, N)),
        s("redis_config_maxclients", a0, repeat(10000, N)),
    ];
    const clientsAbove = Math.round(t.clientsUsedRatio * 10000) + 10;
    const clientsBelow = Math.round(t.clientsUsedRatio * 10000) - 10;
    add(
        "ValkeyClientsNearLimit",
        "fires",
        `${clientsAbove} of 10000 clients for 5 minutes`,
        "6m",
        clients(clientsAbove),
        [at(a0)],
    );
    add(
        "ValkeyClientsNearLimit",
        "quiet",
        `${clientsBelow} of 10000 clients`,
        "6m",
        clients(clientsBelow),
    );

    if (input.persistence !== "none") {
        add(
            "ValkeyRdbSaveFailing",
            "fires",
            "rdb_last_bgsave_status:err",
            "3m",
            [s("redis_rdb_last_bgsave_status", c0, repeat(0, N))],
            [at(c0)],
        );
        add("ValkeyRdbSaveFailing", "quiet", "rdb_last_bgsave_status:ok", "3m", [
            s("redis_rdb_last_bgsave_status", c0, repeat(1, N)),
        ]);
    }
    if (input.persistence === "aof+rdb") {
        const aof = (write: number, rewrite: number) => [
            s("redis_aof_last_write_status", a0, repeat(write, N)),
            s("redis_aof_last_bgrewrite_status", a0, repeat(rewrite, N)),
        ];
        add("ValkeyAofWriteFailing", "fires", "aof_last_write_status:err", "3m", aof(0, 1), [
            at(a0),
        ]);
        add("ValkeyAofWriteFailing", "fires", "aof_last_bgrewrite_status:err", "3m", aof(1, 0), [
            at(a0),
        ]);
        add("ValkeyAofWriteFailing", "fires", "both failing, one alert", "3m", aof(0, 0), [at(a0)]);
        add("ValkeyAofWriteFailing", "quiet", "both ok", "3m", aof(1, 1));
    }
    return cases;
}
