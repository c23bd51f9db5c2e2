#!/usr/bin/env bash
# Tests scripts/compare.sh's table on a fixed bench_compare JSON (FROM_JSON,
# nothing is timed): the ratio column (rows' medians, paired), the thread
# speed-up column and the bound columns, whose values come from
# `rnnkit prof --bounds` with a machine-limits cache rewritten
# to round numbers, so that each expected figure is worked out by hand
# below. Also: a missing rnnkit tool gives '-' bounds and a note, not a
# failure.
#
#   scripts/test-compare.sh            # uses build/src/rnnkit
#   RNNKIT_BUILD=build-rel scripts/test-compare.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RNNKIT_BUILD:-$ROOT/build}"
RNNKIT="$BUILD/src/rnnkit"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export XDG_CACHE_HOME="$TMP/cache"

fail() { echo "test-compare: $*" >&2; exit 1; }

# 1. The limits cache: let the tool create it (a short measurement), then
#    replace the numbers. Scalar FMA 100 GFLOP/s on 1 thread, 200 on 2;
#    read L1 400/800, L2 100/200, L3 50/90, DRAM 20/30 GB/s; L1 32 KiB,
#    L2 2 MiB, L3 32 MiB.
"$RNNKIT" prof --bounds --isa scalar --cell rnn --hidden 8 --batch 1 --csv >/dev/null
limits=$(ls "$XDG_CACHE_HOME"/rnnkit/limits-*.txt)
[ -f "$limits" ] || fail "no limits file under $XDG_CACHE_HOME/rnnkit"
cat >"$limits" <<'EOF'
rnnkit-limits 2
cpu Test CPU
cores 2
cache L1 32768
cache L2 2097152
cache L3 33554432
fma scalar 100 200
read L1 400 800
read L2 100 200
read L3 50 90
read DRAM 20 30
EOF

# 2. Two configurations, as bench_compare names them:
#  - gru_lbr0, I 64, H 64, 1 layer, bidirectional, batch 1, T 10, 1 thread:
#    recurrent weights 2 dirs * 4*3*64*64 B = 96 KiB per step, above L1,
#    within L2 -> 98304 B / 100 GB/s = 0.98304 us per step (> recurrent
#    flops 2*2*3*64*64 / 100e9 = 0.49152 us); input projection
#    2 * 2*10*3*64*64 / 100e9 = 4.9152 us per sequence. Bound
#    (10 * 0.98304 + 4.9152) / 10 = 1.47456 us per step, limit L2.
#    rnnkit 2.0 us -> 74 %, oneDNN 4.0 us -> 37 %, ratio 2.00.
#  - rnn_tanh, I 32, H 32, batch 4, T 20, 2 threads: 4 KiB of weights,
#    2 KiB per thread, in L1 (800 GB/s): 5.12 ns per step, below the
#    flops 2*4*32*32 / 200e9 = 40.96 ns; input projection
#    2*20*4*32*32 / 200e9 = 819.2 ns. Bound (20 * 40.96 + 819.2) / 20 =
#    81.92 ns = 0.08 us per step, limit FMA; rnnkit 0.1 us -> 82 %.
#  - the same rnn_tanh on 1 thread: 4 KiB in L1 (400 GB/s) 10.24 ns, below
#    the flops 8192 / 100e9 = 81.92 ns; projection 163840 / 100e9 =
#    1638.4 ns per sequence, 81.92 ns per step. Bound 163.84 ns = 0.16 us,
#    FMA; rnnkit 0.18 us -> 91 %. The 2-thread row's speed-up over it:
#    0.18 / 0.10 = 1.80; the 1-thread rows have none ('-').
cat >"$TMP/bench.json" <<'EOF'
{
  "context": {"date": "2026-01-01T00:00:00+00:00", "host_name": "test", "num_cpus": 2, "load_avg": [0.0]},
  "benchmarks": [
    {"name": "compare/gru_lbr0/I:64/H:64/N:1/T:10/L:1/D:2/thr:1/engine:rnnkit-scalar/real_time",
     "run_name": "compare/gru_lbr0/I:64/H:64/N:1/T:10/L:1/D:2/thr:1/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 0, "us/step": 2.0, "GFLOP/s": 1.0},
    {"name": "compare/gru_lbr0/I:64/H:64/N:1/T:10/L:1/D:2/thr:1/engine:onednn/real_time",
     "run_name": "compare/gru_lbr0/I:64/H:64/N:1/T:10/L:1/D:2/thr:1/engine:onednn/real_time",
     "run_type": "iteration", "family_index": 1, "us/step": 4.0, "GFLOP/s": 0.5},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_type": "iteration", "family_index": 7, "us/step": 1.2, "GFLOP/s": 0.5,
     "ratio_paired": 2.5},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_type": "iteration", "family_index": 7, "us/step": 1.2, "GFLOP/s": 0.5,
     "ratio_paired": 2.1},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:onednn/real_time",
     "run_type": "iteration", "family_index": 7, "us/step": 1.2, "GFLOP/s": 0.5,
     "ratio_paired": 2.3},
    {"name": "compare/rnn_tanh/I:32/H:32/N:4/T:20/thr:2/engine:rnnkit-scalar/real_time",
     "run_name": "compare/rnn_tanh/I:32/H:32/N:4/T:20/thr:2/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 2, "us/step": 0.1, "GFLOP/s": 2.0},
    {"name": "compare/rnn_tanh/I:32/H:32/N:4/T:20/thr:1/engine:rnnkit-scalar/real_time",
     "run_name": "compare/rnn_tanh/I:32/H:32/N:4/T:20/thr:1/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 3, "us/step": 0.18, "GFLOP/s": 1.0},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 4, "us/step": 0.5, "GFLOP/s": 1.0,
     "speedup_paired": 1.5, "paired_equal": 1},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 4, "us/step": 0.5, "GFLOP/s": 1.0,
     "speedup_paired": 1.9, "paired_equal": 1},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:2/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 4, "us/step": 0.5, "GFLOP/s": 1.0,
     "speedup_paired": 1.7, "paired_equal": 1},
    {"name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:rnnkit-scalar/real_time",
     "run_name": "compare/lstm/I:16/H:16/N:2/T:5/thr:1/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 5, "us/step": 0.6, "GFLOP/s": 1.0},
    {"name": "compare/gru_lbr1/I:8/H:8/N:1/T:4/thr:2/engine:rnnkit-scalar/real_time",
     "run_name": "compare/gru_lbr1/I:8/H:8/N:1/T:4/thr:2/engine:rnnkit-scalar/real_time",
     "run_type": "iteration", "family_index": 6, "us/step": 0.5, "GFLOP/s": 1.0,
     "speedup_paired": 1.1, "paired_equal": 0}
  ]
}
EOF
FROM_JSON="$TMP/bench.json" RNNKIT_BIN="$RNNKIT" "$ROOT/scripts/compare.sh" "$TMP/out.md" >/dev/null 2>&1 ||
    fail "compare.sh failed"
