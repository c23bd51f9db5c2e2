#!/bin/sh
# Cross-builds rnnkit for AArch64 (build-neon, scripts/aarch64-linux-gnu.ini)
# and runs the single-threaded NEON checks (tests/neon_runner.c) under
# qemu-user. Criterion and Google Benchmark are not needed: with no arm64
# Criterion, -Dtests=auto skips the Criterion suites (they could not run
# anyway: qemu-user 7.2 hangs in pthread_create), and benchmarks are off.
# Installs, with apt-get and only if missing: the cross compiler, qemu-user,
# and arm64 libgomp when the cross gcc has none.
# Usage: scripts/test-neon.sh [build dir]   (default build-neon)
# Exit status: that of the runner (non-zero on any failed check), or of the
# first failing setup/build step.
set -eu

cd "$(dirname "$0")/.."
BUILD=${1:-build-neon}
SYSROOT=/usr/aarch64-linux-gnu

need_apt=""
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_apt="$need_apt gcc-aarch64-linux-gnu"
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need_apt="$need_apt g++-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null 2>&1 || need_apt="$need_apt qemu-user"
if [ -n "$need_apt" ]; then
    echo "installing:$need_apt"
    apt-get install -y $need_apt
fi

# OpenMP runtime for arm64: the cross gcc normally ships libgomp
# (libgomp1-arm64-cross, in $SYSROOT/lib); otherwise use Debian's arm64 one.
if [ ! -e "$SYSROOT/lib/libgomp.so.1" ] && [ ! -e /usr/lib/aarch64-linux-gnu/libgomp.so.1 ]; then
    echo "installing libgomp1:arm64"
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update
    apt-get install -y libgomp1:arm64
fi

if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" --cross-file scripts/aarch64-linux-gnu.ini \
        -Dtests=auto -Dbench=disabled
else
    meson setup --reconfigure "$BUILD" --cross-file scripts/aarch64-linux-gnu.ini \
        -Dtests=auto -Dbench=disabled >/dev/null
fi
# Only the targets checked here, so an unrelated target that fails to
# cross-compile (e.g. an ICE of the cross gcc) does not block the checks;
# the full build is then reported, not fatal.
ninja -C "$BUILD" tests/neon_runner
if ninja -C "$BUILD" -t query src/rnnkit >/dev/null 2>&1; then
    ninja -C "$BUILD" src/rnnkit
fi
if ! ninja -C "$BUILD" >"$BUILD/full-build.log" 2>&1; then
    echo "warning: the full cross build failed (see $BUILD/full-build.log):" >&2
    grep -E 'FAILED|error' "$BUILD/full-build.log" | head -5 >&2
fi

QEMU="qemu-aarch64 -L $SYSROOT"
if [ ! -x "$BUILD/tests/neon_runner" ]; then
    echo "error: $BUILD/tests/neon_runner was not built" >&2
    exit 1
fi

status=0
if [ -x "$BUILD/src/rnnkit" ]; then
    echo "== rnnkit info (under qemu)"
    if ! timeout 60 env OMP_NUM_THREADS=1 $QEMU "$BUILD/src/rnnkit" info; then
        echo "FAIL: rnnkit info did not run under qemu" >&2
        status=1
    fi
    echo "== rnnkit prof smoke test (under qemu: tiny grid, one thread)"
    PROF_CACHE="$(mktemp -d)"
    if ! timeout 300 env OMP_NUM_THREADS=1 XDG_CACHE_HOME="$PROF_CACHE" $QEMU "$BUILD/src/rnnkit" prof \
        --cell lstm,gru --hidden 16,32 --batch 1 --seq 4 --time 0.02 --isa neon; then
        echo "FAIL: rnnkit prof did not run under qemu" >&2
        status=1
    fi
    rm -rf "$PROF_CACHE"
else
    echo "(no $BUILD/src/rnnkit yet: CLI check skipped)"
fi

echo "== neon_runner (under qemu, one thread)"
rc=0
timeout 600 env OMP_NUM_THREADS=1 $QEMU "$BUILD/tests/neon_runner" || rc=$?
if [ "$rc" -eq 124 ]; then echo "FAIL: neon_runner timed out" >&2; fi
[ "$rc" -ne 0 ] && status=$rc
exit $status
