#!/usr/bin/env bash
# Stops the local cluster and undoes every change up.sh made to the host: processes (daemons, containerd shims,
# the pods' processes, kubectl port-forwards), mounts under .kube-local, the klocal-* bridges, kube-proxy's
# iptables chains, the klocal-node-* cgroups, the CNI result cache, the host folders up.sh found missing, and the
# sysctls as they were before the first up. Keeps bin/, images/, rootfs/, stamps/, pki/, the kubeconfig and logs/.
#
# Usage: bash scripts/kube/down.sh      (root)
# Idempotent. Prints what it stopped; exits 1 when something is left over (and says what).
set -uo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" == 0 ]] || die "run as root."
t0=$(now_ms)
did=0
note() {
    echo "  $*"
    did=1
}

# cgroup_pids <cgroup name>: every process in that cgroup and below, in any hierarchy.
cgroup_pids() {
    local h
    for h in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
        [[ -d "$h" ]] && find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u
}

say "stopping the cluster in $KL"

# 1. kubectl port-forwards and other clients started against this cluster's files.
for pid in $(klocal_pids); do
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == kubectl ]]; then
        kill "$pid" 2>/dev/null && note "stopped kubectl (pid $pid): $(cmdline "$pid" | cut -c1-80)"
    fi
done
rm -f "$RUN"/port-forward*.pid

# 2. kube-proxy, then its iptables rules (--cleanup removes the KUBE-* chains of both IP families).
out=$(stop_daemon kube-proxy) && [[ -n "$out" ]] && note "$out"
# (The rules are read into a variable first: grep -q on a pipe under pipefail fails when it stops reading early.)
rules="$(iptables-save 2>/dev/null)$(ip6tables-save 2>/dev/null)"
if [[ -x "$BIN/kube-proxy" && "$rules" == *KUBE-* ]]; then
    "$BIN/kube-proxy" --cleanup >/dev/null 2>&1
    note "removed kube-proxy's iptables chains"
fi
# --cleanup leaves KUBE-FIREWALL (kube-proxy shares it with kubelets), and a CNI plugin may leave CNI-* chains:
# every jump into such a chain from another chain goes, then the chains themselves.
for ipt in iptables ip6tables; do
    for table in filter nat mangle raw; do
        rules=$($ipt -t "$table" -S 2>/dev/null) || continue
        chains=$(awk '$1 == "-N" && $2 ~ /^(KUBE|CNI)-/ {print $2}' <<<"$rules")
        [[ -n "$chains" ]] || continue
        while read -r rule; do
            [[ -n "$rule" ]] && eval "$ipt -t $table ${rule/#-A/-D}" 2>/dev/null
        done < <(grep -E -- '-j (KUBE|CNI)-' <<<"$rules" | grep -vE '^-A (KUBE|CNI)-' || true)
        for c in $chains; do $ipt -t "$table" -F "$c" 2>/dev/null; done
        for c in $chains; do $ipt -t "$table" -X "$c" 2>/dev/null; done
        note "removed $ipt $table chains: $(tr '\n' ' ' <<<"$chains")"
    done
done
# iptables (nft backend) created its tables on first use; those that did not exist before the first up go
# again, if nothing but empty built-in chains is left in them.
if [[ -f "$STATE/nft-tables.before" ]] && command -v nft >/dev/null 2>&1; then
    while read -r _ family name; do
        [[ -n "$name" ]] || continue
        grep -qxF "table $family $name" "$STATE/nft-tables.before" && continue
        content=$(nft list table "$family" "$name" 2>/dev/null) || continue
        if [[ -z "$(grep -vE '^[[:space:]]*(table |chain |type |\}|$)' <<<"$content")" ]]; then
            nft delete table "$family" "$name" && note "removed nft table $family $name (empty, made by iptables)"
        fi
    done < <(nft list tables 2>/dev/null)
fi

# 3. Kubelets and the control plane. The pods' processes keep running until step 4.
for d in kubelet-a kubelet-b kubelet-c kube-scheduler kube-controller-manager kube-apiserver; do
    out=$(stop_daemon "$d") && [[ -n "$out" ]] && note "$out"
done

