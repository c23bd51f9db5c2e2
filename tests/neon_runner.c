/*
 * NEON kernel checks as a plain single-threaded C program.
 *
 * Why not Criterion: under the qemu-user used to run AArch64 binaries here
 * (7.2), any program that creates a second thread hangs in pthread_create,
 * and Criterion's runner creates threads. So this program runs every check
 * in one thread, under OMP_NUM_THREADS=1 and a timeout (scripts/
 * test-neon.sh), and prints "N passed, M failed" as its last line; the
 * exit status is non-zero on any failure.
 *
 * What it checks:
 *  - every NEON entry of simd/kernels.inc (the list is expanded here, so
 *    a new entry without a check fails to compile) against its scalar
 *    twin, with weights packed by the scalar packer at the NEON row block:
 *    sizes 1..70 (sampled) and a few large ones, row strides with NaN
 *    padding (reading a pad shows up as NaN), inputs placed so that they
 *    end exactly at a PROT_NONE page (a read past the end faults),
 *    outputs pre-filled with a NaN payload (an unwritten element shows,
 *    and so does a write outside the unit range or into a pad) and
 *    followed by a guard page as well. Tolerance for the sums: the FMA
 *    (NEON) and mul+add (scalar) dot products may differ by k*2^-23 *
 *    sum|a*w| each; we allow 4e-6*(k+8)*(1+|ref|) after activations
 *    whose Lipschitz constants are <= 1, i.e. about 30x the float
 *    rounding bound of such sums, far below what an indexing error gives;
 *  - exp, sigmoid, tanh on every 4099th float bit pattern plus special
 *    values against libm in double, with the ULP bounds stated in
 *    simd/arm/neon/neon-math.h, and lengths 0..70 for tails/in-place;
 *  - every ONNX activation kind of the act kernel against the scalar
 *    formulas in double (kc_check_act_kinds), and the steps with every
 *    kind in every position (11 sets) against the scalar steps;
 *  - bitwise split invariance of every NEON gemm and step (run_split):
 *    each row alone and unit sub-ranges give the same bits as one call;
 *  - rnnkit_forward of models created under rnnkit_isa_select("neon")
 *    against the same models under "scalar".
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>

#include "rnnkit.h"
#include "simd/kernels.h"

/* The bitwise split grid (kc_run_split_gemm / kc_run_split_steps) is the
 * one of the x86 kernel tests, shared through tests/kernel_check.h. */
static void kc_print_line(const char *line) { printf("%s\n", line); }
#define KC_LOGGER kc_print_line
#define KC_NOTE kc_print_line
#include "kernel_check.h"

static int g_pass, g_fail;
static const char *volatile g_current = "start"; /* for the SIGSEGV message */

/* A read or write past a buffer hits a PROT_NONE page: say where. */
static void on_segv(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: SIGSEGV (access past a guarded buffer?) in ";
    ssize_t r = write(1, msg, sizeof msg - 1);
    r += write(1, g_current, strlen(g_current));
    r += write(1, "\n", 1);
    (void)r;
    _exit(3);
}

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            g_pass++;                                                                      \
        } else {                                                                           \
            g_fail++;                                                                      \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                    \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
        }                                                                                  \
    } while (0)

/* ---------------- guarded buffers ---------------- */
/* A buffer of n floats that ends exactly where a PROT_NONE page starts. */
typedef struct gbuf {
    void *map;
    size_t map_len;
    float *p;
} gbuf;

static size_t g_page;

