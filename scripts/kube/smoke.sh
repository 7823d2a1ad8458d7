#!/usr/bin/env bash
# Proves the running local cluster does what the Valkey platform needs, in a throw-away namespace:
#   one StatefulSet per zone (1 replica, localhost/valkey:8.0.1, `valkey-server --port 6379` as uid/gid 999 with a
#   read-only root filesystem, a `local-path` PVC at /data, required node affinity on the zone label), then:
#   pods Running on the right nodes, PVCs Bound, port-forward + valkey-cli PING, kubectl exec, cluster DNS of a
#   pod's name through the headless Service, INFO server's valkey_version. With --zone-drill <zone>: a key written
#   in that zone, zone.sh stop, the node going NotReady, zone.sh start, the pod running again with the key.
#   The namespace (and so the volumes) is deleted at the end.
#
# Usage: bash scripts/kube/smoke.sh [--zone-drill zone-b] [--keep]      (root; the cluster up)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

drill=""
keep=0
while (($#)); do
    case "$1" in
    --zone-drill) drill=$(zone_of "${2:-}") || die "--zone-drill needs zone-a|zone-b|zone-c"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) die "usage: $0 [--zone-drill zone-a|zone-b|zone-c] [--keep]" ;;
    esac
done
[[ "$(id -u)" == 0 ]] || die "run as root (zone.sh stops daemons)."
kctl get --raw /readyz >/dev/null 2>&1 || die "the cluster is not up: bash scripts/kube/up.sh"
command -v valkey-cli >/dev/null 2>&1 || die "valkey-cli is missing on the host: bash scripts/install-servers.sh"

