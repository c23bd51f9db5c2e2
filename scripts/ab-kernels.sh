#!/bin/sh
# Compares the AVX2 gemm, LSTM, GRU and RNN tanh step kernels and the
# exp / sigmoid / tanh kernels of two git revisions in ONE
# process, interleaved round by round (bench/ab/ab_main.c), so that the
# drift of a shared machine hits both alike. Needs gcc and an x86-64 CPU
# with AVX2+FMA; builds in a temporary directory, touches nothing else.
# usage: scripts/ab-kernels.sh OLD_REV [NEW_REV] [H ...]
#   NEW_REV defaults to the working tree (uncommitted changes included).
#   H: hidden sizes (multiples of 8), default 32 512 1024.
set -eu
. "$(dirname "$0")/ab-revs.sh"
ab_revs "OLD_REV [NEW_REV] [H ...]" "$@"
shift $ab_shift
ab_extract "$tmp/old" "$old" simd include
ab_extract "$tmp/new" "$new" simd include
flags="-O3 -mavx2 -mfma -mf16c -DNDEBUG"
for v in old new; do
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_gemm__avx2=gemm_$v \
        -c "$root/bench/ab/ab-gemm.c" -o "$tmp/g_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_lstm_step__avx2=lstm_$v \
        -c "$root/bench/ab/ab-lstm.c" -o "$tmp/l_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_gru_step__avx2=gru_$v \
        -c "$root/bench/ab/ab-gru.c" -o "$tmp/r_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_rnn_tanh_step__avx2=rnn_$v \
        -Drnnkit_f32_rnn_relu_step__avx2=rnn_relu_$v -c "$root/bench/ab/ab-rnn.c" -o "$tmp/e_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_exp__avx2=vexp_$v \
        -Drnnkit_f32_sigmoid__avx2=vsigmoid_$v -Drnnkit_f32_tanh__avx2=vtanh_$v \
        -Drnnkit_f32_act__avx2=vact_$v -c "$root/bench/ab/ab-vmath.c" -o "$tmp/a_$v.o"
done
# The gemm's gate-stride argument (simd/kernels.h rnnkit_gemm_fn, since session 16).
hs_old=0 hs_new=0
grep -q 'int64_t h, int64_t hs, int64_t k' "$tmp/old/simd/kernels.h" && hs_old=1
grep -q 'int64_t h, int64_t hs, int64_t k' "$tmp/new/simd/kernels.h" && hs_new=1
gcc -O2 -DAB_OLD_HS=$hs_old -DAB_NEW_HS=$hs_new -I"$tmp/new" "$root/bench/ab/ab_main.c" "$tmp"/g_old.o "$tmp"/g_new.o \
    "$tmp"/l_old.o "$tmp"/l_new.o "$tmp"/r_old.o "$tmp"/r_new.o "$tmp"/e_old.o "$tmp"/e_new.o \
    "$tmp"/a_old.o "$tmp"/a_new.o \
    -o "$tmp/ab_kernels"
echo "old = $old, new = ${new:-working tree}"
"$tmp/ab_kernels" "$@"
