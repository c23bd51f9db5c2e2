/*
 * Shared pieces of the NEON kernels: the row block, bounded loads and
 * stores for the last partial block, and the panel multiply-accumulate
 * that every GEMM and step kernel is built on.
 *
 * Row block nr = 8 hidden units = 2 q-registers per gate: an LSTM panel is
 * 8 q-registers per k, so two batch rows share every weight load with 16
 * accumulators (GRU and RNN, with fewer gates, block more rows or split k
 * over several accumulator sets to hide the FMA latency).
 */
#ifndef RNNKIT_NEON_UTIL_H
#define RNNKIT_NEON_UTIL_H

#include <arm_neon.h>
#include <stdint.h>

#include "../../kernels.h"
#include "neon-math.h"

#define RK_NEON_NR 8

/* Loads c floats (c may be <= 0 or >= 4) into a vector, zeros after:
 * never reads p[c] or beyond. */
RK_NEON_INLINE float32x4_t rk_ld_part(const float *p, int64_t c) {
    if (c >= 4) return vld1q_f32(p);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t i = 0; i < c; i++) t[i] = p[i];
    return vld1q_f32(t);
}

/* Stores the first c lanes (c may be <= 0 or >= 4). */
RK_NEON_INLINE void rk_st_part(float *p, int64_t c, float32x4_t v) {
    if (c >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (int64_t i = 0; i < c; i++) p[i] = t[i];
}

/*
 * acc[r*NQ + q] = sum_k x[r][k] * p[k*ldp + 4q .. 4q+3] for MR rows and NQ
 * q-registers, k in order. KS > 1 spreads consecutive k over KS sets of
 * accumulators (summed at the end) so a single row still has enough
 * independent FMA chains. MR, NQ, KS are compile-time constants at every
 * call site; KS*MR*NQ <= 16 and MR <= 4. Reads exactly K*ldp floats of
 * the panel (less the unused tail of the last row) and x[r][0..K-1].
 */
#define RK_MAC_LANE(L)                                                               \
    do {                                                                             \
        const float *pp_ = p + (k + (L)) * ldp;                                      \
        float32x4_t *as_ = t_ + ((L) % KS) * MR * NQ;                                \
        for (int q = 0; q < NQ; q++) {                                               \
            float32x4_t w_ = vld1q_f32(pp_ + 4 * q);                                 \
            for (int r = 0; r < MR; r++)                                             \
                as_[r * NQ + q] = vfmaq_laneq_f32(as_[r * NQ + q], w_, xv[r], (L));  \
        }                                                                            \
    } while (0)

RK_NEON_INLINE void rk_panel_mac(const int MR, const int NQ, const int KS, int64_t K,
                                 const float *p, int64_t ldp, const float *const *x,
                                 float32x4_t *acc) {
    /* A local array indexed only by constants once unrolled, so it lives
     * in registers; acc (whose address escapes) is written once at the
     * end. */
    float32x4_t t_[16];
    for (int i = 0; i < KS * MR * NQ; i++) t_[i] = vdupq_n_f32(0.0f);
    float32x4_t xv[4];
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
        for (int r = 0; r < MR; r++) xv[r] = vld1q_f32(x[r] + k);
        RK_MAC_LANE(0);
        RK_MAC_LANE(1);
        RK_MAC_LANE(2);
        RK_MAC_LANE(3);
    }
    for (; k < K; k++) {
        for (int r = 0; r < MR; r++) xv[r] = vdupq_n_f32(x[r][k]);
        RK_MAC_LANE(0);
    }
    for (int s = 1; s < KS; s++)
        for (int i = 0; i < MR * NQ; i++) t_[i] = vaddq_f32(t_[i], t_[s * MR * NQ + i]);
    for (int i = 0; i < MR * NQ; i++) acc[i] = t_[i];
}

/* Clamp to [-clip, clip] when clip > 0; NaN stays NaN (FMAX/FMIN). */
RK_NEON_INLINE float32x4_t rk_clip(float32x4_t x, float clip) {
    if (clip > 0.0f) x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-clip)), vdupq_n_f32(clip));
    return x;
}

#endif
