#!/usr/bin/env bash
# Installs the release build into a temporary prefix and builds the example
# against it through pkg-config, the way a user's project would.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RNNKIT_BUILD:-$ROOT/build}"
DEST="$(mktemp -d)"
trap 'rm -rf "$DEST"' EXIT
meson install -C "$BUILD" --destdir "$DEST" >/dev/null
PC="$(dirname "$(find "$DEST" -name rnnkit.pc | head -1)")"
export PKG_CONFIG_PATH="$PC" PKG_CONFIG_SYSROOT_DIR="$DEST"
cc -std=c11 -Wall -Wextra -Werror -o "$DEST/example" "$ROOT/examples/lstm_forward.c" \
    $(pkg-config --cflags rnnkit) $(pkg-config --libs rnnkit) -fopenmp -lm
LD_LIBRARY_PATH="$(dirname "$(find "$DEST" -name 'librnnkit.so*' | head -1)")" "$DEST/example" | tail -1
test -x "$(find "$DEST" -path '*bin/rnnkit' | head -1)"
echo "install: librnnkit, rnnkit.h, rnnkit.pc and the rnnkit tool installed; example built via pkg-config"
