import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { imagePinProblem, resolveSettings } from "../../components/config";
import { problems } from "../helpers/settings";


describe("settings defaults", () => {
    it("dev: aws, three zones of the region, 3 shards x 1 replica, aof+rdb", () => {
        const s = resolveSettings({}, "dev");
        assert.equal(s.environment, "dev");
        assert.equal(s.cloud, "aws");
        assert.deepEqual(s.zones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
        assert.equal(s.shards, 3);
        assert.equal(s.replicasPerShard, 1);
        assert.equal(s.persistence, "aof+rdb");
        assert.equal(s.maxmemoryRatio, 0.75);
        assert.equal(s.maxmemoryBytes, Math.floor(0.75 * 6 * 2 ** 30));
        assert.equal(s.aws.instanceType, "r7g.large");
        assert.equal(s.volumeSize, "12Gi");
    });
    it("prod: two replicas per shard, larger nodes, kernel tuning, NAT per AZ", () => {
        const s = resolveSettings({}, "prod");
        assert.equal(s.environment, "prod");
        assert.equal(s.replicasPerShard, 2);
        assert.equal(s.aws.instanceType, "r7g.xlarge");
        assert.equal(s.aws.natGateways, "perAz");
        assert.equal(s.kernelTuning, true);
        assert.ok(s.volumeBytes >= 2 * s.maxmemoryBytes);
    });
    it("prod-azure is prod; the region default follows the cloud", () => {
        const s = resolveSettings({ cloud: "azure" }, "prod-azure");
        assert.equal(s.environment, "prod");
        assert.deepEqual(s.zones, ["1", "2", "3"]);
        assert.equal(s.azure.vmSize, "Standard_E64ds_v5");
        assert.equal(s.memory, "400Gi");
    });
    it("local: processes, no persistence, replicas optional", () => {
        const s = resolveSettings({ replicasPerShard: 0 }, "local");
        assert.equal(s.cloud, "local");
        assert.equal(s.replicasPerShard, 0);
        assert.equal(s.persistence, "none");
        assert.deepEqual(s.zones, ["zone-a", "zone-b", "zone-c"]);
    });
    it("reads values that arrive as strings from `pulumi config set`", () => {
        const s = resolveSettings(
            { shards: "5", maxmemoryRatio: "0.7", metrics: "false", zones: '["us-east-1d","us-east-1e","us-east-1f"]', aws: '{"instanceType":"r8g.2xlarge"}', memory: "40Gi" },
            "dev",
        );
        assert.equal(s.shards, 5);
        assert.equal(s.maxmemoryRatio, 0.7);
        assert.equal(s.metrics, false);
        assert.deepEqual(s.zones, ["us-east-1d", "us-east-1e", "us-east-1f"]);
        assert.equal(s.aws.instanceType, "r8g.2xlarge");
    });
    it("does not mutate the caller's raw config", () => {
        const raw = { aws: { instanceType: "r7g.xlarge" }, shards: 5 };
        const copy = JSON.parse(JSON.stringify(raw));
        resolveSettings(raw, "dev");
        assert.deepEqual(raw, copy);
    });
});

describe("settings refusals (exact messages)", () => {
    it("fewer than 3 shards", () => {
        assert.deepEqual(problems({ shards: 2 }), [
            "valkey.shards: got 2; it must be at least 3. Valkey needs at least 3 primaries to elect a new primary after a failure; use 3 or more shards.",
        ]);
    });
    it("replicas per shard < 1 outside local", () => {
        assert.deepEqual(problems({ replicasPerShard: 0 }), [
            "valkey.replicasPerShard: got 0; it must be at least 1. Without a replica a lost pod loses its slots' data; use 1 or more.",
        ]);
    });
    it("fewer than 2 zones in dev", () => {
        assert.deepEqual(problems({ zones: ["us-east-1a"], replicasPerShard: 1 }), [
            'valkey.zones: got ["us-east-1a"] (1); dev needs at least 2 zones so that losing one keeps the cluster up. List 2 or more zones.',
            "valkey.replicasPerShard: got 1 with 1 zones; two copies of a shard would share a zone. Use at most 0 replicas per shard, or 2 zones.",
        ]);
    });
    it("fewer than 3 zones in prod", () => {
        const msgs = problems({ zones: ["us-east-1a", "us-east-1b"], replicasPerShard: 1 }, "prod");
        assert.equal(
            msgs[0],
            'valkey.zones: got ["us-east-1a","us-east-1b"] (2); prod needs at least 3 zones so that losing one keeps the cluster up. List 3 or more zones.',
        );
    });
    it("replicas + 1 > zones", () => {
        assert.deepEqual(problems({ replicasPerShard: 3 }, "prod"), [
            "valkey.replicasPerShard: got 3 with 3 zones; two copies of a shard would share a zone. Use at most 2 replicas per shard, or 4 zones.",
        ]);
    });
    it("the quorum rule: 4 shards over 3 zones", () => {
        assert.deepEqual(problems({ shards: 4 }), [
            "valkey.shards: got 4 with 3 zones; losing the zone that holds 2 primaries leaves no failover majority. Use 3, 5 or 6 shards, or 4 zones.",
        ]);
    });
    it("AWS zones that are not availability zones of the region", () => {
        assert.deepEqual(problems({ zones: ["us-east-1a", "us-west-2b", "use1-az3"], aws: { region: "us-east-1" } }), [
            'valkey.zones: got ["us-east-1a","us-west-2b","use1-az3"]; on AWS the zones are availability zone names of aws.region "us-east-1" ("us-west-2b", "use1-az3" are not). Use e.g. ["us-east-1a","us-east-1b","us-east-1c"].',
        ]);
        assert.deepEqual(problems({ zones: ["eu-west-1a", "eu-west-1b", "eu-west-1x1"], aws: { region: "eu-west-1" } }), [
            'valkey.zones: got ["eu-west-1a","eu-west-1b","eu-west-1x1"]; on AWS the zones are availability zone names of aws.region "eu-west-1" ("eu-west-1x1" is not). Use e.g. ["eu-west-1a","eu-west-1b","eu-west-1c"].',
        ]);
    });
    it("the quorum rule: 2 zones can never keep a majority", () => {
        const msgs = problems({ zones: ["us-east-1a", "us-east-1b"], shards: 3 });
        assert.deepEqual(msgs, [
            "valkey.shards: got 3 with 2 zones; losing the zone that holds 2 primaries leaves no failover majority. Use 3 zones.",
        ]);
    });
    it("maxmemory ratio > 0.8", () => {
        assert.deepEqual(problems({ maxmemoryRatio: 0.9 }), [
            "valkey.maxmemoryRatio: got 0.9; it must be at most 0.8. Valkey needs the rest of the limit for replication buffers, fork copy-on-write and fragmentation; use 0.8 or less (0.75 is the default).",
        ]);
    });
    it("a memory limit that does not fit the node size", () => {
        assert.deepEqual(problems({ memory: "15Gi", volumeSize: "40Gi" }), [
            'valkey.memory: got "15Gi"; it does not fit r7g.large (valkey.aws.instanceType), which offers 13905Mi to the Valkey container after system reservations, daemons and the exporter. Use at most 13Gi, or a larger valkey.aws.instanceType.',
        ]);
    });
    it("a memory limit that does not fit the Azure VM size", () => {
        const msgs = problems({ cloud: "azure", memory: "31Gi", volumeSize: "60Gi" });
        assert.equal(msgs.length, 1);
        assert.match(msgs[0], /^valkey\.memory: got "31Gi"; it does not fit Standard_E4ds_v5 \(valkey\.azure\.vmSize\), which offers \d+Mi/);
    });
    it("a volume smaller than 2x maxmemory with persistence on", () => {
        assert.deepEqual(problems({ volumeSize: "8Gi" }), [
            'valkey.volumeSize: got "8Gi" with maxmemory 4608Mi and persistence aof+rdb; an AOF rewrite or RDB snapshot needs room for two copies of the data. Use at least 9Gi.',
        ]);
        // Without persistence the volume only holds nodes.conf.
        assert.equal(resolveSettings({ cloud: "kubernetes", volumeSize: "1Gi", persistence: "none" }, "dev").volumeSize, "1Gi");
    });
    it("an image tag latest or missing", () => {
        assert.deepEqual(problems({ image: "valkey/valkey:latest" }), [
            'valkey.image: got "valkey/valkey:latest"; "latest" moves under you, so pods of one cluster can run different versions. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.',
        ]);
        assert.deepEqual(problems({ image: "registry.example.com:5000/valkey/valkey" }), [
            'valkey.image: got "registry.example.com:5000/valkey/valkey"; the tag is missing, so every pull may bring another version. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.',
        ]);
        assert.equal(imagePinProblem(`valkey/valkey@sha256:${"a".repeat(64)}`), undefined);
        assert.equal(imagePinProblem("registry.example.com:5000/valkey/valkey:8.1.4"), undefined);
    });
    it("burstable and non-Graviton instance types", () => {
        assert.deepEqual(problems({ aws: { instanceType: "t4g.large" } }), [
            'valkey.aws.instanceType: got "t4g.large"; burstable instances throttle under sustained load and must not run Valkey. Use a memory-optimised Graviton type such as "r7g.xlarge".',
        ]);
        assert.deepEqual(problems({ aws: { instanceType: "r7gn.xlarge" } }), [
            'valkey.aws.instanceType: got "r7gn.xlarge"; Valkey runs on Graviton r7g/r8g instances (network-optimised families need valkey:aws.networkOptimised true). Use e.g. "r7g.xlarge".',
        ]);
        assert.equal(resolveSettings({ aws: { instanceType: "r7gn.xlarge", networkOptimised: true } }, "dev").aws.instanceType, "r7gn.xlarge");
    });
    it("collects every problem and throws once", () => {
        const msgs = problems({ shards: 4, maxmemoryRatio: 0.9, image: "valkey/valkey:latest", replicasPerShard: 0 });
        assert.deepEqual(
            msgs.map((m) => m.split(":")[0]),
            ["valkey.replicasPerShard", "valkey.shards", "valkey.image", "valkey.maxmemoryRatio"],
        );
        try {
            resolveSettings({ shards: 4, maxmemoryRatio: 0.9 }, "dev");
        } catch (e) {
            assert.match((e as Error).message, /^Invalid valkey-platform settings \(2 problems\):\n {2}- valkey\.shards: .*\n {2}- valkey\.maxmemoryRatio: /);
        }
    });
    it("bad types name the setting and the value", () => {
        assert.deepEqual(problems({ shards: "three" }), ['valkey.shards: got "three"; expected a whole number. Valkey needs at least 3 primaries to elect a new primary after a failure; use 3 or more shards.']);
        assert.deepEqual(problems({ persistence: "aof" }), ['valkey.persistence: got "aof"; use one of "aof+rdb", "rdb", "none".']);
        assert.deepEqual(problems({ metrics: "yes" }), ['valkey.metrics: got "yes"; use true or false.']);
    });
});

describe("valkey:password (bring your own)", () => {
    const good = "a".repeat(12) + "B3c9-_.@";
    it("is taken when stored as a secret, and absent by default (then generated)", () => {
        assert.equal(resolveSettings({ password: good, passwordIsSecret: true }, "dev").password, good);
        assert.equal(resolveSettings({}, "dev").password, undefined);
    });
    it("is refused in plain text, too short, or with characters valkey.conf cannot hold (the value never quoted)", () => {
        assert.deepEqual(problems({ password: good, passwordIsSecret: false }), [
            "valkey.password: is set in plain text; store it encrypted: pulumi config set --secret valkey:password <value> (or pulumi config rm valkey:password to have one generated).",
        ]);
        assert.deepEqual(problems({ password: "short-one", passwordIsSecret: true }), [
            "valkey.password: has 9 characters; use 16 to 512 (or remove it to have 32 generated).",
        ]);
        const spaced = problems({ password: `${good} "x"`, passwordIsSecret: true });
        assert.deepEqual(spaced, [
            "valkey.password: contains whitespace, a quote, a backslash or a control character, which valkey.conf cannot hold; choose one without.",
        ]);
        assert.ok(!spaced.join().includes(good), "the message does not quote the password");
    });
});

describe("valkey:podAntiAffinity", () => {
    it("is required by default and takes preferred", () => {
        assert.equal(resolveSettings({}, "dev").podAntiAffinity, "required");
        assert.equal(resolveSettings({ podAntiAffinity: "preferred" }, "dev").podAntiAffinity, "preferred");
        assert.deepEqual(problems({ podAntiAffinity: "soft" }), ['valkey.podAntiAffinity: got "soft"; use one of "required", "preferred".']);
    });
});
