#!/usr/bin/env bash
# Quick start on a fresh clone: installs what is missing, then brings up the `local` stack (Valkey server
# processes on loopback, formed into a cluster by the slot bootstrap) and prints its endpoints.
#
#   bash scripts/up-local.sh                  # npm ci (when needed), engine build (when needed), pulumi up -s local
#   bash scripts/up-local.sh --skip-preview   # extra arguments go to `pulumi up`
#
# Idempotent: a second run skips npm ci and the engine build, selects the existing stack and finds no changes.
# Environment: VALKEY_FORCE_NPM_CI=1 runs npm ci even when node_modules matches package-lock.json.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=local
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

command -v node >/dev/null 2>&1 || die "node is not on PATH; install Node.js >= 20."
command -v npm >/dev/null 2>&1 || die "npm is not on PATH; it comes with Node.js."

# 1. The server: valkey-server 8 from bookworm-backports (the script stops with the exact commands when it cannot
#    install as this user). A stack that names another server (valkey:local.serverBinary) keeps it.
if ! command -v valkey-server >/dev/null 2>&1; then
    INSTALL_SERVERS_SKIP_REDIS=1 bash "$ROOT/scripts/install-servers.sh"
fi

# 2. npm packages. node_modules is stale when npm's own record of what it installed
#    (node_modules/.package-lock.json) disagrees with package-lock.json, or a package folder is gone.
node_modules_problem() {
    node -e '
        const fs = require("fs");
        const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages ?? {};
        let installed;
        try {
            installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
        } catch {
            console.log("node_modules is missing (or was not installed by npm)");
            process.exit(0);
        }
        for (const [dir, want] of Object.entries(lock)) {
            if (dir === "" || !dir.startsWith("node_modules/")) continue;
            const have = installed[dir];
            // Optional packages for other platforms are in the lock file but never installed.
            if (!have && want.optional) continue;
            if (!have || have.version !== want.version || !fs.existsSync(dir)) {
                console.log(`${dir} is ${have ? have.version : "missing"}, package-lock.json wants ${want.version}`);
                process.exit(0);
            }
        }
        for (const dir of Object.keys(installed)) {
            if (!(dir in lock)) {
                console.log(`${dir} is installed but not in package-lock.json`);
                process.exit(0);
            }
        }
    '
}
problem=$(node_modules_problem)
if [[ -n "$problem" || "${VALKEY_FORCE_NPM_CI:-}" == 1 ]]; then
    say "npm ci (${problem:-VALKEY_FORCE_NPM_CI=1})"
    npm ci --no-audit --no-fund
else
    say "node_modules matches package-lock.json"
fi

# 3. The Pulumi engine (a no-op once built), then its environment: PATH, PULUMI_HOME, a file backend in .pulumi/.
bash "$ROOT/scripts/toolchain/install.sh"
# shellcheck source=toolchain/env.sh
. "$ROOT/scripts/toolchain/env.sh"

# 4. The stack: selected when it exists, created otherwise.
say "pulumi stack select $STACK"
pulumi stack select "$STACK" --create --non-interactive

# 5. Up.
say "pulumi up -s $STACK"
pulumi up -s "$STACK" --yes "$@"

# 6. Where to connect.
say "endpoints of the $STACK stack"
pulumi stack output -s "$STACK" --json | node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d));
    process.stdin.on("end", () => {
        const out = JSON.parse(text);
        const [host, port] = String(out.endpoint ?? "").split(":");
        console.log(`seed:      ${out.endpoint}`);
        console.log(`endpoints: ${(out.endpoints ?? []).join(" ")}`);
        for (const s of out.layout ?? []) {
            console.log(`shard ${s.shard}:   primary ${s.primary}, replicas ${(s.replicas ?? []).join(", ") || "none"}`);
        }
        if (host) console.log(`connect:   redis-cli -c -h ${host} -p ${port}   (valkey-cli works the same)`);
    });
'
