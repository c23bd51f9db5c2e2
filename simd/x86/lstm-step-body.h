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

/* The update of the group's blocks for rows i0..i0+mr-1, in phases over
 * the (row, block) items (simd/x86/step-common.h). */
RNNKIT_VINLINE void rnnkit_lstm_update(const int STD, const rnnkit_step_args *a, const float *buf,
                                       int64_t i0, int64_t mr, int64_t g0, int64_t nbg) {
    const int64_t H = a->h;
    const float clip = a->clip;
    const int n = (int)(mr * nbg);
    V pi[RNNKIT_MAX_ITEMS], pf[RNNKIT_MAX_ITEMS], pg[RNNKIT_MAX_ITEMS], po[RNNKIT_MAX_ITEMS],
        cs[RNNKIT_MAX_ITEMS];
    assert(n <= RNNKIT_MAX_ITEMS);
    for (int it = 0, r = 0, bb = 0; it < n; it++) {
        const int64_t j0 = g0 + bb * RNNKIT_VW;
        const int64_t nv = rnnkit_block_nv(a, j0);
        VT t = vtail(nv);
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        const int c0 = bb * 4;
        V cprev = rnnkit_ld(RNNKIT_ROW(a->c_prev, H, r) + j0, nv, t);
        V vi = vadd(RNNKIT_ACC(r, c0 + 0), rnnkit_ld(xp, nv, t));
        V vf = vadd(RNNKIT_ACC(r, c0 + 1), rnnkit_ld(xp + H, nv, t));
        V vg = vadd(RNNKIT_ACC(r, c0 + 2), rnnkit_ld(xp + 2 * H, nv, t));
        po[it] = vadd(RNNKIT_ACC(r, c0 + 3), rnnkit_ld(xp + 3 * H, nv, t));
        if (a->peep) {
            vi = vfma(rnnkit_ld(a->peep + j0, nv, t), cprev, vi);
            vf = vfma(rnnkit_ld(a->peep + H + j0, nv, t), cprev, vf);
        }
        if (clip > 0.0f) {
            vi = rnnkit_vclip(vi, clip);
            vf = rnnkit_vclip(vf, clip);
            vg = rnnkit_vclip(vg, clip);
        }
        pi[it] = vi, pf[it] = vf, pg[it] = vg, cs[it] = cprev;
        if (++bb == nbg) bb = 0, r++;
    }
    for (int it = 0; it < n; it++) pi[it] = RNNKIT_ACT(STD, a, 0, vsigmoid, pi[it]);
    if (a->input_forget)
        for (int it = 0; it < n; it++) pf[it] = vsub(vset1(1.0f), pi[it]);
    else
        for (int it = 0; it < n; it++) pf[it] = RNNKIT_ACT(STD, a, 0, vsigmoid, pf[it]);
    for (int it = 0; it < n; it++) pg[it] = RNNKIT_ACT(STD, a, 1, vtanh, pg[it]);
    for (int it = 0, bb = 0; it < n; it++) {
        const int64_t j0 = g0 + bb * RNNKIT_VW;
        const int64_t nv = rnnkit_block_nv(a, j0);
        V c = vfma(pf[it], cs[it], vmul(pi[it], pg[it]));
        cs[it] = c;
        if (a->peep) po[it] = vfma(rnnkit_ld(a->peep + 2 * H + j0, nv, vtail(nv)), c, po[it]);
        if (clip > 0.0f) po[it] = rnnkit_vclip(po[it], clip);
        if (++bb == nbg) bb = 0;
    }
    for (int it = 0; it < n; it++) po[it] = RNNKIT_ACT(STD, a, 0, vsigmoid, po[it]);
    for (int it = 0; it < n; it++) pg[it] = RNNKIT_ACT(STD, a, 2, vtanh, cs[it]);
    for (int it = 0, r = 0, bb = 0; it < n; it++) {
        const int64_t j0 = g0 + bb * RNNKIT_VW;
        const int64_t nv = rnnkit_block_nv(a, j0);
        VT t = vtail(nv);
        rnnkit_st(RNNKIT_ROW(a->c_out, H, r) + j0, cs[it], nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, vmul(po[it], pg[it]), nv, t);
        if (++bb == nbg) bb = 0, r++;
    }
}

/* NB (1..4, a compile-time constant) full blocks of one row with the
 * standard activations and no peepholes, clip or input_forget: the
 * operations of rnnkit_lstm_update in the same order on the same
 * operands, so the same bits. acc: the blocks' gate sums (block b, gate
 * g at acc[(b*4 + g)*VW]); xp, cp, co, ho: the row at the first block's
 * unit. */
