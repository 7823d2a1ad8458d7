/**
 * Values unknown during preview: the policy server wraps props in a proxy that throws on them. A part of a check
 * that reads one stops alone; the other parts still report, and the policy then hands the error to the server,
 * which adds its advisory "can't run during preview" note.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { imagePinned } from "../../policy/imagePinned";
import { memoryRatio } from "../../policy/memoryRatio";
import { T, awsStack, container, find } from "./fixtures";
import { resourceArgs, stackArgs } from "./harness";

const proxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy: <U>(o: U) => U;
    unknownStringValue: string;
    UnknownValueError: new (...args: any[]) => Error;
};

const previewed = (resources: PlainResource[]): PlainResource[] =>
    resources.map((r) => ({ ...r, props: proxy.unknownCheckingProxy(r.props) }));

describe("values unknown during preview", () => {
    test("a stack policy reports the parts it could read, then defers to the server", async () => {
        const r = awsStack();
        const sts = find(r, T.sts, "valkey-us-east-1a");
        sts.props.spec.volumeClaimTemplates[0].spec.resources.requests.storage =
            proxy.unknownStringValue;
        container(find(r, T.sts, "valkey-us-east-1b")).resources.requests.memory = "20Gi";
        const reported: string[] = [];
        await assert.rejects(
            async () => memoryRatio.validateStack(stackArgs(previewed(r)), (m) => reported.push(m)),
            (e: unknown) => e instanceof proxy.UnknownValueError,
        );
        assert.deepEqual(reported, [
            "StatefulSet (valkey-us-east-1b) must request as much memory as its limit in container valkey (requests 20Gi, limits 22Gi), so the pod is never evicted or OOM-killed ahead of others",
        ]);
    });

    test("a resource policy checks the containers it can read", async () => {
        const r = awsStack();
        const sts = find(r, T.sts, "valkey-us-east-1a");
        container(sts).image = proxy.unknownStringValue;
        container(sts, "exporter").image = "oliver006/redis_exporter:latest";
        const reported: string[] = [];
        const validate = imagePinned.validateResource as (
            a: unknown,
            r: (m: string) => void,
        ) => void;
        assert.throws(
            () => validate(resourceArgs(previewed([sts])[0]), (m) => reported.push(m)),
            (e: unknown) => e instanceof proxy.UnknownValueError,
        );
        assert.equal(reported.length, 1);
        assert.match(
            reported[0],
            /^StatefulSet \(valkey-us-east-1a\) must pin the image of container exporter/,
        );
    });

    test("a stack without unknowns passes through the proxy", async () => {
        const reported: string[] = [];
        await memoryRatio.validateStack(stackArgs(previewed(awsStack())), (m) => reported.push(m));
        assert.deepEqual(reported, []);
    });
});
