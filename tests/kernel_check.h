/*
 * Checking logic shared by the kernel tests: tests/test_kernels.c and
 * tests/test_activations.c (Criterion, native kernels through the
 * library) and tests/simde/test_avx512_emulated.c (plain main(), the
 * AVX-512 kernels under SIMDe emulation, linked without librnnkit). Each
 * keeps its own runner; everything here is a static function that takes
 * the kernel (and its scalar twin) as function pointers and returns its
 * number of failing cases, describing each on the logger.
 *
 * Logging: define KC_LOGGER (failures) and KC_NOTE (information) to a
 * void f(const char *line) before including; both default to a line on
 * stderr. Nothing here needs librnnkit: only the kernels of
 * simd/kernels.inc (the scalar ones are the reference) and libm.
 *
 * gemm / fused steps vs the scalar twin (weights packed with the ISA's
 * row_block): h, k over 1..70 sampled plus large shapes, every cell
 * option (clip, peepholes, input_forget, lbr 0/1, b_hn), unit
 * sub-ranges; pointers at odd float offsets (1 or 3), row strides with
 * gaps, outputs and gaps pre-filled with a NaN sentinel, guard zones
 * after every buffer (and the floats before it) that must stay untouched,
 * inputs never written. Tolerance: 1e-5*sqrt(k) absolute (float sums of
 * k products in [-1, 1] in another order) + 1e-6 relative + 2e-6 (the
 * activations' bounds, a few ULP of values <= 1, through at most two
 * activations). A kc_profile picks the batch sizes and the optional
 * extras (bitwise split calls, extra shapes, saturating inputs).
 *
 * Bitwise split invariance (every profile, after the grids above):
 * kc_run_split_gemm / kc_run_split_steps, for K, H in {1, 3, 17, 33, 67}
 * and every batch n = 1..9, one call over all rows and units against each
 * row alone, unit ranges split at several multiples of nr, both combined
 * and (GRU lbr=0) gru_pass 1 then 2 per range; memcmp of the outputs. The
 * results of a step must not depend on how the driver's threads split
 * rows and units (one fixed FMA chain over k per element).
 *
 * act kernels (every ONNX activation kind) vs the scalar formulas in
 * double: kc_check_act_kinds, at the end of this file.
 *
 * exp / sigmoid / tanh vs libm in double, bounds of simd/x86/vmath.h for
 * x86 ISAs (1.5 / 2.5 / 2.5 ULP; others 4 ULP). ULP = float spacing at the
 * exact result (2^-149 below FLT_MIN). Every 509th bit pattern (and every
 * 97th with kc_profile.dense_sweep), |x| in [0.5, 1) and [0.125, 0.25)
 * every 7th float (around the switch of tanh's expm1(2|x|) from n = 0 to
 * 1 at 0.173, x86 and NEON; until session 18 NEON tanh switched branches
 * at 0.625), the saturation /
 * underflow zones [80, 110] every 3rd, denormals every 4099th; special values bitwise (NaN: quiet)
 * in a 3-lane tail and over a full vector plus a one-lane tail; lengths
 * 1..70 at odd offsets with guards, in place, and each element bitwise
 * equal whatever its lane (vector body or masked tail).
 */
#ifndef RNNKIT_TESTS_KERNEL_CHECK_H
#define RNNKIT_TESTS_KERNEL_CHECK_H

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/kernels.h"

#define KC_UNUSED __attribute__((unused))
#ifdef _OPENMP
#define KC_OMP(x) _Pragma(#x)
#else
#define KC_OMP(x)
#endif
#define KC_GUARD 32
#define KC_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ------------------------------------------------------------ logging */

typedef void kc_logger_fn(const char *line);
KC_UNUSED static void kc_log_stderr(const char *line) { fprintf(stderr, "%s\n", line); }
#ifndef KC_LOGGER
#define KC_LOGGER kc_log_stderr
#endif
#ifndef KC_NOTE
#define KC_NOTE kc_log_stderr
#endif

__attribute__((format(printf, 2, 3))) KC_UNUSED static void kc_say(kc_logger_fn *to,
                                                                    const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    to(line);
}
#define kc_fail(...) kc_say(KC_LOGGER, __VA_ARGS__)
#define kc_note(...) kc_say(KC_NOTE, __VA_ARGS__)

/* ---------------------------------------------------- the kernel list */

typedef struct {
    const char *isa;
    int nr;
} kc_isa;
KC_UNUSED static const kc_isa kc_isas[] = {
#define RNNKIT_ISA(i, nr) {#i, nr},
#include "simd/kernels.inc"
#undef RNNKIT_ISA
};

/* One line of simd/kernels.inc; type "gemm", "step", "unary", "act" or
 * "pack_gates" and the matching pointer (the others NULL). */
typedef struct {
    const char *isa, *field, *type;
    rnnkit_gemm_fn *gemm;
    rnnkit_step_fn *step;
    rnnkit_unary_fn *unary;
    rnnkit_act_fn *act;
    rnnkit_pack_gates_fn *pack;
} kc_kernel;
#define KC_K_gemm(i, f) {#i, #f, "gemm", rnnkit_f32_##f##__##i, NULL, NULL, NULL, NULL},
#define KC_K_step(i, f) {#i, #f, "step", NULL, rnnkit_f32_##f##__##i, NULL, NULL, NULL},
#define KC_K_unary(i, f) {#i, #f, "unary", NULL, NULL, rnnkit_f32_##f##__##i, NULL, NULL},
#define KC_K_act(i, f) {#i, #f, "act", NULL, NULL, NULL, rnnkit_f32_##f##__##i, NULL},
#define KC_K_pack_gates(i, f) {#i, #f, "pack_gates", NULL, NULL, NULL, NULL, rnnkit_f32_##f##__##i},
#define RNNKIT_KERNEL(i, f, t) KC_K_##t(i, f)
KC_UNUSED static const kc_kernel kc_kernels[] = {
#include "simd/kernels.inc"
};
#undef RNNKIT_KERNEL
#undef KC_K_gemm
#undef KC_K_step
#undef KC_K_unary
#undef KC_K_act
#undef KC_K_pack_gates

/* The ISA's packer of the gemm's weights (pack_input): its own line of
 * simd/kernels.inc, else the scalar one (a table starts as the scalar
 * table). */
KC_UNUSED static rnnkit_pack_gates_fn *kc_pack_input_of(const char *isa) {
    rnnkit_pack_gates_fn *fn = rnnkit_f32_pack_input__scalar;
    for (int i = 0; i < KC_LEN(kc_kernels); i++)
        if (!strcmp(kc_kernels[i].isa, isa) && !strcmp(kc_kernels[i].field, "pack_input"))
            fn = kc_kernels[i].pack;
    return fn;
}

KC_UNUSED static int kc_isa_nr(const char *isa) {
    for (int i = 0; i < KC_LEN(kc_isas); i++)
        if (!strcmp(kc_isas[i].isa, isa)) return kc_isas[i].nr;
    return 0;
}

KC_UNUSED static const kc_kernel *kc_scalar_twin(const char *field) {
    for (int i = 0; i < KC_LEN(kc_kernels); i++)
        if (!strcmp(kc_kernels[i].isa, "scalar") && !strcmp(kc_kernels[i].field, field))
            return &kc_kernels[i];
    return NULL;
}

/* ------------------------------------------------------------ helpers */

KC_UNUSED static uint64_t kc_rng = 0x9E3779B97F4A7C15ull; /* fixed seed */
KC_UNUSED static float kc_frand(float lo, float hi) {
    kc_rng = kc_rng * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((kc_rng >> 40) & 0xFFFFFF) / 16777216.0f;
}

KC_UNUSED static float kc_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
KC_UNUSED static uint32_t kc_bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
KC_UNUSED static float kc_sentinel(void) { return kc_from_bits(0x7fc0deadu); }
KC_UNUSED static int kc_is_sentinel(float f) { return kc_bits_of(f) == 0x7fc0deadu; }
KC_UNUSED static int kc_same_bits(float a, float b) { return kc_bits_of(a) == kc_bits_of(b); }

KC_UNUSED static void *kc_malloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "kernel_check: out of memory\n");
        exit(2);
    }
    return p;
}

/* n floats at an odd offset (1 or 3 floats past the allocation), a guard
 * zone after; everything starts as the NaN sentinel. */
typedef struct {
    float *base, *p;
    size_t n, off;
} kc_buf;
KC_UNUSED static int kc_buf_salt;
KC_UNUSED static kc_buf kc_buf_new(size_t n, int fill_random, float lo, float hi) {
    kc_buf b;
    b.n = n;
    b.off = (kc_buf_salt++ & 1) ? 3 : 1;
    b.base = kc_malloc((n + b.off + KC_GUARD) * sizeof(float));
    b.p = b.base + b.off;
    for (size_t i = 0; i < n + b.off + KC_GUARD; i++) b.base[i] = kc_sentinel();
    if (fill_random)
        for (size_t i = 0; i < n; i++) b.p[i] = kc_frand(lo, hi);
    return b;
}
KC_UNUSED static int kc_guard_ok(const kc_buf *b) {
    for (size_t i = 0; i < KC_GUARD; i++)
        if (!kc_is_sentinel(b->p[b->n + i])) return 0;
    for (size_t i = 0; i < b->off; i++)
        if (!kc_is_sentinel(b->base[i])) return 0;
    return 1;
}
KC_UNUSED static void kc_buf_free(kc_buf *b) { free(b->base); }

