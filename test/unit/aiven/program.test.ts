/**
 * The whole program for `cloud: aiven` under Pulumi mocks, through index.ts, with the real stack files:
 * Pulumi.prod-aiven.yaml as it is and with the applications' kubeconfig, and Pulumi.dev-aiven.yaml (every dev
 * default). Every resource and every input is asserted; the Aiven API is never reached (the mocks answer for it,
 * test/helpers/aivenMocks.ts). Refusals come before any resource, with their exact messages.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { AIVEN_MOCK_PORT, aivenMockHost, aivenMockPassword } from "../../helpers/aivenMocks";
import { ProgramRun, isSecret, runProgram, valueOf } from "../../helpers/program";

const SERVICE = "aiven:index/valkey:Valkey";
const COMPONENT = "valkey-platform:aiven:AivenValkey";
const SECRET = "kubernetes:core/v1:Secret";
const K8S_PROVIDER = "pulumi:providers:kubernetes";
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

const PROD_SERVICE = {
    project: "acme-valkey-prod",
    cloudName: "aws-us-east-1",
    plan: "premium-8",
    serviceName: "valkey-prod-aiven",
    maintenanceWindowDow: "sunday",
    maintenanceWindowTime: "02:00:00",
    terminationProtection: true,
    tags: [
        { key: "team", value: "platform" },
        { key: "valkey-platform-cluster", value: "valkey" },
        { key: "valkey-platform-environment", value: "prod" },
        { key: "valkey-platform-stack", value: "prod-aiven" },
    ],
    techEmails: [{ email: "valkey-oncall@example.com" }],
    valkeyUserConfig: {
        ipFilterStrings: ["203.0.113.10/32", "203.0.113.11/32", "203.0.113.12/32"],
        valkeyMaxmemoryPolicy: "noeviction",
        valkeyPersistence: "rdb",
        valkeySsl: true,
        valkeyVersion: "8.1",
        backupHour: 3,
        backupMinute: 30,
    },
};

const typesAndNames = (run: ProgramRun): string[] =>
    run.resources.map((r) => `${r.type}::${r.name}`).sort();

describe("pulumi up -s prod-aiven (under mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("prod-aiven");
    });

    it("creates the Aiven service and nothing else: no platform, no Kubernetes object", () => {
        assert.deepEqual(typesAndNames(run), [
            `${SERVICE}::valkey-service`,
            `${COMPONENT}::valkey`,
        ]);
        assert.equal(
            run.named("valkey-service", SERVICE).provider,
            "",
            "the default Aiven provider",
        );
    });

    it("the service carries every setting of the stack file, mapped", () => {
        const service = run.named("valkey-service", SERVICE);
        assert.deepEqual(service.inputs, PROD_SERVICE);
        assert.deepEqual(service.secretPaths, []);
    });

    it("exports the same outputs as the other clouds: endpoint, port, password (secret), and the service", async () => {
        assert.deepEqual(Object.keys(run.outputs).sort(), [
            "aiven",
            "endpoint",
            "password",
            "port",
        ]);
        assert.equal(
            await valueOf(run.outputs.endpoint),
            aivenMockHost("valkey-prod-aiven", "acme-valkey-prod"),
        );
        assert.equal(await valueOf(run.outputs.port), AIVEN_MOCK_PORT);
        assert.equal(await valueOf(run.outputs.password), aivenMockPassword("valkey-prod-aiven"));
        assert.ok(await isSecret(run.outputs.password), "the password output is secret");
        assert.deepEqual(run.outputs.aiven, {
            project: "acme-valkey-prod",
            serviceName: "valkey-prod-aiven",
            cloudName: "aws-us-east-1",
            plan: "premium-8",
            nodes: 3,
        });
    });
});

describe("pulumi up -s prod-aiven with the applications' kubeconfig (under mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("prod-aiven", { "valkey:kubernetes": { kubeconfig: KUBECONFIG } });
    });

    it("adds a Kubernetes provider and one connection Secret per allowed namespace", () => {
        assert.deepEqual(typesAndNames(run), [
            `${SERVICE}::valkey-service`,
            `${SECRET}::valkey-connection-app`,
            `${K8S_PROVIDER}::valkey-k8s`,
            `${COMPONENT}::valkey`,
        ]);
        const provider = run.named("valkey-k8s", K8S_PROVIDER);
        assert.deepEqual(provider.inputs, { kubeconfig: KUBECONFIG });
        assert.deepEqual(provider.secretPaths, ["kubeconfig"]);
        assert.deepEqual(run.named("valkey-service", SERVICE).inputs, PROD_SERVICE);
    });

    it("the Secret is the one the ValkeyCluster writes: same name, labels and keys; TLS on, no cluster mode", () => {
        const secret = run.named("valkey-connection-app", SECRET);
        assert.match(secret.provider ?? "", /pulumi:providers:kubernetes::valkey-k8s::/);
        assert.deepEqual(secret.inputs, {
            apiVersion: "v1",
            kind: "Secret",
            metadata: {
                name: "valkey-connection",
                namespace: "app",
                labels: {
                    "app.kubernetes.io/name": "valkey",
                    "app.kubernetes.io/instance": "valkey",
                    "app.kubernetes.io/managed-by": "valkey-platform",
                },
            },
            type: "Opaque",
            stringData: {
                VALKEY_HOST: aivenMockHost("valkey-prod-aiven", "acme-valkey-prod"),
                VALKEY_PORT: String(AIVEN_MOCK_PORT),
                VALKEY_USER: "default",
                VALKEY_PASSWORD: aivenMockPassword("valkey-prod-aiven"),
                VALKEY_SSL: "true",
                VALKEY_CLUSTER: "false",
            },
        });
        assert.deepEqual(secret.secretPaths, ["stringData"], "the Secret's data is secret");
    });

    it("exports the connection Secrets", async () => {
        assert.deepEqual(await valueOf(run.outputs.connectionSecrets), ["app/valkey-connection"]);
    });
});

describe("pulumi up -s dev-aiven (under mocks)", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram("dev-aiven");
    });

    it("creates a startup-4 service with every dev default", () => {
        assert.deepEqual(typesAndNames(run), [
            `${SERVICE}::valkey-service`,
            `${COMPONENT}::valkey`,
        ]);
        assert.deepEqual(run.named("valkey-service", SERVICE).inputs, {
            project: "acme-valkey-dev",
            cloudName: "aws-us-east-1",
            plan: "startup-4",
            serviceName: "valkey-dev-aiven",
            maintenanceWindowDow: "sunday",
            maintenanceWindowTime: "02:00:00",
            terminationProtection: false,
            tags: [
                { key: "valkey-platform-cluster", value: "valkey" },
                { key: "valkey-platform-environment", value: "dev" },
                { key: "valkey-platform-stack", value: "dev-aiven" },
            ],
            valkeyUserConfig: {
                ipFilterStrings: ["0.0.0.0/0"],
                valkeyMaxmemoryPolicy: "noeviction",
                valkeyPersistence: "rdb",
                valkeySsl: true,
                valkeyVersion: "8.1",
            },
        });
        assert.equal(run.outputs.aiven.nodes, 1);
    });

    it("renders the connection Secrets for GitOps when a render directory names the cluster", async () => {
        const rendered = await runProgram("dev-aiven", {
            "valkey:kubernetes": { renderDirectory: "rendered/dev-aiven" },
        });
        assert.deepEqual(
            rendered.ofType(SECRET).map((s) => s.inputs.metadata.namespace),
            ["default", "app"],
        );
        assert.deepEqual(rendered.named("valkey-k8s", K8S_PROVIDER).inputs, {
            renderYamlToDirectory: "rendered/dev-aiven",
        });
        assert.deepEqual(await valueOf(rendered.outputs.connectionSecrets), [
            "default/valkey-connection",
            "app/valkey-connection",
        ]);
    });
});

describe("refusals of the whole program, before any resource", () => {
    it("aof+rdb persistence on prod-aiven", async () => {
        await assert.rejects(runProgram("prod-aiven", { "valkey:persistence": "aof+rdb" }), {
            name: "SettingsError",
            message:
                "Invalid valkey-platform settings (1 problem):\n" +
                '  - valkey.persistence: got "aof+rdb" with cloud "aiven"; Aiven for Valkey persists with RDB snapshots only (every 10 minutes and at each backup), it keeps no append-only file. Use "rdb", or "none" for a pure cache.',
        });
    });

    it("a startup plan and three shards on prod-aiven", async () => {
        const resources: unknown[] = [];
        await assert.rejects(
            runProgram("prod-aiven", {
                "valkey:shards": 3,
                "valkey:aiven": {
                    project: "acme-valkey-prod",
                    plan: "startup-8",
                    ipFilter: ["203.0.113.10/32"],
                },
            }).then((r) => resources.push(...r.resources)),
            {
                name: "SettingsError",
                message:
                    "Invalid valkey-platform settings (2 problems):\n" +
                    '  - valkey.aiven.plan: got "startup-8" in prod; startup plans run one node, with no standby to fail over to in another zone. Use "business-8" (a standby in another zone) or "premium-8" (two).\n' +
                    '  - valkey.shards: got 3 with cloud "aiven"; an Aiven for Valkey service is one primary with its standbys, without cluster mode, so it holds one shard. Remove valkey:shards and size the service with valkey:aiven.plan.',
            },
        );
        assert.deepEqual(resources, []);
    });

    it("the dev stack switched to aiven in one line: each self-run setting it holds is named", async () => {
        await assert.rejects(
            runProgram("dev", {
                "valkey:cloud": "aiven",
                "valkey:aiven": { project: "acme-valkey-dev" },
            }),
            (e: Error) => {
                assert.equal(e.name, "SettingsError");
                assert.deepEqual(
                    [...e.message.matchAll(/^ {2}- (valkey\.[\w.]+):/gm)].map((m) => m[1]),
                    ["valkey.shards", "valkey.replicasPerShard", "valkey.memory", "valkey.cpu"],
                );
                return true;
            },
        );
    });
});
