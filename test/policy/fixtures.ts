/**
 * Hand-built stacks in the shapes the program creates (components/valkey/cluster.ts, aws/, azure/), valid
 * under every policy. Tests take a fresh copy, change one thing, and assert the message.
 */
import type { PlainResource } from "../../policy/common";
import { renderValkeyConf } from "../../components/valkey/conf";
import { computeLayout } from "../../components/valkey/layout";

const GiB = 2 ** 30;
const urn = (type: string, name: string): string =>
    `urn:pulumi:test::valkey-platform::${type}::${name}`;
const res = (type: string, name: string, props: Record<string, any>): PlainResource => ({
    type,
    name,
    urn: urn(type, name),
    props,
});

/** What a fixture stack is built from. */
export interface StackShape {
    cluster: string;
    namespace: string;
    zones: string[];
    shards: number;
    replicasPerShard: number;
    memory: string;
    memoryBytes: number;
    volume: string;
    storageClassName: string;
    image: string;
}

const labels = (cluster: string): Record<string, string> => ({
    "app.kubernetes.io/name": "valkey",
    "app.kubernetes.io/instance": cluster,
    "app.kubernetes.io/managed-by": "valkey-platform",
});
const selector = (cluster: string): Record<string, string> => ({
    "app.kubernetes.io/name": "valkey",
    "app.kubernetes.io/instance": cluster,
});
const hardened = {
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
};

/** A zone's StatefulSet, as cluster.ts builds it. */
export function statefulSet(s: StackShape, zone: string, replicas: number): PlainResource {
    const name = `${s.cluster}-${zone}`;
    const passwordEnv = { secretKeyRef: { name: `${s.cluster}-auth`, key: "password" } };
    return res("kubernetes:apps/v1:StatefulSet", `${s.cluster}-sts-${zone}`, {
        metadata: {
            name,
            namespace: s.namespace,
            labels: { ...labels(s.cluster), "valkey.io/zone": zone },
        },
        spec: {
            serviceName: `${s.cluster}-headless`,
            replicas,
            selector: { matchLabels: { ...selector(s.cluster), "valkey.io/zone": zone } },
            template: {
                metadata: { labels: { ...labels(s.cluster), "valkey.io/zone": zone } },
                spec: {
                    securityContext: { runAsNonRoot: true, runAsUser: 999, fsGroup: 999 },
                    nodeSelector: { workload: "valkey" },
                    tolerations: [
                        {
                            key: "workload",
                            operator: "Equal",
                            value: "valkey",
                            effect: "NoSchedule",
                        },
                    ],
                    affinity: {
                        nodeAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: {
                                nodeSelectorTerms: [
                                    {
                                        matchExpressions: [
                                            {
                                                key: "topology.kubernetes.io/zone",
                                                operator: "In",
                                                values: [zone],
                                            },
                                        ],
                                    },
                                ],
                            },
                        },
                    },
                    containers: [
                        {
                            name: "valkey",
                            image: s.image,
                            env: [{ name: "REDISCLI_AUTH", valueFrom: passwordEnv }],
                            resources: {
                                requests: { memory: s.memory, cpu: "3" },
                                limits: { memory: s.memory, cpu: "3" },
                            },
                            securityContext: { ...hardened },
                            volumeMounts: [
                                { name: "data", mountPath: "/data" },
                                { name: "conf", mountPath: "/etc/valkey", readOnly: true },
                                { name: "auth", mountPath: "/etc/valkey-auth", readOnly: true },
                            ],
                        },
                        {
                            name: "exporter",
                            image: "oliver006/redis_exporter:v1.67.0",
                            env: [{ name: "REDIS_PASSWORD", valueFrom: passwordEnv }],
                            resources: {
                                requests: { memory: "64Mi", cpu: "100m" },
                                limits: { memory: "64Mi", cpu: "100m" },
                            },
                            securityContext: { ...hardened },
                        },
                    ],
                    volumes: [
                        { name: "conf", configMap: { name: `${s.cluster}-conf` } },
                        {
                            name: "auth",
                            secret: {
                                secretName: `${s.cluster}-auth`,
                                items: [{ key: "auth.conf", path: "auth.conf" }],
                            },
                        },
                    ],
                },
            },
            volumeClaimTemplates: [
                {
                    metadata: { name: "data" },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: s.storageClassName,
                        resources: { requests: { storage: s.volume } },
                    },
                },
            ],
        },
    });
}

