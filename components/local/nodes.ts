/**
 * Where each pod of the layout runs on this machine: one loopback address per zone, one port per node. Pure:
 * plain data in, plain data out; the local cluster component only loops over the result.
 */
import type { SettingsProblem } from "../config";
import { podName } from "../naming";
import { type Layout, type Role, computeLayout } from "../valkey/layout";

/** The cluster bus listens on the client port + 10000, as Valkey derives it. */
export const BUS_PORT_OFFSET = 10000;

/** The most zones the local platform can simulate: one `127.0.<n>.1` address each, n = 1..254. */
export const MAX_LOCAL_ZONES = 254;

/** One server process of the local platform: a pod of the layout, placed on a loopback address and port. */
export interface LocalNode {
    /** The pod name (`<name>-<zone>-<ordinal>`), also the resource name and the data directory's name. */
    name: string;
    zone: string;
    /** Position of the zone in `settings.zones`. */
    zoneIndex: number;
    /** The pod's ordinal in its zone. */
    ordinal: number;
    shard: number;
    role: Role;
    /** The zone's loopback address. */
    host: string;
    /** The client port; the cluster bus uses port + 10000. */
    port: number;
}

/**
 * The loopback address that stands for zone `zoneIndex` (0-based): `127.0.<zoneIndex + 1>.1`. Every node of a
 * zone binds to it, so "losing a zone" is stopping the processes of one address.
 */
export function zoneHost(zoneIndex: number): string {
    if (!Number.isInteger(zoneIndex) || zoneIndex < 0 || zoneIndex >= MAX_LOCAL_ZONES) {
        throw new Error(`zoneHost: zone index ${zoneIndex} is outside 0..${MAX_LOCAL_ZONES - 1}`);
    }
    return `127.0.${zoneIndex + 1}.1`;
}

/**
 * The port of the pod with `ordinal` in zone `zoneIndex` of `zoneCount`: basePort + ordinal x zoneCount +
 * zoneIndex. Ports interleave the zones, so adding shards (which appends ordinals) never moves an existing
 * node, and every node of the machine has a port of its own.
 */
export function nodePort(
    basePort: number,
    zoneCount: number,
    zoneIndex: number,
    ordinal: number,
): number {
    return basePort + ordinal * zoneCount + zoneIndex;
}

/**
 * Every node of a layout, listed per zone (in the order of `layout.zones`) and by ordinal within a zone: the
 * order in which the slot bootstrap expects them.
 */
export function localNodes(clusterName: string, layout: Layout, basePort: number): LocalNode[] {
    const zoneCount = layout.zones.length;
    return layout.zones.flatMap(({ zone, pods }, zoneIndex) =>
        pods.map((pod) => ({
            name: podName(clusterName, zone, pod.ordinal),
            zone,
            zoneIndex,
            ordinal: pod.ordinal,
            shard: pod.shard,
            role: pod.role,
            host: zoneHost(zoneIndex),
            port: nodePort(basePort, zoneCount, zoneIndex, pod.ordinal),
        })),
    );
}

/** What the local platform's own checks look at. */
export interface LocalCheckInput {
    zones: readonly string[];
    shards: number;
    replicasPerShard: number;
    basePort: number;
}

/**
 * Problems only the local platform has (the general settings are validated in components/config.ts): more
 * zones than loopback addresses, or a cluster-bus port past 65535. Empty when there is none.
 */
export function localProblems(input: LocalCheckInput): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const zoneCount = input.zones.length;
    if (zoneCount > MAX_LOCAL_ZONES) {
        problems.push({
            path: "zones",
            message: `valkey.zones: got ${zoneCount} zones; the local platform gives each zone its own loopback address 127.0.<n>.1 and has ${MAX_LOCAL_ZONES}. List at most ${MAX_LOCAL_ZONES} zones.`,
        });
    }
    if (zoneCount === 0) return problems;
    const layout = computeLayout(input);
    let highestPort = input.basePort;
    layout.zones.forEach(({ pods }, zoneIndex) => {
        if (pods.length > 0) {
            highestPort = Math.max(
                highestPort,
                nodePort(input.basePort, zoneCount, zoneIndex, pods.length - 1),
            );
        }
    });
    if (highestPort + BUS_PORT_OFFSET > 65535) {
        const maxBase = 65535 - BUS_PORT_OFFSET - (highestPort - input.basePort);
        problems.push({
            path: "local.basePort",
            message: `valkey.local.basePort: got ${input.basePort}; the nodes use ports ${input.basePort}-${highestPort} and their cluster bus ports (+${BUS_PORT_OFFSET}) would pass 65535. Use a basePort of at most ${maxBase}, e.g. 7000.`,
        });
    }
    return problems;
}

/**
 * The server binary: `valkey:local.serverBinary` when set, else `valkey-server` when it is on PATH, else
 * `redis-server` when it is, else `valkey-server` (so the provider's check names what to install).
 *
 * @param onPath tells whether a command is on PATH (injected so this stays pure)
 */
export function serverBinary(
    override: string | undefined,
    onPath: (command: string) => boolean,
): string {
    if (override !== undefined && override !== "") return override;
    if (onPath("valkey-server")) return "valkey-server";
    if (onPath("redis-server")) return "redis-server";
    return "valkey-server";
}

/**
 * Whether a server's `--version` output names Valkey 8 or later, which has the `availability-zone` directive
 * (Redis and Valkey 7.2 refuse it).
 */
export function hasAvailabilityZone(versionOutput: string): boolean {
    const m = /^Valkey server v=(\d+)\./m.exec(versionOutput);
    return m !== null && Number(m[1]) >= 8;
}
