/**
 * valkey-platform: one typed config in, a zone-redundant Valkey cluster out.
 *
 * Read the settings (all validation happens here, before any resource exists), build the platform of the chosen
 * cloud, build the Valkey cluster on it, export what clients and operators need.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadSettings } from "./components/config";
import { existingClusterPlatform } from "./components/kubernetes/platform";
import type { KubernetesPlatform } from "./components/platform";
import { ValkeyCluster } from "./components/valkey/cluster";

const settings = loadSettings();

function kubernetesPlatform(): KubernetesPlatform {
    switch (settings.cloud) {
        case "kubernetes":
            return existingClusterPlatform(settings.name, settings);
        default:
            throw new Error(`valkey.cloud: "${settings.cloud}" is not available yet in this build.`);
    }
}

const platform = kubernetesPlatform();
const cluster = new ValkeyCluster(settings.name, { settings, platform });

/** The in-cluster DNS name a cluster-aware client seeds from, and its port. */
export const endpoint = cluster.endpoint;
export const port = cluster.port;
/** The namespace of the Valkey pods. */
export const namespace = cluster.namespace;
/** `<namespace>/<name>` of the Secret with VALKEY_HOST, VALKEY_PORT, VALKEY_USER, VALKEY_PASSWORD, VALKEY_SSL. */
export const connectionSecrets = cluster.connectionSecrets;
/** The StatefulSet of each zone. */
export const statefulSets = cluster.statefulSets;
/** Which pod is which shard's primary or replica, by zone and ordinal. */
export const layout = cluster.layout.shards.map((s) => ({
    shard: s.shard,
    primary: `${s.primary.zone}/${s.primary.ordinal}`,
    replicas: s.replicas.map((r) => `${r.zone}/${r.ordinal}`),
}));
/** The password (secret). */
export const password = cluster.password;
/** The kubeconfig of the cluster the program created (secret), when it created one. */
export const kubeconfig = platform.kubeconfig ? pulumi.secret(platform.kubeconfig) : undefined;