static float *gb_alloc(gbuf *b, size_t n) {
    size_t bytes = n * sizeof(float);
    size_t data_pages = (bytes + g_page - 1) / g_page;
    b->map_len = (data_pages + 1) * g_page;
    b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->map == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    char *guard = (char *)b->map + data_pages * g_page;
    if (mprotect(guard, g_page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    b->p = (float *)(guard - bytes);
    return b->p;
}

static void gb_free(gbuf *b) { munmap(b->map, b->map_len); }

/* ---------------- random numbers (fixed seed) ---------------- */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static float frand(void) { /* [-1, 1) */
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((double)(g_rng >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

static const uint32_t SENTINEL = 0x7fc0deadu; /* a quiet NaN with a payload */
static float sentinel(void) {
    float f;
    memcpy(&f, &SENTINEL, 4);
    return f;
}
static int is_sentinel(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u == SENTINEL;
}

/* Fills rows x cols of a buffer with row stride ld: values in [-s, s),
 * pads (cols..ld) with NaN sentinels. */
static void fill(float *p, int64_t rows, int64_t cols, int64_t ld, float s) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < ld; c++)
            if (r < rows - 1 || c < cols) p[r * ld + c] = c < cols ? s * frand() : sentinel();
}

static int close_enough(float got, float ref, int64_t k) {
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got);
    float tol = 4e-6f * (float)(k + 8) * (1.0f + fabsf(ref));
    return fabsf(got - ref) <= tol;
}

/* ---------------- gemm ---------------- */
static int g_nr; /* the NEON row block, from the kernel list */

static void test_gemm(const char *name, rnnkit_gemm_fn *fn, rnnkit_gemm_fn *ref, int64_t m,
                      int64_t g, int64_t h, int64_t k, int pad, int with_bias) {
    int64_t lda = k + pad, ldc = g * h + pad;
    size_t pk = rnnkit_packed_floats(g_nr, g, h, k);
    gbuf ba, bw, bp, bb, bc1, bc2;
    float *a = gb_alloc(&ba, (size_t)((m - 1) * lda + k));
    float *w = gb_alloc(&bw, (size_t)(g * h * k));
    float *p = gb_alloc(&bp, pk);
    float *bias = gb_alloc(&bb, (size_t)(g * h));
    size_t cn = (size_t)((m - 1) * ldc + g * h);
    float *c1 = gb_alloc(&bc1, cn), *c2 = gb_alloc(&bc2, cn);
    fill(a, m, k, lda, 1.0f);
    fill(w, g * h, k, k, 1.0f);
    fill(bias, 1, g * h, g * h, 1.0f);
    rnnkit_f32_pack_gates__scalar(g_nr, g, h, k, w, p);
    for (size_t i = 0; i < cn; i++) c1[i] = c2[i] = sentinel();
    fn(g_nr, m, g, h, h, k, a, lda, p, with_bias ? bias : NULL, c1, ldc);
    ref(g_nr, m, g, h, h, k, a, lda, p, with_bias ? bias : NULL, c2, ldc);
    int bad = 0;
    for (int64_t i = 0; i < m && !bad; i++)
        for (int64_t j = 0; j < ldc && !bad; j++) {
            if (i == m - 1 && j >= g * h) break;
            size_t o = (size_t)(i * ldc + j);
            if (j >= g * h) {
                if (!is_sentinel(c1[o])) {
                    CHECK(0, "%s m=%lld g=%lld h=%lld k=%lld: pad c[%lld][%lld] written (%g)", name,
                          (long long)m, (long long)g, (long long)h, (long long)k, (long long)i,
                          (long long)j, c1[o]);
                    bad = 1;
                }
            } else if (!close_enough(c1[o], c2[o], k) || is_sentinel(c1[o])) {
                CHECK(0, "%s m=%lld g=%lld h=%lld k=%lld pad=%d bias=%d: c[%lld][%lld] neon %.9g scalar %.9g",
                      name, (long long)m, (long long)g, (long long)h, (long long)k, pad, with_bias,
                      (long long)i, (long long)j, c1[o], c2[o]);
                bad = 1;
            }
        }
    if (!bad) g_pass++;
    gb_free(&ba), gb_free(&bw), gb_free(&bp), gb_free(&bb), gb_free(&bc1), gb_free(&bc2);
}

static void run_gemm(const char *name, rnnkit_gemm_fn *fn, rnnkit_gemm_fn *ref) {
    static const int64_t sz[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 31, 32, 33, 47, 64, 70};
    const int nsz = (int)(sizeof sz / sizeof sz[0]);
    for (int gi = 1; gi <= 4; gi++)
        for (int a = 0; a < nsz; a++) {
            int64_t h = sz[a], m = sz[(a * 7 + gi) % nsz], k = sz[(a * 3 + 2 * gi) % nsz];
            test_gemm(name, fn, ref, m, gi, h, k, (a + gi) % 3, (a + gi) % 2);
        }
    test_gemm(name, fn, ref, 67, 4, 130, 257, 1, 1);
    test_gemm(name, fn, ref, 200, 3, 96, 128, 0, 1);
    test_gemm(name, fn, ref, 1, 4, 512, 300, 3, 0);
}

/* ---------------- steps ---------------- */
typedef struct step_case {
    int cell; /* RNNKIT_KCELL_* */
    int64_t n, h, k, j_begin, j_end;
    int peep, clip, input_forget, lbr, bhn, pad;
    int nondefault; /* default_act = 0: the step runs act (or a fixed set) */
    const rnnkit_act *act; /* with nondefault: f, g, h (NULL: HardSigmoid, Softsign, Elu) */
} step_case;

static void test_step(const char *name, rnnkit_step_fn *fn, rnnkit_step_fn *ref, step_case sc) {
    const int64_t n = sc.n, H = sc.h, K = sc.k;
    const int64_t G = sc.cell == RNNKIT_KCELL_LSTM ? 4 : sc.cell == RNNKIT_KCELL_GRU ? 3 : 1;
    const int64_t Gw = sc.cell == RNNKIT_KCELL_GRU ? 2 : G; /* gates in a->w */
    const int pad = sc.pad;
    gbuf bw, bwn, bp, bpn, bxp, bhp, bcp, bh1, bh2, bc1, bc2, bbhn, bpeep, bs1, bs2;
    float *w = gb_alloc(&bw, (size_t)(Gw * H * K));
    float *wn = gb_alloc(&bwn, (size_t)(H * K));
    float *pw = gb_alloc(&bp, rnnkit_packed_floats(g_nr, Gw, H, K));
    float *pwn = gb_alloc(&bpn, rnnkit_packed_floats(g_nr, 1, H, K));
    int64_t ld_xp = G * H + pad, ld_hp = K + pad, ld_ho = H + pad;
    float *xp = gb_alloc(&bxp, (size_t)((n - 1) * ld_xp + G * H));
    float *hp = gb_alloc(&bhp, (size_t)((n - 1) * ld_hp + K));
    float *cp = gb_alloc(&bcp, (size_t)(n * H));
    size_t hon = (size_t)((n - 1) * ld_ho + H);
    float *h1 = gb_alloc(&bh1, hon), *h2 = gb_alloc(&bh2, hon);
    float *c1 = gb_alloc(&bc1, (size_t)(n * H)), *c2 = gb_alloc(&bc2, (size_t)(n * H));
    float *bhn = gb_alloc(&bbhn, (size_t)H);
    float *peep = gb_alloc(&bpeep, (size_t)(3 * H));
    float *s1 = gb_alloc(&bs1, (size_t)(n * K)), *s2 = gb_alloc(&bs2, (size_t)(n * K));
    float ws = 2.0f / sqrtf((float)K);
    fill(w, Gw * H, K, K, ws);
    fill(wn, H, K, K, ws);
    rnnkit_f32_pack_gates__scalar(g_nr, Gw, H, K, w, pw);
    rnnkit_f32_pack_gates__scalar(g_nr, 1, H, K, wn, pwn);
    fill(xp, n, G * H, ld_xp, 2.0f);
    fill(hp, n, K, ld_hp, 1.0f);
    fill(cp, n, H, H, 2.0f);
    fill(bhn, 1, H, H, 1.0f);
    fill(peep, 1, 3 * H, 3 * H, 1.0f);
    for (size_t i = 0; i < hon; i++) h1[i] = h2[i] = sentinel();
    for (int64_t i = 0; i < n * H; i++) c1[i] = c2[i] = sentinel();
    for (int64_t i = 0; i < n * K; i++) s1[i] = s2[i] = sentinel();
    rnnkit_step_args a;
    memset(&a, 0, sizeof a);
    a.nr = g_nr;
    a.n = n, a.h = H, a.k = K, a.j_begin = sc.j_begin, a.j_end = sc.j_end;
    a.w = pw, a.w_n = pwn, a.xp = xp, a.ld_xp = ld_xp, a.h_prev = hp, a.ld_h_prev = ld_hp;
    a.c_prev = cp, a.ld_h_out = ld_ho;
    a.b_hn = sc.bhn ? bhn : NULL;
    a.peep = sc.peep ? peep : NULL;
    a.clip = sc.clip ? 0.75f : 0.0f;
    a.input_forget = sc.input_forget;
    a.linear_before_reset = sc.lbr;
    a.default_act = 1;
    static const rnnkit_act nd_act[3] = {
        {RNNKIT_ACT_HARD_SIGMOID, 0.2f, 0.5f}, {RNNKIT_ACT_SOFTSIGN, 0, 0}, {RNNKIT_ACT_ELU, 1.0f, 0}};
    if (sc.nondefault) a.default_act = 0, a.act = sc.act ? sc.act : nd_act;
    rnnkit_step_args b = a;
    a.h_out = h1, a.c_out = c1, a.scratch = s1;
    b.h_out = h2, b.c_out = c2, b.scratch = s2;
    fn(&a);
    ref(&b);
    int bad = 0;
    for (int64_t r = 0; r < n && !bad; r++)
        for (int64_t j = 0; j < H && !bad; j++) {
            int in = j >= sc.j_begin && j < sc.j_end;
            float gh = h1[r * ld_ho + j], rh = h2[r * ld_ho + j];
            float gc = c1[r * H + j], rc = c2[r * H + j];
            int ok = in ? close_enough(gh, rh, K) && !is_sentinel(gh) : is_sentinel(gh);
            if (sc.cell == RNNKIT_KCELL_LSTM)
                ok = ok && (in ? close_enough(gc, rc, K) && !is_sentinel(gc) : is_sentinel(gc));
            if (!ok) {
                CHECK(0,
                      "%s n=%lld h=%lld k=%lld j=[%lld,%lld) peep=%d clip=%d if=%d lbr=%d bhn=%d "
                      "pad=%d nondefault=%d: row %lld unit %lld h neon %.9g scalar %.9g c neon %.9g scalar %.9g",
                      name, (long long)n, (long long)H, (long long)K, (long long)sc.j_begin,
                      (long long)sc.j_end, sc.peep, sc.clip, sc.input_forget, sc.lbr, sc.bhn, pad,
                      sc.nondefault, (long long)r, (long long)j, gh, rh, gc, rc);
                bad = 1;
            }
        }
    /* Row pads of h_out must stay untouched. */
    for (int64_t r = 0; r + 1 < n && !bad; r++)
        for (int64_t j = H; j < ld_ho; j++)
            if (!is_sentinel(h1[r * ld_ho + j])) {
                CHECK(0, "%s: h_out pad row %lld col %lld written", name, (long long)r, (long long)j);
                bad = 1;
                break;
            }
    if (!bad) g_pass++;
    gbuf *all[] = {&bw, &bwn, &bp, &bpn, &bxp, &bhp, &bcp, &bh1, &bh2,
                   &bc1, &bc2, &bbhn, &bpeep, &bs1, &bs2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) gb_free(all[i]);
}

static void run_step(const char *name, rnnkit_step_fn *fn, rnnkit_step_fn *ref) {
    int cell = strstr(name, "lstm") ? RNNKIT_KCELL_LSTM
               : strstr(name, "gru") ? RNNKIT_KCELL_GRU
                                     : RNNKIT_KCELL_RNN;
    static const int64_t hs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 17, 20, 24,
                                 25, 31, 32, 33, 40, 47, 48, 49, 55, 63, 64, 65, 70};
    static const int64_t ns[] = {1, 2, 3, 4, 5, 7};
    const int nh = (int)(sizeof hs / sizeof hs[0]);
    int idx = 0;
    for (int a = 0; a < nh; a++)
        for (int v = 0; v < 4; v++, idx++) {
            step_case sc;
            memset(&sc, 0, sizeof sc);
            sc.cell = cell;
            sc.h = hs[a];
            /* LSTM with projection has k != h; GRU needs k == h. */
            sc.k = cell == RNNKIT_KCELL_LSTM && (v & 1) ? hs[(a * 5 + 3) % nh]
                   : cell == RNNKIT_KCELL_RNN && v == 3 ? hs[(a * 7 + 1) % nh]
                                                        : sc.h;
            sc.n = ns[idx % 6];
            sc.peep = v >= 2;
            sc.clip = v == 1 || v == 3;
            sc.input_forget = v == 3;
            sc.lbr = v & 1;
            sc.bhn = v != 3;
            sc.pad = v % 3;
            sc.j_begin = 0;
            sc.j_end = sc.h;
            test_step(name, fn, ref, sc);
            /* A sub-range of units (threads split units) where allowed. */
            if (sc.h > g_nr && !(cell == RNNKIT_KCELL_GRU && !sc.lbr)) {
                sc.j_begin = g_nr;
                sc.j_end = v == 0 && sc.h > 2 * g_nr ? 2 * g_nr : sc.h;
                test_step(name, fn, ref, sc);
            }
        }
    step_case big[] = {
        {cell, 1, 256, 256, 0, 256, 1, 1, 0, 1, 1, 0, 0, NULL},
        {cell, 9, 130, cell == RNNKIT_KCELL_LSTM ? 67 : 130, 0, 130, 1, 0, 0, 0, 1, 1, 0, NULL},
        {cell, 16, 100, 100, 0, 100, 0, 0, 0, 1, 0, 3, 0, NULL},
        {cell, 3, 513, 513, 0, 513, 0, 1, 1, 0, 1, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) test_step(name, fn, ref, big[i]);
    step_case nd = {cell, 3, 21, 21, 0, 21, 1, 1, 0, 1, 1, 1, 1, NULL};
    test_step(name, fn, ref, nd);
    nd.lbr = 0;
    test_step(name, fn, ref, nd);
    /* Every ONNX activation kind in the NEON steps (rk_act_f32x4), as
     * tests/kernel_check.h does for x86: each of the 11 sets puts every
     * kind in f (gates), g (candidate) and h (output) once, with its own
     * alpha and beta, mixed with clip, peepholes, input_forget and both
     * GRU variants; batch 1-4 (tails of the 2-row tiles) and 5, a tail
     * block, a unit sub-range. */
    for (int i = 0; i < KC_ACT_SETS; i++) {
        rnnkit_act act[3];
        kc_act_set(i, act);
        step_case sc;
        memset(&sc, 0, sizeof sc);
        sc.cell = cell;
        sc.n = 1 + i % 4;
        sc.h = 2 * g_nr + 3;
        sc.k = cell == RNNKIT_KCELL_GRU ? sc.h : 37;
        sc.j_end = sc.h;
        sc.clip = i & 1;
        sc.peep = cell == RNNKIT_KCELL_LSTM && ((i >> 1) & 1);
        sc.input_forget = cell == RNNKIT_KCELL_LSTM && i == 4;
        sc.lbr = (i >> 1) & 1;
        sc.bhn = (i >> 2) & 1;
        sc.pad = i % 3;
        sc.nondefault = 1;
        sc.act = act;
        test_step(name, fn, ref, sc);
        sc.n = 5;
        sc.h = 70;
        sc.k = cell == RNNKIT_KCELL_GRU ? 70 : 33;
        sc.j_end = 70;
        test_step(name, fn, ref, sc);
        if (!(cell == RNNKIT_KCELL_GRU && !sc.lbr)) {
            sc.j_begin = g_nr, sc.j_end = 3 * g_nr;
            test_step(name, fn, ref, sc);
        }
    }
}

/* ---------------- activations ---------------- */
/* ULP of a float-rounded value ref (denormal spacing below 2^-126). */
static double ulp_of(double ref) {
    double a = fabs(ref);
    if (a < (double)FLT_MIN) return ldexp(1.0, -149);
    int e;
    frexp(a, &e); /* a = m 2^e, m in [0.5, 1) */
    return ldexp(1.0, e - 24);
}

typedef struct act_stat {
    double max_ulp;
    float worst_x;
} act_stat;

static double act_ref(int which, double x) {
    switch (which) {
    case 0: return exp(x);
    case 1: return 1.0 / (1.0 + exp(-x));
    default: return tanh(x);
    }
}

/* Compares one value; returns 0 on a hard failure (special-value rule). */
static int act_check_one(const char *name, int which, float x, float y, double bound,
                         act_stat *st) {
    double ref = act_ref(which, (double)x);
    float reff = (float)ref; /* correctly rounded (up to double's own error) */
    if (isnan(x) || isnan(ref)) {
        if (!isnan(y)) {
            CHECK(0, "%s(%a) = %a, want NaN", name, x, y);
            return 0;
        }
        return 1;
    }
    if (isinf(reff)) {
        if (y != reff) {
            CHECK(0, "%s(%a) = %a, want %a", name, x, y, reff);
            return 0;
        }
        return 1;
    }
    if (!isfinite(y)) {
        CHECK(0, "%s(%a) = %a, want %a", name, x, y, reff);
        return 0;
    }
    if (ref == 0.0 && y != 0.0f) {
        CHECK(0, "%s(%a) = %a, want %a", name, x, y, reff);
        return 0;
    }
    /* Signed zeros: tanh(+-0) = +-0. */
    if (which == 2 && x == 0.0f && signbit(y) != signbit(x)) {
        CHECK(0, "tanh(%a) = %a: sign of zero", x, y);
        return 0;
    }
    double e = fabs((double)y - ref) / ulp_of(ref);
    if (e > st->max_ulp) st->max_ulp = e, st->worst_x = x;
    if (e > bound) {
        CHECK(0, "%s(%a = %.9g) = %.9g, libm(double) %.17g: %.2f ULP > %.1f", name, x, x, y, ref,
              e, bound);
        return 0;
    }
    return 1;
}

static void run_unary(const char *name, rnnkit_unary_fn *fn, rnnkit_unary_fn *ref) {
    (void)ref;
    int which = strcmp(name, "exp") == 0 ? 0 : strcmp(name, "sigmoid") == 0 ? 1 : 2;
    double bound = which == 0 ? 1.5 : 2.5; /* neon-math.h: sigmoid, tanh 2.5 */
    enum { CH = 4096 };
    static float xs[CH], ys[CH];
    act_stat st = {0, 0};
    int failures = 0;
    uint64_t bits = 0;
    int done = 0;
    static const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN,
                                     -FLT_MIN, 1e-45f, -1e-45f, FLT_MAX, -FLT_MAX, 1.0f, -1.0f,
                                     0.625f, -0.625f, 0.62499994f, 88.72283f, 88.722839f,
                                     88.7228394f, -87.33654f, -103.9720840f, -103.972084f,
                                     -104.0f, 9.01f, -9.01f, 44.0f, 0.5f, 1e-20f, -1e-30f,
                                     /* tanh: expm1(2|x|)'s n = 0 / 1 switch, the clamp
                                      * 2|x| <= 40; sigmoid: the -87 path switch, 88 */
                                     0.17328679f, -0.17328680f, 0.1732868f, 20.0f, -20.000002f,
                                     -87.0f, -86.999992f, -87.000008f, 88.0f, 88.00001f};
    /* NEON_RUNNER_ACT_STRIDE=<n> sweeps every n-th bit pattern instead
     * (e.g. 1 for all 2^32 floats; slow under qemu). */
    uint64_t stride = 4099;
    const char *env = getenv("NEON_RUNNER_ACT_STRIDE");
    if (env && strtoull(env, NULL, 10) > 0) stride = strtoull(env, NULL, 10);
    while (!done) {
        int cnt = 0;
        if (bits == 0) {
            for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) xs[cnt++] = specials[i];
        }
        while (cnt < CH && bits <= 0xffffffffull) {
            uint32_t u = (uint32_t)bits;
            memcpy(&xs[cnt++], &u, 4);
            bits += stride;
        }
        if (bits > 0xffffffffull) done = 1;
        fn(cnt, xs, ys);
        for (int i = 0; i < cnt; i++)
            if (!act_check_one(name, which, xs[i], ys[i], bound, &st) && ++failures > 10) {
                printf("  (%s: stopping after 10 failures)\n", name);
                done = 1;
                break;
            }
    }
    CHECK(failures == 0, "%s: %d values over the bound", name, failures);
    printf("  %s: max error %.3f ULP at x = %.9g (%a), bound %.1f\n", name, st.max_ulp,
           st.worst_x, st.worst_x, bound);

    /* Lengths 0..70 at every alignment, out of place (guard page after y and
     * x) and in place: each element must equal the one computed in the
     * big sweep's way (the same kernel on a 4-aligned full vector). */
    for (int64_t n = 0; n <= 70; n++) {
        gbuf bx, by;
        float *x = gb_alloc(&bx, (size_t)n + 1) + 1; /* ends at the guard page */
        float *y = gb_alloc(&by, (size_t)n + 1) + 1;
        x[-1] = y[-1] = sentinel();
        for (int64_t i = 0; i < n; i++) x[i] = 12.0f * frand(), y[i] = sentinel();
        fn(n, x, y);
        int bad = !is_sentinel(y[-1]) || !is_sentinel(x[-1]);
        for (int64_t i = 0; i < n && !bad; i++) {
            float one;
            fn(1, &x[i], &one);
            if (memcmp(&one, &y[i], 4) != 0) bad = 1;
        }
        fn(n, x, x); /* in place */
        for (int64_t i = 0; i < n && !bad; i++)
            if (memcmp(&x[i], &y[i], 4) != 0) bad = 1;
        CHECK(!bad, "%s: length %lld, tail/in-place/guard mismatch", name, (long long)n);
        gb_free(&bx), gb_free(&by);
    }
}

