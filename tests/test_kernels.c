/*
 * Every gemm and fused-step kernel in simd/kernels.inc against the scalar
 * kernel of the same field, on weights packed with that ISA's row_block.
 * The list is expanded here, so a kernel added to kernels.inc is tested
 * without touching this file; ISAs this CPU lacks are skipped (said on
 * stderr). Grid: h, k over 1..70 (tile-sized, smaller, between one and
 * two tiles, multiples) plus a few large shapes, batch 1..9 and 17, every
 * cell option, unit sub-ranges; pointers offset by one float, row strides
 * with gaps, outputs and gaps pre-filled with a NaN sentinel and a guard
 * zone after each buffer that must stay untouched. Fixed seed.
 * Tolerance: 1e-5*sqrt(k) absolute (float sums of k products in [-1, 1]
 * in another order) + 1e-6 relative + 2e-6 (the activations' bounds, a
 * few ULP of values <= 1, through at most two activations).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnnkit.h"
#include "simd/kernels.h"

#define GUARD 32

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
    const char *isa, *field;
    rnnkit_gemm_fn *fn;
} gemm_entry;
typedef struct {
    const char *isa, *field;
    rnnkit_step_fn *fn;
} step_entry;

#define E_gemm(i, f) {#i, #f, rnnkit_f32_##f##__##i},
#define E_step(i, f)
#define E_unary(i, f)
#define E_pack_gates(i, f)
#define RNNKIT_KERNEL(i, f, t) E_##t(i, f)
static const gemm_entry gemms[] = {
#include "simd/kernels.inc"
};
#undef E_gemm
#undef E_step
#define E_gemm(i, f)
#define E_step(i, f) {#i, #f, rnnkit_f32_##f##__##i},
static const step_entry steps[] = {
#include "simd/kernels.inc"
};
#undef RNNKIT_KERNEL

static int isa_nr(const char *isa) {
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        if (!strcmp(isas[i].isa, isa)) return isas[i].nr;
    return 0;
}

static int isa_runs(const char *isa) {
    if (!strcmp(isa, "scalar")) return 0; /* the reference itself */
    if (!rnnkit_isa_supported(isa)) {
        fprintf(stderr, "test_kernels: skipping %s (not supported by this CPU)\n", isa);
        return 0;
    }
    return 1;
}

static rnnkit_step_fn *scalar_step(const char *field) {
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (!strcmp(steps[i].isa, "scalar") && !strcmp(steps[i].field, field)) return steps[i].fn;
    return NULL;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(float lo, float hi) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng >> 40) & 0xFFFFFF) / 16777216.0f;
}

