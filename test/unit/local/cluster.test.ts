import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { resolveSettings, type Settings } from "../../../components/config";
import { LocalValkeyCluster } from "../../../components/local/cluster";
import { renderLocalConf } from "../../../components/local/serverConf";
import { isSecret, stackConfig, unwrapSecrets, valueOf } from "../../helpers/program";

/**
 * The local platform's component under Pulumi mocks, built from the settings of Pulumi.local.yaml exactly as
 * index.ts builds it for `cloud: local`. The provider methods do not run under mocks (the integration tests
 * call them), but the provider is serialized, so a capture that cannot be serialized fails here.
 */

const SERVER = "pulumi-nodejs:dynamic/local:ValkeyServer";
const COMPONENT = "valkey-platform:local:LocalValkeyCluster";
const SLOTS = "pulumi-nodejs:dynamic:Resource";
const ROOT = "/home/someone/valkey-platform";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

/** The `valkey` namespace of a stack file as raw settings. */
function localSettings(overrides: Record<string, unknown> = {}): Settings {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(stackConfig("local"))) {
        if (key.startsWith("valkey:")) raw[key.slice("valkey:".length)] = value;
    }
    return resolveSettings({ ...raw, ...overrides }, "local");
}

async function build(
    settings: Settings,
    args: { password?: pulumi.Input<string> } = {},
): Promise<{ cluster: LocalValkeyCluster; resources: Registered[] }> {
    const resources: Registered[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(a) {
                resources.push({ type: a.type, name: a.name, inputs: a.inputs });
                const observed =
                    a.type === SERVER
                        ? { pid: 4242, alive: true, nodeId: `id-${a.name}` }
                        : { clusterState: "ok" };
                return { id: `${a.name}-id`, state: { ...a.inputs, ...observed } };
            },
            call: (a) => a.inputs,
        },
        "valkey-platform",
        "local",
        true,
    );
    const cluster = new LocalValkeyCluster(settings.name, { settings, projectRoot: ROOT, ...args });
    await valueOf(cluster.zones);
    await valueOf(cluster.clusterState);
    for (const s of cluster.servers) await valueOf(s.urn);
    // registerOutputs completes on a later turn; the next setMocks must not cut it off.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { cluster, resources };
}

