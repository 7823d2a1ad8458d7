/**
 * The configuration of one local server process, rendered from plain data. Pure: no file is written here.
 *
 * The persistence directives and the auth lines come from components/valkey/conf.ts, so a local node and a pod
 * persist and authenticate the same way. Only directives that both Valkey >= 7.2 and Redis >= 7.0 accept.
 */
import type { Persistence } from "../config";
import { authConf, persistenceLines } from "../valkey/conf";
import { BUS_PORT_OFFSET } from "./nodes";
import { LOCAL_FILES, type ValkeyServerInputs } from "./process";

/** One local node as plain data: where it runs and the settings its configuration depends on. */
export interface LocalServerSpec {
    /** The zone the node stands for. */
    zone: string;
    /** The zone's loopback address; the server binds to it and connects from it. */
    host: string;
    /** Client port; the cluster bus listens on port + 10000. */
    port: number;
    /** The node's own directory, absolute. */
    dataDir: string;
    /** `valkey-server`, `redis-server` or a path to either. */
    binary: string;
    nodeTimeoutMs: number;
    maxmemoryBytes: number;
    maxmemoryPolicy: string;
    persistence: Persistence;
    /** How long create waits for the first PONG. Default 20000 ms. */
    startTimeoutMs?: number;
    /**
     * Set `availability-zone` to the zone (Valkey >= 8 only: INFO server reports it, and zone-aware clients read it
     * to prefer replicas in their own zone). Default false.
     */
    availabilityZone?: boolean;
}

/**
 * The directives a running server takes through CONFIG SET, as [name, value] pairs: node timeout, memory and
 * persistence. An update applies these live; everything else in the file changes only by replacing the node.
 */
export function liveDirectives(spec: LocalServerSpec): [string, string][] {
    const directives: [string, string][] = [
        ["cluster-node-timeout", String(spec.nodeTimeoutMs)],
        ["maxmemory", String(spec.maxmemoryBytes)],
        ["maxmemory-policy", spec.maxmemoryPolicy],
    ];
    if (spec.availabilityZone) directives.push(["availability-zone", spec.zone]);
    for (const line of persistenceLines(spec.persistence)) {
        const space = line.indexOf(" ");
        const value = line.slice(space + 1);
        directives.push([line.slice(0, space), value === '""' ? "" : value]);
    }
    return directives;
}

/**
 * A value as a double-quoted configuration argument (paths may hold spaces). Refuses control characters,
 * which the configuration parser would read differently.
 */
export function confQuote(value: string): string {
    if (/[\x00-\x1f\x7f]/.test(value)) {
        throw new Error(
            `a configuration value must not contain control characters: ${JSON.stringify(value)}`,
        );
    }
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * Renders the configuration file of one local node. Protected mode is off: without a password it refuses
 * every client that does not come from 127.0.0.1, so replicas on 127.0.2.1 would never sync while
 * `--cluster check` still reports all OK. The server binds to its loopback address only. With a password the
 * file carries requirepass and masterauth (without the latter replicas never sync either).
 */
export function renderLocalConf(spec: LocalServerSpec, password?: string): string {
    const dir = spec.dataDir.replace(/\/+$/, "");
    const file = (name: string): string => confQuote(`${dir}/${name}`);
    const lines: string[] = [
        "# Rendered by valkey-platform (components/local/serverConf.ts). Edit the stack config, not this file.",
        "",
        `port ${spec.port}`,
        `cluster-port ${spec.port + BUS_PORT_OFFSET}`,
        `bind ${spec.host}`,
        "# Outgoing cluster-bus and replication connections leave from the zone's address too; without it they",
        "# leave from 127.0.0.1 and nodes on different loopback addresses never complete the handshake.",
        `bind-source-addr ${spec.host}`,
        `cluster-announce-ip ${spec.host}`,
        "protected-mode no",
        "# The provider starts the server detached, with stdout going to server.log.",
        "daemonize no",
        'logfile ""',
        `pidfile ${file(LOCAL_FILES.pid)}`,
        `dir ${confQuote(dir)}`,
        "",
        "cluster-enabled yes",
        `cluster-config-file ${file(LOCAL_FILES.nodes)}`,
        "# Replicas stay in the zone the layout gave them.",
        "cluster-allow-replica-migration no",
        "cluster-require-full-coverage yes",
        "# A replica's first full sync starts at once instead of waiting 5 s for more replicas to batch with.",
        "repl-diskless-sync-delay 0",
        "",
        ...liveDirectives(spec).map(([name, value]) => `${name} ${value === "" ? '""' : value}`),
    ];
    if (password !== undefined && password !== "") {
        lines.push("", ...authConf(password).trimEnd().split("\n"));
    }
    return lines.join("\n") + "\n";
}

/** The provider inputs of a node: its spec plus the rendered configuration and the live directives. */
export function serverInputs(spec: LocalServerSpec, password?: string): ValkeyServerInputs {
    return {
        zone: spec.zone,
        host: spec.host,
        port: spec.port,
        busPort: spec.port + BUS_PORT_OFFSET,
        dataDir: spec.dataDir,
        binary: spec.binary,
        persistence: spec.persistence,
        conf: renderLocalConf(spec, password),
        liveConfig: liveDirectives(spec),
        ...(password !== undefined && password !== "" ? { password } : {}),
        ...(spec.startTimeoutMs !== undefined ? { startTimeoutMs: spec.startTimeoutMs } : {}),
    };
}
