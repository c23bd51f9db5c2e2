/*
 * Every non-scalar sigmoid/tanh/exp kernel in simd/kernels.inc against
 * libm in double, asserting the bounds stated in simd/x86/vmath.h (for
 * x86; an ISA without a bound entry gets the loosest, 4 ULP). The checks
 * are in kernel_check.h (shared with tests/simde/test_avx512_emulated.c);
 * this file runs them on every ISA this CPU supports.
 * Not exhaustive (all 2^32 floats take about a minute per function and
 * ISA with libm in double on 2 cores: tests/act_exhaustive.c does that,
 * run by scripts/test.sh): every 509th bit pattern over the whole float range,
 * every 7th float of |x| in [0.5, 1) and [0.125, 0.25) (around the
 * switch of tanh's expm1(2|x|) from n = 0 to 1 at 0.173; NEON's tanh
 * switched branches at 0.625 until session 18),
 * every float of the saturation / underflow zones [80, 110] in steps of 3
 * ULPs, all denormals in steps of 4099, and special values exactly.
 * ULP = spacing of floats at the double result (2^-149 below FLT_MIN).
 * Then lengths 1..70 at odd offsets with guard zones, and in place.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "rnnkit.h"

static void log_error(const char *line) { cr_log_error("%s", line); }
static void log_info(const char *line) { cr_log_info("%s", line); }
#define KC_LOGGER log_error
#define KC_NOTE log_info
#include "kernel_check.h"

/* The common sample only (no extra every-97th sweep). */
static const kc_profile profile = {.dense_sweep = 0};

/* Non-scalar unary kernels this CPU runs. */
static int unary_runs(const kc_kernel *k) {
    if (strcmp(k->type, "unary") || !strcmp(k->isa, "scalar")) return 0;
    if (!rnnkit_isa_supported(k->isa)) {
        fprintf(stderr, "test_activations: skipping %s (not supported by this CPU)\n", k->isa);
        return 0;
    }
    return 1;
}

Test(activations, bounds_vs_libm) {
    for (int e = 0; e < KC_LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (!unary_runs(k)) continue;
        int fails = kc_check_unary_bounds(k->isa, k->field, k->unary, &profile);
        cr_expect(fails == 0, "%s %s: %d ranges over the stated bound (see log)", k->isa,
                  k->field, fails);
    }
}

Test(activations, special_values) {
    for (int e = 0; e < KC_LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (!unary_runs(k)) continue;
        int fails = kc_check_unary_special(k->isa, k->field, k->unary);
        cr_expect(fails == 0, "%s %s: %d wrong special values (see log)", k->isa, k->field,
                  fails);
    }
}

Test(activations, lengths_guards_in_place) {
    for (int e = 0; e < KC_LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (!unary_runs(k)) continue;
        int fails = kc_check_unary_lengths(k->isa, k->field, k->unary);
        cr_expect(fails == 0, "%s %s: %d failing lengths (see log)", k->isa, k->field, fails);
    }
}

/* Every ONNX activation kind of the act kernels (the vector forms the
 * fused steps apply for non-default activations) against the scalar
 * semantics in double (kernel_check.h kc_check_act_kinds), every 509th
 * bit pattern plus special values, and lengths / guards / in place. */
Test(activations, onnx_kinds) {
    int ran = 0;
    for (int e = 0; e < KC_LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (strcmp(k->type, "act") || !strcmp(k->isa, "scalar")) continue;
        if (!rnnkit_isa_supported(k->isa)) {
            fprintf(stderr, "test_activations: skipping %s act (not supported by this CPU)\n",
                    k->isa);
            continue;
        }
        ran++;
        int fails = kc_check_act_kinds(k->isa, k->act, 509);
        cr_expect(fails == 0, "%s act: %d failing kinds (see log)", k->isa, fails);
    }
#if defined(__x86_64__) && !defined(RNNKIT_SCALAR_ONLY)
    if (rnnkit_isa_supported("avx2")) cr_expect(ran > 0, "no act kernel ran on this AVX2 CPU");
#endif
}
