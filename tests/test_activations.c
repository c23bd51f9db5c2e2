/*
 * Every non-scalar sigmoid/tanh/exp kernel in simd/kernels.inc against
 * libm in double, asserting the bounds stated in simd/x86/vmath.h (for
 * x86; an ISA without a bound entry here gets the loosest, 4 ULP).
 * Not exhaustive (all 2^32 floats take minutes per function with libm in
 * double on this machine; the exhaustive run behind the stated bounds was
 * done once by hand): every 509th bit pattern over the whole float range,
 * every 7th float of |x| in [0.5, 1) (the tanh branch switch at 0.625),
 * every float of the saturation / underflow zones [80, 110] in steps of 3
 * ULPs, all denormals in steps of 4099, and special values exactly.
 * ULP = spacing of floats at the double result (2^-149 below FLT_MIN).
 * Then lengths 1..70 at an odd offset with guard zones, and in place.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rnnkit.h"
#include "simd/kernels.h"

typedef struct {
    const char *isa, *field;
    rnnkit_unary_fn *fn;
} unary_entry;

#define E_unary(i, f) {#i, #f, rnnkit_f32_##f##__##i},
#define E_gemm(i, f)
#define E_step(i, f)
#define E_pack_gates(i, f)
#define RNNKIT_KERNEL(i, f, t) E_##t(i, f)
static const unary_entry unaries[] = {
#include "simd/kernels.inc"
};
#undef RNNKIT_KERNEL
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int isa_runs(const char *isa) {
    if (!strcmp(isa, "scalar")) return 0;
    if (!rnnkit_isa_supported(isa)) {
        fprintf(stderr, "test_activations: skipping %s (not supported by this CPU)\n", isa);
        return 0;
    }
    return 1;
}

/* Stated bounds in ULP (simd/x86/vmath.h). */
static double bound_of(const char *isa, const char *f) {
    int x86 = !strcmp(isa, "avx2") || !strcmp(isa, "avx512");
    if (!x86) return 4.0;
    if (!strcmp(f, "exp")) return 1.5;
    if (!strcmp(f, "sigmoid")) return 3.0;
    return 1.5; /* tanh */
}

static double ref(const char *f, double x) {
    if (!strcmp(f, "exp")) return exp(x);
    if (!strcmp(f, "sigmoid")) return 1.0 / (1.0 + exp(-x));
    return tanh(x);
}

static double ulp_of(double r) {
    double a = fabs(r);
    if (a < FLT_MIN) return ldexp(1.0, -149);
    if (a > FLT_MAX) a = FLT_MAX;
    int e;
    frexp(a, &e);
    return ldexp(1.0, e - 24);
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Error in ULP of y against the double reference; NaN/inf must match. */
static double err_ulp(float y, double r) {
    if (isnan(r)) return isnan(y) ? 0.0 : INFINITY;
    float rf = (float)r;
    if (isinf(rf)) return y == rf ? 0.0 : INFINITY;
    if (isnan(y) || isinf(y)) return INFINITY;
    return fabs((double)y - r) / ulp_of(r);
}

#define CHUNK 4096
/* Runs fn over bit patterns start, start+step, ... < end; returns worst. */
static double sweep(const unary_entry *e, uint64_t start, uint64_t end, uint64_t step,
                    float *worst_x, float *worst_y) {
    int64_t nchunks = (int64_t)((end - start + step * CHUNK - 1) / (step * CHUNK));
    double worst = 0.0;
    float wx = 0.0f, wy = 0.0f;
#pragma omp parallel
    {
        double lw = 0.0;
        float lx = 0.0f, ly = 0.0f;
        float xs[CHUNK], ys[CHUNK];
#pragma omp for schedule(dynamic, 16)
        for (int64_t c = 0; c < nchunks; c++) {
            int cnt = 0;
            for (int i = 0; i < CHUNK; i++) {
                uint64_t u = start + ((uint64_t)c * CHUNK + (uint64_t)i) * step;
                if (u >= end) break;
                xs[cnt++] = from_bits((uint32_t)u);
            }
            e->fn(cnt, xs, ys);
            for (int i = 0; i < cnt; i++) {
                double er = err_ulp(ys[i], ref(e->field, xs[i]));
                if (er > lw) lw = er, lx = xs[i], ly = ys[i];
            }
        }
#pragma omp critical
        if (lw > worst) worst = lw, wx = lx, wy = ly;
    }
    *worst_x = wx, *worst_y = wy;
    return worst;
}

Test(activations, bounds_vs_libm) {
    for (int e = 0; e < LEN(unaries); e++) {
        if (!isa_runs(unaries[e].isa)) continue;
        double b = bound_of(unaries[e].isa, unaries[e].field);
        struct {
            uint64_t start, end, step;
            const char *what;
        } ranges[] = {
            {0, 1ull << 32, 509, "every 509th bit pattern"},
            {0x3f000000u, 0x3f800000u, 7, "[0.5, 1)"},
            {0xbf000000u, 0xbf800000u, 7, "(-1, -0.5]"},
            {0x42a00000u, 0x42dc0000u, 3, "[80, 110]"},
            {0xc2a00000u, 0xc2dc0000u, 3, "[-110, -80]"},
            {1, 0x00800000u, 4099, "positive denormals"},
            {0x80000001u, 0x80800000u, 4099, "negative denormals"},
        };
        for (int r = 0; r < LEN(ranges); r++) {
            float x, y;
            double w = sweep(&unaries[e], ranges[r].start, ranges[r].end, ranges[r].step, &x, &y);
            cr_expect(w <= b,
                      "%s %s over %s: %.3f ULP > stated %.1f at x = %a (%.9g): got %.9g, libm "
                      "%.9g",
                      unaries[e].isa, unaries[e].field, ranges[r].what, w, b, (double)x,
                      (double)x, (double)y, ref(unaries[e].field, x));
        }
    }
}

static int same_bits(float a, float b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, 4); }

