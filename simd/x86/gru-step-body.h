/*
 * Fused GRU step, both reset variants (semantics: simd/kernels.h), shared
 * by f32-gru-step-avx2.c and f32-gru-step-avx512.c.
 * linear_before_reset = 1: one pass; columns r, z (packed w) and W_n h_prev
 *   (packed w_n) of each block, two blocks per group (6 columns: tiles of
 *   2 columns for batch >= 3, 4 for batch 2, 6 for batch 1).
 * linear_before_reset = 0: two passes like the scalar kernel: pass 1
 *   (columns r, z) stores r*h_prev in scratch[n, k] and z in h_out for the
 *   whole unit range; pass 2 (column n) reads scratch as the GEMV input
 *   and finishes h. Pass 2 reads scratch for every unit: a call covers
 *   [0, h), or a->gru_pass runs one pass (a team splitting units puts a
 *   barrier between them).
 * Every element's gate sum is the same FMA chain over k in every case
 * (simd/x86/tile.h). Tails and bounds as in simd/x86/step-common.h
 * (scratch: units of the range only).
 */
#include "vmath.h"
#include "step-common.h"

/* linear_before_reset = 1, the group's blocks for rows i0..i0+mr-1, in
 * phases over the (row, block) items (simd/x86/step-common.h). */
RNNKIT_VINLINE void rnnkit_gru_lbr_update(const int STD, const rnnkit_step_args *a, const float *buf,
                                          int64_t i0, int64_t mr, int64_t g0, int64_t nbg) {
    const int64_t H = a->h;
    const float clip = a->clip;
    const int n = (int)(mr * nbg);
    V pr[RNNKIT_MAX_ITEMS], pz[RNNKIT_MAX_ITEMS], hn[RNNKIT_MAX_ITEMS], xn[RNNKIT_MAX_ITEMS];
    assert(n <= RNNKIT_MAX_ITEMS);
    for (int it = 0, r = 0, bb = 0; it < n; it++) {
        const int64_t j0 = g0 + bb * RNNKIT_VW;
        const int64_t nv = rnnkit_block_nv(a, j0);
        VT t = vtail(nv);
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        const int c0 = bb * 3;
        V bhn = a->b_hn ? rnnkit_ld(a->b_hn + j0, nv, t) : vzero();
        V vr = vadd(RNNKIT_ACC(r, c0), rnnkit_ld(xp, nv, t));
        V vz = vadd(RNNKIT_ACC(r, c0 + 1), rnnkit_ld(xp + H, nv, t));
        if (clip > 0.0f) {
            vr = rnnkit_vclip(vr, clip);
            vz = rnnkit_vclip(vz, clip);
        }
        pr[it] = vr, pz[it] = vz;
        hn[it] = vadd(RNNKIT_ACC(r, c0 + 2), bhn);
        xn[it] = rnnkit_ld(xp + 2 * H, nv, t);
        if (++bb == nbg) bb = 0, r++;
    }
    for (int it = 0; it < n; it++) pr[it] = RNNKIT_ACT(STD, a, 0, vsigmoid, pr[it]);
    for (int it = 0; it < n; it++) pz[it] = RNNKIT_ACT(STD, a, 0, vsigmoid, pz[it]);
    for (int it = 0; it < n; it++) {
        V pn = vfma(pr[it], hn[it], xn[it]);
        if (clip > 0.0f) pn = rnnkit_vclip(pn, clip);
        xn[it] = RNNKIT_ACT(STD, a, 1, vtanh, pn);
    }
    for (int it = 0, r = 0, bb = 0; it < n; it++) {
        const int64_t j0 = g0 + bb * RNNKIT_VW;
        const int64_t nv = rnnkit_block_nv(a, j0);
        VT t = vtail(nv);
        V ng = xn[it];
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, vfma(pz[it], vsub(hp, ng), ng), nv, t);
        if (++bb == nbg) bb = 0, r++;
    }
}

