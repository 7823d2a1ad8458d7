/**
 * The Grafana dashboard of a cluster (issue 14), as plain JSON for a ConfigMap that Grafana's dashboard sidecar
 * loads (label `grafana_dashboard: "1"`). Pure: settings in, dashboard out.
 *
 * Every panel splits by the `shard` and `zone` labels the ServiceMonitor adds (./scrape.ts), and the `shard` and
 * `zone` variables filter them. Queries use only metrics of the pinned exporter (checked by the tests against a
 * fixture of its metric names) and parse with Prometheus' own parser (promtool, in the tests).
 */
import type { AlertSettings, Settings } from "../config";
import { clusterMatchers } from "./scrape";

/** The settings the dashboard depends on. */
export type DashboardInput = Pick<Settings, "name" | "namespace"> & { alerts: AlertSettings };

/** A Grafana data source reference: the dashboard's `datasource` variable. */
export interface DatasourceRef {
    type: "prometheus";
    uid: string;
}

/** One PromQL query of a panel. */
export interface DashboardTarget {
    refId: string;
    expr: string;
    legendFormat: string;
    datasource: DatasourceRef;
}

/** One panel (Grafana dashboard schema: type, title, gridPos, datasource, targets, fieldConfig, options). */
export interface DashboardPanel {
    id: number;
    type: "timeseries" | "stat";
    title: string;
    description: string;
    datasource: DatasourceRef;
    gridPos: { h: number; w: number; x: number; y: number };
    targets: DashboardTarget[];
    fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
    options: Record<string, unknown>;
}

/** A template variable of the dashboard. */
export interface DashboardVariable {
    name: string;
    label: string;
    type: "datasource" | "query";
    query: string | { query: string; refId: string };
    [key: string]: unknown;
}

/** The dashboard model Grafana imports. */
export interface GrafanaDashboard {
    uid: string;
    title: string;
    description: string;
    tags: string[];
    schemaVersion: number;
    version: number;
    editable: boolean;
    timezone: string;
    refresh: string;
    time: { from: string; to: string };
    templating: { list: DashboardVariable[] };
    annotations: { list: unknown[] };
    panels: DashboardPanel[];
}

/** The data source every panel and query uses: the dashboard's `datasource` variable. */
export const DATASOURCE: DatasourceRef = { type: "prometheus", uid: "${datasource}" };

/** Grafana's dashboard JSON schema version the model follows (Grafana 10.4 / 11). */
export const SCHEMA_VERSION = 39;

/** The labels that name one node in legends. */
const NODE_LEGEND = "shard {{shard}} {{zone}} {{pod}}";

/** The Grafana uid of a cluster's dashboard (at most 40 characters, as Grafana requires). */
export function dashboardUid(name: string, namespace: string): string {
    return `valkey-${namespace}-${name}`.slice(0, 40);
}

/** The file name of the dashboard in its ConfigMap. */
export function dashboardFileName(name: string): string {
    return `valkey-${name}.json`;
}

/**
 * The dashboard of one cluster: cluster state, slots, ops/s, hit ratio, memory vs maxmemory, replication lag and
 * links, connected clients, evictions and OOM rejections, failovers and primaries, exporter health.
 */
