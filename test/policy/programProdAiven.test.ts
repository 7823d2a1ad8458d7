/**
 * The prod-aiven and dev-aiven programs under Pulumi mocks, through the whole pack with their environment's policy
 * config: no violation. Then one change per Aiven policy to the prod program's service (what a hand edit or a
 * program bug could produce; config validation refuses most of these before any resource exists) and only that
 * policy reports.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { isAivenValkey } from "../../policy/aivenServices";
import { runProgram } from "../helpers/program";
import { Reported, cloneResources, fromRecorded, packConfig, runPack } from "./harness";

describe("the prod-aiven program through the pack", () => {
    let good: PlainResource[];
    before(async () => {
        const run = await runProgram("prod-aiven", {
            "valkey:kubernetes": { kubeconfig: "apiVersion: v1\nkind: Config\n" },
        });
        good = fromRecorded(run.resources);
    });

    test("has an Aiven service and a connection Secret, and violates no policy", async () => {
        assert.equal(good.filter(isAivenValkey).length, 1);
        assert.equal(good.filter((r) => r.type === "kubernetes:core/v1:Secret").length, 1);
        assert.deepEqual(await runPack(good, packConfig("prod")), []);
    });

    /** Changes the service of a copy of the good program and runs the prod pack. */
    async function broken(change: (props: Record<string, any>) => void): Promise<Reported[]> {
        const r = cloneResources(good);
        change(r.find(isAivenValkey)!.props);
        return runPack(r, packConfig("prod"));
    }
    const only = (found: Reported[], policy: string, re: RegExp): void => {
        assert.deepEqual(
            found.map((v) => v.policy),
            [policy],
            JSON.stringify(found, null, 1),
        );
        assert.match(found[0].message, re);
    };

    test("termination protection off", async () => {
        only(
            await broken((p) => (p.terminationProtection = false)),
            "valkey-aiven-termination-protection",
            /^Aiven service \(valkey-prod-aiven\) must have termination protection on/,
        );
    });

    test("0.0.0.0/0 in the IP filter", async () => {
        only(
            await broken((p) => (p.valkeyUserConfig.ipFilterStrings = ["0.0.0.0/0"])),
            "valkey-aiven-ip-filter",
            /its IP filter holds "0\.0\.0\.0\/0"/,
        );
    });

    test("a startup plan", async () => {
        only(
            await broken((p) => (p.plan = "startup-8")),
            "valkey-aiven-plan",
            /not "startup-8" \(1 node, no standby\)\. Use "business-8" or "premium-8"/,
        );
    });

    test("persistence off", async () => {
        only(
            await broken((p) => (p.valkeyUserConfig.valkeyPersistence = "off")),
            "valkey-aiven-persistence",
            /must keep persistence on/,
        );
    });
});

describe("the dev-aiven program through the pack", () => {
    test("violates no policy with the dev config (the prod-only Aiven rules are disabled there)", async () => {
        const resources = fromRecorded((await runProgram("dev-aiven")).resources);
        assert.deepEqual(await runPack(resources, packConfig("dev")), []);
        const prodRules = (await runPack(resources, packConfig("prod"))).map((v) => v.policy);
        assert.deepEqual(prodRules, [
            "valkey-aiven-termination-protection",
            "valkey-aiven-ip-filter",
            "valkey-aiven-plan",
        ]);
    });
});