/* NB (1..4, a compile-time constant) items, each a full block of one
 * row, linear_before_reset = 1, standard activations, no clip: the
 * operations of rnnkit_gru_lbr_update in the same order on the same
 * operands, so the same bits. Item b's sums at acc + b*sa (column g VW
 * floats further each), its xp, b_hn (NULL: zeros), h_prev and h_out at
 * xp + b*sx, bhn + b*sb, hp + b*sp and ho + b*sh: the blocks of one row
 * (batch 1) or one block of successive rows (batch >= 2 tiles). */
RNNKIT_VINLINE void rnnkit_gru_lbr_items(const int NB, const float *acc, int64_t sa,
                                         const float *xp, int64_t sx, int64_t H, const float *bhn,
                                         int64_t sb, const float *hp, int64_t sp, float *ho,
                                         int64_t sh) {
    V vr[4], vz[4], hn[4];
    for (int b = 0; b < NB; b++) {
        const float *ab = acc + b * sa, *xb = xp + b * sx;
        vr[b] = vadd(vload(ab), vload(xb));
        vz[b] = vadd(vload(ab + RNNKIT_VW), vload(xb + H));
        hn[b] = vadd(vload(ab + 2 * RNNKIT_VW), bhn ? vload(bhn + b * sb) : vzero());
    }
    for (int b = 0; b < NB; b++) vr[b] = vsigmoid(vr[b]);
    for (int b = 0; b < NB; b++) vz[b] = vsigmoid(vz[b]);
    for (int b = 0; b < NB; b++) hn[b] = vtanh(vfma(vr[b], hn[b], vload(xp + b * sx + 2 * H)));
    for (int b = 0; b < NB; b++)
        vstore(ho + b * sh, vfma(vz[b], vsub(vload(hp + b * sp), hn[b]), hn[b]));
}

/* n items (see rnnkit_gru_lbr_items), four at a time, unrolled. */
RNNKIT_VINLINE void rnnkit_gru_lbr_items_n(int64_t n, const float *acc, int64_t sa,
                                           const float *xp, int64_t sx, int64_t H,
                                           const float *bhn, int64_t sb, const float *hp,
                                           int64_t sp, float *ho, int64_t sh) {
#define RNNKIT_GRU_LBR_ITEMS_(NB, b)                                                         \
    rnnkit_gru_lbr_items(NB, acc + (b)*sa, sa, xp + (b)*sx, sx, H, bhn ? bhn + (b)*sb : NULL, \
                         sb, hp + (b)*sp, sp, ho + (b)*sh, sh)
    RNNKIT_BY_FOUR(n, RNNKIT_GRU_LBR_ITEMS_);
#undef RNNKIT_GRU_LBR_ITEMS_
}

/* The linear_before_reset update of a tile whose blocks are all full,
 * standard activations, no clip (see rnnkit_gru_lbr_items), as
 * rnnkit_lstm_update_plain; 0 if the tile has a partial block. */
RNNKIT_VINLINE int rnnkit_gru_lbr_update_plain(const rnnkit_step_args *a, const float *buf,
                                               int64_t i0, int64_t mr, int64_t g0, int64_t nbg) {
    if (g0 + nbg * RNNKIT_VW > a->j_end) return 0;
    const int64_t H = a->h;
    const float *xp = a->xp + (size_t)i0 * (size_t)a->ld_xp + g0;
    const float *bhn = a->b_hn ? a->b_hn + g0 : NULL;
    const float *hp = a->h_prev + (size_t)i0 * (size_t)a->ld_h_prev + g0;
    float *ho = a->h_out + (size_t)i0 * (size_t)a->ld_h_out + g0;
    if (mr == 1)
        rnnkit_gru_lbr_items_n(nbg, buf, 3 * RNNKIT_VW, xp, RNNKIT_VW, H, bhn, RNNKIT_VW, hp,
                               RNNKIT_VW, ho, RNNKIT_VW);
    else
        for (int64_t bb = 0; bb < nbg; bb++) {
            const int64_t o = bb * RNNKIT_VW;
            rnnkit_gru_lbr_items_n(mr, buf + bb * 3 * RNNKIT_VW, RNNKIT_BUF_LD, xp + o, a->ld_xp,
                                   H, bhn ? bhn + o : NULL, 0, hp + o, a->ld_h_prev, ho + o,
                                   a->ld_h_out);
        }
    return 1;
}