static float sentinel(void) {
    uint32_t u = 0x7fc0deadu;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static int is_sentinel(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u == 0x7fc0deadu;
}

/* A buffer of n floats at an odd offset, followed by a guard zone. */
typedef struct {
    float *base, *p;
    size_t n;
} buf;
static buf buf_new(size_t n, int fill_random, float lo, float hi) {
    buf b;
    b.n = n;
    b.base = malloc((n + 1 + GUARD) * sizeof(float));
    cr_assert(b.base != NULL);
    b.p = b.base + 1;
    for (size_t i = 0; i < n + 1 + GUARD; i++) b.base[i] = sentinel();
    if (fill_random)
        for (size_t i = 0; i < n; i++) b.p[i] = frand(lo, hi);
    return b;
}
static int guard_ok(const buf *b) {
    for (size_t i = 0; i < GUARD; i++)
        if (!is_sentinel(b->p[b->n + i])) return 0;
    return is_sentinel(b->base[0]);
}
static void buf_free(buf *b) { free(b->base); }

static float tol(int64_t k, float ref) { return 1e-5f * sqrtf((float)k) + 1e-6f * fabsf(ref) + 2e-6f; }

/* ---------------------------------------------------------------- gemm */

static int check_gemm(const gemm_entry *e, int nr, int64_t m, int64_t g, int64_t h, int64_t k) {
    int64_t lda = k + 3, ldc = g * h + 2;
    buf a = buf_new((size_t)(m * lda), 1, -1, 1);
    buf w = buf_new((size_t)(g * h * k), 1, -1, 1);
    buf bias = buf_new((size_t)(g * h), 1, -1, 1);
    buf packed = buf_new(rnnkit_packed_floats(nr, g, h, k), 0, 0, 0);
    buf c = buf_new((size_t)(m * ldc), 0, 0, 0);
    buf cref = buf_new((size_t)(m * ldc), 0, 0, 0);
    rnnkit_f32_pack_gates__scalar(nr, g, h, k, w.p, packed.p);
    int fails = 0;
    for (int use_bias = 0; use_bias < 2 && !fails; use_bias++) {
        const float *bp = use_bias ? bias.p : NULL;
        e->fn(nr, m, g, h, k, a.p, lda, packed.p, bp, c.p, ldc);
        rnnkit_f32_gemm__scalar(nr, m, g, h, k, a.p, lda, packed.p, bp, cref.p, ldc);
        for (int64_t i = 0; i < m && !fails; i++)
            for (int64_t col = 0; col < ldc && !fails; col++) {
                float y = c.p[i * ldc + col], r = cref.p[i * ldc + col];
                int ok = col < g * h ? fabsf(y - r) <= tol(k, r) : is_sentinel(y);
                if (!ok) {
                    cr_log_error("%s gemm m=%ld g=%ld h=%ld k=%ld bias=%d: C[%ld][%ld] = %.9g, "
                                 "scalar %.9g (gap columns must stay sentinel)",
                                 e->isa, (long)m, (long)g, (long)h, (long)k, use_bias, (long)i,
                                 (long)col, y, r);
                    fails++;
                }
            }
        if (!guard_ok(&c) || !guard_ok(&a) || !guard_ok(&packed)) {
            cr_log_error("%s gemm m=%ld g=%ld h=%ld k=%ld: guard zone overwritten", e->isa,
                         (long)m, (long)g, (long)h, (long)k);
            fails++;
        }
    }
    buf_free(&a), buf_free(&w), buf_free(&bias), buf_free(&packed), buf_free(&c),
        buf_free(&cref);
    return fails;
}

static const int64_t hs[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 64, 70};
static const int64_t ks[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 33, 64, 70};
static const int64_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17};
#define LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

