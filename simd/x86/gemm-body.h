/*
 * Gate-blocked GEMM over packed panels (semantics: rnnkit_gemm_fn in
 * simd/kernels.h), shared by f32-gemm-avx2.c and f32-gemm-avx512.c.
 * Tiles: MR rows x G vectors of VW units (G = gates, 1..4), MR per ISA
 * and G (RNNKIT_GEMM_MR_G1..4 in vec-<isa>.h: avx512 12/12/8/6, avx2 8/4/2/2).
 * Loop order: block of VW units outer (its k*G*VW panel stays in L1/L2),
 * row tiles inner; the m tail uses the same tile with a smaller constant
 * MR. Units past h in the last block are computed from the zero padding
 * of the panel and never stored: bias loads and C stores of that block
 * are masked. Reads only m x k of A, the panels and g*h bias floats;
 * writes only the m x (g*h) of C. No alignment assumed.
 */
#include "tile.h"

RNNKIT_VINLINE void rnnkit_gemm_tile(const int MR, const int G, int64_t h, int64_t k,
                                     const float *a, int64_t lda, const float *p,
                                     const float *bias, float *c, int64_t ldc, int64_t j0,
                                     int64_t nv) {
    V acc[RNNKIT_MRMAX][4];
    rnnkit_tile_accum(MR, G, 0, k, a, lda, p, p, acc);
    VT t = vtail(nv);
    for (int g = 0; g < G; g++) {
        size_t col = (size_t)(g * h + j0);
        V b = bias ? rnnkit_ld(bias + col, nv, t) : vzero();
        for (int r = 0; r < MR; r++)
            rnnkit_st(c + (size_t)r * (size_t)ldc + col, vadd(acc[r][g], b), nv, t);
    }
}

#define RNNKIT_GEMM_G(G_, MRMAX_)                                                             \
    for (int64_t b = 0; b < nb; b++) {                                                        \
        int64_t j0 = b * RNNKIT_VW;                                                           \
        int64_t nv = h - j0 < RNNKIT_VW ? h - j0 : RNNKIT_VW;                                 \
        const float *p = packed + (size_t)b * (size_t)k * (size_t)((G_)*RNNKIT_VW);           \
        for (int64_t i0 = 0; i0 < m; i0 += (MRMAX_)) {                                        \
            int64_t mr = m - i0 < (MRMAX_) ? m - i0 : (MRMAX_);                               \
            const float *ai = a + (size_t)i0 * (size_t)lda;                                   \
            float *ci = c + (size_t)i0 * (size_t)ldc;                                         \
            _Pragma("GCC diagnostic push")                                                    \
            _Pragma("GCC diagnostic ignored \"-Wtype-limits\"")                               \
            RNNKIT_DISPATCH_MR(mr, MRMAX_, RNNKIT_GEMM_CALL_)                                 \
            _Pragma("GCC diagnostic pop")                                                     \
        }                                                                                     \
    }
#define RNNKIT_GEMM_CALL_(M) rnnkit_gemm_tile(M, G_CUR, h, k, ai, lda, p, bias, ci, ldc, j0, nv)

void RNNKIT_FN(gemm)(int nr, int64_t m, int64_t g, int64_t h, int64_t k, const float *a,
                     int64_t lda, const float *packed, const float *bias, float *c,
                     int64_t ldc) {
    assert(nr == RNNKIT_VW && g >= 1 && g <= 4);
    (void)nr;
    int64_t nb = (h + RNNKIT_VW - 1) / RNNKIT_VW;
    switch (g) {
    case 1: {
#define G_CUR 1
        RNNKIT_GEMM_G(1, RNNKIT_GEMM_MR_G1)
#undef G_CUR
    } break;
    case 2: {
#define G_CUR 2
        RNNKIT_GEMM_G(2, RNNKIT_GEMM_MR_G2)
#undef G_CUR
    } break;
    case 3: {
#define G_CUR 3
        RNNKIT_GEMM_G(3, RNNKIT_GEMM_MR_G3)
#undef G_CUR
    } break;
    default: {
#define G_CUR 4
        RNNKIT_GEMM_G(4, RNNKIT_GEMM_MR_G4)
#undef G_CUR
    } break;
    }
}