NS=klocal-smoke
PF_PORT=16379
VERSION=${VALKEY_IMAGE##*:}
failed=0
check() { # <what> <command...>: runs the command, prints ok/FAILED and what
    local what=$1
    shift
    if "$@"; then echo "ok      $what"; else echo "FAILED  $what"; failed=1; fi
}
show() { # <command...>: echoes and runs
    echo "+ kubectl ${*}"
    kctl "$@"
}
pf_pid=""
cleanup() {
    [[ -n "$pf_pid" ]] && kill "$pf_pid" 2>/dev/null
    if ((!keep)); then
        kctl delete namespace "$NS" --wait=true --timeout=120s >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

say "namespace $NS: headless Service kv, StatefulSets kv-zone-a/b/c"
kctl delete namespace "$NS" --wait=true --timeout=120s >/dev/null 2>&1 || true
{
    cat <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: Service
metadata: {name: kv, namespace: $NS}
spec:
  clusterIP: None
  selector: {app: kv}
  ports: [{name: valkey, port: 6379}]
EOF
    for z in "${ZONES[@]}"; do
        cat <<EOF
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv-zone-$z, namespace: $NS}
spec:
  serviceName: kv
  replicas: 1
  selector: {matchLabels: {app: kv, zone: zone-$z}}
  template:
    metadata: {labels: {app: kv, zone: zone-$z}}
    spec:
      # as the platform's pods run
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        runAsGroup: 999
        fsGroup: 999
        seccompProfile: {type: RuntimeDefault}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
              - matchExpressions:
                  - {key: topology.kubernetes.io/zone, operator: In, values: [zone-$z]}
      containers:
        - name: valkey
          image: $VALKEY_IMAGE
          imagePullPolicy: Never
          command: [valkey-server, --port, "6379"]
          ports: [{name: valkey, containerPort: 6379}]
          # the same tools the platform's probe scripts use: sh, valkey-cli, grep
          readinessProbe:
            exec: {command: [sh, -c, "valkey-cli ping | grep -q PONG"]}
            periodSeconds: 2
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: local-path
        resources: {requests: {storage: 64Mi}}
EOF
    done
} | kctl apply -f - >/dev/null
t0=$(now_ms)
for z in "${ZONES[@]}"; do kctl -n "$NS" rollout status "sts/kv-zone-$z" --timeout=180s >/dev/null; done
say "3 StatefulSets rolled out in $(seconds_since "$t0") s"

show get nodes -L topology.kubernetes.io/zone
show -n "$NS" get pods,pvc -o wide
for z in "${ZONES[@]}"; do
    pod=kv-zone-$z-0
    check "$pod runs on node-$z" [ "$(kctl -n "$NS" get pod "$pod" -o jsonpath='{.spec.nodeName}')" == "node-$z" ]
    check "data-$pod is Bound" [ "$(kctl -n "$NS" get pvc "data-$pod" -o jsonpath='{.status.phase}')" == Bound ]
done

say "port-forward + valkey-cli on the host"
"$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" -n "$NS" port-forward pod/kv-zone-a-0 "$PF_PORT:6379" >/dev/null 2>&1 &
pf_pid=$!
wait_for 20 valkey-cli -p "$PF_PORT" ping || true
echo "+ valkey-cli -p $PF_PORT ping"
pong=$(valkey-cli -p "$PF_PORT" ping 2>&1 || true)
echo "$pong"
check "PONG through kubectl port-forward" [ "$pong" == PONG ]
kill "$pf_pid" 2>/dev/null
wait "$pf_pid" 2>/dev/null || true
pf_pid=""

say "kubectl exec"
echo "+ kubectl exec kv-zone-b-0 -- valkey-cli ping"
pong=$(kctl -n "$NS" exec kv-zone-b-0 -- valkey-cli ping)
echo "$pong"
check "PONG through kubectl exec" [ "$pong" == PONG ]
echo "+ kubectl exec kv-zone-b-0 -- id"
who=$(kctl -n "$NS" exec kv-zone-b-0 -- id)
echo "$who"
check "the server runs as uid/gid 999" grep -q 'uid=999.*gid=999' <<<"$who"
check "the root filesystem is read-only" bash -c "! '$KUBECTL' --kubeconfig '$KUBECONFIG_FILE' -n $NS exec kv-zone-b-0 -- touch /probe 2>/dev/null"
echo "+ kubectl exec kv-zone-b-0 -- valkey-cli info server | grep -E 'valkey_version|executable|config_file'"
info=$(kctl -n "$NS" exec kv-zone-b-0 -- valkey-cli info server | tr -d '\r')
grep -E '^(valkey_version|executable|config_file):' <<<"$info"
check "INFO server says valkey_version:$VERSION" grep -qx "valkey_version:$VERSION" <<<"$info"

say "cluster DNS from inside a pod"
for z in b c; do
    name=kv-zone-$z-0.kv.$NS.svc.$CLUSTER_DOMAIN
    ip=$(kctl -n "$NS" get pod "kv-zone-$z-0" -o jsonpath='{.status.podIP}')
    echo "+ kubectl exec kv-zone-a-0 -- getent hosts $name"
    got=$(kctl -n "$NS" exec kv-zone-a-0 -- getent hosts "$name" || true)
    echo "$got"
    check "$name resolves to the pod's IP $ip" [ "$(awk '{print $1}' <<<"$got")" == "$ip" ]
done
echo "+ kubectl exec kv-zone-a-0 -- getent hosts kubernetes.default.svc.$CLUSTER_DOMAIN"
got=$(kctl -n "$NS" exec kv-zone-a-0 -- getent hosts "kubernetes.default.svc.$CLUSTER_DOMAIN" || true)
echo "$got"
check "the kubernetes Service resolves to $API_SERVICE_IP" [ "$(awk '{print $1}' <<<"$got")" == "$API_SERVICE_IP" ]
echo "+ kubectl exec kv-zone-c-0 -- valkey-cli -h kv-zone-a-0.kv ping"
pong=$(kctl -n "$NS" exec kv-zone-c-0 -- valkey-cli -h kv-zone-a-0.kv ping || true)
echo "$pong" | cut -c1-100
# `valkey-server --port 6379` keeps protected mode: a client from another address gets DENIED, which is the
# server answering, so the path pod -> DNS -> other node's pod works.
check "pod to pod across nodes by DNS name (PONG, or protected mode's DENIED)" grep -qE '^(PONG|DENIED)' <<<"$pong"

if [[ -n "$drill" ]]; then
    pod=kv-zone-$drill-0
    value="written-before-the-outage-$(date +%s)"
    say "zone drill: zone-$drill ($pod)"
    kctl -n "$NS" exec "$pod" -- valkey-cli set drill "$value" >/dev/null
    # A snapshot on the volume: the outage kills the server with SIGKILL, with no chance to save.
    kctl -n "$NS" exec "$pod" -- valkey-cli save >/dev/null
    restarts=$(kctl -n "$NS" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}')
    echo "+ zone.sh stop zone-$drill"
    bash "$KUBE_SCRIPTS/zone.sh" stop "zone-$drill"
    t0=$(now_ms)
    wait_for 120 eval '! node_ready "$drill"'
    say "node-$drill NotReady after $(seconds_since "$t0") s"
    show get nodes -L topology.kubernetes.io/zone
    echo "+ zone.sh start zone-$drill"
    bash "$KUBE_SCRIPTS/zone.sh" start "zone-$drill"
    t0=$(now_ms)
    running_again() {
        [[ "$(kctl -n "$NS" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}')" -gt "$restarts" ]] &&
            [[ "$(kctl -n "$NS" get pod "$pod" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
    }
    wait_for 120 running_again || true
    say "$pod restarted and Ready $(seconds_since "$t0") s after the start"
    show -n "$NS" get pods -o wide
    got=$(kctl -n "$NS" exec "$pod" -- valkey-cli get drill || true)
    echo "+ kubectl exec $pod -- valkey-cli get drill"
    echo "$got"
    check "$pod kept its data across the outage" [ "$got" == "$value" ]
fi

if ((failed)); then
    say "smoke test FAILED"
    exit 1
fi
say "smoke test passed$([[ -n "$drill" ]] && echo " (with the zone-$drill drill)"); deleting namespace $NS"