/* ---------------- ONNX activation kinds ---------------- */
/* Every kind of the act kernel (what the steps apply for non-default
 * activations) against the scalar semantics in double: kernel_check.h
 * kc_check_act_kinds, every 16411th bit pattern (about 260k floats per
 * kind; qemu is slow) plus special values, lengths and guards. */
static void run_act(const char *name, rnnkit_act_fn *fn, rnnkit_act_fn *ref) {
    (void)ref;
    int fails = kc_check_act_kinds("neon", fn, 16411);
    CHECK(fails == 0, "%s: %d failing kinds", name, fails);
}

/* ---------------- pack (only if a NEON packer is ever listed) ---------------- */
__attribute__((unused)) static void run_pack_gates(const char *name, rnnkit_pack_gates_fn *fn, rnnkit_pack_gates_fn *ref) {
    for (int64_t h = 1; h <= 70; h += 3)
        for (int64_t g = 1; g <= 4; g++) {
            int64_t k = 1 + (h * 7 + g) % 40;
            size_t pn = rnnkit_packed_floats(g_nr, g, h, k);
            float *w = malloc(sizeof(float) * (size_t)(g * h * k));
            float *p1 = malloc(sizeof(float) * pn), *p2 = malloc(sizeof(float) * pn);
            fill(w, g * h, k, k, 1.0f);
            fn(g_nr, g, h, k, w, p1);
            ref(g_nr, g, h, k, w, p2);
            CHECK(memcmp(p1, p2, sizeof(float) * pn) == 0, "%s g=%lld h=%lld k=%lld differs", name,
                  (long long)g, (long long)h, (long long)k);
            free(w), free(p1), free(p2);
        }
}

