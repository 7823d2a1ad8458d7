import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import {
    DATASOURCE,
    DashboardInput,
    SCHEMA_VERSION,
    grafanaDashboard,
} from "../../../components/valkey/dashboard";
import { metricNames, unknownMetrics, withoutGrafanaVariables } from "../../helpers/promql";
import { promtool, workDir } from "../../helpers/promtool";

/**
 * The Grafana dashboard: a valid dashboard model (panels, targets, the datasource variable), per-shard and per-zone
 * queries over the pinned exporter's metrics only, every query parsed by Prometheus' own parser (promtool, each
 * query as a recording rule's expression).
 */

const defaults = resolveSettings(
    { cloud: "kubernetes", zones: ["zone-a", "zone-b", "zone-c"] },
    "dev",
);
const CUSTOM: DashboardInput = {
    name: "cache",
    namespace: "apps",
    alerts: { ...defaults.alerts, replicationLagSeconds: 42, memoryUsedRatio: 0.8 },
};

for (const [label, input] of [
    ["default settings", defaults],
    ["other settings", CUSTOM],
] as [string, DashboardInput][]) {
    describe(`Grafana dashboard, ${label}`, () => {
        const d = grafanaDashboard(input);
        const queries = d.panels.flatMap((p) =>
            p.targets.map((t) => ({ panel: p.title, expr: t.expr })),
        );

        it("is a Grafana dashboard model: uid, title, schemaVersion, time, templating, panels", () => {
            const parsed = JSON.parse(JSON.stringify(d));
            assert.equal(parsed.schemaVersion, SCHEMA_VERSION);
            assert.match(parsed.uid, /^[a-zA-Z0-9_-]{1,40}$/);
            assert.ok(parsed.title.includes(input.name));
            assert.deepEqual(Object.keys(parsed.time).sort(), ["from", "to"]);
            assert.ok(
                Array.isArray(parsed.templating.list) &&
                    Array.isArray(parsed.panels) &&
                    Array.isArray(parsed.annotations.list),
            );
            assert.equal(parsed.id, undefined, "no id: Grafana assigns it on import");
        });

        it("has a Prometheus datasource variable that every panel and query uses", () => {
            const ds = d.templating.list.find((v) => v.type === "datasource");
            assert.ok(ds, "a datasource variable");
            assert.equal(ds.name, "datasource");
            assert.equal(ds.query, "prometheus");
            for (const p of d.panels) {
                assert.deepEqual(p.datasource, DATASOURCE, p.title);
                for (const t of p.targets)
                    assert.deepEqual(
                        t.datasource,
                        { type: "prometheus", uid: "${datasource}" },
                        p.title,
                    );
            }
            for (const v of d.templating.list.filter((v) => v.type === "query")) {
                assert.deepEqual(v.datasource, DATASOURCE, v.name);
            }
        });

        it("panels: unique ids, known types, non-empty targets with unique refIds, on a 24-column grid without overlap", () => {
            assert.ok(d.panels.length >= 10);
            assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length);
            const cells = new Set<string>();
            for (const p of d.panels) {
                assert.ok(["timeseries", "stat"].includes(p.type), p.title);
                assert.ok(p.title && p.description, "title and description");
                assert.ok(p.targets.length > 0, p.title);
                assert.equal(
                    new Set(p.targets.map((t) => t.refId)).size,
                    p.targets.length,
                    `${p.title} refIds`,
                );
                for (const t of p.targets)
                    assert.ok(t.expr && t.legendFormat && /^[A-Z]$/.test(t.refId), p.title);
                const { x, y, w, h } = p.gridPos;
                assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0 && y >= 0, `${p.title} gridPos`);
                for (let i = x; i < x + w; i++) {
                    for (let j = y; j < y + h; j++) {
                        const cell = `${i},${j}`;
                        assert.ok(!cells.has(cell), `${p.title} overlaps another panel`);
                        cells.add(cell);
                    }
                }
            }
        });

        it("shows what issue 14 asks for: ops/s, hit ratio, memory vs maxmemory, lag, clients, evictions, cluster state, failovers", () => {
            const uses = (metric: string) =>
                queries.some((q) => metricNames(withoutGrafanaVariables(q.expr)).includes(metric));
            for (const metric of [
                "redis_commands_processed_total",
                "redis_keyspace_hits_total",
                "redis_keyspace_misses_total",
                "redis_memory_used_bytes",
                "redis_memory_max_bytes",
                "redis_connected_slave_lag_seconds",
                "redis_connected_clients",
                "redis_evicted_keys_total",
                "redis_cluster_state",
                "redis_instance_info",
            ]) {
                assert.ok(uses(metric), `a panel shows ${metric}`);
            }
        });

        it("every query is per shard or zone, filtered by the shard and zone variables, and scoped to this cluster", () => {
            for (const v of ["shard", "zone"]) {
                const variable = d.templating.list.find((x) => x.name === v);
                assert.ok(variable && variable.multi && variable.includeAll, `${v} variable`);
            }
            for (const q of queries) {
                assert.match(
                    q.expr,
                    /by \([^)]*\b(shard|zone)\b/,
                    `${q.panel}: ${q.expr}`.slice(0, 200),
                );
                for (const sel of q.expr.match(/\{[^}]*\}/g)!) {
                    assert.ok(
                        sel.includes(`namespace="${input.namespace}",job="${input.name}-metrics"`),
                        `${q.panel}: ${sel}`,
                    );
                    assert.ok(sel.includes('shard=~"$shard",zone=~"$zone"'), `${q.panel}: ${sel}`);
                }
            }
        });

        it("draws the alert thresholds of the settings", () => {
            const line = (title: string) =>
                (
                    d.panels.find((p) => p.title === title)!.fieldConfig.defaults.thresholds as {
                        steps: { value: number | null }[];
                    }
                ).steps[1].value;
            assert.equal(line("Memory used / maxmemory"), input.alerts.memoryUsedRatio);
            assert.equal(line("Replication lag"), input.alerts.replicationLagSeconds);
        });

        it("names only metrics of the pinned exporter (redis_exporter v1.67.0) or Prometheus' up", () => {
            for (const q of queries)
                assert.deepEqual(
                    unknownMetrics(withoutGrafanaVariables(q.expr)),
                    [],
                    `${q.panel}: ${q.expr}`,
                );
            for (const v of d.templating.list.filter((x) => x.type === "query")) {
                const inner = /^label_values\((.+), [a-z_]+\)$/.exec(v.definition as string)![1];
                assert.deepEqual(unknownMetrics(inner), [], v.name);
            }
        });

        it("every query parses with Prometheus' parser (promtool check rules, each as a recording rule)", () => {
            const exprs = [
                ...queries.map((q) => withoutGrafanaVariables(q.expr)),
                ...d.templating.list
                    .filter((v) => v.type === "query")
                    .map((v) => /^label_values\((.+), [a-z_]+\)$/.exec(v.definition as string)![1]),
            ];
            const w = workDir("dashboard");
            try {
                w.write("queries.yaml", {
                    groups: [
                        {
                            name: "dashboard-queries",
                            rules: exprs.map((expr, i) => ({
                                record: `dashboard:query_${i}`,
                                expr,
                            })),
                        },
                    ],
                });
                const res = promtool(["check", "rules", "queries.yaml"], w.dir);
                assert.equal(res.status, 0, res.output);
                assert.match(res.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
                // The parser is the judge: a broken query must fail the same check.
                w.write("broken.yaml", {
                    groups: [
                        {
                            name: "broken",
                            rules: [
                                { record: "dashboard:broken", expr: "sum by (shard (redis_up)" },
                            ],
                        },
                    ],
                });
                assert.notEqual(promtool(["check", "rules", "broken.yaml"], w.dir).status, 0);
            } finally {
                w.done();
            }
        });
    });
}