RNNKIT_VINLINE void rnnkit_gru_rz_update(const int STD, const rnnkit_step_args *a, const float *buf,
                                         int64_t i0, int64_t mr, int c0, int64_t j0,
                                         int64_t nv) {
    const int64_t H = a->h, K = a->k;
    VT t = vtail(nv);
    for (int64_t r = 0; r < mr; r++) {
        const float *xp = RNNKIT_ROW(a->xp, a->ld_xp, r) + j0;
        V pr = vadd(RNNKIT_ACC(r, c0), rnnkit_ld(xp, nv, t));
        V pz = vadd(RNNKIT_ACC(r, c0 + 1), rnnkit_ld(xp + H, nv, t));
        if (a->clip > 0.0f) {
            pr = rnnkit_vclip(pr, a->clip);
            pz = rnnkit_vclip(pz, a->clip);
        }
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(RNNKIT_ROW(a->scratch, K, r) + j0, vmul(RNNKIT_ACT(STD, a, 0, vsigmoid, pr), hp), nv, t);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, RNNKIT_ACT(STD, a, 0, vsigmoid, pz), nv, t);
    }
}

RNNKIT_VINLINE void rnnkit_gru_n_update(const int STD, const rnnkit_step_args *a, const float *buf,
                                        int64_t i0, int64_t mr, int c0, int64_t j0,
                                        int64_t nv) {
    const int64_t H = a->h;
    VT t = vtail(nv);
    for (int64_t r = 0; r < mr; r++) {
        V pn = vadd(RNNKIT_ACC(r, c0), rnnkit_ld(RNNKIT_ROW(a->xp, a->ld_xp, r) + j0 + 2 * H, nv, t));
        if (a->clip > 0.0f) pn = rnnkit_vclip(pn, a->clip);
        V ng = RNNKIT_ACT(STD, a, 1, vtanh, pn);
        float *ho = RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0;
        V zg = rnnkit_ld(ho, nv, t);
        V hp = rnnkit_ld(RNNKIT_ROW(a->h_prev, a->ld_h_prev, r) + j0, nv, t);
        rnnkit_st(ho, vfma(zg, vsub(hp, ng), ng), nv, t);
    }
}

/* linear_before_reset = 0, standard activations, no clip: NB (1..4,
 * compile-time) items of pass 1 (rnnkit_gru_rz_update's operations on
 * the same operands: same bits). Item b's r, z sums at acc + b*sa (z VW
 * floats after r), its xp, h_prev, scratch and h_out at xp + b*sx,
 * hp + b*sp, sc + b*ss, ho + b*sh. */
RNNKIT_VINLINE void rnnkit_gru_rz_items(const int NB, const float *acc, int64_t sa,
                                        const float *xp, int64_t sx, int64_t H, const float *hp,
                                        int64_t sp, float *sc, int64_t ss, float *ho, int64_t sh) {
    V pr[4], pz[4];
    for (int b = 0; b < NB; b++) {
        pr[b] = vadd(vload(acc + b * sa), vload(xp + b * sx));
        pz[b] = vadd(vload(acc + b * sa + RNNKIT_VW), vload(xp + b * sx + H));
    }
    for (int b = 0; b < NB; b++) pr[b] = vsigmoid(pr[b]);
    for (int b = 0; b < NB; b++) pz[b] = vsigmoid(pz[b]);
    for (int b = 0; b < NB; b++) {
        vstore(sc + b * ss, vmul(pr[b], vload(hp + b * sp)));
        vstore(ho + b * sh, pz[b]);
    }
}

