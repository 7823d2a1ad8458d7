import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { podSecurity } from "../../policy/podSecurity";
import { T, awsStack, container, find, podSpec } from "./fixtures";
import { messages } from "./harness";

describe("valkey-pod-security", () => {
    test("passes the valid stack, with a privileged init container", async () => {
        const r = awsStack();
        podSpec(find(r, T.sts, "valkey-us-east-1a")).initContainers = [
            {
                name: "kernel-tuning",
                image: "valkey/valkey:8.1.4",
                securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
            },
        ];
        assert.deepEqual(await messages(podSecurity, r), []);
    });

    test("refuses a root container", async () => {
        const r = awsStack();
        const sts = find(r, T.sts, "valkey-us-east-1a");
        delete podSpec(sts).securityContext.runAsNonRoot;
        delete container(sts).securityContext.runAsNonRoot;
        assert.deepEqual(await messages(podSecurity, r), [
            "StatefulSet (valkey-us-east-1a) must run container valkey as non-root (securityContext.runAsNonRoot true)",
        ]);
    });

    test("refuses runAsUser 0", async () => {
        const r = awsStack();
        container(find(r, T.sts, "valkey-us-east-1a"), "exporter").securityContext.runAsUser = 0;
        assert.deepEqual(await messages(podSecurity, r), [
            "StatefulSet (valkey-us-east-1a) must run container exporter as non-root (securityContext.runAsNonRoot true, not runAsUser 0)",
        ]);
    });

    test("refuses a writable root filesystem", async () => {
        const r = awsStack();
        container(find(r, T.sts, "valkey-us-east-1b")).securityContext.readOnlyRootFilesystem =
            false;
        assert.deepEqual(await messages(podSecurity, r), [
            "StatefulSet (valkey-us-east-1b) must give container valkey a read-only root filesystem (securityContext.readOnlyRootFilesystem true)",
        ]);
    });

    test("refuses a privileged container", async () => {
        const r = awsStack();
        container(find(r, T.sts, "valkey-us-east-1c")).securityContext.privileged = true;
        assert.deepEqual(await messages(podSecurity, r), [
            "StatefulSet (valkey-us-east-1c) must not run container valkey privileged",
        ]);
    });
});
