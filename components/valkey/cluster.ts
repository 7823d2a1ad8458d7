/**
 * ValkeyCluster: Valkey on Kubernetes, zone by zone. One StatefulSet per zone pinned to it, so every pod's zone
 * is known by construction and the bootstrap can pair each primary with replicas in other zones.
 */
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Settings } from "../config";
import { createConnectionSecrets } from "../kubernetes/connectionSecrets";
import { childName, statefulSetName } from "../naming";
import type { KubernetesPlatform } from "../platform";
import {
    BUS_PORT,
    METRICS_PORT,
    PATHS,
    VALKEY_PORT,
    authConf,
    failoverWaitSeconds,
    livenessScript,
    preStopScript,
    readinessScript,
    renderValkeyConf,
    imageHasAvailabilityZone,
    startScript,
} from "./conf";
import { Layout, computeLayout } from "./layout";
import { ZoneRollout, ZoneTeardown } from "./rollout";
import { capacityProblems, type NodeView, readNodes } from "../kubernetes/capacity";
import { parseCpu } from "../quantity";
import { ValkeySlots } from "./bootstrap/provider";
import { prometheusRuleSpec } from "./alerts";
import { dashboardFileName, grafanaDashboard } from "./dashboard";
import { scrapeRelabelings } from "./scrape";

/** Arguments of a ValkeyCluster. */
export interface ValkeyClusterArgs {
    /** The validated settings (components/config.ts). */
    settings: Settings;
    /** Where the pods run: provider, zones, storage class, node selector, tolerations. */
    platform: KubernetesPlatform;
}

/** The pod-template annotation that carries the SHA-256 of the rendered valkey.conf (see `confChecksum`). */
export const CONF_CHECKSUM_ANNOTATION = "valkey.io/conf-sha256";

/** The SHA-256 (hex) of a rendered valkey.conf, stamped on the pod template so a config change rolls the pods. */
export function confChecksum(valkeyConf: string): string {
    return createHash("sha256").update(valkeyConf).digest("hex");
}

/** The labels every object of one cluster carries. */
export function clusterLabels(name: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": "valkey",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "valkey-platform",
    };
}

/** The labels that select a cluster's server pods. */
export function podSelector(name: string): Record<string, string> {
    return { "app.kubernetes.io/name": "valkey", "app.kubernetes.io/instance": name };
}

/** The StatefulSet of one zone, as the bootstrap addresses it. */
export interface ZoneStatefulSet {
    zone: string;
    name: string;
    replicas: number;
}

/**
 * The Valkey pods' spread over the nodes of a zone: `required` puts at most one on a node (a node failure takes one
 * copy, never a primary and its replica); `preferred` spreads them when the zone has the nodes.
 */
export function podAntiAffinity(
    clusterName: string,
    mode: Settings["podAntiAffinity"],
): k8s.types.input.core.v1.PodAntiAffinity {
    const term = { labelSelector: { matchLabels: podSelector(clusterName) }, topologyKey: "kubernetes.io/hostname" };
    return mode === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] };
}

/** A production Valkey cluster on Kubernetes: pods, config, auth, network rules, disruption budget, metrics. */
export class ValkeyCluster extends pulumi.ComponentResource {
    /** The namespace of the pods. */
    readonly namespace: pulumi.Output<string>;
    /** The generated password (secret). */
    readonly password: pulumi.Output<string>;
    /** The in-cluster DNS name clients seed from. */
    readonly endpoint: pulumi.Output<string>;
    readonly port: number;
    /** The headless Service that gives each pod its DNS name. */
    readonly headlessServiceName: string;
    /** The StatefulSet of each zone, in zone order. */
    readonly statefulSets: ZoneStatefulSet[];
    /** The connection Secret names, as `<namespace>/<name>`. */
    readonly connectionSecrets: string[];
    /** Which pod is which shard's primary or replica. */
    readonly layout: Layout;
    /** The slot bootstrap that forms and reshards the cluster; absent when manifests are only rendered. */
    readonly slots?: ValkeySlots;

