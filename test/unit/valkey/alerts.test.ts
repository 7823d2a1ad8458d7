import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import {
    AlertRule,
    AlertRulesInput,
    alertRules,
    prometheusRuleSpec,
} from "../../../components/valkey/alerts";
import { ROOT } from "../../helpers/program";
import { exporterMetrics, metricNames, unknownMetrics } from "../../helpers/promql";
import { promtool, promtoolPath, workDir } from "../../helpers/promtool";
import { AlertCase, alertCases } from "./alertCases";

/**
 * The alert rules, judged by Prometheus' own promtool: `check rules` on the rendered groups, and `test rules` with
 * a firing and a quiet case for every alert, for the default settings and for settings with other thresholds.
 */

const defaults = resolveSettings(
    { cloud: "kubernetes", zones: ["zone-a", "zone-b", "zone-c"] },
    "dev",
);

/** The rules as the dev defaults render them. */
const DEFAULT_INPUT: AlertRulesInput = defaults;

/** Other thresholds, another name and namespace, RDB only. */
const CUSTOM_INPUT: AlertRulesInput = {
    name: "cache",
    namespace: "apps",
    replicasPerShard: 2,
    persistence: "rdb",
    alerts: {
        replicationLagSeconds: 42,
        memoryUsedRatio: 0.8,
        clientsUsedRatio: 0.5,
        evictedKeysPerSecond: 100,
        failoverWindowMinutes: 30,
    },
};

const VARIANTS: [string, AlertRulesInput][] = [
    ["default thresholds", DEFAULT_INPUT],
    ["other thresholds", CUSTOM_INPUT],
];

function rulesOf(input: AlertRulesInput): AlertRule[] {
    return alertRules(input).flatMap((g) => g.rules);
}

/** An annotation as Prometheus expands it: only `{{ $labels.<name> }}` templates are used. */
function expand(template: string, labels: Record<string, string>): string {
    return template.replace(
        /\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g,
        (_, l: string) => labels[l] ?? "",
    );
}

/** The promtool unit-test file for the cases. */
function promtoolTests(input: AlertRulesInput, cases: AlertCase[]): unknown {
    const byName = new Map(rulesOf(input).map((r) => [r.alert, r]));
    return {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: cases.map((c) => {
            const rule = byName.get(c.alert)!;
            return {
                name: c.name,
                interval: "1m",
                input_series: c.series,
                alert_rule_test: [
                    {
                        eval_time: c.evalTime,
                        alertname: c.alert,
                        exp_alerts: c.expected.map((e) => {
                            const labels = { ...e.labels, ...rule.labels };
                            return {
                                exp_labels: labels,
                                exp_annotations: {
                                    summary: expand(rule.annotations.summary, labels),
                                    description: expand(rule.annotations.description, labels),
                                },
                            };
                        }),
                    },
                ],
            };
        }),
    };
}