KC_UNUSED static float kc_tol(int64_t k, float ref) {
    return 1e-5f * sqrtf((float)k) + 1e-6f * fabsf(ref) + 2e-6f;
}

/* What a runner checks beyond the common core. */
typedef struct {
    const int64_t *ns; /* batch sizes cycled over the h x k grid */
    int n_ns;
    int split_calls;  /* also one row per call (gemm, steps) and per unit block over two
                         row subsets (steps), bitwise equal to the one call */
    int extra_shapes; /* gemm 25x2x100x17; steps: a middle unit block per option set */
    int saturate;     /* steps: every 5th pre-activation of row 2 scaled by 40 */
    int dense_sweep;  /* activations: also every 97th bit pattern */
} kc_profile;

/* Worst |kernel - scalar| / tolerance seen (in tolerance only). */
KC_UNUSED static double kc_worst_gemm_ratio, kc_worst_step_ratio;

KC_UNUSED static const int64_t kc_hs[] = {1,  2,  3,  5,  7,  8,  9,  15, 16,
                                          17, 24, 31, 32, 33, 47, 48, 64, 70};
KC_UNUSED static const int64_t kc_ks[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 33, 64, 70};

/* ---------------------------------------------------------------- gemm */

/* A gemm's inputs: A (m rows of k, row stride lda), random weights
 * packed by the ISA's pack_input (packed, for the ISA's gemm) and by the
 * scalar packer (packed_ref, for the scalar reference), bias; w is kept
 * for its guard zone. Each packed buffer is exactly the packer's size, so
 * a packer or gemm that goes past it hits the guard zone. */
typedef struct {
    kc_buf a, w, bias, packed, packed_ref;
} kc_gemm_in;

KC_UNUSED static kc_gemm_in kc_gemm_in_new(const char *isa, int nr, int64_t m, int64_t g,
                                           int64_t h, int64_t k, int64_t lda) {
    kc_gemm_in in;
    in.a = kc_buf_new((size_t)(m * lda), 1, -1, 1);
    in.w = kc_buf_new((size_t)(g * h * k), 1, -1, 1);
    in.bias = kc_buf_new((size_t)(g * h), 1, -1, 1);
    in.packed = kc_buf_new(rnnkit_input_packed_floats(nr, g, h, k), 0, 0, 0);
    in.packed_ref = kc_buf_new(rnnkit_packed_floats(nr, g, h, k), 0, 0, 0);
    kc_pack_input_of(isa)(nr, g, h, k, in.w.p, in.packed.p);
    rnnkit_f32_pack_gates__scalar(nr, g, h, k, in.w.p, in.packed_ref.p);
    return in;
}

KC_UNUSED static void kc_gemm_in_free(kc_gemm_in *in) {
    kc_buf_free(&in->a), kc_buf_free(&in->w), kc_buf_free(&in->bias), kc_buf_free(&in->packed);
    kc_buf_free(&in->packed_ref);
}

KC_UNUSED static int kc_check_gemm(const char *isa, rnnkit_gemm_fn *fn, int nr,
                                   const kc_profile *p, int64_t m, int64_t g, int64_t h,
                                   int64_t k) {
    int64_t lda = k + 3, ldc = g * h + 2;
    kc_gemm_in in = kc_gemm_in_new(isa, nr, m, g, h, k, lda);
    kc_buf a = in.a, bias = in.bias, packed = in.packed;
    kc_buf c = kc_buf_new((size_t)(m * ldc), 0, 0, 0);
    kc_buf crow = kc_buf_new((size_t)(m * ldc), 0, 0, 0);
    kc_buf cref = kc_buf_new((size_t)(m * ldc), 0, 0, 0);
    int fails = 0;
    for (int use_bias = 0; use_bias < 2 && !fails; use_bias++) {
        const float *bp = use_bias ? bias.p : NULL;
        fn(nr, m, g, h, h, k, a.p, lda, packed.p, bp, c.p, ldc);
        if (p->split_calls)
            for (int64_t i = 0; i < m; i++) /* one row per call */
                fn(nr, 1, g, h, h, k, a.p + i * lda, lda, packed.p, bp, crow.p + i * ldc, ldc);
        rnnkit_f32_gemm__scalar(nr, m, g, h, h, k, a.p, lda, in.packed_ref.p, bp, cref.p, ldc);
        for (int64_t i = 0; i < m && !fails; i++)
            for (int64_t col = 0; col < ldc && !fails; col++) {
                float y = c.p[i * ldc + col], r = cref.p[i * ldc + col];
                float y1 = p->split_calls ? crow.p[i * ldc + col] : y;
                int ok, split_ok = kc_same_bits(y, y1);
                if (col < g * h) {
                    double ratio = fabsf(y - r) / kc_tol(k, r);
                    ok = ratio <= 1.0;
                    if (ok && ratio > kc_worst_gemm_ratio) kc_worst_gemm_ratio = ratio;
                } else {
                    ok = kc_is_sentinel(y);
                }
                if (!ok || !split_ok) {
                    kc_fail("  %s gemm m=%ld g=%ld h=%ld k=%ld bias=%d: C[%ld][%ld] = %.9g, "
                            "scalar %.9g, same row alone %.9g (%s)",
                            isa, (long)m, (long)g, (long)h, (long)k, use_bias, (long)i,
                            (long)col, y, r, y1,
                            !ok ? (col < g * h ? "out of tolerance" : "gap column written")
                                : "not bitwise equal to the one-row call");
                    fails++;
                }
            }
        if (!kc_guard_ok(&c) || !kc_guard_ok(&crow) || !kc_guard_ok(&a) ||
            !kc_guard_ok(&packed) || !kc_guard_ok(&in.packed_ref) || !kc_guard_ok(&bias)) {
            kc_fail("  %s gemm m=%ld g=%ld h=%ld k=%ld: guard zone overwritten", isa, (long)m,
                    (long)g, (long)h, (long)k);
            fails++;
        }
    }
    kc_gemm_in_free(&in);
    kc_buf_free(&c), kc_buf_free(&crow), kc_buf_free(&cref);
    return fails;
}

/* ----------------------------------------- bitwise split invariance */
/*
 * The driver splits a step among threads by batch rows and by unit ranges
 * at multiples of nr (GRU lbr=0: pass 1 of every range, a barrier, then
 * pass 2), and the input projection by gemm rows. Results must not depend
 * on the thread count, so each output element must be BITWISE the same
 * whatever rows or units share its call: one fixed FMA chain over k, not
 * one that depends on the tile a row lands in (a kernel that spreads k
 * over several accumulators for leftover rows fails here). Grid: K, H in
 * kc_split_sizes, every batch n = 1..KC_SPLIT_MAXN; one call over all
 * rows and units against each row alone (n = 1, pointers offset to the
 * row), unit ranges split at several multiples of nr, and both combined;
 * memcmp of the whole output (h_out and c_out with their gaps). Steps:
 * every cell variant of kc_split_variants; gemm: g 1..4, rows alone (and
 * for g = 1 unit ranges). Only the kernel itself is involved (no scalar
 * reference), so this runs for every ISA, scalar included.
 */

KC_UNUSED static const int64_t kc_split_sizes[] = {1, 3, 17, 33, 67};
#define KC_SPLIT_MAXN 9
#define KC_SPLIT_MAXPARTS 72 /* ranges of one split: at most 67 units */
#define KC_SPLIT_MAXLOG 10   /* failing cases described per kernel */

/* Unit ranges at multiples of nr covering [0, h): how 0 = one range,
 * 1 = one block per range, 2 = 1 block, 2 blocks, the rest, 3 = 3 blocks,
 * the rest. Returns the number of ranges. */
KC_UNUSED static int kc_unit_split(int64_t h, int nr, int how, int64_t *jb, int64_t *je) {
    int parts = 0;
    for (int64_t j = 0; j < h && parts < KC_SPLIT_MAXPARTS; parts++) {
        int64_t blocks = how == 1 ? 1 : how == 2 ? (parts == 0 ? 1 : parts == 1 ? 2 : h)
                         : how == 3              ? (parts == 0 ? 3 : h)
                                                 : h;
        int64_t j1 = j + blocks * nr < h ? j + blocks * nr : h;
        jb[parts] = j, je[parts] = j1;
        j = j1;
    }
    return parts;
}

/* Row ranges covering [0, n): how 0 = one range, 1 = one row per range. */
KC_UNUSED static int kc_row_split(int64_t n, int how, int64_t *rb, int64_t *re) {
    if (!how) {
        rb[0] = 0, re[0] = n;
        return 1;
    }
    for (int64_t i = 0; i < n; i++) rb[i] = i, re[i] = i + 1;
    return (int)n;
}

