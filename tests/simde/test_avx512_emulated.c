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
 *    (1.5 / 3 / 1.5 ULP; ULP = float spacing at the exact result, 2^-149
 *    below FLT_MIN): every 509th bit pattern, dense |x| in [0.5, 1),
 *    saturation / underflow zones, denormals; special values bitwise;
 *    lengths 1..70 at odd offsets with guards, in place, and each element
 *    bitwise equal whatever its position (vector body or masked tail).
 * Fixed seed. Last line: "N passed, M failed"; exit 1 on any failure.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/kernels.h"

/* Every kernel of the list weak, so only the linked ones (scalar and the
 * emulated avx512) resolve; the others are NULL and never called. */
#define RNNKIT_KERNEL(i, f, t) extern rnnkit_##t##_fn rnnkit_f32_##f##__##i __attribute__((weak));
#include "simd/kernels.inc"
#undef RNNKIT_KERNEL

#define EMU_ISA "avx512"
#define GUARD 32
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct {
    const char *isa;
    int nr;
} isa_entry;
static const isa_entry isas[] = {
#define RNNKIT_ISA(i, nr) {#i, nr},
#include "simd/kernels.inc"
#undef RNNKIT_ISA
};

typedef struct {
    const char *isa, *field, *type;
    rnnkit_gemm_fn *gemm;
    rnnkit_step_fn *step;
    rnnkit_unary_fn *unary;
} kentry;

#define K_gemm(i, f) {#i, #f, "gemm", rnnkit_f32_##f##__##i, NULL, NULL},
#define K_step(i, f) {#i, #f, "step", NULL, rnnkit_f32_##f##__##i, NULL},
#define K_unary(i, f) {#i, #f, "unary", NULL, NULL, rnnkit_f32_##f##__##i},
#define K_pack_gates(i, f) {#i, #f, "pack_gates", NULL, NULL, NULL},
#define RNNKIT_KERNEL(i, f, t) K_##t(i, f)
static const kentry kernels[] = {
#include "simd/kernels.inc"
};
#undef RNNKIT_KERNEL

static int n_pass, n_fail;
static void result(int ok, const char *what) {
    if (ok) n_pass++;
    else n_fail++;
    printf("%s %s\n", ok ? "PASS" : "FAIL", what);
    fflush(stdout);
}

static int isa_nr(const char *isa) {
    for (int i = 0; i < LEN(isas); i++)
        if (!strcmp(isas[i].isa, isa)) return isas[i].nr;
    return 0;
}

static const kentry *scalar_twin(const char *field) {
    for (int i = 0; i < LEN(kernels); i++)
        if (!strcmp(kernels[i].isa, "scalar") && !strcmp(kernels[i].field, field))
            return &kernels[i];
    return NULL;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(float lo, float hi) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng >> 40) & 0xFFFFFF) / 16777216.0f;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float sentinel(void) { return from_bits(0x7fc0deadu); }
static int is_sentinel(float f) { return bits_of(f) == 0x7fc0deadu; }
static int same_bits(float a, float b) { return bits_of(a) == bits_of(b); }

/* n floats at an odd offset (1 or 3 floats past the allocation), a guard
 * zone after; everything starts as the NaN sentinel. */
typedef struct {
    float *base, *p;
    size_t n, off;
} buf;
static int buf_salt;
static buf buf_new(size_t n, int fill_random, float lo, float hi) {
    buf b;
    b.n = n;
    b.off = (buf_salt++ & 1) ? 3 : 1;
    b.base = malloc((n + b.off + GUARD) * sizeof(float));
    if (!b.base) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    b.p = b.base + b.off;
    for (size_t i = 0; i < n + b.off + GUARD; i++) b.base[i] = sentinel();
    if (fill_random)
        for (size_t i = 0; i < n; i++) b.p[i] = frand(lo, hi);
    return b;
}
static int guard_ok(const buf *b) {
    for (size_t i = 0; i < GUARD; i++)
        if (!is_sentinel(b->p[b->n + i])) return 0;
    for (size_t i = 0; i < b->off; i++)
        if (!is_sentinel(b->base[i])) return 0;
    return 1;
}
static void buf_free(buf *b) { free(b->base); }

