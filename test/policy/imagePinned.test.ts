import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { imagePinned } from "../../policy/imagePinned";
import { T, awsStack, container, find, podSpec } from "./fixtures";
import { messages } from "./harness";

describe("valkey-image-pinned", () => {
    test("passes the valid stack, and a digest", async () => {
        const r = awsStack();
        assert.deepEqual(await messages(imagePinned, r), []);
        container(find(r, T.sts, "valkey-us-east-1a")).image =
            `valkey/valkey@sha256:${"a".repeat(64)}`;
        assert.deepEqual(await messages(imagePinned, r), []);
    });

    test("refuses latest", async () => {
        const r = awsStack();
        container(find(r, T.sts, "valkey-us-east-1a")).image = "valkey/valkey:latest";
        assert.deepEqual(await messages(imagePinned, r), [
            'StatefulSet (valkey-us-east-1a) must pin the image of container valkey: got "valkey/valkey:latest"; "latest" moves under you, so pods of one cluster can run different versions. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.',
        ]);
    });

    test("refuses a missing tag on a sidecar", async () => {
        const r = awsStack();
        container(find(r, T.sts, "valkey-us-east-1b"), "exporter").image =
            "oliver006/redis_exporter";
        assert.deepEqual(await messages(imagePinned, r), [
            'StatefulSet (valkey-us-east-1b) must pin the image of container exporter: got "oliver006/redis_exporter"; the tag is missing, so every pull may bring another version. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.',
        ]);
    });

    test("refuses an unpinned init container", async () => {
        const r = awsStack();
        podSpec(find(r, T.sts, "valkey-us-east-1c")).initContainers = [
            { name: "kernel-tuning", image: "busybox:latest" },
        ];
        assert.equal(
            (await messages(imagePinned, r))[0].startsWith(
                "StatefulSet (valkey-us-east-1c) must pin the image of container kernel-tuning",
            ),
            true,
        );
    });

    test("ignores StatefulSets that are not Valkey", async () => {
        const r = awsStack();
        const sts = find(r, T.sts, "valkey-us-east-1a");
        sts.props.metadata.labels["app.kubernetes.io/name"] = "other";
        sts.props.spec.template.metadata.labels["app.kubernetes.io/name"] = "other";
        container(sts).image = "nginx:latest";
        assert.deepEqual(await messages(imagePinned, r), []);
    });
});
