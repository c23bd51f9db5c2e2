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
 *   measured on every 31st pattern (138.5M floats, NEON_RUNNER_ACT_STRIDE
 *   =31) are given with them.
 *   exp: <= 1.5 ULP over the whole float range (measured 1.24 ULP).
 * sigmoid(x) = e / (1 + e), e = exp(min(x, 88)): for x >= 88 (the clamp
 *   applies on every path, so +inf never gives inf / inf) e is ~1.65e38
 *   and 1 + e rounds to e, so the quotient is 1 exactly; for very
 *   negative x the quotient is e itself to within its rounding. When
 *   every lane has x >= -87 (or is NaN), n is in [-126, 127] and one
 *   exact scaling by 2^n replaces exp's clamp and split scale (bit for
 *   bit the same e); if any lane is below -87 the full exp is taken
 *   (denormal results). One division, no select. sigmoid(+inf) = 1,
 *   sigmoid(-inf) = +0, sigmoid(+-0) = 0.5, NaN -> NaN. <= 2.5 ULP over
 *   all floats, denormal results included (measured 2.40 ULP, at
 *   x = -3.44: exp's error plus two roundings).
 * tanh(x) = copysign(E / (E + 2), x), E = expm1(2|x|) = 2^n (1 + q) - 1
 *   = 2^n q + (2^n - 1) from exp's reduction of 2|x| with q = r + r^2 P(r)
 *   (rk_expm1_reduced: the polynomial without its final + 1), which keeps
 *   relative accuracy near 0 (n = 0 for 2|x| < ln2/2: E = q, and q = r =
 *   2|x| exactly for tiny x, so tiny and denormal x give x itself and
 *   tanh(-0) = -0) and has no cancellation for n >= 1 (q >= -0.3). 2|x|
 *   is clamped to 40 (tanh is 1.0f from |x| = 9.01; NaN passes FMIN), so
 *   n is in [0, 58] and 2^n a normal float; then the sign bit of x is
 *   put in (BSL). tanh(+-inf) = +-1, NaN -> NaN. <= 2.5 ULP over all
 *   floats (measured 2.40 ULP, at |x| = 0.0156; the same operations and
 *   constants as the x86 vtanh of simd/x86/vmath.h, and bitwise equal to
 *   the AVX2 one over all 2^32 floats (NaN payloads aside), so 2.42 ULP
 *   is the maximum over all floats).
 * Until session 18 sigmoid was 1/(1+e) or e/(1+e) by a select with e =
 *   exp(-|x|) (measured 2.40 ULP, the same worst x) and tanh computed
 *   both a small-|x| polynomial (Cephes tanhf.c, |x| < 0.625) and
 *   (1 - e)/(1 + e) with e = exp(-2|x|) (<= 2 ULP, measured 1.50); in the
 *   unary kernels' main loop the new ones take 31.5 / 30.25 instructions
 *   per 4 floats instead of 37 / 63.25 (bench/results-2026-11-27-s18-neon.md).
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

/* Cody-Waite reduction and polynomial shared by exp, sigmoid and tanh:
 * x = nf*ln2 + r (nf = round(x * log2(e)), |r| <= ln2/2 + rounding),
 * returns P(r) of e^r = 1 + r + r^2 P(r), with r and nf. */
RK_NEON_INLINE float32x4_t rk_exp_poly(float32x4_t x, float32x4_t *r_out, float32x4_t *nf_out) {
    float32x4_t nf = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(RK_EXP_LOG2E)));
    float32x4_t r = vfmsq_f32(x, nf, vdupq_n_f32(RK_EXP_C1));
    r = vfmsq_f32(r, nf, vdupq_n_f32(RK_EXP_C2));
    float32x4_t p = vdupq_n_f32(RK_EXP_P0);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P1), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(RK_EXP_P5), p, r);
    *r_out = r;
    *nf_out = nf;
    return p;
}

/* 2^n for integral nf with n + 127 in [1, 254] (NaN lanes: nf converts
 * to 0, 2^0). */
RK_NEON_INLINE float32x4_t rk_pow2i(float32x4_t nf) {
    int32x4_t n = vcvtq_s32_f32(nf);
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n, vdupq_n_s32(127)), 23));
}