static float tol(int64_t k, float ref) { return 1e-5f * sqrtf((float)k) + 1e-6f * fabsf(ref) + 2e-6f; }

/* Worst |kernel - scalar| / tolerance seen, reported at the end. */
static double worst_gemm_ratio, worst_step_ratio;

/* ---------------------------------------------------------------- gemm */

static int check_gemm(const kentry *e, int nr, int64_t m, int64_t g, int64_t h, int64_t k) {
    int64_t lda = k + 3, ldc = g * h + 2;
    buf a = buf_new((size_t)(m * lda), 1, -1, 1);
    buf w = buf_new((size_t)(g * h * k), 1, -1, 1);
    buf bias = buf_new((size_t)(g * h), 1, -1, 1);
    buf packed = buf_new(rnnkit_packed_floats(nr, g, h, k), 0, 0, 0);
    buf c = buf_new((size_t)(m * ldc), 0, 0, 0);
    buf crow = buf_new((size_t)(m * ldc), 0, 0, 0);
    buf cref = buf_new((size_t)(m * ldc), 0, 0, 0);
    rnnkit_f32_pack_gates__scalar(nr, g, h, k, w.p, packed.p);
    int fails = 0;
    for (int use_bias = 0; use_bias < 2 && !fails; use_bias++) {
        const float *bp = use_bias ? bias.p : NULL;
        e->gemm(nr, m, g, h, k, a.p, lda, packed.p, bp, c.p, ldc);
        for (int64_t i = 0; i < m; i++) /* one row per call */
            e->gemm(nr, 1, g, h, k, a.p + i * lda, lda, packed.p, bp, crow.p + i * ldc, ldc);
        rnnkit_f32_gemm__scalar(nr, m, g, h, k, a.p, lda, packed.p, bp, cref.p, ldc);
        for (int64_t i = 0; i < m && !fails; i++)
            for (int64_t col = 0; col < ldc && !fails; col++) {
                float y = c.p[i * ldc + col], r = cref.p[i * ldc + col];
                float y1 = crow.p[i * ldc + col];
                int ok, split_ok = same_bits(y, y1);
                if (col < g * h) {
                    double ratio = fabsf(y - r) / tol(k, r);
                    if (ratio > worst_gemm_ratio) worst_gemm_ratio = ratio;
                    ok = ratio <= 1.0;
                } else {
                    ok = is_sentinel(y);
                }
                if (!ok || !split_ok) {
                    printf("  %s gemm m=%ld g=%ld h=%ld k=%ld bias=%d: C[%ld][%ld] = %.9g, scalar "
                           "%.9g, same row alone %.9g (%s)\n",
                           e->isa, (long)m, (long)g, (long)h, (long)k, use_bias, (long)i,
                           (long)col, y, r, y1,
                           !ok ? (col < g * h ? "out of tolerance" : "gap column written")
                               : "not bitwise equal to the one-row call");
                    fails++;
                }
            }
        if (!guard_ok(&c) || !guard_ok(&crow) || !guard_ok(&a) || !guard_ok(&packed)) {
            printf("  %s gemm m=%ld g=%ld h=%ld k=%ld: guard zone overwritten\n", e->isa, (long)m,
                   (long)g, (long)h, (long)k);
            fails++;
        }
    }
    buf_free(&a), buf_free(&w), buf_free(&bias), buf_free(&packed), buf_free(&c);
    buf_free(&crow), buf_free(&cref);
    return fails;
}

static const int64_t hs[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 64, 70};
static const int64_t ks[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 33, 64, 70};
static const int64_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};

static int run_gemm(const kentry *e, int nr) {
    int fails = 0, idx = 0;
    for (int64_t g = 1; g <= 4; g++)
        for (int hi = 0; hi < LEN(hs); hi++)
            for (int ki = 0; ki < LEN(ks); ki++, idx++) {
                if (idx % 3) continue; /* subsample the h x k grid */
                int64_t m = ns[(idx / 3) % LEN(ns)];
                fails += check_gemm(e, nr, m, g, hs[hi], ks[ki]);
                if (fails > 5) return fails;
            }
    fails += check_gemm(e, nr, 13, 4, 256, 256);
    fails += check_gemm(e, nr, 17, 1, 1000, 70);
    fails += check_gemm(e, nr, 2, 3, 70, 1000);
    fails += check_gemm(e, nr, 64, 4, 64, 33);
    fails += check_gemm(e, nr, 25, 2, 100, 17);
    return fails;
}