describe("alert rules (PrometheusRule)", () => {
    it("promtool is built (bash scripts/toolchain/install.sh)", () => {
        assert.ok(promtoolPath());
    });

    for (const [label, input] of VARIANTS) {
        describe(label, () => {
            const rules = rulesOf(input);

            it("cover what issue 14 asks for, each with a severity, a summary and what to do", () => {
                const names = rules.map((r) => r.alert);
                for (const wanted of [
                    "ValkeyClusterStateNotOk",
                    "ValkeySlotsUnassigned",
                    "ValkeySlotsNotServed",
                    "ValkeyShardWithoutReplica",
                    "ValkeyReplicaLinkDown",
                    "ValkeyReplicationLag",
                    "ValkeyMemoryHigh",
                    "ValkeyKeysEvicted",
                    "ValkeyWritesRejectedOutOfMemory",
                    "ValkeyFailover",
                    "ValkeyClientsNearLimit",
                    "ValkeyRdbSaveFailing",
                    "ValkeyExporterDown",
                    "ValkeyMetricsAbsent",
                ]) {
                    assert.ok(names.includes(wanted), `${wanted} is missing`);
                }
                assert.equal(new Set(names).size, names.length, "alert names are unique");
                for (const r of rules) {
                    assert.ok(
                        ["critical", "warning"].includes(r.labels.severity),
                        `${r.alert} severity`,
                    );
                    assert.equal(r.labels.valkey_cluster, input.name);
                    assert.ok(
                        r.annotations.summary.length > 20 && r.annotations.description.length > 40,
                        r.alert,
                    );
                    assert.doesNotMatch(
                        `${r.annotations.summary} ${r.annotations.description}`,
                        /\{\{(?! \$labels\.[a-z_]+ \}\})/,
                        `${r.alert}: annotations use only {{ $labels.x }}`,
                    );
                }
            });

            it("select only this cluster's series (its namespace and metrics job)", () => {
                for (const r of rules) {
                    const selectors = r.expr.match(/\{[^}]*\}/g) ?? [];
                    assert.ok(selectors.length > 0, r.alert);
                    for (const sel of selectors) {
                        assert.ok(
                            sel.includes(`namespace="${input.namespace}"`),
                            `${r.alert}: ${sel}`,
                        );
                        assert.ok(
                            sel.includes(`job="${input.name}-metrics"`),
                            `${r.alert}: ${sel}`,
                        );
                    }
                }
            });

            it("name only metrics of the pinned exporter (redis_exporter v1.67.0) or Prometheus' up", () => {
                for (const r of rules) {
                    assert.ok(metricNames(r.expr).length > 0, `${r.alert} reads a metric`);
                    assert.deepEqual(unknownMetrics(r.expr), [], `${r.alert}: ${r.expr}`);
                }
            });

            it("pass `promtool check rules`", () => {
                const w = workDir("rules");
                try {
                    w.write("rules.yaml", prometheusRuleSpec(input));
                    const res = promtool(["check", "rules", "rules.yaml"], w.dir);
                    assert.equal(res.status, 0, res.output);
                    assert.match(res.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
                } finally {
                    w.done();
                }
            });

            it("fire, and stay quiet, on synthetic series: `promtool test rules` with cases for every alert", () => {
                const cases = alertCases(input);
                const names = new Set(rules.map((r) => r.alert));
                for (const name of names) {
                    assert.ok(
                        cases.some((c) => c.alert === name && c.kind === "fires"),
                        `${name} has a firing case`,
                    );
                    assert.ok(
                        cases.some((c) => c.alert === name && c.kind === "quiet"),
                        `${name} has a quiet case`,
                    );
                }
                for (const c of cases) {
                    assert.ok(names.has(c.alert), `case for an alert the rules lack: ${c.name}`);
                    assert.equal(c.kind === "fires", c.expected.length > 0, c.name);
                }
                const w = workDir("rules-test");
                try {
                    w.write("rules.yaml", prometheusRuleSpec(input));
                    w.write("tests.yaml", promtoolTests(input, cases));
                    const res = promtool(["test", "rules", "tests.yaml"], w.dir);
                    assert.equal(res.status, 0, res.output);
                    assert.match(res.output, /SUCCESS/);
                } finally {
                    w.done();
                }
            });
        });
    }

    it("write non-default thresholds into the expressions", () => {
        const byName = new Map(rulesOf(CUSTOM_INPUT).map((r) => [r.alert, r.expr]));
        assert.match(byName.get("ValkeyReplicationLag")!, /\) > 42$/);
        assert.match(byName.get("ValkeyMemoryHigh")!, /\) > 0\.8$/);
        assert.match(byName.get("ValkeyClientsNearLimit")!, /\) > 0\.5$/);
        assert.match(byName.get("ValkeyKeysEvicted")!, /\) > 100$/);
        assert.match(byName.get("ValkeyFailover")!, /\[30m\]\)\)$/);
        const defaultsByName = new Map(rulesOf(DEFAULT_INPUT).map((r) => [r.alert, r.expr]));
        assert.match(defaultsByName.get("ValkeyReplicationLag")!, /\) > 10$/);
        assert.match(defaultsByName.get("ValkeyMemoryHigh")!, /\) > 0\.9$/);
        assert.match(defaultsByName.get("ValkeyClientsNearLimit")!, /\) > 0\.85$/);
        assert.match(defaultsByName.get("ValkeyKeysEvicted")!, /\) > 0$/);
        assert.match(defaultsByName.get("ValkeyFailover")!, /\[15m\]\)\)$/);
    });

    it("leave out the rules that cannot apply: replica rules without replicas, persistence rules without persistence", () => {
        const names = (input: AlertRulesInput) => rulesOf(input).map((r) => r.alert);
        const bare = names({ ...DEFAULT_INPUT, replicasPerShard: 0, persistence: "none" });
        for (const gone of [
            "ValkeyShardWithoutReplica",
            "ValkeyReplicaLinkDown",
            "ValkeyReplicationLag",
            "ValkeyRdbSaveFailing",
            "ValkeyAofWriteFailing",
        ]) {
            assert.ok(!bare.includes(gone), gone);
        }
        assert.ok(names({ ...DEFAULT_INPUT, persistence: "rdb" }).includes("ValkeyRdbSaveFailing"));
        assert.ok(
            !names({ ...DEFAULT_INPUT, persistence: "rdb" }).includes("ValkeyAofWriteFailing"),
        );
        assert.ok(names(DEFAULT_INPUT).includes("ValkeyAofWriteFailing"), "aof+rdb is the default");
    });

    it("the metric check fails a rule that names a metric the pinned exporter lacks", () => {
        // redis_max_clients exists only from redis_exporter v1.68.0 (PR #968): a rule using it must be refused.
        const bad =
            'max by (pod) (redis_connected_clients{job="x"} / redis_max_clients{job="x"}) > 0.9';
        assert.deepEqual(unknownMetrics(bad), ["redis_max_clients"]);
        assert.deepEqual(unknownMetrics("rate(redis_evicted_keys_totl[5m]) > 0"), [
            "redis_evicted_keys_totl",
        ]);
        assert.deepEqual(
            metricNames(
                'sum by (shard, zone) (rate(redis_errors_total{err="OOM",pod=~"a|b"}[5m] offset 1m)) and on (pod) up == 1',
            ),
            ["redis_errors_total", "up"],
        );
        assert.ok(exporterMetrics().has("redis_config_maxclients"));
        assert.ok(!exporterMetrics().has("redis_max_clients"));
    });

    it("the fixture of exporter metric names names its version and its sources", () => {
        const head = fs.readFileSync(
            path.join(ROOT, "test", "fixtures", "redis_exporter-v1.67.0-metrics.txt"),
            "utf8",
        );
        assert.match(head, /oliver006\/redis_exporter v1\.67\.0/);
        assert.match(head, /exporter\/exporter\.go at commit [0-9a-f]{40}/);
        assert.ok(exporterMetrics().size > 100);
        for (const name of exporterMetrics()) assert.match(name, /^redis_[a-z0-9_]+$/);
    });

    it("the README's alert table lists every alert", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const all = new Set(
            [...rulesOf(DEFAULT_INPUT), ...rulesOf(CUSTOM_INPUT)].map((r) => r.alert),
        );
        for (const name of all)
            assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, "m"), `${name} in README.md`);
    });
});