/* Index of the first float where a and b differ bitwise, or -1. */
KC_UNUSED static int64_t kc_first_diff(const float *a, const float *b, int64_t n) {
    if (!memcmp(a, b, (size_t)n * sizeof(float))) return -1;
    for (int64_t i = 0; i < n; i++)
        if (!kc_same_bits(a[i], b[i])) return i;
    return -1;
}

/* One gemm shape: all m rows in one call vs each row alone, and vs unit
 * ranges (gate stride h), every row at once. Returns 1 if any split
 * differs. */
KC_UNUSED static int kc_split_gemm_case(const char *isa, rnnkit_gemm_fn *fn, int nr, int64_t m,
                                        int64_t g, int64_t h, int64_t k, int *logged) {
    int64_t lda = k + 1, ldc = g * h + 1;
    kc_gemm_in in = kc_gemm_in_new(isa, nr, m, g, h, k, lda);
    kc_buf a = in.a, bias = in.bias, packed = in.packed;
    kc_buf c0 = kc_buf_new((size_t)(m * ldc), 0, 0, 0);
    kc_buf c1 = kc_buf_new((size_t)(m * ldc), 0, 0, 0);
    fn(nr, m, g, h, h, k, a.p, lda, packed.p, bias.p, c0.p, ldc);
    int fail = 0;
    int64_t jb[KC_SPLIT_MAXPARTS], je[KC_SPLIT_MAXPARTS];
    /* split 0: rows alone; 1..3: unit ranges kc_unit_split(how = split). */
    for (int split = 0; split < 4 && !fail; split++) {
        for (size_t i = 0; i < c1.n; i++) c1.p[i] = kc_sentinel();
        if (split == 0) {
            for (int64_t i = 0; i < m; i++)
                fn(nr, 1, g, h, h, k, a.p + i * lda, lda, packed.p, bias.p, c1.p + i * ldc, ldc);
        } else {
            /* Ranges of whole blocks, whole block pairs for g = 3 (the
             * AVX2 column-pair layout, simd/kernels.h rnnkit_gemm_fn);
             * gate stride h. */
            const int unit = g == 3 ? 2 * nr : nr;
            int parts = kc_unit_split(h, unit, split, jb, je);
            for (int u = 0; u < parts; u++)
                fn(nr, m, g, je[u] - jb[u], h, k, a.p, lda,
                   packed.p + (size_t)(jb[u] / nr) * (size_t)(k * nr * g), bias.p + jb[u],
                   c1.p + jb[u], ldc);
        }
        int64_t d = kc_first_diff(c0.p, c1.p, m * ldc);
        if (d >= 0) {
            fail = 1;
            if ((*logged)++ < KC_SPLIT_MAXLOG)
                kc_fail("  %s gemm m=%ld g=%ld h=%ld k=%ld: C[%ld][%ld] = %.9g in one call, "
                        "%.9g %s (must be bitwise equal)",
                        isa, (long)m, (long)g, (long)h, (long)k, (long)(d / ldc),
                        (long)(d % ldc), c0.p[d], c1.p[d],
                        split ? "with the units split" : "with the row alone");
        }
    }
    if (!kc_guard_ok(&c0) || !kc_guard_ok(&c1)) {
        if ((*logged)++ < KC_SPLIT_MAXLOG)
            kc_fail("  %s gemm m=%ld g=%ld h=%ld k=%ld: guard zone overwritten (split calls)",
                    isa, (long)m, (long)g, (long)h, (long)k);
        fail = 1;
    }
    kc_gemm_in_free(&in);
    kc_buf_free(&c0), kc_buf_free(&c1);
    return fail;
}

/* The gemm split grid; returns the number of failing cases. */
KC_UNUSED static int kc_run_split_gemm(const char *isa, rnnkit_gemm_fn *fn, int nr) {
    int fails = 0, cases = 0, logged = 0;
    for (int64_t g = 1; g <= 4; g++)
        for (int hi = 0; hi < KC_LEN(kc_split_sizes); hi++)
            for (int ki = 0; ki < KC_LEN(kc_split_sizes); ki++)
                for (int64_t m = 1; m <= KC_SPLIT_MAXN; m++, cases++)
                    fails += kc_split_gemm_case(isa, fn, nr, m, g, kc_split_sizes[hi],
                                                kc_split_sizes[ki], &logged);
    /* k past one x86 k block (256), several column blocks. */
    fails += kc_split_gemm_case(isa, fn, nr, 7, 3, 70, 600, &logged);
    fails += kc_split_gemm_case(isa, fn, nr, 5, 1, 300, 520, &logged);
    cases += 2;
    if (fails)
        kc_fail("  %s gemm: %d of %d shapes depend on how rows or units are split", isa, fails,
                cases);
    return fails;
}

/* The gemm grid: g 1..4 x every 3rd (h, k), then large shapes. */
KC_UNUSED static int kc_run_gemm(const char *isa, rnnkit_gemm_fn *fn, int nr,
                                 const kc_profile *p) {
    int fails = 0, idx = 0;
    for (int64_t g = 1; g <= 4; g++)
        for (int hi = 0; hi < KC_LEN(kc_hs); hi++)
            for (int ki = 0; ki < KC_LEN(kc_ks); ki++, idx++) {
                if (idx % 3) continue; /* subsample the h x k grid */
                int64_t m = p->ns[(idx / 3) % p->n_ns];
                fails += kc_check_gemm(isa, fn, nr, p, m, g, kc_hs[hi], kc_ks[ki]);
                if (fails > 5) return fails;
            }
    fails += kc_check_gemm(isa, fn, nr, p, 13, 4, 256, 256);
    fails += kc_check_gemm(isa, fn, nr, p, 17, 1, 1000, 70);
    fails += kc_check_gemm(isa, fn, nr, p, 2, 3, 70, 1000);
    fails += kc_check_gemm(isa, fn, nr, p, 64, 4, 64, 33);
    /* Several row panels (x86: 64 tiles), k blocks (256) and column
     * blocks, with a tail block (simd/x86/gemm-body.h). */
    fails += kc_check_gemm(isa, fn, nr, p, 790, 2, 150, 520);
    if (p->extra_shapes) fails += kc_check_gemm(isa, fn, nr, p, 25, 2, 100, 17);
    fails += kc_run_split_gemm(isa, fn, nr);
    return fails;
}

/* --------------------------------------------------------------- steps */

typedef struct {
    int peep, input_forget, lbr, bhn;
    float clip;
    int64_t jb, je;
    const rnnkit_act *act; /* NULL: the cell's standard activations */
} kc_step_opts;

KC_UNUSED static int kc_gates_of(const char *field) {
    if (!strcmp(field, "lstm_step")) return 4;
    if (!strcmp(field, "gru_step")) return 3;
    return 1;
}

typedef struct {
    kc_buf ho, co, sc;
} kc_step_out;

typedef struct {
    kc_buf w, wn, xp, hp, cp, peep, bhn;
    int64_t H, K, ld_xp, ld_hp, ld_ho;
} kc_step_in;

/* The arguments of rows [r0, r1) x units [jb, je) of one step into out
 * (full-size buffers: the call writes its part; scratch rows r0.. of
 * out->sc); cell options left at zero. */
KC_UNUSED static rnnkit_step_args kc_step_args(int nr, const kc_step_in *in, int64_t r0,
                                               int64_t r1, int64_t jb, int64_t je,
                                               kc_step_out *out) {
    rnnkit_step_args a;
    memset(&a, 0, sizeof a);
    a.nr = nr, a.n = r1 - r0, a.h = in->H, a.k = in->K, a.j_begin = jb, a.j_end = je;
    a.w = in->w.p, a.w_n = in->wn.p, a.xp = in->xp.p + r0 * in->ld_xp, a.ld_xp = in->ld_xp;
    a.h_prev = in->hp.p + r0 * in->ld_hp, a.ld_h_prev = in->ld_hp;
    a.c_prev = in->cp.p + r0 * in->H;
    a.h_out = out->ho.p + r0 * in->ld_ho, a.ld_h_out = in->ld_ho;
    a.c_out = out->co.p + r0 * in->H;
    a.default_act = 1, a.scratch = out->sc.p + r0 * in->K;
    return a;
}

/* Rows [r0, r1) x units [jb, je) of one step with options o. */
KC_UNUSED static void kc_run_one(rnnkit_step_fn *fn, int nr, const kc_step_in *in,
                                 const kc_step_opts *o, int64_t r0, int64_t r1, int64_t jb,
                                 int64_t je, kc_step_out *out) {
    rnnkit_step_args a = kc_step_args(nr, in, r0, r1, jb, je, out);
    a.b_hn = o->bhn ? in->bhn.p : NULL, a.peep = o->peep ? in->peep.p : NULL;
    a.clip = o->clip, a.input_forget = o->input_forget, a.linear_before_reset = o->lbr;
    if (o->act) a.default_act = 0, a.act = o->act;
    fn(&a);
}