# 4. Per node: containerd first, then every process in the node's cgroups (the pods), then the shims, which
#    end no other way once their containerd is gone. Shim socket names and sandbox IDs are noted on the way
#    for the cleanup of /run/containerd/s and the CNI cache.
ids=""
shim_sockets=""
for z in "${ZONES[@]}"; do
    out=$(stop_daemon "containerd-$z") && [[ -n "$out" ]] && note "$out"
    n=0
    for pid in $(cgroup_pids "$PREFIX-node-$z"); do kill -9 "$pid" 2>/dev/null && n=$((n + 1)); done
    ((n)) && note "killed $n pod processes of node-$z"
    for shim in $(node_shims "$z"); do
        args=$(cmdline "$shim")
        id=$(awk '{for (i = 1; i < NF; i++) if ($i == "-id") print $(i + 1)}' <<<"$args")
        ns=$(awk '{for (i = 1; i < NF; i++) if ($i == "-namespace") print $(i + 1)}' <<<"$args")
        # containerd 1.6 names a shim's socket /run/containerd/s/sha256(<containerd address>/<namespace>/<id>).
        shim_sockets+=" $(printf '%s' "$(containerd_sock "$z")/$ns/$id" | sha256sum | cut -d' ' -f1)"
        for child in $(descendants "$shim"); do kill -9 "$child" 2>/dev/null; done
        kill -9 "$shim" 2>/dev/null && note "stopped shim of node-$z (pid $shim, ${id:0:12})"
    done
    # containerd's state and root directories of this node (its own "root", not the machine's).
    cstate="$(node_dir "$z")/containerd/state"
    croot="$(node_dir "$z")/containerd/root"
    for dir in "$cstate"/io.containerd.runtime.v2.task/k8s.io/* "$croot"/io.containerd.grpc.v1.cri/sandboxes/*; do
        [[ -d "$dir" ]] && ids+=" ${dir##*/}"
    done
done
out=$(stop_daemon etcd) && [[ -n "$out" ]] && note "$out"

# 5. Anything still mentioning the working folder (a process whose PID file was lost): ours by its command line.
for pid in $(klocal_pids); do
    note "stopped leftover $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid)"
    kill -9 "$pid" 2>/dev/null
done
sleep 0.5

# 6. Mounts under the working folder (container root filesystems, network namespaces, volumes), deepest first.
n=0
while read -r m; do
    umount -l "$m" 2>/dev/null && n=$((n + 1))
