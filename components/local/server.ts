/**
 * ValkeyServer: one Valkey (or Redis 7) server process on a loopback address, as a Pulumi dynamic resource.
 *
 * The provider object is serialized into the state and runs in the engine's dynamic-provider process; it
 * delegates to ./process.ts, which imports nothing at runtime. It is usable directly from a script too:
 * `valkeyServerProvider.create(serverInputs(spec))` starts a server (the integration tests do that).
 *
 * Lifetime of a node's directory (one per node under `valkey:local.dataDir`):
 * - persistence `none`: the directory belongs to the resource. Create starts from an empty directory (a fresh
 *   node id); delete removes it. `pulumi destroy` leaves neither a process nor a file.
 * - persistence `rdb` / `aof+rdb`: the data outlives the resource. Delete stops the server with SHUTDOWN (which
 *   saves) and keeps the directory; a later create in the same directory starts the node with its dataset and
 *   node id, so `destroy` then `up` brings a whole cluster back. Remove `.local-data/` by hand to start over.
 * Either way an update that finds the server dead (after `pulumi refresh` saw it so) restarts it in place with
 * its nodes.conf, so the node rejoins as itself.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Persistence } from "../config";
import {
    STOP_TIMEOUT_MS,
    ValkeyServerInputs,
    ValkeyServerOutputs,
    answersPing,
    applyLive,
    currentPid,
    executableExists,
    inputsOf,
    launch,
    nodeIdOf,
    prepareDir,
    removeNodeDir,
    stopPid,
    stopServer,
} from "./process";
import { renderLocalConf, serverInputs } from "./serverConf";

export type { ValkeyServerInputs, ValkeyServerOutputs } from "./process";

/** Inputs whose change replaces the server: it then binds elsewhere, runs another binary or uses another directory. */
export const REPLACE_ON_CHANGE = ["host", "port", "busPort", "binary", "dataDir"] as const;
/** Inputs an update applies to the running server (CONFIG SET), or by restarting a dead one in place. */
export const UPDATE_IN_PLACE = [
    "zone",
    "persistence",
    "conf",
    "liveConfig",
    "password",
    "startTimeoutMs",
] as const;

/**
 * The dynamic provider of ValkeyServer. Create starts a server and waits for PING; update rewrites the
 * configuration and applies it with CONFIG SET (or restarts a dead server in place); read reports whether the
 * process is alive; delete stops it and, without persistence, removes its directory.
 */
export const valkeyServerProvider: pulumi.dynamic.ResourceProvider<
    ValkeyServerInputs,
    ValkeyServerOutputs
> = {
    async check(_olds, news) {
        const path = require("node:path") as typeof import("node:path");
        const failures: { property: string; reason: string }[] = [];
        const fail = (property: string, reason: string): void => {
            failures.push({ property, reason });
        };
        const json = (v: unknown): string => JSON.stringify(v);
        if (typeof news.host !== "string" || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(news.host)) {
            fail(
                "host",
                `got ${json(news.host)}; a local node binds to a loopback address 127.x.y.z.`,
            );
        }
        for (const key of ["port", "busPort"] as const) {
            if (!Number.isInteger(news[key]) || news[key] < 1 || news[key] > 65535) {
                fail(key, `got ${json(news[key])}; use a port number 1-65535.`);
            }
        }
        if (news.port === news.busPort) {
            fail(
                "busPort",
                `got ${json(news.busPort)}, the same as the client port; use port + 10000.`,
            );
        }
        if (typeof news.dataDir !== "string" || !path.isAbsolute(news.dataDir)) {
            fail(
                "dataDir",
                `got ${json(news.dataDir)}; the node directory must be an absolute path.`,
            );
        }
        if (typeof news.binary !== "string" || news.binary === "") {
            fail(
                "binary",
                `got ${json(news.binary)}; name valkey-server, redis-server or a path to one.`,
            );
        } else if (!executableExists(news.binary)) {
            fail(
                "binary",
                `"${news.binary}" is not ${news.binary.includes("/") ? "an executable file" : "on PATH"}. Install Valkey (valkey-server) or Redis 7 (redis-server), or set valkey:local.serverBinary.`,
            );
        }
        if (!["aof+rdb", "rdb", "none"].includes(news.persistence)) {
            fail("persistence", `got ${json(news.persistence)}; use "aof+rdb", "rdb" or "none".`);
        }
        if (!Array.isArray(news.liveConfig)) {
            fail("liveConfig", `got ${json(news.liveConfig)}; expected [name, value] pairs.`);
        }
        return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
        const oldIn = inputsOf(olds) as unknown as Record<string, unknown>;
        const newIn = inputsOf(news) as unknown as Record<string, unknown>;
        const differs = (k: string): boolean =>
            JSON.stringify(oldIn[k]) !== JSON.stringify(newIn[k]);
        const replaces = REPLACE_ON_CHANGE.filter(differs);
        const updates = UPDATE_IN_PLACE.filter(differs);
        return {
            // A server that `pulumi refresh` found dead is restarted in place by the next update.
            changes: replaces.length > 0 || updates.length > 0 || olds.alive === false,
            replaces,
            // The replacement uses the same directory or the same port: the old server must be gone first.
            deleteBeforeReplace: true,
        };
    },

    async create(inputs) {
        const outs = await launch(inputsOf(inputs), inputs.persistence === "none");
        return { id: `${inputs.host}:${inputs.port}`, outs };
    },

    async read(id, props) {
        if (!props || typeof props.dataDir !== "string") return { id, props };
        const pid = currentPid(props);
        const alive =
            pid !== undefined && (await answersPing(props.host, props.port, props.password));
        let nodeId = props.nodeId;
        if (alive) {
            try {
                nodeId = await nodeIdOf(props);
            } catch {
                // Keep the recorded id.
            }
        }
        return { id, props: { ...inputsOf(props), pid: pid ?? props.pid, alive, nodeId } };
    },

    async update(_id, olds, news) {
        const inputs = inputsOf(news);
        const pid = currentPid(olds);
        if (pid === undefined || !(await answersPing(olds.host, olds.port, olds.password))) {
            // Dead or hung: restart in place with the new configuration; nodes.conf keeps the node's identity.
            if (pid !== undefined) await stopPid(pid, olds.port, STOP_TIMEOUT_MS);
            return { outs: await launch(inputs, false) };
        }
        prepareDir(inputs, false);
        await applyLive(olds, inputs);
        return { outs: { ...inputs, pid, alive: true, nodeId: await nodeIdOf(inputs) } };
    },

    async delete(_id, props) {
        await stopServer(props);
        if (props.persistence === "none") removeNodeDir(props.dataDir);
    },
};

