#!/bin/sh
# The pack as an executable analyzer plugin: `pulumi preview --policy-pack policy/analyzer.sh`.
#
# `--policy-pack policy` (the directory) asks the Node.js language host to start the pack (RunPlugin). Released
# Pulumi CLIs ship a host that does; the host our scripts/toolchain builds from Go modules (sdk v3.68.0) answers
# "not supported". Given an executable instead, the CLI starts it directly with the engine's address and reads the
# policy server's port from its stdout: exactly what the language host does, through the same runner.
# See "The policy pack and CI" in README.md.
set -e
cd "$(dirname "$0")"
runner=$(node -p "require.resolve('@pulumi/pulumi/cmd/run-policy-pack')")
exec node "$runner" "$1" .