/* --------------------------------------------------------------- steps */

typedef struct {
    int peep, input_forget, lbr, bhn;
    float clip;
    int64_t jb, je;
} step_opts;

static int gates_of(const char *field) {
    if (!strcmp(field, "lstm_step")) return 4;
    if (!strcmp(field, "gru_step")) return 3;
    return 1;
}

typedef struct {
    buf ho, co, sc;
} step_out;

static void run_one(rnnkit_step_fn *fn, const step_opts *o, int nr, int64_t r0, int64_t r1,
                    int64_t jb, int64_t je, int64_t H, int64_t K, const buf *w, const buf *wn,
                    const buf *xp, int64_t ld_xp, const buf *hp, int64_t ld_hp, const buf *cp,
                    const buf *peep, const buf *bhn, step_out *out, int64_t ld_ho) {
    rnnkit_step_args a;
    memset(&a, 0, sizeof a);
    a.nr = nr, a.n = r1 - r0, a.h = H, a.k = K, a.j_begin = jb, a.j_end = je;
    a.w = w->p, a.w_n = wn->p, a.xp = xp->p + r0 * ld_xp, a.ld_xp = ld_xp;
    a.h_prev = hp->p + r0 * ld_hp, a.ld_h_prev = ld_hp, a.c_prev = cp->p + r0 * H;
    a.h_out = out->ho.p + r0 * ld_ho, a.ld_h_out = ld_ho, a.c_out = out->co.p + r0 * H;
    a.b_hn = o->bhn ? bhn->p : NULL, a.peep = o->peep ? peep->p : NULL;
    a.clip = o->clip, a.input_forget = o->input_forget, a.linear_before_reset = o->lbr;
    a.default_act = 1, a.scratch = out->sc.p + r0 * K;
    fn(&a);
}

