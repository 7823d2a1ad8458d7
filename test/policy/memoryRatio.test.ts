import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlainResource } from "../../policy/common";
import { memoryRatio } from "../../policy/memoryRatio";
import { DAEMONSET_MEMORY_BYTES, findNodeSize } from "../../components/sizing";
import { gib } from "../../policy/common";
import { T, awsStack, azureStack, container, find } from "./fixtures";
import { messages } from "./harness";

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const stsA = (r: PlainResource[]): PlainResource => find(r, T.sts, "valkey-us-east-1a");
const conf = (r: PlainResource[]): Record<string, string> =>
    find(r, T.cm, "valkey-conf").props.data;
const setMaxmemory = (r: PlainResource[], line: string): void => {
    conf(r)["valkey.conf"] = conf(r)["valkey.conf"].replace(/^maxmemory \d+$/m, line);
};
const setMemory = (sts: PlainResource, memory: string): void => {
    const c = container(sts);
    c.resources.requests.memory = memory;
    c.resources.limits.memory = memory;
};

describe("valkey-memory-ratio", () => {
    test("passes the valid AWS and Azure stacks", async () => {
        assert.deepEqual(await messages(memoryRatio, awsStack()), []);
        assert.deepEqual(await messages(memoryRatio, azureStack()), []);
    });

    test("refuses a memory request below the limit", async () => {
        const r = awsStack();
        container(stsA(r)).resources.requests.memory = "20Gi";
        assert.deepEqual(await messages(memoryRatio, r), [
            "StatefulSet (valkey-us-east-1a) must request as much memory as its limit in container valkey (requests 20Gi, limits 22Gi), so the pod is never evicted or OOM-killed ahead of others",
        ]);
    });

    test("refuses a container without a memory limit", async () => {
        const r = awsStack();
        delete container(stsA(r), "exporter").resources.limits;
        assert.deepEqual(await messages(memoryRatio, r), [
            "StatefulSet (valkey-us-east-1a) must set a memory limit on container exporter",
        ]);
    });

    test("refuses maxmemory at 90% of the limit", async () => {
        const r = awsStack();
        setMaxmemory(r, `maxmemory ${Math.floor(0.9 * 22 * GiB)}`);
        const msgs = await messages(memoryRatio, r);
        assert.equal(msgs.length, 3);
        assert.equal(
            msgs[0],
            "ConfigMap (valkey-conf) must keep maxmemory at or below 75% of the memory limit of StatefulSet valkey-us-east-1a (22Gi): got 19.8Gi (90%). The rest is needed for replication buffers, copy-on-write during persistence and fragmentation; set valkey:maxmemoryRatio to 0.75 or less",
        );
    });

    test("reads maxmemory with Valkey's units and honours a configured ratio", async () => {
        const r = awsStack();
        setMaxmemory(r, "maxmemory 17gb");
        assert.equal((await messages(memoryRatio, r)).length, 3);
        assert.deepEqual(await messages(memoryRatio, r, { maxmemoryRatio: 0.8 }), []);
    });

    test("refuses a conf without maxmemory", async () => {
        const r = awsStack();
        setMaxmemory(r, "");
        assert.deepEqual(await messages(memoryRatio, r), [
            "ConfigMap (valkey-conf) must set maxmemory in valkey.conf; without it Valkey grows until the container is OOM-killed",
        ]);
    });

    test("refuses a cluster without its conf ConfigMap", async () => {
        const r = awsStack().filter((x) => x.type !== T.cm);
        assert.deepEqual(await messages(memoryRatio, r), [
            "Valkey cluster (valkey) must have its valkey.conf in a ConfigMap labelled app.kubernetes.io/instance: valkey, so maxmemory can be checked",
        ]);
    });

    test("refuses a volume below 2x maxmemory with persistence on, and allows it without persistence", async () => {
        const r = awsStack();
        stsA(r).props.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "30Gi";
        assert.deepEqual(await messages(memoryRatio, r), [
            "StatefulSet (valkey-us-east-1a) must request a data volume of at least 2x maxmemory (33Gi) with persistence on: got 30Gi; an AOF rewrite or RDB snapshot needs room for two copies of the data. Raise valkey:volumeSize",
        ]);
        conf(r)["valkey.conf"] = conf(r)
            ["valkey.conf"].replace(/^appendonly yes$/m, "appendonly no")
            .replace(/^save .*$/m, 'save ""');
        assert.deepEqual(await messages(memoryRatio, r), []);
        assert.equal((await messages(memoryRatio, r, { volumeToMemoryFactor: 1 })).length, 0);
    });

    test("refuses a volume claim without a size when persistence is on", async () => {
        const r = awsStack();
        delete stsA(r).props.spec.volumeClaimTemplates[0].spec.resources;
        assert.deepEqual(await messages(memoryRatio, r), [
            "StatefulSet (valkey-us-east-1a) must request a data volume (volumeClaimTemplates) with a storage size, since persistence is on",
        ]);
    });

    test("refuses a pod that does not fit its Graviton node size", async () => {
        const r = awsStack();
        const xlarge = findNodeSize("r7g.xlarge")!;
        const gi = Math.ceil(xlarge.allocatableMemoryBytes / GiB);
        setMemory(stsA(r), `${gi}Gi`);
        const containers = gi * GiB + 64 * MiB;
        assert.deepEqual(await messages(memoryRatio, r), [
            `StatefulSet (valkey-us-east-1a) must fit the memory its node size offers: a pod needs ${gib(containers + DAEMONSET_MEMORY_BYTES)} (containers ${gib(containers)} + 512Mi for node daemons) but r7g.xlarge (NodePool valkey) offers ${gib(xlarge.allocatableMemoryBytes)} to pods. Lower valkey:memory or use a larger node size`,
        ]);
    });

    test("refuses a pod that does not fit its E-series VM size", async () => {
        const r = azureStack();
        const e8 = findNodeSize("Standard_E8ds_v5")!;
        const gi = Math.ceil(e8.allocatableMemoryBytes / GiB);
        setMemory(find(r, T.sts, "valkey-eastus2-2"), `${gi}Gi`);
        const containers = gi * GiB + 64 * MiB;
        assert.deepEqual(await messages(memoryRatio, r), [
            `StatefulSet (valkey-eastus2-2) must fit the memory its node size offers: a pod needs ${gib(containers + DAEMONSET_MEMORY_BYTES)} (containers ${gib(containers)} + 512Mi for node daemons) but Standard_E8ds_v5 (AgentPool valkey2) offers ${gib(e8.allocatableMemoryBytes)} to pods. Lower valkey:memory or use a larger node size`,
        ]);
    });
});
