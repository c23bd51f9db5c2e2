/*
 * Every gemm and fused-step kernel in simd/kernels.inc against the scalar
 * kernel of the same field, on weights packed with that ISA's row_block.
 * The list is expanded (in kernel_check.h, whose checks are shared with
 * tests/simde/test_avx512_emulated.c), so a kernel added to kernels.inc
 * is tested without touching this file; ISAs this CPU lacks are skipped
 * (said on stderr). Grid: h, k over 1..70 (tile-sized, smaller, between
 * one and two tiles, multiples) plus a few large shapes, batch 1..9 and
 * 17, every cell option, unit sub-ranges; pointers offset by an odd
 * number of floats, row strides with gaps, outputs and gaps pre-filled
 * with a NaN sentinel and a guard zone around each buffer that must stay
 * untouched. Fixed seed.
 * Tolerance: 1e-5*sqrt(k) absolute (float sums of k products in [-1, 1]
 * in another order) + 1e-6 relative + 2e-6 (the activations' bounds, a
 * few ULP of values <= 1, through at most two activations).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnnkit.h"

static void log_error(const char *line) { cr_log_error("%s", line); }
static void log_info(const char *line) { cr_log_info("%s", line); }
#define KC_LOGGER log_error
#define KC_NOTE log_info
#include "kernel_check.h"

#define LEN KC_LEN

static const int64_t ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 17};
/* The common checks only: the split invariance has its own tests below. */
static const kc_profile profile = {.ns = ns, .n_ns = LEN(ns)};

static int isa_runs(const char *isa) {
    if (!strcmp(isa, "scalar")) return 0; /* the reference itself */
    if (!rnnkit_isa_supported(isa)) {
        fprintf(stderr, "test_kernels: skipping %s (not supported by this CPU)\n", isa);
        return 0;
    }
    return 1;
}

Test(kernels, gemm_vs_scalar) {
    int tested = 0;
    for (int e = 0; e < LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (strcmp(k->type, "gemm") || !isa_runs(k->isa)) continue;
        int fails = kc_run_gemm(k->isa, k->gemm, kc_isa_nr(k->isa), &profile);
        cr_expect(fails == 0, "%s gemm: %d failing cases (see log)", k->isa, fails);
        tested++;
    }
    cr_log_info("gemm: %d non-scalar kernels tested", tested);
}

