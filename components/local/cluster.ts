/**
 * LocalValkeyCluster: the local platform (`cloud: local`). The layout's pods become server processes on this
 * machine, one loopback address per zone, formed into a cluster by the same slot-bootstrap provider as on
 * Kubernetes. No cloud, no Kubernetes: what a new user runs first with `pulumi up -s local`.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../config";
import { childName } from "../naming";
import { ValkeySlots } from "../valkey/bootstrap/provider";
import { type Layout, computeLayout } from "../valkey/layout";
import {
    hasAvailabilityZone,
    type LocalNode,
    localNodes,
    serverBinary,
    zoneHost,
} from "./nodes";
import { executableExists, serverVersionText } from "./process";
import { ValkeyServer } from "./server";

/** Arguments of a LocalValkeyCluster. */
export interface LocalValkeyClusterArgs {
    /**
     * The validated settings (components/config.ts). Used: zones, shards, replicasPerShard, nodeTimeoutMs,
     * maxmemoryBytes, maxmemoryPolicy, persistence and local (serverBinary, basePort, dataDir).
     */
    settings: Settings;
    /** Password of every node (pass a secret). Default none: the servers bind to loopback addresses only. */
    password?: pulumi.Input<string>;
    /**
     * The directory `settings.local.dataDir` is relative to. Default `process.cwd()`, which under `pulumi up`
     * is the project root.
     */
    projectRoot?: string;
}

/** A zone of the local cluster: its loopback address and its nodes as `host:port`, by ordinal. */
export interface LocalZone {
    zone: string;
    host: string;
    endpoints: string[];
}

/**
 * A Valkey cluster of local server processes: one ValkeyServer per pod of the layout (zone i on
 * 127.0.(i+1).1), then the slot bootstrap over all of them.
 */
export class LocalValkeyCluster extends pulumi.ComponentResource {
    /** Which pod is which shard's primary or replica, in which zone. */
    readonly layout: Layout;
    /** Where each pod runs: per zone, by ordinal. */
    readonly nodes: LocalNode[];
    /** The server processes, in the order of `nodes`. */
    readonly servers: ValkeyServer[];
    /** Every node as `host:port`, in the order of `nodes`. */
    readonly endpoints: pulumi.Output<string[]>;
    /** The node a cluster-aware client seeds from (`host:port` of the first node of the first zone). */
    readonly seedEndpoint: pulumi.Output<string>;
    /** The nodes of each zone. */
    readonly zones: pulumi.Output<LocalZone[]>;
    /** The slot bootstrap that forms the cluster over all servers. */
    readonly slots: ValkeySlots;
    /** "ok" when every node reports cluster_state:ok after the bootstrap, else what is wrong. */
    readonly clusterState: pulumi.Output<string>;

    constructor(
        name: string,
        args: LocalValkeyClusterArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("valkey-platform:local:LocalValkeyCluster", name, {}, opts);
        const { settings } = args;
        this.layout = computeLayout(settings);
        this.nodes = localNodes(name, this.layout, settings.local.basePort);
        const binary = serverBinary(settings.local.serverBinary, executableExists);
        const dataRoot = path.resolve(args.projectRoot ?? process.cwd(), settings.local.dataDir);
        const availabilityZone = hasAvailabilityZone(serverVersionText(binary));

        this.servers = this.nodes.map(
            (node) =>
                new ValkeyServer(
                    node.name,
                    {
                        zone: node.zone,
                        host: node.host,
                        port: node.port,
                        dataDir: path.join(dataRoot, node.name),
                        binary,
                        nodeTimeoutMs: settings.nodeTimeoutMs,
                        maxmemoryBytes: settings.maxmemoryBytes,
                        maxmemoryPolicy: settings.maxmemoryPolicy,
                        persistence: settings.persistence,
                        availabilityZone,
                        password: args.password,
                    },
                    { parent: this },
                ),
        );

        // The direct form of the bootstrap's `nodes`: per zone, by ordinal, as the layout numbers them.
        const bootstrapNodes = pulumi.all(
            this.servers.map((server, i) => ({
                id: this.nodes[i].name,
                host: server.host,
                port: server.port,
                zone: server.zone,
            })),
        );

        this.slots = new ValkeySlots(
            childName(name, "slots"),
            {
                shards: settings.shards,
                replicasPerShard: settings.replicasPerShard,
                password: args.password,
                nodes: bootstrapNodes,
                // Explicit, so a zone that holds no node keeps its place in the layout.
                zones: settings.zones,
                nodeTimeoutMs: settings.nodeTimeoutMs,
                maxmemoryBytes: settings.maxmemoryBytes,
            },
            { parent: this, dependsOn: this.servers },
        );
        this.clusterState = this.slots.clusterState;
        // Endpoints are handed out once the cluster is formed, not when the processes merely run.
        const formed = this.slots.id;

        const endpointOf = (s: ValkeyServer): pulumi.Output<string> =>
            pulumi.interpolate`${s.host}:${s.port}`;
        const serverEndpoints = pulumi.all(this.servers.map(endpointOf));
        this.endpoints = pulumi.all([formed, serverEndpoints]).apply(([, list]) => list);
        this.seedEndpoint = this.endpoints.apply((list) => list[0]);
        const nodes = this.nodes;
        this.zones = this.endpoints.apply((list) =>
            this.layout.zones.map(({ zone }, zoneIndex) => ({
                zone,
                host: zoneHost(zoneIndex),
                endpoints: list.filter((_, i) => nodes[i].zone === zone),
            })),
        );

        this.registerOutputs({
            endpoints: this.endpoints,
            seedEndpoint: this.seedEndpoint,
            zones: this.zones,
            clusterState: this.clusterState,
        });
    }
}
