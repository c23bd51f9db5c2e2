/*
 * NEON fused LSTM step (semantics in simd/kernels.h), nr = 8.
 * Tile: 2 batch rows x one panel of 8 units x 4 gates = 16 accumulators,
 * each weight q-register loaded once per k for both rows; an odd last row
 * runs the 1-row tile (8 accumulators). Each recurrent sum is one FMA
 * chain over k in order (rk_panel_mac), the same in either tile, so a
 * row's result does not depend on the batch size, its place in it or the
 * unit range; then the cell update (peepholes, clip, input_forget,
 * sigmoid/tanh from neon-math.h) happens in registers. The last block of
 * the unit range may be partial: xp, c_prev, peepholes, h_out and c_out
 * are then read/written only for units < j_end through bounded copies;
 * the packed panel is read whole (zero-padded by the packer). h_prev is
 * read for k < K only. No alignment assumed. Non-default (ONNX)
 * activations run here too (rk_act_f32x4, neon-util.h); another nr goes
 * to the scalar kernel.
 */
#include "neon-util.h"

/* Cell update of 4 units (first unit j, cnt of them valid) of one row. */
RK_NEON_INLINE void lstm_cell4(const int STD, const rnnkit_step_args *a, const float *xp, const float *cp,
                               float *ho, float *co, int64_t j, int64_t cnt,
                               float32x4_t ai, float32x4_t af, float32x4_t ag,
                               float32x4_t ao) {
    const int64_t H = a->h;
    float32x4_t c_prev = rk_ld_part(cp + j, cnt);
    float32x4_t pi = vaddq_f32(ai, rk_ld_part(xp + j, cnt));
    float32x4_t pf = vaddq_f32(af, rk_ld_part(xp + H + j, cnt));
    float32x4_t pg = vaddq_f32(ag, rk_ld_part(xp + 2 * H + j, cnt));
    float32x4_t po = vaddq_f32(ao, rk_ld_part(xp + 3 * H + j, cnt));
    if (a->peep) {
        pi = vaddq_f32(pi, vmulq_f32(rk_ld_part(a->peep + j, cnt), c_prev));
        pf = vaddq_f32(pf, vmulq_f32(rk_ld_part(a->peep + H + j, cnt), c_prev));
    }
    float32x4_t ig = RK_ACT(STD, a, 0, rk_sigmoid_f32x4, rk_clip(pi, a->clip));
    float32x4_t fg = a->input_forget ? vsubq_f32(vdupq_n_f32(1.0f), ig)
                                     : RK_ACT(STD, a, 0, rk_sigmoid_f32x4, rk_clip(pf, a->clip));
    float32x4_t gg = RK_ACT(STD, a, 1, rk_tanh_f32x4, rk_clip(pg, a->clip));
    float32x4_t c = vaddq_f32(vmulq_f32(fg, c_prev), vmulq_f32(ig, gg));
    if (a->peep) po = vaddq_f32(po, vmulq_f32(rk_ld_part(a->peep + 2 * H + j, cnt), c));
    float32x4_t og = RK_ACT(STD, a, 0, rk_sigmoid_f32x4, rk_clip(po, a->clip));
    rk_st_part(co + j, cnt, c);
    rk_st_part(ho + j, cnt, vmulq_f32(og, RK_ACT(STD, a, 2, rk_tanh_f32x4, c)));
}

RK_NEON_INLINE void lstm_rows(const int MR, const int STD, const rnnkit_step_args *a,
                              int64_t r0) {
    const int64_t H = a->h, K = a->k;
    const float *hp[4];
    for (int r = 0; r < MR; r++) hp[r] = a->h_prev + (size_t)(r0 + r) * (size_t)a->ld_h_prev;
    const int64_t nb = rk_blocks(a);
    for (int64_t q = 0; q < nb; q++) {
        /* reverse: the same blocks from the last down (neon-util.h). */
        const int64_t j0 = a->j_begin + (a->reverse ? nb - 1 - q : q) * RK_NEON_NR;
        const float *p = a->w + (size_t)(j0 / RK_NEON_NR) * (size_t)K * 4 * RK_NEON_NR;
        float32x4_t acc[16];
        rk_panel_mac(MR, 1, 8, K, &p, 4 * RK_NEON_NR, hp, acc);
        for (int r = 0; r < MR; r++) {
            size_t row = (size_t)(r0 + r);
            const float *xp = a->xp + row * (size_t)a->ld_xp;
            const float *cp = a->c_prev + row * (size_t)H;
            float *ho = a->h_out + row * (size_t)a->ld_h_out;
            float *co = a->c_out + row * (size_t)H;
            const float32x4_t *v = acc + r * 8;
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + 4 * q;
                if (j >= a->j_end) break;
                lstm_cell4(STD, a, xp, cp, ho, co, j, a->j_end - j, v[q], v[2 + q], v[4 + q],
                           v[6 + q]);
            }
        }
    }
}

/* STD: the standard activations (default_act) or a->act, as a
 * compile-time constant (RK_ACT). */
RK_NEON_INLINE void lstm_step(const int STD, const rnnkit_step_args *a) {
    int64_t r = 0;
    for (; r + 2 <= a->n; r += 2) lstm_rows(2, STD, a, r);
    if (r < a->n) lstm_rows(1, STD, a, r);
}

void rnnkit_f32_lstm_step__neon(const rnnkit_step_args *a) {
    if (a->nr != RK_NEON_NR) {
        rnnkit_f32_lstm_step__scalar(a);
        return;
    }
    if (a->default_act)
        lstm_step(1, a);
    else
        lstm_step(0, a);
}