/* Pass 2 of linear_before_reset = 0, as rnnkit_gru_rz_items: item b's n
 * sum at acc + b*sa, its xp (n gate at + 2H), h_prev and h_out (z in,
 * h out) at xp + b*sx, hp + b*sp, ho + b*sh. */
RNNKIT_VINLINE void rnnkit_gru_n_items(const int NB, const float *acc, int64_t sa, const float *xp,
                                       int64_t sx, int64_t H, const float *hp, int64_t sp,
                                       float *ho, int64_t sh) {
    V ng[4];
    for (int b = 0; b < NB; b++) ng[b] = vtanh(vadd(vload(acc + b * sa), vload(xp + b * sx + 2 * H)));
    for (int b = 0; b < NB; b++)
        vstore(ho + b * sh, vfma(vload(ho + b * sh), vsub(vload(hp + b * sp), ng[b]), ng[b]));
}

/* n items of a pass (PASS 1: rnnkit_gru_rz_items, 2: rnnkit_gru_n_items),
 * four at a time, unrolled. */
RNNKIT_VINLINE void rnnkit_gru_pass_items_n(const int PASS, int64_t n, const float *acc,
                                            int64_t sa, const float *xp, int64_t sx, int64_t H,
                                            const float *hp, int64_t sp, float *sc, int64_t ss,
                                            float *ho, int64_t sh) {
#define RNNKIT_GRU_PASS_ITEMS_(NB, b)                                                      \
    do {                                                                                   \
        if (PASS == 1)                                                                     \
            rnnkit_gru_rz_items(NB, acc + (b)*sa, sa, xp + (b)*sx, sx, H, hp + (b)*sp, sp,  \
                                sc + (b)*ss, ss, ho + (b)*sh, sh);                         \
        else                                                                               \
            rnnkit_gru_n_items(NB, acc + (b)*sa, sa, xp + (b)*sx, sx, H, hp + (b)*sp, sp,   \
                               ho + (b)*sh, sh);                                           \
    } while (0)
    RNNKIT_BY_FOUR(n, RNNKIT_GRU_PASS_ITEMS_);
#undef RNNKIT_GRU_PASS_ITEMS_
}

/* A pass's update of a tile whose blocks are all full (standard
 * activations, no clip), as rnnkit_gru_lbr_update_plain; 0 if the tile
 * has a partial block. */
RNNKIT_VINLINE int rnnkit_gru_pass_update_plain(const int PASS, const rnnkit_step_args *a,
                                                const float *buf, int64_t i0, int64_t mr,
                                                int64_t g0, int64_t nbg) {
    if (g0 + nbg * RNNKIT_VW > a->j_end) return 0;
    const int gc = PASS == 1 ? 2 : 1;
    const float *xp = a->xp + (size_t)i0 * (size_t)a->ld_xp + g0;
    const float *hp = a->h_prev + (size_t)i0 * (size_t)a->ld_h_prev + g0;
    float *sc = PASS == 1 ? a->scratch + (size_t)i0 * (size_t)a->k + g0 : NULL;
    float *ho = a->h_out + (size_t)i0 * (size_t)a->ld_h_out + g0;
    if (mr == 1)
        rnnkit_gru_pass_items_n(PASS, nbg, buf, gc * RNNKIT_VW, xp, RNNKIT_VW, a->h, hp,
                                RNNKIT_VW, sc, RNNKIT_VW, ho, RNNKIT_VW);
    else
        for (int64_t bb = 0; bb < nbg; bb++) {
            const int64_t o = bb * RNNKIT_VW;
            rnnkit_gru_pass_items_n(PASS, mr, buf + bb * gc * RNNKIT_VW, RNNKIT_BUF_LD, xp + o,
                                    a->ld_xp, a->h, hp + o, a->ld_h_prev, sc ? sc + o : NULL,
                                    a->k, ho + o, a->ld_h_out);
        }
    return 1;
}

