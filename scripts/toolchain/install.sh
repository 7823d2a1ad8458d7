#!/usr/bin/env bash
# Builds the Pulumi engine this project runs on into .toolchain/bin (git-ignored), from the Go module proxy only:
#   pulumi                          the CLI, from engine/ (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
#   pulumi-language-nodejs          the Node language host, from language-nodejs/
#   pulumi-resource-pulumi-nodejs   link to the dynamic-provider host shipped in node_modules/@pulumi/pulumi
#   pulumi-resource-kubernetes      the Kubernetes provider plugin, from kubernetes/, also installed in PULUMI_HOME
#   promtool                        Prometheus' rule checker, from promtool/ (the observability tests run it)
#
# Usage: bash scripts/toolchain/install.sh            (then: . scripts/toolchain/env.sh)
#        bash scripts/toolchain/install.sh promtool   builds only the named binaries (e.g. for a job that runs the
#                                                     unit tests but not the engine)
# Re-running is a no-op once built: each binary has a stamp of its version, go.mod/go.sum and Go version.
# Environment: Go builds run with -p 2 (TOOLCHAIN_GO_PARALLELISM overrides): the machines have 2 shared cores.
set -euo pipefail

TOOLCHAIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$TOOLCHAIN_DIR/../.." && pwd)
BIN="$REPO_ROOT/.toolchain/bin"
STAMPS="$REPO_ROOT/.toolchain/stamps"
GO_PARALLELISM="${TOOLCHAIN_GO_PARALLELISM:-2}"

# shellcheck source=versions.env
. "$TOOLCHAIN_DIR/versions.env"
# shellcheck source=env.sh
. "$TOOLCHAIN_DIR/env.sh"

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# The binaries to build: those named on the command line, or all.
ALL_TOOLS=(pulumi pulumi-resource-pulumi-nodejs pulumi-resource-kubernetes promtool)
TOOLS=("$@")
for t in "${TOOLS[@]}"; do
    [[ " ${ALL_TOOLS[*]} " == *" $t "* ]] || die "unknown binary '$t'; name any of: ${ALL_TOOLS[*]}"
