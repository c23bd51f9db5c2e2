/*
 * Gate-blocked GEMM over packed panels (semantics: rnnkit_gemm_fn in
 * simd/kernels.h), shared by f32-gemm-avx2.c and f32-gemm-avx512.c.
 * The g*ceil(h/VW) columns (block b, gate gi: one VW-unit vector of the
 * panel) are computed in a blocked order, as in Goto's GEMM with the
 * weights in the role of the L2-resident block:
 *   row panels of RNNKIT_GEMM_MC_TILES tiles of A
 *     k blocks of RNNKIT_GEMM_KC
 *       column blocks: as many columns as keep kc rows of their weights
 *       within RNNKIT_GEMM_WBYTES (L2)
 *         row tiles of RNNKIT_TILE_MR rows: the tile's kc columns of A
 *         are copied k-major into a small stack buffer (one contiguous
 *         stream of broadcasts, L1-resident while every column pair of
 *         the block streams past it from L2)
 *           tiles of simd/x86/tile.h over the block's columns.
 * Measured against the previous order (column groups outer, each tile's
 * A rows streamed from L2), old and new in one process, AVX2, median
 * GFLOP/s, old -> new: LSTM gates (g 4), m 400, H = K 256 / 512 / 1024:
 * 63 -> 67, 58 -> 60, 50 -> 61; m 3200, H = K 256 / 512: 68 -> 70,
 * 56 -> 58; GRU gates (g 3), m 400, H = K 512: 49 -> 55; speech models
 * (m 63, k 24): 49 -> 52. OpenBLAS's sgemm on the same shapes still runs
 * 7-11 % faster at H >= 512. The weights are the step's panels, or for
 * GRU gates on AVX2 column pairs (simd/x86/gemm-layout.h: ustride,
 * ucols below).
 * Summation: a tile continues each element's ONE chain of FMAs over k
 * across k blocks (the partial sum is stored in C as a float and
 * reloaded, which is exact), starting from +0; after the last block,
 * C = sum + bias. So every element is computed the same way whatever m,
 * h, k or the tile and block it falls in, bit for bit the same as one
 * chain k = 0..K-1. Units past h in the last block are computed from the
 * zero padding and never stored: C loads and stores of that block are
 * masked. Reads only m x k of A, the panels, g*h bias floats and the
 * partial sums it wrote to C; writes only the m x (g*h) of C. No
 * alignment assumed.
 */
#include "gemm-layout.h"
#include "tile.h"

/* k block: a tile's A copy, RNNKIT_TILE_MR x RNNKIT_GEMM_KC floats,
 * takes 12 KiB of L1 (AVX2: 6 x 512, AVX-512: 12 x 256). Fewer k blocks
 * mean fewer round trips of the partial sums through C: on AVX2, m 400,
 * H = K 1024, kc 512 ran at 55 GFLOP/s against 46 with kc 256 (medians
 * of two runs minutes apart, the old order at 47 in both). */
#ifndef RNNKIT_GEMM_KC
#define RNNKIT_GEMM_KC (12288 / (4 * RNNKIT_TILE_MR))
#endif
/* Weight bytes of one column block (kc rows of its columns). */
#ifndef RNNKIT_GEMM_WBYTES
#define RNNKIT_GEMM_WBYTES (256 * 1024)
#endif
/* Row tiles per row panel. */
#ifndef RNNKIT_GEMM_MC_TILES
#define RNNKIT_GEMM_MC_TILES 64
#endif
#define RNNKIT_GEMM_PMAX 64
/* A is copied only for k above this: with a short k the copy costs more
 * than it saves (speech models, k 24: the copy alone took ~12 % of a
 * row tile's time), and the rows are read from L1 anyway. */
#ifndef RNNKIT_GEMM_PACK_MINK
#define RNNKIT_GEMM_PACK_MINK 64
#endif

/* Columns per column block for k block kq: a multiple of RNNKIT_NVMAX
 * (so only the block's last tile is narrow), 8..RNNKIT_GEMM_PMAX. */
static inline int rnnkit_gemm_pc(int64_t kq) {
    int64_t pc = RNNKIT_GEMM_WBYTES / ((kq > 0 ? kq : 1) * RNNKIT_VW * 4);
    pc = pc / RNNKIT_NVMAX * RNNKIT_NVMAX;
    return pc < RNNKIT_NVMAX ? RNNKIT_NVMAX : (pc > RNNKIT_GEMM_PMAX ? RNNKIT_GEMM_PMAX : (int)pc);
}

/* Floats of slack after the packed tile: the AVX2 pack stores 8 floats
 * per k (6 of them the tile's), so its last store runs 2 past the end. */