/* fn (field) vs ref, its scalar twin, on n rows x [o->jb, o->je). */
KC_UNUSED static int kc_check_step(const char *isa, const char *field, rnnkit_step_fn *fn,
                                   rnnkit_step_fn *ref, int nr, const kc_profile *p, int64_t n,
                                   int64_t H, int64_t K, const kc_step_opts *o) {
    const int is_gru = !strcmp(field, "gru_step"), is_lstm = !strcmp(field, "lstm_step");
    const int G = kc_gates_of(field);
    const int Gw = is_gru ? 2 : G; /* gates in the packed w */
    kc_step_in in;
    in.H = H, in.K = K, in.ld_xp = G * H + 3, in.ld_hp = K + 2, in.ld_ho = H + 2;
    const int64_t ld_ho = in.ld_ho;
    kc_buf wraw = kc_buf_new((size_t)(Gw * H * K), 1, -0.5f, 0.5f);
    kc_buf wnraw = kc_buf_new((size_t)(H * K), 1, -0.5f, 0.5f);
    in.w = kc_buf_new(rnnkit_packed_floats(nr, Gw, H, K), 0, 0, 0);
    in.wn = kc_buf_new(rnnkit_packed_floats(nr, 1, H, K), 0, 0, 0);
    in.xp = kc_buf_new((size_t)(n * in.ld_xp), 1, -3, 3);
    in.hp = kc_buf_new((size_t)(n * in.ld_hp), 1, -1, 1);
    in.cp = kc_buf_new((size_t)(n * H), 1, -2, 2);
    in.peep = kc_buf_new((size_t)(3 * H), 1, -1, 1);
    in.bhn = kc_buf_new((size_t)H, 1, -1, 1);
    /* Large pre-activations now and then: saturation through the steps. */
    if (p->saturate && n > 2)
        for (int64_t j = 0; j < G * H; j += 5) in.xp.p[2 * in.ld_xp + j] *= 40.0f;
    /* 0: kernel, 1: scalar; split_calls: 2: kernel per row, 3: kernel per
     * unit block (rows split in two calls) */
    enum { NV = 4 };
    const int nv = p->split_calls ? 4 : 2;
    kc_step_out out[NV];
    for (int v = 0; v < nv; v++) {
        out[v].ho = kc_buf_new((size_t)(n * ld_ho), 0, 0, 0);
        out[v].co = kc_buf_new((size_t)(n * H), 0, 0, 0);
        out[v].sc = kc_buf_new((size_t)(n * K), 0, 0, 0);
    }
    rnnkit_f32_pack_gates__scalar(nr, Gw, H, K, wraw.p, in.w.p);
    rnnkit_f32_pack_gates__scalar(nr, 1, H, K, wnraw.p, in.wn.p);
    const int unit_split = !(is_gru && !o->lbr);
    kc_run_one(fn, nr, &in, o, 0, n, o->jb, o->je, &out[0]);
    kc_run_one(ref, nr, &in, o, 0, n, o->jb, o->je, &out[1]);
    if (p->split_calls) {
        for (int64_t r = 0; r < n; r++) kc_run_one(fn, nr, &in, o, r, r + 1, o->jb, o->je, &out[2]);
        int64_t rs = n / 2 + (n > 3 ? 1 : 0);
        for (int half = 0; half < 2; half++) {
            int64_t r0 = half ? rs : 0, r1 = half ? n : rs;
            if (r0 >= r1) continue;
            if (unit_split) {
                for (int64_t jb = o->jb; jb < o->je; jb += nr)
                    kc_run_one(fn, nr, &in, o, r0, r1, jb, jb + nr < o->je ? jb + nr : o->je,
                               &out[3]);
            } else {
                kc_run_one(fn, nr, &in, o, r0, r1, o->jb, o->je, &out[3]);
            }
        }
    }
    int fails = 0;
    char what[256];
    snprintf(what, sizeof what,
             "%s %s n=%ld H=%ld K=%ld j=[%ld,%ld) peep=%d if=%d lbr=%d bhn=%d clip=%g "
             "act=%d,%d,%d", isa, field, (long)n, (long)H, (long)K, (long)o->jb, (long)o->je,
             o->peep, o->input_forget, o->lbr, o->bhn, (double)o->clip,
             o->act ? o->act[0].kind : -1, o->act ? o->act[1].kind : -1,
             o->act ? o->act[2].kind : -1);
    for (int64_t r = 0; r < n && fails < 3; r++)
        for (int64_t j = 0; j < ld_ho && fails < 3; j++) {
            int inr = j >= o->jb && j < o->je;
            for (int which = 0; which < (is_lstm ? 2 : 1); which++) {
                if (which == 1 && j >= H) break;
                const int64_t at = which ? r * H + j : r * ld_ho + j;
                const kc_buf *b[NV];
                for (int v = 0; v < NV; v++) b[v] = which ? &out[v < nv ? v : 0].co
                                                          : &out[v < nv ? v : 0].ho;
                float y = b[0]->p[at], yr = b[1]->p[at], y2 = b[2]->p[at], y3 = b[3]->p[at];
                const char *why = NULL;
                if (inr) {
                    double ratio = fabsf(y - yr) / kc_tol(K, yr);
                    if (!(ratio <= 1.0)) why = "out of tolerance";
                    else if (ratio > kc_worst_step_ratio) kc_worst_step_ratio = ratio;
                    if (!why && !kc_same_bits(y, y2)) why = "not bitwise equal to the one-row call";
                    if (!why && !kc_same_bits(y, y3))
                        why = unit_split ? "not bitwise equal to per-unit-block calls"
                                         : "not bitwise equal to the split-rows calls";
                } else if (!kc_is_sentinel(y) || !kc_is_sentinel(y2) || !kc_is_sentinel(y3)) {
                    why = "written outside [j_begin, j_end) or in a row-stride gap";
                }
                if (why) {
                    kc_fail("  %s: %s row %ld unit %ld: %.9g vs scalar %.9g, one-row call "
                            "%.9g, split call %.9g: %s",
                            what, which ? "c" : "h", (long)r, (long)j, y, yr, y2, y3, why);
                    fails++;
                }
            }
        }
    for (int v = 0; v < nv; v++)
        if (!kc_guard_ok(&out[v].ho) || !kc_guard_ok(&out[v].co) || !kc_guard_ok(&out[v].sc)) {
            kc_fail("  %s: guard zone overwritten (%s)", what, v == 1 ? "scalar" : "kernel");
            fails++;
        }
    if (!is_lstm)
        for (int64_t i = 0; i < n * H; i++)
            if (!kc_is_sentinel(out[0].co.p[i])) {
                kc_fail("  %s: c_out written by a non-LSTM step", what);
                fails++;
                break;
            }
    if (!kc_guard_ok(&in.xp) || !kc_guard_ok(&in.hp) || !kc_guard_ok(&in.cp) ||
        !kc_guard_ok(&in.w) || !kc_guard_ok(&in.wn) || !kc_guard_ok(&in.peep) ||
        !kc_guard_ok(&in.bhn)) {
        kc_fail("  %s: an input buffer was written", what);
        fails++;
    }
    kc_buf_free(&wraw), kc_buf_free(&wnraw), kc_buf_free(&in.w), kc_buf_free(&in.wn);
    kc_buf_free(&in.xp), kc_buf_free(&in.hp), kc_buf_free(&in.cp), kc_buf_free(&in.peep);
    kc_buf_free(&in.bhn);
    for (int v = 0; v < nv; v++)
        kc_buf_free(&out[v].ho), kc_buf_free(&out[v].co), kc_buf_free(&out[v].sc);
    return fails;
}

/* Cell variants of the step split grid (bitwise split invariance, above
 * kc_run_split_gemm). passes: GRU lbr=0 split calls run gru_pass 1 over
 * every (row, unit) range, then gru_pass 2 over every range; otherwise
 * (gru_pass 0) GRU lbr=0 calls always cover every unit. */
typedef struct {
    const char *what;
    int peep, lbr, bhn, passes;
    float clip;
} kc_split_variant;

/* Rows [r0, r1) x units [jb, je) of one step of variant v, pass gru_pass. */
KC_UNUSED static void kc_split_call(rnnkit_step_fn *fn, int nr, const kc_step_in *in,
                                    const kc_split_variant *v, int gru_pass, int64_t r0,
                                    int64_t r1, int64_t jb, int64_t je, int rev,
                                    kc_step_out *out) {
    rnnkit_step_args a = kc_step_args(nr, in, r0, r1, jb, je, out);
    a.b_hn = v->bhn ? in->bhn.p : NULL, a.peep = v->peep ? in->peep.p : NULL;
    a.clip = v->clip, a.linear_before_reset = v->lbr, a.gru_pass = gru_pass;
    a.reverse = rev;
    fn(&a);
}