export function grafanaDashboard(input: DashboardInput): GrafanaDashboard {
    const base = clusterMatchers(input.name, input.namespace);
    const m = `${base},shard=~"$shard",zone=~"$zone"`;
    const t = input.alerts;
    const panels: Omit<DashboardPanel, "id" | "gridPos" | "datasource">[] = [
        {
            type: "stat",
            title: "Cluster state per node",
            description:
                "cluster_state as each node sees it: ok (1) or fail (0). Alert: ValkeyClusterStateNotOk.",
            targets: [
                target("A", `min by (shard, zone, pod) (redis_cluster_state{${m}})`, NODE_LEGEND),
            ],
            fieldConfig: {
                defaults: {
                    mappings: [
                        {
                            type: "value",
                            options: {
                                "0": { text: "fail", color: "red" },
                                "1": { text: "ok", color: "green" },
                            },
                        },
                    ],
                    thresholds: steps([
                        ["red", null],
                        ["green", 1],
                    ]),
                    color: { mode: "thresholds" },
                },
                overrides: [],
            },
            options: {
                reduceOptions: { calcs: ["lastNotNull"] },
                colorMode: "background",
                graphMode: "none",
                textMode: "value_and_name",
            },
        },
        {
            type: "timeseries",
            title: "Slots served (each node's view)",
            description:
                "Slots assigned to a primary and served by a healthy one, of 16384. Alerts: ValkeySlotsUnassigned, ValkeySlotsNotServed.",
            targets: [
                target(
                    "A",
                    `min by (shard, zone, pod) (redis_cluster_slots_ok{${m}})`,
                    `ok: ${NODE_LEGEND}`,
                ),
                target(
                    "B",
                    `min by (shard, zone, pod) (redis_cluster_slots_assigned{${m}})`,
                    `assigned: ${NODE_LEGEND}`,
                ),
            ],
            fieldConfig: { defaults: { unit: "short", min: 0, max: 16384 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Operations per second",
            description: "Commands processed per second, per node.",
            targets: [
                target(
                    "A",
                    `sum by (shard, zone, pod) (rate(redis_commands_processed_total{${m}}[$__rate_interval]))`,
                    NODE_LEGEND,
                ),
            ],
            fieldConfig: { defaults: { unit: "ops" }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Hit ratio per shard",
            description: "Keyspace hits / (hits + misses) of the shard's nodes.",
            targets: [
                target(
                    "A",
                    `sum by (shard) (rate(redis_keyspace_hits_total{${m}}[$__rate_interval])) / ` +
                        `(sum by (shard) (rate(redis_keyspace_hits_total{${m}}[$__rate_interval])) + ` +
                        `sum by (shard) (rate(redis_keyspace_misses_total{${m}}[$__rate_interval])) > 0)`,
                    "shard {{shard}}",
                ),
            ],
            fieldConfig: { defaults: { unit: "percentunit", min: 0, max: 1 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Memory used / maxmemory",
            description: `Used memory as a share of maxmemory. The line is valkey:alerts.memoryUsedRatio (${t.memoryUsedRatio}): ValkeyMemoryHigh.`,
            targets: [
                target(
                    "A",
                    `max by (shard, zone, pod) (redis_memory_used_bytes{${m}} / (redis_memory_max_bytes{${m}} > 0))`,
                    NODE_LEGEND,
                ),
            ],
            fieldConfig: {
                defaults: thresholdLine("percentunit", t.memoryUsedRatio, { min: 0, max: 1 }),
                overrides: [],
            },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Memory used (bytes)",
            description: "Used memory and maxmemory per node.",
            targets: [
                target(
                    "A",
                    `max by (shard, zone, pod) (redis_memory_used_bytes{${m}})`,
                    `used: ${NODE_LEGEND}`,
                ),
                target(
                    "B",
                    `max by (shard) (redis_memory_max_bytes{${m}})`,
                    "maxmemory: shard {{shard}}",
                ),
            ],
            fieldConfig: { defaults: { unit: "bytes", min: 0 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Replication lag",
            description: `Seconds since each replica last acknowledged its primary (shown on the primary). The line is valkey:alerts.replicationLagSeconds (${t.replicationLagSeconds}): ValkeyReplicationLag.`,
            targets: [
                target(
                    "A",
                    `max by (shard, zone, pod, slave_ip) (redis_connected_slave_lag_seconds{${m}})`,
                    "shard {{shard}} primary {{pod}} -> replica {{slave_ip}}",
                ),
            ],
            fieldConfig: {
                defaults: thresholdLine("s", t.replicationLagSeconds, { min: 0 }),
                overrides: [],
            },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Replica link to primary",
            description:
                "master_link_status of each replica: up (1) or down (0). Alerts: ValkeyReplicaLinkDown, ValkeyShardWithoutReplica.",
            targets: [
                target("A", `min by (shard, zone, pod) (redis_master_link_up{${m}})`, NODE_LEGEND),
            ],
            fieldConfig: { defaults: { unit: "short", min: 0, max: 1 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Connected clients",
            description: `Client connections per node, and maxclients. ValkeyClientsNearLimit fires above ${t.clientsUsedRatio} of maxclients.`,
            targets: [
                target(
                    "A",
                    `sum by (shard, zone, pod) (redis_connected_clients{${m}})`,
                    NODE_LEGEND,
                ),
                target(
                    "B",
                    `max by (shard) (redis_config_maxclients{${m}})`,
                    "maxclients: shard {{shard}}",
                ),
            ],
            fieldConfig: { defaults: { unit: "short", min: 0 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Evictions and rejected writes",
            description:
                "Keys evicted per second (ValkeyKeysEvicted) and writes refused for maxmemory per second (ValkeyWritesRejectedOutOfMemory).",
            targets: [
                target(
                    "A",
                    `sum by (shard, zone, pod) (rate(redis_evicted_keys_total{${m}}[$__rate_interval]))`,
                    `evicted: ${NODE_LEGEND}`,
                ),
                target(
                    "B",
                    `sum by (shard, zone, pod) (rate(redis_errors_total{${m},err="OOM"}[$__rate_interval]))`,
                    `OOM rejected: ${NODE_LEGEND}`,
                ),
            ],
            fieldConfig: { defaults: { unit: "ops", min: 0 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "timeseries",
            title: "Failovers (promotions)",
            description: `1 while a node is a primary that was a replica in the last ${t.failoverWindowMinutes} minutes: ValkeyFailover.`,
            targets: [
                target(
                    "A",
                    `max by (shard, zone, pod) (redis_instance_info{${m},role="master"}) and on (pod) ` +
                        `max by (shard, zone, pod) (max_over_time(redis_instance_info{${m},role="slave"}[${t.failoverWindowMinutes}m]))`,
                    NODE_LEGEND,
                ),
            ],
            fieldConfig: { defaults: { unit: "short", min: 0, max: 1 }, overrides: [] },
            options: timeseriesOptions(),
        },
        {
            type: "stat",
            title: "Primary of each shard",
            description: "The pod (and zone) that is each shard's primary now.",
            targets: [
                target(
                    "A",
                    `max by (shard, zone, pod) (redis_instance_info{${m},role="master"})`,
                    NODE_LEGEND,
                ),
            ],
            fieldConfig: {
                defaults: { color: { mode: "fixed", fixedColor: "blue" } },
                overrides: [],
            },
            options: {
                reduceOptions: { calcs: ["lastNotNull"] },
                colorMode: "background",
                graphMode: "none",
                textMode: "name",
            },
        },
        {
            type: "timeseries",
            title: "Exporter and server up",
            description:
                "Prometheus reaches the exporter (up) and the exporter reaches Valkey (redis_up). Alerts: ValkeyExporterDown, ValkeyServerUnreachable.",
            targets: [
                target("A", `min by (shard, zone, pod) (up{${m}})`, `exporter: ${NODE_LEGEND}`),
                target("B", `min by (shard, zone, pod) (redis_up{${m}})`, `server: ${NODE_LEGEND}`),
            ],
            fieldConfig: { defaults: { unit: "short", min: 0, max: 1 }, overrides: [] },
            options: timeseriesOptions(),
        },
    ];
    return {
        uid: dashboardUid(input.name, input.namespace),
        title: `Valkey ${input.name} (${input.namespace})`,
        description: `Valkey cluster ${input.name} in namespace ${input.namespace}, per shard and zone. Generated by valkey-platform.`,
        tags: ["valkey", "valkey-platform"],
        schemaVersion: SCHEMA_VERSION,
        version: 1,
        editable: false,
        timezone: "browser",
        refresh: "30s",
        time: { from: "now-6h", to: "now" },
        templating: {
            list: [
                {
                    name: "datasource",
                    label: "Data source",
                    type: "datasource",
                    query: "prometheus",
                    current: {},
                    hide: 0,
                },
                labelVariable("shard", "Shard", base),
                labelVariable("zone", "Zone", base),
            ],
        },
        annotations: { list: [] },
        panels: panels.map((p, i) => ({
            ...p,
            id: i + 1,
            datasource: DATASOURCE,
            // Two panels per row of Grafana's 24-column grid.
            gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
        })),
    };
}

function target(refId: string, expr: string, legendFormat: string): DashboardTarget {
    return { refId, expr, legendFormat, datasource: DATASOURCE };
}

function steps(list: [string, number | null][]): {
    mode: "absolute";
    steps: { color: string; value: number | null }[];
} {
    return { mode: "absolute", steps: list.map(([color, value]) => ({ color, value })) };
}

/** Field defaults that draw an alert threshold as a red line. */
function thresholdLine(
    unit: string,
    threshold: number,
    range: { min?: number; max?: number },
): Record<string, unknown> {
    return {
        unit,
        ...range,
        thresholds: steps([
            ["green", null],
            ["red", threshold],
        ]),
        custom: { thresholdsStyle: { mode: "line" } },
    };
}

function timeseriesOptions(): Record<string, unknown> {
    return {
        legend: { displayMode: "list", placement: "bottom", showLegend: true },
        tooltip: { mode: "multi", sort: "desc" },
    };
}

/** A multi-value variable over the values of one label of the cluster's series, with an "All" option. */
function labelVariable(name: string, label: string, matchers: string): DashboardVariable {
    const query = `label_values(redis_up{${matchers}}, ${name})`;
    return {
        name,
        label,
        type: "query",
        datasource: DATASOURCE,
        query: { query, refId: `${name}-values` },
        definition: query,
        refresh: 2,
        multi: true,
        includeAll: true,
        allValue: ".*",
        current: { text: "All", value: "$__all" },
        sort: 3,
        hide: 0,
    };
}
