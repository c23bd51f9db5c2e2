/*
 * Vector math for the NEON kernels: exp, sigmoid and tanh on four floats.
 * The one place the polynomial coefficients live.
 *
 * exp(x): clamp x to [-104, 89] (NaN passes through FMIN/FMAX), n =
 *   round(x * log2(e)), r = x - n*ln2 (Cody-Waite, two constants, FMA),
 *   e^r ~ 1 + r + r^2 P(r) with the degree-5 P of Cephes expf.c (minimax
 *   on |r| <= ln2/2, Cephes states 1.7e-7 peak relative error), then
 *   * 2^(n - n/2) * 2^(n/2): two exact-range scale factors so results that
 *   overflow (x > 88.7228) give +inf and denormal results (x < -87.34)
 *   are rounded once, like libm; x <= -103.98 gives +0.
 *   Error bounds below are checked by tests/neon_runner.c against libm in
 *   double on every 4099th float bit pattern plus special values
 *   (denormal results: in units of the denormal spacing); the maxima
 *   measured on every 257th pattern (16.7M floats) are given with them.
 *   exp: <= 1.5 ULP over the whole float range (measured 1.23 ULP).
 * sigmoid(x) = 1/(1+e^-x): computed from e = exp(-|x|), which never
 *   overflows, as 1/(1+e) for x >= 0 and e/(1+e) for x < 0, so tiny and
 *   denormal results for large negative x are accurate (the scalar
 *   1/(1+expf(-x)) flushes them to 0 below x = -88.7). sigmoid(+inf) = 1,
 *   sigmoid(-inf) = 0, NaN -> NaN. <= 2.5 ULP over all floats
 *   (measured 2.35 ULP, near x = -9: exp's error plus two roundings).
 * tanh(x): for |x| < 0.625 the odd polynomial of Cephes tanhf.c,
 *   x + x^3 Q(x^2) (Cephes: 1.3e-7 peak relative error on that range);
 *   above, (1 - e)/(1 + e) with e = exp(-2|x|), which tends to 1 exactly
 *   (|x| > 9.01 gives 1.0f) and never overflows. Evaluated on |x|, then the
 *   sign bit of x is ORed in: tanh(-0) = -0, tanh(+-inf) = +-1, denormal x
 *   returns x, NaN -> NaN. <= 2 ULP over all floats (measured 1.50 ULP).
 * Denormal inputs/outputs need FPCR.FZ = 0 (the Linux default).
 */
#ifndef RNNKIT_NEON_MATH_H
#define RNNKIT_NEON_MATH_H

#include <arm_neon.h>

#define RK_NEON_INLINE static inline __attribute__((always_inline))

/* Cephes expf.c: ln2 split (C1 has 9 significant bits, so n*C1 is exact
 * for |n| <= 2^15) and the polynomial P of e^r = 1 + r + r^2 P(r). */
#define RK_EXP_LOG2E 1.44269504088896341f
#define RK_EXP_C1 0.693359375f
#define RK_EXP_C2 (-2.12194440e-4f)
#define RK_EXP_P0 1.9875691500e-4f
#define RK_EXP_P1 1.3981999507e-3f
#define RK_EXP_P2 8.3334519073e-3f
#define RK_EXP_P3 4.1665795894e-2f
#define RK_EXP_P4 1.6666665459e-1f
#define RK_EXP_P5 5.0000001201e-1f
/* Cephes tanhf.c, |x| < 0.625: tanh x = x + x^3 Q(x^2). */
#define RK_TANH_SMALL 0.625f
#define RK_TANH_Q0 (-5.70498872745e-3f)
#define RK_TANH_Q1 2.06390887954e-2f
#define RK_TANH_Q2 (-5.37397155531e-2f)
#define RK_TANH_Q3 1.33314422036e-1f
#define RK_TANH_Q4 (-3.33332819422e-1f)

