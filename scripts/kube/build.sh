#!/usr/bin/env bash
# Builds what the local Kubernetes cluster needs into .kube-local/ (git-ignored), skipping what is already built:
#   bin/      kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl, kube-proxy (v1.34.4),
#             etcd, coredns, local-path-provisioner, pause: all from the Go module proxy through the wrapper
#             modules in modules/ (and pause/), with -mod=readonly so the committed go.sum decides every byte
#   images/   docker-archive tarballs: pause, coredns, local-path-provisioner (scratch + one static binary) and
#             localhost/valkey:8.0.1 (Debian bookworm minbase + valkey-server/valkey-tools from bookworm-backports)
# and installs the Debian packages the cluster runs on when they are missing (as root).
#
# Usage: bash scripts/kube/build.sh      (root; up.sh runs it too)
# A second run is a no-op in seconds: each binary and image has a stamp (version, Go version, hash of its inputs).
# Environment: KUBE_GO_PARALLELISM (default 2: the machines have 2 shared cores).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GO_PARALLELISM="${KUBE_GO_PARALLELISM:-2}"
# Bumped when the way images are packed changes, so old tarballs are rebuilt.
IMAGE_RECIPE=1
started_all=$(now_ms)

[[ "$(id -u)" == 0 ]] || die "run as root: the packages, debootstrap and the image root filesystems need it."
mkdir -p "$BIN" "$STAMPS" "$IMAGES" "$ROOTFS"

# One build at a time: two runs writing the same binaries or root filesystem would race.
exec 9>"$KL/.build.lock"
flock 9

# --- 1. Debian packages --------------------------------------------------------------------------------------
# containerd + runc run the pods, the CNI plugins wire them, umoci + skopeo pack images, debootstrap makes the
# Valkey image's Debian, iptables/conntrack serve kube-proxy, openssl makes the PKI.
PACKAGES=(containerd runc containernetworking-plugins umoci skopeo debootstrap iptables conntrack openssl)
missing=()
for pkg in "${PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's containerd package enables a system containerd; the cluster runs its own, one per node, and
    # needs nothing from that one.
    if [[ " ${missing[*]} " == *" containerd "* ]] && command -v systemctl >/dev/null 2>&1 &&
        systemctl is-active --quiet containerd 2>/dev/null; then
        systemctl disable --now containerd >/dev/null 2>&1 || true
    fi
fi

# --- 2. Go binaries ------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go >= 1.26 (etcd's go.mod needs it)."
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
GO_VERSION=$(go env GOVERSION)

# The wrapper modules must require exactly the versions in versions.env.
requires() { # <module dir> <module path> <version>
    grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2[[:space:]]+$3([[:space:]]|$)" "$KUBE_SCRIPTS/modules/$1/go.mod" ||
        die "modules/$1/go.mod does not require $2 $3 (versions.env); edit it and run 'go mod tidy' there."
}
requires kubernetes k8s.io/kubernetes "v$KUBERNETES_VERSION"
requires etcd go.etcd.io/etcd/server/v3 "v$ETCD_VERSION"
requires coredns github.com/coredns/coredns "v$COREDNS_VERSION"
requires local-path-provisioner github.com/rancher/local-path-provisioner "v$LOCAL_PATH_PROVISIONER_VERSION"
grep -q "k8s.io/api => k8s.io/api v0.${KUBERNETES_VERSION#1.}\$" "$KUBE_SCRIPTS/modules/kubernetes/go.mod" ||
    die "modules/kubernetes/go.mod must replace the staging modules with v0.${KUBERNETES_VERSION#1.}"

# hash_files <file...>: one sha256 over the files' contents.
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }

# build_go <name> <module dir> <version> <package> [ldflags]: builds <package> in <module dir> into bin/<name>,
# unless bin/<name> was built from the same inputs.
build_go() {
    local name=$1 dir=$2 version=$3 pkg=$4 ldflags="-s -w ${5:-}" key t0
    # go.sum is absent where a module has no dependencies (pause)
    key="$version $GO_VERSION $(hash_files "$dir/go.mod" $(ls "$dir/go.sum" 2>/dev/null) "$dir"/*.go) $(printf '%s' "$ldflags" | sha256sum | cut -c1-16)"
    if [[ -x "$BIN/$name" ]] && stamp_ok "$name" "$key"; then
        say "$name $version: up to date"
        return
    fi
    say "$name $version: building (a cold build takes minutes on 2 cores)"
    t0=$(now_ms)
    (cd "$dir" && nice -n 10 go build -p "$GO_PARALLELISM" -trimpath -ldflags "$ldflags" -o "$BIN/$name.tmp" "$pkg")
    # A rename, so a running cluster keeps its binary's inode and a failed build never leaves half a file.
    mv -f "$BIN/$name.tmp" "$BIN/$name"
    printf '%s' "$key" >"$STAMPS/$name"
    say "$name $version: built in $(seconds_since "$t0") s"
}

