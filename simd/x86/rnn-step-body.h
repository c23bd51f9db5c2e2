/*
 * Fused Elman RNN steps, tanh and relu (semantics: simd/kernels.h),
 * shared by f32-rnn-step-avx2.c and f32-rnn-step-avx512.c. One column per
 * VW-unit block; groups of 2 blocks (tiles of up to RNNKIT_TILE_MR rows,
 * simd/x86/step-common.h rnnkit_row_tiles, x 2),
 * 4 for batch 2 and 8 for batch 1, so a GEMV tile has 8 independent FMA
 * chains; every element's sum is the same FMA chain over k
 * (simd/x86/tile.h). Tails and bounds as in simd/x86/step-common.h.
 */
#include "vmath.h"
#include "step-common.h"

/* MODE (a compile-time constant): 0 tanh, 1 relu, 2 a->act[0] (a
 * non-default activation, in either cell). */
RNNKIT_VINLINE void rnnkit_rnn_update(const int MODE, const rnnkit_step_args *a,
                                      const float *buf, int64_t i0, int64_t mr, int c0,
                                      int64_t j0, int64_t nv) {
    VT t = vtail(nv);
    for (int64_t r = 0; r < mr; r++) {
        V x = vadd(RNNKIT_ACC(r, c0), rnnkit_ld(RNNKIT_ROW(a->xp, a->ld_xp, r) + j0, nv, t));
        if (a->clip > 0.0f) x = rnnkit_vclip(x, a->clip);
        /* relu: max(0, x) with x second keeps NaN, like the scalar one. */
        V y = MODE == 2 ? rnnkit_vact(x, &a->act[0]) : MODE ? vmax(vzero(), x) : vtanh(x);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, y, nv, t);
    }
}

/* NB (1..4, a compile-time constant) items, each a full block of one
 * row, MODE 0 (tanh) or 1 (relu), no clip: rnnkit_rnn_update's operations
 * on the same operands (same bits), the items' activations side by side.
 * Item b's sum at acc + b*sa, its xp and h_out at xp + b*sx, ho + b*sh. */
RNNKIT_VINLINE void rnnkit_rnn_items(const int NB, const int MODE, const float *acc, int64_t sa,
                                     const float *xp, int64_t sx, float *ho, int64_t sh) {
    V x[4];
    for (int b = 0; b < NB; b++) x[b] = vadd(vload(acc + b * sa), vload(xp + b * sx));
    for (int b = 0; b < NB; b++) vstore(ho + b * sh, MODE ? vmax(vzero(), x[b]) : vtanh(x[b]));
}

/* n items (see rnnkit_rnn_items), four at a time, unrolled. */
RNNKIT_VINLINE void rnnkit_rnn_items_n(const int MODE, int64_t n, const float *acc, int64_t sa,
                                       const float *xp, int64_t sx, float *ho, int64_t sh) {
#define RNNKIT_RNN_ITEMS_(NB, b) \
    rnnkit_rnn_items(NB, MODE, acc + (b)*sa, sa, xp + (b)*sx, sx, ho + (b)*sh, sh)
    RNNKIT_BY_FOUR(n, RNNKIT_RNN_ITEMS_);
#undef RNNKIT_RNN_ITEMS_
}

/* The update of a tile whose blocks are all full, standard activation,
 * no clip: a row's blocks (batch 1), else block by block the tile's rows;
 * 0 if the tile has a partial block. The general one takes (row, block)
 * items one at a time, each activation a ~30-instruction dependent chain
 * after the last. */
RNNKIT_VINLINE int rnnkit_rnn_update_plain(const int MODE, const rnnkit_step_args *a,
                                           const float *buf, int64_t i0, int64_t mr, int64_t g0,
                                           int64_t nbg) {
    if (g0 + nbg * RNNKIT_VW > a->j_end) return 0;
    const float *xp = a->xp + (size_t)i0 * (size_t)a->ld_xp + g0;
    float *ho = a->h_out + (size_t)i0 * (size_t)a->ld_h_out + g0;
    if (mr == 1)
        rnnkit_rnn_items_n(MODE, nbg, buf, RNNKIT_VW, xp, RNNKIT_VW, ho, RNNKIT_VW);
    else
        for (int64_t bb = 0; bb < nbg; bb++)
            rnnkit_rnn_items_n(MODE, mr, buf + bb * RNNKIT_VW, RNNKIT_BUF_LD, xp + bb * RNNKIT_VW,
                               a->ld_xp, ho + bb * RNNKIT_VW, a->ld_h_out);
    return 1;
}

