#!/bin/sh
# Where a forward call's instructions go: runs bench/ab/cg_forward (built in
# the benchmark build) under callgrind twice, with ROUNDS and 2 x ROUNDS
# forward calls, and prints the difference per time step, by function
# (scripts/cg-annotate.py): model creation, start-up and everything else
# outside the calls cancel. callgrind counts are exact, so two revisions
# can be compared where timings on a shared host cannot (+-15-30 % between
# processes). Needs valgrind.
#
# usage: scripts/cg-forward.sh [SHAPE [ROUNDS [cg-annotate options ...]]]
#   SHAPE   CELL:H:N:T:I:D (cg_forward's), default gru:32:1:63:24:1, a
#           speech model of the comparison grid; one thread.
#   ROUNDS  default 5.
#   e.g. scripts/cg-forward.sh lstm:32:1:63:24:2 5 --function rnnkit_tile_pp_40
#   lists that function's instructions with their counts per step (a
#   build with -Ddebug=true adds the source line of each).
# environment: RNNKIT_BENCH_BUILD (default build-bench at the repo root).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RNNKIT_BENCH_BUILD:-$root/build-bench}
shape=${1:-gru:32:1:63:24:1}
rounds=${2:-5}
[ $# -ge 2 ] && shift 2 || shift $#
case $rounds in '' | *[!0-9]* | 0) echo "cg-forward: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
T=$(echo "$shape" | cut -d: -f4)
case $T in '' | *[!0-9]* | 0) echo "cg-forward: bad SHAPE '$shape' (CELL:H:N:T:I:D)" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "cg-forward: needs valgrind" >&2; exit 1; }
ninja -C "$build" bench/cg_forward >"$build/cg-forward-ninja.log" 2>&1 || { cat "$build/cg-forward-ninja.log" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rnnkit-cg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
for r in "$rounds" $((2 * rounds)); do
    OMP_NUM_THREADS=1 valgrind --tool=callgrind --dump-instr=yes --dump-line=no \
        --compress-strings=no --compress-pos=no --callgrind-out-file="$tmp/cg.$r" \
        "$build/bench/cg_forward" "$shape" "$r" 1 2>"$tmp/log.$r" || {
        cat "$tmp/log.$r" >&2
        exit 1
    }
done
echo "instructions per time step of $shape (1 thread; $rounds vs $((2 * rounds)) forward calls):"
python3 "$root/scripts/cg-annotate.py" --base "$tmp/cg.$rounds" --per $((rounds * T)) \
    "$@" "$tmp/cg.$((2 * rounds))"