/* e^r = 1 + r + r^2 P(r), the reduced exp, as exp's one rounding of 1 + r
 * then one FMA (exp and sigmoid's exp are bit for bit the same). */
RK_NEON_INLINE float32x4_t rk_exp_reduced(float32x4_t x, float32x4_t *nf_out) {
    float32x4_t r;
    float32x4_t p = rk_exp_poly(x, &r, nf_out);
    return vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
}

/* q = e^r - 1 = r + r^2 P(r) (no +1: exact near 0, q = r when r^2 P(r)
 * is below half an ULP of r) and nf, for tanh's expm1. */
RK_NEON_INLINE float32x4_t rk_expm1_reduced(float32x4_t x, float32x4_t *nf_out) {
    float32x4_t r;
    float32x4_t p = rk_exp_poly(x, &r, nf_out);
    return vfmaq_f32(r, p, vmulq_f32(r, r));
}

RK_NEON_INLINE float32x4_t rk_exp_f32x4(float32x4_t x) {
    /* vmaxq/vminq (FMAX/FMIN) return NaN if an operand is NaN. */
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-104.0f)), vdupq_n_f32(89.0f));
    float32x4_t nf;
    float32x4_t p = rk_exp_reduced(x, &nf);
    /* n in [-150, 129] (0 for NaN): 2^n as two factors in the normal
     * range. */
    int32x4_t n = vcvtq_s32_f32(nf);
    int32x4_t n1 = vshrq_n_s32(n, 1);
    int32x4_t n2 = vsubq_s32(n, n1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* exp(x) for x in [-87, 88] (or NaN): n is in [-126, 127], so 2^n is a
 * normal float and one exact scaling gives rk_exp_f32x4's result bit for
 * bit, with no clamp and no split of the scale. */
RK_NEON_INLINE float32x4_t rk_exp_normal_f32x4(float32x4_t x) {
    float32x4_t nf;
    float32x4_t y = rk_exp_reduced(x, &nf);
    return vmulq_f32(y, rk_pow2i(nf));
}

/* sigmoid(x) = e / (1 + e), e = exp(min(x, 88)): see the header. */
RK_NEON_INLINE float32x4_t rk_sigmoid_f32x4(float32x4_t x) {
    /* Clamped above on every path (exp(+inf) would give inf / inf); FMIN
     * returns NaN for a NaN x. */
    float32x4_t xc = vminq_f32(vdupq_n_f32(88.0f), x), e;
    /* x >= -87 in every lane (in practice always; false for NaN): the
     * cheaper exp; else the full one (denormal results), laid out off
     * the straight path. */
    if (__builtin_expect(vmaxvq_u32(vcltq_f32(x, vdupq_n_f32(-87.0f))) != 0, 0))
        e = rk_exp_f32x4(xc);
    else
        e = rk_exp_normal_f32x4(xc);
    return vdivq_f32(e, vaddq_f32(vdupq_n_f32(1.0f), e));
}

/* tanh(x) = copysign(E / (E + 2), x), E = expm1(2|x|): see the header. */
RK_NEON_INLINE float32x4_t rk_tanh_f32x4(float32x4_t x) {
    float32x4_t a = vabsq_f32(x);
    /* FMIN: NaN passes the clamp (and converts to n = 0 below). */
    float32x4_t nf;
    float32x4_t q = rk_expm1_reduced(vminq_f32(vdupq_n_f32(40.0f), vaddq_f32(a, a)), &nf);
    float32x4_t p2 = rk_pow2i(nf); /* n in [0, 58] */
    /* E = 2^n q + (2^n - 1): = q for n = 0. */
    float32x4_t E = vfmaq_f32(vsubq_f32(p2, vdupq_n_f32(1.0f)), p2, q);
    float32x4_t t = vdivq_f32(E, vaddq_f32(E, vdupq_n_f32(2.0f)));
    /* The sign bit of x, the rest of t (t >= +0 or NaN). */
    return vbslq_f32(vdupq_n_u32(0x80000000u), x, t);
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