Test(activations, special_values) {
    const float inf = INFINITY, dmin = from_bits(1), nan = NAN;
    struct {
        const char *f;
        float x, want;
    } cases[] = {
        {"exp", 0.0f, 1.0f},        {"exp", -0.0f, 1.0f},         {"exp", inf, inf},
        {"exp", -inf, 0.0f},        {"exp", nan, nan},            {"exp", 89.0f, inf},
        {"exp", FLT_MAX, inf},      {"exp", -110.0f, 0.0f},       {"exp", -FLT_MAX, 0.0f},
        {"exp", dmin, 1.0f},        {"sigmoid", 0.0f, 0.5f},      {"sigmoid", -0.0f, 0.5f},
        {"sigmoid", inf, 1.0f},     {"sigmoid", -inf, 0.0f},      {"sigmoid", nan, nan},
        {"sigmoid", FLT_MAX, 1.0f}, {"sigmoid", -FLT_MAX, 0.0f},  {"sigmoid", 20.0f, 1.0f},
        {"tanh", 0.0f, 0.0f},       {"tanh", -0.0f, -0.0f},       {"tanh", inf, 1.0f},
        {"tanh", -inf, -1.0f},      {"tanh", nan, nan},           {"tanh", FLT_MAX, 1.0f},
        {"tanh", -FLT_MAX, -1.0f},  {"tanh", dmin, dmin},         {"tanh", -dmin, -dmin},
        {"tanh", 1e-30f, 1e-30f},   {"tanh", -1e-20f, -1e-20f},   {"tanh", 10.0f, 1.0f},
    };
    for (int e = 0; e < LEN(unaries); e++) {
        if (!isa_runs(unaries[e].isa)) continue;
        for (int c = 0; c < LEN(cases); c++) {
            if (strcmp(cases[c].f, unaries[e].field)) continue;
            float y[3], x[3] = {cases[c].x, cases[c].x, cases[c].x};
            unaries[e].fn(3, x, y);
            cr_expect(same_bits(y[0], cases[c].want) && same_bits(y[2], cases[c].want),
                      "%s %s(%a) = %a, want %a", unaries[e].isa, unaries[e].field,
                      (double)cases[c].x, (double)y[0], (double)cases[c].want);
        }
    }
}

Test(activations, lengths_guards_in_place) {
    enum { MAXN = 70, GUARD = 20 };
    for (int e = 0; e < LEN(unaries); e++) {
        if (!isa_runs(unaries[e].isa)) continue;
        double b = bound_of(unaries[e].isa, unaries[e].field);
        for (int n = 1; n <= MAXN; n++) {
            float xbuf[MAXN + 1 + GUARD], ybuf[MAXN + 1 + GUARD], zbuf[MAXN + 1 + GUARD];
            float *x = xbuf + 1, *y = ybuf + 1, *z = zbuf + 1;
            const float sent = from_bits(0x7fc0deadu);
            for (int i = 0; i < MAXN + 1 + GUARD; i++) xbuf[i] = ybuf[i] = zbuf[i] = sent;
            for (int i = 0; i < n; i++) x[i] = z[i] = (float)((i * 37 + n * 11) % 101 - 50) * 0.37f;
            unaries[e].fn(n, x, y);
            unaries[e].fn(n, z, z); /* in place */
            for (int i = 0; i < n; i++) {
                double r = ref(unaries[e].field, x[i]);
                cr_expect(err_ulp(y[i], r) <= b && same_bits(y[i], z[i]),
                          "%s %s n=%d i=%d x=%.9g: %.9g (in place %.9g), libm %.9g",
                          unaries[e].isa, unaries[e].field, n, i, (double)x[i], (double)y[i],
                          (double)z[i], r);
            }
            for (int i = n; i < n + GUARD; i++)
                cr_expect(same_bits(y[i], sent) && same_bits(z[i], sent),
                          "%s %s n=%d: guard element %d written", unaries[e].isa,
                          unaries[e].field, n, i);
            cr_expect(same_bits(ybuf[0], sent) && same_bits(zbuf[0], sent),
                      "%s %s n=%d: element before the buffer written", unaries[e].isa,
                      unaries[e].field, n);
        }
    }
}