static int check_step(const kentry *e, int nr, int64_t n, int64_t H, int64_t K,
                      const step_opts *o) {
    const int is_gru = !strcmp(e->field, "gru_step"), is_lstm = !strcmp(e->field, "lstm_step");
    const int G = gates_of(e->field);
    const int Gw = is_gru ? 2 : G; /* gates in the packed w */
    int64_t ld_xp = G * H + 3, ld_hp = K + 2, ld_ho = H + 2;
    buf wraw = buf_new((size_t)(Gw * H * K), 1, -0.5f, 0.5f);
    buf wnraw = buf_new((size_t)(H * K), 1, -0.5f, 0.5f);
    buf w = buf_new(rnnkit_packed_floats(nr, Gw, H, K), 0, 0, 0);
    buf wn = buf_new(rnnkit_packed_floats(nr, 1, H, K), 0, 0, 0);
    buf xp = buf_new((size_t)(n * ld_xp), 1, -3, 3);
    buf hp = buf_new((size_t)(n * ld_hp), 1, -1, 1);
    buf cp = buf_new((size_t)(n * H), 1, -2, 2);
    buf peep = buf_new((size_t)(3 * H), 1, -1, 1);
    buf bhn = buf_new((size_t)H, 1, -1, 1);
    /* Large pre-activations now and then: saturation through the steps. */
    if (n > 2)
        for (int64_t j = 0; j < G * H; j += 5) xp.p[2 * ld_xp + j] *= 40.0f;
    /* 0: kernel, 1: scalar, 2: kernel per row, 3: kernel per unit block
     * (rows split in two calls) */
    enum { NV = 4 };
    step_out out[NV];
    for (int v = 0; v < NV; v++) {
        out[v].ho = buf_new((size_t)(n * ld_ho), 0, 0, 0);
        out[v].co = buf_new((size_t)(n * H), 0, 0, 0);
        out[v].sc = buf_new((size_t)(n * K), 0, 0, 0);
    }
    rnnkit_f32_pack_gates__scalar(nr, Gw, H, K, wraw.p, w.p);
    rnnkit_f32_pack_gates__scalar(nr, 1, H, K, wnraw.p, wn.p);
    const kentry *ref = scalar_twin(e->field);
    const int unit_split = !(is_gru && !o->lbr);
#define RUN(fn, r0, r1, jb, je, v)                                                              \
    run_one(fn, o, nr, r0, r1, jb, je, H, K, &w, &wn, &xp, ld_xp, &hp, ld_hp, &cp, &peep, &bhn, \
            &out[v], ld_ho)
    RUN(e->step, 0, n, o->jb, o->je, 0);
    RUN(ref->step, 0, n, o->jb, o->je, 1);
    for (int64_t r = 0; r < n; r++) RUN(e->step, r, r + 1, o->jb, o->je, 2);
    {
        int64_t rs = n / 2 + (n > 3 ? 1 : 0);
        for (int half = 0; half < 2; half++) {
            int64_t r0 = half ? rs : 0, r1 = half ? n : rs;
            if (r0 >= r1) continue;
            if (unit_split) {
                for (int64_t jb = o->jb; jb < o->je; jb += nr)
                    RUN(e->step, r0, r1, jb, jb + nr < o->je ? jb + nr : o->je, 3);
            } else {
                RUN(e->step, r0, r1, o->jb, o->je, 3);
            }
        }
    }
#undef RUN
    int fails = 0;
    char what[256];
    snprintf(what, sizeof what,
             "%s %s n=%ld H=%ld K=%ld j=[%ld,%ld) peep=%d if=%d lbr=%d bhn=%d clip=%g", e->isa,
             e->field, (long)n, (long)H, (long)K, (long)o->jb, (long)o->je, o->peep,
             o->input_forget, o->lbr, o->bhn, (double)o->clip);
    for (int64_t r = 0; r < n && fails < 3; r++)
        for (int64_t j = 0; j < ld_ho && fails < 3; j++) {
            int in = j >= o->jb && j < o->je;
            for (int which = 0; which < (is_lstm ? 2 : 1); which++) {
                if (which == 1 && j >= H) break;
                const char *nm = which ? "c" : "h";
                float y, yr, y2, y3;
                if (which) {
                    y = out[0].co.p[r * H + j], yr = out[1].co.p[r * H + j];
                    y2 = out[2].co.p[r * H + j], y3 = out[3].co.p[r * H + j];
                } else {
                    y = out[0].ho.p[r * ld_ho + j], yr = out[1].ho.p[r * ld_ho + j];
                    y2 = out[2].ho.p[r * ld_ho + j], y3 = out[3].ho.p[r * ld_ho + j];
                }
                const char *why = NULL;
                if (in) {
                    double ratio = fabsf(y - yr) / tol(K, yr);
                    if (!(ratio <= 1.0)) why = "out of tolerance";
                    else if (ratio > worst_step_ratio) worst_step_ratio = ratio;
                    if (!why && !same_bits(y, y2)) why = "not bitwise equal to the one-row call";
                    if (!why && !same_bits(y, y3))
                        why = unit_split ? "not bitwise equal to per-unit-block calls"
                                         : "not bitwise equal to the split-rows calls";
                } else if (!is_sentinel(y) || !is_sentinel(y2) || !is_sentinel(y3)) {
                    why = "written outside [j_begin, j_end) or in a row-stride gap";
                }
                if (why) {
                    printf("  %s: %s row %ld unit %ld: %.9g vs scalar %.9g, one-row call %.9g, "
                           "split call %.9g: %s\n",
                           what, nm, (long)r, (long)j, y, yr, y2, y3, why);
                    fails++;
                }
            }
        }
    for (int v = 0; v < NV; v++)
        if (!guard_ok(&out[v].ho) || !guard_ok(&out[v].co) || !guard_ok(&out[v].sc)) {
            printf("  %s: guard zone overwritten (%s)\n", what,
                   v == 1 ? "scalar" : "kernel");
            fails++;
        }
    if (!is_lstm)
        for (int64_t i = 0; i < n * H; i++)
            if (!is_sentinel(out[0].co.p[i])) {
                printf("  %s: c_out written by a non-LSTM step\n", what);
                fails++;
                break;
            }
    if (!guard_ok(&xp) || !guard_ok(&hp) || !guard_ok(&cp) || !guard_ok(&w) || !guard_ok(&wn)) {
        printf("  %s: an input buffer was written\n", what);
        fails++;
    }
    buf_free(&wraw), buf_free(&wnraw), buf_free(&w), buf_free(&wn), buf_free(&xp);
    buf_free(&hp), buf_free(&cp), buf_free(&peep), buf_free(&bhn);
    for (int v = 0; v < NV; v++) buf_free(&out[v].ho), buf_free(&out[v].co), buf_free(&out[v].sc);
    return fails;
}

