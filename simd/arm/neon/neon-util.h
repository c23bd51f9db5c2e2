/*
 * Shared pieces of the NEON kernels: the row block, bounded loads and
 * stores for the last partial block, and the panel multiply-accumulate
 * that every GEMM and step kernel is built on.
 *
 * Row block nr = 8 hidden units = 2 q-registers per gate: an LSTM panel is
 * 8 q-registers per k, so two batch rows share every weight load with 16
 * accumulators (GRU and RNN, with fewer gates, take more rows or, for few
 * rows, several blocks of units at once, to have ~8 independent FMA chains
 * that hide the FMA latency; k is never split, see rk_panel_mac).
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
 * acc[(r*NB + b)*NQ + q] = sum_k x[r][k] * p[b][k*ldp + 4q .. 4q+3] for MR
 * rows, NB panels p[b] (blocks of units, all of stride ldp) and NQ
 * q-registers per panel, as ONE chain of fused multiply-adds per element,
 * k = 0, 1, ..., K-1, starting from +0:
 *   acc = 0; acc = fma(x[r][k], p[b][k][q], acc) for each k.
 * That is the only way any NEON kernel sums over k, whatever MR, NB or the
 * unit range, so an output element is a fixed function of its inputs and
 * results do not depend on how the driver splits rows or units among
 * threads (the x86 kernels do the same, simd/x86/tile.h). Independent FMA
 * chains come from independent elements, never from splitting k: a tile
 * of few rows takes several blocks at once (MR*NB*NQ chains).
 * MR, NB, NQ are compile-time constants at every call site;
 * MR*NB*NQ <= 16, MR <= 4, NB <= 4. Reads x[r][0..K-1] and, of each
 * panel, the NQ q-registers of each of its K rows.
 */
#define RK_MAC_LANE(L)                                                                    \
    do {                                                                                  \
        for (int b = 0; b < NB; b++) {                                                    \
            const float *pp_ = pb[b] + (k + (L)) * ldp;                                   \
            for (int q = 0; q < NQ; q++) {                                                \
                float32x4_t w_ = vld1q_f32(pp_ + 4 * q);                                  \
                for (int r = 0; r < MR; r++)                                              \
                    t_[(r * NB + b) * NQ + q] =                                           \
                        vfmaq_laneq_f32(t_[(r * NB + b) * NQ + q], w_, xv[r], (L));       \
            }                                                                             \
        }                                                                                 \
    } while (0)

RK_NEON_INLINE void rk_panel_mac(const int MR, const int NB, const int NQ, int64_t K,
                                 const float *const *p, int64_t ldp, const float *const *x,
                                 float32x4_t *acc) {
    /* A local array indexed only by constants once unrolled, so it lives
     * in registers; acc (whose address escapes) is written once at the
     * end. */
    float32x4_t t_[16];
    const float *pb[4];
    for (int b = 0; b < NB; b++) pb[b] = p[b];
    for (int i = 0; i < MR * NB * NQ; i++) t_[i] = vdupq_n_f32(0.0f);
    float32x4_t xv[4];
    int64_t k = 0;
    /* 4 k per x load (one lane each, in order), then one k at a time: the
     * same chain either way. */
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
    for (int i = 0; i < MR * NB * NQ; i++) acc[i] = t_[i];
}

/* Blocks of nr units in [j_begin, j_end). */
RK_NEON_INLINE int64_t rk_blocks(const rnnkit_step_args *a) {
    return (a->j_end - a->j_begin + RK_NEON_NR - 1) / RK_NEON_NR;
}

/* The tiles of one row pass over nb blocks: full tiles of NB blocks,
 * then (NB > 2) one of 2 blocks if at least 2 remain, then one of 1 if
 * one remains; TILE(nbk, b) runs the tile of nbk blocks starting at block
 * b. rev (rnnkit_step_args.reverse): the same tiles from the last down,
 * so that a step alternating with the forward order starts on the
 * weights the previous one read last (the x86 steps measured 2-17 %
 * faster at batch 1 with it; not measured on ARM hardware). */
