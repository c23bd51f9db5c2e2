#!/usr/bin/env bash
# Installs what is missing, builds a release and runs the whole test suite:
# the Criterion suites (every ISA this CPU has), then the NEON kernels
# cross-built for aarch64 and run under qemu. Ends with one summary line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Beyond the build: NEON cross-build + qemu, clang + libFuzzer runtime,
# valgrind.
rk_need_packages "${RK_BASE_PACKAGES[@]}" gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user \
    clang libclang-rt-14-dev valgrind libsimde-dev
rk_build

status=0
echo "==> meson test (Criterion suites)"
meson test -C "$BUILD" --print-errorlogs --num-processes 1 || status=1

# Criterion's own summaries, one per suite, and a total.
LOG="$BUILD/meson-logs/testlog.txt"
passed=0; failed=0
if [ -f "$LOG" ]; then
    while read -r line; do
        echo "$line"
        t=$(sed -n 's/.*Tested: *\([0-9]*\).*/\1/p' <<<"$line")
        p=$(sed -n 's/.*Passing: *\([0-9]*\).*/\1/p' <<<"$line")
        passed=$((passed + ${p:-0})); failed=$((failed + ${t:-0} - ${p:-0}))
    done < <(grep -a "Synthesis:" "$LOG" | sed 's/\x1b\[[0-9;]*m//g')
    # Plain programs (the emulated AVX-512 suite, the example) print
    # "N passed, M failed".
    while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < \
        <(grep -aE '^[0-9]+ passed, [0-9]+ failed$' "$LOG" | sed -E 's/ passed, / /; s/ failed//')
fi

# Further stages, each counted as one pass or failure in the total.
stage() { # name command...
    local name=$1; shift
    echo "==> $name"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; echo "FAILED: $name"; fi
}
clang_build() {
    [ -f "$ROOT/build-clang/build.ninja" ] ||
        CC=clang CXX=clang++ meson setup "$ROOT/build-clang" "$ROOT" --buildtype=release >/dev/null
    ninja -C "$ROOT/build-clang" >/dev/null
}
# Every float through every vector activation of this CPU against libm
# (about a minute per function and ISA on 2 cores).
if [ -x "$BUILD/tests/act_exhaustive" ] && [ "${RNNKIT_SKIP_EXHAUSTIVE:-0}" != 1 ]; then
    stage "activations over all 2^32 floats vs libm (stated ULP bounds)" "$BUILD/tests/act_exhaustive"
fi
stage "clang -Wall -Wextra -Werror build (library, tools, tests, benchmarks)" clang_build
# Converters (Python, for users only): best effort, skipped if the
# packages cannot be installed.
if [ "${RNNKIT_SKIP_CONVERTERS:-0}" != 1 ]; then
    rk_need_packages python3-numpy python3-onnx python3-torch || echo "note: python3-torch/onnx unavailable; converter tests will skip"
    stage "PyTorch/ONNX converters end to end" env RNNKIT_BUILD="$BUILD" "$ROOT/scripts/test-converters.sh"
fi
stage "install + pkg-config consumer" env RNNKIT_BUILD="$BUILD" "$ROOT/scripts/test-install.sh"
stage "compare.sh table: ratios and rnnkit prof bounds" env RNNKIT_BUILD="$BUILD" "$ROOT/scripts/test-compare.sh"
if [ "$(uname -m)" = "x86_64" ] && [ "${RNNKIT_SKIP_NEON:-0}" != 1 ]; then
    stage "NEON kernels (aarch64 cross build under qemu-user, single thread)" "$ROOT/scripts/test-neon.sh"
fi
if [ "${RNNKIT_SKIP_SANITIZERS:-0}" != 1 ]; then
    stage "sanitizers (ASan+UBSan whole suite, TSan concurrency)" "$ROOT/scripts/test-sanitizers.sh"
    stage "valgrind memcheck of the CLI" env RNNKIT_BUILD="$BUILD" "$ROOT/scripts/test-valgrind.sh"
    stage "fuzzing (libFuzzer, ${FUZZ_SECONDS:-60} s per target)" "$ROOT/scripts/fuzz.sh"
fi

echo "$passed passed, $failed failed"
exit $status
