/*
 * NEON fused GRU step (semantics in simd/kernels.h), both reset variants,
 * nr = 8. Tile: 2 batch rows x one panel of 8 units: the r,z panel gives
 * 8 accumulators, the n panel 4 (split over 2 k-sets, 8 registers); an odd
 * last row runs the 1-row tile with the k loop split over 2 (r,z) or 4 (n)
 * accumulator sets so the FMA chains stay independent. Sums are in k
 * order per set (sets added at the end).
 * linear_before_reset = 1: one pass, n = tanh(xp_n + r*(W_n h + b_hn)).
 * linear_before_reset = 0: like the scalar kernel, pass 1 writes r*h_prev
 * to scratch and z to h_out for units [j_begin, j_end), pass 2 reads the
 * whole scratch row, so every unit's pass 1 must be done first: one call
 * covers every unit, or a->gru_pass runs one pass at a time.
 * The last block may be partial: xp, b_hn, h_prev[j], scratch and h_out
 * are read/written only for units < j_end through bounded copies; packed
 * panels are read whole (zero-padded). No alignment assumed. Non-default
 * activations or another nr go to the scalar kernel.
 */
#include "neon-util.h"

RK_NEON_INLINE void gru_pass1(const int MR, const rnnkit_step_args *a, int64_t r0) {
    const int64_t H = a->h, K = a->k;
    const int KS = MR == 1 ? 2 : 1;
    const float *hp[4];
    for (int r = 0; r < MR; r++) hp[r] = a->h_prev + (size_t)(r0 + r) * (size_t)a->ld_h_prev;
    for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += RK_NEON_NR) {
        size_t blk = (size_t)(j0 / RK_NEON_NR);
        float32x4_t acc[16], accn[16];
        rk_panel_mac(MR, 4, KS, K, a->w + blk * (size_t)K * 2 * RK_NEON_NR, 2 * RK_NEON_NR, hp,
                     acc);
        if (a->linear_before_reset)
            rk_panel_mac(MR, 2, 2 * KS, K, a->w_n + blk * (size_t)K * RK_NEON_NR, RK_NEON_NR,
                         hp, accn);
        for (int r = 0; r < MR; r++) {
            size_t row = (size_t)(r0 + r);
            const float *xp = a->xp + row * (size_t)a->ld_xp;
            float *ho = a->h_out + row * (size_t)a->ld_h_out;
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                float32x4_t rg = rk_sigmoid_f32x4(
                    rk_clip(vaddq_f32(acc[r * 4 + q], rk_ld_part(xp + j, cnt)), a->clip));
                float32x4_t zg = rk_sigmoid_f32x4(
                    rk_clip(vaddq_f32(acc[r * 4 + 2 + q], rk_ld_part(xp + H + j, cnt)), a->clip));
                float32x4_t hv = rk_ld_part(hp[r] + j, cnt);
                if (a->linear_before_reset) {
                    float32x4_t hn = accn[r * 2 + q];
                    if (a->b_hn) hn = vaddq_f32(hn, rk_ld_part(a->b_hn + j, cnt));
                    float32x4_t ng = rk_tanh_f32x4(rk_clip(
                        vaddq_f32(rk_ld_part(xp + 2 * H + j, cnt), vmulq_f32(rg, hn)), a->clip));
                    float32x4_t h = vaddq_f32(vmulq_f32(vsubq_f32(vdupq_n_f32(1.0f), zg), ng),
                                              vmulq_f32(zg, hv));
                    rk_st_part(ho + j, cnt, h);
                } else {
                    rk_st_part(a->scratch + row * (size_t)K + j, cnt, vmulq_f32(rg, hv));
                    rk_st_part(ho + j, cnt, zg);
                }
            }
        }
    }
}

RK_NEON_INLINE void gru_pass2(const int MR, const rnnkit_step_args *a, int64_t r0) {
    const int64_t H = a->h, K = a->k;
    const int KS = MR == 1 ? 4 : 2;
    const float *rh[4];
    for (int r = 0; r < MR; r++) rh[r] = a->scratch + (size_t)(r0 + r) * (size_t)K;
    for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += RK_NEON_NR) {
        size_t blk = (size_t)(j0 / RK_NEON_NR);
        float32x4_t accn[16];
        rk_panel_mac(MR, 2, KS, K, a->w_n + blk * (size_t)K * RK_NEON_NR, RK_NEON_NR, rh, accn);
        for (int r = 0; r < MR; r++) {
            size_t row = (size_t)(r0 + r);
            const float *xp = a->xp + row * (size_t)a->ld_xp;
            const float *hp = a->h_prev + row * (size_t)a->ld_h_prev;
            float *ho = a->h_out + row * (size_t)a->ld_h_out;
            for (int q = 0; q < 2; q++) {
                int64_t j = j0 + 4 * q, cnt = a->j_end - j;
                if (cnt <= 0) break;
                float32x4_t zg = rk_ld_part(ho + j, cnt);
                float32x4_t ng = rk_tanh_f32x4(rk_clip(
                    vaddq_f32(rk_ld_part(xp + 2 * H + j, cnt), accn[r * 2 + q]), a->clip));
                float32x4_t h = vaddq_f32(vmulq_f32(vsubq_f32(vdupq_n_f32(1.0f), zg), ng),
                                          vmulq_f32(zg, rk_ld_part(hp + j, cnt)));
                rk_st_part(ho + j, cnt, h);
            }
        }
    }
}

void rnnkit_f32_gru_step__neon(const rnnkit_step_args *a) {
    if (!a->default_act || a->nr != RK_NEON_NR) {
        rnnkit_f32_gru_step__scalar(a);
        return;
    }
    int64_t r = 0;
    if (a->linear_before_reset || a->gru_pass != 2) {
        for (; r + 2 <= a->n; r += 2) gru_pass1(2, a, r);
        if (r < a->n) gru_pass1(1, a, r);
    }
    if (a->linear_before_reset || a->gru_pass == 1) return;
    for (r = 0; r + 2 <= a->n; r += 2) gru_pass2(2, a, r);
    if (r < a->n) gru_pass2(1, a, r);
}
