#!/usr/bin/env bash
# The rnnkit tool under valgrind memcheck on a few models (PyTorch LSTM with
# lengths, ONNX GRU, a bidirectional model, and error paths): zero errors,
# zero leaks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RNNKIT_BUILD:-$ROOT/build}"
RNNKIT="$BUILD/src/rnnkit"
FX="$ROOT/tests/fixtures"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible)
fail=0
run() { # expected-exit args...
    local want=$1; shift
    local got=0
    OMP_NUM_THREADS=1 "${VG[@]}" "$RNNKIT" "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
    if [ "$got" = 99 ] || [ "$got" != "$want" ]; then
        echo "valgrind: rnnkit $* exited $got (wanted $want)"; cat "$WORK/err"; fail=1
    else
        echo "valgrind clean: rnnkit $1 ${*:2:2}"
    fi
}
run 0 info
run 0 example "$WORK/ex"
run 0 run --weights "$WORK/ex/model.safetensors" --input "$WORK/ex/x.npy" --output "$WORK/y.npy" --hn "$WORK/hn.npy" --cn "$WORK/cn.npy"
for c in pt_lstm_lengths onnx_gru_bidir onnx_lstm_clip_peep pt_lstm_proj_l2_bidir; do
    d="$FX/$c"
    [ -d "$d" ] || continue
    args=(run --weights "$d/model.safetensors" --input "$d/x.npy" --output "$WORK/$c.npy")
    [ -f "$d/lengths.npy" ] && args+=(--lengths "$d/lengths.npy")
    [ -f "$d/h0.npy" ] && args+=(--h0 "$d/h0.npy")
    run 0 "${args[@]}"
done
run 1 run --weights "$WORK/missing.safetensors" --input "$WORK/ex/x.npy" --output "$WORK/z.npy"
run 1 run --weights "$WORK/ex/x.npy" --input "$WORK/ex/x.npy" --output "$WORK/z.npy"
run 2 run --bogus
exit $fail
