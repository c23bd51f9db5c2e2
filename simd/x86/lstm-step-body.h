/*
 * Fused LSTM step (semantics: simd/kernels.h), shared by
 * f32-lstm-step-avx2.c and f32-lstm-step-avx512.c. Columns: the 4 gates
 * of each VW-unit block; batch >= 3: one block per group, tiles of up
 * to RNNKIT_TILE_MR rows (simd/x86/step-common.h rnnkit_row_tiles) x 2
 * gates (two passes per block); batch 1: two
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

/* NB (1..4, a compile-time constant) items, each a full block of one
 * row, with the standard activations and no peepholes, clip or
 * input_forget: the operations of rnnkit_lstm_update in the same order on
 * the same operands, so the same bits. Item b's gate sums at acc + b*sa
 * (gate g VW floats further each), its xp, c_prev / c_out and h_out at
 * xp + b*sx, cp / co + b*sc and ho + b*sh: the blocks of one row (batch
 * 1) or one block of successive rows (batch >= 2 tiles). */
RNNKIT_VINLINE void rnnkit_lstm_items(const int NB, const float *acc, int64_t sa, const float *xp,
                                      int64_t sx, int64_t H, const float *cp, float *co,
                                      int64_t sc, float *ho, int64_t sh) {
    V vi[4], vf[4], vg[4], vo[4];
    for (int b = 0; b < NB; b++) {
        const float *ab = acc + b * sa, *xb = xp + b * sx;
        vi[b] = vadd(vload(ab), vload(xb));
        vf[b] = vadd(vload(ab + RNNKIT_VW), vload(xb + H));
        vg[b] = vadd(vload(ab + 2 * RNNKIT_VW), vload(xb + 2 * H));
        vo[b] = vadd(vload(ab + 3 * RNNKIT_VW), vload(xb + 3 * H));
    }
    for (int b = 0; b < NB; b++) vi[b] = vsigmoid(vi[b]);
    for (int b = 0; b < NB; b++) vf[b] = vsigmoid(vf[b]);
    for (int b = 0; b < NB; b++) vg[b] = vtanh(vg[b]);
    for (int b = 0; b < NB; b++) vf[b] = vfma(vf[b], vload(cp + b * sc), vmul(vi[b], vg[b]));
    for (int b = 0; b < NB; b++) vo[b] = vsigmoid(vo[b]);
    for (int b = 0; b < NB; b++) {
        vstore(co + b * sc, vf[b]);
        vstore(ho + b * sh, vmul(vo[b], vtanh(vf[b])));
    }
}

/* n items (see rnnkit_lstm_items), four at a time, unrolled. */
RNNKIT_VINLINE void rnnkit_lstm_items_n(int64_t n, const float *acc, int64_t sa, const float *xp,
                                        int64_t sx, int64_t H, const float *cp, float *co,
                                        int64_t sc, float *ho, int64_t sh) {
#define RNNKIT_LSTM_ITEMS_(NB, b)                                                          \
    rnnkit_lstm_items(NB, acc + (b)*sa, sa, xp + (b)*sx, sx, H, cp + (b)*sc, co + (b)*sc, sc, \
                      ho + (b)*sh, sh)
    RNNKIT_BY_FOUR(n, RNNKIT_LSTM_ITEMS_);
#undef RNNKIT_LSTM_ITEMS_
}

/* The update of a tile whose blocks are all full, with the standard cell
 * (see rnnkit_lstm_items): the blocks of one row (batch 1), or block by
 * block the tile's rows (batch >= 2), with the pointers set once; 0 if
 * the tile has a partial block. The general update walks (row, block)
 * items through index arithmetic, tail masks and run-time options; at
 * batch 1, H 32 it took ~1600 instructions per step (callgrind), ~400 per
 * block; this one ~1200. */
RNNKIT_VINLINE int rnnkit_lstm_update_plain(const rnnkit_step_args *a, const float *buf, int64_t i0,
                                            int64_t mr, int64_t g0, int64_t nbg) {
    if (g0 + nbg * RNNKIT_VW > a->j_end) return 0;
    const int64_t H = a->h;
    const float *xp = a->xp + (size_t)i0 * (size_t)a->ld_xp + g0;
    const float *cp = a->c_prev + (size_t)i0 * (size_t)H + g0;
    float *co = a->c_out + (size_t)i0 * (size_t)H + g0;
    float *ho = a->h_out + (size_t)i0 * (size_t)a->ld_h_out + g0;
    if (mr == 1)
        rnnkit_lstm_items_n(nbg, buf, 4 * RNNKIT_VW, xp, RNNKIT_VW, H, cp, co, RNNKIT_VW, ho,
                            RNNKIT_VW);
    else
        for (int64_t bb = 0; bb < nbg; bb++) {
            const int64_t o = bb * RNNKIT_VW;
            rnnkit_lstm_items_n(mr, buf + bb * 4 * RNNKIT_VW, RNNKIT_BUF_LD, xp + o, a->ld_xp, H,
                                cp + o, co + o, H, ho + o, a->ld_h_out);
        }
    return 1;
}

#define RNNKIT_LSTM_COLS_(bb, blk, p, s)                                                  \
    for (int g = 0; g < 4; g++) {                                                         \
        p[(bb)*4 + g] = a->w + (size_t)(blk) * (size_t)a->k * 4 * RNNKIT_VW + g * RNNKIT_VW; \
        s[(bb)*4 + g] = 4 * RNNKIT_VW;                                                    \
    }
#define RNNKIT_LSTM_UPDATE_(i0, mr, g0, nbg)                                                  \
    do {                                                                                      \
        if (!plain_ || !rnnkit_lstm_update_plain(a, buf, i0, mr, g0, nbg))                    \
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

/* Batch 1, the standard cell (rnnkit_step_b1_ok). */
__attribute__((noinline)) static void rnnkit_lstm_step_b1(const rnnkit_step_args *a) {
#define RNNKIT_LSTM_B1_U_(g0, nbs) (void)rnnkit_lstm_update_plain(a, buf, 0, 1, g0, nbs)
    RNNKIT_STEP_B1(a, 4, 0, a->h_prev, a->ld_h_prev, a->w, a->w, RNNKIT_LSTM_B1_U_);
#undef RNNKIT_LSTM_B1_U_
}

/* The step with the standard activations (std_ = 1) or a->act (0), as
 * a compile-time constant (simd/x86/vmath.h RNNKIT_ACT). */
RNNKIT_VINLINE void rnnkit_lstm_step(const int std_, const rnnkit_step_args *a) {
    const int plain_ = std_ && !a->peep && !(a->clip > 0.0f) && !a->input_forget;
    if (plain_ && rnnkit_step_b1_ok(a, 4)) {
        rnnkit_lstm_step_b1(a);
        return;
    }
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
