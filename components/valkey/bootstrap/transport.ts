/**
 * How the bootstrap reaches each node: a `Transport` hands out one connection per node. The direct transport
 * connects over TCP with iovalkey; the Kubernetes transport resolves a zone's StatefulSet pods through the
 * Kubernetes API and reaches each pod through a port-forward (so it works from outside the cluster network).
 *
 * Libraries are `require`d inside functions: the dynamic provider is serialized into the Pulumi state, and a
 * captured module object would be serialized with it.
 */
import type { NodeSpec } from "./topology";

/** A command argument. */
export type Arg = string | number | Buffer;

/** One node's connection. Commands are arrays: `["CLUSTER", "NODES"]`. */
export interface NodeClient {
    /** Sends one command; rejects with the server's error. */
    call(command: Arg[]): Promise<unknown>;
    /** Like `call`, with bulk replies as Buffers (for keys, which may be binary). */
    callBuffer(command: Arg[]): Promise<unknown>;
    /** Sends commands in one round trip; one result or error per command, in order. */
    pipeline(commands: Arg[][], buffers?: boolean): Promise<{ error?: Error; value?: unknown }[]>;
}

/** Hands out connections to nodes. */
export interface Transport {
    client(node: NodeSpec): Promise<NodeClient>;
    /**
     * `count` connections to one node (the first is `client(node)`'s), kept for reuse. Commands that block until
     * the node's replicas acknowledge them (Valkey 8's CLUSTER SETSLOT) run one at a time per connection; spread
     * over several connections, one acknowledgement round covers them all. Default: `client(node)` only.
     */
    clients?(node: NodeSpec, count: number): Promise<NodeClient[]>;
    /** Closes every connection (and port-forward). */
    close(): Promise<void>;
}

/** Options of the direct transport. */
export interface DirectTransportOptions {
    /** The `requirepass` of the nodes. Default none. */
    password?: string;
    /** Connect timeout per node, ms. Default 3000. */
    connectTimeoutMs?: number;
    /** Where to connect for a node; default its host and port. The Kubernetes transport maps to a port-forward. */
    address?: (node: NodeSpec) => Promise<{ host: string; port: number }>;
    /** Called on close, after the connections are closed. */
    onClose?: () => Promise<void>;
}

interface RedisLike {
    status: string;
    connect(): Promise<void>;
    disconnect(): void;
    call(command: string, ...args: Arg[]): Promise<unknown>;
    callBuffer(command: string, ...args: Arg[]): Promise<unknown>;
    pipeline(): {
        call(command: string, ...args: Arg[]): unknown;
        callBuffer(command: string, ...args: Arg[]): unknown;
        exec(): Promise<[Error | null, unknown][] | null>;
    };
    on(event: string, fn: (...a: unknown[]) => void): void;
}

/** A transport that connects to each node's address with iovalkey (one connection per node, more on request; reused). */
export function directTransport(options: DirectTransportOptions = {}): Transport {
    const Redis = require("iovalkey") as new (opts: Record<string, unknown>) => RedisLike;
    const clients = new Map<string, { addr: string; redis: RedisLike }>();
    const wrap = (redis: RedisLike): NodeClient => ({
        call: (c) => redis.call(String(c[0]), ...c.slice(1)),
        callBuffer: (c) => redis.callBuffer(String(c[0]), ...c.slice(1)),
        async pipeline(commands, buffers = false) {
            if (commands.length === 0) return [];
            const p = redis.pipeline();
            for (const c of commands) {
                if (buffers) p.callBuffer(String(c[0]), ...c.slice(1));
                else p.call(String(c[0]), ...c.slice(1));
            }
            const res = (await p.exec()) ?? [];
            return res.map(([error, value]) => (error ? { error } : { value }));
        },
    });
    // Extra connections per node (`clients`), beyond the first in `clients`.
    const extra = new Map<string, { addr: string; redis: RedisLike }[]>();
    const live = (c: { addr: string; redis: RedisLike } | undefined, addr: string): boolean =>
        c !== undefined &&
        c.addr === addr &&
        (c.redis.status === "ready" || c.redis.status === "connect");
    const address = async (node: NodeSpec): Promise<{ host: string; port: number }> =>
        options.address ? options.address(node) : { host: node.host, port: node.port };
    const open = async (node: NodeSpec, host: string, port: number): Promise<RedisLike> => {
        const redis = new Redis({
            host,
            port,
            password: options.password,
            lazyConnect: true,
            // The first command fails clearly enough if the node is still loading; skip the extra INFO.
            enableReadyCheck: false,
            connectTimeout: options.connectTimeoutMs ?? 3000,
            commandTimeout: 120_000,
            maxRetriesPerRequest: 0,
            enableOfflineQueue: false,
            retryStrategy: () => null,
        });
        // Errors surface through the rejected command; without a listener iovalkey would print them.
        redis.on("error", () => undefined);
        try {
            await redis.connect();
        } catch (e) {
            redis.disconnect();
            throw new Error(
                `cannot connect to ${node.id} at ${host}:${port}: ${(e as Error).message}`,
            );
        }
        return redis;
    };
    // Connecting is serialized per node: callers that ask for the same node at once share its connections.
    const locks = new Map<string, Promise<unknown>>();
    const locked = <T>(id: string, fn: () => Promise<T>): Promise<T> => {
        const next = (locks.get(id) ?? Promise.resolve()).then(fn, fn);
        locks.set(
            id,
            next.catch(() => undefined),
        );
        return next;
    };
    const first = (node: NodeSpec): Promise<RedisLike> =>
        locked(node.id, async () => {
            const { host, port } = await address(node);
            const addr = `${host}:${port}`;
            const cached = clients.get(node.id);
            if (live(cached, addr)) return cached!.redis;
            if (cached) {
                cached.redis.disconnect();
                clients.delete(node.id);
            }
            const redis = await open(node, host, port);
            clients.set(node.id, { addr, redis });
            return redis;
        });
    return {
        async client(node) {
            return wrap(await first(node));
        },
        async clients(node, count) {
            const head = await first(node);
            const more = await locked(node.id, async () => {
                const { host, port } = await address(node);
                const addr = `${host}:${port}`;
                const list = (extra.get(node.id) ?? []).filter((c) => {
                    if (live(c, addr)) return true;
                    c.redis.disconnect();
                    return false;
                });
                const wanted = Math.max(0, count - 1 - list.length);
                const opened = await Promise.all(
                    Array.from({ length: wanted }, () => open(node, host, port)),
                );
                list.push(...opened.map((redis) => ({ addr, redis })));
                extra.set(node.id, list);
                return list.slice(0, count - 1).map((c) => c.redis);
            });
            return [head, ...more].map(wrap);
        },
        async close() {
            for (const { redis } of clients.values()) redis.disconnect();
            for (const list of extra.values()) for (const { redis } of list) redis.disconnect();
            clients.clear();
            extra.clear();
            await options.onClose?.();
        },
    };
}