/** The arguments of a ValkeyServer. */
export interface ValkeyServerArgs {
    /** The zone the node stands for. */
    zone: pulumi.Input<string>;
    /** The zone's loopback address (`zoneHost` in ./nodes). */
    host: pulumi.Input<string>;
    /** Client port; the cluster bus listens on port + 10000. */
    port: pulumi.Input<number>;
    /** The node's own directory, absolute. */
    dataDir: pulumi.Input<string>;
    /** `valkey-server`, `redis-server` or a path to either (`serverBinary` in ./nodes). */
    binary: pulumi.Input<string>;
    /** cluster-node-timeout in ms. */
    nodeTimeoutMs: pulumi.Input<number>;
    /** maxmemory in bytes. */
    maxmemoryBytes: pulumi.Input<number>;
    /** maxmemory-policy. */
    maxmemoryPolicy: pulumi.Input<string>;
    /** Persistence mode; also decides whether delete removes the node's directory (see the module comment). */
    persistence: pulumi.Input<Persistence>;
    /** requirepass and masterauth (pass a secret). Default: no auth; the server binds to loopback only. */
    password?: pulumi.Input<string>;
    /** How long create waits for the first PONG. Default 20000 ms. */
    startTimeoutMs?: pulumi.Input<number>;
    /** Set `availability-zone` to the zone (Valkey >= 8; see `hasAvailabilityZone` in ./nodes). Default false. */
    availabilityZone?: pulumi.Input<boolean>;
}

/**
 * One Valkey server process on a loopback address: cluster mode, bound to and connecting from its zone's
 * address, detached so it outlives `pulumi up`. See the module comment for what happens to its directory.
 */
export class ValkeyServer extends pulumi.dynamic.Resource {
    declare readonly zone: pulumi.Output<string>;
    declare readonly host: pulumi.Output<string>;
    declare readonly port: pulumi.Output<number>;
    declare readonly busPort: pulumi.Output<number>;
    declare readonly dataDir: pulumi.Output<string>;
    declare readonly binary: pulumi.Output<string>;
    declare readonly persistence: pulumi.Output<Persistence>;
    /** The rendered configuration file (secret: it may hold the password). */
    declare readonly conf: pulumi.Output<string>;
    declare readonly liveConfig: pulumi.Output<[string, string][]>;
    /** The password (secret), when the server has one. */
    declare readonly password: pulumi.Output<string | undefined>;
    declare readonly startTimeoutMs: pulumi.Output<number | undefined>;
    /** The server's process id. */
    declare readonly pid: pulumi.Output<number>;
    /** Whether the server answered PING when last created, updated or refreshed. */
    declare readonly alive: pulumi.Output<boolean>;
    /** The Valkey node id (CLUSTER MYID). */
    declare readonly nodeId: pulumi.Output<string>;

    constructor(name: string, args: ValkeyServerArgs, opts?: pulumi.CustomResourceOptions) {
        const spec = pulumi.output({
            zone: args.zone,
            host: args.host,
            port: args.port,
            dataDir: args.dataDir,
            binary: args.binary,
            nodeTimeoutMs: args.nodeTimeoutMs,
            maxmemoryBytes: args.maxmemoryBytes,
            maxmemoryPolicy: args.maxmemoryPolicy,
            persistence: args.persistence,
            availabilityZone: args.availabilityZone,
        });
        // Derived without the password, so that only `conf` and `password` turn secret.
        const plain = spec.apply((s) => serverInputs(s));
        super(
            valkeyServerProvider,
            name,
            {
                zone: args.zone,
                host: args.host,
                port: args.port,
                busPort: plain.busPort,
                dataDir: args.dataDir,
                binary: args.binary,
                persistence: args.persistence,
                conf: pulumi
                    .all([spec, args.password])
                    .apply(([s, password]) => renderLocalConf(s, password)),
                liveConfig: plain.liveConfig,
                password: args.password,
                startTimeoutMs: args.startTimeoutMs,
                pid: undefined,
                alive: undefined,
                nodeId: undefined,
            },
            {
                ...opts,
                additionalSecretOutputs: [
                    ...(opts?.additionalSecretOutputs ?? []),
                    "password",
                    "conf",
                ],
            },
            "local",
            "ValkeyServer",
        );
    }
}
