# shellcheck shell=bash
# Sets up one environment for the Pulumi engine that scripts/toolchain/install.sh builds. Source it from bash:
#   . scripts/toolchain/env.sh
# Everything stays inside the repo (git-ignored): binaries in .toolchain/bin, plugins in .pulumi/home, stacks in
# .pulumi/state. Nothing here downloads anything.

_toolchain_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# .toolchain/bin first, once, however often this file is sourced.
case ":$PATH:" in
*":$_toolchain_root/.toolchain/bin:"*) ;;
*) export PATH="$_toolchain_root/.toolchain/bin:$PATH" ;;
esac

# Plugins (pulumi plugin install ... --file) and the CLI's own files live here, not in ~/.pulumi.
export PULUMI_HOME="$_toolchain_root/.pulumi/home"
# Local stacks: a file backend, so no login and no service.
export PULUMI_BACKEND_URL="file://$_toolchain_root/.pulumi/state"
mkdir -p "$PULUMI_HOME" "$_toolchain_root/.pulumi/state"
# Local stacks use the passphrase secrets provider; an empty passphrase means no prompt. A passphrase the caller
# already chose (or a passphrase file) is kept.
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+x}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE=""
fi
# No network here: skip the update check, and fail fast on a missing plugin instead of hanging on a download.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The language host built here ignores Pulumi.yaml's runtime options, so programs always run through the ts-node
# 7.0.1 vendored in @pulumi/pulumi, which type-checks every file on each run (about 90 s once @pulumi/aws and
# @pulumi/azure-native are imported, 10 s without). `npm run typecheck` does the checking; set this to false to
# have pulumi check too.
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"

unset _toolchain_root