/** A Kubernetes target: one StatefulSet per zone, pods reached through port-forwards. */
export interface KubernetesTarget {
    /** kubeconfig content (YAML or JSON), or a path to a kubeconfig file. */
    kubeconfig: string;
    namespace: string;
    /** The StatefulSet of each zone, in layout order. */
    statefulSets: { zone: string; name: string }[];
    /** The Valkey port of the pods. Default 6379. */
    port?: number;
}

/** The part of the Kubernetes API the resolver uses (a fake in unit tests). */
export interface KubernetesReader {
    statefulSetReplicas(namespace: string, name: string): Promise<number>;
    podIp(namespace: string, name: string): Promise<string | undefined>;
}

function loadKubeConfig(kubeconfig: string): unknown {
    const k8s = require("@kubernetes/client-node");
    const fs = require("node:fs") as typeof import("node:fs");
    const kc = new k8s.KubeConfig();
    if (!kubeconfig.includes("\n") && fs.existsSync(kubeconfig)) kc.loadFromFile(kubeconfig);
    else kc.loadFromString(kubeconfig);
    return kc;
}

/** A `KubernetesReader` over @kubernetes/client-node. */
export function kubernetesReader(kubeconfig: string): KubernetesReader {
    const k8s = require("@kubernetes/client-node");
    const kc = loadKubeConfig(kubeconfig) as { makeApiClient(api: unknown): any };
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    return {
        async statefulSetReplicas(namespace, name) {
            const sts = await apps.readNamespacedStatefulSet({ name, namespace });
            return sts.spec?.replicas ?? 1;
        },
        async podIp(namespace, name) {
            const pod = await core.readNamespacedPod({ name, namespace });
            return pod.status?.podIP;
        },
    };
}

/**
 * Resolves a Kubernetes target to the direct form: for each zone's StatefulSet, pods `<name>-0 .. <name>-(n-1)`
 * in ordinal order, with their pod IPs (what CLUSTER MEET and MIGRATE use inside the cluster network).
 */
export async function resolveKubernetesNodes(
    target: KubernetesTarget,
    reader?: KubernetesReader,
): Promise<NodeSpec[]> {
    const api = reader ?? kubernetesReader(target.kubeconfig);
    const port = target.port ?? 6379;
    const perZone = await Promise.all(
        target.statefulSets.map(async ({ zone, name }) => {
            const replicas = await api.statefulSetReplicas(target.namespace, name);
            return Promise.all(
                Array.from({ length: replicas }, async (_, i) => {
                    const pod = `${name}-${i}`;
                    const ip = await api.podIp(target.namespace, pod);
                    if (!ip)
                        throw new Error(
                            `pod ${target.namespace}/${pod} has no IP yet; wait until it is scheduled and running.`,
                        );
                    return { id: pod, host: ip, port, zone };
                }),
            );
        }),
    );
    return perZone.flat();
}

/** A local listener on 127.0.0.1 whose every accepted connection is tunnelled to one pod's port. */
interface PodListener {
    server: import("node:net").Server;
    port: number;
}

/** The part of a port-forward's WebSocket that `bindTunnel` uses. */
export interface TunnelSocket {
    /** 0 connecting, 1 open, 2 closing, 3 closed. */
    readonly readyState: number;
    on(event: "close" | "error", listener: () => void): unknown;
    close(): void;
}