/* ---------------- the kernel list ---------------- */
#define RNNKIT_ISA(isa, nr) enum { rk_nr_##isa = (nr) };
#include "simd/kernels.inc"
#undef RNNKIT_ISA

#define RK_RUN_scalar(field, type)
#define RK_RUN_neon(field, type)                                                            \
    do {                                                                                   \
        int before = g_fail;                                                               \
        g_current = #field;                                                                \
        run_##type(#field, rnnkit_f32_##field##__neon, rnnkit_f32_##field##__scalar);       \
        printf("%-14s %s\n", #field, g_fail == before ? "ok" : "FAILED");                  \
        nk++;                                                                              \
    } while (0);
/* Another ISA in the arm64 list (none yet) would have no RK_RUN_<isa> and
 * stop the build here, so it cannot be skipped silently. */
#define RNNKIT_KERNEL(isa, field, type) RK_RUN_##isa(field, type)

static int run_kernels(void) {
    int nk = 0;
    g_nr = rk_nr_neon;
#include "simd/kernels.inc"
    return nk;
}
#undef RNNKIT_KERNEL

/* ---------------- bitwise split invariance ---------------- */
/*
 * The driver splits a step among threads by batch rows and by unit ranges
 * at multiples of nr, and the input projection by gemm rows, so a kernel
 * must give BITWISE the same element whatever rows or units share its
 * call: one fixed FMA chain over k per element, in whatever tile the row
 * lands (4-row tile or leftover rows) and whatever the unit range. For
 * every NEON gemm and step (RNN tanh and relu, LSTM with and without
 * peepholes, GRU lbr=1, lbr=0 with gru_pass 0 and with pass 1 then pass 2
 * per range), K and H in {1, 3, 17, 33, 67}, batch n = 1..9: all n rows
 * in one call vs each row alone (n = 1, pointers offset to the row), vs
 * unit ranges [j_begin, j_end) split at several multiples of nr covering
 * [0, h), and both combined; memcmp of h_out and c_out (kernel_check.h).
 * Single-threaded like everything here: the split calls are made one
 * after the other, since qemu-user here hangs in pthread_create (a real
 * thread team cannot be run under it).
 */
static void run_split(void) {
    for (int i = 0; i < KC_LEN(kc_kernels); i++) {
        const kc_kernel *e = &kc_kernels[i];
        if (strcmp(e->isa, "neon")) continue;
        int fails;
        g_current = e->field;
        if (e->gemm) fails = kc_run_split_gemm(e->isa, e->gemm, g_nr);
        else if (e->step) fails = kc_run_split_steps(e->isa, e->field, e->step, g_nr);
        else continue;
        CHECK(fails == 0, "%s: %d shapes not bitwise equal when rows or units are split", e->field,
              fails);
        printf("split %-14s %s\n", e->field, fails ? "FAILED" : "ok");
    }
}

/* ---------------- end to end ---------------- */
typedef struct e2e_spec {
    const char *what;
    rnnkit_layout layout;
    rnnkit_cell cell;
    int64_t I, H, P, L, T, N;
    int bidir, lbr, peep, clip_on;
    const char *acts; /* ONNX activations, comma-separated (NULL: defaults) */
} e2e_spec;

static rnnkit_status make_model(const e2e_spec *s, const char *isa, float *const *data,
                                rnnkit_tensor *t, size_t nt, rnnkit_model **m) {
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.layout = s->layout;
    d.cell = s->cell;
    d.direction = s->bidir ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
    d.linear_before_reset = s->lbr;
    d.clip = s->clip_on ? 0.9f : 0.0f;
    if (s->acts) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", s->acts);
        for (char *tok = strtok(buf, ","); tok && d.num_activations < RNNKIT_MAX_ACTIVATIONS;
             tok = strtok(NULL, ",")) {
            rnnkit_status st = rnnkit_activation_parse(tok, &d.activations[d.num_activations]);
            if (st != RNNKIT_STATUS_OK) return st;
            d.num_activations++;
        }
    }
    (void)data;
    rnnkit_status st = rnnkit_isa_select(isa);
    if (st != RNNKIT_STATUS_OK) return st;
    return rnnkit_model_create(&d, t, nt, m);
}

