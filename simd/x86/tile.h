/*
 * Register-tiled accumulation over packed panels, shared by the x86 gemm
 * and step bodies (include vec-<isa>.h first).
 *
 * rnnkit_tile_accum(MR, G, G2, ...) computes, for MR rows of A (row
 * stride lda) and one block of VW hidden units,
 *   acc[r][g] = sum_k A[r][k] * P[k][g]  (g < G, panel P of G*VW floats/k)
 *   acc[r][G] = sum_k A[r][k] * Q[k]     (when G2: second panel, VW/k)
 * MR and G are compile-time constants at every call (the dispatch macros
 * below), so the loops unroll and acc lives in MR*(G+G2) registers.
 * When that is fewer than 8 chains (GEMV: batch 1) k is split into 2 or
 * 4 interleaved partial sums to hide FMA latency; the weights are still
 * streamed exactly once, in order. Reads exactly K floats of each A row
 * and K*(G+G2)*VW panel floats; no alignment assumed.
 */
#ifndef RNNKIT_X86_TILE_H
#define RNNKIT_X86_TILE_H

#include <assert.h>
#include <stddef.h>

#define RNNKIT_MRMAX 12

#define RNNKIT_CAT3_(a, b, c) a##b##c
#define RNNKIT_CAT3(a, b, c) RNNKIT_CAT3_(a, b, c)
#define RNNKIT_FN(op) RNNKIT_CAT3(rnnkit_f32_, op, RNNKIT_CAT3(_, _, RNNKIT_ISA_SUFFIX))

RNNKIT_VINLINE void rnnkit_tile_accum(const int MR, const int G, const int G2, int64_t K,
                                      const float *a, int64_t lda, const float *p,
                                      const float *q, V acc[RNNKIT_MRMAX][4]) {
    const int GT = G + G2;
    const int S = MR * GT >= 8 ? 1 : (MR * GT >= 4 ? 2 : 4);
    V part[4][RNNKIT_MRMAX][4];
    for (int s = 0; s < S; s++)
        for (int r = 0; r < MR; r++)
            for (int g = 0; g < GT; g++) part[s][r][g] = vzero();
    int64_t kk = 0;
    for (; kk + S <= K; kk += S) {
        for (int s = 0; s < S; s++) {
            V w[4];
            for (int g = 0; g < G; g++) w[g] = vload(p + g * RNNKIT_VW);
            if (G2) w[G] = vload(q);
            p += G * RNNKIT_VW;
            q += G2 * RNNKIT_VW;
            for (int r = 0; r < MR; r++) {
                V x = vset1(a[(size_t)r * (size_t)lda + (size_t)(kk + s)]);
                for (int g = 0; g < GT; g++) part[s][r][g] = vfma(x, w[g], part[s][r][g]);
            }
        }
    }
    for (; kk < K; kk++) {
        V w[4];
        for (int g = 0; g < G; g++) w[g] = vload(p + g * RNNKIT_VW);
        if (G2) w[G] = vload(q);
        p += G * RNNKIT_VW;
        q += G2 * RNNKIT_VW;
        for (int r = 0; r < MR; r++) {
            V x = vset1(a[(size_t)r * (size_t)lda + (size_t)kk]);
            for (int g = 0; g < GT; g++) part[0][r][g] = vfma(x, w[g], part[0][r][g]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int g = 0; g < GT; g++) {
            V v = part[0][r][g];
            for (int s = 1; s < S; s++) v = vadd(v, part[s][r][g]);
            acc[r][g] = v;
        }
}

/* Calls CALL(m) with m a constant equal to mr (1 <= mr <= MRMAX_). */
#define RNNKIT_CASE_MR_(n, MRMAX_, CALL) \
    case n:                              \
        if ((n) <= (MRMAX_)) CALL(n);    \
        break;
#define RNNKIT_DISPATCH_MR(mr, MRMAX_, CALL)       \
    switch (mr) {                                  \
        RNNKIT_CASE_MR_(1, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(2, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(3, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(4, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(5, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(6, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(7, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(8, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(9, MRMAX_, CALL)           \
        RNNKIT_CASE_MR_(10, MRMAX_, CALL)          \
        RNNKIT_CASE_MR_(11, MRMAX_, CALL)          \
        RNNKIT_CASE_MR_(12, MRMAX_, CALL)          \
    default: break;                                \
    }

/* Load/store of the nv valid lanes of a block (nv == VW: plain access). */
RNNKIT_VINLINE V rnnkit_ld(const float *p, int64_t nv, VT t) {
    return nv == RNNKIT_VW ? vload(p) : vload_t(p, t);
}
RNNKIT_VINLINE void rnnkit_st(float *p, V v, int64_t nv, VT t) {
    if (nv == RNNKIT_VW)
        vstore(p, v);
    else
        vstore_t(p, v, t);
}
/* Clamp to [-c, c] keeping NaN (data as the second operand). */
RNNKIT_VINLINE V rnnkit_vclip(V x, float c) { return vmin(vset1(c), vmax(vset1(-c), x)); }

#endif
