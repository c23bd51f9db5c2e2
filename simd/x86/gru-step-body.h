/*
 * Fused GRU step, both reset variants (semantics: simd/kernels.h), shared
 * by f32-gru-step-avx2.c and f32-gru-step-avx512.c.
 * linear_before_reset = 1: one pass; the tile holds r, z (packed w) and
 *   W_n h_prev (packed w_n) for MR rows x 3 vectors (MR = RNNKIT_MR_G3).
 * linear_before_reset = 0: two passes like the scalar kernel: pass 1
 *   (MR_G2 rows x r,z) stores r*h_prev in scratch[n, k] and z in h_out
 *   for the whole unit range; pass 2 (MR_G1 rows x n) reads scratch as
 *   the GEMV input and finishes h. Needs the whole unit range [0, h).
 * Tails and bounds as in simd/x86/step-common.h (scratch: units of the
 * range only).
 */
#include "vmath.h"
#include "step-common.h"

RNNKIT_VINLINE void rnnkit_gru_lbr_tile(const int MR, const rnnkit_step_args *a, int64_t i0,
                                        int64_t j0, int64_t blk, int64_t nv) {
    const int64_t H = a->h, K = a->k;
    V acc[RNNKIT_MRMAX][4];
    const float *p = a->w + (size_t)blk * (size_t)K * 2 * RNNKIT_VW;
    const float *q = a->w_n + (size_t)blk * (size_t)K * RNNKIT_VW;
    rnnkit_tile_accum(MR, 2, 1, K, RNNKIT_ROW(a->h_prev, a->ld_h_prev, 0), a->ld_h_prev, p, q,
                      acc);
    VT t = vtail(nv);
    V bhn = a->b_hn ? rnnkit_ld(a->b_hn + j0, nv, t) : vzero();
    for (int r = 0; r < MR; r++) {
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        V pr = vadd(acc[r][0], rnnkit_ld(xp, nv, t));
        V pz = vadd(acc[r][1], rnnkit_ld(xp + H, nv, t));
        if (a->clip > 0.0f) {
            pr = rnnkit_vclip(pr, a->clip);
            pz = rnnkit_vclip(pz, a->clip);
        }
        V rg = vsigmoid(pr), zg = vsigmoid(pz);
        V pn = vfma(rg, vadd(acc[r][2], bhn), rnnkit_ld(xp + 2 * H, nv, t));
        if (a->clip > 0.0f) pn = rnnkit_vclip(pn, a->clip);
        V ng = vtanh(pn);
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, vfma(zg, vsub(hp, ng), ng), nv, t);
    }
}

RNNKIT_VINLINE void rnnkit_gru_rz_tile(const int MR, const rnnkit_step_args *a, int64_t i0,
                                       int64_t j0, int64_t blk, int64_t nv) {
    const int64_t H = a->h, K = a->k;
    V acc[RNNKIT_MRMAX][4];
    const float *p = a->w + (size_t)blk * (size_t)K * 2 * RNNKIT_VW;
    rnnkit_tile_accum(MR, 2, 0, K, RNNKIT_ROW(a->h_prev, a->ld_h_prev, 0), a->ld_h_prev, p, p,
                      acc);
    VT t = vtail(nv);
    for (int r = 0; r < MR; r++) {
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        V pr = vadd(acc[r][0], rnnkit_ld(xp, nv, t));
        V pz = vadd(acc[r][1], rnnkit_ld(xp + H, nv, t));
        if (a->clip > 0.0f) {
            pr = rnnkit_vclip(pr, a->clip);
            pz = rnnkit_vclip(pz, a->clip);
        }
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(RNNKIT_ROW(a->scratch, K, r) + j0, vmul(vsigmoid(pr), hp), nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, vsigmoid(pz), nv, t);
    }
}

RNNKIT_VINLINE void rnnkit_gru_n_tile(const int MR, const rnnkit_step_args *a, int64_t i0,
                                      int64_t j0, int64_t blk, int64_t nv) {
    const int64_t H = a->h, K = a->k;
    V acc[RNNKIT_MRMAX][4];
    const float *q = a->w_n + (size_t)blk * (size_t)K * RNNKIT_VW;
    rnnkit_tile_accum(MR, 1, 0, K, RNNKIT_ROW(a->scratch, K, 0), K, q, q, acc);
    VT t = vtail(nv);
    for (int r = 0; r < MR; r++) {
        V pn = vadd(acc[r][0], rnnkit_ld(RNNKIT_ROW(a->xp, a->ld_xp, r) + j0 + 2 * H, nv, t));
        if (a->clip > 0.0f) pn = rnnkit_vclip(pn, a->clip);
        V ng = vtanh(pn);
        float *ho = RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0;
        V zg = rnnkit_ld(ho, nv, t);
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(ho, vfma(zg, vsub(hp, ng), ng), nv, t);
    }
}

#define RNNKIT_GRU_LBR_CALL_(M) rnnkit_gru_lbr_tile(M, a, i0, j0, blk, nv)
#define RNNKIT_GRU_RZ_CALL_(M) rnnkit_gru_rz_tile(M, a, i0, j0, blk, nv)
#define RNNKIT_GRU_N_CALL_(M) rnnkit_gru_n_tile(M, a, i0, j0, blk, nv)

void RNNKIT_FN(gru_step)(const rnnkit_step_args *a) {
    assert(a->default_act && a->nr == RNNKIT_VW);
    if (a->linear_before_reset) {
        RNNKIT_STEP_LOOP(a, RNNKIT_MR_G3, RNNKIT_GRU_LBR_CALL_)
        return;
    }
    assert(a->scratch);
    RNNKIT_STEP_LOOP(a, RNNKIT_MR_G2, RNNKIT_GRU_RZ_CALL_)
    RNNKIT_STEP_LOOP(a, RNNKIT_MR_G1, RNNKIT_GRU_N_CALL_)
}