static void run_e2e(const e2e_spec *s) {
    const int64_t G = s->cell == RNNKIT_CELL_LSTM ? 4 : s->cell == RNNKIT_CELL_GRU ? 3 : 1;
    const int64_t D = s->bidir ? 2 : 1, H = s->H, I = s->I, P = s->P ? s->P : s->H;
    rnnkit_tensor t[64];
    float *data[64];
    char names[64][48];
    size_t nt = 0;
#define ADD(nm, nd, s0, s1, s2, scale)                                                       \
    do {                                                                                     \
        int64_t cnt_ = (s0) * ((nd) > 1 ? (s1) : 1) * ((nd) > 2 ? (s2) : 1);                 \
        data[nt] = malloc(sizeof(float) * (size_t)cnt_);                                     \
        for (int64_t q_ = 0; q_ < cnt_; q_++) data[nt][q_] = (scale) * frand();              \
        snprintf(names[nt], sizeof names[nt], "%s", nm);                                     \
        t[nt].name = names[nt], t[nt].data = data[nt], t[nt].ndim = (nd);                    \
        t[nt].shape[0] = (s0), t[nt].shape[1] = (s1), t[nt].shape[2] = (s2);                 \
        nt++;                                                                                \
    } while (0)
    float ws = 1.0f / sqrtf((float)H);
    if (s->layout == RNNKIT_LAYOUT_PYTORCH) {
        for (int64_t l = 0; l < s->L; l++)
            for (int64_t d = 0; d < D; d++) {
                char nm[48];
                const char *sfx = d ? "_reverse" : "";
                int64_t in = l == 0 ? I : D * P;
                snprintf(nm, sizeof nm, "weight_ih_l%d%s", (int)l, sfx);
                ADD(nm, 2, G * H, in, 0, ws);
                snprintf(nm, sizeof nm, "weight_hh_l%d%s", (int)l, sfx);
                ADD(nm, 2, G * H, P, 0, ws);
                snprintf(nm, sizeof nm, "bias_ih_l%d%s", (int)l, sfx);
                ADD(nm, 1, G * H, 0, 0, ws);
                snprintf(nm, sizeof nm, "bias_hh_l%d%s", (int)l, sfx);
                ADD(nm, 1, G * H, 0, 0, ws);
                if (s->P) {
                    snprintf(nm, sizeof nm, "weight_hr_l%d%s", (int)l, sfx);
                    ADD(nm, 2, P, H, 0, ws);
                }
            }
    } else {
        ADD("W", 3, D, G * H, I, ws);
        ADD("R", 3, D, G * H, H, ws);
        ADD("B", 2, D, 2 * G * H, 0, ws);
        if (s->peep) ADD("P", 2, D, 3 * H, 0, ws);
    }
#undef ADD
    g_current = s->what;
    rnnkit_model *mn = NULL, *ms = NULL;
    rnnkit_status st1 = make_model(s, "neon", data, t, nt, &mn);
    rnnkit_status st2 = make_model(s, "scalar", data, t, nt, &ms);
    rnnkit_isa_select(NULL);
    CHECK(st1 == RNNKIT_STATUS_OK && st2 == RNNKIT_STATUS_OK, "e2e %s: model create: %s / %s: %s",
          s->what, rnnkit_status_string(st1), rnnkit_status_string(st2), rnnkit_last_error());
    if (st1 == RNNKIT_STATUS_OK && st2 == RNNKIT_STATUS_OK) {
        rnnkit_model_info info;
        rnnkit_model_get_info(mn, &info);
        CHECK(strcmp(info.isa, "neon") == 0, "e2e %s: model isa is %s, want neon", s->what,
              info.isa);
        const int64_t T = s->T, N = s->N, L = s->layout == RNNKIT_LAYOUT_PYTORCH ? s->L : 1;
        const int64_t Po = s->layout == RNNKIT_LAYOUT_PYTORCH ? P : H;
        size_t ny = (size_t)(T * N * D * Po), nh = (size_t)(L * D * N * Po),
               nc = (size_t)(L * D * N * H);
        float *x = malloc(sizeof(float) * (size_t)(T * N * I));
        float *h0 = malloc(sizeof(float) * nh), *c0 = malloc(sizeof(float) * nc);
        float *y[2], *hn[2], *cn[2];
        int32_t *len = malloc(sizeof(int32_t) * (size_t)N);
        for (int64_t i = 0; i < T * N * I; i++) x[i] = frand();
        for (size_t i = 0; i < nh; i++) h0[i] = 0.5f * frand();
        for (size_t i = 0; i < nc; i++) c0[i] = 0.5f * frand();
        for (int64_t i = 0; i < N; i++) len[i] = (int32_t)(T - (i % 3) * (T / 3));
        for (int v = 0; v < 2; v++) {
            y[v] = malloc(sizeof(float) * ny), hn[v] = malloc(sizeof(float) * nh);
            cn[v] = malloc(sizeof(float) * nc);
            rnnkit_forward_args fa;
            memset(&fa, 0, sizeof fa);
            fa.seq_len = T, fa.batch = N, fa.x = x, fa.lengths = len, fa.h0 = h0;
            fa.c0 = s->cell == RNNKIT_CELL_LSTM ? c0 : NULL;
            fa.y = y[v], fa.hn = hn[v], fa.cn = s->cell == RNNKIT_CELL_LSTM ? cn[v] : NULL;
            fa.num_threads = 1;
            rnnkit_status st = rnnkit_forward(v ? ms : mn, &fa);
            CHECK(st == RNNKIT_STATUS_OK, "e2e %s: forward (%s): %s", s->what, v ? "scalar" : "neon",
                  rnnkit_last_error());
        }
        /* Errors compound over T steps and L layers; 1e-4 on O(1) values is
         * ~1000 float ULPs, still far below what a wrong index gives. */
        int bad = 0;
        for (size_t i = 0; i < ny && !bad; i++)
            if (!(fabsf(y[0][i] - y[1][i]) <= 1e-4f * (1.0f + fabsf(y[1][i])))) {
                CHECK(0, "e2e %s: y[%zu] neon %.9g scalar %.9g", s->what, i, y[0][i], y[1][i]);
                bad = 1;
            }
        for (size_t i = 0; i < nh && !bad; i++)
            if (!(fabsf(hn[0][i] - hn[1][i]) <= 1e-4f * (1.0f + fabsf(hn[1][i])))) {
                CHECK(0, "e2e %s: hn[%zu] neon %.9g scalar %.9g", s->what, i, hn[0][i], hn[1][i]);
                bad = 1;
            }
        if (s->cell == RNNKIT_CELL_LSTM)
            for (size_t i = 0; i < nc && !bad; i++)
                if (!(fabsf(cn[0][i] - cn[1][i]) <= 1e-4f * (1.0f + fabsf(cn[1][i])))) {
                    CHECK(0, "e2e %s: cn[%zu] neon %.9g scalar %.9g", s->what, i, cn[0][i],
                          cn[1][i]);
                    bad = 1;
                }
        CHECK(!bad, "e2e %s", s->what);
        printf("e2e %-34s %s\n", s->what, bad ? "FAILED" : "ok");
        free(x), free(h0), free(c0), free(len);
        for (int v = 0; v < 2; v++) free(y[v]), free(hn[v]), free(cn[v]);
    }
    rnnkit_model_destroy(mn);
    rnnkit_model_destroy(ms);
    for (size_t i = 0; i < nt; i++) free(data[i]);
}