Test(kernels, gemm_vs_scalar) {
    int tested = 0;
    for (int e = 0; e < LEN(gemms); e++) {
        if (!isa_runs(gemms[e].isa)) continue;
        int nr = isa_nr(gemms[e].isa), fails = 0, idx = 0;
        for (int64_t g = 1; g <= 4; g++)
            for (int hi = 0; hi < LEN(hs); hi++)
                for (int ki = 0; ki < LEN(ks); ki++, idx++) {
                    if (idx % 3) continue; /* subsample the h x k grid */
                    int64_t m = ns[(idx / 3) % LEN(ns)];
                    fails += check_gemm(&gemms[e], nr, m, g, hs[hi], ks[ki]);
                    if (fails > 5) goto done;
                }
        fails += check_gemm(&gemms[e], nr, 13, 4, 256, 256);
        fails += check_gemm(&gemms[e], nr, 17, 1, 1000, 70);
        fails += check_gemm(&gemms[e], nr, 2, 3, 70, 1000);
        fails += check_gemm(&gemms[e], nr, 64, 4, 64, 33);
    done:
        cr_expect(fails == 0, "%s gemm: %d failing cases (see log)", gemms[e].isa, fails);
        tested++;
    }
    cr_log_info("gemm: %d non-scalar kernels tested", tested);
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

static int check_step(const step_entry *e, int nr, int64_t n, int64_t H, int64_t K,
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
    buf ho[2], co[2], sc[2];
    for (int v = 0; v < 2; v++) {
        ho[v] = buf_new((size_t)(n * ld_ho), 0, 0, 0);
        co[v] = buf_new((size_t)(n * H), 0, 0, 0);
        sc[v] = buf_new((size_t)(n * K), 0, 0, 0);
    }
    rnnkit_f32_pack_gates__scalar(nr, Gw, H, K, wraw.p, w.p);
    rnnkit_f32_pack_gates__scalar(nr, 1, H, K, wnraw.p, wn.p);
    rnnkit_step_fn *ref = scalar_step(e->field);
    cr_assert(ref != NULL, "no scalar %s", e->field);
    for (int v = 0; v < 2; v++) {
        rnnkit_step_args a;
        memset(&a, 0, sizeof a);
        a.nr = nr, a.n = n, a.h = H, a.k = K, a.j_begin = o->jb, a.j_end = o->je;
        a.w = w.p, a.w_n = wn.p, a.xp = xp.p, a.ld_xp = ld_xp, a.h_prev = hp.p;
        a.ld_h_prev = ld_hp, a.c_prev = cp.p, a.h_out = ho[v].p, a.ld_h_out = ld_ho;
        a.c_out = co[v].p, a.b_hn = o->bhn ? bhn.p : NULL, a.peep = o->peep ? peep.p : NULL;
        a.clip = o->clip, a.input_forget = o->input_forget, a.linear_before_reset = o->lbr;
        a.default_act = 1, a.scratch = sc[v].p;
        (v ? ref : e->fn)(&a);
    }
    int fails = 0;
    char what[256];
    snprintf(what, sizeof what,
             "%s %s n=%ld H=%ld K=%ld j=[%ld,%ld) peep=%d if=%d lbr=%d bhn=%d clip=%g", e->isa,
             e->field, (long)n, (long)H, (long)K, (long)o->jb, (long)o->je, o->peep,
             o->input_forget, o->lbr, o->bhn, (double)o->clip);
    for (int64_t r = 0; r < n && !fails; r++)
        for (int64_t j = 0; j < ld_ho && !fails; j++) {
            int in = j >= o->jb && j < o->je;
            float y = ho[0].p[r * ld_ho + j], yr = ho[1].p[r * ld_ho + j];
            int ok = in ? fabsf(y - yr) <= tol(K, yr) : is_sentinel(y);
            if (ok && is_lstm && j < H) {
                float c = co[0].p[r * H + j], cr = co[1].p[r * H + j];
                ok = in ? fabsf(c - cr) <= tol(K, cr) : is_sentinel(c);
                if (!ok) y = c, yr = cr;
            }
            if (!ok) {
                cr_log_error("%s: row %ld unit %ld: %.9g vs scalar %.9g (xp_i %.6g, h_prev "
                             "%.6g; outside the range must stay sentinel)",
                             what, (long)r, (long)j, y, yr, xp.p[r * ld_xp + (j < H ? j : 0)],
                             hp.p[r * ld_hp]);
                fails++;
            }
        }
    for (int v = 0; v < 2; v++)
        if (!guard_ok(&ho[v]) || !guard_ok(&co[v]) || !guard_ok(&sc[v])) {
            cr_log_error("%s: guard zone overwritten (%s)", what, v ? "scalar" : "kernel");
            fails++;
        }
    if (!is_lstm && !(is_sentinel(co[0].p[0]))) {
        cr_log_error("%s: c_out written by a non-LSTM step", what);
        fails++;
    }
    buf_free(&wraw), buf_free(&wnraw), buf_free(&w), buf_free(&wn), buf_free(&xp);
    buf_free(&hp), buf_free(&cp), buf_free(&peep), buf_free(&bhn);
    for (int v = 0; v < 2; v++) buf_free(&ho[v]), buf_free(&co[v]), buf_free(&sc[v]);
    return fails;
}

static int run_step_grid(const step_entry *e, int nr) {
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
    /* Every option combination on one shape with a tail block. */
    for (int variant = 0; variant < 8; variant++) {
        step_opts o = {0, 0, 0, 0, (variant & 1) ? 0.3f : 0.0f, 0, 2 * nr + 3};
        if (is_lstm) o.peep = (variant >> 1) & 1, o.input_forget = (variant >> 2) & 1;
        if (is_gru) o.lbr = (variant >> 1) & 1, o.bhn = (variant >> 2) & 1;
        fails += check_step(e, nr, 1 + variant, 2 * nr + 3, is_gru ? 2 * nr + 3 : 37, &o);
        fails += check_step(e, nr, 17, 2 * nr + 3, is_gru ? 2 * nr + 3 : 70, &o);
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

Test(kernels, steps_vs_scalar) {
    int tested = 0;
    for (int e = 0; e < LEN(steps); e++) {
        if (!isa_runs(steps[e].isa)) continue;
        int fails = run_step_grid(&steps[e], isa_nr(steps[e].isa));
        cr_expect(fails == 0, "%s %s: %d failing cases (see log)", steps[e].isa, steps[e].field,
                  fails);
        tested++;
    }
    cr_log_info("steps: %d non-scalar kernels tested", tested);
}

/* ------------------------------------------------- split invariance */
/*
 * The driver splits work among threads by batch rows, by hidden units
 * (ranges at multiples of nr) and, for the input projection, by gemm rows;
 * results must not depend on the thread count, so every kernel must give
 * BITWISE the same element whatever rows or units share its call. One
 * call over all rows and units is compared with: one row per call, an
 * uneven row split, unit ranges [j0, j1) at multiples of nr (one block
 * per call and an uneven split), and rows x units combined. Every ISA
 * this CPU runs, scalar included.
 */

static float *rand_floats(size_t n, float lo, float hi) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    cr_assert(p != NULL);
    for (size_t i = 0; i < n; i++) p[i] = frand(lo, hi);
    return p;
}
static float *nan_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    cr_assert(p != NULL);
    for (size_t i = 0; i < n; i++) p[i] = sentinel();
    return p;
}

/* First index where a and b differ bitwise, or -1. */
static int64_t first_diff(const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof(float))) return i;
    return -1;
}

