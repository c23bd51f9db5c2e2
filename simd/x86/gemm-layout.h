/*
 * The x86 gemm's weight layout (simd/kernels.h, pack_input): the step
 * panels of rnnkit_f32_pack_gates__scalar, except where a panel's k row
 * does not split into whole cache lines per tile: nr = 8 (AVX2) with g = 3,
 * a 96-byte row whose column pairs straddle lines half of the time.
 * There the g*ceil(h/nr) columns (c = block*g + gate) are stored in pairs,
 * each pair k rows of 2*nr contiguous floats: column c, k row kk, unit u
 * at ((c/2)*k + kk)*2*nr + (c%2)*nr + u; an odd last column is paired with
 * zeros. Measured (one process, variants in random order, AVX2, m 3200,
 * GRU gates, median GFLOP/s, panel -> pairs): H = K 256 80.5 -> 85.9,
 * 512 66.5 -> 73.4, 1024 75.8 -> 79.2; m 400: 81.3 -> 85.8, 65.2 -> 72.2,
 * 73.2 -> 75.7. LSTM gates (128-byte rows) and RNN gates (32-byte
 * columns, each its own contiguous stream) showed no gain and keep the
 * panels; so does AVX-512 (nr 16: every column vector is one line).
 */
#ifndef RNNKIT_X86_GEMM_LAYOUT_H
#define RNNKIT_X86_GEMM_LAYOUT_H

#include <stdint.h>

static inline int rnnkit_gemm_pairs(int nr, int64_t g) { return nr == 8 && g == 3; }

#endif