done < <(awk -v p="$KL/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r)
((n)) && note "unmounted $n mounts under $KL"

# 7. Bridges and veths, cgroups, CNI cache, shim sockets, log links.
veths_all=""
for z in "${ZONES[@]}"; do
    # A pod's network namespace outlives its processes while a closed TCP connection of it still retransmits
    # (to a peer already gone), and so does the host end of its veth, without a bridge once that is deleted. The
    # veths are deleted by hand: removing the host end removes the pair.
    veths=$(ip -o link show master "$PREFIX-$z" 2>/dev/null | awk -F': ' '{sub("@.*", "", $2); print $2}')
    veths_all+=" $veths"
    for v in $veths; do ip link del "$v" 2>/dev/null; done
    [[ -n "$veths" ]] && note "deleted $(wc -w <<<"$veths") veths of $PREFIX-$z"
    ip link del "$PREFIX-$z" 2>/dev/null && note "deleted bridge $PREFIX-$z"
    n=0
    for h in /sys/fs/cgroup/*/"$PREFIX-node-$z" /sys/fs/cgroup/"$PREFIX-node-$z"; do
        [[ -d "$h" ]] || continue
        # rmdir only: a cgroup with a process left in it stays, and step 10 reports it.
        find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
        [[ -d "$h" ]] || n=$((n + 1))
    done
    ((n)) && note "removed cgroup $PREFIX-node-$z from $n hierarchies"
done
n=0
for f in /var/lib/cni/results/"$PREFIX"-node-*; do [[ -e "$f" ]] && rm -f "$f" && n=$((n + 1)); done
for id in $ids; do
    for f in /var/lib/cni/results/*-"$id"-*; do [[ -e "$f" ]] && rm -f "$f" && n=$((n + 1)); done
done
((n)) && note "removed $n CNI result cache files"
for s in $shim_sockets; do rm -f "/run/containerd/s/$s"; done
if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$KL/*" -delete
fi

# 8. Host folders up.sh found missing (listed deepest first), once empty.
if [[ -f "$STATE/host-dirs.created" ]]; then
    while read -r d; do
        [[ -d "$d" ]] || continue
        # the kubelets' hard-coded device-plugin socket and checkpoint
        [[ "$d" == /var/lib/kubelet/device-plugins ]] && rm -f "$d/kubelet.sock" "$d/kubelet_internal_checkpoint"
        rmdir "$d" 2>/dev/null && note "removed $d"
    done <"$STATE/host-dirs.created"
fi

# 9. Sysctls as before the first up (ip_forward first: writing it resets every interface's forwarding).
if [[ -f "$STATE/sysctl.before" ]]; then
    while IFS='=' read -r k v; do
        if [[ "$(sysctl -n "$k" 2>/dev/null)" != "$v" ]]; then
            sysctl -qw "$k=$v" && note "sysctl $k back to $v"
        fi
    done <"$STATE/sysctl.before"
fi

# 10. What is left over.
left=()
pids=$(klocal_pids)
[[ -z "$pids" ]] || left+=("processes: $(tr '\n' ' ' <<<"$pids")")
for z in "${ZONES[@]}"; do
    p=$(cgroup_pids "$PREFIX-node-$z" | tr '\n' ' ')
    [[ -z "$p" ]] || left+=("processes in the cgroups of node-$z: $p")
    ip link show "$PREFIX-$z" >/dev/null 2>&1 && left+=("bridge $PREFIX-$z")
    compgen -G "/sys/fs/cgroup/*/$PREFIX-node-$z" >/dev/null && left+=("cgroups $PREFIX-node-$z")
done
for v in $veths_all; do ip link show "$v" >/dev/null 2>&1 && left+=("veth $v"); done
m=$(awk -v p="$KL/" 'index($2, p) == 1' /proc/mounts | wc -l)
((m == 0)) || left+=("$m mounts under $KL")
for ipt in iptables-save ip6tables-save; do
    c=$($ipt 2>/dev/null | grep -cE '^:(KUBE|CNI)-')
    ((c == 0)) || left+=("$c KUBE-/CNI- chains in $ipt")
done
if [[ -f "$STATE/sysctl.before" ]]; then
    while IFS='=' read -r k v; do
        now=$(sysctl -n "$k" 2>/dev/null) || continue
        [[ "$now" == "$v" ]] || left+=("sysctl $k=$now (was $v)")
    done <"$STATE/sysctl.before"
fi
if [[ -f "$STATE/sysctl-all.before" ]]; then
    # Every other sysctl that differs, less the counters and random values that change by themselves.
    changed=$(comm -13 "$STATE/sysctl-all.before" <(sysctl -a 2>/dev/null | sort) | cut -d' ' -f1 |
        grep -vE '^(kernel\.random\.|kernel\.ns_last_pid|kernel\.pty\.nr|fs\.(dentry-state|inode-nr|inode-state|file-nr|aio-nr)|net\.netfilter\.nf_conntrack_count|kernel\.sched_domain|fs\.quota\.|vm\.nr_|kernel\.tainted)' |
        while read -r k; do grep -q "^$k = " "$STATE/sysctl-all.before" && echo "$k"; done | tr '\n' ' ')
    [[ -z "$changed" ]] || left+=("sysctls that differ from before the first up: $changed")
fi

if ((${#left[@]})); then
    say "LEFT OVER after down (the folders under $KL are kept for a look):"
    printf '  %s\n' "${left[@]}"
    exit 1
fi

# 11. The cluster's state; bin/, images/, rootfs/, stamps/, pki/, kubeconfig and logs/ stay for the next up.
rm -rf "$ETCD_DATA" "$NODES" "$STORAGE" "$RUN" "$CONF" "$STATE"
((did)) || echo "  nothing was running"
say "down in $(seconds_since "$t0") s; nothing left: no process mentions $KL, no mount, bridge, cgroup or KUBE/CNI chain; sysctls as before"
