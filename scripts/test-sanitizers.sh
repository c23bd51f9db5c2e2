#!/usr/bin/env bash
# The whole Criterion suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan), then the concurrency suites under ThreadSanitizer
# (build-tsan). Any sanitizer report fails the run.
# RNNKIT_TEST_QUICK=1 asks the exhaustive activation tests for a sample.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# allocator_may_return_null: an impossible allocation (tests/test_api.c,
# rnnkit_buffer_alloc(SIZE_MAX)) returns NULL, as libc's does, so the
# library's handling of it is tested here too instead of aborting.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export RNNKIT_TEST_QUICK=1

if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan -Dbench=disabled -Db_sanitize=address,undefined -Db_lundef=false \
        --buildtype=debugoptimized >/dev/null
fi
ninja -C build-asan >/dev/null
echo "==> ASan+UBSan: whole suite"
meson test -C build-asan --print-errorlogs --num-processes 1 --timeout-multiplier 4

# ThreadSanitizer: libgomp is not instrumented, so the suites run their
# inner rnnkit calls on one OpenMP thread (RNNKIT_TEST_INNER_THREADS=1)
# while many pthreads share one model.
if [ ! -f build-tsan/build.ninja ]; then
    meson setup build-tsan -Dbench=disabled -Db_sanitize=thread -Db_lundef=false \
        --buildtype=debugoptimized >/dev/null
fi
ninja -C build-tsan tests/tsan_concurrency >/dev/null
echo "==> TSan: 8 threads sharing one model"
TSAN_OPTIONS=halt_on_error=1 RNNKIT_TEST_INNER_THREADS=1 OMP_NUM_THREADS=1 \
    build-tsan/tests/tsan_concurrency