static int run_steps(const kentry *e, int nr) {
    int is_gru = !strcmp(e->field, "gru_step"), is_lstm = !strcmp(e->field, "lstm_step");
    int fails = 0, idx = 0;
    for (int hi = 0; hi < LEN(hs); hi++)
        for (int ki = 0; ki < LEN(ks); ki++, idx++) {
            if (idx % 2) continue;
            int64_t H = hs[hi], K = is_gru ? H : ks[ki];
            int64_t n = ns[(idx / 2) % LEN(ns)];
            int variant = (idx / 2) % 8;
            step_opts o = {0, 0, 0, 0, 0.0f, 0, H};
            o.clip = (variant & 1) ? 0.7f : 0.0f;
            if (is_lstm) o.peep = (variant >> 1) & 1, o.input_forget = (variant >> 2) & 1;
            if (is_gru) o.lbr = (variant >> 1) & 1, o.bhn = (variant >> 2) & 1;
            /* sub-range: units [nr, H) or [0, nr) (GRU lbr=0 needs all) */
            if (H > nr && !(is_gru && !o.lbr)) {
                if (idx % 4 == 0) o.jb = nr;
                else o.je = nr;
            }
            fails += check_step(e, nr, n, H, K, &o);
            if (fails > 5) return fails;
        }
    /* Every option combination on shapes with a tail block. */
    for (int variant = 0; variant < 8; variant++) {
        step_opts o = {0, 0, 0, 0, (variant & 1) ? 0.3f : 0.0f, 0, 2 * nr + 3};
        if (is_lstm) o.peep = (variant >> 1) & 1, o.input_forget = (variant >> 2) & 1;
        if (is_gru) o.lbr = (variant >> 1) & 1, o.bhn = (variant >> 2) & 1;
        fails += check_step(e, nr, 1 + variant, 2 * nr + 3, is_gru ? 2 * nr + 3 : 37, &o);
        fails += check_step(e, nr, 17, 2 * nr + 3, is_gru ? 2 * nr + 3 : 70, &o);
        if (!(is_gru && !o.lbr)) { /* a middle block only */
            step_opts m = o;
            m.jb = nr, m.je = 2 * nr;
            fails += check_step(e, nr, 9 + variant, 3 * nr + 1, is_gru ? 3 * nr + 1 : 19, &m);
        }
    }
    step_opts big = {1, 0, 1, 1, 0.0f, 0, 256};
    fails += check_step(e, nr, 17, 256, 256, &big);
    big.je = 1000;
    fails += check_step(e, nr, 2, 1000, is_gru ? 1000 : 70, &big);
    big.je = 70;
    big.lbr = 0;
    fails += check_step(e, nr, 5, 70, is_gru ? 70 : 1000, &big);
    return fails;
}

/* --------------------------------------------------------- activations */

static double bound_of(const char *f) {
    if (!strcmp(f, "exp")) return 1.5;
    if (!strcmp(f, "sigmoid")) return 3.0;
    return 1.5; /* tanh */
}

