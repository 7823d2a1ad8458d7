/**
 * valkey.conf and the pod scripts (probes, preStop) rendered from settings. Pure: plain data in, text out.
 *
 * Only directives that both Valkey >= 7.2 and Redis >= 7.0 accept are written, so the same file serves the
 * `valkey/valkey` images and the Redis 7 stand-in of our tests.
 */
import type { Persistence } from "../config";

/** Where things live inside the pod. */
export const PATHS = {
    conf: "/etc/valkey/valkey.conf",
    confDir: "/etc/valkey",
    authDir: "/etc/valkey-auth",
    authFile: "/etc/valkey-auth/auth.conf",
    tlsDir: "/etc/valkey-tls",
    data: "/data",
} as const;

/** The client port and the cluster-bus port (client port + 10000, as Valkey derives it). */
export const VALKEY_PORT = 6379;
export const BUS_PORT = 16379;
/** The redis_exporter sidecar's port. */
export const METRICS_PORT = 9121;

/** What valkey.conf depends on. */
export interface ConfInput {
    nodeTimeoutMs: number;
    maxmemoryBytes: number;
    maxmemoryPolicy: string;
    persistence: Persistence;
    ioThreads: number;
    tls: boolean;
    /** Replicas each primary has: a full sync starts as soon as that many wait for one. */
    replicasPerShard: number;
}

/**
 * Renders valkey.conf. The password is not in it: the file includes `PATHS.authFile`, which the pod mounts from
 * the auth Secret (`authConf`), so the ConfigMap holds nothing secret.
 */
export function renderValkeyConf(input: ConfInput): string {
    const lines: string[] = [
        "# Rendered by valkey-platform (components/valkey/conf.ts). Edit the stack config, not this file.",
        "",
        "# Cluster mode; nodes.conf lives on the volume so a restarted pod keeps its node id and rejoins.",
        "cluster-enabled yes",
        `cluster-config-file ${PATHS.data}/nodes.conf`,
        `cluster-node-timeout ${input.nodeTimeoutMs}`,
        "# Pods announce their stable DNS name (the per-pod --cluster-announce-hostname argument), so a pod that",
        "# comes back with a new IP is still the node the others know.",
        "cluster-preferred-endpoint-type hostname",
        "# Replicas stay in the zone the layout gave them: no automatic migration to orphaned primaries.",
        "cluster-allow-replica-migration no",
        "cluster-require-full-coverage yes",
        "",
        "# Networking. Auth is always on, so protected mode adds nothing and would refuse pod-to-pod links.",
        "bind * -::*",
        "protected-mode no",
        "tcp-keepalive 60",
        "timeout 0",
        "",
        "# Memory: maxmemory is a fixed share of the container limit (requests == limits), the rest is headroom",
        "# for replication buffers, copy-on-write during persistence and fragmentation.",
        `maxmemory ${input.maxmemoryBytes}`,
        `maxmemory-policy ${input.maxmemoryPolicy}`,
        "lazyfree-lazy-eviction yes",
        "lazyfree-lazy-expire yes",
        "lazyfree-lazy-server-del yes",
        "replica-lazy-flush yes",
        "",
        "# Threads.",
        `io-threads ${input.ioThreads}`,
        "",
        "# Persistence.",
        `dir ${PATHS.data}`,
        ...persistenceLines(input.persistence),
        "",
        "# Replication: full syncs stream the snapshot over the socket instead of writing it to disk first, and",
        "# start as soon as every replica of the shard waits for one (not after the 5 s batching delay, which a",
        "# lone replica resyncing still waits, so that a second one can share the snapshot).",
        "repl-diskless-sync yes",
        ...(input.replicasPerShard > 0
            ? [`repl-diskless-sync-max-replicas ${input.replicasPerShard}`]
            : []),
        "repl-diskless-load on-empty-db",
        "",
        "# Auth: requirepass and masterauth come from the Secret mounted here.",
        `include ${PATHS.authFile}`,
    ];
    if (input.tls) {
        lines.push(
            "",
            "# TLS for clients, replication and the cluster bus; the plain port is closed.",
            "port 0",
            `tls-port ${VALKEY_PORT}`,
            `tls-cert-file ${PATHS.tlsDir}/tls.crt`,
            `tls-key-file ${PATHS.tlsDir}/tls.key`,
            `tls-ca-cert-file ${PATHS.tlsDir}/ca.crt`,
            "tls-cluster yes",
            "tls-replication yes",
            "tls-auth-clients optional",
        );
    } else {
        lines.push("", `port ${VALKEY_PORT}`);
    }
    return lines.join("\n") + "\n";
}

/** The persistence directives of a mode. */
export function persistenceLines(mode: Persistence): string[] {
    switch (mode) {
        case "aof+rdb":
            return [
                "appendonly yes",
                "appendfsync everysec",
                "aof-use-rdb-preamble yes",
                "save 3600 1 300 100 60 10000",
            ];
        case "rdb":
            return ["appendonly no", "save 3600 1 300 100 60 10000"];
        case "none":
            return ["appendonly no", 'save ""'];
    }
}

