/*
 * Fused LSTM step (semantics: simd/kernels.h), shared by
 * f32-lstm-step-avx2.c and f32-lstm-step-avx512.c. Tile: MR batch rows x
 * 4 gate vectors of one VW-unit block (avx512 6x4 zmm, avx2 3x4 ymm);
 * batch 1 splits k into 2 partial sums (8 chains). Peepholes, clip and
 * input_forget are applied in registers; tails and bounds as in
 * simd/x86/step-common.h.
 */
#include "vmath.h"
#include "step-common.h"

RNNKIT_VINLINE void rnnkit_lstm_tile(const int MR, const rnnkit_step_args *a, int64_t i0,
                                     int64_t j0, int64_t blk, int64_t nv) {
    const int64_t H = a->h, K = a->k;
    V acc[RNNKIT_MRMAX][4];
    const float *p = a->w + (size_t)blk * (size_t)K * 4 * RNNKIT_VW;
    rnnkit_tile_accum(MR, 4, 0, K, RNNKIT_ROW(a->h_prev, a->ld_h_prev, 0), a->ld_h_prev, p, p,
                      acc);
    VT t = vtail(nv);
    const float clip = a->clip;
    for (int r = 0; r < MR; r++) {
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        const float *cp = RNNKIT_ROW(a->c_prev, H, r) + j0;
        V cprev = rnnkit_ld(cp, nv, t);
        V pi = vadd(acc[r][0], rnnkit_ld(xp, nv, t));
        V pf = vadd(acc[r][1], rnnkit_ld(xp + H, nv, t));
        V pg = vadd(acc[r][2], rnnkit_ld(xp + 2 * H, nv, t));
        V po = vadd(acc[r][3], rnnkit_ld(xp + 3 * H, nv, t));
        if (a->peep) {
            pi = vfma(rnnkit_ld(a->peep + j0, nv, t), cprev, pi);
            pf = vfma(rnnkit_ld(a->peep + H + j0, nv, t), cprev, pf);
        }
        if (clip > 0.0f) {
            pi = rnnkit_vclip(pi, clip);
            pf = rnnkit_vclip(pf, clip);
            pg = rnnkit_vclip(pg, clip);
        }
        V ig = vsigmoid(pi);
        V fg = a->input_forget ? vsub(vset1(1.0f), ig) : vsigmoid(pf);
        V c = vfma(fg, cprev, vmul(ig, vtanh(pg)));
        if (a->peep) po = vfma(rnnkit_ld(a->peep + 2 * H + j0, nv, t), c, po);
        if (clip > 0.0f) po = rnnkit_vclip(po, clip);
        V og = vsigmoid(po);
        rnnkit_st(RNNKIT_ROW(a->c_out, H, r) + j0, c, nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, vmul(og, vtanh(c)), nv, t);
    }
}

#define RNNKIT_LSTM_CALL_(M) rnnkit_lstm_tile(M, a, i0, j0, blk, nv)

void RNNKIT_FN(lstm_step)(const rnnkit_step_args *a) {
    assert(a->default_act && a->nr == RNNKIT_VW);
    RNNKIT_STEP_LOOP(a, RNNKIT_MR_G4, RNNKIT_LSTM_CALL_)
}
