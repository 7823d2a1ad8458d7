/**
 * valkey-platform: one typed config in, a zone-redundant Valkey cluster out.
 *
 * Read the settings (all validation happens here, before any resource exists), build the platform of the chosen
 * cloud, build the Valkey cluster on it, export what clients and operators need.
 */
import * as pulumi from "@pulumi/pulumi";
import { AivenValkey } from "./components/aiven/service";
import { createAwsPlatform } from "./components/aws";
import { createAzurePlatform } from "./components/azure";
import { Settings, loadSettings } from "./components/config";
import { existingClusterPlatform } from "./components/kubernetes/platform";
import { LocalValkeyCluster } from "./components/local/cluster";
import type { KubernetesPlatform } from "./components/platform";
import { ValkeyCluster } from "./components/valkey/cluster";

const settings = loadSettings();

/** The Kubernetes platform of a cloud stack. */
function kubernetesPlatform(s: Settings): KubernetesPlatform {
    switch (s.cloud) {
        case "aws":
            return createAwsPlatform(s.name, s);
        case "azure":
            return createAzurePlatform(s.name, s);
        case "kubernetes":
            return existingClusterPlatform(s.name, s);
        case "local":
        case "aiven":
            throw new Error(`internal: the ${s.cloud} stack has no Kubernetes platform`);
    }
}

/**
 * The stack outputs. Only those a stack has are exported: the local stack has no namespace, Secrets, StatefulSets,
 * password or kubeconfig, and Pulumi would warn about each undefined one on every run.
 */
interface Outputs {
    /** Where clients connect: the client Service's DNS name, the seed node locally, Aiven's host on Aiven. */
    endpoint: pulumi.Output<string>;
    port: number | pulumi.Output<number>;
    /** The password (secret); the local stack's servers listen on loopback only and have none. */
    password?: pulumi.Output<string>;
    /** Which pod is which shard's primary or replica (none on Aiven, which places its own nodes). */
    layout?: { shard: number; primary: string; replicas: string[] }[];
    /** The namespace of the Valkey pods. */
    namespace?: pulumi.Output<string>;
    /** `<namespace>/<name>` of the Secrets with VALKEY_HOST, VALKEY_PORT, VALKEY_USER, VALKEY_PASSWORD, VALKEY_SSL. */
    connectionSecrets?: string[];
    /** The StatefulSet of each zone. */
    statefulSets?: { zone: string; name: string; replicas: number }[];
    /** Every node as host:port (local stack). */
    endpoints?: pulumi.Output<string[]>;
    /** The kubeconfig of the cluster the program created (secret), when it created one. */
    kubeconfig?: pulumi.Output<string>;
    /** The Aiven service: project, service name, cloud, plan, nodes (cloud aiven). */
    aiven?: AivenValkey["summary"];
}

function build(s: Settings): Outputs {
    if (s.cloud === "aiven") {
        const managed = new AivenValkey(s.name, { settings: s });
        return {
            endpoint: managed.endpoint,
            port: managed.port,
            password: managed.password,
            connectionSecrets: managed.connectionSecrets.length > 0 ? managed.connectionSecrets : undefined,
            aiven: managed.summary,
        };
    }
    if (s.cloud === "local") {
        const local = new LocalValkeyCluster(s.name, { settings: s });
        return {
            endpoint: local.seedEndpoint,
            endpoints: local.endpoints,
            port: local.nodes[0].port,
            layout: describeLayout(local.layout, (zone, ordinal) => local.nodes.find((n) => n.zone === zone && n.ordinal === ordinal)?.name ?? `${zone}/${ordinal}`),
        };
    }
    const platform = kubernetesPlatform(s);
    const cluster = new ValkeyCluster(s.name, { settings: s, platform });
    return {
        endpoint: cluster.endpoint,
        port: cluster.port,
        password: cluster.password,
        namespace: cluster.namespace,
        connectionSecrets: cluster.connectionSecrets,
        statefulSets: cluster.statefulSets,
        layout: describeLayout(cluster.layout, (zone, ordinal) => `${cluster.statefulSets.find((x) => x.zone === zone)!.name}-${ordinal}`),
        kubeconfig: platform.kubeconfig ? pulumi.secret(platform.kubeconfig) : undefined,
    };
}

function describeLayout(
    layout: ValkeyCluster["layout"],
    podName: (zone: string, ordinal: number) => string,
): Outputs["layout"] {
    return layout.shards.map((s) => ({
        shard: s.shard,
        primary: podName(s.primary.zone, s.primary.ordinal),
        replicas: s.replicas.map((r) => podName(r.zone, r.ordinal)),
    }));
}

const out = build(settings);
const defined = Object.fromEntries(
    Object.entries(out).filter(([, value]) => value !== undefined),
) as Partial<Outputs>;
export = defined;
