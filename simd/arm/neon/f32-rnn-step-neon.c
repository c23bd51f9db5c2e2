/*
 * NEON fused Elman RNN steps, tanh and relu (semantics in
 * simd/kernels.h), nr = 8. Tile: MR batch rows x NB blocks of 8 units =
 * MR*NB*2 accumulators sharing each weight load: 4 or 3 rows x 1 block,
 * 2 rows x 2 blocks, 1 row x 4 blocks (GEMV), so there are always 6-8
 * independent FMA chains; a unit range whose block count is not a
 * multiple of NB ends with tiles of 2 and 1 blocks. Each element is one
 * FMA chain over k in order (rk_panel_mac) whatever the tile, so a row's
 * result does not depend on the batch size, its place in it or the unit
 * range. The last block may be partial: xp and h_out are read/written
 * only for units < j_end through bounded copies; packed panels are read
 * whole (zero-padded). h_prev is read for k < K only. No alignment
 * assumed. relu is FMAX(x, 0): NaN stays NaN and -0 gives +0, as the
 * scalar one. Non-default (ONNX) activations run here too
 * (rk_act_f32x4, neon-util.h); another nr goes to the scalar kernel.
 */
#include "neon-util.h"

/* Rows r0..r0+MR-1 (h_prev rows hp) x the NB blocks from unit j0. */
RK_NEON_INLINE void rnn_tile(const int MR, const int NB, const int MODE,
                             const rnnkit_step_args *a, const float *const *hp, int64_t r0,
                             int64_t j0) {
    const int64_t K = a->k;
    const float *p[4];
    for (int b = 0; b < NB; b++)
        p[b] = a->w + (size_t)(j0 / RK_NEON_NR + b) * (size_t)K * RK_NEON_NR;
    float32x4_t acc[16];
    rk_panel_mac(MR, NB, 2, K, p, RK_NEON_NR, hp, acc);
    for (int r = 0; r < MR; r++) {
        size_t row = (size_t)(r0 + r);
        const float *xp = a->xp + row * (size_t)a->ld_xp;
        float *ho = a->h_out + row * (size_t)a->ld_h_out;
        for (int b = 0; b < NB; b++)
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + b * RK_NEON_NR + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                float32x4_t x = rk_clip(
                    vaddq_f32(acc[(r * NB + b) * 2 + q], rk_ld_part(xp + j, cnt)), a->clip);
                x = MODE == 2 ? rk_act_f32x4(x, &a->act[0])
                    : MODE    ? vmaxq_f32(x, vdupq_n_f32(0.0f))
                              : rk_tanh_f32x4(x);
                rk_st_part(ho + j, cnt, x);
            }
    }
}

RK_NEON_INLINE void rnn_rows(const int MR, const int MODE, const rnnkit_step_args *a,
                             int64_t r0) {
    const int NB = MR == 1 ? 4 : (MR == 2 ? 2 : 1);
    const float *hp[4];
    for (int r = 0; r < MR; r++) hp[r] = a->h_prev + (size_t)(r0 + r) * (size_t)a->ld_h_prev;
    const int64_t nb = rk_blocks(a);
#define RK_RNN_TILE_(nbk, b) rnn_tile(MR, nbk, MODE, a, hp, r0, a->j_begin + (b)*RK_NEON_NR)
    RK_NEON_TILES(NB, nb, a->reverse, RK_RNN_TILE_);
#undef RK_RNN_TILE_
}

/* MODE (a compile-time constant): 0 tanh, 1 relu, 2 a->act[0]
 * (default_act = 0). */
RK_NEON_INLINE void rnn_step(const int MODE, const rnnkit_step_args *a) {
    int64_t r = 0;
    for (; r + 4 <= a->n; r += 4) rnn_rows(4, MODE, a, r);
    switch (a->n - r) {
    case 3: rnn_rows(3, MODE, a, r); break;
    case 2: rnn_rows(2, MODE, a, r); break;
    case 1: rnn_rows(1, MODE, a, r); break;
    default: break;
    }
}

void rnnkit_f32_rnn_tanh_step__neon(const rnnkit_step_args *a) {
    if (a->nr != RK_NEON_NR) {
        rnnkit_f32_rnn_tanh_step__scalar(a);
        return;
    }
    if (a->default_act)
        rnn_step(0, a);
    else
        rnn_step(2, a);
}

void rnnkit_f32_rnn_relu_step__neon(const rnnkit_step_args *a) {
    if (a->nr != RK_NEON_NR) {
        rnnkit_f32_rnn_relu_step__scalar(a);
        return;
    }
    if (a->default_act)
        rnn_step(1, a);
    else
        rnn_step(2, a);
}
