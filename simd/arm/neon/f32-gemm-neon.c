/*
 * NEON gate-blocked GEMM over packed weights (nr = 8):
 * C[i, g*hs + j] = bias + sum_k A[i,k] W_g[j][k], k summed in order (FMA),
 * one chain per element whatever the tile (rk_panel_mac), so a row gives
 * the same bits alone or with others.
 * Tile: 4 rows of A x 16 columns of a panel (4 q-registers = 16
 * accumulators); a panel of g gates is 8g columns, walked in chunks of 16
 * and a last chunk of 8 when g is odd; for each chunk all rows of A pass
 * (rows past a multiple of 4 run the same tile with 3, 2 or 1 rows). A is
 * read 4 floats at a time while 4 remain in the row, then one at a time;
 * packed panels are read whole (zero-padded by the packer); C and bias
 * are written/read only for units j < h (the last partial block goes
 * through bounded copies). No alignment assumed. Other nr (weights packed
 * for another table) go to the scalar kernel.
 */
#include "neon-util.h"

RK_NEON_INLINE void gemm_tile(const int MR, const int NQ, int64_t g, int64_t h, int64_t hs, int64_t k,
                              const float *a, int64_t lda, const float *p, int64_t q0,
                              int64_t b, const float *bias, float *c, int64_t ldc) {
    const float *x[4];
    for (int r = 0; r < MR; r++) x[r] = a + (size_t)r * (size_t)lda;
    const float *pc = p + 4 * q0;
    float32x4_t acc[16];
    rk_panel_mac(MR, 1, NQ, k, &pc, g * RK_NEON_NR, x, acc);
    for (int q = 0; q < NQ; q++) {
        int64_t t = 4 * (q0 + q);           /* column inside the panel */
        int64_t gg = t / RK_NEON_NR;        /* gate */
        int64_t j = b * RK_NEON_NR + t % RK_NEON_NR; /* first unit */
        int64_t cnt = h - j;                /* units of these 4 that exist */
        if (cnt <= 0) continue;
        size_t col = (size_t)(gg * hs + j);
        float32x4_t bv = bias ? rk_ld_part(bias + col, cnt) : vdupq_n_f32(0.0f);
        for (int r = 0; r < MR; r++)
            rk_st_part(c + (size_t)r * (size_t)ldc + col, cnt, vaddq_f32(acc[r * NQ + q], bv));
    }
}

/* All rows of A against one 4- or 2-register column chunk of panel b:
 * the chunk (k x 16 floats) stays in cache while A streams past it. */
RK_NEON_INLINE void gemm_chunk(const int NQ, int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k,
                               const float *a, int64_t lda, const float *p, int64_t q0,
                               int64_t b, const float *bias, float *c, int64_t ldc) {
    int64_t i = 0;
    for (; i + 4 <= m; i += 4)
        gemm_tile(4, NQ, g, h, hs, k, a + (size_t)i * (size_t)lda, lda, p, q0, b, bias,
                  c + (size_t)i * (size_t)ldc, ldc);
    const float *ai = a + (size_t)i * (size_t)lda;
    float *ci = c + (size_t)i * (size_t)ldc;
    switch (m - i) {
    case 3: gemm_tile(3, NQ, g, h, hs, k, ai, lda, p, q0, b, bias, ci, ldc); break;
    case 2: gemm_tile(2, NQ, g, h, hs, k, ai, lda, p, q0, b, bias, ci, ldc); break;
    case 1: gemm_tile(1, NQ, g, h, hs, k, ai, lda, p, q0, b, bias, ci, ldc); break;
    default: break;
    }
}

void rnnkit_f32_gemm__neon(int nr, int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k,
                           const float *a, int64_t lda, const float *packed,
                           const float *bias, float *c, int64_t ldc) {
    if (nr != RK_NEON_NR) {
        rnnkit_f32_gemm__scalar(nr, m, g, h, hs, k, a, lda, packed, bias, c, ldc);
        return;
    }
    int64_t nb = (h + RK_NEON_NR - 1) / RK_NEON_NR;
    int64_t nq = 2 * g; /* q-registers per panel row */
    for (int64_t b = 0; b < nb; b++) {
        const float *p = packed + (size_t)b * (size_t)k * (size_t)(g * RK_NEON_NR);
        int64_t q0 = 0;
        for (; q0 + 4 <= nq; q0 += 4) gemm_chunk(4, m, g, h, hs, k, a, lda, p, q0, b, bias, c, ldc);
        if (q0 < nq) gemm_chunk(2, m, g, h, hs, k, a, lda, p, q0, b, bias, c, ldc);
    }
}