#define RNNKIT_GEMM_PA_SLACK 8

/* A[0..mr-1][0..kq-1] (row stride lda) k-major into pa[kk*MR + r].
 * AVX2 full tiles: 8 k at a time, the 6 x 8 block of A transposed in
 * registers (as an 8 x 8 block with 2 zero rows) and each k's 6 floats
 * stored as one 8-float store that the next k's store overlaps (pa has
 * RNNKIT_GEMM_PA_SLACK floats of slack). The pack is repeated for every
 * column block, and element by element it took ~15 % of the gemm (perf:
 * m 400, H = K 512, LSTM gates; skipping the repeats altogether, which
 * gives wrong sums, ran 62 -> 72 GFLOP/s on the same machine). The same
 * floats land in the same places: the sums do not change. */
RNNKIT_VINLINE void rnnkit_gemm_pack_a(int64_t mr, int64_t kq, const float *a, int64_t lda,
                                       float *pa) {
    if (mr == RNNKIT_TILE_MR) {
        const float *ar[RNNKIT_TILE_MR];
        for (int r = 0; r < RNNKIT_TILE_MR; r++) ar[r] = a + (size_t)r * (size_t)lda;
        int64_t kk = 0;
#if RNNKIT_VW == 8 && RNNKIT_TILE_MR == 6
        for (; kk + 8 <= kq; kk += 8) {
            const __m256 z = _mm256_setzero_ps();
            __m256 r0 = _mm256_loadu_ps(ar[0] + kk), r1 = _mm256_loadu_ps(ar[1] + kk);
            __m256 r2 = _mm256_loadu_ps(ar[2] + kk), r3 = _mm256_loadu_ps(ar[3] + kk);
            __m256 r4 = _mm256_loadu_ps(ar[4] + kk), r5 = _mm256_loadu_ps(ar[5] + kk);
            __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 s4 = _mm256_shuffle_ps(t4, z, 0x44), s5 = _mm256_shuffle_ps(t4, z, 0xEE);
            __m256 s6 = _mm256_shuffle_ps(t5, z, 0x44), s7 = _mm256_shuffle_ps(t5, z, 0xEE);
            float *o = pa + kk * 6;
            _mm256_storeu_ps(o + 0, _mm256_permute2f128_ps(s0, s4, 0x20));
            _mm256_storeu_ps(o + 6, _mm256_permute2f128_ps(s1, s5, 0x20));
            _mm256_storeu_ps(o + 12, _mm256_permute2f128_ps(s2, s6, 0x20));
            _mm256_storeu_ps(o + 18, _mm256_permute2f128_ps(s3, s7, 0x20));
            _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(s0, s4, 0x31));
            _mm256_storeu_ps(o + 30, _mm256_permute2f128_ps(s1, s5, 0x31));
            _mm256_storeu_ps(o + 36, _mm256_permute2f128_ps(s2, s6, 0x31));
            _mm256_storeu_ps(o + 42, _mm256_permute2f128_ps(s3, s7, 0x31));
        }
#endif
        for (; kk < kq; kk++)
            for (int r = 0; r < RNNKIT_TILE_MR; r++) pa[kk * RNNKIT_TILE_MR + r] = ar[r][kk];
        return;
    }
    for (int64_t r = 0; r < mr; r++)
        for (int64_t kk = 0; kk < kq; kk++)
            pa[kk * RNNKIT_TILE_MR + r] = a[(size_t)r * (size_t)lda + (size_t)kk];
}

/* One tile: A packed (pack: pa) or read in place (ai, lda). The full
 * tile of an unpacked gemm with one k block (k <= RNNKIT_GEMM_PACK_MINK,
 * e.g. the speech models' k 24) is inlined here: through the tile switch, the call and
 * the switch took a sixth of a 24-deep tile (ab-kernels, gemm m 63 k 24,
 * LSTM gates, median GFLOP/s, H 32: 67.5 -> 80.4, H 64: 66.3 -> 78.1).
 * The same rnnkit_mk_pk, so the same sums. */
RNNKIT_VINLINE void rnnkit_gemm_tile(int pack, int64_t mr, int nt, int64_t kq, const float *pa,
                                     const float *ai, int64_t lda, const float *const *p,
                                     int64_t s, float *const *oc, int64_t ldo,
                                     const float *const *bv, int first, int last) {
    if (pack)
        rnnkit_tile_pk(mr, nt, kq, pa, 0, p, s, oc, ldo, bv, first, last);
    else if (mr == RNNKIT_TILE_MR && nt == RNNKIT_TILE_NV && first && last)
        rnnkit_mk_pk(RNNKIT_TILE_MR, RNNKIT_TILE_NV, 0, kq, ai, lda, p, s, oc, ldo, bv, 1, 1);
    else
        rnnkit_tile_ck(mr, nt, kq, ai, lda, p, s, oc, ldo, bv, first, last);
}