#define RNNKIT_GRU_RZ_COLS_(bb, blk, p, s)                                                   \
    for (int g = 0; g < 2; g++) {                                                            \
        p[(bb)*2 + g] = a->w + (size_t)(blk) * (size_t)a->k * 2 * RNNKIT_VW + g * RNNKIT_VW; \
        s[(bb)*2 + g] = 2 * RNNKIT_VW;                                                       \
    }
#define RNNKIT_GRU_LBR_COLS_(bb, blk, p, s)                                                  \
    for (int g = 0; g < 2; g++) {                                                            \
        p[(bb)*3 + g] = a->w + (size_t)(blk) * (size_t)a->k * 2 * RNNKIT_VW + g * RNNKIT_VW; \
        s[(bb)*3 + g] = 2 * RNNKIT_VW;                                                       \
    }                                                                                        \
    p[(bb)*3 + 2] = a->w_n + (size_t)(blk) * (size_t)a->k * RNNKIT_VW;                       \
    s[(bb)*3 + 2] = RNNKIT_VW;
#define RNNKIT_GRU_N_COLS_(bb, blk, p, s)                              \
    p[bb] = a->w_n + (size_t)(blk) * (size_t)a->k * RNNKIT_VW;         \
    s[bb] = RNNKIT_VW;
#define RNNKIT_GRU_LBR_UPDATE_(i0, mr, g0, nbg)                                               \
    do {                                                                                      \
        if (!std_ || a->clip > 0.0f || !rnnkit_gru_lbr_update_plain(a, buf, i0, mr, g0, nbg)) \
            rnnkit_gru_lbr_update(std_, a, buf, i0, mr, g0, nbg);                             \
    } while (0)
#define RNNKIT_GRU_RZ_U_(i0, mr, bb, j0, nv) \
    rnnkit_gru_rz_update(std_, a, buf, i0, mr, (int)(bb)*2, j0, nv)
#define RNNKIT_GRU_N_U_(i0, mr, bb, j0, nv) \
    rnnkit_gru_n_update(std_, a, buf, i0, mr, (int)(bb), j0, nv)
#define RNNKIT_GRU_RZ_UPDATE_(i0, mr, g0, nbg)                                                \
    do {                                                                                      \
        if (!std_ || a->clip > 0.0f || !rnnkit_gru_pass_update_plain(1, a, buf, i0, mr, g0, nbg)) \
            RNNKIT_EACH_BLOCK(a, RNNKIT_GRU_RZ_U_, i0, mr, g0, nbg);                           \
    } while (0)
#define RNNKIT_GRU_N_UPDATE_(i0, mr, g0, nbg)                                                 \
    do {                                                                                      \
        if (!std_ || a->clip > 0.0f || !rnnkit_gru_pass_update_plain(2, a, buf, i0, mr, g0, nbg)) \
            RNNKIT_EACH_BLOCK(a, RNNKIT_GRU_N_U_, i0, mr, g0, nbg);                            \
    } while (0)

/* Prefetch xp gates g_lo..g_hi-1 and h_out (WR: written) of a row tile. */
#define RNNKIT_GRU_PREF(i0, mr, g0, nbg, g_lo, g_hi)                                      \
    do {                                                                                  \
        const int64_t len_ = RNNKIT_GROUP_LEN(a, g0, nbg);                                \
        for (int g = (g_lo); g < (g_hi); g++)                                             \
            rnnkit_prefetch_rows(a->xp + g * a->h, a->ld_xp, i0, mr, g0, len_, 0);        \
        rnnkit_prefetch_rows(a->h_out, a->ld_h_out, i0, mr, g0, len_, 1);                 \
    } while (0)
