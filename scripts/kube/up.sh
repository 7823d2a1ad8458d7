#!/usr/bin/env bash
# Starts a real three-node, three-zone Kubernetes on this machine (root, Debian 12):
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy (iptables) as host processes;
#   node-a/node-b/node-c, each a kubelet with its own containerd, labelled topology.kubernetes.io/zone=zone-a|b|c;
#   CoreDNS at 198.19.0.10 and local-path-provisioner with the default StorageClass `local-path`.
#
# Usage: bash scripts/kube/up.sh                 (root; runs build.sh first, a no-op when everything is built)
#        NODE_IP=<an IPv4 address of this host>  (default 192.0.2.2)
# Then:  export KUBECONFIG=$PWD/.kube-local/kubeconfig; .kube-local/bin/kubectl get nodes -L topology.kubernetes.io/zone
#
# Idempotent: a healthy cluster is left as it is; a half-up one (daemons gone, stale PID files) is taken down with
# down.sh and started again. down.sh undoes everything this script changes on the host.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_all=$(now_ms)
# step <what> <command...>: runs it and prints how long it took.
step() {
    local what=$1 t0
    shift
    t0=$(now_ms)
    "$@"
    say "$what: $(seconds_since "$t0") s"
}

[[ "$(id -u)" == 0 ]] || die "run as root: containerd, the kubelets, bridges, iptables and cgroups need it."

# --- preflight: nothing on the host changes before these pass ---------------------------------------------------
case "$NODE_IP" in
10.* | 192.168.* | 172.1[6-9].* | 172.2[0-9].* | 172.3[01].*)
    die "NODE_IP=$NODE_IP is in a private range; the cluster never uses 10/8, 172.16/12 or 192.168/16." ;;
esac
host_ips=$(ip -4 -o addr show | awk '{sub("/.*", "", $4); print $4}')
grep -qxF "$NODE_IP" <<<"$host_ips" ||
    die "NODE_IP=$NODE_IP is not an address of this host; set NODE_IP to one of: $(ip -4 -o addr show scope global | awk '{sub("/.*", "", $4); printf "%s ", $4}')"

