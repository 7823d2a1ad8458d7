#!/usr/bin/env bash
# Installs the servers the local stack, the tests and the benchmarks run on, from Debian's packages:
#   valkey-server, valkey-tools  8.x from bookworm-backports (the product's server)
#   redis-server, redis-tools    7.0 from bookworm (the second server the bootstrap suite also passes)
# Adds bookworm-backports to apt's sources when it is absent. A no-op when everything is installed.
#
# Usage: bash scripts/install-servers.sh            (as root; prints the exact commands otherwise)
#        INSTALL_SERVERS_SKIP_REDIS=1 ...             valkey only (what the local stack needs)
set -euo pipefail

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

want=(valkey-server valkey-tools)
[[ "${INSTALL_SERVERS_SKIP_REDIS:-}" == 1 ]] || want+=(redis-server redis-tools)

missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    say "servers installed: $(valkey-server --version | cut -d' ' -f1-3)$([[ " ${want[*]} " == *" redis-server "* ]] && printf ', %s' "$(redis-server --version | cut -d' ' -f1-3)")"
    exit 0
fi

# bookworm-backports carries Valkey 8 for Debian 12 (bookworm itself has none).
codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
[[ -n "$codename" ]] || die "cannot tell the Debian release from /etc/os-release; install ${missing[*]} by hand."
backports_line="deb http://deb.debian.org/debian ${codename}-backports main"
has_backports() {
    grep -rhsE "^[^#]*(${codename}-backports)" /etc/apt/sources.list /etc/apt/sources.list.d/ >/dev/null 2>&1
}

if [[ "$(id -u)" != 0 ]]; then
    {
        printf 'ERROR: %s missing and this script is not root. Run as root:\n' "${missing[*]}"
        has_backports || printf "  echo '%s' > /etc/apt/sources.list.d/%s-backports.list\n" "$backports_line" "$codename"
        printf '  apt-get update\n  apt-get install -y -t %s-backports %s\n' "$codename" "${missing[*]}"
    } >&2
    exit 1
fi

if ! has_backports; then
    # Reuse the mirror apt already uses for the main suite, so the backports come from the same place.
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list |
        grep -v -e security -e nodesource -e google | awk '{print $2}' | head -1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    say "adding ${codename}-backports (${mirror}) to apt's sources"
    printf 'deb %s %s-backports main\n' "$mirror" "$codename" >"/etc/apt/sources.list.d/${codename}-backports.list"
fi

export DEBIAN_FRONTEND=noninteractive
say "apt-get update"
apt-get update -qq
say "apt-get install ${missing[*]}"
# -t makes backports the preferred suite for these packages only (redis-* stay on bookworm's 7.0).
apt-get install -y -qq -t "${codename}-backports" --no-install-recommends "${missing[@]}" >/dev/null
# The packages start system services on their default ports; our tests and stacks run their own servers.
for svc in valkey-server redis-server; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
done
say "servers installed: $(valkey-server --version | cut -d' ' -f1-3)"