static void run_e2e_all(void) {
    if (!rnnkit_isa_supported("neon")) {
        CHECK(0, "rnnkit_isa_supported(\"neon\") is 0 on this AArch64 machine");
        return;
    }
    static const e2e_spec specs[] = {
        {"pytorch lstm 2 layers", RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 13, 37, 0, 2, 9, 3, 0, 0, 0, 0, NULL},
        {"pytorch lstm bidir + proj", RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 10, 20, 11, 1, 7, 4, 1, 0, 0, 0, NULL},
        {"pytorch gru bidir (lbr=1)", RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_GRU, 9, 33, 0, 2, 8, 5, 1, 1, 0, 0, NULL},
        {"pytorch rnn_tanh", RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_RNN_TANH, 6, 70, 0, 1, 10, 2, 0, 0, 0, 0, NULL},
        {"pytorch rnn_relu bidir", RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_RNN_RELU, 5, 17, 0, 2, 6, 3, 1, 0, 0, 0, NULL},
        {"onnx gru lbr=0", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_GRU, 8, 29, 0, 1, 7, 3, 0, 0, 0, 0, NULL},
        {"onnx gru lbr=0 bidir clip", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_GRU, 8, 16, 0, 1, 5, 2, 1, 0, 0, 1, NULL},
        {"onnx lstm peepholes bidir", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_LSTM, 7, 21, 0, 1, 6, 3, 1, 0, 1, 0, NULL},
        {"onnx rnn tanh clip", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_RNN_TANH, 4, 9, 0, 1, 5, 1, 0, 0, 0, 1, NULL},
        /* Non-default activations: the NEON steps apply them (rk_act_f32x4). */
        {"onnx lstm HardSigmoid,Softsign,Elu bidir", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_LSTM, 7, 19, 0, 1, 6, 3, 1, 0, 1, 0,
         "HardSigmoid,Softsign,Elu,Sigmoid,Softplus,ScaledTanh"},
        {"onnx gru HardSigmoid,Softplus clip", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_GRU, 8, 21, 0, 1, 7, 3, 0, 0, 0, 1,
         "HardSigmoid,Softplus"},
        {"onnx rnn LeakyRelu", RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_RNN_TANH, 5, 13, 0, 1, 6, 2, 0, 0, 0, 0,
         "LeakyRelu"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) run_e2e(&specs[i]);
}

int main(void) {
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    signal(SIGSEGV, on_segv);
    int nk = run_kernels();
    CHECK(nk > 0, "no NEON kernels in simd/kernels.inc");
    run_split();
    run_e2e_all();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
