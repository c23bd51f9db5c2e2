/*
 * Vector exp, sigmoid and tanh for the x86 kernels, written once in the
 * vocabulary of vec-avx2.h / vec-avx512.h (include one of them first).
 * Coefficients and their source: vmath-coeffs.h.
 *
 * Measured against libm in double over every float: tests/act_exhaustive.c,
 * run by scripts/test.sh on every ISA the CPU has (tests/test_activations.c
 * checks a dense sample against the same bounds in every build).
 * ULP = float spacing at the exact result, 2^-149 for denormal results.
 * AVX2, all 2^32 inputs: max 1.01 / 2.40 / 2.42 ULP (exp / sigmoid /
 * tanh); AVX-512 runs the same code (sampled under emulation).
 * The stated (and tested) bounds over the whole float range:
 *   vexp      <= 1.5 ULP, denormal results included; x > 88.7228 -> +inf,
 *             x < -103.98 -> +0, exp(+-0) = 1.
 *   vsigmoid  <= 2.5 ULP, denormal results (x < -87.33) included;
 *             sigmoid(+inf) = 1, sigmoid(-inf) = +0, sigmoid(+-0) = 0.5.
 *   vtanh     <= 2.5 ULP everywhere (relative accuracy is kept near 0:
 *             expm1(2|x|) has no cancellation, so tiny and denormal x
 *             give x itself and tanh(-0) = -0); tanh(+-inf) = +-1.
 * Until session 17 sigmoid was 1/(1+exp(-|x|)) with a select and tanh
 * took the better of a small-|x| polynomial and an exp formula, both
 * computed (<= 3 / 1.5 ULP, measured 2.83 / 1.33): the new ones cost 3
 * and ~8 fewer vector operations: batch-1 steps at H 32, where the update
 * dominates, measured 4-10 % faster (bench/results-2026-11-27-s17.md).
 * NaN in gives NaN out (quiet). No FP state (MXCSR) is changed or assumed
 * beyond round-to-nearest.
 */
#ifndef RNNKIT_X86_VMATH_H
#define RNNKIT_X86_VMATH_H

#include <assert.h>

#include "vmath-coeffs.h"

/* exp(x) = 2^n * (1 + q), n = round(x / ln 2), q = exp(r) - 1 for the
 * reduced r (|r| <= ln2 / 2), as q and n. */
RNNKIT_VINLINE V rnnkit_expm1_reduced(V x, V *n_out) {
    V n = vround(vmul(x, vset1(RNNKIT_EXP_LOG2E)));
    V r = vfnma(n, vset1(RNNKIT_EXP_LN2_HI), x);
    r = vfnma(n, vset1(RNNKIT_EXP_LN2_LO), r);
    V p = vset1(RNNKIT_EXP_P0);
    p = vfma(p, r, vset1(RNNKIT_EXP_P1));
    p = vfma(p, r, vset1(RNNKIT_EXP_P2));
    p = vfma(p, r, vset1(RNNKIT_EXP_P3));
    p = vfma(p, r, vset1(RNNKIT_EXP_P4));
    p = vfma(p, r, vset1(RNNKIT_EXP_P5));
    *n_out = n;
    return vfma(p, vmul(r, r), r);
}

/* exp(x) = 2^n * y, y = exp(r), as y and n. */
RNNKIT_VINLINE V rnnkit_exp_reduced(V x, V *n_out) {
    return vadd(rnnkit_expm1_reduced(x, n_out), vset1(1.0f));
}

RNNKIT_VINLINE V vexp(V x) {
    /* Data as the second operand of max/min so NaN passes the clamp. */
    x = vmin(vset1(RNNKIT_EXP_MAX), vmax(vset1(RNNKIT_EXP_MIN), x));
    V n;
    V y = rnnkit_exp_reduced(x, &n);
    /* n is in [-150, 128]: scale by 2^n1 * 2^n2 with both halves in the
     * normal exponent range, so overflow gives inf and underflow rounds
     * once into the denormals. */
    V n1 = vhalf_floor(n);
    V n2 = vsub(n, n1);
    return vmul(vmul(y, vpow2i(n1)), vpow2i(n2));
}

/* exp(x) for x in [-87, 88] (or NaN): n is in [-126, 127], so 2^n is a
 * normal float and one exact scaling gives vexp's result bit for bit,
 * 8 fewer operations. */
RNNKIT_VINLINE V rnnkit_exp_normal(V x) {
    V n;
    V y = rnnkit_exp_reduced(x, &n);
    return vscale2i(y, n);
}

/* sigmoid(x) = e / (1 + e), e = exp(x): for x >= 88 (clamped) e is
 * ~1.65e38 and 1 + e rounds to e, so the quotient is 1 exactly; for very
 * negative x the quotient is e itself to within its rounding, so denormal
 * results need the full vexp. One division, no select. */
RNNKIT_VINLINE V vsigmoid(V x) {
    /* Clamped above in every case: exp(+inf) would give inf / inf. */
    V xc = vmin(vset1(88.0f), x), e;
    /* x >= -87 in every lane (in practice always): the cheaper exp;
     * else the full vexp (denormal results). */
    if (vany(vlt(x, vset1(-87.0f))))
        e = vexp(xc);
    else
        e = rnnkit_exp_normal(xc);
    return vdiv(e, vadd(vset1(1.0f), e));
}

