#!/usr/bin/env bash
# Installs the Debian packages the Python suites drive (tmux for the terminal
# viewers, vim for tbpeep's `??`, Neovim for the editor test) before the suites start, so that two
# test workers never race for apt's lock. Needs root; elsewhere it says what to
# install and the tests report it.
set -euo pipefail
missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v nvim >/dev/null || missing+=(neovim)
command -v vim >/dev/null || missing+=(vim)
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "system-deps: missing ${missing[*]} (install them: apt-get install ${missing[*]})" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
