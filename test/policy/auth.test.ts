import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { auth } from "../../policy/auth";
import { T, awsStack, container, find, podSpec } from "./fixtures";
import { messages } from "./harness";

const conf = (r: PlainResource[]): Record<string, string> =>
    find(r, T.cm, "valkey-conf").props.data;
const stsA = (r: PlainResource[]): PlainResource => find(r, T.sts, "valkey-us-east-1a");

describe("valkey-auth", () => {
    test("passes the valid stack", async () => {
        assert.deepEqual(await messages(auth, awsStack()), []);
    });

    test("refuses a conf without auth", async () => {
        const r = awsStack();
        conf(r)["valkey.conf"] = conf(r)["valkey.conf"].replace(/^include .*$/m, "");
        assert.deepEqual(await messages(auth, r), [
            "ConfigMap (valkey-conf) must turn auth on: include the password file mounted from a Secret (e.g. include /etc/valkey-auth/auth.conf)",
        ]);
    });

    test("refuses a password in plain text in the ConfigMap", async () => {
        const r = awsStack();
        conf(r)["valkey.conf"] += "requirepass hunter2\nmasterauth hunter2\n";
        assert.deepEqual(await messages(auth, r), [
            "ConfigMap (valkey-conf) must not hold the password in plain text (requirepass, masterauth); include it from a file mounted from a Secret",
        ]);
    });

    test("refuses an auth file that does not come from a Secret", async () => {
        const r = awsStack();
        const spec = podSpec(stsA(r));
        spec.volumes = spec.volumes.map((v: any) =>
            v.name === "auth" ? { name: "auth", emptyDir: {} } : v,
        );
        container(stsA(r)).env = [];
        assert.deepEqual(await messages(auth, r), [
            "StatefulSet (valkey-us-east-1a) must take the Valkey password from a Secret: mount /etc/valkey-auth/auth.conf from a Secret volume, or bind the password env var to a secretKeyRef",
        ]);
    });

    test("accepts a projected Secret volume", async () => {
        const r = awsStack();
        const spec = podSpec(stsA(r));
        spec.volumes = spec.volumes.map((v: any) =>
            v.name === "auth"
                ? { name: "auth", projected: { sources: [{ secret: { name: "valkey-auth" } }] } }
                : v,
        );
        container(stsA(r)).env = [];
        assert.deepEqual(await messages(auth, r), []);
    });

    test("refuses a cluster without its conf ConfigMap", async () => {
        const r = awsStack().filter((x) => x.type !== T.cm);
        assert.deepEqual(await messages(auth, r), [
            "Valkey cluster (valkey) must have its valkey.conf in a ConfigMap labelled app.kubernetes.io/instance: valkey, so auth can be checked",
        ]);
    });
});
