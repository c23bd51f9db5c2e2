#!/bin/sh
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for
# FUZZ_SECONDS (default 60) on its seed corpus. Exits non-zero if any
# target finds a crash, leak or undefined behaviour; the reproducer is
# left in build-fuzz/artifacts/<target>/ (copy it to
# tests/fuzz/regressions/ once fixed: test_formats replays that folder).
set -eu

cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-60}"
BUILD="${FUZZ_BUILD_DIR:-build-fuzz}"

if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 &&
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-aarch64.a >/dev/null 2>&1; then
    echo "fuzz.sh: libFuzzer runtime missing, installing libclang-rt-14-dev" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y libclang-rt-14-dev
    else
        sudo apt-get install -y libclang-rt-14-dev
    fi
fi

if [ ! -d "$BUILD" ]; then
    CC=clang meson setup "$BUILD" -Dfuzz=true -Dtests=disabled -Dbench=disabled \
        --buildtype=debug
fi
meson compile -C "$BUILD" fuzz_npy fuzz_safetensors fuzz_model

status=0
for target in fuzz_npy fuzz_safetensors fuzz_model; do
    case "$target" in
        fuzz_npy) seeds=tests/fuzz/corpus/npy ;;
        fuzz_safetensors) seeds="tests/fuzz/corpus/safetensors tests/fuzz/corpus/model" ;;
        fuzz_model) seeds="tests/fuzz/corpus/model tests/fuzz/corpus/safetensors" ;;
    esac
    work="$BUILD/corpus/$target"
    art="$BUILD/artifacts/$target"
    mkdir -p "$work" "$art"
    echo "== $target for ${SECONDS_EACH}s"
    # New inputs go to $work (first corpus dir); the seeds are read only.
    # shellcheck disable=SC2086
    if ! "$BUILD/tests/fuzz/$target" -max_total_time="$SECONDS_EACH" -max_len=65536 \
            -rss_limit_mb=2048 -timeout=10 \
            -artifact_prefix="$art/" -print_final_stats=1 "$work" $seeds \
            tests/fuzz/regressions; then
        echo "fuzz.sh: $target FAILED; reproducer(s) in $art" >&2
        status=1
    fi
done
exit $status