static int isa_runs_or_scalar(const char *isa) {
    return !strcmp(isa, "scalar") || rnnkit_isa_supported(isa);
}

/* Row splits: {r0, r1} pairs ending at n. Returns the number of parts. */
static int row_parts(int64_t n, int how, int64_t *b, int64_t *e) {
    if (how == 0) { /* one row per call */
        for (int64_t i = 0; i < n; i++) b[i] = i, e[i] = i + 1;
        return (int)n;
    }
    /* uneven: 1, 3, 2, 7, rest */
    static const int64_t len[] = {1, 3, 2, 7, 1000000};
    int parts = 0;
    for (int64_t r = 0, i = 0; r < n; i++) {
        int64_t l = len[i] < n - r ? len[i] : n - r;
        b[parts] = r, e[parts] = r + l, parts++;
        r += l;
    }
    return parts;
}

/* Unit splits at multiples of nr: how 0 = all, 1 = one block per call,
 * 2 = uneven (1 block, 2 blocks, rest). */
static int unit_parts(int64_t h, int nr, int how, int64_t *b, int64_t *e) {
    if (how == 0) {
        b[0] = 0, e[0] = h;
        return 1;
    }
    int parts = 0;
    int64_t j = 0;
    for (int i = 0; j < h; i++) {
        int64_t blocks = how == 1 ? 1 : (i == 0 ? 1 : (i == 1 ? 2 : 1000000));
        int64_t j1 = j + blocks * nr < h ? j + blocks * nr : h;
        b[parts] = j, e[parts] = j1, parts++;
        j = j1;
    }
    return parts;
}

static int gemm_split_case(const gemm_entry *ge, int nr, int64_t m, int64_t g, int64_t h,
                           int64_t k) {
    int64_t lda = k + 1, ldc = g * h + 1;
    float *a = rand_floats((size_t)(m * lda), -1, 1);
    float *w = rand_floats((size_t)(g * h * k), -1, 1);
    float *bias = rand_floats((size_t)(g * h), -1, 1);
    float *packed = malloc(rnnkit_packed_floats(nr, g, h, k) * sizeof(float));
    float *c0 = nan_floats((size_t)(m * ldc)), *c1 = nan_floats((size_t)(m * ldc));
    cr_assert(packed != NULL);
    rnnkit_f32_pack_gates__scalar(nr, g, h, k, w, packed);
    ge->fn(nr, m, g, h, k, a, lda, packed, bias, c0, ldc);
    int fails = 0;
    int64_t rb[64], re[64], ub[64], ue[64];
    /* rows: 1 per call, uneven; units (g = 1 only: the projection split)
     * all, per block, uneven; and combined. */
    for (int rh = 0; rh < 3 && !fails; rh++)
        for (int uh = 0; uh < (g == 1 ? 3 : 1) && !fails; uh++) {
            int nrp = rh == 2 ? (rb[0] = 0, re[0] = m, 1) : row_parts(m, rh, rb, re);
            int nup = unit_parts(h, nr, uh, ub, ue);
            for (size_t i = 0; i < (size_t)(m * ldc); i++) c1[i] = sentinel();
            for (int ri = 0; ri < nrp; ri++)
                for (int ui = 0; ui < nup; ui++)
                    ge->fn(nr, re[ri] - rb[ri], g, ue[ui] - ub[ui], k, a + rb[ri] * lda, lda,
                           packed + (size_t)(ub[ui] / nr) * (size_t)(k * nr * g), bias + ub[ui],
                           c1 + rb[ri] * ldc + ub[ui], ldc);
            int64_t d = first_diff(c0, c1, m * ldc);
            if (d >= 0) {
                cr_log_error("%s gemm m=%ld g=%ld h=%ld k=%ld rows split %d units split %d: "
                             "C[%ld][%ld] = %.9g split vs %.9g in one call (must be bitwise equal)",
                             ge->isa, (long)m, (long)g, (long)h, (long)k, rh, uh, (long)(d / ldc),
                             (long)(d % ldc), c1[d], c0[d]);
                fails++;
            }
        }
    free(a), free(w), free(bias), free(packed), free(c0), free(c1);
    return fails;
}

