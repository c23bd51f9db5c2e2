/*
 * The AVX-512 kernels of simd/kernels.inc, run under SIMDe emulation (the
 * CI machines hide AVX-512), against the scalar kernels and libm.
 * tests/simde/meson.build compiles each simd/x86/avx512/ kernel file with
 * tests/simde/avx512-shim.h force-included and no -mavx512* flag, and links
 * them here with the scalar kernels only (not librnnkit), so the
 * rnnkit_f32_*__avx512 symbols below are the emulated ones.
 *
 * The list is walked with RNNKIT_KERNEL: every avx512 line is tested; one
 * whose emulated object was not built (symbol declared weak, so NULL)
 * fails. Checks:
 *  - gemm / fused steps vs the scalar twin (weights packed with the avx512
 *    row_block): h, k over 1..70 sampled plus large shapes, batch 1..17,
 *    every cell option (clip, peepholes, input_forget, lbr 0/1, b_hn),
 *    unit sub-ranges; pointers at odd float offsets, row strides with
 *    gaps, outputs and gaps pre-filled with a NaN sentinel, guard zones
 *    after every buffer (and one float before) that must stay untouched.
 *    Tolerance as tests/test_kernels.c: 1e-5*sqrt(k) + 1e-6*|ref| + 2e-6.
 *  - bitwise independence of the split (the library splits rows and unit
 *    blocks across threads): one call over n rows == separate calls per
 *    row and over two row subsets; one call over all units == separate
 *    calls per nr-unit block (GRU lbr=0 excluded: it needs all units);
 *    gemm over m rows == per-row calls.
 *  - exp / sigmoid / tanh vs libm in double, bounds of simd/x86/vmath.h
 *    (1.5 / 2.5 / 2.5 ULP; ULP = float spacing at the exact result, 2^-149
 *    below FLT_MIN): every 509th bit pattern, dense |x| in [0.5, 1) and
 *    [0.125, 0.25),
 *    saturation / underflow zones, denormals; special values bitwise;
 *    lengths 1..70 at odd offsets with guards, in place, and each element
 *    bitwise equal whatever its position (vector body or masked tail).
 * The checks are in tests/kernel_check.h (shared with tests/test_kernels.c
 * and tests/test_activations.c); this file is the runner, with every
 * optional extra of kc_profile on. Fixed seed. Last line: "N passed,
 * M failed"; exit 1 on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "simd/kernels.h"

/* Every kernel of the list weak, so only the linked ones (scalar and the
 * emulated avx512) resolve; the others are NULL and never called. */
#define RNNKIT_KERNEL(i, f, t) extern rnnkit_##t##_fn rnnkit_f32_##f##__##i __attribute__((weak));
#include "simd/kernels.inc"
#undef RNNKIT_KERNEL

static void log_line(const char *line) { printf("%s\n", line); }
#define KC_LOGGER log_line
#define KC_NOTE log_line
#include "../kernel_check.h"

#define EMU_ISA "avx512"

static const int64_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
static const kc_profile profile = {
    .ns = ns, .n_ns = KC_LEN(ns), .split_calls = 1, .extra_shapes = 1, .saturate = 1,
    .dense_sweep = 1};

static int n_pass, n_fail;
static void result(int ok, const char *what) {
    if (ok) n_pass++;
    else n_fail++;
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    fflush(stdout);
}

/* ---------------------------------------------------------------- main */

int main(void) {
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("skipped: the emulation is built on AVX2+FMA, which this CPU lacks\n");
        return 77;
    }
#endif
    const int nr = kc_isa_nr(EMU_ISA);
    char what[160];
    int listed = 0;
    if (nr <= 0 || nr > RNNKIT_MAX_NR) {
        snprintf(what, sizeof what, EMU_ISA " row_block %d in simd/kernels.inc", nr);
        result(0, what);
    }
    for (int i = 0; i < KC_LEN(kc_kernels); i++) {
        const kc_kernel *e = &kc_kernels[i];
        if (strcmp(e->isa, EMU_ISA)) continue;
        listed++;
        const kc_kernel *ref = kc_scalar_twin(e->field);
        int fails = 0;
        if (!strcmp(e->type, "gemm") && !(ref && ref->gemm)) {
            printf("  %s %s: no scalar twin linked\n", e->isa, e->field);
            fails = 1;
        } else if (!strcmp(e->type, "step") && !(ref && ref->step)) {
            printf("  %s %s: no scalar twin linked\n", e->isa, e->field);
            fails = 1;
        } else if (!strcmp(e->type, "gemm")) {
            fails = e->gemm ? kc_run_gemm(e->isa, e->gemm, nr, &profile) : -1;
        } else if (!strcmp(e->type, "step")) {
            fails = e->step ? kc_run_steps(e->isa, e->field, e->step, ref->step, nr, &profile)
                            : -1;
        } else if (!strcmp(e->type, "unary")) {
            fails = e->unary ? kc_run_unary(e->isa, e->field, e->unary, &profile) : -1;
        } else if (!strcmp(e->type, "act")) {
            /* Every 2039th float: the emulated intrinsics are slow. */
            fails = e->act ? kc_check_act_kinds(e->isa, e->act, 2039) : -1;
        } else {
            printf("  %s %s: kernel type %s not covered by this test\n", e->isa, e->field, e->type);
            fails = 1;
        }
        if (fails < 0)
            printf("  %s %s: no emulated object linked (add its file to tests/simde/meson.build)\n",
                   e->isa, e->field);
        snprintf(what, sizeof what, "%s %s (emulated) vs %s", e->isa, e->field,
                 !strcmp(e->type, "unary") ? "libm" : !strcmp(e->type, "act") ? "double" : "scalar");
        result(fails == 0, what);
    }
    snprintf(what, sizeof what, "simd/kernels.inc lists %d %s kernels", listed, EMU_ISA);
    result(listed > 0, what);
    printf("worst |kernel - scalar| / tolerance: gemm %.3f, steps %.3f\n", kc_worst_gemm_ratio,
           kc_worst_step_ratio);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