static double ref_act(const char *f, double x) {
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

static double err_ulp(float y, double r) {
    if (isnan(r)) return isnan(y) ? 0.0 : INFINITY;
    float rf = (float)r;
    if (isinf(rf)) return y == rf ? 0.0 : INFINITY;
    if (isnan(y) || isinf(y)) return INFINITY;
    return fabs((double)y - r) / ulp_of(r);
}

#define CHUNK 4096
static double sweep(const kentry *e, uint64_t start, uint64_t end, uint64_t step, float *wx_out) {
    static float xs[CHUNK], ys[CHUNK];
    double worst = 0.0;
    float wx = 0.0f;
    for (uint64_t u = start; u < end;) {
        int cnt = 0;
        for (; cnt < CHUNK && u < end; u += step) xs[cnt++] = from_bits((uint32_t)u);
        e->unary(cnt, xs, ys);
        for (int i = 0; i < cnt; i++) {
            double er = err_ulp(ys[i], ref_act(e->field, xs[i]));
            if (!(er <= worst)) worst = er, wx = xs[i];
        }
    }
    *wx_out = wx;
    return worst;
}

static int run_unary(const kentry *e) {
    int fails = 0;
    double b = bound_of(e->field);
    struct {
        uint64_t start, end, step;
        const char *what;
    } ranges[] = {
        {0, 1ull << 32, 509, "every 509th bit pattern"},
        {254, 1ull << 32, 97, "every 97th bit pattern"},
        {0x3f000000u, 0x3f800000u, 7, "[0.5, 1)"},
        {0xbf000000u, 0xbf800000u, 7, "(-1, -0.5]"},
        {0x42a00000u, 0x42dc0000u, 3, "[80, 110]"},
        {0xc2a00000u, 0xc2dc0000u, 3, "[-110, -80]"},
        {1, 0x00800000u, 4099, "positive denormals"},
        {0x80000001u, 0x80800000u, 4099, "negative denormals"},
    };
    double overall = 0.0;
    for (int r = 0; r < LEN(ranges); r++) {
        float x;
        double w = sweep(e, ranges[r].start, ranges[r].end, ranges[r].step, &x);
        if (w > overall) overall = w;
        if (!(w <= b)) {
            float y;
            e->unary(1, &x, &y);
            printf("  %s %s over %s: %.3f ULP > stated %.1f at x = %a (%.9g): got %.9g, libm "
                   "%.9g\n",
                   e->isa, e->field, ranges[r].what, w, b, (double)x, (double)x, (double)y,
                   ref_act(e->field, x));
            fails++;
        }
    }
    printf("  %s %s: max error %.3f ULP over the sample (stated bound %.1f)\n", e->isa, e->field,
           overall, b);

    const float inf = INFINITY, dmin = from_bits(1), nan = NAN;
    struct {
        const char *f;
        float x, want;
    } cases[] = {
        {"exp", 0.0f, 1.0f},        {"exp", -0.0f, 1.0f},         {"exp", inf, inf},
        {"exp", -inf, 0.0f},        {"exp", nan, nan},            {"exp", 89.0f, inf},
        {"exp", FLT_MAX, inf},      {"exp", -110.0f, 0.0f},       {"exp", -FLT_MAX, 0.0f},
        {"exp", dmin, 1.0f},        {"exp", -nan, nan},           {"sigmoid", 0.0f, 0.5f},
        {"sigmoid", -0.0f, 0.5f},   {"sigmoid", inf, 1.0f},       {"sigmoid", -inf, 0.0f},
        {"sigmoid", nan, nan},      {"sigmoid", FLT_MAX, 1.0f},   {"sigmoid", -FLT_MAX, 0.0f},
        {"sigmoid", 20.0f, 1.0f},   {"tanh", 0.0f, 0.0f},         {"tanh", -0.0f, -0.0f},
        {"tanh", inf, 1.0f},        {"tanh", -inf, -1.0f},        {"tanh", nan, nan},
        {"tanh", FLT_MAX, 1.0f},    {"tanh", -FLT_MAX, -1.0f},    {"tanh", dmin, dmin},
        {"tanh", -dmin, -dmin},     {"tanh", 1e-30f, 1e-30f},     {"tanh", -1e-20f, -1e-20f},
        {"tanh", 10.0f, 1.0f},      {"tanh", -10.0f, -1.0f},
    };
    for (int c = 0; c < LEN(cases); c++) {
        if (strcmp(cases[c].f, e->field)) continue;
        float y[17], x[17];
        for (int i = 0; i < 17; i++) x[i] = cases[c].x;
        e->unary(17, x, y); /* a full vector and a one-lane tail */
        int ok = 1;
        for (int i = 0; i < 17; i++)
            ok &= isnan(cases[c].want) ? (isnan(y[i]) && (bits_of(y[i]) & 0x00400000u))
                                       : same_bits(y[i], cases[c].want);
        if (!ok) {
            printf("  %s %s(%a) = %a (lane 0), %a (lane 16), want %a\n", e->isa, e->field,
                   (double)cases[c].x, (double)y[0], (double)y[16], (double)cases[c].want);
            fails++;
        }
    }

    enum { MAXN = 70, G2 = 20 };
    float full[MAXN];
    float src[MAXN];
    for (int i = 0; i < MAXN; i++) src[i] = (float)((i * 37) % 101 - 50) * 0.37f + frand(-0.1f, 0.1f);
    e->unary(MAXN, src, full);
    for (int n = 1; n <= MAXN; n++) {
        for (int off = 1; off <= 3; off += 2) {
            float xbuf[MAXN + 3 + G2], ybuf[MAXN + 3 + G2], zbuf[MAXN + 3 + G2];
            float *x = xbuf + off, *y = ybuf + off, *z = zbuf + off;
            for (int i = 0; i < MAXN + 3 + G2; i++) xbuf[i] = ybuf[i] = zbuf[i] = sentinel();
            /* the last n elements of src, so each lands at another lane */
            for (int i = 0; i < n; i++) x[i] = z[i] = src[MAXN - n + i];
            e->unary(n, x, y);
            e->unary(n, z, z); /* in place */
            for (int i = 0; i < n; i++) {
                double r = ref_act(e->field, x[i]);
                if (!(err_ulp(y[i], r) <= b) || !same_bits(y[i], z[i]) ||
                    !same_bits(y[i], full[MAXN - n + i])) {
                    printf("  %s %s n=%d i=%d x=%.9g: %.9g (in place %.9g, at another lane "
                           "%.9g), libm %.9g\n",
                           e->isa, e->field, n, i, (double)x[i], (double)y[i], (double)z[i],
                           (double)full[MAXN - n + i], r);
                    fails++;
                    break;
                }
            }
            for (int i = n; i < n + G2; i++)
                if (!is_sentinel(y[i]) || !is_sentinel(z[i])) {
                    printf("  %s %s n=%d: guard element %d written\n", e->isa, e->field, n, i);
                    fails++;
                    break;
                }
            for (int i = 0; i < off; i++)
                if (!is_sentinel(ybuf[i]) || !is_sentinel(zbuf[i])) {
                    printf("  %s %s n=%d: element before the buffer written\n", e->isa,
                           e->field, n);
                    fails++;
                    break;
                }
        }
    }
    return fails;
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
    const int nr = isa_nr(EMU_ISA);
    char what[160];
    int listed = 0;
    if (nr <= 0 || nr > RNNKIT_MAX_NR) {
        snprintf(what, sizeof what, EMU_ISA " row_block %d in simd/kernels.inc", nr);
        result(0, what);
    }
    for (int i = 0; i < LEN(kernels); i++) {
        const kentry *e = &kernels[i];
        if (strcmp(e->isa, EMU_ISA)) continue;
        listed++;
        const kentry *ref = scalar_twin(e->field);
        int fails = 0;
        if (!strcmp(e->type, "gemm") && !(ref && ref->gemm)) {
            printf("  %s %s: no scalar twin linked\n", e->isa, e->field);
            fails = 1;
        } else if (!strcmp(e->type, "step") && !(ref && ref->step)) {
            printf("  %s %s: no scalar twin linked\n", e->isa, e->field);
            fails = 1;
        } else if (!strcmp(e->type, "gemm")) {
            fails = e->gemm ? run_gemm(e, nr) : -1;
        } else if (!strcmp(e->type, "step")) {
            fails = e->step ? run_steps(e, nr) : -1;
        } else if (!strcmp(e->type, "unary")) {
            fails = e->unary ? run_unary(e) : -1;
        } else {
            printf("  %s %s: kernel type %s not covered by this test\n", e->isa, e->field, e->type);
            fails = 1;
        }
        if (fails < 0)
            printf("  %s %s: no emulated object linked (add its file to tests/simde/meson.build)\n",
                   e->isa, e->field);
        snprintf(what, sizeof what, "%s %s (emulated) vs %s", e->isa, e->field,
                 !strcmp(e->type, "unary") ? "libm" : "scalar");
        result(fails == 0, what);
    }
    snprintf(what, sizeof what, "simd/kernels.inc lists %d %s kernels", listed, EMU_ISA);
    result(listed > 0, what);
    printf("worst |kernel - scalar| / tolerance: gemm %.3f, steps %.3f\n", worst_gemm_ratio,
           worst_step_ratio);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