describe("LocalValkeyCluster (Pulumi.local.yaml)", () => {
    let settings: Settings;
    let cluster: LocalValkeyCluster;
    let resources: Registered[];
    before(async () => {
        settings = localSettings({ local: { serverBinary: "redis-server" } });
        ({ cluster, resources } = await build(settings));
    });

    it("creates one ValkeyServer per pod of the layout, named after the pod", () => {
        const servers = resources.filter((r) => r.type === SERVER);
        assert.deepEqual(
            servers.map((s) => `${s.name} ${s.inputs.zone} ${s.inputs.host}:${s.inputs.port}`),
            [
                "valkey-zone-a-0 zone-a 127.0.1.1:7000",
                "valkey-zone-a-1 zone-a 127.0.1.1:7003",
                "valkey-zone-b-0 zone-b 127.0.2.1:7001",
                "valkey-zone-b-1 zone-b 127.0.2.1:7004",
                "valkey-zone-c-0 zone-c 127.0.3.1:7002",
                "valkey-zone-c-1 zone-c 127.0.3.1:7005",
            ],
        );
        assert.equal(resources.filter((r) => r.type === COMPONENT).length, 1);
        assert.equal(
            resources.some((r) => r.type.startsWith("kubernetes:")),
            false,
        );
    });

    it("forms the cluster with one ValkeySlots over every node, per zone by ordinal", () => {
        const slots = resources.filter((r) => r.type === SLOTS);
        assert.deepEqual(
            slots.map((r) => r.name),
            ["valkey-slots"],
        );
        const { inputs } = slots[0];
        assert.equal(inputs.shards, 3);
        assert.equal(inputs.replicasPerShard, 1);
        assert.deepEqual(inputs.zones, ["zone-a", "zone-b", "zone-c"]);
        assert.equal(inputs.nodeTimeoutMs, settings.nodeTimeoutMs);
        assert.deepEqual(
            inputs.nodes.map((n: any) => `${n.id} ${n.zone} ${n.host}:${n.port}`),
            [
                "valkey-zone-a-0 zone-a 127.0.1.1:7000",
                "valkey-zone-a-1 zone-a 127.0.1.1:7003",
                "valkey-zone-b-0 zone-b 127.0.2.1:7001",
                "valkey-zone-b-1 zone-b 127.0.2.1:7004",
                "valkey-zone-c-0 zone-c 127.0.3.1:7002",
                "valkey-zone-c-1 zone-c 127.0.3.1:7005",
            ],
        );
        assert.equal(inputs.password, undefined);
    });

    it("parents every server and the bootstrap to the component", async () => {
        for (const server of cluster.servers) {
            const urn = await valueOf(server.urn);
            assert.match(urn!, new RegExp(`::${COMPONENT}\\$${SERVER}::`));
        }
        const slotsUrn = await valueOf(cluster.slots.urn);
        assert.match(slotsUrn!, new RegExp(`::${COMPONENT}\\$${SLOTS}::valkey-slots$`));
    });

    it("gives each node a directory under local.dataDir of the project root, and the settings' limits", () => {
        const server = resources.find((r) => r.name === "valkey-zone-b-1")!;
        const { inputs } = server;
        assert.equal(inputs.dataDir, path.join(ROOT, ".local-data", "valkey-zone-b-1"));
        assert.equal(inputs.binary, "redis-server");
        assert.equal(inputs.busPort, 17004);
        assert.equal(inputs.persistence, "none");
        assert.equal(inputs.password, undefined);
        assert.equal(
            unwrapSecrets(inputs.conf),
            renderLocalConf({
                zone: "zone-b",
                host: "127.0.2.1",
                port: 7004,
                dataDir: path.join(ROOT, ".local-data", "valkey-zone-b-1"),
                binary: "redis-server",
                nodeTimeoutMs: settings.nodeTimeoutMs,
                maxmemoryBytes: settings.maxmemoryBytes,
                maxmemoryPolicy: settings.maxmemoryPolicy,
                persistence: "none",
            }),
        );
        assert.match(unwrapSecrets(inputs.conf) as string, /^maxmemory 201326592$/m);
    });

    it("serializes the provider (it runs in another process)", () => {
        for (const server of resources.filter((r) => r.type === SERVER)) {
            const provider = unwrapSecrets(server.inputs.__provider) as string;
            assert.match(provider, /^exports\.handler = /);
        }
    });

    it("exports the endpoints, the seed and the nodes of each zone", async () => {
        assert.deepEqual(await valueOf(cluster.endpoints), [
            "127.0.1.1:7000",
            "127.0.1.1:7003",
            "127.0.2.1:7001",
            "127.0.2.1:7004",
            "127.0.3.1:7002",
            "127.0.3.1:7005",
        ]);
        assert.equal(await valueOf(cluster.seedEndpoint), "127.0.1.1:7000");
        assert.deepEqual(await valueOf(cluster.zones), [
            { zone: "zone-a", host: "127.0.1.1", endpoints: ["127.0.1.1:7000", "127.0.1.1:7003"] },
            { zone: "zone-b", host: "127.0.2.1", endpoints: ["127.0.2.1:7001", "127.0.2.1:7004"] },
            { zone: "zone-c", host: "127.0.3.1", endpoints: ["127.0.3.1:7002", "127.0.3.1:7005"] },
        ]);
    });
});

describe("LocalValkeyCluster with a password", () => {
    it("keeps the password and the config that holds it secret", async () => {
        const settings = localSettings({ local: { serverBinary: "redis-server" } });
        const { cluster } = await build(settings, { password: pulumi.secret("pw-0123456789") });
        const server = cluster.servers[0];
        assert.equal(await isSecret(server.password), true);
        assert.equal(await isSecret(server.conf), true);
        assert.equal(await isSecret(server.liveConfig), false);
        assert.equal(await isSecret(server.busPort), false);
        assert.match((await valueOf(server.conf))!, /^masterauth pw-0123456789$/m);
    });
});

describe("LocalValkeyCluster refusals", () => {
    it("refuses a basePort whose cluster-bus ports pass 65535, in settings validation", async () => {
        assert.throws(
            () => localSettings({ local: { basePort: 60000 } }),
            (e: Error) =>
                e.message ===
                "Invalid valkey-platform settings (1 problem):\n  - valkey.local.basePort: got 60000; the nodes use ports 60000-60005 and their cluster bus ports (+10000) would pass 65535. Use a basePort of at most 55530, e.g. 7000.",
        );
    });
});
