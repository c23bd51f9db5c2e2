/*
 * Gate-blocked GEMM over packed panels (semantics: rnnkit_gemm_fn in
 * simd/kernels.h), shared by f32-gemm-avx2.c and f32-gemm-avx512.c.
 * The g*ceil(h/VW) columns (block b, gate gi: one VW-unit vector of the
 * panel) are taken in groups; rows in panels of rnnkit_gemm_mc(k) (a
 * multiple of RNNKIT_TILE_MR, so the A panel stays in L2 while every
 * column group of the weights streams past it); inside a panel, each
 * group's columns stay in L1 across the row tiles. Tiles and the one
 * summation order over k: simd/x86/tile.h. Each tile's sums go to a small
 * L1 buffer, then C = sum + bias, so every element is computed the same
 * way whatever m, h or the tile it falls in. Units past h in the last
 * block are computed from the zero padding and never stored: bias loads
 * and C stores of that block are masked. Reads only m x k of A, the
 * panels and g*h bias floats; writes only the m x (g*h) of C. No
 * alignment assumed.
 */
#include "tile.h"

/* Row panel: A panel of at most RNNKIT_GEMM_ABYTES (L2-resident),
 * 1..32 tiles. */
#ifndef RNNKIT_GEMM_ABYTES
#define RNNKIT_GEMM_ABYTES (256 * 1024)
#endif
static inline int64_t rnnkit_gemm_mc(int64_t k) {
    int64_t t = RNNKIT_GEMM_ABYTES / ((k > 0 ? k : 1) * 4 * RNNKIT_TILE_MR);
    t = t < 1 ? 1 : (t > 32 ? 32 : t);
    return t * RNNKIT_TILE_MR;
}
#ifndef RNNKIT_GEMM_CG
#define RNNKIT_GEMM_CG 4
#endif

void RNNKIT_FN(gemm)(int nr, int64_t m, int64_t g, int64_t h, int64_t k, const float *a,
                     int64_t lda, const float *packed, const float *bias, float *c,
                     int64_t ldc) {
    assert(nr == RNNKIT_VW && g >= 1 && g <= 4);
    (void)nr;
    float buf[RNNKIT_TILE_MR * RNNKIT_BUF_LD] __attribute__((aligned(64)));
    const int64_t nb = (h + RNNKIT_VW - 1) / RNNKIT_VW, ncols = nb * g;
    const int64_t pstride = g * RNNKIT_VW, mc = rnnkit_gemm_mc(k);
    for (int64_t ip = 0; ip < m; ip += mc) {
        const int64_t mp = m - ip < mc ? m - ip : mc;
        int cg = rnnkit_nvmax(mp < RNNKIT_TILE_MR ? mp : RNNKIT_TILE_MR);
        if (cg < RNNKIT_GEMM_CG) cg = RNNKIT_GEMM_CG;
        for (int64_t c0 = 0; c0 < ncols; c0 += cg) {
            const int nc = ncols - c0 < cg ? (int)(ncols - c0) : cg;
            const float *p[RNNKIT_NVMAX];
            int64_t s[RNNKIT_NVMAX], col[RNNKIT_NVMAX], nv[RNNKIT_NVMAX];
            for (int v = 0; v < nc; v++) {
                int64_t b = (c0 + v) / g, gi = (c0 + v) % g;
                p[v] = packed + (size_t)b * (size_t)k * (size_t)pstride + (size_t)gi * RNNKIT_VW;
                s[v] = pstride;
                col[v] = gi * h + b * RNNKIT_VW;
                nv[v] = h - b * RNNKIT_VW < RNNKIT_VW ? h - b * RNNKIT_VW : RNNKIT_VW;
            }
            for (int64_t i0 = ip; i0 < ip + mp; i0 += RNNKIT_TILE_MR) {
                const int64_t mr = ip + mp - i0 < RNNKIT_TILE_MR ? ip + mp - i0 : RNNKIT_TILE_MR;
                rnnkit_tile_cols(mr, nc, k, a + (size_t)i0 * (size_t)lda, lda, p, s, buf, 0);
                for (int v = 0; v < nc; v++) {
                    VT t = vtail(nv[v]);
                    V bv = bias ? rnnkit_ld(bias + col[v], nv[v], t) : vzero();
                    for (int64_t r = 0; r < mr; r++)
                        rnnkit_st(c + (size_t)(i0 + r) * (size_t)ldc + (size_t)col[v],
                                  vadd(vload(buf + r * RNNKIT_BUF_LD + v * RNNKIT_VW), bv), nv[v],
                                  t);
                }
            }
        }
    }
}
