#!/usr/bin/env bash
# Installs what is missing, builds a release, shows the machine's kernels
# and runs the built-in example model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
rk_need_packages "${RK_BASE_PACKAGES[@]}"
rk_build

RNNKIT="$BUILD/src/rnnkit"
"$RNNKIT" info
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$RNNKIT" example "$WORK"
"$RNNKIT" run --weights "$WORK/model.safetensors" --input "$WORK/x.npy" --output "$WORK/y.npy" --hn "$WORK/hn.npy" --cn "$WORK/cn.npy"
if "$RNNKIT" prof --help >/dev/null 2>&1; then
    "$RNNKIT" prof
fi
