#!/usr/bin/env bash
# Shared set-up for quickstart.sh and test.sh: installs what is missing
# (Debian packages, only when missing) and configures + builds a release
# build in ./build. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RNNKIT_BUILD:-$ROOT/build}"

# Packages the build needs; extra ones are passed by the caller.
rk_need_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    echo "==> installing missing packages: ${missing[*]}"
    local SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then SUDO="sudo"; else
            echo "error: missing packages ${missing[*]} and not root (no sudo)" >&2
            return 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

RK_BASE_PACKAGES=(meson ninja-build gcc g++ pkg-config libc6-dev libgomp1 libcriterion-dev libbenchmark-dev)

rk_build() {
    if [ ! -f "$BUILD/build.ninja" ]; then
        echo "==> configuring release build in $BUILD"
        meson setup "$BUILD" "$ROOT" --buildtype=release >/dev/null
    fi
    echo "==> building"
    ninja -C "$BUILD" >/dev/null
}