# Kubernetes reports the version the linker sets, not the module's: without these, `kubectl version` says v0.0.0.
# The build date is fixed so two builds of the same inputs are byte-identical.
K8S_LDFLAGS=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS+=" -X $p.gitVersion=v$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
    K8S_LDFLAGS+=" -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000"
    K8S_LDFLAGS+=" -X $p.buildDate=1970-01-01T00:00:00Z"
done
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl kube-proxy; do
    build_go "$cmd" "$KUBE_SCRIPTS/modules/kubernetes" "v$KUBERNETES_VERSION" "k8s.io/kubernetes/cmd/$cmd" "$K8S_LDFLAGS"
done
build_go etcd "$KUBE_SCRIPTS/modules/etcd" "v$ETCD_VERSION" go.etcd.io/etcd/server/v3
build_go coredns "$KUBE_SCRIPTS/modules/coredns" "v$COREDNS_VERSION" github.com/coredns/coredns
build_go local-path-provisioner "$KUBE_SCRIPTS/modules/local-path-provisioner" "v$LOCAL_PATH_PROVISIONER_VERSION" \
    github.com/rancher/local-path-provisioner "-X main.VERSION=v$LOCAL_PATH_PROVISIONER_VERSION"
build_go pause "$KUBE_SCRIPTS/pause" "${PAUSE_IMAGE##*:}" .