/**
 * The auth include: the password as both requirepass and masterauth (without the second, replicas silently
 * fail to sync while the cluster still looks healthy).
 */
export function authConf(password: string): string {
    if (/[\s"'\\]/.test(password)) {
        throw new Error("the Valkey password must not contain whitespace, quotes or backslashes");
    }
    return `requirepass ${password}\nmasterauth ${password}\n`;
}

/** Inputs of the pod scripts. */
export interface ScriptInput {
    tls: boolean;
    /** cluster-node-timeout, which bounds how long a failover takes. */
    nodeTimeoutMs: number;
}

const cliPrelude = (tls: boolean): string =>
    [
        "#!/bin/sh",
        "# The password reaches the CLI through REDISCLI_AUTH / VALKEYCLI_AUTH (env from the Secret), never argv.",
        'CLI="$(command -v valkey-cli || command -v redis-cli)"',
        tls
            ? `cli() { "$CLI" --tls --cacert ${PATHS.tlsDir}/ca.crt --cert ${PATHS.tlsDir}/tls.crt --key ${PATHS.tlsDir}/tls.key "$@"; }`
            : 'cli() { "$CLI" "$@"; }',
        // PROBE_HOST/PROBE_PORT exist for the tests that run these scripts against real servers.
        `local_cli() { cli -h "\${PROBE_HOST:-127.0.0.1}" -p "\${PROBE_PORT:-${VALKEY_PORT}}" "$@"; }`,
        "field() { tr -d '\\r' | sed -n \"s/^$1://p\"; }",
    ].join("\n");

/**
 * Readiness: the node serves (cluster_state:ok with all 16384 slots assigned, and on a replica
 * master_link_status:up) — or it is a blank node that knows only itself and holds no slot, waiting for the
 * bootstrap. Blank nodes count as ready so the StatefulSets can roll out before the cluster exists; clients
 * only reach them as a seed and get CLUSTERDOWN, never wrong data.
 *
 * While a member is not ok it also meets the peers whose stable names (the announced hostnames its nodes.conf
 * keeps) now resolve to other addresses: after every pod restarted at once (a whole-cluster restart, `pulumi
 * destroy` then `up` over kept volumes) no node can reach another at the recorded addresses, and nothing else
 * would reconnect them before the rollout waits for readiness. Meeting a known node at its new address only
 * updates the address.
 */
export function readinessScript(input: ScriptInput): string {
    return `${cliPrelude(input.tls)}
info="$(local_cli cluster info)" || exit 1
state="$(echo "$info" | field cluster_state)"
assigned="$(echo "$info" | field cluster_slots_assigned)"
known="$(echo "$info" | field cluster_known_nodes)"
if [ "$state" != "ok" ]; then
  [ "$known" = "1" ] && [ "$assigned" = "0" ] && exit 0
  local_cli cluster nodes | while read -r id addr flags rest; do
    case "$flags" in *myself*) continue ;; esac
    # ip:port@cport[,hostname[,aux=...]]
    case "$addr" in *,*) name="\${addr#*,}"; name="\${name%%,*}" ;; *) continue ;; esac
    case "$name" in ""|*=*) continue ;; esac
    ipport="\${addr%%@*}"
    now="$(getent hosts "$name" | awk '{ print $1; exit }')"
    if [ -n "$now" ] && [ "$now" != "\${ipport%:*}" ]; then
      local_cli cluster meet "$now" "\${ipport##*:}" >/dev/null 2>&1
    fi
  done
  exit 1
fi
[ "$assigned" = "16384" ] || exit 1
repl="$(local_cli info replication)" || exit 1
role="$(echo "$repl" | field role)"
if [ "$role" = "slave" ]; then
  [ "$(echo "$repl" | field master_link_status)" = "up" ] || exit 1
fi
exit 0
`;
}

/** Liveness and startup: the server answers (PONG, or LOADING while it reads a large dataset). */
export function livenessScript(input: ScriptInput): string {
    return `${cliPrelude(input.tls)}
out="$(local_cli ping 2>&1)" || exit 1
case "$out" in
  *PONG*|*LOADING*|*MASTERDOWN*) exit 0 ;;
esac
exit 1
`;
}

/** Seconds the preStop hook waits for a replica to take over, from the node timeout. */
export function failoverWaitSeconds(nodeTimeoutMs: number): number {
    return Math.ceil((2 * nodeTimeoutMs) / 1000) + 10;
}

/**
 * preStop: a primary hands its role to a connected replica with CLUSTER FAILOVER (no data loss: the replica
 * waits until it has caught up) and waits until it is a replica itself, then returns; a replica returns at once.
 * The script never stops the server: the kubelet's SIGTERM after the hook does (Valkey saves on SIGTERM when
 * persistence is on). A SHUTDOWN here killed the hook's own container (exit 137, FailedPreStopHook). It waits only
 * when the handover was accepted, and no longer than the failover can take.
 */
export function preStopScript(input: ScriptInput): string {
    const wait = failoverWaitSeconds(input.nodeTimeoutMs);
    return `${cliPrelude(input.tls)}
role="$(local_cli role | head -n 1 | tr -d '\\r')"
[ "$role" = "master" ] || exit 0
me="$(local_cli cluster myid | tr -d '\\r')"
# CLUSTER NODES: id addr flags master-id ping pong epoch link slots...; pick a connected, healthy replica of mine.
target="$(local_cli cluster nodes | awk -v me="$me" '$4 == me && $3 !~ /fail/ && $8 == "connected" { print $2; exit }')"
if [ -z "$target" ]; then
  echo "preStop: no connected replica to hand the primary role to"
  exit 0
fi
# ip:port@cport[,hostname[,aux=...]]: prefer the announced hostname, else the address.
addr="\${target%%@*}"
port="\${addr##*:}"
host=""
case "$target" in *,*) host="\${target#*,}"; host="\${host%%,*}" ;; esac
case "$host" in ""|*=*) host="\${addr%:*}" ;; esac
echo "preStop: handing primary role to $host:$port"
answer="$(cli -h "$host" -p "$port" cluster failover 2>&1 | tr -d '\\r')"
if [ "$answer" != "OK" ]; then
  echo "preStop: $host:$port refused CLUSTER FAILOVER: $answer"
  exit 0
fi
i=0
while [ $i -lt ${wait * 5} ]; do
  if [ "$(local_cli role | head -n 1 | tr -d '\\r')" = "slave" ]; then
    echo "preStop: handed over after $((i / 5)) s"
    exit 0
  fi
  sleep 0.2
  i=$((i + 1))
done
echo "preStop: still primary after ${wait} s"
exit 0
`;
}

/**
 * The container's entry point: starts Valkey, but a node that stopped as a primary holding slots (killed, its node
 * lost: no preStop handover) first waits until one of its replicas has taken its place, for at most as long as a
 * failover takes. Otherwise it would come back as the primary of an older dataset (the last RDB snapshot, the AOF
 * up to its last fsync, or nothing without persistence), its replica would resync from it, and every write the
 * replica had acknowledged since would be gone. Once the replica is primary, the returning node learns it lost its
 * slots to a higher epoch and rejoins as that replica's replica, copying the newer dataset. A node without a
 * replica (nothing could take over) and a whole-cluster restart (no primary left to elect one) start after the wait.
 * `DATA_DIR` and `VALKEY_SERVER` exist for the tests that run this script against real servers.
 */
export function startScript(input: ScriptInput): string {
    const wait = failoverWaitSeconds(input.nodeTimeoutMs);
    return `${cliPrelude(input.tls)}
conf="\${DATA_DIR:-${PATHS.data}}/nodes.conf"
if [ -f "$conf" ] && awk '$3 ~ /myself/ && $3 ~ /master/ && NF > 8 { found = 1 } END { exit !found }' "$conf"; then
  me="$(awk '$3 ~ /myself/ { print $1; exit }' "$conf")"
  # ip:port@cport[,hostname[,aux=...]] of every replica of mine: the hostname when there is one (a pod's new IP).
  replicas="$(awk -v me="$me" '$4 == me { print $2 }' "$conf")"
  if [ -n "$replicas" ]; then
    echo "start: stopped as a primary without handing over; waiting up to ${wait} s for a replica to take over"
    i=0
    while [ $i -lt ${wait * 5} ]; do
      for target in $replicas; do
        addr="\${target%%@*}"
        host=""
        case "$target" in *,*) host="\${target#*,}"; host="\${host%%,*}" ;; esac
        case "$host" in ""|*=*) host="\${addr%:*}" ;; esac
        if [ "$(cli -h "$host" -p "\${addr##*:}" role 2>/dev/null | head -n 1 | tr -d '\\r')" = "master" ]; then
          echo "start: $host took over after $((i / 5)) s; rejoining as its replica"
          exec "\${VALKEY_SERVER:-valkey-server}" "$@"
        fi
      done
      sleep 0.2
      i=$((i + 1))
    done
    echo "start: no replica took over within ${wait} s; starting as the primary"
  fi
fi
exec "\${VALKEY_SERVER:-valkey-server}" "$@"
`;
}

/**
 * Whether a Valkey image has the `availability-zone` directive (Valkey >= 8): true unless its tag names an
 * older major version (`valkey/valkey:7.2.5`); a digest or an unversioned tag is taken as current.
 */
export function imageHasAvailabilityZone(image: string): boolean {
    const tag = /:(\d+)(?:\.[^/@]*)?(?:@.*)?$/.exec(image.slice(image.lastIndexOf("/") + 1));
    return tag === null || Number(tag[1]) >= 8;
}