Test(kernels, steps_vs_scalar) {
    int tested = 0;
    for (int e = 0; e < LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (strcmp(k->type, "step") || !isa_runs(k->isa)) continue;
        const kc_kernel *ref = kc_scalar_twin(k->field);
        cr_assert(ref != NULL && ref->step != NULL, "no scalar %s", k->field);
        int fails = kc_run_steps(k->isa, k->field, k->step, ref->step, kc_isa_nr(k->isa),
                                 &profile);
        cr_expect(fails == 0, "%s %s: %d failing cases (see log)", k->isa, k->field, fails);
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
    for (size_t i = 0; i < n; i++) p[i] = kc_frand(lo, hi);
    return p;
}
static float *nan_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    cr_assert(p != NULL);
    for (size_t i = 0; i < n; i++) p[i] = kc_sentinel();
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

static int gemm_split_case(const kc_kernel *ge, int nr, int64_t m, int64_t g, int64_t h,
                           int64_t k) {
    int64_t lda = k + 1, ldc = g * h + 1;
    float *a = rand_floats((size_t)(m * lda), -1, 1);
    float *w = rand_floats((size_t)(g * h * k), -1, 1);
    float *bias = rand_floats((size_t)(g * h), -1, 1);
    float *packed = malloc(rnnkit_input_packed_floats(nr, g, h, k) * sizeof(float));
    float *c0 = nan_floats((size_t)(m * ldc)), *c1 = nan_floats((size_t)(m * ldc));
    cr_assert(packed != NULL);
    kc_pack_input_of(ge->isa)(nr, g, h, k, w, packed);
    ge->gemm(nr, m, g, h, h, k, a, lda, packed, bias, c0, ldc);
    int fails = 0;
    int64_t rb[64], re[64], ub[64], ue[64];
    /* rows: 1 per call, uneven; units (the split of an LSTM projection
     * (g 1) or of a few rows' input projection among threads, gate stride
     * h; whole block pairs for g 3) all, per block, uneven; and
     * combined. */
    for (int rh = 0; rh < 3 && !fails; rh++)
        for (int uh = 0; uh < 3 && !fails; uh++) {
            int nrp = rh == 2 ? (rb[0] = 0, re[0] = m, 1) : row_parts(m, rh, rb, re);
            int nup = unit_parts(h, g == 3 ? 2 * nr : nr, uh, ub, ue);
            for (size_t i = 0; i < (size_t)(m * ldc); i++) c1[i] = kc_sentinel();
            for (int ri = 0; ri < nrp; ri++)
                for (int ui = 0; ui < nup; ui++)
                    ge->gemm(nr, re[ri] - rb[ri], g, ue[ui] - ub[ui], h, k, a + rb[ri] * lda, lda,
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
    for (int e = 0; e < LEN(kc_kernels); e++) {
        if (strcmp(kc_kernels[e].type, "gemm") || !isa_runs_or_scalar(kc_kernels[e].isa))
            continue;
        int nr = kc_isa_nr(kc_kernels[e].isa), fails = 0;
        static const int64_t ms[] = {13, 50};
        static const int64_t kk[] = {1, 37, 300};
        for (int mi = 0; mi < 2; mi++)
            for (int64_t g = 1; g <= 4; g++)
                for (int ki = 0; ki < 3; ki++)
                    fails += gemm_split_case(&kc_kernels[e], nr, ms[mi], g, 3 * nr + 5, kk[ki]);
        cr_expect(fails == 0, "%s gemm: %d split-dependent cases (see log)", kc_kernels[e].isa,
                  fails);
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
static void step_part(const kc_kernel *e, int nr, const split_in *in, const kc_step_opts *o,
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
    e->step(&a);
}

static int step_split_case(const kc_kernel *e, int nr, int64_t n, int64_t H, int64_t K,
                           const kc_step_opts *o) {
    const int is_gru = !strcmp(e->field, "gru_step");
    const int G = kc_gates_of(e->field), Gw = is_gru ? 2 : G;
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
            for (size_t i = 0; i < (size_t)(n * in.ld_ho); i++) ho1[i] = kc_sentinel();
            for (size_t i = 0; i < (size_t)(n * H); i++) co1[i] = kc_sentinel();
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
    for (int e = 0; e < LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (strcmp(k->type, "step") || !isa_runs_or_scalar(k->isa)) continue;
        int nr = kc_isa_nr(k->isa), fails = 0;
        const int is_gru = !strcmp(k->field, "gru_step");
        static const int64_t kk[] = {1, 37, 300};
        for (int variant = 0; variant < 4; variant++)
            for (int ki = 0; ki < 3; ki++) {
                kc_step_opts o = {variant & 1, 0, (variant >> 1) & 1, 1, (variant & 1) ? 0.8f : 0.0f,
                               0, 0, NULL};
                /* GRU: K = H (no projection), so vary H instead. */
                int64_t H = is_gru ? (ki == 2 ? 40 * nr + 3 : 3 * nr + 5 + ki) : 3 * nr + 5;
                int64_t K = is_gru ? H : kk[ki];
                fails += step_split_case(k, nr, 13, H, K, &o);
            }
        cr_expect(fails == 0, "%s %s: %d split-dependent cases (see log)", k->isa, k->field,
                  fails);
        tested++;
    }
    cr_expect(tested >= 1);
}

/* The list itself: every ISA has a valid row_block, every step a scalar
 * twin. */
Test(kernels, list_consistent) {
    for (int e = 0; e < LEN(kc_kernels); e++) {
        const kc_kernel *k = &kc_kernels[e];
        if (!strcmp(k->type, "gemm"))
            cr_expect(kc_isa_nr(k->isa) > 0 && kc_isa_nr(k->isa) <= RNNKIT_MAX_NR,
                      "%s: row_block %d", k->isa, kc_isa_nr(k->isa));
        if (!strcmp(k->type, "step"))
            cr_expect(kc_scalar_twin(k->field) != NULL, "%s %s has no scalar twin", k->isa,
                      k->field);
    }
}
