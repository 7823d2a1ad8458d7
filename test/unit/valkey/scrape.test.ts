import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { computeLayout } from "../../../components/valkey/layout";
import { podName } from "../../../components/naming";
import {
    POD_NAME_META_LABEL,
    ZONE_META_LABEL,
    clusterMatchers,
    scrapeRelabelings,
} from "../../../components/valkey/scrape";

/** Applies relabelings the way Prometheus does (replace action, anchored regex) to one target's labels. */
function relabel(
    rules: ReturnType<typeof scrapeRelabelings>,
    target: Record<string, string>,
): Record<string, string> {
    const out = { ...target };
    for (const r of rules) {
        const value = r.sourceLabels.map((l) => out[l] ?? "").join(";");
        const m = new RegExp(`^(?:${r.regex ?? "(.*)"})$`).exec(value);
        if (!m) continue;
        out[r.targetLabel] = (r.replacement ?? "$1").replace(
            /\$(\d)/g,
            (_, i: string) => m[Number(i)] ?? "",
        );
    }
    return out;
}

describe("scrape labels (ServiceMonitor relabelings)", () => {
    it("every pod of the layout gets its zone and exactly its shard", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 1, max: 12 }),
                fc.integer({ min: 0, max: 2 }),
                (shards, replicas) => {
                    const zones = ["zone-a", "zone-b", "zone-c"];
                    const layout = computeLayout({ shards, replicasPerShard: replicas, zones });
                    const rules = scrapeRelabelings("valkey", layout);
                    for (const { shard, primary, replicas: reps } of layout.shards) {
                        for (const p of [primary, ...reps]) {
                            const labels = relabel(rules, {
                                [POD_NAME_META_LABEL]: podName("valkey", p.zone, p.ordinal),
                                [ZONE_META_LABEL]: p.zone,
                            });
                            assert.equal(labels.shard, String(shard));
                            assert.equal(labels.zone, p.zone);
                        }
                    }
                },
            ),
        );
    });

    it("a pod of another cluster or a longer name gets no shard", () => {
        const layout = computeLayout({
            shards: 3,
            replicasPerShard: 1,
            zones: ["zone-a", "zone-b", "zone-c"],
        });
        const rules = scrapeRelabelings("valkey", layout);
        assert.equal(relabel(rules, { [POD_NAME_META_LABEL]: "other-zone-a-0" }).shard, undefined);
        assert.equal(
            relabel(rules, { [POD_NAME_META_LABEL]: "valkey-zone-a-00" }).shard,
            undefined,
        );
        assert.deepEqual(rules[0], {
            sourceLabels: [ZONE_META_LABEL],
            targetLabel: "zone",
            action: "replace",
        });
    });

    it("the selector of one cluster's series", () => {
        assert.equal(clusterMatchers("valkey", "data"), 'namespace="data",job="valkey-metrics"');
    });
});
