/*
 * Polynomial coefficients of the x86 vector activations (simd/x86/vmath.h),
 * in one place for both ISAs.
 *
 * exp: Cody-Waite reduction x = n*ln2 + r, |r| <= ln2/2, ln2 split into
 *   RNNKIT_EXP_LN2_HI (exact in 9 bits, so n*HI is exact for |n| <= 2^15)
 *   and RNNKIT_EXP_LN2_LO; exp(r) = 1 + r + r^2*P(r) with the degree-5 P
 *   of Cephes expf.c (S. Moshier, minimax on [-ln2/2, ln2/2]; Cephes
 *   states peak relative error 2.3e-7 over [-87.3, 88.7]).
 * tanh uses the same reduction for expm1(2|x|) (simd/x86/vmath.h).
 * The bounds measured for the whole kernels are in simd/x86/vmath.h.
 */
#ifndef RNNKIT_X86_VMATH_COEFFS_H
#define RNNKIT_X86_VMATH_COEFFS_H

#define RNNKIT_EXP_LOG2E 1.44269504088896341f
#define RNNKIT_EXP_LN2_HI 0.693359375f
#define RNNKIT_EXP_LN2_LO (-2.12194440e-4f)
/* Inputs are clamped to [MIN, MAX] first: exp(MAX) overflows to +inf and
 * exp(MIN) underflows to +0, so the clamp changes no result. */
#define RNNKIT_EXP_MAX 89.0f
#define RNNKIT_EXP_MIN (-104.0f)
#define RNNKIT_EXP_P0 1.9875691500e-4f
#define RNNKIT_EXP_P1 1.3981999507e-3f
#define RNNKIT_EXP_P2 8.3334519073e-3f
#define RNNKIT_EXP_P3 4.1665795894e-2f
#define RNNKIT_EXP_P4 1.6666665459e-1f
#define RNNKIT_EXP_P5 5.0000001201e-1f

#endif