row() { grep -F "| $1 |" "$TMP/out.md" || fail "no row $1 in: $(cat "$TMP/out.md")"; }
want() { # row-prefix expected-cells
    local got
    got=$(row "$1")
    [[ "$got" == *"$2"* ]] || fail "row $1: want \"$2\" in \"$got\""
}
want "gru_lbr0/I:64/H:64/N:1/T:10/L:1/D:2/thr:1" "| 2.00 | 4.00 | 1.0 | 2.00 | - | 1.47 | L2 | 74 % | 37 % | - |"
want "rnn_tanh/I:32/H:32/N:4/T:20/thr:2" "| 0.10 | - | 2.0 | - | - | 0.08 | FMA | 82 % | - | 1.80 |"
want "rnn_tanh/I:32/H:32/N:4/T:20/thr:1" "| 0.18 | - | 1.0 | - | - | 0.16 | FMA | 91 % | - | - |"
# The paired speed-up (bench_compare's speedup_paired, median of the
# repetitions 1.5, 1.9, 1.7) wins over the rows' ratio (0.6 / 0.5 = 1.20);
# a repetition whose 1- and 2-thread outputs differed is flagged.
want "lstm/I:16/H:16/N:2/T:5/thr:2" "| 1.70 p |"
want "gru_lbr1/I:8/H:8/N:1/T:4/thr:2" "| 1.10 p (outputs differ!) |"
# oneDNN over rnnkit: the paired ratio (ratio_paired, median of 2.5, 2.1,
# 2.3) wins over the rows' ratio (1.2 / 0.6 = 2.00); without it (the
# gru_lbr0 row above) the rows' ratio.
want "lstm/I:16/H:16/N:2/T:5/thr:1" "| 0.60 | 1.20 | 1.0 | 2.30 p |"

# 3. Without the tool: the same table, bounds '-', and a note saying why.
FROM_JSON="$TMP/bench.json" RNNKIT_BIN="$TMP/no-such-rnnkit" "$ROOT/scripts/compare.sh" "$TMP/out2.md" \
    >/dev/null 2>&1 || fail "compare.sh failed without the tool"
grep -qF "| 2.00 | 4.00 | 1.0 | 2.00 | - | - | - | - | - | - |" "$TMP/out2.md" || fail "no-tool row: $(cat "$TMP/out2.md")"
grep -q "no-such-rnnkit not found" "$TMP/out2.md" || fail "no-tool note missing: $(cat "$TMP/out2.md")"
grep -qF "| 0.10 | - | 2.0 | - | - | - | - | - | - | 1.80 |" "$TMP/out2.md" ||
    fail "no-tool 2-thread row: $(cat "$TMP/out2.md")"
echo "compare.sh: ratios (rows', paired), bounds (L2, FMA), the thread speed-up (rows' ratio, paired) as worked out by hand; no tool -> no bounds, with a note"