done
wanted() {
    [[ ${#TOOLS[@]} -eq 0 || " ${TOOLS[*]} " == *" $1 "* ]]
}

mkdir -p "$BIN" "$STAMPS" "$PULUMI_HOME"

# One install at a time: two shells building into the same folder would race on the binaries.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$REPO_ROOT/.toolchain/.install.lock"
    flock 9
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH; install Go >= 1.25.11 (the CLI's go.mod needs it)."

# The wrapper modules must require exactly the versions pinned in versions.env.
requires_version() { # <go.mod> <module path> <version>
    grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2[[:space:]]+v$3([[:space:]]|$)" "$1" ||
        die "$1 does not require $2 v$3 (versions.env); update go.mod and run 'go mod tidy' there."
}
requires_version "$TOOLCHAIN_DIR/engine/go.mod" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
requires_version "$TOOLCHAIN_DIR/engine/go.mod" github.com/pulumi/pulumi/sdk/v3 "$PULUMI_VERSION"
requires_version "$TOOLCHAIN_DIR/language-nodejs/go.mod" github.com/pulumi/pulumi/sdk/v3 "$PULUMI_LANGUAGE_NODEJS_VERSION"
requires_version "$TOOLCHAIN_DIR/promtool/go.mod" github.com/prometheus/prometheus "$PROMTOOL_MODULE_VERSION"

# stamp_key <module dir> <version>: what a build depends on; a change forces a rebuild.
stamp_key() {
    printf '%s %s %s\n' "$2" "$(go env GOVERSION)" "$(cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -d' ' -f1)"
}

# build_go <name> <module dir> <version> <package> [<version variable>]: builds <package> from the wrapper module
# into $BIN/<name>, with <version variable> (default: the Pulumi SDK's) set to v<version> by -X.
build_go() {
    local name=$1 dir=$2 version=$3 pkg=$4 version_var=${5:-github.com/pulumi/pulumi/sdk/v3/go/common/version.Version}
    local key started
    key=$(stamp_key "$dir" "$version")
    if [[ -x "$BIN/$name" && -f "$STAMPS/$name" && "$(cat "$STAMPS/$name")" == "$key" ]]; then
        say "$name v$version: up to date"
        return
    fi
    say "$name v$version: building from $(basename "$dir")/ (downloads modules on a cold cache; minutes on 2 cores)"
    started=$SECONDS
    # -mod=readonly: the committed go.sum must already cover the build; the proxy is only asked for zips.
    (cd "$dir" && GOFLAGS="-mod=readonly -buildvcs=false" go build -p "$GO_PARALLELISM" -trimpath \
        -ldflags "-s -w -X $version_var=v$version" \
        -o "$BIN/$name.tmp" "$pkg")
    mv -f "$BIN/$name.tmp" "$BIN/$name"
    printf '%s' "$key" >"$STAMPS/$name"
    say "$name v$version: built in $((SECONDS - started)) s"
}

# 1. The CLI and the Node language host: a pulumi of the pinned version already on PATH (an official install,
#    which ships its language hosts beside it) is used as it is.
path_without_toolchain=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd: -)
system_pulumi=$(PATH="$path_without_toolchain" command -v pulumi || true)
if ! wanted pulumi; then
    :
elif [[ -n "$system_pulumi" ]] &&
    [[ "$("$system_pulumi" version 2>/dev/null)" == "v$PULUMI_VERSION" ]] &&
    [[ -x "$(dirname "$system_pulumi")/pulumi-language-nodejs" ]]; then
    say "pulumi v$PULUMI_VERSION: using $system_pulumi (already on PATH)"
    rm -f "$BIN/pulumi" "$BIN/pulumi-language-nodejs" "$STAMPS/pulumi" "$STAMPS/pulumi-language-nodejs"
else
    build_go pulumi "$TOOLCHAIN_DIR/engine" "$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    build_go pulumi-language-nodejs "$TOOLCHAIN_DIR/language-nodejs" "$PULUMI_LANGUAGE_NODEJS_VERSION" \
        github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
    [[ "$("$BIN/pulumi" version)" == "v$PULUMI_VERSION" ]] ||
        die "$BIN/pulumi reports $("$BIN/pulumi" version), expected v$PULUMI_VERSION"
fi

# 2. The dynamic-provider host ships in the npm package; link it so the CLI finds it beside itself.
sdk_dir="$REPO_ROOT/node_modules/@pulumi/pulumi"
if ! wanted pulumi-resource-pulumi-nodejs; then
    :
elif [[ -f "$sdk_dir/pulumi-resource-pulumi-nodejs" ]]; then
    ln -sfn ../../node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs "$BIN/pulumi-resource-pulumi-nodejs"
    sdk_version=$(node -p "require('$sdk_dir/package.json').version" 2>/dev/null || echo unknown)
    [[ "$sdk_version" == "$PULUMI_NODEJS_SDK_VERSION" ]] ||
        warn "node_modules has @pulumi/pulumi $sdk_version, versions.env pins $PULUMI_NODEJS_SDK_VERSION"
    say "pulumi-resource-pulumi-nodejs: linked from node_modules/@pulumi/pulumi ($sdk_version)"
else
    warn "node_modules/@pulumi/pulumi is missing: run 'npm ci' and re-run this script for pulumi-resource-pulumi-nodejs"
fi

# 3. The Kubernetes provider plugin, built from kubernetes/ (github.com/pulumi/pulumi-kubernetes/provider/v4 at the
#    pseudo-version of its release tag) and installed into PULUMI_HOME. Its main embeds two files its module zip
#    lacks; they are generated here from the zip's schema.json (with the version set) and terraform-mapping.json.
k8s_dir="$TOOLCHAIN_DIR/kubernetes"
k8s_plugin_dir="$PULUMI_HOME/plugins/resource-kubernetes-v$KUBERNETES_PROVIDER_VERSION"
k8s_key=$(stamp_key "$k8s_dir" "$KUBERNETES_PROVIDER_VERSION")
if ! wanted pulumi-resource-kubernetes; then
    :
elif [[ -x "$k8s_plugin_dir/pulumi-resource-kubernetes" && -x "$BIN/pulumi-resource-kubernetes" &&
    "$(cat "$STAMPS/pulumi-resource-kubernetes" 2>/dev/null)" == "$k8s_key" ]]; then
    say "kubernetes provider v$KUBERNETES_PROVIDER_VERSION: up to date"
else
    started=$SECONDS
    say "kubernetes provider v$KUBERNETES_PROVIDER_VERSION: building from kubernetes/ (minutes on 2 cores)"
    k8s_module=github.com/pulumi/pulumi-kubernetes/provider/v4
    k8s_src=$(cd "$k8s_dir" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' "$k8s_module")
    if [[ -z "$k8s_src" || ! -d "$k8s_src" ]]; then
        (cd "$k8s_dir" && GOFLAGS=-mod=readonly go mod download "$k8s_module")
        k8s_src=$(cd "$k8s_dir" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' "$k8s_module")
    fi
    node -e '
        const fs = require("fs");
        const [src, out, version] = process.argv.slice(1);
        const schema = JSON.parse(fs.readFileSync(`${src}/schema.json`, "utf8"));
        schema.version = version;
        fs.writeFileSync(`${out}/schema-embed.json`, JSON.stringify(schema));
        const mapping = JSON.parse(fs.readFileSync(`${src}/terraform-mapping.json`, "utf8"));
        fs.writeFileSync(`${out}/terraform-mapping-embed.json`, JSON.stringify(mapping));
    ' "$k8s_src/cmd/pulumi-resource-kubernetes" "$k8s_dir" "$KUBERNETES_PROVIDER_VERSION"
    (cd "$k8s_dir" && GOFLAGS="-mod=readonly -buildvcs=false" go build -p "$GO_PARALLELISM" -trimpath \
        -ldflags "-s -w -X $k8s_module/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION" \
        -o "$BIN/pulumi-resource-kubernetes.tmp" .)
    mv -f "$BIN/pulumi-resource-kubernetes.tmp" "$BIN/pulumi-resource-kubernetes"
    # The plugin cache of the CLI: found there by exact version (PULUMI_IGNORE_AMBIENT_PLUGINS keeps PATH out).
    rm -rf "$k8s_plugin_dir" "$k8s_plugin_dir.lock"
    pulumi plugin install resource kubernetes "v$KUBERNETES_PROVIDER_VERSION" \
        --file "$BIN/pulumi-resource-kubernetes" >/dev/null
    printf '%s' "$k8s_key" >"$STAMPS/pulumi-resource-kubernetes"
    say "kubernetes provider v$KUBERNETES_PROVIDER_VERSION: built and installed in $((SECONDS - started)) s"
fi

# 4. promtool (github.com/prometheus/prometheus/cmd/promtool), for the observability tests: `check rules` and
#    `test rules` on the rendered PrometheusRule, and a PromQL parse of every dashboard query (issue 14).
if wanted promtool; then
    build_go promtool "$TOOLCHAIN_DIR/promtool" "$PROMTOOL_MODULE_VERSION" github.com/prometheus/prometheus/cmd/promtool \
        github.com/prometheus/common/version.Version
    "$BIN/promtool" --version >/dev/null || die "$BIN/promtool does not run"
fi

say "done; '. scripts/toolchain/env.sh' puts .toolchain/bin first on PATH:"
for f in pulumi pulumi-language-nodejs pulumi-resource-pulumi-nodejs pulumi-resource-kubernetes promtool; do
    [[ -e "$BIN/$f" ]] && printf '    %s\n' ".toolchain/bin/$f"
done