/* tanh(|x|) = E / (E + 2) with E = expm1(2|x|) = 2^n (1 + q) - 1 =
 * 2^n q + (2^n - 1), which keeps relative accuracy near 0 (n = 0: E = q)
 * and has no cancellation for n >= 1 (q >= -0.3); the sign of x is ORed
 * in. 2|x| is clamped to 40 (tanh is 1 in float from |x| = 9.01; NaN
 * passes the clamp), so 2^n is a normal float. */
RNNKIT_VINLINE V vtanh(V x) {
    V a = vabs(x);
    V n;
    V q = rnnkit_expm1_reduced(vmin(vset1(40.0f), vadd(a, a)), &n);
    V p2 = vpow2i(n);
    V E = vfma(p2, q, vsub(p2, vset1(1.0f)));
    return vcopysign(vdiv(E, vadd(E, vset1(2.0f))), x);
}

/* softplus(x) = log(1 + exp(x)) as the scalar one: x itself above 20.
 * log1p(e) = log(u) * e / (u - 1) with u = 1 + e rounded (e itself where
 * u == 1), which cancels u's rounding error; log(u) = k ln 2 + log(m),
 * m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, by its series to s^9 (truncation < 1e-9 relative).
 * Measured against log1p(exp(x)) in double over every 7th float: at most
 * 4.8 ULP (the scalar log1pf(expf(x)): 1.5); tests/kernel_check.h
 * kc_check_act_kinds checks it (bound 6) through the act kernel. NaN in
 * gives NaN out. */
RNNKIT_VINLINE V rnnkit_vsoftplus(V x) {
    const V one = vset1(1.0f);
    V e = vexp(vmin(vset1(20.0f), x));
    V u = vadd(one, e);
    V m = vmant(u), k = vexpo(u);
    VM big = vlt(vset1(1.41421356f), m);
    m = vsel(big, vmul(m, vset1(0.5f)), m);
    k = vsel(big, vadd(k, one), k);
    V s = vdiv(vsub(m, one), vadd(m, one)), z = vmul(s, s);
    V q = vfma(z, vset1(1.0f / 9.0f), vset1(1.0f / 7.0f));
    q = vfma(q, z, vset1(1.0f / 5.0f));
    q = vfma(q, z, vset1(1.0f / 3.0f));
    V lm = vmul(vadd(s, s), vfma(q, z, one));
    V lu = vfma(k, vset1(0.693147182f), lm);
    V r = vsel(vle(u, one), e, vmul(lu, vdiv(e, vsub(u, one))));
    /* x <= 20 (ordered): r; above 20 and NaN: x. */
    return vsel(vle(x, vset1(20.0f)), r, x);
}

/* The ONNX activation a->kind (simd/kernels.h) with its alpha, beta, for
 * the fused steps' non-default activations (default_act = 0), as the
 * scalar rnnkit_act_apply (simd/scalar/act-scalar.h) within the bounds
 * above: sigmoid, tanh, exp as vsigmoid, vtanh, vexp; Elu's exp(x) - 1
 * has an absolute error of ~1 ULP of 1 near 0 (expm1f in the scalar one).
 * NaN in gives NaN out. Softplus: rnnkit_vsoftplus. Not inlined: one
 * copy per kernel file, called once per vector. */
__attribute__((noinline, unused)) static V rnnkit_vact(V x, const rnnkit_act *a) {
    const V al = vset1(a->alpha), be = vset1(a->beta);
    switch (a->kind) {
    case RNNKIT_ACT_SIGMOID: return vsigmoid(x);
    case RNNKIT_ACT_TANH: return vtanh(x);
    case RNNKIT_ACT_RELU: return vmax(vzero(), x);
    case RNNKIT_ACT_AFFINE: return vfma(al, x, be);
    case RNNKIT_ACT_LEAKY_RELU: return vsel(vlt(x, vzero()), vmul(al, x), x);
    case RNNKIT_ACT_THRESHOLDED_RELU: return vsel(vle(x, al), vzero(), x);
    case RNNKIT_ACT_SCALED_TANH: return vmul(al, vtanh(vmul(be, x)));
    case RNNKIT_ACT_HARD_SIGMOID: return vmin(vset1(1.0f), vmax(vzero(), vfma(al, x, be)));
    case RNNKIT_ACT_ELU: return vsel(vlt(x, vzero()), vmul(al, vsub(vexp(x), vset1(1.0f))), x);
    case RNNKIT_ACT_SOFTSIGN: return vdiv(x, vadd(vset1(1.0f), vabs(x)));
    case RNNKIT_ACT_SOFTPLUS: return rnnkit_vsoftplus(x);
    default: assert(0 && "unknown activation"); return x;
    }
}
/* Activation i (0 f, 1 g, 2 h of simd/kernels.h) of a step: STD (a
 * compile-time constant: the steps instantiate their update for each
 * case, so the standard path has no test per vector; measured, a
 * runtime test cost 4-6 %) the cell's standard one DEF, else a->act[i]. */
#define RNNKIT_ACT(STD, a, i, DEF, x) ((STD) ? DEF(x) : rnnkit_vact((x), &(a)->act[i]))

#endif