/* One step shape: one call over all n rows and units vs the splits below.
 * Returns 1 if any split differs. */
KC_UNUSED static int kc_split_step_case(const char *isa, const char *field, rnnkit_step_fn *fn,
                                        int nr, const kc_split_variant *v, int64_t n,
                                        int64_t H, int64_t K, int *logged) {
    const int is_gru = !strcmp(field, "gru_step"), is_lstm = !strcmp(field, "lstm_step");
    const int G = kc_gates_of(field), Gw = is_gru ? 2 : G;
    /* GRU lbr=0 with gru_pass 0 needs every unit in each call. */
    const int whole_units = is_gru && !v->lbr && !v->passes;
    const int passes = is_gru && !v->lbr && v->passes;
    kc_step_in in;
    in.H = H, in.K = K, in.ld_xp = G * H + 1, in.ld_hp = K + 2, in.ld_ho = H + 1;
    kc_buf wraw = kc_buf_new((size_t)(Gw * H * K), 1, -0.5f, 0.5f);
    kc_buf wnraw = kc_buf_new((size_t)(H * K), 1, -0.5f, 0.5f);
    in.w = kc_buf_new(rnnkit_packed_floats(nr, Gw, H, K), 0, 0, 0);
    in.wn = kc_buf_new(rnnkit_packed_floats(nr, 1, H, K), 0, 0, 0);
    rnnkit_f32_pack_gates__scalar(nr, Gw, H, K, wraw.p, in.w.p);
    rnnkit_f32_pack_gates__scalar(nr, 1, H, K, wnraw.p, in.wn.p);
    in.xp = kc_buf_new((size_t)(n * in.ld_xp), 1, -3, 3);
    in.hp = kc_buf_new((size_t)(n * in.ld_hp), 1, -1, 1);
    in.cp = kc_buf_new((size_t)(n * H), 1, -2, 2);
    in.peep = kc_buf_new((size_t)(3 * H), 1, -1, 1);
    in.bhn = kc_buf_new((size_t)H, 1, -1, 1);
    kc_step_out out[2];
    for (int i = 0; i < 2; i++) {
        out[i].ho = kc_buf_new((size_t)(n * in.ld_ho), 0, 0, 0);
        out[i].co = kc_buf_new((size_t)(n * H), 0, 0, 0);
        out[i].sc = kc_buf_new((size_t)(n * K), 0, 0, 0);
    }
    kc_split_call(fn, nr, &in, v, 0, 0, n, 0, H, 0, &out[0]);
    /* Splits: {rows how, units how, reverse} (kc_row_split, kc_unit_split;
     * reverse: the calls visit their units from j_end down, an order hint
     * that must not change a bit). {0, 0, 0} is the reference call
     * itself, except as two passes. */
    static const int splits[][3] = {{1, 0, 0}, {0, 1, 0}, {0, 2, 0}, {0, 3, 0}, {1, 2, 0},
                                    {0, 0, 0}, {0, 0, 1}, {1, 0, 1}, {0, 2, 1}};
    int fail = 0;
    int64_t rb[KC_SPLIT_MAXN], re[KC_SPLIT_MAXN], jb[KC_SPLIT_MAXPARTS], je[KC_SPLIT_MAXPARTS];
    for (int s = 0; s < KC_LEN(splits) && !fail; s++) {
        if (whole_units && splits[s][1]) continue;
        if (!passes && !splits[s][0] && !splits[s][1] && !splits[s][2]) continue;
        int nrow = kc_row_split(n, splits[s][0], rb, re);
        int nunit = kc_unit_split(H, nr, splits[s][1], jb, je);
        kc_step_out *o1 = &out[1];
        for (size_t i = 0; i < o1->ho.n; i++) o1->ho.p[i] = kc_sentinel();
        for (size_t i = 0; i < o1->co.n; i++) o1->co.p[i] = kc_sentinel();
        for (size_t i = 0; i < o1->sc.n; i++) o1->sc.p[i] = kc_sentinel();
        for (int pass = passes ? 1 : 0; pass <= (passes ? 2 : 0); pass++)
            for (int r = 0; r < nrow; r++)
                for (int u = 0; u < nunit; u++)
                    kc_split_call(fn, nr, &in, v, pass, rb[r], re[r], jb[u], je[u], splits[s][2], o1);
        int64_t dh = kc_first_diff(out[0].ho.p, o1->ho.p, (int64_t)o1->ho.n);
        int64_t dc = is_lstm ? kc_first_diff(out[0].co.p, o1->co.p, (int64_t)o1->co.n) : -1;
        if (dh >= 0 || dc >= 0) {
            fail = 1;
            int isc = dh < 0;
            int64_t d = isc ? dc : dh, ld = isc ? H : in.ld_ho;
            if ((*logged)++ < KC_SPLIT_MAXLOG)
                kc_fail("  %s %s (%s) n=%ld H=%ld K=%ld: %s[%ld][%ld] = %.9g in one call, "
                        "%.9g with %s%s%s%s (must be bitwise equal)",
                        isa, field, v->what, (long)n, (long)H, (long)K, isc ? "c" : "h",
                        (long)(d / ld), (long)(d % ld), isc ? out[0].co.p[d] : out[0].ho.p[d],
                        isc ? o1->co.p[d] : o1->ho.p[d],
                        splits[s][0] ? "each row alone" : "all rows",
                        splits[s][1] == 1   ? ", one unit block per call"
                        : splits[s][1] == 2 ? ", units split 1, 2, rest blocks"
                        : splits[s][1] == 3 ? ", units split 3, rest blocks"
                                            : "",
                        passes ? ", gru_pass 1 then 2" : "", splits[s][2] ? ", reverse order" : "");
        }
    }
    for (int i = 0; i < 2; i++)
        if (!kc_guard_ok(&out[i].ho) || !kc_guard_ok(&out[i].co) || !kc_guard_ok(&out[i].sc)) {
            if ((*logged)++ < KC_SPLIT_MAXLOG)
                kc_fail("  %s %s (%s) n=%ld H=%ld K=%ld: guard zone overwritten", isa, field,
                        v->what, (long)n, (long)H, (long)K);
            fail = 1;
        }
    kc_buf_free(&wraw), kc_buf_free(&wnraw), kc_buf_free(&in.w), kc_buf_free(&in.wn);
    kc_buf_free(&in.xp), kc_buf_free(&in.hp), kc_buf_free(&in.cp), kc_buf_free(&in.peep);
    kc_buf_free(&in.bhn);
    for (int i = 0; i < 2; i++)
        kc_buf_free(&out[i].ho), kc_buf_free(&out[i].co), kc_buf_free(&out[i].sc);
    return fail;
}

/* The step split grid of one kernel: its cell variants x H, K in
 * kc_split_sizes (GRU: K = H) x n = 1..KC_SPLIT_MAXN. Returns the number
 * of failing cases, with a count per variant on the logger. */
KC_UNUSED static int kc_run_split_steps(const char *isa, const char *field, rnnkit_step_fn *fn,
                                        int nr) {
    static const kc_split_variant rnn[] = {{"plain", 0, 0, 0, 0, 0.0f},
                                           {"clip", 0, 0, 0, 0, 0.5f}};
    static const kc_split_variant lstm[] = {{"no peepholes", 0, 0, 0, 0, 0.0f},
                                            {"peepholes, clip", 1, 0, 0, 0, 0.8f}};
    static const kc_split_variant gru[] = {{"lbr=1", 0, 1, 1, 0, 0.0f},
                                           {"lbr=0, gru_pass 0", 0, 0, 0, 0, 0.0f},
                                           {"lbr=0, gru_pass 1 then 2", 0, 0, 0, 1, 0.0f}};
    const int is_gru = !strcmp(field, "gru_step"), is_lstm = !strcmp(field, "lstm_step");
    const kc_split_variant *vs = is_gru ? gru : is_lstm ? lstm : rnn;
    const int nv = is_gru ? KC_LEN(gru) : is_lstm ? KC_LEN(lstm) : KC_LEN(rnn);
    int fails = 0, logged = 0;
    for (int vi = 0; vi < nv; vi++) {
        int vf = 0, cases = 0;
        for (int hi = 0; hi < KC_LEN(kc_split_sizes); hi++)
            for (int ki = 0; ki < KC_LEN(kc_split_sizes); ki++) {
                if (is_gru && ki != hi) continue; /* GRU: K = H */
                for (int64_t n = 1; n <= KC_SPLIT_MAXN; n++, cases++)
                    vf += kc_split_step_case(isa, field, fn, nr, &vs[vi], n, kc_split_sizes[hi],
                                             kc_split_sizes[ki], &logged);
            }
        if (vf)
            kc_fail("  %s %s (%s): %d of %d shapes depend on how rows or units are split", isa,
                    field, vs[vi].what, vf, cases);
        fails += vf;
    }
    return fails;
}

/* The step grid: every 2nd (h, k) with cycling options and sub-ranges,
 * every option set on shapes with a tail block, then large shapes. */