/**
 * Ties a local connection to its port-forward WebSocket both ways. The Kubernetes client ends neither side when
 * the other goes: when the stream ends on the cluster's side (the pod's server stopped, the pod or its node went
 * away) the local connection stayed open with nothing behind it, and a client on it waited for replies until its
 * own timeouts, never reconnecting (issue 13: a cluster client kept a shard's slots on a dead tunnel for minutes
 * after its replica had taken over). Destroying the local connection then is what a TCP reset does.
 */
export function bindTunnel(socket: import("node:net").Socket, ws: TunnelSocket): void {
    if (ws.readyState !== 1) {
        socket.destroy();
        return;
    }
    ws.on("close", () => socket.destroy());
    ws.on("error", () => socket.destroy());
    socket.on("close", () => {
        if (ws.readyState === 0 || ws.readyState === 1) ws.close();
    });
}

/**
 * Opens listeners to pods through the Kubernetes API: each accepted connection becomes a port-forward stream
 * to the pod (so they work from outside the cluster network, wherever `kubectl port-forward` would).
 */
function podForwarder(kubeconfig: string, namespace: string, podPort: number) {
    const k8s = require("@kubernetes/client-node");
    const net = require("node:net") as typeof import("node:net");
    const forward = new k8s.PortForward(loadKubeConfig(kubeconfig));
    return (pod: string): Promise<PodListener> =>
        new Promise((resolve, reject) => {
            const server = net.createServer((socket) => {
                socket.on("error", () => socket.destroy());
                Promise.resolve(
                    forward.portForward(namespace, pod, [podPort], socket, null, socket),
                )
                    .then((ws: TunnelSocket) => bindTunnel(socket, ws))
                    .catch(() => socket.destroy());
            });
            server.once("error", reject);
            server.listen(0, "127.0.0.1", () =>
                resolve({
                    server,
                    port: (server.address() as import("node:net").AddressInfo).port,
                }),
            );
        });
}

/**
 * A transport to pods through the Kubernetes API: one local listener per pod on 127.0.0.1, each accepted
 * connection tunnelled by a port-forward to the pod (the node ids are the pod names).
 */
export function kubernetesTransport(
    target: KubernetesTarget,
    options: { password?: string } = {},
): Transport {
    const listen = podForwarder(target.kubeconfig, target.namespace, target.port ?? 6379);
    const servers = new Map<string, Promise<PodListener>>();
    return directTransport({
        password: options.password,
        async address(node) {
            let s = servers.get(node.id);
            if (!s) {
                s = listen(node.id);
                servers.set(node.id, s);
            }
            return { host: "127.0.0.1", port: (await s).port };
        },
        async onClose() {
            for (const s of servers.values()) (await s).server.close();
            servers.clear();
        },
    });
}

/** A way into a cluster from outside its network, for cluster-aware clients (see `clusterGateway`). */
export interface ClusterGateway {
    /** One local address per pod, by pod name. */
    pods: Map<string, { host: string; port: number }>;
    /**
     * For iovalkey/ioredis `Cluster({ natMap })`: maps the address a node announces (`<pod>.<headless service>...:
     * <port>` or the pod IP) to the pod's local listener; null for an address it does not know.
     */
    natMap: (key: string) => { host: string; port: number } | null;
    /** Seed addresses: the local listeners of each zone's first pod. */
    seeds: { host: string; port: number }[];
    close(): Promise<void>;
}

/**
 * Opens a local listener for every pod the zones' StatefulSets may run (`maxPodsPerZone` ordinals each), each
 * tunnelled through the Kubernetes API. Valkey redirects clients to the names pods announce (headless-Service DNS
 * names, which resolve only inside the cluster); the gateway's `natMap` turns those into the local listeners, so a
 * cluster-aware client outside the cluster follows MOVED and ASK like one inside.
 */
export async function clusterGateway(
    target: KubernetesTarget,
    maxPodsPerZone = 10,
): Promise<ClusterGateway> {
    const listen = podForwarder(target.kubeconfig, target.namespace, target.port ?? 6379);
    const names = target.statefulSets.flatMap(({ name }) =>
        Array.from({ length: maxPodsPerZone }, (_, i) => `${name}-${i}`),
    );
    const listeners = await Promise.all(names.map((pod) => listen(pod)));
    const pods = new Map(
        names.map((pod, i) => [pod, { host: "127.0.0.1", port: listeners[i].port }]),
    );
    return {
        pods,
        natMap(key) {
            // "<pod>.<service>.<namespace>.svc...:6379": the pod is the first label.
            const host = key.slice(0, key.lastIndexOf(":"));
            return pods.get(host.split(".")[0]) ?? null;
        },
        // Ordinal 0 of each zone: every zone that runs pods runs that one.
        seeds: target.statefulSets.map(({ name }) => pods.get(`${name}-0`)!),
        async close() {
            // Stops accepting; tunnels still open end with their clients.
            for (const l of listeners) l.server.close();
        },
    };
}
