# shellcheck shell=bash
# Shared by build.sh, up.sh, down.sh, zone.sh and smoke.sh; sourced, never run. Everything the cluster builds or
# runs lives under .kube-local/ at the repository root (git-ignored), found from this file's own location.
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file

KUBE_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KUBE_SCRIPTS/../.." && pwd)
# shellcheck source=versions.env
. "$KUBE_SCRIPTS/versions.env"

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# The working folder. Its path is written into configs, kubeconfigs and CNI files, and down.sh finds our
# processes by it, so it must not contain characters that would need quoting there.
KL="$REPO_ROOT/.kube-local"
case "$KL" in *[[:space:]\"\'\\\|]*) die "the repository path must not contain spaces, quotes, backslashes or '|': $KL" ;; esac
BIN="$KL/bin"            # built binaries (kept by down.sh)
STAMPS="$KL/stamps"      # what each binary and image was built from (kept)
IMAGES="$KL/images"      # image tarballs, docker-archive (kept)
ROOTFS="$KL/rootfs"      # image root filesystems, the Valkey one from debootstrap (kept)
PKI="$KL/pki"            # CA, certificates, keys, static tokens (kept; never committed)
CONF="$KL/conf"          # control-plane configs and kubeconfigs (rewritten by every up)
RUN="$KL/run"            # PID files
LOGS="$KL/logs"          # one log per daemon
NODES="$KL/nodes"        # per node: containerd root/state/socket, runc root, CNI, kubelet root-dir, pod logs
ETCD_DATA="$KL/etcd"     # etcd's data
STORAGE="$KL/storage"    # local-path-provisioner volumes, one folder per node
STATE="$KL/state"        # host state taken before the first up, for down.sh
KUBECONFIG_FILE="$KL/kubeconfig"
KUBECTL="$BIN/kubectl"

# Addresses. The three nodes share this host's network namespace and its one IPv4 address. Pods and services
# come from 198.18.0.0/15 (RFC 2544 benchmarking space): never routed on the internet and never one of the
# private ranges another network on this machine could be using.
NODE_IP="${NODE_IP:-192.0.2.2}"
CLUSTER_CIDR=198.18.0.0/16
SERVICE_CIDR=198.19.0.0/16
API_SERVICE_IP=198.19.0.1 # first address of SERVICE_CIDR: the `kubernetes` Service, so it must be in the cert
DNS_IP=198.19.0.10
CLUSTER_DOMAIN=cluster.local
REGION=local
ZONES=(a b c)
PREFIX=klocal # bridges, cgroup roots and CNI networks carry it so down.sh finds exactly what up.sh made

# zone_of <a|zone-a>: the zone letter, or an error.
zone_of() {
    case "$1" in
    a | zone-a) echo a ;;
    b | zone-b) echo b ;;
    c | zone-c) echo c ;;
    *) return 1 ;;
    esac
}
zone_number() { case "$1" in a) echo 1 ;; b) echo 2 ;; c) echo 3 ;; esac }
pod_cidr() { echo "198.18.$(zone_number "$1").0/24"; }
# Each kubelet needs its own ports: 10250/10260/10270 (API) and 10248/10258/10268 (healthz).
kubelet_port() { echo $((10240 + 10 * $(zone_number "$1"))); }
kubelet_healthz_port() { echo $((10238 + 10 * $(zone_number "$1"))); }
node_dir() { echo "$NODES/node-$1"; }
containerd_sock() { echo "$NODES/node-$1/containerd.sock"; }

# Ports the cluster listens on; up.sh refuses to start when another program holds one.
CLUSTER_PORTS="2379 2380 6443 10248 10249 10250 10256 10257 10258 10259 10260 10268 10270"

# Host sysctls that change while the cluster runs: ip_forward (up.sh: pod traffic between the nodes' bridges is
# routed by the host), the kubelet's (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
# kernel.keys.*), and those kube-proxy may touch (turned off in its config, listed so a change is undone anyway).
# ip_forward comes first: writing it also resets every interface's forwarding and accept_redirects.
SYSCTLS="net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet net.netfilter.nf_conntrack_max
net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait
net.bridge.bridge-nf-call-iptables"
# Host folders the kubelets, containerd and the CNI plugins create outside .kube-local whatever they are told
# (the kubelet's device-plugin socket path is hard-coded; the CNI result cache and shim sockets have fixed homes).
# up.sh notes which did not exist; down.sh removes those once empty. Deepest first.
HOST_DIRS="/var/lib/kubelet/device-plugins /var/lib/kubelet /var/lib/cni/results /var/lib/cni /var/log/containers
/run/containerd/s /run/containerd"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# seconds_since <ms>: "12.3"
seconds_since() {
    local ms=$(($(now_ms) - $1))
    printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

kctl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# wait_for <seconds> <command...>: retries the command every half second; silent.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# cmdline <pid>: the process's arguments, space-separated ("" when it is gone).
cmdline() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null || true; }
# running <pid>: alive and not a zombie.
running() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }
# mentions_kl <pid>: its command line names the working folder, or it runs one of our binaries (a kubectl started
# as .kube-local/bin/kubectl from the repository root names it only relatively).
mentions_kl() {
    [[ "$(cmdline "$1")" == *"$KL/"* ]] && return 0
    [[ "$(readlink "/proc/$1/exe" 2>/dev/null)" == "$KL/"* ]]
}
# ours <pid>: a live process of this cluster. A PID file can outlive its process and the PID be reused by an
# unrelated program, which must never be signalled.
ours() { running "$1" && mentions_kl "$1"; }