/* Activation set i of KC_ACT_SETS for the steps' f, g, h: over the sets
 * every ONNX kind (Softplus, 10, included) appears once in each position,
 * each with its own alpha and beta. */
#define KC_ACT_SETS 11
KC_UNUSED static void kc_act_set(int i, rnnkit_act act[3]) {
    for (int j = 0; j < 3; j++) {
        act[j].kind = (i + 3 * j) % KC_ACT_SETS;
        act[j].alpha = 0.4f + 0.1f * (float)((i + j) % 5);
        act[j].beta = 0.3f + 0.2f * (float)((i + 2 * j) % 3);
    }
}

KC_UNUSED static int kc_run_steps(const char *isa, const char *field, rnnkit_step_fn *fn,
                                  rnnkit_step_fn *ref, int nr, const kc_profile *p) {
    int is_gru = !strcmp(field, "gru_step"), is_lstm = !strcmp(field, "lstm_step");
    int fails = 0, idx = 0;
    for (int hi = 0; hi < KC_LEN(kc_hs); hi++)
        for (int ki = 0; ki < KC_LEN(kc_ks); ki++, idx++) {
            if (idx % 2) continue;
            int64_t H = kc_hs[hi], K = is_gru ? H : kc_ks[ki];
            int64_t n = p->ns[(idx / 2) % p->n_ns];
            int variant = (idx / 2) % 8;
            kc_step_opts o = {0, 0, 0, 0, 0.0f, 0, H, NULL};
            o.clip = (variant & 1) ? 0.7f : 0.0f;
            if (is_lstm) o.peep = (variant >> 1) & 1, o.input_forget = (variant >> 2) & 1;
            if (is_gru) o.lbr = (variant >> 1) & 1, o.bhn = (variant >> 2) & 1;
            /* sub-range: units [nr, H) or [0, nr) (GRU lbr=0 needs all) */
            if (H > nr && !(is_gru && !o.lbr)) {
                if (idx % 4 == 0) o.jb = nr;
                else o.je = nr;
            }
            fails += kc_check_step(isa, field, fn, ref, nr, p, n, H, K, &o);
            if (fails > 5) return fails;
        }
    /* Every option combination on shapes with a tail block. */
    for (int variant = 0; variant < 8; variant++) {
        kc_step_opts o = {0, 0, 0, 0, (variant & 1) ? 0.3f : 0.0f, 0, 2 * nr + 3, NULL};
        if (is_lstm) o.peep = (variant >> 1) & 1, o.input_forget = (variant >> 2) & 1;
        if (is_gru) o.lbr = (variant >> 1) & 1, o.bhn = (variant >> 2) & 1;
        fails += kc_check_step(isa, field, fn, ref, nr, p, 1 + variant, 2 * nr + 3,
                               is_gru ? 2 * nr + 3 : 37, &o);
        fails += kc_check_step(isa, field, fn, ref, nr, p, 17, 2 * nr + 3,
                               is_gru ? 2 * nr + 3 : 70, &o);
        if (p->extra_shapes && !(is_gru && !o.lbr)) { /* a middle block only */
            kc_step_opts m = o;
            m.jb = nr, m.je = 2 * nr;
            fails += kc_check_step(isa, field, fn, ref, nr, p, 9 + variant, 3 * nr + 1,
                                   is_gru ? 3 * nr + 1 : 19, &m);
        }
    }
    /* Non-default (ONNX) activations: the x86 steps run every kind
     * themselves (simd/x86/vmath.h rnnkit_vact); the NEON steps too,
     * checked the same way by tests/neon_runner.c. Each set puts every
     * kind in f (gates), g (candidate) and h (output) once, with its own
     * alpha and beta. */
    if (!strcmp(isa, "avx2") || !strcmp(isa, "avx512")) {
        for (int i = 0; i < KC_ACT_SETS; i++) {
            rnnkit_act act[3];
            kc_act_set(i, act);
            kc_step_opts o = {0, 0, 0, 0, (i & 1) ? 0.8f : 0.0f, 0, 2 * nr + 3, act};
            if (is_lstm) o.peep = (i >> 1) & 1, o.input_forget = i == 4;
            if (is_gru) o.lbr = (i >> 1) & 1, o.bhn = (i >> 2) & 1;
            fails += kc_check_step(isa, field, fn, ref, nr, p, 1 + i % 4, 2 * nr + 3,
                                   is_gru ? 2 * nr + 3 : 37, &o);
            fails += kc_check_step(isa, field, fn, ref, nr, p, 13, 2 * nr + 3,
                                   is_gru ? 2 * nr + 3 : 70, &o);
        }
    }
    kc_step_opts big = {1, 0, 1, 1, 0.0f, 0, 256, NULL};
    fails += kc_check_step(isa, field, fn, ref, nr, p, 17, 256, 256, &big);
    big.je = 1000;
    fails += kc_check_step(isa, field, fn, ref, nr, p, 2, 1000, is_gru ? 1000 : 70, &big);
    big.je = 70;
    big.lbr = 0;
    fails += kc_check_step(isa, field, fn, ref, nr, p, 5, 70, is_gru ? 70 : 1000, &big);
    /* Weights of 8 MiB and more (x86: the tiles prefetch the weight
     * streams, simd/x86/tile.h RNNKIT_PF_MIN_BYTES), batch 1 and 3, a
     * tail block. */
    {
        const int64_t H = is_gru ? 850 : 1030, K = is_gru ? 850 : is_lstm ? 520 : 2100;
        kc_step_opts o = {is_lstm, 0, 1, 1, 0.0f, 0, H, NULL};
        fails += kc_check_step(isa, field, fn, ref, nr, p, 1, H, K, &o);
        fails += kc_check_step(isa, field, fn, ref, nr, p, 3, H, K, &o);
    }
    fails += kc_run_split_steps(isa, field, fn, nr);
    return fails;
}

/* --------------------------------------------------------- activations */

/* Stated bounds in ULP (simd/x86/vmath.h); other ISAs the loosest. */
KC_UNUSED static double kc_bound_of(const char *isa, const char *f) {
    int x86 = !strcmp(isa, "avx2") || !strcmp(isa, "avx512");
    if (!x86) return 4.0;
    if (!strcmp(f, "exp")) return 1.5;
    return 2.5; /* sigmoid, tanh */
}

/* 0 exp, 1 sigmoid, 2 tanh: resolved once per sweep, not per float. */
KC_UNUSED static int kc_act_id(const char *f) {
    return !strcmp(f, "exp") ? 0 : !strcmp(f, "sigmoid") ? 1 : 2;
}
KC_UNUSED static double kc_ref_id(int id, double x) {
    return id == 0 ? exp(x) : id == 1 ? 1.0 / (1.0 + exp(-x)) : tanh(x);
}
KC_UNUSED static double kc_ref_act(const char *f, double x) { return kc_ref_id(kc_act_id(f), x); }

KC_UNUSED static double kc_ulp_of(double r) {
    double a = fabs(r);
    if (a < FLT_MIN) return ldexp(1.0, -149);
    if (a > FLT_MAX) a = FLT_MAX;
    int e;
    frexp(a, &e);
    return ldexp(1.0, e - 24);
}

/* Error in ULP of y against the double reference; NaN/inf must match. */
KC_UNUSED static double kc_err_ulp(float y, double r) {
    if (isnan(r)) return isnan(y) ? 0.0 : INFINITY;
    float rf = (float)r;
    if (isinf(rf)) return y == rf ? 0.0 : INFINITY;
    if (isnan(y) || isinf(y)) return INFINITY;
    return fabs((double)y - r) / kc_ulp_of(r);
}

#define KC_CHUNK 4096
/* fn over bit patterns start, start+step, ... < end (in parallel with
 * OpenMP); returns the worst error, at *worst_x. */
KC_UNUSED static double kc_sweep(const char *field, rnnkit_unary_fn *fn, uint64_t start,
                                 uint64_t end, uint64_t step, float *worst_x) {
    int64_t nchunks = (int64_t)((end - start + step * KC_CHUNK - 1) / (step * KC_CHUNK));
    double worst = 0.0;
    float wx = 0.0f;
    const int id = kc_act_id(field);
    KC_OMP(omp parallel)
    {
        double lw = 0.0;
        float lx = 0.0f;
        float xs[KC_CHUNK], ys[KC_CHUNK];
        KC_OMP(omp for schedule(dynamic, 16))
        for (int64_t c = 0; c < nchunks; c++) {
            int cnt = 0;
            for (int i = 0; i < KC_CHUNK; i++) {
                uint64_t u = start + ((uint64_t)c * KC_CHUNK + (uint64_t)i) * step;
                if (u >= end) break;
                xs[cnt++] = kc_from_bits((uint32_t)u);
            }
            fn(cnt, xs, ys);
            for (int i = 0; i < cnt; i++) {
                double er = kc_err_ulp(ys[i], kc_ref_id(id, xs[i]));
                if (!(er <= lw)) lw = er, lx = xs[i];
            }
        }
        KC_OMP(omp critical)
        if (!(lw <= worst)) worst = lw, wx = lx;
    }
    *worst_x = wx;
    return worst;
}

