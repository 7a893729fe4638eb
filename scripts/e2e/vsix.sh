#!/usr/bin/env bash
# Builds the VS Code extension and packages it as vscode-extension/tbdump.vsix.
#
# Installs the extension's pinned npm devDependencies (npm ci, skipped when the
# lock file is unchanged) and vsce (through setup.sh, cached). Prints the
# .vsix path on stdout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXT="$(cd "$HERE/../../vscode-extension" && pwd)"

eval "$("$HERE/setup.sh" vsce)"

cd "$EXT"
# One build at a time (parallel test workers may all call us).
mkdir -p "${TBDUMP_CACHE:-$HOME/.cache/tbdump}"
exec 9>"${TBDUMP_CACHE:-$HOME/.cache/tbdump}/vsix.lock"
flock 9
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [[ ! -f node_modules/.tbdump-lock-$lock_hash ]]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
    touch "node_modules/.tbdump-lock-$lock_hash"
fi
# vsce needs node >= 22; it runs the package's scripts with the same PATH.
PATH="$NODE24_BIN:$(dirname "$VSCE"):$PATH" npm run --silent package >&2
echo "$EXT/tbdump.vsix"
