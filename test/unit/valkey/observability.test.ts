import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import { prometheusRuleSpec } from "../../../components/valkey/alerts";
import { computeLayout } from "../../../components/valkey/layout";
import { scrapeRelabelings } from "../../../components/valkey/scrape";
import { manifestOf, validateManifest } from "../../helpers/manifests";
import { ProgramRun, runProgram, stackConfig } from "../../helpers/program";

/**
 * Issue 14 in the whole program: with the ServiceMonitor on, the program creates the PrometheusRule and the
 * dashboard ConfigMap beside it, and the ServiceMonitor adds the shard and zone labels. Run on the render-mode
 * stack (manifests for GitOps, no cluster reached) with other alert thresholds, and on prod as configured.
 */

function settingsOf(stack: string, overrides: Record<string, unknown>) {
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...stackConfig(stack), ...overrides })) {
        if (k.startsWith("valkey:")) raw[k.slice("valkey:".length)] = v;
    }
    return resolveSettings(raw, stack);
}

const CASES: [string, Record<string, unknown>][] = [
    [
        "k8s-render",
        {
            "valkey:serviceMonitor": "true",
            "valkey:alerts": { replicationLagSeconds: 42, memoryUsedRatio: 0.8 },
        },
    ],
    ["prod", {}],
];

for (const [stack, overrides] of CASES) {
    describe(`observability objects of stack ${stack}`, () => {
        let run: ProgramRun;
        const settings = settingsOf(stack, overrides);

        before(async () => {
            run = await runProgram(stack, overrides);
        });

        it("a PrometheusRule in the cluster's namespace with the rules of the settings", () => {
            const rule = run.named(
                `${settings.name}-alerts`,
                "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
            );
            assert.equal(rule.inputs.apiVersion, "monitoring.coreos.com/v1");
            assert.equal(rule.inputs.metadata.namespace, settings.namespace);
            assert.equal(rule.inputs.metadata.name, `${settings.name}-alerts`);
            assert.deepEqual(rule.inputs.spec, prometheusRuleSpec(settings));
            const lag = rule.inputs.spec.groups[0].rules.find(
                (r: any) => r.alert === "ValkeyReplicationLag",
            );
            assert.ok(lag, "ValkeyReplicationLag");
            assert.ok(lag.expr.endsWith(`> ${settings.alerts.replicationLagSeconds}`));
        });

        it("a dashboard ConfigMap labelled for Grafana's sidecar, holding valid JSON", () => {
            const cm = run.named(`${settings.name}-dashboard`, "kubernetes:core/v1:ConfigMap");
            assert.equal(cm.inputs.metadata.labels.grafana_dashboard, "1");
            assert.equal(cm.inputs.metadata.namespace, settings.namespace);
            const files = Object.keys(cm.inputs.data);
            assert.deepEqual(files, [`valkey-${settings.name}.json`]);
            const dashboard = JSON.parse(cm.inputs.data[files[0]]);
            assert.ok(dashboard.panels.length >= 10);
            const memory = dashboard.panels.find((p: any) => p.title === "Memory used / maxmemory");
            assert.equal(
                memory.fieldConfig.defaults.thresholds.steps[1].value,
                settings.alerts.memoryUsedRatio,
            );
        });

        it("the ServiceMonitor and the PrometheusRule are valid against the Prometheus operator's CRD schemas", async () => {
            for (const type of ["ServiceMonitor", "PrometheusRule"]) {
                const [r] = run.ofType(`kubernetes:monitoring.coreos.com/v1:${type}`);
                assert.equal(await validateManifest(manifestOf(r)), "validated", type);
            }
            // The schema is the judge: a relabeling with an unknown action is refused.
            const sm = manifestOf(
                run.ofType("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")[0],
            );
            const broken = structuredClone(sm);
            broken.spec.endpoints[0].relabelings[0].action = "rewrite";
            await assert.rejects(validateManifest(broken));
        });

        it("the ServiceMonitor adds zone and shard labels from the layout", () => {
            const sm = run.named(
                `${settings.name}-servicemonitor`,
                "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
            );
            const layout = computeLayout({
                shards: settings.shards,
                replicasPerShard: settings.replicasPerShard,
                zones: settings.zones,
            });
            assert.deepEqual(
                sm.inputs.spec.endpoints[0].relabelings,
                scrapeRelabelings(settings.name, layout),
            );
        });
    });
}