/* Sampled ranges against the stated bound. */
KC_UNUSED static int kc_check_unary_bounds(const char *isa, const char *field,
                                           rnnkit_unary_fn *fn, const kc_profile *p) {
    int fails = 0;
    double b = kc_bound_of(isa, field);
    struct {
        uint64_t start, end, step;
        int dense;
        const char *what;
    } ranges[] = {
        {0, 1ull << 32, 509, 0, "every 509th bit pattern"},
        {254, 1ull << 32, 97, 1, "every 97th bit pattern"},
        {0x3f000000u, 0x3f800000u, 7, 0, "[0.5, 1)"},
        {0xbf000000u, 0xbf800000u, 7, 0, "(-1, -0.5]"},
        {0x3e000000u, 0x3e800000u, 7, 0, "[0.125, 0.25)"},
        {0xbe000000u, 0xbe800000u, 7, 0, "(-0.25, -0.125]"},
        {0x42a00000u, 0x42dc0000u, 3, 0, "[80, 110]"},
        {0xc2a00000u, 0xc2dc0000u, 3, 0, "[-110, -80]"},
        {1, 0x00800000u, 4099, 0, "positive denormals"},
        {0x80000001u, 0x80800000u, 4099, 0, "negative denormals"},
    };
    double overall = 0.0;
    for (int r = 0; r < KC_LEN(ranges); r++) {
        if (ranges[r].dense && !p->dense_sweep) continue;
        float x;
        double w = kc_sweep(field, fn, ranges[r].start, ranges[r].end, ranges[r].step, &x);
        if (!(w <= overall)) overall = w;
        if (!(w <= b)) {
            float y;
            fn(1, &x, &y);
            kc_fail("  %s %s over %s: %.3f ULP > stated %.1f at x = %a (%.9g): got %.9g, "
                    "libm %.9g",
                    isa, field, ranges[r].what, w, b, (double)x, (double)x, (double)y,
                    kc_ref_act(field, x));
            fails++;
        }
    }
    kc_note("  %s %s: max error %.3f ULP over the sample (stated bound %.1f)", isa, field,
            overall, b);
    return fails;
}

/* Special values, bitwise (a NaN result must be a quiet NaN), in a 3-lane
 * tail and over 17 lanes (a full vector and a one-lane tail). */
KC_UNUSED static int kc_check_unary_special(const char *isa, const char *field,
                                            rnnkit_unary_fn *fn) {
    int fails = 0;
    const float inf = INFINITY, dmin = kc_from_bits(1), nan = NAN;
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
    static const int lanes[] = {3, 17};
    for (int c = 0; c < KC_LEN(cases); c++) {
        if (strcmp(cases[c].f, field)) continue;
        for (int l = 0; l < KC_LEN(lanes); l++) {
            const int n = lanes[l];
            float y[17], x[17];
            for (int i = 0; i < n; i++) x[i] = cases[c].x;
            fn(n, x, y);
            int ok = 1;
            for (int i = 0; i < n; i++)
                ok &= isnan(cases[c].want) ? (isnan(y[i]) && (kc_bits_of(y[i]) & 0x00400000u))
                                           : kc_same_bits(y[i], cases[c].want);
            if (!ok) {
                kc_fail("  %s %s(%a) = %a (lane 0), %a (lane %d of %d), want %a", isa, field,
                        (double)cases[c].x, (double)y[0], (double)y[n - 1], n - 1, n,
                        (double)cases[c].want);
                fails++;
            }
        }
    }
    return fails;
}

/* Lengths 1..70 at offsets 1 and 3, guards, in place; two input sets:
 * a fixed pattern depending on n, and the last n elements of one set of
 * 70 (each element at another lane than in the whole call: must be
 * bitwise equal). */
KC_UNUSED static int kc_check_unary_lengths(const char *isa, const char *field,
                                            rnnkit_unary_fn *fn) {
    enum { MAXN = 70, G2 = 20 };
    int fails = 0;
    double b = kc_bound_of(isa, field);
    float full[MAXN], src[MAXN];
    for (int i = 0; i < MAXN; i++)
        src[i] = (float)((i * 37) % 101 - 50) * 0.37f + kc_frand(-0.1f, 0.1f);
    fn(MAXN, src, full);
    for (int n = 1; n <= MAXN; n++)
        for (int set = 0; set < 2; set++)
            for (int off = 1; off <= 3; off += 2) {
                float xbuf[MAXN + 3 + G2], ybuf[MAXN + 3 + G2], zbuf[MAXN + 3 + G2];
                float *x = xbuf + off, *y = ybuf + off, *z = zbuf + off;
                for (int i = 0; i < MAXN + 3 + G2; i++) xbuf[i] = ybuf[i] = zbuf[i] = kc_sentinel();
                for (int i = 0; i < n; i++)
                    x[i] = z[i] = set ? src[MAXN - n + i]
                                      : (float)((i * 37 + n * 11) % 101 - 50) * 0.37f;
                fn(n, x, y);
                fn(n, z, z); /* in place */
                for (int i = 0; i < n; i++) {
                    double r = kc_ref_act(field, x[i]);
                    float other = set ? full[MAXN - n + i] : y[i];
                    if (!(kc_err_ulp(y[i], r) <= b) || !kc_same_bits(y[i], z[i]) ||
                        !kc_same_bits(y[i], other)) {
                        kc_fail("  %s %s n=%d off=%d i=%d x=%.9g: %.9g (in place %.9g, at "
                                "another lane %.9g), libm %.9g",
                                isa, field, n, off, i, (double)x[i], (double)y[i],
                                (double)z[i], (double)other, r);
                        fails++;
                        break;
                    }
                }
                for (int i = n; i < n + G2; i++)
                    if (!kc_is_sentinel(y[i]) || !kc_is_sentinel(z[i])) {
                        kc_fail("  %s %s n=%d: guard element %d written", isa, field, n, i);
                        fails++;
                        break;
                    }
                for (int i = 0; i < off; i++)
                    if (!kc_is_sentinel(ybuf[i]) || !kc_is_sentinel(zbuf[i])) {
                        kc_fail("  %s %s n=%d: element before the buffer written", isa, field,
                                n);
                        fails++;
                        break;
                    }
            }
    return fails;
}

/* All three activation checks. */
KC_UNUSED static int kc_run_unary(const char *isa, const char *field, rnnkit_unary_fn *fn,
                                  const kc_profile *p) {
    return kc_check_unary_bounds(isa, field, fn, p) + kc_check_unary_special(isa, field, fn) +
           kc_check_unary_lengths(isa, field, fn);
}

/* ----------------------------------------------- ONNX activation kinds */
/*
 * The act kernels (simd/kernels.h rnnkit_act_fn: the vector activations
 * the fused steps apply for non-default ONNX activations) against the
 * scalar semantics evaluated in double, every kind with non-trivial
 * alpha / beta: every stride-th float bit pattern (NaN and infinities
 * included: NaN must give NaN, an infinite result must be exact) plus
 * special values. Error in ULP of the double result (2^-149 below
 * FLT_MIN), after an absolute allowance for Elu (x < 0: alpha*(exp(x) -
 * 1) from a float exp near 1 has an absolute error of about a float
 * ULP of 1, where the scalar kernel calls expm1f; kc_act_allow), then 1
 * ULP for Elu's subtraction and product. Bounds: exact for
 * Relu / ThresholdedRelu, 0.5 ULP for one rounding (Affine and
 * HardSigmoid are one fused multiply-add, LeakyRelu one product), 2 for
 * Softsign (two roundings), the stated sigmoid / tanh bounds of the ISA
 * (x86 vmath.h and NEON neon-math.h 2.5 / 2.5), ScaledTanh that plus
 * 2.5 (the product beta*x, its effect through tanh, the final product),
 * and 6 for Softplus (its own log: 4.8 measured on x86 over every 7th
 * float). Then lengths 1..40 at offsets 1 and 3: bitwise equal to
 * one-element calls, in place equal, guards untouched.
 */
typedef struct {
    int kind;
    float alpha, beta;
    const char *name;
} kc_act_case;
static const kc_act_case kc_act_cases[] = {
    {RNNKIT_ACT_SIGMOID, 0.0f, 0.0f, "Sigmoid"},
    {RNNKIT_ACT_TANH, 0.0f, 0.0f, "Tanh"},
    {RNNKIT_ACT_RELU, 0.0f, 0.0f, "Relu"},
    {RNNKIT_ACT_AFFINE, 1.5f, -0.25f, "Affine"},
    {RNNKIT_ACT_LEAKY_RELU, 0.01f, 0.0f, "LeakyRelu"},
    {RNNKIT_ACT_THRESHOLDED_RELU, 1.0f, 0.0f, "ThresholdedRelu"},
    {RNNKIT_ACT_SCALED_TANH, 1.7159f, 0.6666667f, "ScaledTanh"},
    {RNNKIT_ACT_HARD_SIGMOID, 0.2f, 0.5f, "HardSigmoid"},
    {RNNKIT_ACT_HARD_SIGMOID, 1.0f / 6.0f, 0.5f, "HardSigmoid(1/6)"},
    {RNNKIT_ACT_ELU, 1.0f, 0.0f, "Elu"},
    {RNNKIT_ACT_ELU, 0.5f, 0.0f, "Elu(0.5)"},
    {RNNKIT_ACT_SOFTSIGN, 0.0f, 0.0f, "Softsign"},
    {RNNKIT_ACT_SOFTPLUS, 0.0f, 0.0f, "Softplus"},
};