/** The cluster's objects: a StatefulSet per zone, the conf ConfigMap, PDB, NetworkPolicy and slot bootstrap. */
export function clusterResources(s: StackShape): PlainResource[] {
    const layout = computeLayout({
        shards: s.shards,
        replicasPerShard: s.replicasPerShard,
        zones: s.zones,
    });
    const conf = renderValkeyConf({
        nodeTimeoutMs: 5000,
        maxmemoryBytes: Math.floor(0.75 * s.memoryBytes),
        maxmemoryPolicy: "noeviction",
        persistence: "aof+rdb",
        ioThreads: 2,
        tls: false,
        replicasPerShard: s.replicasPerShard,
    });
    const nodes = layout.zones.flatMap(({ zone, pods }) =>
        pods.map((p) => {
            const pod = `${s.cluster}-${zone}-${p.ordinal}`;
            return {
                id: pod,
                host: `${pod}.${s.cluster}-headless.${s.namespace}.svc.cluster.local`,
                port: 6379,
                zone,
            };
        }),
    );
    return [
        res("kubernetes:core/v1:ConfigMap", `${s.cluster}-conf`, {
            metadata: {
                name: `${s.cluster}-conf`,
                namespace: s.namespace,
                labels: labels(s.cluster),
            },
            data: { "valkey.conf": conf },
        }),
        ...layout.zones.map(({ zone, pods }) => statefulSet(s, zone, pods.length)),
        res("kubernetes:policy/v1:PodDisruptionBudget", `${s.cluster}-pdb`, {
            metadata: {
                name: `${s.cluster}-pdb`,
                namespace: s.namespace,
                labels: labels(s.cluster),
            },
            spec: { maxUnavailable: 1, selector: { matchLabels: selector(s.cluster) } },
        }),
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${s.cluster}-netpol`, {
            metadata: {
                name: `${s.cluster}-netpol`,
                namespace: s.namespace,
                labels: labels(s.cluster),
            },
            spec: {
                podSelector: { matchLabels: selector(s.cluster) },
                policyTypes: ["Ingress", "Egress"],
                ingress: [],
                egress: [],
            },
        }),
        res("pulumi-nodejs:dynamic:Resource", `${s.cluster}-bootstrap`, {
            __provider: "exports.handler = ...",
            shards: s.shards,
            replicasPerShard: s.replicasPerShard,
            nodes,
            password: "secret",
        }),
    ];
}

/** The AWS shape: three zones of us-east-1, 3 shards x 2 replicas, 22Gi on r7g.xlarge, gp3. */
export function awsShape(): StackShape {
    return {
        cluster: "valkey",
        namespace: "valkey",
        zones: ["us-east-1a", "us-east-1b", "us-east-1c"],
        shards: 3,
        replicasPerShard: 2,
        memory: "22Gi",
        memoryBytes: 22 * GiB,
        volume: "42Gi",
        storageClassName: "valkey-gp3",
        image: "valkey/valkey:8.1.4",
    };
}

/** A valid AWS stack: the cluster, the Karpenter NodePool and the gp3 StorageClass. */
export function awsStack(shape: StackShape = awsShape()): PlainResource[] {
    return [
        res("kubernetes:karpenter.sh/v1:NodePool", "valkey-nodepool", {
            apiVersion: "karpenter.sh/v1",
            kind: "NodePool",
            metadata: { name: "valkey" },
            spec: {
                template: {
                    metadata: { labels: { workload: "valkey" } },
                    spec: {
                        nodeClassRef: {
                            group: "karpenter.k8s.aws",
                            kind: "EC2NodeClass",
                            name: "valkey",
                        },
                        taints: [{ key: "workload", value: "valkey", effect: "NoSchedule" }],
                        requirements: [
                            { key: "kubernetes.io/arch", operator: "In", values: ["arm64"] },
                            {
                                key: "karpenter.sh/capacity-type",
                                operator: "In",
                                values: ["on-demand"],
                            },
                            {
                                key: "karpenter.k8s.aws/instance-family",
                                operator: "In",
                                values: ["r7g", "r8g"],
                            },
                            {
                                key: "karpenter.k8s.aws/instance-size",
                                operator: "In",
                                values: ["xlarge"],
                            },
                            {
                                key: "topology.kubernetes.io/zone",
                                operator: "In",
                                values: [...shape.zones],
                            },
                        ],
                    },
                },
            },
        }),
        res("kubernetes:storage.k8s.io/v1:StorageClass", "valkey-gp3", {
            metadata: { name: "valkey-gp3" },
            provisioner: "ebs.csi.aws.com",
            parameters: { type: "gp3", iops: "6000", throughput: "500", encrypted: "true" },
            reclaimPolicy: "Retain",
            volumeBindingMode: "WaitForFirstConsumer",
            allowVolumeExpansion: true,
        }),
        ...clusterResources(shape),
    ];
}

/** The Azure shape: zones 1-3 of eastus2 (node labels eastus2-1...), 48Gi on Standard_E8ds_v5, Premium SSD. */
export function azureShape(): StackShape {
    return {
        ...awsShape(),
        zones: ["eastus2-1", "eastus2-2", "eastus2-3"],
        memory: "48Gi",
        memoryBytes: 48 * GiB,
        volume: "90Gi",
        storageClassName: "valkey-premium",
    };
}

/** A valid Azure stack: the ManagedCluster (system pool inline), one Valkey AgentPool per zone, Premium SSD. */
export function azureStack(shape: StackShape = azureShape()): PlainResource[] {
    const pools = ["1", "2", "3"].map((z) =>
        res("azure-native:containerservice:AgentPool", `valkey-pool-${z}`, {
            agentPoolName: `valkey${z}`,
            vmSize: "Standard_E8ds_v5",
            availabilityZones: [z],
            mode: "User",
            scaleSetPriority: "Regular",
            nodeLabels: { workload: "valkey" },
            nodeTaints: ["workload=valkey:NoSchedule"],
        }),
    );
    return [
        res("azure-native:containerservice:ManagedCluster", "valkey-aks", {
            agentPoolProfiles: [
                {
                    name: "system",
                    vmSize: "Standard_D4ds_v5",
                    availabilityZones: ["1", "2", "3"],
                    mode: "System",
                    nodeTaints: [],
                    nodeLabels: {},
                },
            ],
        }),
        ...pools,
        res("kubernetes:storage.k8s.io/v1:StorageClass", "valkey-premium", {
            metadata: { name: "valkey-premium" },
            provisioner: "disk.csi.azure.com",
            parameters: { skuName: "Premium_LRS", cachingMode: "None" },
            reclaimPolicy: "Retain",
            volumeBindingMode: "WaitForFirstConsumer",
            allowVolumeExpansion: true,
        }),
        ...clusterResources(shape),
    ];
}

/** The one resource of a type whose Pulumi or Kubernetes name is `name`. */
export function find(
    resources: readonly PlainResource[],
    type: string,
    name: string,
): PlainResource {
    const found = resources.filter(
        (r) => r.type === type && (r.name === name || r.props?.metadata?.name === name),
    );
    if (found.length !== 1)
        throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    return found[0];
}

/** Type tokens, short. */
export const T = {
    sts: "kubernetes:apps/v1:StatefulSet",
    cm: "kubernetes:core/v1:ConfigMap",
    pdb: "kubernetes:policy/v1:PodDisruptionBudget",
    netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    sc: "kubernetes:storage.k8s.io/v1:StorageClass",
    nodePool: "kubernetes:karpenter.sh/v1:NodePool",
    agentPool: "azure-native:containerservice:AgentPool",
    mc: "azure-native:containerservice:ManagedCluster",
    dynamic: "pulumi-nodejs:dynamic:Resource",
} as const;

/** The pod spec of a StatefulSet fixture. */
export const podSpec = (sts: PlainResource): Record<string, any> => sts.props.spec.template.spec;
/** A container of a StatefulSet fixture. */
export const container = (sts: PlainResource, name = "valkey"): Record<string, any> =>
    podSpec(sts).containers.find((c: any) => c.name === name);
/** The Karpenter requirement of a NodePool fixture. */
export const requirement = (pool: PlainResource, key: string): Record<string, any> =>
    pool.props.spec.template.spec.requirements.find((q: any) => q.key === key);
