#!/usr/bin/env bash
# A zone outage and its recovery. Each zone is one node (zone-a = node-a, ...):
#   bash scripts/kube/zone.sh stop zone-b    the node's kubelet and containerd stop and every process of its pods is
#                                            killed: the pods really die, their volumes stay. The API server marks
#                                            the node NotReady about 50 s later (node-monitor-grace-period).
#   bash scripts/kube/zone.sh start zone-b   containerd and the kubelet start again; waits until the node is Ready.
#                                            The kubelet then restarts the node's pods, with their data.
# The zone may be given as zone-a|zone-b|zone-c or a|b|c. Both take seconds. Root.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { die "usage: $0 stop|start zone-a|zone-b|zone-c"; }
[[ $# == 2 ]] || usage
action=$1
z=$(zone_of "$2") || usage
[[ "$(id -u)" == 0 ]] || die "run as root."
[[ -f "$(node_dir "$z")/kubelet.yaml" ]] || die "node-$z has no configuration; is the cluster up (bash scripts/kube/up.sh)?"
t0=$(now_ms)

case "$action" in
stop)
    stop_daemon "kubelet-$z"
    # The runtime first, then the pods' processes. Killing the tasks through containerd and stopping it right
    # after can stop it in the middle of deleting a task, and that task's shim then lives on unknown to it. With
    # containerd gone first, the shims see their processes die and wait; the next containerd finds the tasks
    # stopped, deletes them, and the shims exit.
    stop_daemon "containerd-$z"
    n=0
    for h in /sys/fs/cgroup/*/"$PREFIX-node-$z"; do
        [[ -d "$h" ]] || continue
        for pid in $(find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u); do
            kill -9 "$pid" 2>/dev/null && n=$((n + 1))
        done
    done
    say "zone-$z down (node-$z: kubelet and containerd stopped, $n pod processes killed) in $(seconds_since "$t0") s"
    ;;
start)
    daemon_pid "containerd-$z" >/dev/null || start_containerd "$z"
    wait_for 30 ctr -a "$(containerd_sock "$z")" version || die "containerd of node-$z does not answer; see $LOGS/containerd-$z.log"
    daemon_pid "kubelet-$z" >/dev/null || start_kubelet "$z"
    wait_for 120 node_ready "$z" || die "node-$z not Ready after 120 s; see $LOGS/kubelet-$z.log"
    say "zone-$z up (node-$z Ready) in $(seconds_since "$t0") s"
    ;;
*) usage ;;
esac