#define RNNKIT_GRU_LBR_PREF_(i0, mr, g0, nbg) RNNKIT_GRU_PREF(i0, mr, g0, nbg, 0, 3)
#define RNNKIT_GRU_RZ_PREF_(i0, mr, g0, nbg)                                             \
    do {                                                                                 \
        RNNKIT_GRU_PREF(i0, mr, g0, nbg, 0, 2);                                          \
        rnnkit_prefetch_rows(a->scratch, a->k, i0, mr, g0, RNNKIT_GROUP_LEN(a, g0, nbg), 1); \
    } while (0)
#define RNNKIT_GRU_N_PREF_(i0, mr, g0, nbg) RNNKIT_GRU_PREF(i0, mr, g0, nbg, 2, 3)

/* Batch 1, the standard cell (rnnkit_step_b1_ok): linear_before_reset
 * = 1, or = 0 (its passes as a->gru_pass asks). */
__attribute__((noinline)) static void rnnkit_gru_lbr_step_b1(const rnnkit_step_args *a) {
#define RNNKIT_GRU_B1_U_(g0, nbs) (void)rnnkit_gru_lbr_update_plain(a, buf, 0, 1, g0, nbs)
    RNNKIT_STEP_B1(a, 2, 1, a->h_prev, a->ld_h_prev, a->w, a->w_n, RNNKIT_GRU_B1_U_);
#undef RNNKIT_GRU_B1_U_
}
__attribute__((noinline)) static void rnnkit_gru_pass_step_b1(const rnnkit_step_args *a) {
#define RNNKIT_GRU_B1_RZ_(g0, nbs) (void)rnnkit_gru_pass_update_plain(1, a, buf, 0, 1, g0, nbs)
#define RNNKIT_GRU_B1_N_(g0, nbs) (void)rnnkit_gru_pass_update_plain(2, a, buf, 0, 1, g0, nbs)
    if (a->gru_pass != 2)
        RNNKIT_STEP_B1(a, 2, 0, a->h_prev, a->ld_h_prev, a->w, a->w, RNNKIT_GRU_B1_RZ_);
    if (a->gru_pass != 1)
        RNNKIT_STEP_B1(a, 1, 0, a->scratch, a->k, a->w_n, a->w_n, RNNKIT_GRU_B1_N_);
#undef RNNKIT_GRU_B1_RZ_
#undef RNNKIT_GRU_B1_N_
}

/* The step with the standard activations (std_ = 1) or a->act (0), as
 * a compile-time constant (simd/x86/vmath.h RNNKIT_ACT). */
RNNKIT_VINLINE void rnnkit_gru_step(const int std_, const rnnkit_step_args *a) {
    if (std_ && !(a->clip > 0.0f) && rnnkit_step_b1_ok(a, 3)) {
        if (a->linear_before_reset)
            rnnkit_gru_lbr_step_b1(a);
        else
            rnnkit_gru_pass_step_b1(a);
        return;
    }
    if (a->linear_before_reset) {
        RNNKIT_STEP_GROUPS(a, 2, 1, a->h_prev, a->ld_h_prev, RNNKIT_GRU_LBR_COLS_,
                           RNNKIT_GRU_LBR_UPDATE_, RNNKIT_GRU_LBR_PREF_);
        return;
    }
    assert(a->scratch);
    if (a->gru_pass != 2)
        RNNKIT_STEP_GROUPS(a, 2, 0, a->h_prev, a->ld_h_prev, RNNKIT_GRU_RZ_COLS_,
                           RNNKIT_GRU_RZ_UPDATE_, RNNKIT_GRU_RZ_PREF_);
    if (a->gru_pass != 1)
        RNNKIT_STEP_GROUPS(a, 1, 0, a->scratch, a->k, RNNKIT_GRU_N_COLS_, RNNKIT_GRU_N_UPDATE_, RNNKIT_GRU_N_PREF_);
}

void RNNKIT_FN(gru_step)(const rnnkit_step_args *a) {
    assert(a->nr == RNNKIT_VW);
    if (a->default_act)
        rnnkit_gru_step(1, a);
    else
        rnnkit_gru_step(0, a);
}