    constructor(name: string, args: ValkeyClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("valkey-platform:valkey:ValkeyCluster", name, {}, opts);
        const { settings, platform } = args;
        const ns = settings.namespace;
        const clusterName = settings.name;
        const labels = clusterLabels(clusterName);
        const k8sOpts: pulumi.CustomResourceOptions = { parent: this, provider: platform.provider };
        const waitForPlatform: pulumi.CustomResourceOptions = { ...k8sOpts, dependsOn: platform.dependsOn ?? [] };

        this.layout = computeLayout({
            shards: settings.shards,
            replicasPerShard: settings.replicasPerShard,
            zones: platform.zones,
        });
        this.port = VALKEY_PORT;

        // With persistence the volumes outlive `pulumi destroy` (StatefulSet PVC retention Retain), and so must the
        // namespace that holds their claims: deleting a namespace deletes its PVCs, whatever the StatefulSets say.
        // A later `pulumi up` adopts the namespace and the StatefulSets find their claims, data and all.
        const keepVolumes = settings.persistence !== "none";
        // An existing cluster is known: refuse before anything exists when its zones cannot hold the pods.
        const capacityChecked =
            settings.cloud === "kubernetes" && settings.kubernetes.renderDirectory === undefined
                ? pulumi.output(this.checkCapacity(settings, platform))
                : pulumi.output([] as pulumi.Resource[]);
        const namespace = new k8s.core.v1.Namespace(
            childName(name, "namespace"),
            { metadata: { name: ns, labels: { ...labels, "kubernetes.io/metadata.name": ns } } },
            {
                ...waitForPlatform,
                dependsOn: capacityChecked.apply((none) => [...(platform.dependsOn ?? []), ...none]),
                retainOnDelete: keepVolumes,
            },
        );
        const nsOpts: pulumi.CustomResourceOptions = { ...k8sOpts, dependsOn: [namespace] };
        this.namespace = namespace.metadata.name;

        // A brought password (valkey:password, a secret) or one generated once and kept in the state.
        this.password =
            settings.password !== undefined
                ? pulumi.secret(settings.password)
                : pulumi.secret(
                      new random.RandomPassword(
                          childName(name, "password"),
                          { length: 32, special: false },
                          { parent: this, additionalSecretOutputs: ["result"] },
                      ).result,
                  );

        const authSecretName = `${clusterName}-auth`;
        new k8s.core.v1.Secret(
            childName(name, "auth"),
            {
                metadata: { name: authSecretName, namespace: ns, labels },
                type: "Opaque",
                stringData: {
                    password: this.password,
                    "auth.conf": this.password.apply(authConf),
                },
            },
            { ...nsOpts, additionalSecretOutputs: ["stringData", "data"] },
        );

        const scriptInput = { tls: settings.tls.enabled, nodeTimeoutMs: settings.nodeTimeoutMs };
        const confName = `${clusterName}-conf`;
        const valkeyConf = renderValkeyConf({
            nodeTimeoutMs: settings.nodeTimeoutMs,
            maxmemoryBytes: settings.maxmemoryBytes,
            maxmemoryPolicy: settings.maxmemoryPolicy,
            persistence: settings.persistence,
            ioThreads: settings.ioThreads,
            tls: settings.tls.enabled,
            replicasPerShard: settings.replicasPerShard,
        });
        const conf = new k8s.core.v1.ConfigMap(
            childName(name, "conf"),
            {
                metadata: { name: confName, namespace: ns, labels },
                data: {
                    "valkey.conf": valkeyConf,
                    "readiness.sh": readinessScript(scriptInput),
                    "liveness.sh": livenessScript(scriptInput),
                    "prestop.sh": preStopScript(scriptInput),
                    "start.sh": startScript(scriptInput),
                },
            },
            nsOpts,
        );

        this.headlessServiceName = `${clusterName}-headless`;
        const servicePorts = [
            { name: "valkey", port: VALKEY_PORT, targetPort: "valkey" },
            { name: "bus", port: BUS_PORT, targetPort: "bus" },
        ];
        new k8s.core.v1.Service(
            childName(name, "headless"),
            {
                metadata: { name: this.headlessServiceName, namespace: ns, labels },
                spec: {
                    clusterIP: "None",
                    // Pods must resolve each other before they are ready: readiness needs the cluster formed.
                    publishNotReadyAddresses: true,
                    selector: podSelector(clusterName),
                    ports: servicePorts,
                },
            },
            nsOpts,
        );
        const client = new k8s.core.v1.Service(
            childName(name, "client"),
            {
                metadata: { name: clusterName, namespace: ns, labels },
                spec: {
                    type: "ClusterIP",
                    selector: podSelector(clusterName),
                    ports: [{ name: "valkey", port: VALKEY_PORT, targetPort: "valkey" }],
                },
            },
            nsOpts,
        );
        this.endpoint = pulumi.interpolate`${client.metadata.name}.${ns}.svc.cluster.local`;

        this.statefulSets = this.layout.zones.map(({ zone, pods }) => ({
            zone,
            name: statefulSetName(clusterName, zone),
            replicas: pods.length,
        }));

        // The slot bootstrap reaches the pods through the Kubernetes API (port-forwards). Rendering manifests for
        // GitOps has no cluster to reach: no bootstrap then.
        const kubeconfig =
            platform.kubeconfig ??
            (settings.cloud === "kubernetes" ? (settings.kubernetes.kubeconfig ?? process.env.KUBECONFIG) : undefined);
        const rendering = settings.cloud === "kubernetes" && settings.kubernetes.renderDirectory !== undefined;
        if (!rendering && kubeconfig === undefined) {
            throw new pulumi.ResourceError(
                "valkey.kubernetes.kubeconfig: no kubeconfig for the slot bootstrap; set valkey:kubernetes.kubeconfig or KUBECONFIG.",
                this,
            );
        }
        const bootstrap = (phase: "drain" | "converge", dependsOn: pulumi.Resource[]) =>
            new ValkeySlots(
                childName(name, phase === "drain" ? "drain" : "slots"),
                {
                    shards: settings.shards,
                    replicasPerShard: settings.replicasPerShard,
                    password: this.password,
                    kubernetes: {
                        kubeconfig: kubeconfig!,
                        namespace: ns,
                        statefulSets: this.statefulSets.map(({ zone, name: stsName }) => ({ zone, name: stsName })),
                        port: VALKEY_PORT,
                    },
                    zones: platform.zones,
                    nodeTimeoutMs: settings.nodeTimeoutMs,
                    maxmemoryBytes: settings.maxmemoryBytes,
                    phase,
                },
                { parent: this, dependsOn },
            );
        // Scale-in must move the data off the pods before their StatefulSet deletes them, so a first bootstrap
        // instance runs before the StatefulSets change (it acts only when pods are about to leave).
        const drain = rendering ? undefined : bootstrap("drain", [namespace]);

        // One StatefulSet per zone, created one after another: Pulumi waits for each to be ready before the
        // next, so an image change rolls one pod at a time across the whole cluster.
        // With a cluster to reach, each zone's rollout is awaited by a ZoneRollout, which fails within a minute or
        // two with the scheduler's reason instead of the Kubernetes provider's 10-minute "not Ready" timeout.
        const statefulSetResources: pulumi.Resource[] = [];
        let previous: pulumi.Resource | undefined = drain;
        for (const { zone, name: stsName, replicas } of this.statefulSets) {
            // Deleted after the StatefulSet: `pulumi destroy` waits there until the zone's pods are gone.
            const teardown = rendering
                ? undefined
                : new ZoneTeardown(
                      childName(name, "teardown", zone),
                      { kubeconfig: kubeconfig!, namespace: ns, statefulSet: stsName },
                      { parent: this, dependsOn: [namespace] },
                  );
            const sts = new k8s.apps.v1.StatefulSet(
                childName(name, "sts", zone),
                {
                    metadata: {
                        name: stsName,
                        namespace: ns,
                        labels: { ...labels, "valkey.io/zone": zone },
                        annotations: rendering ? {} : { "pulumi.com/skipAwait": "true" },
                    },
                    spec: this.statefulSetSpec(settings, platform, zone, replicas, authSecretName, confName, confChecksum(valkeyConf)),
                },
                // After the ConfigMap: the pods a change restarts must read the new valkey.conf.
                { ...k8sOpts, dependsOn: [namespace, conf, ...(previous ? [previous] : []), ...(teardown ? [teardown] : [])] },
            );
            previous = rendering
                ? sts
                : new ZoneRollout(
                      childName(name, "rollout", zone),
                      {
                          kubeconfig: kubeconfig!,
                          namespace: ns,
                          statefulSet: stsName,
                          revision: pulumi.interpolate`${sts.metadata.uid}/${sts.metadata.generation}`,
                      },
                      { parent: this, dependsOn: [sts] },
                  );
            statefulSetResources.push(previous);
        }

        // Then the bootstrap proper: form, grow, repair placement, once every StatefulSet has rolled out.
        this.slots = rendering ? undefined : bootstrap("converge", statefulSetResources);

        new k8s.policy.v1.PodDisruptionBudget(
            childName(name, "pdb"),
            {
                metadata: { name: `${clusterName}-pdb`, namespace: ns, labels },
                spec: { maxUnavailable: 1, selector: { matchLabels: podSelector(clusterName) } },
            },
            nsOpts,
        );

        new k8s.networking.v1.NetworkPolicy(
            childName(name, "netpol"),
            { metadata: { name: `${clusterName}-netpol`, namespace: ns, labels }, spec: networkPolicySpec(clusterName, settings) },
            nsOpts,
        );

        if (settings.serviceMonitor) {
            new k8s.apiextensions.CustomResource(
                childName(name, "servicemonitor"),
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "ServiceMonitor",
                    metadata: { name: `${clusterName}-metrics`, namespace: ns, labels },
                    spec: {
                        selector: { matchLabels: { ...labels, "valkey.io/metrics": "true" } },
                        // zone and shard labels on every series (issue 14): the alerts and the dashboard split by them.
                        endpoints: [{ port: "metrics", interval: "30s", relabelings: scrapeRelabelings(clusterName, this.layout) }],
                    },
                },
                nsOpts,
            );
            // Issue 14: the alert rules and the Grafana dashboard (components/valkey/alerts.ts, dashboard.ts).
            new k8s.apiextensions.CustomResource(
                childName(name, "alerts"),
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PrometheusRule",
                    metadata: { name: `${clusterName}-alerts`, namespace: ns, labels },
                    spec: prometheusRuleSpec(settings),
                },
                nsOpts,
            );
            new k8s.core.v1.ConfigMap(
                childName(name, "dashboard"),
                {
                    // grafana_dashboard: the label Grafana's dashboard sidecar (kube-prometheus-stack) loads.
                    metadata: { name: `${clusterName}-dashboard`, namespace: ns, labels: { ...labels, grafana_dashboard: "1" } },
                    data: { [dashboardFileName(clusterName)]: JSON.stringify(grafanaDashboard(settings), null, 2) },
                },
                nsOpts,
            );
        }
        if (settings.metrics) {
            new k8s.core.v1.Service(
                childName(name, "metrics"),
                {
                    metadata: { name: `${clusterName}-metrics`, namespace: ns, labels: { ...labels, "valkey.io/metrics": "true" } },
                    spec: {
                        clusterIP: "None",
                        selector: podSelector(clusterName),
                        ports: [{ name: "metrics", port: METRICS_PORT, targetPort: "metrics" }],
                    },
                },
                nsOpts,
            );
        }

        this.connectionSecrets = createConnectionSecrets(
            name,
            {
                clusterName,
                namespaces: settings.allowedNamespaces,
                labels,
                connection: {
                    host: this.endpoint,
                    port: VALKEY_PORT,
                    user: "default",
                    password: this.password,
                    ssl: settings.tls.enabled,
                    cluster: true,
                },
            },
            { ...k8sOpts, dependsOn: [namespace] },
        );

        this.registerOutputs({
            namespace: this.namespace,
            endpoint: this.endpoint,
            password: this.password,
            statefulSets: this.statefulSets,
            connectionSecrets: this.connectionSecrets,
        });
    }

    /** Reads the existing cluster's nodes and rejects with every zone that cannot hold its pods. */
    private async checkCapacity(settings: Settings, platform: KubernetesPlatform): Promise<pulumi.Resource[]> {
        const kubeconfig = settings.kubernetes.kubeconfig ?? process.env.KUBECONFIG;
        if (kubeconfig === undefined) return [];
        let nodes: NodeView[];
        try {
            nodes = await readNodes(kubeconfig);
        } catch (e) {
            throw new pulumi.ResourceError(
                `valkey.kubernetes.kubeconfig: cannot list the cluster's nodes to check capacity: ${(e as Error).message}`,
                this,
            );
        }
        const problems = capacityProblems(nodes, {
            zones: this.layout.zones.map((z) => ({ zone: z.zone, pods: z.pods.length })),
            memoryBytes: settings.memoryBytes + (settings.metrics ? 64 * 2 ** 20 : 0),
            milliCpu: Math.round((parseCpu(settings.cpu) ?? 0) * 1000) + (settings.metrics ? 100 : 0),
            antiAffinity: settings.podAntiAffinity,
            arch: platform.arch,
            nodeSelector: platform.nodeSelector,
            tolerated: platform.tolerations.map((t) => t.key),
        });
        if (problems.length > 0) {
            throw new pulumi.ResourceError(
                `The cluster cannot hold the Valkey pods:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
                this,
            );
        }
        return [];
    }

    private statefulSetSpec(
        settings: Settings,
        platform: KubernetesPlatform,
        zone: string,
        replicas: number,
        authSecretName: string,
        confName: string,
        confSha256: string,
    ): k8s.types.input.apps.v1.StatefulSetSpec {
        const clusterName = settings.name;
        const podLabels = { ...clusterLabels(clusterName), "app.kubernetes.io/component": "server", "valkey.io/zone": zone };
        const passwordEnv = { secretKeyRef: { name: authSecretName, key: "password" } };
        const tls = settings.tls.enabled;
        const tlsSecret = settings.tls.secretName ?? `${clusterName}-tls`;
        const script = (file: string) => ({ exec: { command: ["sh", `${PATHS.confDir}/${file}`] } });
        const waitSeconds = failoverWaitSeconds(settings.nodeTimeoutMs);
        // preStop failover, then SHUTDOWN flushing the AOF or writing the final RDB.
        const grace = waitSeconds + 30 + (settings.persistence === "none" ? 0 : 60);
        const memory = settings.memory;
        const containers: k8s.types.input.core.v1.Container[] = [
            {
                name: "valkey",
                image: settings.image,
                imagePullPolicy: "IfNotPresent",
                // start.sh holds back a node that stopped as a primary until its replica took over (see conf.ts).
                command: ["sh", `${PATHS.confDir}/start.sh`],
                args: [
                    PATHS.conf,
                    "--cluster-announce-hostname",
                    `$(POD_NAME).${clusterName}-headless.${settings.namespace}.svc.cluster.local`,
                    // Valkey 8 reports it in INFO server; zone-aware clients read it to prefer same-zone replicas.
                    ...(imageHasAvailabilityZone(settings.image) ? ["--availability-zone", zone] : []),
                ],
                env: [
                    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                    { name: "REDISCLI_AUTH", valueFrom: passwordEnv },
                    { name: "VALKEYCLI_AUTH", valueFrom: passwordEnv },
                ],
                ports: [
                    { name: "valkey", containerPort: VALKEY_PORT },
                    { name: "bus", containerPort: BUS_PORT },
                ],
                resources: {
                    requests: { memory, cpu: settings.cpu },
                    limits: { memory, cpu: settings.cpu },
                },
                startupProbe: { ...script("liveness.sh"), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 120 },
                livenessProbe: { ...script("liveness.sh"), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                readinessProbe: { ...script("readiness.sh"), periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 2 },
                lifecycle: { preStop: script("prestop.sh") },
                securityContext: {
                    runAsNonRoot: true,
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [
                    { name: "data", mountPath: PATHS.data },
                    { name: "conf", mountPath: PATHS.confDir, readOnly: true },
                    { name: "auth", mountPath: PATHS.authDir, readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                    ...(tls ? [{ name: "tls", mountPath: PATHS.tlsDir, readOnly: true }] : []),
                ],
            },
        ];
        if (settings.metrics) {
            containers.push({
                name: "exporter",
                image: settings.exporterImage,
                imagePullPolicy: "IfNotPresent",
                env: [
                    { name: "REDIS_ADDR", value: `${tls ? "rediss" : "redis"}://127.0.0.1:${VALKEY_PORT}` },
                    { name: "REDIS_PASSWORD", valueFrom: passwordEnv },
                    ...(tls ? [{ name: "REDIS_EXPORTER_TLS_CA_CERT_FILE", value: `${PATHS.tlsDir}/ca.crt` }] : []),
                ],
                ports: [{ name: "metrics", containerPort: METRICS_PORT }],
                resources: { requests: { memory: "64Mi", cpu: "100m" }, limits: { memory: "64Mi", cpu: "100m" } },
                securityContext: {
                    runAsNonRoot: true,
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                },
                volumeMounts: tls ? [{ name: "tls", mountPath: PATHS.tlsDir, readOnly: true }] : [],
            });
        }
        const initContainers: k8s.types.input.core.v1.Container[] = settings.kernelTuning
            ? [
                  {
                      // Node-level settings Valkey warns about: THP off (latency spikes on fork), overcommit on
                      // (BGSAVE/AOF rewrite fork would fail), a deeper accept queue.
                      name: "kernel-tuning",
                      image: settings.image,
                      command: [
                          "sh",
                          "-c",
                          "echo never > /sys/kernel/mm/transparent_hugepage/enabled && sysctl -w vm.overcommit_memory=1 && sysctl -w net.core.somaxconn=1024",
                      ],
                      securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
                      resources: { requests: { memory: "32Mi", cpu: "50m" }, limits: { memory: "32Mi", cpu: "50m" } },
                  },
              ]
            : [];
        return {
            serviceName: `${clusterName}-headless`,
            replicas,
            podManagementPolicy: "Parallel",
            // One pod at a time is the default; rollingUpdate.maxUnavailable is behind the MaxUnavailableStatefulSet
            // feature gate (off by default, also on EKS/AKS before 1.35): the API server drops it and every preview
            // would propose it again.
            updateStrategy: { type: "RollingUpdate" },
            // Volumes outlive scale-in and deletion: nothing is ever lost by a config change.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
            selector: { matchLabels: { ...podSelector(clusterName), "valkey.io/zone": zone } },
            template: {
                metadata: {
                    labels: podLabels,
                    annotations: {
                        // Valkey reads valkey.conf only at start: a change to it (persistence, maxmemory, node timeout)
                        // changes the pod template, so the pods roll one at a time and the servers run what was planned.
                        [CONF_CHECKSUM_ANNOTATION]: confSha256,
                        ...(settings.metrics ? { "prometheus.io/scrape": "true", "prometheus.io/port": String(METRICS_PORT) } : {}),
                    },
                },
                spec: {
                    terminationGracePeriodSeconds: grace,
                    enableServiceLinks: false,
                    securityContext: {
                        runAsNonRoot: true,
                        runAsUser: 999,
                        runAsGroup: 999,
                        fsGroup: 999,
                        fsGroupChangePolicy: "OnRootMismatch",
                        seccompProfile: { type: "RuntimeDefault" },
                    },
                    nodeSelector: { ...platform.nodeSelector, "kubernetes.io/arch": platform.arch },
                    tolerations: platform.tolerations,
                    affinity: {
                        nodeAffinity: {
                            requiredDuringSchedulingIgnoredDuringExecution: {
                                nodeSelectorTerms: [
                                    { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: [zone] }] },
                                ],
                            },
                        },
                        podAntiAffinity: podAntiAffinity(clusterName, settings.podAntiAffinity),
                    },
                    initContainers,
                    containers,
                    volumes: [
                        { name: "conf", configMap: { name: confName, defaultMode: 0o555 } },
                        { name: "auth", secret: { secretName: authSecretName, items: [{ key: "auth.conf", path: "auth.conf" }], defaultMode: 0o440 } },
                        { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
                        ...(tls ? [{ name: "tls", secret: { secretName: tlsSecret, defaultMode: 0o440 } }] : []),
                    ],
                },
            },
            volumeClaimTemplates: [
                {
                    metadata: { name: "data", labels: podSelector(clusterName) },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: platform.storageClassName,
                        resources: { requests: { storage: settings.volumeSize } },
                    },
                },
            ],
        };
    }
}