/* The gemm of m = 1 or 2 rows (a stream push of one frame per batch row,
 * an LSTM projection at batch 1-2): the steps' GEMV tiles over whole
 * units of the layout (rnnkit_tile_pp_*: ucols columns per unit, units
 * ustride*k floats apart; one pointer per unit, no per-column set-up),
 * then C = sum + bias (+0 where bias is NULL), as the blocked path
 * stores it. The same FMA chain per element from +0 over k, so the same
 * bits as that path. callgrind, one-frame pushes of an LSTM (H 32, input
 * 24, 16 columns), gemm instructions per push: 2330 through the blocked
 * path as it was; 1816 once its column set-up lost its divisions and its
 * 1-row tile its per-column pointer steps; 1255 here. scripts/ab-kernels.sh
 * (one process, median GFLOP/s, old -> new): m 1, LSTM gates, H 32 K 24:
 * 26.1 -> 43.0; GRU gates 18.4 -> 31.2; g 1, h 128, k 256 (an LSTM
 * projection at batch 1): 30.0 -> 35.2. */
RNNKIT_VINLINE void rnnkit_gemm_short(int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k, const float *a,
                                      int64_t lda, const float *packed, const float *bias,
                                      float *c, int64_t ldc, int64_t ucols, int64_t ustride,
                                      int64_t nunits, int64_t ncols) {
    float buf[RNNKIT_TILE_MR * RNNKIT_BUF_LD] __attribute__((aligned(64)));
    const int64_t per = rnnkit_nvmax(m) / ucols; /* ucols <= 4 <= nvmax */
    /* Column cc = block b, gate gi (C columns gi*hs + b*VW ..). */
    int64_t cc = 0, b = 0, gi = 0;
    for (int64_t u0 = 0; u0 < nunits; u0 += per) {
        const int64_t nu = nunits - u0 < per ? nunits - u0 : per;
        const float *pu = packed + (size_t)u0 * (size_t)k * (size_t)ustride;
        switch (ucols) {
        case 1: rnnkit_tile_pp_10(m, nu, k, a, lda, pu, NULL, buf); break;
        case 2: rnnkit_tile_pp_20(m, nu, k, a, lda, pu, NULL, buf); break;
        case 3: rnnkit_tile_pp_30(m, nu, k, a, lda, pu, NULL, buf); break;
        default: rnnkit_tile_pp_40(m, nu, k, a, lda, pu, NULL, buf); break;
        }
        for (int64_t j = 0; j < nu * ucols && cc < ncols; j++, cc++) {
            const int64_t col = gi * hs + b * RNNKIT_VW, n1 = h - b * RNNKIT_VW;
            const float *sj = buf + j * RNNKIT_VW;
            float *cj = c + col;
            if (n1 >= RNNKIT_VW) {
                const V bv = bias ? vload(bias + col) : vzero();
                vstore(cj, vadd(vload(sj), bv));
                if (m == 2) vstore(cj + ldc, vadd(vload(sj + RNNKIT_BUF_LD), bv));
            } else { /* the last block's n1 < VW units: masked */
                VT t = vtail(n1);
                const V bv = bias ? vload_t(bias + col, t) : vzero();
                vstore_t(cj, vadd(vload(sj), bv), t);
                if (m == 2) vstore_t(cj + ldc, vadd(vload(sj + RNNKIT_BUF_LD), bv), t);
            }
            if (++gi == g) gi = 0, b++;
        }
    }
}