Test(kernels, gemm_split_invariant) {
    int tested = 0;
    for (int e = 0; e < LEN(gemms); e++) {
        if (!isa_runs_or_scalar(gemms[e].isa)) continue;
        int nr = isa_nr(gemms[e].isa), fails = 0;
        static const int64_t ms[] = {13, 50};
        static const int64_t kk[] = {1, 37, 300};
        for (int mi = 0; mi < 2; mi++)
            for (int64_t g = 1; g <= 4; g++)
                for (int ki = 0; ki < 3; ki++)
                    fails += gemm_split_case(&gemms[e], nr, ms[mi], g, 3 * nr + 5, kk[ki]);
        cr_expect(fails == 0, "%s gemm: %d split-dependent cases (see log)", gemms[e].isa, fails);
        tested++;
    }
    cr_expect(tested >= 1);
}

typedef struct {
    float *w, *wn, *xp, *hp, *cp, *peep, *bhn;
    int64_t n, H, K, ld_xp, ld_hp, ld_ho;
} split_in;

/* Rows [r0, r1) x units [j0, j1) of one step into h_out / c_out (full-size
 * buffers: the call writes its part); scratch: own [n, K]. */
static void step_part(const step_entry *e, int nr, const split_in *in, const step_opts *o,
                      int64_t r0, int64_t r1, int64_t j0, int64_t j1, float *ho, float *co,
                      float *scratch) {
    rnnkit_step_args a;
    memset(&a, 0, sizeof a);
    a.nr = nr, a.n = r1 - r0, a.h = in->H, a.k = in->K, a.j_begin = j0, a.j_end = j1;
    a.w = in->w, a.w_n = in->wn, a.xp = in->xp + r0 * in->ld_xp, a.ld_xp = in->ld_xp;
    a.h_prev = in->hp + r0 * in->ld_hp, a.ld_h_prev = in->ld_hp;
    a.c_prev = in->cp + r0 * in->H, a.h_out = ho + r0 * in->ld_ho, a.ld_h_out = in->ld_ho;
    a.c_out = co + r0 * in->H, a.b_hn = o->bhn ? in->bhn : NULL;
    a.peep = o->peep ? in->peep : NULL, a.clip = o->clip, a.input_forget = o->input_forget;
    a.linear_before_reset = o->lbr, a.default_act = 1, a.scratch = scratch;
    e->fn(&a);
}