# --- 3. Images -----------------------------------------------------------------------------------------------
# No docker and no registry: a root filesystem folder becomes an OCI layout (umoci), then a docker-archive
# tarball (skopeo) that up.sh imports into each node's containerd.
oci_tmp=""
cleanup() {
    [[ -n "$oci_tmp" ]] && rm -rf "$oci_tmp"
    # debootstrap and chroot mount proc/sys/dev inside the root filesystem; a failure must not leave them.
    awk -v p="$ROOTFS/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}
trap cleanup EXIT

# pack_image <name> <rootfs> <ref> <workdir> <entrypoint...>: images/<name>.tar.
pack_image() {
    local name=$1 rootfs=$2 ref=$3 workdir=$4
    shift 4
    local args=() a
    for a in "$@"; do args+=(--config.entrypoint "$a"); done
    oci_tmp=$(mktemp -d "$IMAGES/.oci.XXXXXX")
    umoci init --layout "$oci_tmp/layout"
    umoci new --image "$oci_tmp/layout:image"
    # --rootless is not needed: we are root, and the owners (root, the Valkey image's uid 999) must be kept.
    umoci insert --image "$oci_tmp/layout:image" "$rootfs" / >/dev/null
    umoci config --image "$oci_tmp/layout:image" "${args[@]}" --config.workingdir "$workdir" \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --os linux --architecture amd64
    rm -f "$IMAGES/$name.tar.tmp"
    skopeo copy --quiet "oci:$oci_tmp/layout:image" "docker-archive:$IMAGES/$name.tar.tmp:$ref"
    mv -f "$IMAGES/$name.tar.tmp" "$IMAGES/$name.tar"
    rm -rf "$oci_tmp"
    oci_tmp=""
}

# scratch_image <name> <ref> <binary>: an image holding one static binary at /<binary> (and a /tmp).
scratch_image() {
    local name=$1 ref=$2 binary=$3 key rootfs="$ROOTFS/$1" t0
    key="$IMAGE_RECIPE $ref $(hash_files "$BIN/$binary")"
    if [[ -f "$IMAGES/$name.tar" ]] && stamp_ok "image-$name" "$key"; then
        say "image $ref: up to date"
        return
    fi
    t0=$(now_ms)
    rm -rf "$rootfs" && mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"
    cp "$BIN/$binary" "$rootfs/$binary"
    pack_image "$name" "$rootfs" "$ref" / "/$binary"
    printf '%s' "$key" >"$STAMPS/image-$name"
    say "image $ref: packed in $(seconds_since "$t0") s ($(du -h "$IMAGES/$name.tar" | cut -f1))"
}

scratch_image pause "$PAUSE_IMAGE" pause
scratch_image coredns "$COREDNS_IMAGE" coredns
scratch_image local-path-provisioner "$LOCAL_PATH_PROVISIONER_IMAGE" local-path-provisioner

# The Valkey image: a real Debian (the pods' probe scripts need sh, grep, sed, awk and valkey-cli). Its root
# filesystem is kept in rootfs/valkey and only made again when this recipe changes.
valkey_rootfs() {
    local rootfs="$ROOTFS/valkey" mirror key t0 version
    # The mirror apt already uses for the main suite (this machine reaches no other).
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list |
        grep -v -e security -e nodesource -e google | awk '{print $2}' | head -1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    key="$IMAGE_RECIPE bookworm minbase bookworm-backports valkey-server valkey-tools $mirror"
    if [[ -x "$rootfs/usr/bin/valkey-server" ]] && stamp_ok rootfs-valkey "$key"; then
        return
    fi
    say "valkey root filesystem: debootstrap bookworm from $mirror (a minute or two)"
    t0=$(now_ms)
    rm -rf "$rootfs.tmp" "$rootfs"
    nice -n 10 debootstrap --variant=minbase bookworm "$rootfs.tmp" "$mirror" >"$KL/debootstrap.log" 2>&1 ||
        die "debootstrap failed; see $KL/debootstrap.log"
    printf 'deb %s bookworm-backports main\n' "$mirror" >"$rootfs.tmp/etc/apt/sources.list.d/bookworm-backports.list"
    # Package scripts must not try to start services inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs.tmp/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs.tmp/usr/sbin/policy-rc.d"
    chroot "$rootfs.tmp" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$KL/debootstrap.log" 2>&1
    chroot "$rootfs.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports valkey-server valkey-tools >>"$KL/debootstrap.log" 2>&1 ||
        die "apt-get install valkey-server valkey-tools in the chroot failed; see $KL/debootstrap.log"
    chroot "$rootfs.tmp" apt-get clean
    rm -f "$rootfs.tmp/usr/sbin/policy-rc.d"
    rm -rf "$rootfs.tmp"/var/lib/apt/lists/* "$rootfs.tmp"/var/cache/apt/*.bin "$rootfs.tmp"/var/log/* \
        "$rootfs.tmp"/usr/share/doc/* "$rootfs.tmp"/usr/share/man/* "$rootfs.tmp"/usr/share/info/*
    # /data is where pods mount their volume; owned by the uid/gid pods run as, for an image used without one.
    mkdir -p "$rootfs.tmp/data"
    chown 999:999 "$rootfs.tmp/data"
    version=$(chroot "$rootfs.tmp" dpkg-query -W -f='${Version}' valkey-server)
    # 8.0.1+dfsg1-1~bpo12+1 -> 8.0.1: the image tag must name the server it holds.
    version=${version#*:}
    version=${version%%[+~-]*}
    [[ "$version" == "${VALKEY_IMAGE##*:}" ]] ||
        die "bookworm-backports has valkey-server $version, versions.env names $VALKEY_IMAGE; update VALKEY_IMAGE."
    mv "$rootfs.tmp" "$rootfs"
    printf '%s' "$key" >"$STAMPS/rootfs-valkey"
    say "valkey root filesystem: valkey-server $version in $(seconds_since "$t0") s"
}
valkey_rootfs
key="$IMAGE_RECIPE $VALKEY_IMAGE $(cat "$STAMPS/rootfs-valkey")"
if [[ -f "$IMAGES/valkey.tar" ]] && stamp_ok image-valkey "$key"; then
    say "image $VALKEY_IMAGE: up to date"
else
    t0=$(now_ms)
    pack_image valkey "$ROOTFS/valkey" "$VALKEY_IMAGE" /data valkey-server
    printf '%s' "$key" >"$STAMPS/image-valkey"
    say "image $VALKEY_IMAGE: packed in $(seconds_since "$t0") s ($(du -h "$IMAGES/valkey.tar" | cut -f1))"
fi

say "build done in $(seconds_since "$started_all") s"