/**
 * The NetworkPolicy of a cluster: everything denied except the client port and cluster bus between the cluster's
 * pods, the client port from the allowed namespaces, the metrics port, and DNS out.
 */
export function networkPolicySpec(clusterName: string, settings: Pick<Settings, "allowedNamespaces" | "metrics">): k8s.types.input.networking.v1.NetworkPolicySpec {
    const peers = { podSelector: { matchLabels: podSelector(clusterName) } };
    const ingress: k8s.types.input.networking.v1.NetworkPolicyIngressRule[] = [
        { from: [peers], ports: [{ port: VALKEY_PORT, protocol: "TCP" }, { port: BUS_PORT, protocol: "TCP" }] },
    ];
    if (settings.allowedNamespaces.length > 0) {
        ingress.push({
            from: settings.allowedNamespaces.map((ns) => ({
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
            })),
            ports: [{ port: VALKEY_PORT, protocol: "TCP" }],
        });
    }
    if (settings.metrics) {
        ingress.push({ from: [{ namespaceSelector: {} }], ports: [{ port: METRICS_PORT, protocol: "TCP" }] });
    }
    return {
        podSelector: { matchLabels: podSelector(clusterName) },
        policyTypes: ["Ingress", "Egress"],
        ingress,
        egress: [
            { to: [peers], ports: [{ port: VALKEY_PORT, protocol: "TCP" }, { port: BUS_PORT, protocol: "TCP" }] },
            {
                to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                ports: [
                    { port: 53, protocol: "UDP" },
                    { port: 53, protocol: "TCP" },
                ],
            },
        ],
    };
}
