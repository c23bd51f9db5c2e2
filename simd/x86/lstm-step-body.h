/*
 * Fused LSTM step (semantics: simd/kernels.h), shared by
 * f32-lstm-step-avx2.c and f32-lstm-step-avx512.c. Columns: the 4 gates
 * of each VW-unit block; batch >= 3: one block per group, tiles of
 * RNNKIT_TILE_MR rows x 2 gates (two passes per block); batch 1: two
 * blocks (8 columns) per tile, batch 2: one block (2 rows x 4 columns).
 * Every element's gate sum is the same FMA chain over k in every case
 * (simd/x86/tile.h). Peepholes, clip and input_forget are applied on the
 * L1-resident sums; tails and bounds as in simd/x86/step-common.h.
 */
#include "vmath.h"
#include "step-common.h"

RNNKIT_VINLINE void rnnkit_lstm_update(const rnnkit_step_args *a, const float *buf, int64_t i0,
                                       int64_t mr, int c0, int64_t j0, int64_t nv) {
    const int64_t H = a->h;
    VT t = vtail(nv);
    const float clip = a->clip;
    for (int64_t r = 0; r < mr; r++) {
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        const float *cp = RNNKIT_ROW(a->c_prev, H, r) + j0;
        V cprev = rnnkit_ld(cp, nv, t);
        V pi = vadd(RNNKIT_ACC(r, c0 + 0), rnnkit_ld(xp, nv, t));
        V pf = vadd(RNNKIT_ACC(r, c0 + 1), rnnkit_ld(xp + H, nv, t));
        V pg = vadd(RNNKIT_ACC(r, c0 + 2), rnnkit_ld(xp + 2 * H, nv, t));
        V po = vadd(RNNKIT_ACC(r, c0 + 3), rnnkit_ld(xp + 3 * H, nv, t));
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

#define RNNKIT_LSTM_COLS_(bb, blk, p, s)                                                  \
    for (int g = 0; g < 4; g++) {                                                         \
        p[(bb)*4 + g] = a->w + (size_t)(blk) * (size_t)a->k * 4 * RNNKIT_VW + g * RNNKIT_VW; \
        s[(bb)*4 + g] = 4 * RNNKIT_VW;                                                    \
    }
#define RNNKIT_LSTM_UPDATE_(i0, mr, bb, j0, nv) \
    rnnkit_lstm_update(a, buf, i0, mr, (int)(bb)*4, j0, nv)

void RNNKIT_FN(lstm_step)(const rnnkit_step_args *a) {
    assert(a->default_act && a->nr == RNNKIT_VW);
    RNNKIT_STEP_GROUPS(a, 4, a->h_prev, a->ld_h_prev, RNNKIT_LSTM_COLS_, RNNKIT_LSTM_UPDATE_);
}
