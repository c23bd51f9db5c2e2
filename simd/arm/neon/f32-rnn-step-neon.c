/*
 * NEON fused Elman RNN steps, tanh and relu (semantics in
 * simd/kernels.h), nr = 8. Tile: 4 batch rows x one panel of 8 units = 8
 * accumulators sharing each weight load; 3, 2 or 1 leftover rows run the
 * same tile with the k loop split over 1, 2 or 4 accumulator sets so there
 * are always 6-8 independent FMA chains (sets added at the end). The last
 * block may be partial: xp and h_out are read/written only for units <
 * j_end through bounded copies; packed panels are read whole
 * (zero-padded). h_prev is read for k < K only. No alignment assumed.
 * relu is FMAX(x, 0): NaN stays NaN and -0 gives +0, as the scalar one.
 * Non-default activations or another nr go to the scalar kernel.
 */
#include "neon-util.h"

RK_NEON_INLINE void rnn_rows(const int MR, const int RELU, const rnnkit_step_args *a,
                             int64_t r0) {
    const int64_t K = a->k;
    const int KS = MR == 1 ? 4 : (MR == 2 ? 2 : 1);
    const float *hp[4];
    for (int r = 0; r < MR; r++) hp[r] = a->h_prev + (size_t)(r0 + r) * (size_t)a->ld_h_prev;
    for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += RK_NEON_NR) {
        const float *p = a->w + (size_t)(j0 / RK_NEON_NR) * (size_t)K * RK_NEON_NR;
        float32x4_t acc[16];
        rk_panel_mac(MR, 2, KS, K, p, RK_NEON_NR, hp, acc);
        for (int r = 0; r < MR; r++) {
            size_t row = (size_t)(r0 + r);
            const float *xp = a->xp + row * (size_t)a->ld_xp;
            float *ho = a->h_out + row * (size_t)a->ld_h_out;
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                float32x4_t x = rk_clip(vaddq_f32(acc[r * 2 + q], rk_ld_part(xp + j, cnt)), a->clip);
                x = RELU ? vmaxq_f32(x, vdupq_n_f32(0.0f)) : rk_tanh_f32x4(x);
                rk_st_part(ho + j, cnt, x);
            }
        }
    }
}

RK_NEON_INLINE void rnn_step(const int RELU, const rnnkit_step_args *a) {
    int64_t r = 0;
    for (; r + 4 <= a->n; r += 4) rnn_rows(4, RELU, a, r);
    switch (a->n - r) {
    case 3: rnn_rows(3, RELU, a, r); break;
    case 2: rnn_rows(2, RELU, a, r); break;
    case 1: rnn_rows(1, RELU, a, r); break;
    default: break;
    }
}

void rnnkit_f32_rnn_tanh_step__neon(const rnnkit_step_args *a) {
    if (!a->default_act || a->nr != RK_NEON_NR) {
        rnnkit_f32_rnn_tanh_step__scalar(a);
        return;
    }
    rnn_step(0, a);
}

void rnnkit_f32_rnn_relu_step__neon(const rnnkit_step_args *a) {
    if (!a->default_act || a->nr != RK_NEON_NR) {
        rnnkit_f32_rnn_relu_step__scalar(a);
        return;
    }
    rnn_step(1, a);
}
