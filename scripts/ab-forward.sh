#!/bin/sh
# Times rnnkit_forward of two git revisions in ONE process
# (bench/ab/ab_forward.c: each library dlopen'ed on its own, rounds
# alternated, outputs compared bit for bit), so that the drift of a shared
# machine hits both alike. Builds both libraries (release) in a temporary
# directory with meson and ninja; touches nothing else.
# usage: scripts/ab-forward.sh OLD_REV [NEW_REV] [ROUNDS [CELL:H:N:T:I:D ...]]
#   NEW_REV defaults to the working tree (uncommitted changes included).
#   Default shapes: the speech models of the comparison grid (batch 1,
#   input 24, T 63, LSTM and GRU, H 32 and 64, 1 and 2 directions).
# Exit status: 3 if some shape's outputs differ between the two builds.
set -eu
. "$(dirname "$0")/ab-revs.sh"
ab_revs "OLD_REV [NEW_REV] [ROUNDS [CELL:H:N:T:I:D ...]]" "$@"
shift $ab_shift
ab_extract "$tmp/old" "$old"
ab_extract "$tmp/new" "$new"
for v in old new; do
    meson setup "$tmp/b_$v" "$tmp/$v" -Dbuildtype=release -Dtests=disabled -Dbench=disabled \
        >"$tmp/setup_$v.log" 2>&1 || { cat "$tmp/setup_$v.log" >&2; exit 1; }
    ninja -C "$tmp/b_$v" >"$tmp/build_$v.log" 2>&1 || { tail -20 "$tmp/build_$v.log" >&2; exit 1; }
done
gcc -O2 -I"$root/include" -I"$root/bench/ab" "$root/bench/ab/ab_forward.c" -o "$tmp/ab_forward" -ldl
echo "old = $old, new = ${new:-working tree}"
status=0
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} "$tmp/ab_forward" "$tmp/b_old/src/librnnkit.so" \
    "$tmp/b_new/src/librnnkit.so" "$@" || status=$?
exit $status
