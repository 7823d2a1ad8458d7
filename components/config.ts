/**
 * The one typed settings object of valkey-platform, read from stack config. Every default and every validation
 * rule lives here; nothing else reads `pulumi.Config`.
 *
 * Settings are read from the `valkey` config namespace (`valkey:shards`, `valkey:aws`, ...). `resolveSettings`
 * is pure (plain data in, settings or one `SettingsError` out) so it is tested directly; `loadSettings` only
 * collects the raw values from Pulumi's config.
 */
import { computeLayout, quorumHolds, quorumSafeShardCounts, sharedZoneShards } from "./valkey/layout";
import { localProblems } from "./local/nodes";
import { formatBytes, parseBytes, parseCpu } from "./quantity";
import { AWS_NODE_SIZES, AZURE_NODE_SIZES, DAEMONSET_MEMORY_BYTES, findNodeSize, isBurstable } from "./sizing";
import { subnetPlanProblem } from "./aws/subnets";
import { GP3_MAX_IOPS_PER_GIB, VALKEY_GP3_IOPS, VALKEY_GP3_MIN_GIB, VALKEY_STORAGE_CLASS } from "./aws/storage";
import { addressPlanProblem } from "./azure/addressPlan";
import { KUBELOGIN_MODES, type KubeloginMode } from "./azure/kubeconfig";
import { vmSizeFeatures } from "./azure/vmSize";
import { aivenDefaultTags, aivenProblems } from "./aiven/mapping";
import { aivenPlanReplicas } from "./aiven/plan";

/** Where the stack runs: a Kubernetes platform, local processes, or Aiven's managed Valkey (`aiven`). */
export type Cloud = "aws" | "azure" | "kubernetes" | "local" | "aiven";
/** The environment class of a stack; decides the defaults and how strict validation is. */
export type Environment = "local" | "dev" | "prod";
/** Persistence: append-only file plus RDB snapshots, snapshots only, or none (a pure cache). */
export type Persistence = "aof+rdb" | "rdb" | "none";

/** The AWS side (cloud: aws). */
export interface AwsSettings {
    /** Region. Default `us-east-1` (or the `aws:region` of the stack). */
    region: string;
    /** EKS Kubernetes version, pinned. Default `1.33`. */
    kubernetesVersion: string;
    /** Instance type the Valkey pods are sized for (r7g/r8g; r7gn/r8gn/m7gn with networkOptimised). Default dev `r7g.large`, prod `r7g.xlarge`. */
    instanceType: string;
    /** Allow the network-optimised Graviton families (r7gn, r8gn, m7gn) in the Valkey NodePool. Default false. */
    networkOptimised: boolean;
    /** VPC CIDR. Default `10.0.0.0/16`. */
    vpcCidr: string;
    /** NAT gateways: one per AZ (prod default) or a single one (dev default). */
    natGateways: "perAz" | "single";
    /** Make the EKS API endpoint private only. Default false in dev, true in prod. */
    privateEndpoint: boolean;
    /** Instance type of the small system node group (Karpenter, CoreDNS). Default `m7g.large`. */
    systemInstanceType: string;
    /** Karpenter Helm chart version, pinned (1.x; 1.5 or later for Kubernetes 1.33). Default `1.8.1`. */
    karpenterVersion: string;
    /** EKS cluster name, also the prefix of its IAM roles and the interruption queue. Default `<name>-<stack>`. */
    clusterName: string;
    /** Nodes of the system node group (Karpenter, CoreDNS, CSI controller), spread over the zones. Default dev 2, prod 3. */
    systemNodeCount: number;
    /** AL2023 EKS AMI release of the Valkey nodes: `latest` or a pinned `vYYYYMMDD`; a change rolls nodes one at a time. Default `latest`. */
    amiVersion: string;
    /** EKS control-plane log types sent to CloudWatch. Default `["api", "audit", "authenticator"]`. */
    controlPlaneLogs: string[];
    /** CIDRs that may reach the public API endpoint (when privateEndpoint is false). Default `["0.0.0.0/0"]`. */
    publicAccessCidrs: string[];
    /** EKS deletion protection: the cluster cannot be deleted until this is turned off. Default true in prod, false in dev. */
    deletionProtection: boolean;
}

/** The Azure side (cloud: azure). */
export interface AzureSettings {
    /** Region. Default `eastus2` (or `azure-native:location`). */
    location: string;
    /** AKS Kubernetes version, pinned. Default `1.33`. */
    kubernetesVersion: string;
    /** VM size of the Valkey user pools (E-series v5). Default dev `Standard_E4ds_v5`, prod `Standard_E64ds_v5`. */
    vmSize: string;
    /** VM size of the system pool. Default `Standard_D4ds_v5`. */
    systemVmSize: string;
    /** VNet address space. Default `10.10.0.0/16`. */
    vnetCidr: string;
    /** Disk SKU of the Valkey volumes: Premium_LRS (default) or PremiumV2_LRS with the IOPS/throughput below. */
    diskSku: "Premium_LRS" | "PremiumV2_LRS";
    /** PremiumV2 provisioned IOPS. Default 6000. */
    diskIops: number;
    /** PremiumV2 provisioned throughput, MB/s. Default 250. */
    diskMbps: number;
    /** AKS automatic upgrade channel. Default `patch`. */
    upgradeChannel: "none" | "patch" | "stable" | "rapid" | "node-image";
    /** Planned maintenance window: day and UTC start hour. Default Sunday 02:00, 4 hours. */
    maintenanceWindow: { day: string; startHour: number; durationHours: number };
    /** Nodes each zone's Valkey pool may add above one per Valkey pod (autoscaler headroom). Default 1. */
    poolHeadroom: number;
    /** How kubelogin gets the deployer's token for the Kubernetes provider (Azure RBAC). Default `azurecli` (az login, or OIDC through azure/login). */
    kubeloginMode: KubeloginMode;
}

/** The local platform (cloud: local): server processes on loopback. */
export interface LocalSettings {
    /** Server binary; default `valkey-server` when on PATH, else `redis-server`. */
    serverBinary?: string;
    /** First port; the node with ordinal o in zone z listens on basePort + o x zones + z. Default 7000. */
    basePort: number;
    /** Data directory, relative to the project. Default `.local-data`. */
    dataDir: string;
}

