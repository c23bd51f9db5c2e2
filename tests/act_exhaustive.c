/*
 * act_exhaustive: every vector exp / sigmoid / tanh kernel this CPU runs
 * (AVX2, AVX-512; NEON when run on AArch64 hardware) over ALL 2^32 float
 * bit patterns against libm in double, asserting the bounds stated in
 * simd/x86/vmath.h (the same kc_bound_of / kc_err_ulp as the sampled
 * Criterion suite, tests/test_activations.c, which checks a dense sample
 * on every build). Every input counts: NaNs (must give NaN), +-inf,
 * +-0, denormals, saturation.
 *
 * A plain program (no Criterion), parallel with OpenMP: about a minute
 * per ISA on 2 Zen 4 cores. scripts/test.sh runs it on the release build
 * (RNNKIT_SKIP_EXHAUSTIVE=1 skips it). Under qemu-user, where a second
 * thread hangs and emulation is ~100x slower, the NEON runner checks a
 * dense sample instead (tests/neon_runner.c).
 *
 * usage: act_exhaustive [ISA ...] [exp|sigmoid|tanh ...]   (default: every
 * non-scalar ISA the CPU supports, every function). Exit status 0 when
 * every kernel checked is within its bound, 1 when one is not, 2 on bad
 * arguments.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rnnkit.h"

#include "kernel_check.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int is_fn(const char *s) {
    return !strcmp(s, "exp") || !strcmp(s, "sigmoid") || !strcmp(s, "tanh");
}

/* name (an ISA, or with fn = 1 a function) is selected by the arguments:
 * named among them, or none of its kind is named. */
static int wanted(const char *name, int fn, int argc, char **argv) {
    int any = 0;
    for (int i = 1; i < argc; i++) {
        if (is_fn(argv[i]) != fn) continue;
        any = 1;
        if (!strcmp(argv[i], name)) return 1;
    }
    return !any;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        int known = 0;
        for (int j = 0; j < KC_LEN(kc_isas); j++) known |= !strcmp(kc_isas[j].isa, argv[i]);
        if (is_fn(argv[i])) continue;
        if (!known || !strcmp(argv[i], "scalar")) {
            fprintf(stderr, "act_exhaustive: \"%s\" is neither a vector ISA nor exp, sigmoid, tanh\n",
                    argv[i]);
            return 2;
        }
    }
    int fails = 0, checked = 0;
    for (int e = 0; e < KC_LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (strcmp(k->type, "unary") || !strcmp(k->isa, "scalar") || !wanted(k->isa, 0, argc, argv) ||
            !wanted(k->field, 1, argc, argv))
            continue;
        if (!rnnkit_isa_supported(k->isa)) {
            printf("act_exhaustive: %s not supported by this CPU, skipped\n", k->isa);
            continue;
        }
        const double b = kc_bound_of(k->isa, k->field), t0 = now();
        float x;
        const double w = kc_sweep(k->field, k->unary, 0, 1ull << 32, 1, &x);
        checked++;
        if (w <= b) {
            printf("PASS %s %s: max error %.3f ULP over all 2^32 floats (stated bound %.1f) at "
                   "x = %a, %.1f s\n",
                   k->isa, k->field, w, b, (double)x, now() - t0);
        } else {
            float y;
            k->unary(1, &x, &y);
            printf("FAIL %s %s: %.3f ULP > stated %.1f at x = %a (%.9g): got %.9g, libm %.9g\n",
                   k->isa, k->field, w, b, (double)x, (double)x, (double)y,
                   kc_ref_act(k->field, x));
            fails++;
        }
        fflush(stdout);
    }
    printf("act_exhaustive: %d kernel(s) checked, %d over the bound\n", checked, fails);
    return fails ? 1 : 0;
}
