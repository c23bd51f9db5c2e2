#!/bin/sh
# Compares the AVX2 (AB_ISA=avx512: AVX-512) gemm, LSTM, GRU and RNN tanh step kernels and the
# exp / sigmoid / tanh kernels of two git revisions in ONE
# process, interleaved round by round (bench/ab/ab_main.c), so that the
# drift of a shared machine hits both alike. Needs gcc and an x86-64 CPU
# with AVX2+FMA (or AVX-512F/BW/DQ/VL); builds in a temporary directory, touches nothing else.
# usage: scripts/ab-kernels.sh OLD_REV [NEW_REV] [H ...]
#   NEW_REV defaults to the working tree (uncommitted changes included).
#   H: hidden sizes (multiples of 8; of 16 for avx512), default 32 512 1024.
#   AB_ISA=avx512 times the AVX-512 instantiation of the same kernel
#   bodies (simd/x86/avx512/vec-avx512.h) instead of the AVX2 one.
set -eu
. "$(dirname "$0")/ab-revs.sh"
ab_revs "OLD_REV [NEW_REV] [H ...]" "$@"
shift $ab_shift
ab_extract "$tmp/old" "$old" simd include
ab_extract "$tmp/new" "$new" simd include
isa=${AB_ISA:-avx2}
case $isa in
avx2) flags="-O3 -mavx2 -mfma -mf16c -DNDEBUG" nr=8 ;;
avx512) flags="-O3 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mf16c -DNDEBUG -DAB_AVX512=1" nr=16 ;;
*) echo "ab-kernels.sh: AB_ISA must be avx2 or avx512" >&2; exit 2 ;;
esac
for v in old new; do
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_gemm__$isa=gemm_$v \
        -c "$root/bench/ab/ab-gemm.c" -o "$tmp/g_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_lstm_step__$isa=lstm_$v \
        -c "$root/bench/ab/ab-lstm.c" -o "$tmp/l_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_gru_step__$isa=gru_$v \
        -c "$root/bench/ab/ab-gru.c" -o "$tmp/r_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_rnn_tanh_step__$isa=rnn_$v \
        -Drnnkit_f32_rnn_relu_step__$isa=rnn_relu_$v -c "$root/bench/ab/ab-rnn.c" -o "$tmp/e_$v.o"
    gcc $flags -I"$tmp/$v" -I"$tmp/$v/include" -Drnnkit_f32_exp__$isa=vexp_$v \
        -Drnnkit_f32_sigmoid__$isa=vsigmoid_$v -Drnnkit_f32_tanh__$isa=vtanh_$v \
        -Drnnkit_f32_act__$isa=vact_$v -c "$root/bench/ab/ab-vmath.c" -o "$tmp/a_$v.o"
done
# The gemm's gate-stride argument (simd/kernels.h rnnkit_gemm_fn, since session 16).
hs_old=0 hs_new=0
grep -q 'int64_t h, int64_t hs, int64_t k' "$tmp/old/simd/kernels.h" && hs_old=1
grep -q 'int64_t h, int64_t hs, int64_t k' "$tmp/new/simd/kernels.h" && hs_new=1
gcc -O2 -DAB_NR=$nr -DAB_OLD_HS=$hs_old -DAB_NEW_HS=$hs_new -I"$tmp/new" "$root/bench/ab/ab_main.c" "$tmp"/g_old.o "$tmp"/g_new.o \
    "$tmp"/l_old.o "$tmp"/l_new.o "$tmp"/r_old.o "$tmp"/r_new.o "$tmp"/e_old.o "$tmp"/e_new.o \
    "$tmp"/a_old.o "$tmp"/a_new.o \
    -o "$tmp/ab_kernels"
echo "old = $old, new = ${new:-working tree}, isa = $isa"
"$tmp/ab_kernels" "$@"