#define RK_NEON_TILES(NB, nb, rev, TILE)                                         \
    do {                                                                          \
        const int64_t nf_ = (nb) / (NB), rem_ = (nb) - nf_ * (NB);                \
        const int two_ = (NB) > 2 && rem_ >= 2, one_ = (int)(rem_ - 2 * two_);    \
        if (!(rev)) {                                                             \
            for (int64_t i_ = 0; i_ < nf_; i_++) TILE((NB), i_ *(NB));            \
            if (two_) TILE(2, nf_ *(NB));                                         \
            if (one_) TILE(1, nf_ *(NB) + 2 * two_);                              \
        } else {                                                                  \
            if (one_) TILE(1, nf_ *(NB) + 2 * two_);                              \
            if (two_) TILE(2, nf_ *(NB));                                         \
            for (int64_t i_ = nf_ - 1; i_ >= 0; i_--) TILE((NB), i_ *(NB));       \
        }                                                                         \
    } while (0)

/* The ONNX activation a->kind (simd/kernels.h) with its alpha, beta, for
 * the steps' non-default activations (default_act = 0), as the scalar
 * rnnkit_act_apply (simd/scalar/act-scalar.h) within the bounds of
 * neon-math.h, and as the x86 rnnkit_vact: sigmoid, tanh, exp as
 * rk_sigmoid_f32x4, rk_tanh_f32x4, rk_exp_f32x4 (Elu's exp(x) - 1 has an
 * absolute error of ~1 ULP of 1 near 0, where the scalar one has expm1f);
 * Softplus rk_softplus_f32x4. NaN in gives NaN out: FMAX/FMIN return NaN,
 * and every select keeps x where a comparison with NaN is false. Not
 * inlined: one copy per kernel file, called once per vector. */
__attribute__((noinline, unused)) static float32x4_t rk_act_f32x4(float32x4_t x,
                                                                  const rnnkit_act *a) {
    const float32x4_t al = vdupq_n_f32(a->alpha), be = vdupq_n_f32(a->beta);
    const float32x4_t zero = vdupq_n_f32(0.0f), one = vdupq_n_f32(1.0f);
    switch (a->kind) {
    case RNNKIT_ACT_SIGMOID: return rk_sigmoid_f32x4(x);
    case RNNKIT_ACT_TANH: return rk_tanh_f32x4(x);
    case RNNKIT_ACT_RELU: return vmaxq_f32(zero, x);
    case RNNKIT_ACT_AFFINE: return vfmaq_f32(be, al, x);
    case RNNKIT_ACT_LEAKY_RELU: return vbslq_f32(vcltq_f32(x, zero), vmulq_f32(al, x), x);
    case RNNKIT_ACT_THRESHOLDED_RELU: return vbslq_f32(vcleq_f32(x, al), zero, x);
    case RNNKIT_ACT_SCALED_TANH: return vmulq_f32(al, rk_tanh_f32x4(vmulq_f32(be, x)));
    case RNNKIT_ACT_HARD_SIGMOID: return vminq_f32(one, vmaxq_f32(zero, vfmaq_f32(be, al, x)));
    case RNNKIT_ACT_ELU:
        return vbslq_f32(vcltq_f32(x, zero), vmulq_f32(al, vsubq_f32(rk_exp_f32x4(x), one)), x);
    case RNNKIT_ACT_SOFTSIGN: return vdivq_f32(x, vaddq_f32(one, vabsq_f32(x)));
    case RNNKIT_ACT_SOFTPLUS: return rk_softplus_f32x4(x);
    default: return x;
    }
}
/* Activation i (0 f, 1 g, 2 h of simd/kernels.h) of a step: STD (a
 * compile-time constant: each step instantiates its update for both
 * cases, so the standard path has no test per vector) the cell's standard
 * one DEF, else a->act[i]. */
#define RK_ACT(STD, a, i, DEF, x) ((STD) ? DEF(x) : rk_act_f32x4((x), &(a)->act[i]))

/* Clamp to [-clip, clip] when clip > 0; NaN stays NaN (FMAX/FMIN). */
RK_NEON_INLINE float32x4_t rk_clip(float32x4_t x, float clip) {
    if (clip > 0.0f) x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-clip)), vdupq_n_f32(clip));
    return x;
}

#endif