#define RNNKIT_RNN_COLS_(bb, blk, p, s)                              \
    p[bb] = a->w + (size_t)(blk) * (size_t)a->k * RNNKIT_VW;         \
    s[bb] = RNNKIT_VW;
#define RNNKIT_RNN_U_(i0, mr, bb, j0, nv) \
    rnnkit_rnn_update(mode_, a, buf, i0, mr, (int)(bb), j0, nv)
#define RNNKIT_RNN_UPDATE_(i0, mr, g0, nbg)                                                   \
    do {                                                                                      \
        if (mode_ == 2 || a->clip > 0.0f ||                                                   \
            !rnnkit_rnn_update_plain(mode_ == 1, a, buf, i0, mr, g0, nbg))                    \
            RNNKIT_EACH_BLOCK(a, RNNKIT_RNN_U_, i0, mr, g0, nbg);                             \
    } while (0)

#define RNNKIT_RNN_PREF_(i0, mr, g0, nbg)                                                 \
    do {                                                                                  \
        const int64_t len_ = RNNKIT_GROUP_LEN(a, g0, nbg);                                \
        rnnkit_prefetch_rows(a->xp, a->ld_xp, i0, mr, g0, len_, 0);                       \
        rnnkit_prefetch_rows(a->h_out, a->ld_h_out, i0, mr, g0, len_, 1);                 \
    } while (0)

/* Batch 1, standard activation, no clip (rnnkit_step_b1_ok): tanh (RELU
 * 0) or relu (1). */
#define RNNKIT_RNN_B1_FN_(NAME, RELU)                                                       \
    __attribute__((noinline)) static void NAME(const rnnkit_step_args *a) {                 \
        RNNKIT_STEP_B1(a, 1, 0, a->h_prev, a->ld_h_prev, a->w, a->w, RNNKIT_RNN_B1_U##RELU##_); \
    }
#define RNNKIT_RNN_B1_U0_(g0, nbs) (void)rnnkit_rnn_update_plain(0, a, buf, 0, 1, g0, nbs)
#define RNNKIT_RNN_B1_U1_(g0, nbs) (void)rnnkit_rnn_update_plain(1, a, buf, 0, 1, g0, nbs)
RNNKIT_RNN_B1_FN_(rnnkit_rnn_tanh_step_b1, 0)
RNNKIT_RNN_B1_FN_(rnnkit_rnn_relu_step_b1, 1)
#undef RNNKIT_RNN_B1_U0_
#undef RNNKIT_RNN_B1_U1_
#undef RNNKIT_RNN_B1_FN_

RNNKIT_VINLINE void rnnkit_rnn_step(const int mode_, const rnnkit_step_args *a) {
    if (mode_ != 2 && !(a->clip > 0.0f) && rnnkit_step_b1_ok(a, 1)) {
        if (mode_ == 1)
            rnnkit_rnn_relu_step_b1(a);
        else
            rnnkit_rnn_tanh_step_b1(a);
        return;
    }
    RNNKIT_STEP_GROUPS(a, 1, 0, a->h_prev, a->ld_h_prev, RNNKIT_RNN_COLS_, RNNKIT_RNN_UPDATE_,
                       RNNKIT_RNN_PREF_);
}

void RNNKIT_FN(rnn_tanh_step)(const rnnkit_step_args *a) {
    assert(a->nr == RNNKIT_VW);
    if (a->default_act)
        rnnkit_rnn_step(0, a);
    else
        rnnkit_rnn_step(2, a);
}

void RNNKIT_FN(rnn_relu_step)(const rnnkit_step_args *a) {
    assert(a->nr == RNNKIT_VW);
    if (a->default_act)
        rnnkit_rnn_step(1, a);
    else
        rnnkit_rnn_step(2, a);
}