/** An existing Kubernetes cluster (cloud: kubernetes). */
export interface KubernetesSettings {
    /** kubeconfig file or content; default the ambient KUBECONFIG. */
    kubeconfig?: string;
    /** StorageClass of the Valkey volumes (must be zonal and WaitForFirstConsumer). Default `standard`. */
    storageClassName: string;
    /** Render every manifest to this directory instead of applying it (GitOps). Default unset. */
    renderDirectory?: string;
    /** Memory a node offers to pods, for the fit check (e.g. `28Gi`). Default unset (no check). */
    nodeAllocatableMemory?: string;
    /** CPU architecture of the nodes. Default amd64. */
    arch: "arm64" | "amd64";
}

// ---- Aiven (cloud: aiven, issue 15) ----
/** The days of Aiven's maintenance window, as Aiven spells them. */
export const AIVEN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

/**
 * Aiven's managed Valkey (cloud: aiven): one Aiven for Valkey service instead of a Kubernetes platform. How the
 * shared settings map onto it, and which are refused, is in components/aiven/mapping.ts.
 */
export interface AivenSettings {
    /** Aiven project of the service (`avn project list`). Required with cloud aiven; no default. */
    project: string;
    /** Cloud and region, `<provider>-<region>` (`avn cloud list`). Default `aws-us-east-1`. */
    cloudName: string;
    /** Plan: `hobbyist`, `startup-N`, `business-N` or `premium-N` (N about the GB per node); its family decides the standbys. Default dev `startup-4`, prod `business-4`. */
    plan: string;
    /** Service name, unique in the project; a change replaces the service. Default `<name>-<stack>`. */
    serviceName: string;
    /** Weekly maintenance window: day (lower case) and UTC start time `HH:mm:ss`. Default `{day: sunday, time: "02:00:00"}`. */
    maintenanceWindow: { day: (typeof AIVEN_WEEKDAYS)[number]; time: string };
    /** Service tags: the platform's own (`valkey-platform-cluster`, `-environment`, `-stack`) plus these. Default none of your own. */
    tags: Record<string, string>;
    /** Aiven refuses to delete the service while it is on. Default true in prod, false in dev. */
    terminationProtection: boolean;
    /** Who gets Aiven's maintenance and incident notices for the service (at most 10). Default none: the project's contacts. */
    technicalEmails: string[];
    /** Addresses or CIDRs clients may connect from (ip_filter). Default dev `["0.0.0.0/0"]` (Aiven's own default); prod none: it must be set. */
    ipFilter: string[];
    /** UTC hour the daily backup starts (0-23). Default unset: Aiven's schedule. */
    backupHour?: number;
    /** Minute of backupHour the backup starts (0-59); needs backupHour. Default 0 when backupHour is set. */
    backupMinute?: number;
    /** Not a key of `valkey:aiven`: `valkey:ioThreads` when the stack sets it. Default unset: Aiven's default for the plan (the shared default follows valkey.cpu, which Aiven has not). */
    ioThreads?: number;
}
// ---- end Aiven ----

/** TLS for client and cluster-bus traffic; the certificate comes from a Secret (e.g. cert-manager's). */
export interface TlsSettings {
    enabled: boolean;
    /** Secret with tls.crt, tls.key and ca.crt. Default `<name>-tls`. */
    secretName?: string;
}

/**
 * Thresholds of the alert rules (the PrometheusRule created with the ServiceMonitor, issue 14). Each one is
 * written into its rule's expression and shown on the dashboard.
 */
export interface AlertSettings {
    /** ValkeyReplicationLag: seconds since a replica last acknowledged its primary. Default 10. */
    replicationLagSeconds: number;
    /** ValkeyMemoryHigh: used memory as a share of maxmemory. Default 0.9. */
    memoryUsedRatio: number;
    /** ValkeyClientsNearLimit: connected clients as a share of maxclients. Default 0.85. */
    clientsUsedRatio: number;
    /** ValkeyKeysEvicted: evicted keys per second on one node, averaged over 5 minutes. Default 0 (any eviction). */
    evictedKeysPerSecond: number;
    /** ValkeyFailover: how long the alert keeps firing after a node changed role, in minutes. Default 15. */
    failoverWindowMinutes: number;
}

/** Everything the program needs, validated and with every default filled in. */
export interface Settings {
    cloud: Cloud;
    environment: Environment;
    /** Cluster name; prefix of every child. Default `valkey`. */
    name: string;
    /** Namespace of the Valkey pods. Default `valkey`. */
    namespace: string;
    /** Zones, one StatefulSet each. Default three zones of the region (local: zone-a, zone-b, zone-c; aiven: none, Aiven places the nodes). */
    zones: string[];
    /** Primaries (each owns an equal share of the 16384 slots). Default 3 (aiven: 1, no cluster mode). */
    shards: number;
    /** Replicas per primary, each in another zone. Default 1 (prod 2; aiven: the plan's standbys). */
    replicasPerShard: number;
    /** Valkey image, pinned by tag or digest. Default `valkey/valkey:8.1.4`. */
    image: string;
    /** Prometheus exporter sidecar image. Default `oliver006/redis_exporter:v1.67.0`. */
    exporterImage: string;
    /** Memory per Valkey container, requests == limits. Default local 256Mi, dev 6Gi, prod 22Gi (AKS prod 400Gi). */
    memory: string;
    memoryBytes: number;
    /** CPU per Valkey container, requests == limits. Default local 0.5, dev 1, prod 3. */
    cpu: string;
    /** maxmemory as a fraction of the memory limit (<= 0.8). Default 0.75. */
    maxmemoryRatio: number;
    /** maxmemory in bytes: floor(ratio x memory limit). */
    maxmemoryBytes: number;
    /** Eviction policy. Default `noeviction` (a data store; use allkeys-lru for a cache). */
    maxmemoryPolicy: string;
    /** Persistence. Default `aof+rdb` (local `none`, aiven `rdb`). */
    persistence: Persistence;
    /** Volume per pod. Default 2.5x maxmemory rounded up to whole GiB. */
    volumeSize: string;
    volumeBytes: number;
    /** Valkey I/O threads. Default 1 below 4 cores, else min(cores, 8) - 1... see `defaultIoThreads`. */
    ioThreads: number;
    /** cluster-node-timeout in ms (failure detection). Default 5000. */
    nodeTimeoutMs: number;
    tls: TlsSettings;
    /** Namespaces whose pods may connect and get a connection Secret. Default `["default"]`. */
    allowedNamespaces: string[];
    /** redis_exporter sidecar. Default true (local false). */
    metrics: boolean;
    /** A ServiceMonitor for the Prometheus operator (needs its CRDs). Default false. */
    serviceMonitor: boolean;
    /** Init container that sets THP never, somaxconn and overcommit on the node (privileged). Default prod true. */
    kernelTuning: boolean;
    /**
     * The Valkey password, when brought (`pulumi config set --secret valkey:password ...`, e.g. from a vault):
     * 16-512 characters without whitespace, quotes or backslashes. Default: none given, so @pulumi/random
     * generates 32 characters. Secret: the program wraps it with `pulumi.secret` before any resource sees it.
     */
    password?: string;
    /**
     * How Valkey pods spread over the nodes of a zone. `required`: at most one Valkey pod per node, so a node
     * failure takes one copy, never a primary and its replica (needs as many nodes per zone as the zone has pods);
     * `preferred`: spread when possible, share a node otherwise (small or test clusters). Default `required`.
     */
    podAntiAffinity: "required" | "preferred";
    /** Alert thresholds of the PrometheusRule. */
    alerts: AlertSettings;
    aws: AwsSettings;
    azure: AzureSettings;
    local: LocalSettings;
    kubernetes: KubernetesSettings;
    aiven: AivenSettings;
}

