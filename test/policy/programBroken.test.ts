/**
 * Deliberately broken prod programs: config validation refuses these settings before any resource exists, so
 * the pack must catch them on its own. Each test takes the resources of the good prod program (one mocked run),
 * breaks one thing, and expects the pack's violation.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import {
    LABELS,
    TOPOLOGY_ZONE,
    bootstrapTargets,
    valkeyStatefulSets,
} from "../../policy/resources";
import { runProgram } from "../helpers/program";
import { Reported, cloneResources, fromRecorded, packConfig, runPack } from "./harness";

const NODE_POOL = /^kubernetes:karpenter\.sh\/v1(beta1)?:NodePool$/;

describe("broken prod programs through the pack", () => {
    let good: PlainResource[];
    before(async () => {
        good = fromRecorded((await runProgram("prod")).resources);
        assert.deepEqual(
            await runPack(good, packConfig("prod")),
            [],
            "the unbroken program passes",
        );
    });

    /** Breaks a copy of the good program, runs the pack, and checks every violation comes from `policies`. */
    async function broken(
        policies: string[],
        breakIt: (r: PlainResource[]) => void,
    ): Promise<Reported[]> {
        const r = cloneResources(good);
        breakIt(r);
        const found = await runPack(r, packConfig("prod"));
        assert.ok(found.length > 0, "a violation");
        assert.deepEqual(
            [...new Set(found.map((v) => v.policy))].sort(),
            [...policies].sort(),
            JSON.stringify(found, null, 1),
        );
        return found;
    }
    const has = (found: Reported[], re: RegExp): void =>
        assert.ok(
            found.some((v) => re.test(v.message)),
            `${re} in ${JSON.stringify(found, null, 1)}`,
        );
    const zoneOf = (sts: PlainResource): string => sts.props.metadata.labels[LABELS.zone];
    const valkeyPool = (r: PlainResource[]): PlainResource => {
        const pools = r.filter(
            (x) =>
                NODE_POOL.test(x.type) &&
                x.props.spec?.template?.spec?.taints?.some(
                    (t: any) => t.key === "workload" && t.value === "valkey",
                ),
        );
        assert.equal(pools.length, 1);
        return pools[0];
    };
    const requirementOf = (pool: PlainResource, key: string): any =>
        pool.props.spec.template.spec.requirements.find((q: any) => q.key === key);

    /** The program's slot bootstrap resource. */
    function withBootstrap(r: PlainResource[]): PlainResource {
        const targets = bootstrapTargets(r);
        assert.equal(targets.length, 1, "the program creates one slot bootstrap");
        return r.find((x) => x.urn === targets[0].urn)!;
    }

    test("a replica in its primary's zone", async () => {
        const found = await broken(["valkey-zone-separation"], (r) => {
            withBootstrap(r);
            const [first, , third] = valkeyStatefulSets(r);
            const term =
                third.props.spec.template.spec.affinity.nodeAffinity
                    .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
            term.matchExpressions.find((e: any) => e.key === TOPOLOGY_ZONE).values = [
                zoneOf(first),
            ];
        });
        has(
            found,
            /^Slot bootstrap \(.+\) must keep every replica out of its primary's zone and each copy of a shard in its own zone: shard \d has its primary and a replica in zone /,
        );
    });

    test("4 shards in 3 zones", async () => {
        let firstZone = "";
        const found = await broken(["valkey-zone-separation"], (r) => {
            withBootstrap(r).props.shards = 4;
            firstZone = bootstrapTargets(r)[0].zones[0];
        });
        has(
            found,
            new RegExp(
                `must keep a failover majority after the loss of any one zone: zone ${firstZone} holds 2 of 4 primaries.*Use 3, 5 or 6 shards, or 4 zones$`,
            ),
        );
    });

    test("maxmemory at 90% of the limit", async () => {
        const found = await broken(["valkey-memory-ratio"], (r) => {
            const sts = valkeyStatefulSets(r)[0];
            const limit = sts.props.spec.template.spec.containers.find(
                (c: any) => c.name === "valkey",
            ).resources.limits.memory as string;
            const bytes = Number(/^(\d+)Gi$/.exec(limit)![1]) * 2 ** 30;
            const conf = r.find(
                (x) =>
                    x.type === "kubernetes:core/v1:ConfigMap" &&
                    typeof x.props.data?.["valkey.conf"] === "string",
            )!;
            conf.props.data["valkey.conf"] = conf.props.data["valkey.conf"].replace(
                /^maxmemory \d+$/m,
                `maxmemory ${Math.floor(0.9 * bytes)}`,
            );
        });
        has(
            found,
            /^ConfigMap \(.+\) must keep maxmemory at or below 75% of the memory limit of StatefulSet .+: got .+ \(90%\)/,
        );
    });

    test("a t4g NodePool", async () => {
        const found = await broken(["valkey-node-pools"], (r) => {
            requirementOf(valkeyPool(r), "karpenter.k8s.aws/instance-family").values = ["t4g"];
        });
        has(found, /^NodePool \(.+\) must not use the burstable instance family t4g/);
    });

    test("a Spot NodePool", async () => {
        const found = await broken(["valkey-no-spot"], (r) => {
            requirementOf(valkeyPool(r), "karpenter.sh/capacity-type").values = ["spot"];
        });
        has(found, /^NodePool \(.+\) must not launch Spot capacity for Valkey/);
    });

    test("the latest tag", async () => {
        const found = await broken(["valkey-image-pinned"], (r) => {
            for (const sts of valkeyStatefulSets(r)) {
                sts.props.spec.template.spec.containers.find(
                    (c: any) => c.name === "valkey",
                ).image = "valkey/valkey:latest";
            }
        });
        has(
            found,
            /^StatefulSet \(.+\) must pin the image of container valkey: got "valkey\/valkey:latest"; "latest" moves under you/,
        );
    });
});