RK_NEON_INLINE float32x4_t rk_exp_f32x4(float32x4_t x) {
    /* vmaxq/vminq (FMAX/FMIN) return NaN if an operand is NaN. */
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-104.0f)), vdupq_n_f32(89.0f));
    float32x4_t nf = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(RK_EXP_LOG2E)));
    float32x4_t r = vfmsq_f32(x, nf, vdupq_n_f32(RK_EXP_C1));
    r = vfmsq_f32(r, nf, vdupq_n_f32(RK_EXP_C2));
    float32x4_t p = vdupq_n_f32(RK_EXP_P0);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P1), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P5), p, r);
    float32x4_t r2 = vmulq_f32(r, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, r2);
    /* n in [-150, 129] (0 for NaN): 2^n as two factors in the normal
     * range. */
    int32x4_t n = vcvtq_s32_f32(nf);
    int32x4_t n1 = vshrq_n_s32(n, 1);
    int32x4_t n2 = vsubq_s32(n, n1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

RK_NEON_INLINE float32x4_t rk_sigmoid_f32x4(float32x4_t x) {
    float32x4_t e = rk_exp_f32x4(vnegq_f32(vabsq_f32(x)));
    float32x4_t d = vaddq_f32(vdupq_n_f32(1.0f), e);
    /* x < 0 is false for NaN: then 1/(1+NaN) = NaN. */
    uint32x4_t neg = vcltq_f32(x, vdupq_n_f32(0.0f));
    float32x4_t num = vbslq_f32(neg, e, vdupq_n_f32(1.0f));
    return vdivq_f32(num, d);
}

RK_NEON_INLINE float32x4_t rk_tanh_f32x4(float32x4_t x) {
    float32x4_t ax = vabsq_f32(x);
    float32x4_t z = vmulq_f32(ax, ax);
    float32x4_t q = vdupq_n_f32(RK_TANH_Q0);
    q = vfmaq_f32(vdupq_n_f32(RK_TANH_Q1), q, z);
    q = vfmaq_f32(vdupq_n_f32(RK_TANH_Q2), q, z);
    q = vfmaq_f32(vdupq_n_f32(RK_TANH_Q3), q, z);
    q = vfmaq_f32(vdupq_n_f32(RK_TANH_Q4), q, z);
    float32x4_t small = vfmaq_f32(ax, vmulq_f32(q, z), ax);
    float32x4_t e = rk_exp_f32x4(vmulq_f32(ax, vdupq_n_f32(-2.0f)));
    float32x4_t big =
        vdivq_f32(vsubq_f32(vdupq_n_f32(1.0f), e), vaddq_f32(vdupq_n_f32(1.0f), e));
    /* |x| < 0.625 is false for NaN: the big path gives NaN. */
    float32x4_t t = vbslq_f32(vcltq_f32(ax, vdupq_n_f32(RK_TANH_SMALL)), small, big);
    uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(t), sign));
}

/* softplus(x) = log(1 + exp(x)) as the scalar one: x itself above 20.
 * The x86 rnnkit_vsoftplus (simd/x86/vmath.h) in NEON: log1p(e) =
 * log(u) * e / (u - 1) with u = 1 + e rounded (e itself where u == 1),
 * which cancels u's rounding error; log(u) = k ln 2 + log(m), m in
 * [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, by its series to s^9. u is in [1, 4.9e8] (x clamped to
 * 20), a normal float, so its exponent and mantissa are its bit fields.
 * Checked against log1p(exp(x)) in double by tests/neon_runner.c (bound
 * 6 ULP; x86, same algorithm: 4.8 ULP measured). NaN in gives NaN out. */
RK_NEON_INLINE float32x4_t rk_softplus_f32x4(float32x4_t x) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    /* FMIN: NaN stays NaN (the last select returns x for it anyway). */
    float32x4_t e = rk_exp_f32x4(vminq_f32(vdupq_n_f32(20.0f), x));
    float32x4_t u = vaddq_f32(one, e);
    uint32x4_t ub = vreinterpretq_u32_f32(u);
    float32x4_t m = vreinterpretq_f32_u32(
        vorrq_u32(vandq_u32(ub, vdupq_n_u32(0x007fffffu)), vdupq_n_u32(0x3f800000u)));
    float32x4_t k = vcvtq_f32_s32(
        vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(ub, 23)), vdupq_n_s32(127)));
    uint32x4_t big = vcltq_f32(vdupq_n_f32(1.41421356f), m);
    m = vbslq_f32(big, vmulq_f32(m, vdupq_n_f32(0.5f)), m);
    k = vbslq_f32(big, vaddq_f32(k, one), k);
    float32x4_t s = vdivq_f32(vsubq_f32(m, one), vaddq_f32(m, one));
    float32x4_t z = vmulq_f32(s, s);
    float32x4_t q = vfmaq_f32(vdupq_n_f32(1.0f / 7.0f), z, vdupq_n_f32(1.0f / 9.0f));
    q = vfmaq_f32(vdupq_n_f32(1.0f / 5.0f), q, z);
    q = vfmaq_f32(vdupq_n_f32(1.0f / 3.0f), q, z);
    float32x4_t lm = vmulq_f32(vaddq_f32(s, s), vfmaq_f32(one, q, z));
    float32x4_t lu = vfmaq_f32(lm, k, vdupq_n_f32(0.693147182f));
    float32x4_t r = vbslq_f32(vcleq_f32(u, one), e, vmulq_f32(lu, vdivq_f32(e, vsubq_f32(u, one))));
    /* x <= 20 (ordered): r; above 20 and NaN: x. */
    return vbslq_f32(vcleq_f32(x, vdupq_n_f32(20.0f)), r, x);
}

#endif
