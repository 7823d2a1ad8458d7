/**
 * `cloud: aiven` settings: the defaults of dev and prod, how the shared settings map, and every refusal with its
 * exact message (components/config.ts with components/aiven/mapping.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveSettings } from "../../../components/config";
import { problems } from "../../helpers/settings";

const DEV = { cloud: "aiven", aiven: { project: "acme-dev" } };
const PROD = { cloud: "aiven", aiven: { project: "acme-prod", ipFilter: ["203.0.113.0/24"] } };

describe("aiven settings: defaults", () => {
    it("dev: startup-4 (one node), open ip filter, no termination protection, rdb, TLS", () => {
        const s = resolveSettings(DEV, "dev");
        assert.equal(s.cloud, "aiven");
        assert.deepEqual(s.aiven, {
            project: "acme-dev",
            cloudName: "aws-us-east-1",
            plan: "startup-4",
            serviceName: "valkey-dev",
            maintenanceWindow: { day: "sunday", time: "02:00:00" },
            tags: {
                "valkey-platform-cluster": "valkey",
                "valkey-platform-environment": "dev",
                "valkey-platform-stack": "dev",
            },
            terminationProtection: false,
            technicalEmails: [],
            ipFilter: ["0.0.0.0/0"],
            backupHour: undefined,
            backupMinute: undefined,
        });
        assert.equal(s.shards, 1);
        assert.equal(s.replicasPerShard, 0);
        assert.deepEqual(s.zones, []);
        assert.equal(s.persistence, "rdb");
        assert.equal(s.maxmemoryPolicy, "noeviction");
        assert.equal(s.tls.enabled, true);
        assert.equal(s.metrics, false);
        assert.equal(s.kernelTuning, false);
    });

    it("prod: business-4 (a standby in another zone), termination protection on", () => {
        const s = resolveSettings(PROD, "prod-aiven");
        assert.equal(s.environment, "prod");
        assert.equal(s.aiven.plan, "business-4");
        assert.equal(s.replicasPerShard, 1);
        assert.equal(s.aiven.terminationProtection, true);
        assert.equal(s.aiven.serviceName, "valkey-prod-aiven");
        assert.deepEqual(s.aiven.ipFilter, ["203.0.113.0/24"]);
        assert.equal(s.kernelTuning, false);
    });

    it("the plan family decides the replicas", () => {
        const plan = (p: string) =>
            resolveSettings({ ...PROD, aiven: { ...PROD.aiven, plan: p } }, "prod")
                .replicasPerShard;
        assert.equal(plan("business-16"), 1);
        assert.equal(plan("premium-8"), 2);
        const dev = (p: string) =>
            resolveSettings({ ...DEV, aiven: { ...DEV.aiven, plan: p } }, "dev").replicasPerShard;
        assert.equal(dev("hobbyist"), 0);
        assert.equal(dev("startup-28"), 0);
    });

    it("maps what maps: a matching replicasPerShard, shards 1, persistence none, ioThreads, tags, backups", () => {
        const s = resolveSettings(
            {
                cloud: "aiven",
                shards: "1",
                replicasPerShard: 2,
                persistence: "rdb",
                ioThreads: 4,
                maxmemoryPolicy: "allkeys-lru",
                tls: { enabled: true },
                metrics: false,
                aiven: {
                    project: "acme-prod",
                    plan: "premium-8",
                    ipFilter: "10.0.0.0/16, 2001:db8::/32",
                    tags: { team: "platform", "valkey-platform-stack": "renamed" },
                    technicalEmails: ["oncall@example.com"],
                    backupHour: "3",
                },
            },
            "prod",
        );
        assert.equal(s.replicasPerShard, 2);
        assert.equal(s.aiven.ioThreads, 4);
        assert.equal(s.maxmemoryPolicy, "allkeys-lru");
        assert.deepEqual(s.aiven.ipFilter, ["10.0.0.0/16", "2001:db8::/32"]);
        assert.equal(s.aiven.tags.team, "platform");
        assert.equal(s.aiven.tags["valkey-platform-stack"], "renamed", "the stack's own tags win");
        assert.equal(s.aiven.backupHour, 3);
        assert.equal(s.aiven.backupMinute, undefined);
        const cache = resolveSettings({ ...DEV, persistence: "none" }, "dev");
        assert.equal(cache.persistence, "none");
    });

    it("ioThreads left unset leaves Aiven's default, whatever the shared default would be", () => {
        assert.equal(resolveSettings(PROD, "prod").aiven.ioThreads, undefined);
    });

    it("leaves the other clouds alone: their settings hold the Aiven section but nothing changes", () => {
        const s = resolveSettings({}, "prod");
        assert.equal(s.cloud, "aws");
        assert.equal(s.shards, 3);
        assert.equal(s.replicasPerShard, 2);
        assert.equal(s.persistence, "aof+rdb");
        assert.equal(s.kernelTuning, true);
        assert.equal(s.tls.enabled, false);
    });
});

describe("aiven settings: refusals (exact messages)", () => {
    it("a missing project", () => {
        assert.deepEqual(problems({ cloud: "aiven" }), [
            'valkey.aiven.project: not set; cloud "aiven" creates the service in an Aiven project. Set it to the project\'s name (`avn project list`), e.g. "acme-valkey".',
        ]);
    });

    it("prod without an ip filter", () => {
        assert.deepEqual(problems({ cloud: "aiven", aiven: { project: "acme" } }, "prod"), [
            'valkey.aiven.ipFilter: not set in prod; without it Aiven admits clients from every address (0.0.0.0/0 and ::/0). List the networks your applications connect from, e.g. ["10.0.0.0/16"].',
        ]);
    });

    it("an empty ip filter, and a backup time without persistence", () => {
        assert.deepEqual(
            problems({
                ...DEV,
                persistence: "none",
                aiven: { ...DEV.aiven, ipFilter: [], backupHour: 3 },
            }),
            [
                'valkey.aiven.ipFilter: got []; no client could connect. List the networks your applications connect from, e.g. ["10.0.0.0/16"], or ["0.0.0.0/0"] for any address.',
                'valkey.aiven.backupHour: got 3 with persistence "none"; with persistence off Aiven takes no backups. Remove the backup time, or use persistence "rdb".',
            ],
        );
    });

    it("a single-node plan, and a cloud without zones, in prod", () => {
        assert.deepEqual(
            problems(
                { ...PROD, aiven: { ...PROD.aiven, plan: "startup-8", cloudName: "do-nyc" } },
                "prod",
            ),
            [
                'valkey.aiven.cloudName: got "do-nyc" in prod; the standbys must sit in other availability zones, and Aiven spreads a service\'s nodes over zones only on AWS, Google Cloud, Azure and UpCloud fi-hel. Use e.g. "aws-us-east-1".',
                'valkey.aiven.plan: got "startup-8" in prod; startup plans run one node, with no standby to fail over to in another zone. Use "business-8" (a standby in another zone) or "premium-8" (two).',
            ],
        );
        assert.deepEqual(
            problems({ ...PROD, aiven: { ...PROD.aiven, plan: "hobbyist" } }, "prod"),
            [
                'valkey.aiven.plan: got "hobbyist" in prod; hobbyist plans run one node, with no standby to fail over to in another zone. Use "business-4" (a standby in another zone) or "premium-4" (two).',
            ],
        );
    });

    it("every malformed value of the Aiven section, at once", () => {
        assert.deepEqual(
            problems({
                cloud: "aiven",
                aiven: {
                    project: "bad project",
                    serviceName: "9-valkey",
                    cloudName: "aws",
                    plan: "custom-8",
                    maintenanceWindow: { day: "Sunday", time: "2:00" },
                    technicalEmails: ["ops"],
                    ipFilter: ["10.0.0.0/33", "10.0.0.0/8", "any"],
                    backupMinute: 30,
                    tags: ["team"],
                },
            }),
            [
                'valkey.aiven.maintenanceWindow.day: got "Sunday"; use one of "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday".',
                'valkey.aiven.tags: got ["team"]; expected a map of names to values, e.g. {"team": "platform"}.',
                'valkey.aiven.project: got "bad project"; an Aiven project name has at most 63 characters of a-z, A-Z, 0-9, _ and -. Use the name `avn project list` shows.',
                'valkey.aiven.serviceName: got "9-valkey"; an Aiven service name starts with a lower-case letter and has at most 64 characters of a-z, 0-9 and -. Use e.g. "valkey-prod".',
                'valkey.aiven.cloudName: got "aws"; use an Aiven cloud name, <provider>-<region> (`avn cloud list`), e.g. "aws-us-east-1".',
                'valkey.aiven.plan: got "custom-8"; use a plan of the hobbyist, startup-N, business-N or premium-N families (N is about the GB of memory per node), whose family decides the standbys, e.g. "business-4".',
                'valkey.aiven.maintenanceWindow.time: got "2:00"; use a UTC time as HH:mm:ss, e.g. "02:00:00".',
                'valkey.aiven.technicalEmails: got ["ops"]; list e-mail addresses, e.g. ["oncall@example.com"].',
                'valkey.aiven.ipFilter: got ["10.0.0.0/33","any"]; list IPv4 or IPv6 addresses or CIDR blocks, e.g. "10.0.0.0/16" or "2001:db8::/32".',
                "valkey.aiven.backupMinute: got 30 without valkey.aiven.backupHour; a backup starts at backupHour:backupMinute UTC. Set valkey.aiven.backupHour too.",
            ],
        );
    });

    it("more than 10 technical e-mails, and backup times out of range", () => {
        const emails = Array.from({ length: 11 }, (_, i) => `ops${i}@example.com`);
        assert.deepEqual(
            problems({
                ...DEV,
                aiven: { ...DEV.aiven, technicalEmails: emails, backupHour: 24, backupMinute: 60 },
            }),
            [
                "valkey.aiven.backupHour: got 24; it must be at most 23.",
                "valkey.aiven.backupMinute: got 60; it must be at most 59.",
                "valkey.aiven.technicalEmails: got 11 addresses; Aiven takes at most 10 per service. List at most 10 (a mailing list counts as one).",
            ],
        );
    });

    it("aof+rdb persistence, with the fix", () => {
        assert.deepEqual(problems({ ...DEV, persistence: "aof+rdb" }), [
            'valkey.persistence: got "aof+rdb" with cloud "aiven"; Aiven for Valkey persists with RDB snapshots only (every 10 minutes and at each backup), it keeps no append-only file. Use "rdb", or "none" for a pure cache.',
        ]);
    });

    it("shards other than 1", () => {
        assert.deepEqual(problems({ ...DEV, shards: 3 }), [
            'valkey.shards: got 3 with cloud "aiven"; an Aiven for Valkey service is one primary with its standbys, without cluster mode, so it holds one shard. Remove valkey:shards and size the service with valkey:aiven.plan.',
        ]);
    });

    it("replicas the plan does not give name the plan that does", () => {
        assert.deepEqual(problems({ ...PROD, replicasPerShard: 2 }, "prod"), [
            'valkey.replicasPerShard: got 2 with valkey.aiven.plan "business-4", which gives 1; on Aiven the plan decides the standbys (startup and hobbyist 0, business 1, premium 2, each in another zone). Use plan "premium-4", or remove valkey:replicasPerShard.',
        ]);
        assert.deepEqual(problems({ ...DEV, replicasPerShard: 1 }), [
            'valkey.replicasPerShard: got 1 with valkey.aiven.plan "startup-4", which gives 0; on Aiven the plan decides the standbys (startup and hobbyist 0, business 1, premium 2, each in another zone). Use plan "business-4", or remove valkey:replicasPerShard.',
        ]);
        assert.deepEqual(problems({ ...DEV, replicasPerShard: 3 }), [
            'valkey.replicasPerShard: got 3 with cloud "aiven"; Aiven plans give 0 (startup), 1 (business) or 2 (premium) standbys, each in another zone. Use 2 with plan "premium-4", or remove valkey:replicasPerShard.',
        ]);
    });

    it("TLS off, and images Aiven cannot map to a Valkey version", () => {
        assert.deepEqual(problems({ ...DEV, tls: { enabled: false } }), [
            'valkey.tls.enabled: got false with cloud "aiven"; Aiven for Valkey is reached over TLS only. Remove valkey:tls.enabled.',
        ]);
        assert.deepEqual(problems({ ...DEV, image: "redis:7.2" }), [
            'valkey.image: got "redis:7.2" with cloud "aiven"; Aiven runs its own Valkey build and takes only the major.minor version of the image\'s tag (valkey_version). Use a valkey image tag such as "valkey/valkey:8.1.4", or remove valkey:image.',
        ]);
        assert.deepEqual(problems({ ...DEV, image: "valkey/valkey:7.2.5" }), [
            'valkey.image: got "valkey/valkey:7.2.5" with cloud "aiven"; Aiven offers Valkey 8.1 and later. Use e.g. "valkey/valkey:8.1.4".',
        ]);
    });

    it("the settings of self-run Valkey, one message each (the generic check of the same setting gives way)", () => {
        assert.deepEqual(
            problems({
                ...DEV,
                zones: ["a", "b", "c"],
                memory: "22Gi",
                cpu: "3",
                volumeSize: "1Gi",
                maxmemoryRatio: 0.9,
                nodeTimeoutMs: 10,
                namespace: "valkey",
                exporterImage: "oliver006/redis_exporter:latest",
                metrics: true,
                serviceMonitor: true,
                kernelTuning: true,
                tls: { secretName: "valkey-tls" },
            }),
            [
                'valkey.memory: got "22Gi" with cloud "aiven"; the plan decides each node\'s memory. Remove valkey:memory and pick the plan by memory: the N of "business-N" is about the GB per node ("22Gi" needs N of 22 or more).',
                'valkey.zones: got ["a","b","c"] with cloud "aiven"; Aiven places the nodes of business and premium plans in different availability zones of valkey.aiven.cloudName itself. Remove valkey:zones.',
                'valkey.cpu: got "3" with cloud "aiven"; the plan decides each node\'s CPUs. Remove valkey:cpu; a larger plan has more.',
                'valkey.volumeSize: got "1Gi" with cloud "aiven"; the plan decides each node\'s disk. Remove valkey:volumeSize; a larger plan has a larger disk.',
                'valkey.maxmemoryRatio: got 0.9 with cloud "aiven"; Aiven sets maxmemory from the plan\'s memory itself. Remove valkey:maxmemoryRatio.',
                'valkey.nodeTimeoutMs: got 10 with cloud "aiven"; the service runs without cluster mode, and Aiven detects a failed primary and fails over itself. Remove valkey:nodeTimeoutMs.',
                'valkey.namespace: got "valkey" with cloud "aiven"; no Valkey pod runs in Kubernetes; the connection Secrets go to valkey.allowedNamespaces. Remove valkey:namespace.',
                'valkey.exporterImage: got "oliver006/redis_exporter:latest" with cloud "aiven"; Aiven runs no exporter sidecar; its metrics come through an Aiven metrics integration. Remove valkey:exporterImage.',
                'valkey.metrics: got true with cloud "aiven"; Aiven runs no exporter sidecar; use an Aiven metrics integration (Prometheus, Datadog) instead. Remove valkey:metrics.',
                'valkey.serviceMonitor: got true with cloud "aiven"; there are no pods to scrape; Aiven exposes metrics through its Prometheus integration. Remove valkey:serviceMonitor.',
                'valkey.kernelTuning: got true with cloud "aiven"; Aiven tunes its own nodes. Remove valkey:kernelTuning.',
                'valkey.tls.secretName: got "valkey-tls" with cloud "aiven"; Aiven serves TLS with its own certificate, signed by the project\'s CA (`avn project ca-get`). Remove valkey:tls.secretName.',
            ],
        );
    });

    it("the switches may stay off: metrics, serviceMonitor and kernelTuning false are accepted", () => {
        const s = resolveSettings(
            { ...DEV, metrics: false, serviceMonitor: false, kernelTuning: "false" },
            "dev",
        );
        assert.equal(s.metrics, false);
    });

    it("the dev stack file switched to aiven names each line to remove", () => {
        // Pulumi.dev.yaml's self-run settings, as the stack file gives them.
        const dev = { shards: "3", replicasPerShard: "1", memory: "6Gi", cpu: "1" };
        assert.deepEqual(
            problems({ ...DEV, ...dev }).map((m) => m.slice(0, m.indexOf(":"))),
            ["valkey.shards", "valkey.replicasPerShard", "valkey.memory", "valkey.cpu"],
        );
    });
});