/** One problem with the settings: the setting's path and a message that quotes the value and says the fix. */
export interface SettingsProblem {
    path: string;
    message: string;
}

/** Thrown by `resolveSettings` with every problem found, before any resource exists. */
export class SettingsError extends Error {
    constructor(public readonly problems: SettingsProblem[]) {
        super(
            `Invalid valkey-platform settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.message}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}

/** The raw values of the `valkey` config namespace, as `pulumi.Config` returns them (strings or parsed JSON). */
export type RawSettings = Record<string, unknown>;

const GiB = 2 ** 30;

/** The environment a stack belongs to when `valkey:environment` is not set: from the stack name. */
export function environmentOfStack(stack: string): Environment {
    if (/^local/.test(stack)) return "local";
    if (/^prod/.test(stack)) return "prod";
    return "dev";
}

/** Default I/O threads for a CPU budget: none below 2 cores, otherwise cores - 1 up to 8. */
export function defaultIoThreads(cores: number): number {
    return Math.max(1, Math.min(8, Math.floor(cores) - 1));
}

/** Default Valkey container memory per environment and cloud. */
function defaultMemory(env: Environment, cloud: Cloud): string {
    if (env === "local" || cloud === "local") return "256Mi";
    if (env === "prod") return cloud === "azure" ? "400Gi" : "22Gi";
    return "6Gi";
}

const json = (v: unknown): string => JSON.stringify(v);

/** Config set with `pulumi config set --path` or as YAML arrives typed; set as a plain string it is JSON text. */
function parseJsonish(v: unknown): unknown {
    if (typeof v === "string" && /^\s*[[{]/.test(v)) {
        try {
            return JSON.parse(v);
        } catch {
            return v;
        }
    }
    return v;
}

/** Reads config values that may arrive as strings (`pulumi config set`) or typed (YAML objects, mocks). */
class Reader {
    readonly problems: SettingsProblem[] = [];
    constructor(private readonly raw: RawSettings) {}

    private value(path: string): unknown {
        let v: unknown = this.raw;
        for (const part of path.split(".")) {
            v = parseJsonish(v);
            if (v === undefined || v === null || typeof v !== "object") return undefined;
            v = (v as Record<string, unknown>)[part];
        }
        return parseJsonish(v);
    }

    /** The value the stack gives a setting, parsed, or undefined when it leaves it unset. */
    given(path: string): unknown {
        const v = this.value(path);
        return v === null || v === "" ? undefined : v;
    }

    /** A map of strings (tags), e.g. `{team: platform}`. */
    stringMap(path: string, dflt: Record<string, string>): Record<string, string> {
        const v = this.given(path);
        if (v === undefined) return dflt;
        const entries = typeof v === "object" && !Array.isArray(v) ? Object.entries(v as object) : undefined;
        if (!entries || entries.some(([k, x]) => k === "" || (typeof x !== "string" && typeof x !== "number"))) {
            this.fail(path, `got ${json(v)}; expected a map of names to values, e.g. {"team": "platform"}.`);
            return dflt;
        }
        return Object.fromEntries(entries.map(([k, x]) => [k, String(x)]));
    }

    fail(path: string, message: string): void {
        this.problems.push({ path, message: `valkey.${path}: ${message}` });
    }

    string(path: string, dflt: string): string;
    string(path: string, dflt: undefined): string | undefined;
    string(path: string, dflt: string | undefined): string | undefined {
        const v = this.value(path);
        if (v === undefined || v === null || v === "") return dflt;
        if (typeof v !== "string" && typeof v !== "number") {
            this.fail(path, `got ${json(v)}; expected a string.`);
            return dflt;
        }
        return String(v);
    }

    oneOf<T extends string>(path: string, allowed: readonly T[], dflt: T): T {
        const v = this.string(path, dflt);
        if (!allowed.includes(v as T)) {
            this.fail(path, `got ${json(v)}; use one of ${allowed.map((a) => json(a)).join(", ")}.`);
            return dflt;
        }
        return v as T;
    }

    number(path: string, dflt: number, opts: { integer?: boolean; min?: number; max?: number; fix?: string } = {}): number {
        const v = this.value(path);
        if (v === undefined || v === null || v === "") return dflt;
        const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
        const fix = opts.fix ? ` ${opts.fix}` : "";
        if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n))) {
            this.fail(path, `got ${json(v)}; expected ${opts.integer ? "a whole number" : "a number"}.${fix}`);
            return dflt;
        }
        if (opts.min !== undefined && n < opts.min) {
            this.fail(path, `got ${n}; it must be at least ${opts.min}.${fix}`);
        } else if (opts.max !== undefined && n > opts.max) {
            this.fail(path, `got ${n}; it must be at most ${opts.max}.${fix}`);
        }
        return n;
    }

    boolean(path: string, dflt: boolean): boolean {
        const v = this.value(path);
        if (v === undefined || v === null || v === "") return dflt;
        if (v === true || v === "true") return true;
        if (v === false || v === "false") return false;
        this.fail(path, `got ${json(v)}; use true or false.`);
        return dflt;
    }

    stringList(path: string, dflt: string[]): string[] {
        const v = this.value(path);
        if (v === undefined || v === null || v === "") return dflt;
        const list = typeof v === "string" ? v.split(",").map((s) => s.trim()) : v;
        if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === "")) {
            this.fail(path, `got ${json(v)}; expected a list of names, e.g. ["a", "b"].`);
            return dflt;
        }
        return list as string[];
    }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Validates raw stack config and fills in every default. Collects every problem and throws one
 * `SettingsError` listing them all; returns the settings only when there is none.
 *
 * @param raw the `valkey` config namespace as plain data
 * @param stack the stack name, which decides the environment when `valkey:environment` is unset
 */
export function resolveSettings(raw: RawSettings, stack: string): Settings {
    const r = new Reader(raw);
    const environment = r.oneOf("environment", ["local", "dev", "prod"], environmentOfStack(stack));
    const cloud = r.oneOf<Cloud>("cloud", ["aws", "azure", "kubernetes", "local", "aiven"], environment === "local" ? "local" : "aws");
    const aivenCloud = cloud === "aiven";
    const prod = environment === "prod";

    const name = r.string("name", "valkey");
    if (!DNS_LABEL.test(name) || name.length > 30) {
        r.fail("name", `got ${json(name)}; use a DNS label of at most 30 characters (a-z, 0-9, -), e.g. "valkey".`);
    }
    const namespace = r.string("namespace", "valkey");
    if (!DNS_LABEL.test(namespace) || namespace.length > 63) {
        r.fail("namespace", `got ${json(namespace)}; use a DNS label (a-z, 0-9, -), e.g. "valkey".`);
    }

    // Per-cloud sections first: the zones and the node size depend on them.
    const aws: AwsSettings = {
        region: r.string("aws.region", "us-east-1"),
        kubernetesVersion: r.string("aws.kubernetesVersion", "1.33"),
        instanceType: r.string("aws.instanceType", prod ? "r7g.xlarge" : "r7g.large"),
        networkOptimised: r.boolean("aws.networkOptimised", false),
        vpcCidr: r.string("aws.vpcCidr", "10.0.0.0/16"),
        natGateways: r.oneOf("aws.natGateways", ["perAz", "single"], prod ? "perAz" : "single"),
        privateEndpoint: r.boolean("aws.privateEndpoint", prod),
        systemInstanceType: r.string("aws.systemInstanceType", "m7g.large"),
        karpenterVersion: r.string("aws.karpenterVersion", "1.8.1"),
        clusterName: r.string("aws.clusterName", `${name}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-")),
        systemNodeCount: r.number("aws.systemNodeCount", prod ? 3 : 2, {
            integer: true,
            min: 2,
            max: 10,
            fix: "Karpenter runs two replicas on separate system nodes; use 2 or more (one per zone in prod).",
        }),
        amiVersion: r.string("aws.amiVersion", "latest"),
        controlPlaneLogs: r.stringList("aws.controlPlaneLogs", ["api", "audit", "authenticator"]),
        publicAccessCidrs: r.stringList("aws.publicAccessCidrs", ["0.0.0.0/0"]),
        deletionProtection: r.boolean("aws.deletionProtection", prod),
    };
    const azure: AzureSettings = {
        location: r.string("azure.location", "eastus2"),
        kubernetesVersion: r.string("azure.kubernetesVersion", "1.33"),
        vmSize: r.string("azure.vmSize", prod ? "Standard_E64ds_v5" : "Standard_E4ds_v5"),
        systemVmSize: r.string("azure.systemVmSize", "Standard_D4ds_v5"),
        vnetCidr: r.string("azure.vnetCidr", "10.10.0.0/16"),
        diskSku: r.oneOf("azure.diskSku", ["Premium_LRS", "PremiumV2_LRS"], "Premium_LRS"),
        diskIops: r.number("azure.diskIops", 6000, { integer: true, min: 3000, max: 80000 }),
        diskMbps: r.number("azure.diskMbps", 250, { integer: true, min: 125, max: 1200 }),
        upgradeChannel: r.oneOf("azure.upgradeChannel", ["none", "patch", "stable", "rapid", "node-image"], "patch"),
        maintenanceWindow: {
            day: r.oneOf(
                "azure.maintenanceWindow.day",
                ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
                "Sunday",
            ),
            startHour: r.number("azure.maintenanceWindow.startHour", 2, { integer: true, min: 0, max: 23 }),
            durationHours: r.number("azure.maintenanceWindow.durationHours", 4, { integer: true, min: 4, max: 24 }),
        },
        poolHeadroom: r.number("azure.poolHeadroom", 1, { integer: true, min: 0, max: 10 }),
        kubeloginMode: r.oneOf("azure.kubeloginMode", KUBELOGIN_MODES, "azurecli"),
    };
    const local: LocalSettings = {
        serverBinary: r.string("local.serverBinary", undefined),
        basePort: r.number("local.basePort", 7000, { integer: true, min: 1024, max: 60000 }),
        dataDir: r.string("local.dataDir", ".local-data"),
    };
    const kubernetes: KubernetesSettings = {
        kubeconfig: r.string("kubernetes.kubeconfig", undefined),
        storageClassName: r.string("kubernetes.storageClassName", "standard"),
        renderDirectory: r.string("kubernetes.renderDirectory", undefined),
        nodeAllocatableMemory: r.string("kubernetes.nodeAllocatableMemory", undefined),
        arch: r.oneOf("kubernetes.arch", ["arm64", "amd64"], "amd64"),
    };
    // Aiven (issue 15): read always, like the other clouds' sections; checked by aivenProblems below on cloud aiven.
    const aivenBackupHour = r.given("aiven.backupHour") === undefined ? undefined : r.number("aiven.backupHour", 0, { integer: true, min: 0, max: 23 });
    const aiven: AivenSettings = {
        project: r.string("aiven.project", ""),
        cloudName: r.string("aiven.cloudName", "aws-us-east-1"),
        plan: r.string("aiven.plan", prod ? "business-4" : "startup-4"),
        serviceName: r.string("aiven.serviceName", `${name}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-")),
        maintenanceWindow: {
            day: r.oneOf("aiven.maintenanceWindow.day", AIVEN_WEEKDAYS, "sunday"),
            time: r.string("aiven.maintenanceWindow.time", "02:00:00"),
        },
        tags: { ...aivenDefaultTags(name, environment, stack), ...r.stringMap("aiven.tags", {}) },
        terminationProtection: r.boolean("aiven.terminationProtection", prod),
        technicalEmails: r.stringList("aiven.technicalEmails", []),
        ipFilter: r.stringList("aiven.ipFilter", prod ? [] : ["0.0.0.0/0"]),
        backupHour: aivenBackupHour,
        backupMinute: r.given("aiven.backupMinute") === undefined ? undefined : r.number("aiven.backupMinute", 0, { integer: true, min: 0, max: 59 }),
    };

    const defaultZones =
        cloud === "local"
            ? ["zone-a", "zone-b", "zone-c"]
            : cloud === "azure"
              ? ["1", "2", "3"]
              : cloud === "aws"
                ? awsDefaultZones(aws.region)
                : ["zone-a", "zone-b", "zone-c"];
    const zones = aivenCloud ? [] : r.stringList("zones", defaultZones);
    const minZones = prod ? 3 : 2;
    if (!aivenCloud && zones.length < minZones) {
        r.fail(
            "zones",
            `got ${json(zones)} (${zones.length}); ${environment} needs at least ${minZones} zones so that losing one keeps the cluster up. List ${minZones} or more zones.`,
        );
    }
    if (new Set(zones).size !== zones.length) {
        r.fail("zones", `got ${json(zones)}; a zone is listed twice. List each zone once.`);
    }

    // On Aiven one shard, and the plan's standbys (aivenProblems refuses other values the stack sets).
    const shards = aivenCloud ? 1 : r.number("shards", 3, { integer: true, min: 3, fix: "Valkey needs at least 3 primaries to elect a new primary after a failure; use 3 or more shards." });
    const replicasPerShard = aivenCloud ? (aivenPlanReplicas(aiven.plan) ?? 0) : r.number("replicasPerShard", prod ? 2 : 1, {
        integer: true,
        min: environment === "local" ? 0 : 1,
        max: 5,
        fix: environment === "local" ? "" : "Without a replica a lost pod loses its slots' data; use 1 or more.",
    });
    if (!aivenCloud && Number.isInteger(replicasPerShard) && zones.length > 0 && replicasPerShard + 1 > zones.length) {
        r.fail(
            "replicasPerShard",
            `got ${replicasPerShard} with ${zones.length} zones; two copies of a shard would share a zone. Use at most ${zones.length - 1} replicas per shard, or ${replicasPerShard + 1} zones.`,
        );
    }
    if (Number.isInteger(shards) && shards >= 3 && zones.length >= 2 && !quorumHolds(shards, zones.length)) {
        const most = Math.ceil(shards / zones.length);
        const alternatives = quorumSafeShardCounts(shards, zones.length);
        const options = alternatives.length > 0 ? `Use ${alternatives.slice(0, -1).join(", ")}${alternatives.length > 1 ? " or " : ""}${alternatives[alternatives.length - 1]} shards, or ${zones.length + 1} zones.` : `Use ${zones.length + 1} zones.`;
        r.fail(
            "shards",
            `got ${shards} with ${zones.length} zones; losing the zone that holds ${most} primaries leaves no failover majority. ${zones.length === 2 ? `Use 3 zones.` : options}`,
        );
    }

    const image = r.string("image", "valkey/valkey:8.1.4");
    const imageProblem = imagePinProblem(image);
    if (imageProblem) {
        r.fail("image", `got ${json(image)}; ${imageProblem}`);
    }
    const exporterImage = r.string("exporterImage", "oliver006/redis_exporter:v1.67.0");
    const exporterProblem = imagePinProblem(exporterImage);
    if (exporterProblem) {
        r.fail("exporterImage", `got ${json(exporterImage)}; ${exporterProblem}`);
    }

    const memory = r.string("memory", defaultMemory(environment, cloud));
    const memoryBytes = parseBytes(memory) ?? 0;
    if (memoryBytes < 64 * 2 ** 20) {
        r.fail("memory", `got ${json(memory)}; use a Kubernetes quantity of at least 64Mi, e.g. "6Gi".`);
    }
    const cpu = r.string("cpu", environment === "local" ? "0.5" : prod ? "3" : "1");
    const cpuCores = parseCpu(cpu);
    if (cpuCores === undefined) {
        r.fail("cpu", `got ${json(cpu)}; use a Kubernetes CPU quantity, e.g. "2" or "1500m".`);
    }
    const maxmemoryRatio = r.number("maxmemoryRatio", 0.75, {
        min: 0.1,
        max: 0.8,
        fix: "Valkey needs the rest of the limit for replication buffers, fork copy-on-write and fragmentation; use 0.8 or less (0.75 is the default).",
    });
    const maxmemoryBytes = Math.floor(Math.min(Math.max(maxmemoryRatio, 0), 0.8) * memoryBytes);
    const maxmemoryPolicy = r.oneOf(
        "maxmemoryPolicy",
        ["noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"],
        "noeviction",
    );
    const persistence = r.oneOf<Persistence>("persistence", ["aof+rdb", "rdb", "none"], environment === "local" ? "none" : aivenCloud ? "rdb" : "aof+rdb");
    const defaultVolume = `${Math.max(1, Math.ceil((maxmemoryBytes * 2.5) / GiB))}Gi`;
    const volumeSize = r.string("volumeSize", defaultVolume);
    const volumeBytes = parseBytes(volumeSize) ?? 0;
    if (volumeBytes <= 0) {
        r.fail("volumeSize", `got ${json(volumeSize)}; use a Kubernetes quantity, e.g. "20Gi".`);
    } else if (persistence !== "none" && memoryBytes > 0 && volumeBytes < 2 * maxmemoryBytes) {
        r.fail(
            "volumeSize",
            `got ${json(volumeSize)} with maxmemory ${formatBytes(maxmemoryBytes)} and persistence ${persistence}; an AOF rewrite or RDB snapshot needs room for two copies of the data. Use at least ${formatBytes(Math.ceil((2 * maxmemoryBytes) / GiB) * GiB)}.`,
        );
    }
    const ioThreads = r.number("ioThreads", defaultIoThreads(cpuCores ?? 1), { integer: true, min: 1, max: 16 });
    if (!aivenCloud && cpuCores !== undefined && ioThreads > Math.max(1, Math.ceil(cpuCores))) {
        r.fail("ioThreads", `got ${ioThreads} with cpu ${json(cpu)}; more I/O threads than cores only adds contention. Use at most ${Math.max(1, Math.ceil(cpuCores))}, or raise valkey.cpu.`);
    }
    if (aivenCloud && r.given("ioThreads") !== undefined) aiven.ioThreads = ioThreads;
    const nodeTimeoutMs = r.number("nodeTimeoutMs", 5000, {
        integer: true,
        min: 1000,
        max: 60000,
        fix: "Use 1000-60000 (5000 is the default: failover in about 10 s).",
    });
    const tls: TlsSettings = {
        enabled: aivenCloud || r.boolean("tls.enabled", false),
        secretName: r.string("tls.secretName", undefined),
    };
    if (tls.enabled && cloud === "local") {
        r.fail("tls.enabled", `got true with cloud "local"; local server processes run without TLS. Set it to false.`);
    }
    const allowedNamespaces = r.stringList("allowedNamespaces", ["default"]);
    for (const ns of allowedNamespaces) {
        if (!DNS_LABEL.test(ns)) {
            r.fail("allowedNamespaces", `got ${json(ns)}; each entry must be a namespace name (a DNS label).`);
        }
    }
    const metrics = r.boolean("metrics", cloud !== "local" && !aivenCloud);
    const serviceMonitor = r.boolean("serviceMonitor", false);
    if (serviceMonitor && !metrics) {
        r.fail("serviceMonitor", `got true with metrics false; a ServiceMonitor scrapes the exporter sidecar. Set valkey.metrics to true.`);
    }
    const kernelTuning = r.boolean("kernelTuning", prod && !aivenCloud);
    const podAntiAffinity = r.oneOf("podAntiAffinity", ["required", "preferred"], "required");
    const password = r.string("password", undefined);
    if (password !== undefined) {
        // The value is never quoted in a message.
        if (raw.passwordIsSecret === false) {
            r.fail("password", "is set in plain text; store it encrypted: pulumi config set --secret valkey:password <value> (or pulumi config rm valkey:password to have one generated).");
        }
        if (password.length < 16 || password.length > 512) {
            r.fail("password", `has ${password.length} characters; use 16 to 512 (or remove it to have 32 generated).`);
        }
        if (/[\s"'\\]/.test(password) || /[\x00-\x1f\x7f]/.test(password)) {
            r.fail("password", "contains whitespace, a quote, a backslash or a control character, which valkey.conf cannot hold; choose one without.");
        }
    }
    // Alert thresholds (issue 14): components/valkey/alerts.ts writes them into the rules.
    const alerts: AlertSettings = {
        replicationLagSeconds: r.number("alerts.replicationLagSeconds", 10, {
            min: 1,
            max: 3600,
            fix: "Use seconds between 1 and 3600 (10 is the default; a healthy replica acknowledges every second).",
        }),
        memoryUsedRatio: r.number("alerts.memoryUsedRatio", 0.9, {
            min: 0.5,
            max: 1,
            fix: "Use a share of maxmemory between 0.5 and 1, e.g. 0.9.",
        }),
        clientsUsedRatio: r.number("alerts.clientsUsedRatio", 0.85, {
            min: 0.1,
            max: 1,
            fix: "Use a share of maxclients between 0.1 and 1, e.g. 0.85.",
        }),
        evictedKeysPerSecond: r.number("alerts.evictedKeysPerSecond", 0, {
            min: 0,
            fix: "Use 0 to be told of any eviction, or the rate a cache (allkeys-lru) may evict without notice, e.g. 100.",
        }),
        failoverWindowMinutes: r.number("alerts.failoverWindowMinutes", 15, {
            integer: true,
            // The rule looks for a replica sample inside the window: shorter windows miss failovers between scrapes.
            min: 5,
            max: 1440,
            fix: "Use whole minutes between 5 and 1440, e.g. 15.",
        }),
    };

    // The pod must fit the node it is sized for.
    const sidecarBytes = metrics ? 64 * 2 ** 20 : 0;
    const fit = (label: string, path: string, allocatable: number | undefined, cores?: number): void => {
        if (allocatable === undefined || memoryBytes <= 0) return;
        const room = allocatable - DAEMONSET_MEMORY_BYTES - sidecarBytes;
        if (memoryBytes > room) {
            r.fail(
                "memory",
                `got ${json(memory)}; it does not fit ${label} (${path}), which offers ${formatBytes(Math.floor(room / 2 ** 20) * 2 ** 20)} to the Valkey container after system reservations, daemons and the exporter. Use at most ${Math.floor(room / GiB)}Gi, or a larger ${path}.`,
            );
        }
        if (cores !== undefined && cpuCores !== undefined && cpuCores + (metrics ? 0.1 : 0) + 0.2 > cores) {
            r.fail("cpu", `got ${json(cpu)}; it does not fit ${label} (${path}), which offers ${cores} cores to pods. Use at most ${Math.max(0, Math.floor((cores - 0.3) * 10) / 10)}, or a larger ${path}.`);
        }
    };
    if (cloud === "aws") {
        const size = AWS_NODE_SIZES.find((s) => s.name === aws.instanceType);
        const families = aws.networkOptimised ? ["r7g", "r8g", "r7gn", "r8gn", "m7gn"] : ["r7g", "r8g"];
        if (isBurstable(aws.instanceType)) {
            r.fail("aws.instanceType", `got ${json(aws.instanceType)}; burstable instances throttle under sustained load and must not run Valkey. Use a memory-optimised Graviton type such as "r7g.xlarge".`);
        } else if (!size || !families.includes(size.family)) {
            const hint = findNodeSize(aws.instanceType) && !aws.networkOptimised ? " (network-optimised families need valkey:aws.networkOptimised true)" : "";
            r.fail("aws.instanceType", `got ${json(aws.instanceType)}; Valkey runs on Graviton ${families.join("/")} instances${hint}. Use e.g. "r7g.xlarge".`);
        } else {
            fit(aws.instanceType, "valkey.aws.instanceType", size.allocatableMemoryBytes, size.allocatableCpu);
        }
        validateAws(r, aws, zones, volumeSize, volumeBytes);
    } else if (cloud === "azure") {
        const size = AZURE_NODE_SIZES.find((s) => s.name === azure.vmSize);
        if (isBurstable(azure.vmSize)) {
            r.fail("azure.vmSize", `got ${json(azure.vmSize)}; burstable B-series VMs must not run Valkey. Use a memory-optimised E-series v5 size such as "Standard_E16ds_v5".`);
        } else if (!size) {
            r.fail("azure.vmSize", `got ${json(azure.vmSize)}; Valkey runs on memory-optimised E-series v5 VMs. Use e.g. "Standard_E16ds_v5".`);
        } else if (!vmSizeFeatures(azure.vmSize)?.premiumStorage) {
            // Ev5 and Edv5 take only Standard disks; the Valkey volumes are Premium SSD.
            const premium = azure.vmSize.replace(/d?_v5$/, "ds_v5");
            r.fail("azure.vmSize", `got ${json(azure.vmSize)}; it cannot attach the Premium SSD disks that hold the Valkey volumes (only the "s" sizes can). Use ${json(premium)}, the same size with premium storage and a temp disk.`);
        } else {
            fit(azure.vmSize, "valkey.azure.vmSize", size.allocatableMemoryBytes, size.allocatableCpu);
        }
        if (!/^[a-z][a-z0-9]*$/.test(azure.location)) {
            r.fail("azure.location", `got ${json(azure.location)}; use the region's programmatic name (\`az account list-locations -o table\`), e.g. "eastus2". The nodes' zone labels are built from it.`);
        }
        const badZones = zones.filter((z) => !["1", "2", "3"].includes(z));
        if (badZones.length > 0) {
            r.fail("zones", `got ${json(zones)}; on Azure the zones are "1", "2" and "3" (${badZones.map((z) => json(z)).join(", ")} ${badZones.length === 1 ? "is" : "are"} not). Use e.g. ["1", "2", "3"].`);
        }
        const vnetProblem = addressPlanProblem(azure.vnetCidr);
        if (vnetProblem) {
            r.fail("azure.vnetCidr", vnetProblem);
        }
        if (!/^1\.\d+(\.\d+)?$/.test(azure.kubernetesVersion)) {
            r.fail("azure.kubernetesVersion", `got ${json(azure.kubernetesVersion)}; pin a Kubernetes version AKS offers, e.g. "1.33" (patches then follow valkey.azure.upgradeChannel).`);
        }
        if (!vmSizeFeatures(azure.systemVmSize)) {
            r.fail("azure.systemVmSize", `got ${json(azure.systemVmSize)}; use an Azure VM size name, e.g. "Standard_D4ds_v5".`);
        }
        if (azure.diskSku === "PremiumV2_LRS") {
            // Premium SSD v2 limits: 0.25 MB/s per provisioned IOPS, and 500 IOPS per GiB above the free 3000.
            if (azure.diskMbps > azure.diskIops / 4) {
                r.fail("azure.diskMbps", `got ${azure.diskMbps} with diskIops ${azure.diskIops}; Premium SSD v2 allows at most 0.25 MB/s per IOPS. Use at most ${Math.floor(azure.diskIops / 4)}, or raise valkey.azure.diskIops.`);
            }
            const maxIops = Math.max(3000, Math.floor(volumeBytes / GiB) * 500);
            if (volumeBytes > 0 && azure.diskIops > maxIops) {
                r.fail("azure.diskIops", `got ${azure.diskIops} with volumeSize ${json(volumeSize)}; Premium SSD v2 allows at most 500 IOPS per GiB (${maxIops} here). Use at most ${maxIops}, or a larger valkey.volumeSize.`);
            }
        }
    } else if (cloud === "kubernetes" && kubernetes.nodeAllocatableMemory !== undefined) {
        const alloc = parseBytes(kubernetes.nodeAllocatableMemory);
        if (alloc === undefined) {
            r.fail("kubernetes.nodeAllocatableMemory", `got ${json(kubernetes.nodeAllocatableMemory)}; use a Kubernetes quantity, e.g. "28Gi".`);
        } else {
            fit("the nodes", "valkey.kubernetes.nodeAllocatableMemory", alloc);
        }
    }

    if (aivenCloud) {
        // An Aiven refusal of a setting replaces the generic problems of the same setting (it says why and the fix).
        const refused = aivenProblems({ environment, aiven, persistence, image, given: (path) => r.given(path) });
        const superseded = new Set(refused.map((p) => p.path));
        r.problems.splice(0, r.problems.length, ...r.problems.filter((p) => !superseded.has(p.path)), ...refused);
    }

    if (cloud === "local" && Number.isInteger(shards) && shards >= 1 && Number.isInteger(replicasPerShard) && replicasPerShard >= 0) {
        r.problems.push(...localProblems({ zones, shards, replicasPerShard, basePort: local.basePort }));
    }

    if (r.problems.length > 0) {
        throw new SettingsError(r.problems);
    }
    const settings: Settings = {
        cloud,
        environment,
        name,
        namespace,
        zones,
        shards,
        replicasPerShard,
        image,
        exporterImage,
        memory,
        memoryBytes,
        cpu,
        maxmemoryRatio,
        maxmemoryBytes,
        maxmemoryPolicy,
        persistence,
        volumeSize,
        volumeBytes,
        ioThreads,
        nodeTimeoutMs,
        tls,
        allowedNamespaces,
        metrics,
        serviceMonitor,
        kernelTuning,
        password,
        podAntiAffinity,
        alerts,
        aws,
        azure,
        local,
        kubernetes,
        aiven,
    };
    // Aiven places its own nodes: there is no layout to check.
    if (aivenCloud) return settings;
    // The layout is derived, never configured: assert the invariants validation promised.
    const same = sharedZoneShards(computeLayout(settings));
    if (same.length > 0) {
        throw new Error(`internal: layout put two copies of shard ${same[0].shard} in zone ${same[0].zone}`);
    }
    return settings;
}

/** Validates the AWS-only settings (cloud: aws): network plan, names, pinned versions, node types, volume floor. */
/** The default AWS zones: the first three availability zones of the region. */
function awsDefaultZones(region: string): string[] {
    return ["a", "b", "c"].map((letter) => `${region}${letter}`);
}

function validateAws(r: Reader, aws: AwsSettings, zones: string[], volumeSize: string, volumeBytes: number): void {
    // Subnets, node pools and the pods' zone pinning all use availability zone names of the region.
    const badZones = zones.filter((z) => !(z.startsWith(aws.region) && /^[a-z]$/.test(z.slice(aws.region.length))));
    if (badZones.length > 0) {
        r.fail("zones", `got ${json(zones)}; on AWS the zones are availability zone names of aws.region ${json(aws.region)} (${badZones.map((z) => json(z)).join(", ")} ${badZones.length === 1 ? "is" : "are"} not). Use e.g. ${json(awsDefaultZones(aws.region))}.`);
    }
    const planProblem = subnetPlanProblem(aws.vpcCidr, zones.length);
    if (planProblem) {
        r.fail("aws.vpcCidr", planProblem);
    }
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(aws.clusterName) || aws.clusterName.length > 40) {
        r.fail("aws.clusterName", `got ${json(aws.clusterName)}; it names the EKS cluster, its IAM roles and its queue, so use at most 40 characters of a-z, 0-9 and -, e.g. "valkey-prod".`);
    }
    if (!/^1\.\d{2}$/.test(aws.kubernetesVersion)) {
        r.fail("aws.kubernetesVersion", `got ${json(aws.kubernetesVersion)}; pin an EKS minor version such as "1.33".`);
    }
    const karpenter = /^(\d+)\.(\d+)\.(\d+)$/.exec(aws.karpenterVersion);
    if (!karpenter || karpenter[1] !== "1") {
        r.fail("aws.karpenterVersion", `got ${json(aws.karpenterVersion)}; pin a Karpenter 1.x chart version (the v1 NodePool and EC2NodeClass APIs) such as "1.8.1".`);
    } else {
        // Karpenter's compatibility matrix: the first minor that supports each Kubernetes minor.
        const minimum: Record<string, number> = { "1.31": 0, "1.32": 2, "1.33": 5, "1.34": 6 };
        const needed = minimum[aws.kubernetesVersion];
        if (needed !== undefined && Number(karpenter[2]) < needed) {
            r.fail("aws.karpenterVersion", `got ${json(aws.karpenterVersion)} with Kubernetes ${aws.kubernetesVersion}; Karpenter supports ${aws.kubernetesVersion} from 1.${needed}. Use 1.${needed}.0 or later, e.g. "1.8.1".`);
        }
    }
    if (!/^(latest|v\d{8})$/.test(aws.amiVersion)) {
        r.fail("aws.amiVersion", `got ${json(aws.amiVersion)}; use "latest" or an AL2023 EKS AMI release such as "v20250715".`);
    }
    // The system node group runs the AL2023 arm64 AMI: Graviton types carry a "g" after the generation digit.
    if (!/^[a-z]+\d+g[a-z]*\.[a-z0-9]+$/.test(aws.systemInstanceType)) {
        r.fail("aws.systemInstanceType", `got ${json(aws.systemInstanceType)}; the system node group runs the AL2023 arm64 AMI and needs a Graviton type such as "m7g.large".`);
    }
    const logTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
    const badLogs = aws.controlPlaneLogs.filter((t) => !logTypes.includes(t));
    if (badLogs.length > 0) {
        r.fail("aws.controlPlaneLogs", `got ${json(badLogs)}; use any of ${logTypes.map((t) => json(t)).join(", ")}.`);
    }
    const badCidrs = aws.publicAccessCidrs.filter((c) => !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c));
    if (badCidrs.length > 0) {
        r.fail("aws.publicAccessCidrs", `got ${json(badCidrs)}; list IPv4 CIDR blocks such as "203.0.113.0/24".`);
    }
    // gp3 allows 500 IOPS per GiB, so a smaller volume cannot carry the class's IOPS and its creation fails.
    if (volumeBytes > 0 && volumeBytes < VALKEY_GP3_MIN_GIB * GiB && !r.problems.some((p) => p.path === "volumeSize")) {
        r.fail("volumeSize", `got ${json(volumeSize)}; the ${VALKEY_STORAGE_CLASS} class provisions ${VALKEY_GP3_IOPS} IOPS and gp3 allows at most ${GP3_MAX_IOPS_PER_GIB} per GiB, so volumes on AWS need at least ${VALKEY_GP3_MIN_GIB}Gi. Use ${VALKEY_GP3_MIN_GIB}Gi or more.`);
    }
}

/**
 * Why an image reference is not pinned, or undefined when it is: a digest (`@sha256:...`) or an explicit tag
 * other than `latest`.
 */
export function imagePinProblem(image: string): string | undefined {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
    const lastSlash = image.lastIndexOf("/");
    const colon = image.indexOf(":", lastSlash + 1);
    const tag = colon < 0 ? "" : image.slice(colon + 1);
    if (tag === "") {
        return `the tag is missing, so every pull may bring another version. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.`;
    }
    if (tag === "latest") {
        return `"latest" moves under you, so pods of one cluster can run different versions. Pin a version, e.g. "valkey/valkey:8.1.4", or a digest.`;
    }
    return undefined;
}

/** Reads the `valkey` config namespace of the current stack and resolves it (throws `SettingsError`). */
export function loadSettings(): Settings {
    // Imported here so the pure functions above stay usable without the Pulumi runtime.
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const cfg = new pulumi.Config("valkey");
    const raw: RawSettings = {};
    for (const key of SETTING_KEYS) {
        const v = cfg.get(key);
        if (v !== undefined) raw[key] = v;
    }
    // Region defaults follow the cloud providers' own config when set.
    const awsRegion = new pulumi.Config("aws").get("region");
    const azureLocation = new pulumi.Config("azure-native").get("location");
    if (awsRegion || azureLocation) {
        const awsRaw = typeof raw.aws === "string" ? JSON.parse(raw.aws) : (raw.aws ?? {});
        const azureRaw = typeof raw.azure === "string" ? JSON.parse(raw.azure) : (raw.azure ?? {});
        if (awsRegion && awsRaw.region === undefined) awsRaw.region = awsRegion;
        if (azureLocation && azureRaw.location === undefined) azureRaw.location = azureLocation;
        raw.aws = awsRaw;
        raw.azure = azureRaw;
    }
    if (raw.password !== undefined) {
        // Only whether it was stored encrypted; the runtime knows which config keys are secrets.
        const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
        raw.passwordIsSecret = runtimeConfig.isConfigSecret?.("valkey:password") ?? true;
    }
    const settings = resolveSettings(raw, pulumi.getStack());
    // A kubeconfig path relative to the project directory, made absolute: the providers run in other processes.
    const kubeconfig = settings.kubernetes.kubeconfig;
    if (kubeconfig !== undefined && !kubeconfig.includes("\n") && !kubeconfig.trimStart().startsWith("{")) {
        const path = require("node:path") as typeof import("node:path");
        settings.kubernetes.kubeconfig = path.resolve(kubeconfig);
    }
    return settings;
}

/** Every top-level key of the `valkey` config namespace (documented in Pulumi.yaml). */
export const SETTING_KEYS = [
    "environment",
    "cloud",
    "name",
    "namespace",
    "zones",
    "shards",
    "replicasPerShard",
    "image",
    "exporterImage",
    "memory",
    "cpu",
    "maxmemoryRatio",
    "maxmemoryPolicy",
    "persistence",
    "volumeSize",
    "ioThreads",
    "nodeTimeoutMs",
    "tls",
    "allowedNamespaces",
    "metrics",
    "serviceMonitor",
    "kernelTuning",
    "password",
    "podAntiAffinity",
    "alerts",
    "aws",
    "azure",
    "local",
    "kubernetes",
    "aiven",
] as const;