# klocal_pids: every process of this cluster's working folder (daemons, shims, port-forwards).
klocal_pids() {
    local d pid
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ "$pid" == "$$" || "$pid" == "$BASHPID" ]] && continue
        mentions_kl "$pid" && running "$pid" && echo "$pid"
    done
    return 0
}

# daemon_pid <name>: the PID in run/<name>.pid when that process is still ours.
daemon_pid() {
    local pid
    pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
    [[ -n "$pid" ]] && ours "$pid" && echo "$pid"
}

# start_daemon <name> <command...>: detached in its own session (no terminal, survives the calling shell),
# output to logs/<name>.log, which starts afresh so waits on log lines see only this run.
start_daemon() {
    local name=$1
    shift
    mkdir -p "$RUN" "$LOGS"
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

# stop_daemon <name> [signal]: ends the process of run/<name>.pid if it is still ours: the signal (TERM by
# default), up to 10 s, then KILL. Prints what it stopped.
stop_daemon() {
    local name=$1 sig=${2:-TERM} pid i
    if pid=$(daemon_pid "$name"); then
        kill -s "$sig" "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            running "$pid" || break
            sleep 0.25
        done
        running "$pid" && kill -9 "$pid" 2>/dev/null
        echo "stopped $name (pid $pid)"
    fi
    rm -f "$RUN/$name.pid"
}

# The kubelet gives up at once when containerd's CRI plugin is not serving yet, which takes a while after the
# socket answers when containerd has stopped tasks to recover (after a zone stop). containerd 1.6 logs this line
# right before CRI is ready.
containerd_cri_ready() { grep -q 'Start streaming server' "$LOGS/containerd-$1.log" 2>/dev/null; }

start_containerd() {
    start_daemon "containerd-$1" containerd --config "$(node_dir "$1")/containerd.toml"
}

start_kubelet() {
    local z=$1 d
    d=$(node_dir "$z")
    wait_for 60 containerd_cri_ready "$z" || die "containerd of node-$z is not serving CRI; see $LOGS/containerd-$z.log"
    # Each kubelet needs its own cgroup root in every hierarchy, or each would take the other nodes' pod cgroups
    # for orphans and remove them.
    local h
    for h in /sys/fs/cgroup/*/; do
        [[ -e "$h/cgroup.procs" ]] && mkdir -p "$h$PREFIX-node-$z"
    done
    # --cert-dir: otherwise all three share one self-signed serving cert in /var/lib/kubelet/pki.
    start_daemon "kubelet-$z" "$BIN/kubelet" --config="$d/kubelet.yaml" --kubeconfig="$d/kubeconfig" \
        --root-dir="$d/kubelet" --cert-dir="$d/kubelet/pki" --hostname-override="node-$z" --node-ip="$NODE_IP" \
        --node-labels="topology.kubernetes.io/zone=zone-$z,topology.kubernetes.io/region=$REGION"
}

# node_shims <zone>: PIDs of the containerd shims serving that node's containerd (its socket is in their -address).
node_shims() {
    local sock pid
    sock=$(containerd_sock "$1")
    for pid in $(klocal_pids); do
        [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == containerd-shim* ]] || continue
        [[ "$(cmdline "$pid")" == *"-address $sock "* ]] && echo "$pid"
    done
    return 0
}

# descendants <pid>: every process below it, children first.
descendants() {
    local child
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

node_ready() {
    [[ "$(kctl get node "node-$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# etcd_healthy: GET /health on the client port, with bash's /dev/tcp (no curl or etcdctl needed).
# A subshell, so a refused connection ends only it.
etcd_healthy() (
    exec 7<>/dev/tcp/127.0.0.1/2379 || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&7
    [[ "$(timeout 3 cat <&7)" == *'"health":"true"'* ]]
)