RNNKIT_VINLINE void rnnkit_lstm_blocks(const int NB, const float *acc, const float *xp, int64_t H,
                                       const float *cp, float *co, float *ho) {
    V vi[4], vf[4], vg[4], vo[4];
    for (int b = 0; b < NB; b++) {
        const float *ab = acc + b * 4 * RNNKIT_VW, *xb = xp + b * RNNKIT_VW;
        vi[b] = vadd(vload(ab), vload(xb));
        vf[b] = vadd(vload(ab + RNNKIT_VW), vload(xb + H));
        vg[b] = vadd(vload(ab + 2 * RNNKIT_VW), vload(xb + 2 * H));
        vo[b] = vadd(vload(ab + 3 * RNNKIT_VW), vload(xb + 3 * H));
    }
    for (int b = 0; b < NB; b++) vi[b] = vsigmoid(vi[b]);
    for (int b = 0; b < NB; b++) vf[b] = vsigmoid(vf[b]);
    for (int b = 0; b < NB; b++) vg[b] = vtanh(vg[b]);
    for (int b = 0; b < NB; b++) vf[b] = vfma(vf[b], vload(cp + b * RNNKIT_VW), vmul(vi[b], vg[b]));
    for (int b = 0; b < NB; b++) vo[b] = vsigmoid(vo[b]);
    for (int b = 0; b < NB; b++) {
        vstore(co + b * RNNKIT_VW, vf[b]);
        vstore(ho + b * RNNKIT_VW, vmul(vo[b], vtanh(vf[b])));
    }
}

/* One row's update of nbg blocks, all full, standard cell (see
 * rnnkit_lstm_blocks): the row's pointers are set once and the blocks
 * are taken four at a time, unrolled. The general update walks (row,
 * block) items through index arithmetic, tail masks and run-time
 * options; at batch 1, H 32 it took ~1600 instructions per step
 * (callgrind), ~400 per block. */
RNNKIT_VINLINE void rnnkit_lstm_update_row(const rnnkit_step_args *a, const float *buf, int64_t i0,
                                           int64_t g0, int64_t nbg) {
    const int64_t H = a->h;
    const float *xp = a->xp + (size_t)i0 * (size_t)a->ld_xp + g0;
    const float *cp = a->c_prev + (size_t)i0 * (size_t)H + g0;
    float *co = a->c_out + (size_t)i0 * (size_t)H + g0;
    float *ho = a->h_out + (size_t)i0 * (size_t)a->ld_h_out + g0;
    int64_t b = 0;
    for (; b + 4 <= nbg; b += 4)
        rnnkit_lstm_blocks(4, buf + b * 4 * RNNKIT_VW, xp + b * RNNKIT_VW, H, cp + b * RNNKIT_VW,
                           co + b * RNNKIT_VW, ho + b * RNNKIT_VW);
    const float *ab = buf + b * 4 * RNNKIT_VW;
    const int64_t o = b * RNNKIT_VW;
    switch (nbg - b) {
    case 3: rnnkit_lstm_blocks(3, ab, xp + o, H, cp + o, co + o, ho + o); break;
    case 2: rnnkit_lstm_blocks(2, ab, xp + o, H, cp + o, co + o, ho + o); break;
    case 1: rnnkit_lstm_blocks(1, ab, xp + o, H, cp + o, co + o, ho + o); break;
    default: break;
    }
}

#define RNNKIT_LSTM_COLS_(bb, blk, p, s)                                                  \
    for (int g = 0; g < 4; g++) {                                                         \
        p[(bb)*4 + g] = a->w + (size_t)(blk) * (size_t)a->k * 4 * RNNKIT_VW + g * RNNKIT_VW; \
        s[(bb)*4 + g] = 4 * RNNKIT_VW;                                                    \
    }
#define RNNKIT_LSTM_UPDATE_(i0, mr, g0, nbg)                                                  \
    do {                                                                                      \
        if (plain_ && (mr) == 1 && (g0) + (nbg)*RNNKIT_VW <= a->j_end)                         \
            rnnkit_lstm_update_row(a, buf, i0, g0, nbg);                                      \
        else                                                                                  \
            rnnkit_lstm_update(std_, a, buf, i0, mr, g0, nbg);                                \
    } while (0)
#define RNNKIT_LSTM_PREF_(i0, mr, g0, nbg)                                             \
    do {                                                                               \
        const int64_t len_ = RNNKIT_GROUP_LEN(a, g0, nbg);                            \
        for (int g = 0; g < 4; g++)                                                    \
            rnnkit_prefetch_rows(a->xp + g * a->h, a->ld_xp, i0, mr, g0, len_, 0);     \
        rnnkit_prefetch_rows(a->c_prev, a->h, i0, mr, g0, len_, 0);                    \
        rnnkit_prefetch_rows(a->c_out, a->h, i0, mr, g0, len_, 1);                     \
        rnnkit_prefetch_rows(a->h_out, a->ld_h_out, i0, mr, g0, len_, 1);              \
    } while (0)

/* The step with the standard activations (std_ = 1) or a->act (0), as
 * a compile-time constant (simd/x86/vmath.h RNNKIT_ACT). */
RNNKIT_VINLINE void rnnkit_lstm_step(const int std_, const rnnkit_step_args *a) {
    const int plain_ = std_ && !a->peep && !(a->clip > 0.0f) && !a->input_forget;
    RNNKIT_STEP_GROUPS(a, 4, 0, a->h_prev, a->ld_h_prev, RNNKIT_LSTM_COLS_, RNNKIT_LSTM_UPDATE_,
                       RNNKIT_LSTM_PREF_);
}

void RNNKIT_FN(lstm_step)(const rnnkit_step_args *a) {
    assert(a->nr == RNNKIT_VW);
    if (a->default_act)
        rnnkit_lstm_step(1, a);
    else
        rnnkit_lstm_step(0, a);
}