/* The scalar rnnkit_act_apply's formulas in double. */
KC_UNUSED static double kc_ref_kind(const rnnkit_act *a, double x) {
    const double al = a->alpha, be = a->beta;
    switch (a->kind) {
    case RNNKIT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case RNNKIT_ACT_TANH: return tanh(x);
    case RNNKIT_ACT_RELU: return x > 0.0 ? x : (x == x ? 0.0 : x);
    case RNNKIT_ACT_AFFINE: return al * x + be;
    case RNNKIT_ACT_LEAKY_RELU: return x >= 0.0 ? x : al * x;
    case RNNKIT_ACT_THRESHOLDED_RELU: return x > al ? x : (x == x ? 0.0 : x);
    case RNNKIT_ACT_SCALED_TANH: return al * tanh(be * x);
    case RNNKIT_ACT_HARD_SIGMOID: {
        double v = al * x + be;
        return v != v ? v : v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }
    case RNNKIT_ACT_ELU: return x >= 0.0 ? x : al * expm1(x);
    case RNNKIT_ACT_SOFTSIGN: return x / (1.0 + fabs(x));
    case RNNKIT_ACT_SOFTPLUS: return x > 30.0 ? x : log1p(exp(x));
    default: return NAN;
    }
}

KC_UNUSED static double kc_act_bound(const char *isa, int kind) {
    (void)isa; /* x86 and NEON state the same bounds */
    const double sig = 2.5, th = 2.5;
    switch (kind) {
    case RNNKIT_ACT_SIGMOID: return sig;
    case RNNKIT_ACT_TANH: return th;
    case RNNKIT_ACT_RELU:
    case RNNKIT_ACT_THRESHOLDED_RELU: return 0.0;
    case RNNKIT_ACT_AFFINE:
    case RNNKIT_ACT_LEAKY_RELU:
    case RNNKIT_ACT_HARD_SIGMOID: return 0.5;
    case RNNKIT_ACT_SCALED_TANH: return th + 2.5;
    case RNNKIT_ACT_ELU: return 1.0;
    case RNNKIT_ACT_SOFTSIGN: return 2.0;
    default: return 6.0; /* Softplus */
    }
}

/* Error in ULP beyond an absolute allowance; NaN/inf must match. */
KC_UNUSED static double kc_act_err(float y, double r, double allow) {
    if (isnan(r)) return isnan(y) ? 0.0 : INFINITY;
    float rf = (float)r;
    if (isinf(rf)) return y == rf ? 0.0 : INFINITY;
    if (isnan(y) || isinf(y)) return INFINITY;
    double d = fabs((double)y - r) - allow;
    return d <= 0.0 ? 0.0 : d / kc_ulp_of(r);
}
/* Elu, x < 0: alpha*(e - 1) with e the float exp(x), off by up to 1.5 of
 * its ULPs; e - 1 is exact (e in [0.5, 1]) or e's error is small against
 * the result, so that error times alpha is allowed on top of the bound. */
KC_UNUSED static double kc_act_allow(const rnnkit_act *a, float x) {
    return a->kind == RNNKIT_ACT_ELU && x < 0.0f
               ? fabs((double)a->alpha) * 1.5 * kc_ulp_of(exp((double)x))
               : 0.0;
}

/* Returns the number of failing cases (kinds or lengths). */
KC_UNUSED static int kc_check_act_kinds(const char *isa, rnnkit_act_fn *fn, uint64_t stride) {
    int fails = 0;
    static const float specials[] = {0.0f,     -0.0f,     INFINITY, -INFINITY, NAN,    -NAN,
                                     FLT_MIN,  -FLT_MIN,  1e-45f,   -1e-45f,   FLT_MAX, -FLT_MAX,
                                     1.0f,     -1.0f,     20.0f,    20.000002f, 19.999998f,
                                     -87.5f,   -104.0f,   -110.0f,  1e-7f,     -1e-7f,  0.625f,
                                     -0.625f,  2.5f,      -2.5f,    3.0f,      -3.0f,   88.0f};
    for (int c = 0; c < KC_LEN(kc_act_cases); c++) {
        const rnnkit_act a = {kc_act_cases[c].kind, kc_act_cases[c].alpha, kc_act_cases[c].beta};
        const double bound = kc_act_bound(isa, a.kind);
        const int64_t nchunks =
            (int64_t)(((1ull << 32) + stride * KC_CHUNK - 1) / (stride * KC_CHUNK)) + 1;
        double worst = 0.0;
        float wx = 0.0f;
        KC_OMP(omp parallel)
        {
            double lw = 0.0;
            float lx = 0.0f;
            float xs[KC_CHUNK], ys[KC_CHUNK];
            KC_OMP(omp for schedule(dynamic, 16))
            for (int64_t ch = 0; ch < nchunks; ch++) {
                int cnt = 0;
                if (ch == nchunks - 1) {
                    for (int i = 0; i < KC_LEN(specials); i++) xs[cnt++] = specials[i];
                } else {
                    for (int i = 0; i < KC_CHUNK; i++) {
                        uint64_t u = ((uint64_t)ch * KC_CHUNK + (uint64_t)i) * stride;
                        if (u >> 32) break;
                        xs[cnt++] = kc_from_bits((uint32_t)u);
                    }
                }
                fn(cnt, xs, ys, &a);
                for (int i = 0; i < cnt; i++) {
                    double er = kc_act_err(ys[i], kc_ref_kind(&a, xs[i]), kc_act_allow(&a, xs[i]));
                    if (!(er <= lw)) lw = er, lx = xs[i];
                }
            }
            KC_OMP(omp critical)
            if (!(lw <= worst)) worst = lw, wx = lx;
        }
        if (!(worst <= bound)) {
            float y;
            fn(1, &wx, &y, &a);
            kc_fail("  %s act %s (alpha %g, beta %g): %.3f ULP > %.1f at x = %a (%.9g): got "
                    "%.9g, double %.17g",
                    isa, kc_act_cases[c].name, (double)a.alpha, (double)a.beta, worst, bound,
                    (double)wx, (double)wx, (double)y, kc_ref_kind(&a, wx));
            fails++;
        } else {
            kc_note("  %s act %s: max error %.3f ULP (bound %.1f) over every %llu-th float",
                    isa, kc_act_cases[c].name, worst, bound, (unsigned long long)stride);
        }
        /* Lengths, offsets, in place, guards. */
        enum { MAXN = 40, G2 = 16 };
        int lfail = 0;
        for (int n = 1; n <= MAXN && !lfail; n++)
            for (int off = 1; off <= 3 && !lfail; off += 2) {
                float xbuf[MAXN + 3 + G2], ybuf[MAXN + 3 + G2], zbuf[MAXN + 3 + G2];
                float *x = xbuf + off, *y = ybuf + off, *z = zbuf + off;
                for (int i = 0; i < MAXN + 3 + G2; i++) xbuf[i] = ybuf[i] = zbuf[i] = kc_sentinel();
                for (int i = 0; i < n; i++)
                    x[i] = z[i] = (float)((i * 37 + n * 11) % 101 - 50) * 0.23f;
                fn(n, x, y, &a);
                fn(n, z, z, &a);
                for (int i = 0; i < n && !lfail; i++) {
                    float one;
                    fn(1, &x[i], &one, &a);
                    if (!kc_same_bits(one, y[i]) || !kc_same_bits(y[i], z[i])) {
                        kc_fail("  %s act %s n=%d off=%d i=%d: %.9g, alone %.9g, in place %.9g",
                                isa, kc_act_cases[c].name, n, off, i, (double)y[i], (double)one,
                                (double)z[i]);
                        lfail = 1;
                    }
                }
                for (int i = n; i < n + G2 && !lfail; i++)
                    if (!kc_is_sentinel(y[i]) || !kc_is_sentinel(z[i])) {
                        kc_fail("  %s act %s n=%d: guard element %d written", isa,
                                kc_act_cases[c].name, n, i);
                        lfail = 1;
                    }
                for (int i = 0; i < off && !lfail; i++)
                    if (!kc_is_sentinel(ybuf[i]) || !kc_is_sentinel(zbuf[i])) {
                        kc_fail("  %s act %s n=%d: element before the buffer written", isa,
                                kc_act_cases[c].name, n);
                        lfail = 1;
                    }
            }
        fails += lfail;
    }
    return fails;
}

#endif