void RNNKIT_FN(gemm)(int nr, int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k, const float *a,
                     int64_t lda, const float *packed, const float *bias, float *c,
                     int64_t ldc) {
    assert(nr == RNNKIT_VW && g >= 1 && g <= 4);
    (void)nr;
    float buf[RNNKIT_TILE_MR * RNNKIT_BUF_LD] __attribute__((aligned(64)));
    float pa[RNNKIT_TILE_MR * RNNKIT_GEMM_KC + RNNKIT_GEMM_PA_SLACK] __attribute__((aligned(64)));
    const int64_t nb = (h + RNNKIT_VW - 1) / RNNKIT_VW, ncols = nb * g;
    const int64_t pstride = g * RNNKIT_VW, mc = RNNKIT_GEMM_MC_TILES * RNNKIT_TILE_MR;
    /* Weight layout (simd/x86/gemm-layout.h): units of the packed buffer
     * are block panels (g columns, k stride pstride) or column pairs
     * (2 columns, k stride 2*VW); ustride = floats per k row of a unit. */
    const int pairs = rnnkit_gemm_pairs(RNNKIT_VW, g);
    const int64_t ustride = pairs ? 2 * RNNKIT_VW : pstride, ucols = pairs ? 2 : g;
    const int64_t nunits = pairs ? (ncols + 1) / 2 : nb;
    const int pf_w = rnnkit_pf_bytes(4.0 * (double)nb * (double)pstride * (double)k);
    /* Weights far out of cache keep the blocked path and its prefetch. */
    if (m >= 1 && m <= 2 && !pf_w) {
        rnnkit_gemm_short(m, g, h, hs, k, a, lda, packed, bias, c, ldc, ucols, ustride, nunits, ncols);
        return;
    }
    const int pack = k > RNNKIT_GEMM_PACK_MINK;
    /* C column of gate gi's unit 0, read from memory by the column
     * set-up: with gi * hs there, a gemm m 63 K 24 (LSTM gates, H 32 and
     * 64) ran 1.9 % more instructions than before hs existed (callgrind),
     * with this 0.1-0.2 % fewer. */
    int64_t goff[4];
    for (int gi = 0; gi < 4; gi++) goff[gi] = gi * hs;
    for (int64_t i1 = 0; i1 < m; i1 += mc) {
        const int64_t iend = m - i1 < mc ? m : i1 + mc;
        /* k = 0 still runs one (empty) block: C = 0 + bias. */
        for (int64_t k0 = 0; k0 == 0 || k0 < k; k0 += RNNKIT_GEMM_KC) {
            const int64_t kq = k - k0 < RNNKIT_GEMM_KC ? k - k0 : RNNKIT_GEMM_KC;
            const int first = k0 == 0, last = k0 + kq >= k;
            const int pc = rnnkit_gemm_pc(kq);
            for (int64_t c0 = 0; c0 < ncols; c0 += pc) {
                const int nc = ncols - c0 < pc ? (int)(ncols - c0) : pc;
                const float *p[RNNKIT_GEMM_PMAX];
                int64_t col[RNNKIT_GEMM_PMAX], nv[RNNKIT_GEMM_PMAX];
                /* Column c0 + v: block b, gate gi; column ui of its
                 * unit of the layout (at pu). Counters, not four
                 * divisions per column (set-up that a gemm of few rows
                 * does not amortise). */
                {
                    int64_t b = c0 / g, gi = c0 % g, ui = c0 % ucols;
                    const float *pu = packed + ((size_t)(c0 / ucols) * (size_t)k + (size_t)k0) * (size_t)ustride;
                    int64_t cb = b * RNNKIT_VW, nb_ = h - cb < RNNKIT_VW ? h - cb : RNNKIT_VW;
                    for (int v = 0; v < nc; v++) {
                        p[v] = pu + ui * RNNKIT_VW;
                        col[v] = goff[gi] + cb;
                        nv[v] = nb_;
                        if (++gi == g) {
                            gi = 0, cb += RNNKIT_VW;
                            nb_ = h - cb < RNNKIT_VW ? h - cb : RNNKIT_VW;
                        }
                        if (++ui == ucols) ui = 0, pu += (size_t)k * (size_t)ustride;
                    }
                }
                /* Weights far out of cache (rnnkit_pf_bytes): the next
                 * column block's (same k block; blocks nb0..nb1-1, kq*pstride
                 * contiguous floats each) are prefetched a few lines per
                 * tile, so that they arrive while this block computes:
                 * otherwise the first row tile of each column block waits
                 * on them, which a small m (batch 1: T rows) does not
                 * amortise. Measured (scripts/ab-kernels.sh, AVX2, LSTM
                 * gates, median GFLOP/s, old -> new, three runs): m 50,
                 * H = K 1024 (16 MiB of weights): 42.6 -> 49.7, 41.0 ->
                 * 44.1, 47.0 -> 55.0; m 400, H 1024: 59.1 -> 61.9, 56.1 ->
                 * 56.3, 63.2 -> 65.1; at H 256 and 512 (1 and 4 MiB, in
                 * L3) it lost 3-7 % at m 50, so it is off there. */
                const int64_t nb0 = (c0 + pc) / ucols;
                int64_t nb1 = (c0 + 2 * (int64_t)pc + ucols - 1) / ucols;
                if (nb1 > nunits) nb1 = nunits;
                const int64_t pf_lines_blk = kq * ustride * 4 / 64;
                const int64_t pf_total = pf_w && nb0 < nb1 ? (nb1 - nb0) * pf_lines_blk : 0;
                const int64_t ntile_ = ((iend - i1 + RNNKIT_TILE_MR - 1) / RNNKIT_TILE_MR) *
                                       ((nc + RNNKIT_TILE_NV - 1) / RNNKIT_TILE_NV);
                const int64_t pf_per = (pf_total + ntile_ - 1) / (ntile_ > 0 ? ntile_ : 1);
                int64_t pf_next = 0;
                for (int64_t i0 = i1; i0 < iend; i0 += RNNKIT_TILE_MR) {
                    const int64_t mr = iend - i0 < RNNKIT_TILE_MR ? iend - i0 : RNNKIT_TILE_MR;
                    const float *ai = a + (size_t)i0 * (size_t)lda + (size_t)k0;
                    if (pack) rnnkit_gemm_pack_a(mr, kq, ai, lda, pa);
                    const int nvm = rnnkit_nvmax(mr);
                    for (int v0 = 0; v0 < nc; v0 += nvm) {
                        const int nt = nc - v0 < nvm ? nc - v0 : nvm;
                        for (int64_t q = 0; q < pf_per && pf_next < pf_total; q++, pf_next++) {
                            const int64_t bq = nb0 + pf_next / pf_lines_blk;
                            const int64_t lq = pf_next % pf_lines_blk;
                            __builtin_prefetch(packed + ((size_t)bq * (size_t)k + (size_t)k0) * (size_t)ustride +
                                                   (size_t)lq * 16,
                                               0, 3);
                        }
                        float *oc[RNNKIT_NVMAX];
                        const float *bv[RNNKIT_NVMAX];
                        int full = 1;
                        for (int v = 0; v < nt; v++) {
                            oc[v] = c + (size_t)i0 * (size_t)ldc + (size_t)col[v0 + v];
                            bv[v] = bias ? bias + col[v0 + v] : NULL;
                            full &= nv[v0 + v] == RNNKIT_VW;
                        }
                        /* The next tile's C lines (this row tile's next
                         * columns, else the next row tile's first): after
                         * the first k block its partial sums come from L3
                         * or memory, and a tile cannot start before they
                         * arrive; in the first, its stores would wait on
                         * the lines' reads for ownership (m 400, H = K 256,
                         * one k block, median GFLOP/s: 57 without, 66-68
                         * with it; the previous gemm ran at 63-65 in the
                         * same processes). Not for a short k (the tile is
                         * too short to hide it). */
                        if (pack || !first) {
                            int64_t ni = i0, nv0 = v0 + nt;
                            if (nv0 >= nc) ni = i0 + RNNKIT_TILE_MR, nv0 = 0;
                            if (ni < iend)
                                for (int v = 0; v < nvm && nv0 + v < nc; v++)
                                    for (int64_t r = 0; r < RNNKIT_TILE_MR && ni + r < iend; r++)
                                        __builtin_prefetch(c + (size_t)(ni + r) * (size_t)ldc +
                                                               (size_t)col[nv0 + v],
                                                           1, 3);
                        }
                        if (full) {
                            rnnkit_gemm_tile(pack, mr, nt, kq, pa, ai, lda, p + v0, ustride, oc,
                                             ldc, bv, first, last);
                            continue;
                        }
                        /* A tail block among the columns: partial sums
                         * through buf, C read and written masked. */
                        float *ob[RNNKIT_NVMAX];
                        for (int v = 0; v < nt; v++) {
                            const int64_t n1 = nv[v0 + v];
                            VT t = vtail(n1);
                            ob[v] = buf + v * RNNKIT_VW;
                            for (int64_t r = 0; r < mr && !first; r++)
                                vstore(ob[v] + r * RNNKIT_BUF_LD,
                                       rnnkit_ld(oc[v] + (size_t)r * (size_t)ldc, n1, t));
                        }
                        rnnkit_gemm_tile(pack, mr, nt, kq, pa, ai, lda, p + v0, ustride, ob,
                                         RNNKIT_BUF_LD, NULL, first, 0);
                        for (int v = 0; v < nt; v++) {
                            const int64_t n1 = nv[v0 + v];
                            VT t = vtail(n1);
                            V b = last && bias ? rnnkit_ld(bv[v], n1, t) : vzero();
                            for (int64_t r = 0; r < mr; r++) {
                                V sum = vload(ob[v] + r * RNNKIT_BUF_LD);
                                rnnkit_st(oc[v] + (size_t)r * (size_t)ldc,
                                          last ? vadd(sum, b) : sum, n1, t);
                            }
                        }
                    }
                }
            }
        }
    }
}