step "build (build.sh)" bash "$KUBE_SCRIPTS/build.sh"
for cmd in containerd ctr iptables openssl setsid ss; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd is missing (build.sh installs the packages; is this Debian?)"
done
[[ -x /usr/sbin/runc && -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] ||
    die "runc or the CNI plugins are missing (apt-get install runc containernetworking-plugins)."

DAEMONS=(etcd containerd-a containerd-b containerd-c kube-apiserver kube-controller-manager kube-scheduler
    kubelet-a kubelet-b kubelet-c kube-proxy)

cluster_healthy() {
    local d ready
    for d in "${DAEMONS[@]}"; do daemon_pid "$d" >/dev/null || return 1; done
    kctl get --raw /readyz >/dev/null 2>&1 || return 1
    ready=$(kctl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)
    [[ "$ready" == 3 ]] || return 1
    kctl -n kube-system rollout status deploy/coredns --timeout=5s >/dev/null 2>&1 || return 1
    kctl -n local-path-storage rollout status deploy/local-path-provisioner --timeout=5s >/dev/null 2>&1
}
if cluster_healthy; then
    say "the cluster is already up and healthy (3 nodes Ready, DNS and storage rolled out); nothing to do"
    say "export KUBECONFIG=$KUBECONFIG_FILE   kubectl: $KUBECTL"
    exit 0
fi
# Anything left of an earlier run (a daemon, a PID file, node folders, a bridge) is cleaned up first, so the
# start below always begins from a clean host.
if compgen -G "$RUN/*.pid" >/dev/null || [[ -d "$NODES" ]] || [[ -n "$(klocal_pids)" ]] ||
    ip link show "$PREFIX-a" >/dev/null 2>&1; then
    say "the cluster is half up (stopped daemons or stale PID files): down.sh first"
    bash "$KUBE_SCRIPTS/down.sh" || die "down.sh could not clean up; see its output"
fi
busy=$(ss -Htln | awk '{n = split($4, a, ":"); print a[n]}' | sort -u | grep -xE "$(tr ' ' '|' <<<"$CLUSTER_PORTS")" || true)
[[ -z "$busy" ]] || die "ports in use by another program (another cluster?): $(tr '\n' ' ' <<<"$busy")"

# --- host state before the first up, for down.sh ---------------------------------------------------------------
mkdir -p "$STATE" "$CONF" "$RUN" "$LOGS" "$NODES" "$ETCD_DATA" "$STORAGE"
if [[ ! -f "$STATE/sysctl.before" ]]; then
    for k in $SYSCTLS; do
        v=$(sysctl -n "$k" 2>/dev/null) && printf '%s=%s\n' "$k" "$v"
    done >"$STATE/sysctl.before"
    # the whole table too, so down.sh can report any other difference
    sysctl -a 2>/dev/null | sort >"$STATE/sysctl-all.before" || true
    for d in $HOST_DIRS; do [[ -e "$d" ]] || echo "$d"; done >"$STATE/host-dirs.created"
    if command -v nft >/dev/null 2>&1; then nft list tables >"$STATE/nft-tables.before" 2>/dev/null || true; fi
fi

# --- PKI: own CA, apiserver serving cert, apiserver->kubelet client cert, service-account keys, static tokens ----
SANS="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
SANS+=",DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP"
# sign <name> <subject> <extensions>: a key and a certificate signed by our CA.
sign() {
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$1.key" -subj "$2" 2>/dev/null |
        openssl x509 -req -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 825 -sha256 \
            -extfile <(printf '%s\n' "$3") -out "$PKI/$1.crt" 2>/dev/null
}
make_pki() {
    rm -rf "$PKI" && mkdir -p "$PKI" && chmod 700 "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -sha256 \
        -subj "/CN=$PREFIX-ca" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    sign apiserver /CN=kube-apiserver "subjectAltName=$SANS
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    # system:masters: the kubelets authorize the apiserver's exec/logs/port-forward calls through it
    sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    # Static bearer tokens, token,user,uid,"groups". Each node has its own system:node:<name> identity so the Node
    # authorizer and NodeRestriction confine it to its own objects; the control-plane users are those the
    # built-in RBAC bindings already name.
    {
        printf '%s,admin,admin,"system:masters"\n' "$(openssl rand -hex 24)"
        for z in "${ZONES[@]}"; do
            printf '%s,system:node:node-%s,node-%s,"system:nodes"\n' "$(openssl rand -hex 24)" "$z" "$z"
        done
        for u in kube-controller-manager kube-scheduler kube-proxy; do
            printf '%s,system:%s,%s\n' "$(openssl rand -hex 24)" "$u" "$u"
        done
    } >"$PKI/tokens.csv"
    printf '%s' "$SANS" >"$PKI/sans"
    chmod 600 "$PKI"/*.key "$PKI/tokens.csv"
}
# Made once and kept, so a kubeconfig copied elsewhere keeps working; again when the node IP changed the SANs.
if [[ ! -f "$PKI/tokens.csv" || "$(cat "$PKI/sans" 2>/dev/null)" != "$SANS" ]]; then
    step "PKI" make_pki
fi

# --- configs -----------------------------------------------------------------------------------------------------
API_URL="https://$NODE_IP:6443"
token_of() { awk -F, -v u="$1" '$2 == u {print $1}' "$PKI/tokens.csv"; }
# kubeconfig <file> <user>: the CA is embedded, so the file works from any directory and when copied.
kubeconfig() {
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $PREFIX
    cluster:
      server: $API_URL
      certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
  - name: $2
    user:
      token: $(token_of "$2")
contexts:
  - name: $PREFIX
    context: {cluster: $PREFIX, user: $2}
current-context: $PREFIX
EOF
    chmod 600 "$1"
}
kubeconfig "$KUBECONFIG_FILE" admin
for u in kube-controller-manager kube-scheduler kube-proxy; do kubeconfig "$CONF/$u.kubeconfig" "system:$u"; done

for z in "${ZONES[@]}"; do
    D=$(node_dir "$z")
    mkdir -p "$D"/{containerd,runc,cni,cni-ipam,kubelet,pod-logs,volume-plugins}
    kubeconfig "$D/kubeconfig" "system:node:node-$z"
    cat >"$D/containerd.toml" <<EOF
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
[grpc]
  address = "$(containerd_sock "$z")"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE, so runc cannot lower oom_score_adj below containerd's own (the sandbox
  # asks for -998 and fails to start); this clamps every score to containerd's.
  restrict_oom_score_adj = true
  # network namespaces under the node's state folder instead of the shared /var/run/netns
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$D/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni"
    max_conf_num = 1
EOF
    # One bridge per node (the bridge plugin allows one gateway address per bridge). No default route and no
    # masquerade: pods reach other pods, Services and the node address, and nothing beyond this machine.
    cat >"$D/cni/10-$PREFIX.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$PREFIX-node-$z",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$PREFIX-$z",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$D/cni-ipam",
        "ranges": [[{"subnet": "$(pod_cidr "$z")"}]],
        "routes": [{"dst": "198.18.0.0/15"}, {"dst": "$NODE_IP/32"}]
      }
    }
  ]
}
EOF
    cat >"$D/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $(kubelet_port "$z")
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(kubelet_healthz_port "$z")
containerRuntimeEndpoint: unix://$(containerd_sock "$z")
cgroupDriver: cgroupfs
# Own cgroup root per node: each kubelet removes pod cgroups it does not know under its root as orphans.
cgroupRoot: /$PREFIX-node-$z
cgroupsPerQOS: true
# This machine has cgroup v1 (with a v2 'unified' mount); 1.35+ refuse v1 unless told.
failCgroupV1: false
failSwapOn: false
# No KUBE-FIREWALL / canary chains in the host's iptables.
makeIPTablesUtilChains: false
podLogsDir: $D/pod-logs
volumePluginDir: $D/volume-plugins
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$DNS_IP]
# Pods never inherit the host's resolver (an address beyond this machine): dnsPolicy Default gets none.
resolvConf: ""
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
# All three kubelets see the whole machine; keep evictions for real trouble only.
evictionHard:
  memory.available: 200Mi
  nodefs.available: 5%
  imagefs.available: 5%
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
serializeImagePulls: false
EOF
done

cat >"$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $CONF/kube-proxy.kubeconfig
mode: iptables
# One kube-proxy serves the one network namespace all nodes share.
hostnameOverride: node-a
clusterCIDR: $CLUSTER_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
# Leave the host's conntrack table size and timeouts, and route_localnet, as they are.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  localhostNodePorts: false
EOF

# render <manifest>: scripts/kube/manifests/<manifest> with the @...@ values filled in, into conf/.
render() {
    sed -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" -e "s|@STORAGE@|$STORAGE|g" \
        -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@VALKEY_IMAGE@|$VALKEY_IMAGE|g" \
        -e "s|@LOCAL_PATH_PROVISIONER_IMAGE@|$LOCAL_PATH_PROVISIONER_IMAGE|g" \
        "$KUBE_SCRIPTS/manifests/$1" >"$CONF/$1"
    if grep -q '@[A-Z_]*@' "$CONF/$1"; then die "unfilled placeholder in $1"; fi
    echo "$CONF/$1"
}

# --- start ---------------------------------------------------------------------------------------------------------
start_base() {
    # Pod traffic between the nodes' bridges is routed by the host.
    sysctl -qw net.ipv4.ip_forward=1
    start_daemon etcd "$BIN/etcd" --name "$PREFIX" --data-dir "$ETCD_DATA" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster "$PREFIX=http://127.0.0.1:2380"
    local z
    for z in "${ZONES[@]}"; do start_containerd "$z"; done
    wait_for 60 etcd_healthy || die "etcd is not healthy; see $LOGS/etcd.log"
    # Import into the three containerds at once: it is mostly waiting on unpacking.
    local pids=()
    for z in "${ZONES[@]}"; do
        (
            sock=$(containerd_sock "$z")
            wait_for 30 ctr -a "$sock" version || die "containerd of node-$z does not answer; see $LOGS/containerd-$z.log"
            for tar in "$IMAGES"/*.tar; do
                ctr -a "$sock" -n k8s.io images import "$tar" >/dev/null || die "import of $tar into node-$z failed"
            done
        ) &
        pids+=($!)
    done
    local p
    for p in "${pids[@]}"; do wait "$p" || exit 1; done
}

start_control_plane() {
    start_daemon kube-apiserver "$BIN/kube-apiserver" \
        --etcd-servers=http://127.0.0.1:2379 \
        --advertise-address="$NODE_IP" --bind-address="$NODE_IP" --secure-port=6443 \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
        --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
        --service-cluster-ip-range="$SERVICE_CIDR" \
        --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
        --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP --allow-privileged=true
    wait_for 120 kctl get --raw /readyz || die "kube-apiserver is not ready; see $LOGS/kube-apiserver.log"
    # Each controller under its own service account, as the built-in role of system:kube-controller-manager expects.
    start_daemon kube-controller-manager "$BIN/kube-controller-manager" \
        --kubeconfig="$CONF/kube-controller-manager.kubeconfig" --use-service-account-credentials=true \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --service-cluster-ip-range="$SERVICE_CIDR" --leader-elect=false --bind-address=127.0.0.1
    start_daemon kube-scheduler "$BIN/kube-scheduler" \
        --kubeconfig="$CONF/kube-scheduler.kubeconfig" --leader-elect=false --bind-address=127.0.0.1
}

start_nodes() {
    local z ready
    for z in "${ZONES[@]}"; do start_kubelet "$z"; done
    local deadline=$((SECONDS + 180))
    until ready=$(kctl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l) && [[ "$ready" == 3 ]]; do
        ((SECONDS < deadline)) || die "only $ready of 3 nodes Ready after 180 s; see $LOGS/kubelet-*.log"
        sleep 0.5
    done
}

start_addons() {
    start_daemon kube-proxy "$BIN/kube-proxy" --config="$CONF/kube-proxy.yaml"
    mkdir -p "$STORAGE"/node-{a,b,c}
    kctl apply -f "$(render coredns.yaml)" -f "$(render local-path-provisioner.yaml)" >/dev/null
    kctl -n kube-system rollout status deploy/coredns --timeout=180s >/dev/null ||
        die "CoreDNS did not roll out; kubectl -n kube-system describe pod -l k8s-app=kube-dns"
    kctl -n local-path-storage rollout status deploy/local-path-provisioner --timeout=180s >/dev/null ||
        die "local-path-provisioner did not roll out; kubectl -n local-path-storage describe pod"
}

step "etcd + 3 containerd, images imported" start_base
step "control plane" start_control_plane
step "3 kubelets, nodes Ready" start_nodes
step "kube-proxy, CoreDNS, local-path-provisioner" start_addons

kctl get nodes -L topology.kubernetes.io/zone
say "up in $(seconds_since "$t_all") s"
say "export KUBECONFIG=$KUBECONFIG_FILE   kubectl: $KUBECTL"