static int step_split_case(const step_entry *e, int nr, int64_t n, int64_t H, int64_t K,
                           const step_opts *o) {
    const int is_gru = !strcmp(e->field, "gru_step");
    const int G = gates_of(e->field), Gw = is_gru ? 2 : G;
    split_in in;
    in.n = n, in.H = H, in.K = K, in.ld_xp = G * H + 1, in.ld_hp = K + 2, in.ld_ho = H + 3;
    float *wraw = rand_floats((size_t)(Gw * H * K), -0.5f, 0.5f);
    float *wnraw = rand_floats((size_t)(H * K), -0.5f, 0.5f);
    in.w = malloc(rnnkit_packed_floats(nr, Gw, H, K) * sizeof(float));
    in.wn = malloc(rnnkit_packed_floats(nr, 1, H, K) * sizeof(float));
    cr_assert(in.w && in.wn);
    rnnkit_f32_pack_gates__scalar(nr, Gw, H, K, wraw, in.w);
    rnnkit_f32_pack_gates__scalar(nr, 1, H, K, wnraw, in.wn);
    in.xp = rand_floats((size_t)(n * in.ld_xp), -3, 3);
    in.hp = rand_floats((size_t)(n * in.ld_hp), -1, 1);
    in.cp = rand_floats((size_t)(n * H), -2, 2);
    in.peep = rand_floats((size_t)(3 * H), -1, 1);
    in.bhn = rand_floats((size_t)H, -1, 1);
    float *ho0 = nan_floats((size_t)(n * in.ld_ho)), *co0 = nan_floats((size_t)(n * H));
    float *ho1 = nan_floats((size_t)(n * in.ld_ho)), *co1 = nan_floats((size_t)(n * H));
    float *sc = nan_floats((size_t)(n * K));
    step_part(e, nr, &in, o, 0, n, 0, H, ho0, co0, sc);
    /* GRU lbr=0 needs the whole unit range in one call (never split). */
    const int unit_hows = is_gru && !o->lbr ? 1 : 3;
    int fails = 0;
    int64_t rb[64], re[64], ub[64], ue[64];
    for (int rh = 0; rh < 3 && !fails; rh++)
        for (int uh = 0; uh < unit_hows && !fails; uh++) {
            if (rh == 2 && uh == 0) continue; /* that is the reference call */
            int nrp = rh == 2 ? (rb[0] = 0, re[0] = n, 1) : row_parts(n, rh, rb, re);
            int nup = unit_parts(H, nr, uh, ub, ue);
            for (size_t i = 0; i < (size_t)(n * in.ld_ho); i++) ho1[i] = sentinel();
            for (size_t i = 0; i < (size_t)(n * H); i++) co1[i] = sentinel();
            for (int ri = 0; ri < nrp; ri++)
                for (int ui = 0; ui < nup; ui++)
                    step_part(e, nr, &in, o, rb[ri], re[ri], ub[ui], ue[ui], ho1, co1, sc);
            int64_t dh = first_diff(ho0, ho1, n * in.ld_ho);
            int64_t dc = strcmp(e->field, "lstm_step") ? -1 : first_diff(co0, co1, n * H);
            if (dh >= 0 || dc >= 0) {
                int isc = dh < 0;
                int64_t d = isc ? dc : dh, ld = isc ? H : in.ld_ho;
                cr_log_error("%s %s n=%ld H=%ld K=%ld peep=%d if=%d lbr=%d clip=%g rows split "
                             "%d units split %d: %s[%ld][%ld] = %.9g split vs %.9g in one call "
                             "(must be bitwise equal)",
                             e->isa, e->field, (long)n, (long)H, (long)K, o->peep,
                             o->input_forget, o->lbr, (double)o->clip, rh, uh,
                             isc ? "c" : "h", (long)(d / ld), (long)(d % ld),
                             isc ? co1[d] : ho1[d], isc ? co0[d] : ho0[d]);
                fails++;
            }
        }
    free(wraw), free(wnraw), free(in.w), free(in.wn), free(in.xp), free(in.hp), free(in.cp);
    free(in.peep), free(in.bhn), free(ho0), free(co0), free(ho1), free(co1), free(sc);
    return fails;
}

Test(kernels, steps_split_invariant) {
    int tested = 0;
    for (int e = 0; e < LEN(steps); e++) {
        if (!isa_runs_or_scalar(steps[e].isa)) continue;
        int nr = isa_nr(steps[e].isa), fails = 0;
        const int is_gru = !strcmp(steps[e].field, "gru_step");
        static const int64_t kk[] = {1, 37, 300};
        for (int variant = 0; variant < 4; variant++)
            for (int ki = 0; ki < 3; ki++) {
                step_opts o = {variant & 1, 0, (variant >> 1) & 1, 1, (variant & 1) ? 0.8f : 0.0f,
                               0, 0};
                /* GRU: K = H (no projection), so vary H instead. */
                int64_t H = is_gru ? (ki == 2 ? 40 * nr + 3 : 3 * nr + 5 + ki) : 3 * nr + 5;
                int64_t K = is_gru ? H : kk[ki];
                fails += step_split_case(&steps[e], nr, 13, H, K, &o);
            }
        cr_expect(fails == 0, "%s %s: %d split-dependent cases (see log)", steps[e].isa,
                  steps[e].field, fails);
        tested++;
    }
    cr_expect(tested >= 1);
}

/* The list itself: every non-scalar ISA overrides gemm and all steps. */
Test(kernels, list_consistent) {
    for (int e = 0; e < LEN(gemms); e++)
        cr_expect(isa_nr(gemms[e].isa) > 0 && isa_nr(gemms[e].isa) <= RNNKIT_MAX_NR,
                  "%s: row_block %d", gemms[e].isa, isa_nr(gemms[e].isa));
    for (int e = 0; e < LEN(steps); e++)
        cr_expect(scalar_step(steps[e].field) != NULL, "%s %s has no scalar twin", steps[e].isa,
                  steps[e].field);
}
