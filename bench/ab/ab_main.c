/*
 * Old and new x86 kernels in ONE process, interleaved round by round, so
 * that the drift of a shared machine (10-30 % between runs minutes apart)
 * hits both alike. Built by scripts/ab-kernels.sh from two git revisions:
 * the AVX2 gemm, LSTM step, GRU steps (linear_before_reset 1 and 0) and RNN tanh step of each,
 * and its exp / sigmoid / tanh kernels (first: ns per vector of 8 floats
 * over 4096 floats in L1, inputs spread over [-8, 8], the gate range),
 * symbols renamed to *_old / *_new. Prints best and median GFLOP/s
 * (gemm m 50 (batch 1) and 400 with LSTM gates, 400 with GRU gates, m 3200 with LSTM gates for
 * H <= 512, and m 1 and 2 with g 1, h H/2 (an LSTM projection at batch
 * 1-2), at H >= 128; the speech models' gemm m 63 K 24 for H <= 64, and
 * m 1 (one frame of a stream push) with LSTM and GRU gates;
 * LSTM and GRU steps at batch 8 and 64, or the sizes in AB_BATCH, e.g.
 * AB_BATCH="8 16 32"; AB_STEPS_ONLY=1 skips the gemms there, AB_GEMM_ONLY=1
 * the steps everywhere) and ns per step (LSTM
 * and GRU steps at batch 1, chained: each step reads the last one's h
 * and c, and visits the units in reverse order every other step, as the
 * driver does). Usage: ab_kernels [H ...] (default 32 512 1024).
 */
#define _DEFAULT_SOURCE /* madvise */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "simd/kernels.h"

/* The gemm's signature gained the gate stride hs after h (session 16):
 * scripts/ab-kernels.sh sets AB_OLD_HS / AB_NEW_HS to 1 for a revision
 * that has it. */
#if AB_OLD_HS
void gemm_old(int, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, int64_t,
              const float *, const float *, float *, int64_t);
#define GEMM_OLD(nr, m, g, h, k, a, lda, w, b, c, ldc) gemm_old(nr, m, g, h, h, k, a, lda, w, b, c, ldc)
#else
void gemm_old(int, int64_t, int64_t, int64_t, int64_t, const float *, int64_t, const float *,
              const float *, float *, int64_t);
#define GEMM_OLD(nr, m, g, h, k, a, lda, w, b, c, ldc) gemm_old(nr, m, g, h, k, a, lda, w, b, c, ldc)
#endif
#if AB_NEW_HS
void gemm_new(int, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, int64_t,
              const float *, const float *, float *, int64_t);
#define GEMM_NEW(nr, m, g, h, k, a, lda, w, b, c, ldc) gemm_new(nr, m, g, h, h, k, a, lda, w, b, c, ldc)
#else
void gemm_new(int, int64_t, int64_t, int64_t, int64_t, const float *, int64_t, const float *,
              const float *, float *, int64_t);
#define GEMM_NEW(nr, m, g, h, k, a, lda, w, b, c, ldc) gemm_new(nr, m, g, h, k, a, lda, w, b, c, ldc)
#endif
void lstm_old(const rnnkit_step_args *);
void lstm_new(const rnnkit_step_args *);
void gru_old(const rnnkit_step_args *);
void gru_new(const rnnkit_step_args *);
void rnn_old(const rnnkit_step_args *);
void rnn_new(const rnnkit_step_args *);

/* Floats per vector of the ISA under test: 8 (AVX2), 16 with AB_AVX512
 * (scripts/ab-kernels.sh with AB_ISA=avx512). */
#ifndef AB_NR
#define AB_NR 8
#endif

#define ROUNDS 15

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
/* Buffers of 2 MiB and more as the library allocates them (src/status.h,
 * rk_alloc_large): 2 MiB aligned, advised as transparent huge pages. */
static float *rnd(size_t n) {
    float *p = NULL;
    if (n * 4 >= ((size_t)2 << 20)) {
        if (posix_memalign((void **)&p, (size_t)2 << 20, n * 4)) exit(1);
        (void)madvise(p, n * 4, MADV_HUGEPAGE);
    } else {
        p = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
    }
    if (!p) exit(1);
    for (size_t i = 0; i < n; i++) p[i] = (float)((rand() % 2001) - 1000) * 1e-4f;
    return p;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* t[v][r] seconds per call of variant v (0 old, 1 new) in round r;
 * flops > 0: GFLOP/s, else ns per call ("ns/step", or "ns/vec" with
 * flops < 0: the elementwise kernels). */
static void report(const char *what, double t[2][ROUNDS], double flops) {
    for (int v = 0; v < 2; v++) {
        qsort(t[v], ROUNDS, sizeof(double), cmpd);
        if (flops > 0)
            printf("%-28s %s  best %7.1f  median %7.1f GFLOP/s\n", what, v ? "new" : "old",
                   flops / t[v][0] * 1e-9, flops / t[v][ROUNDS / 2] * 1e-9);
        else
            printf("%-28s %s  best %9.1f  median %9.1f %s\n", what, v ? "new" : "old",
                   t[v][0] * 1e9, t[v][ROUNDS / 2] * 1e9, flops < 0 ? "ns/vec" : "ns/step");
    }
}

/* Gemm m x (G*H) x K (the input projection of T*N rows), calls repeated
 * to take about 10 ms per round. The weights are random floats, not
 * packed: a timing, whatever layout each revision's gemm reads (the
 * column pairs of simd/x86/gemm-layout.h for GRU gates since session
 * 13, the step panels before); the buffer has the larger size of the
 * two. */
static void run_gemm(int M, int G, int H, int K) {
    float *w = rnd(rnnkit_input_packed_floats(AB_NR, G, H, K)), *a = rnd((size_t)M * K), *bias = rnd((size_t)G * H),
          *c = rnd((size_t)M * G * H);
    const double flops = 2.0 * M * G * H * K;
    int calls = (int)(1e9 / flops);
    calls = calls < 1 ? 1 : (calls > 100000 ? 100000 : calls);
    double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            double t0 = now();
            for (int i = 0; i < calls; i++) {
                if (v)
                    GEMM_NEW(AB_NR, M, G, H, K, a, K, w, bias, c, G * H);
                else
                    GEMM_OLD(AB_NR, M, G, H, K, a, K, w, bias, c, G * H);
            }
            t[v][r] = (now() - t0) / calls;
        }
    char name[64];
    snprintf(name, sizeof name, "gemm m%d G%d H=%d K=%d", M, G, H, K);
    report(name, t, flops);
    /* Old and new must give the same bits (one chain of FMAs per element). */
    float *c2 = rnd((size_t)M * G * H);
    GEMM_OLD(AB_NR, M, G, H, K, a, K, w, bias, c, G * H);
    GEMM_NEW(AB_NR, M, G, H, K, a, K, w, bias, c2, G * H);
    if (memcmp(c, c2, (size_t)M * G * H * sizeof(float)))
        printf("%-28s OUTPUTS DIFFER between old and new\n", name);
    free(w), free(a), free(bias), free(c), free(c2);
}

void vexp_old(int64_t, const float *, float *);
void vexp_new(int64_t, const float *, float *);
void vsigmoid_old(int64_t, const float *, float *);
void vsigmoid_new(int64_t, const float *, float *);
void vtanh_old(int64_t, const float *, float *);
void vtanh_new(int64_t, const float *, float *);

/* An elementwise kernel, old against new: 4096 floats (in L1) per call,
 * x in [-8, 8], about 5 ms of calls per round; ns per vector of 8. */
static void run_unary(const char *what, void (*fo)(int64_t, const float *, float *),
                      void (*fn)(int64_t, const float *, float *)) {
    enum { NX = 4096, CALLS = 2000 };
    float *x = malloc(NX * sizeof(float)), *y = malloc(NX * sizeof(float));
    if (!x || !y) exit(1);
    for (int i = 0; i < NX; i++) x[i] = -8.0f + 16.0f * (float)i / NX + 1e-3f * (float)(i % 7);
    double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            double t0 = now();
            for (int i = 0; i < CALLS; i++) (v ? fn : fo)(NX, x, y);
            t[v][r] = (now() - t0) / CALLS / (NX / 8);
        }
    char name[64];
    snprintf(name, sizeof name, "%s (8 floats)", what);
    report(name, t, -1);
    free(x), free(y);
}

/* Chained LSTM steps, batch n: step i reads h, c of step i-1. */
static void run_lstm(int H, int n, int steps, int as_flops) {
    const int K = H;
    float *w = rnd((size_t)4 * H * K), *xp = rnd((size_t)n * 4 * H * 8);
    float *h[2] = {rnd((size_t)n * H), rnd((size_t)n * H)}, *c[2] = {rnd((size_t)n * H), rnd((size_t)n * H)};
    rnnkit_step_args s;
    memset(&s, 0, sizeof s);
    s.nr = AB_NR, s.n = n, s.h = H, s.k = K, s.j_begin = 0, s.j_end = H, s.w = w;
    s.ld_xp = 4 * H, s.ld_h_prev = K, s.ld_h_out = H, s.default_act = 1;
    double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            double t0 = now();
            for (int i = 0; i < steps; i++) {
                s.xp = xp + (size_t)(i & 7) * n * 4 * H;
                s.h_prev = h[i & 1], s.c_prev = c[i & 1], s.reverse = i & 1;
                s.h_out = h[!(i & 1)], s.c_out = c[!(i & 1)];
                (v ? lstm_new : lstm_old)(&s);
            }
            t[v][r] = (now() - t0) / steps;
        }
    char name[64];
    snprintf(name, sizeof name, "lstm step N=%d H=%d", n, H);
    report(name, t, as_flops ? 2.0 * n * 4 * H * K : 0);
    free(w), free(xp), free(h[0]), free(h[1]), free(c[0]), free(c[1]);
}

/* Chained GRU steps (linear_before_reset = lbr), batch n. */
static void run_gru_lbr(int H, int n, int steps, int as_flops, int lbr) {
    const int K = H;
    float *w = rnd((size_t)2 * H * K), *wn = rnd((size_t)H * K), *xp = rnd((size_t)n * 3 * H * 8);
    float *bhn = rnd((size_t)H), *h[2] = {rnd((size_t)n * H), rnd((size_t)n * H)};
    float *scratch = rnd((size_t)n * K);
    rnnkit_step_args s;
    memset(&s, 0, sizeof s);
    s.nr = AB_NR, s.n = n, s.h = H, s.k = K, s.j_begin = 0, s.j_end = H, s.w = w, s.w_n = wn;
    s.b_hn = lbr ? bhn : NULL, s.linear_before_reset = lbr, s.scratch = scratch;
    s.ld_xp = 3 * H, s.ld_h_prev = K, s.ld_h_out = H, s.default_act = 1;
    double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            double t0 = now();
            for (int i = 0; i < steps; i++) {
                s.xp = xp + (size_t)(i & 7) * n * 3 * H;
                s.h_prev = h[i & 1], s.h_out = h[!(i & 1)], s.reverse = i & 1;
                (v ? gru_new : gru_old)(&s);
            }
            t[v][r] = (now() - t0) / steps;
        }
    char name[64];
    snprintf(name, sizeof name, "gru%s step N=%d H=%d", lbr ? "" : "0", n, H);
    report(name, t, as_flops ? 2.0 * n * 3 * H * K : 0);
    free(w), free(wn), free(xp), free(bhn), free(h[0]), free(h[1]), free(scratch);
}
static void run_gru(int H, int n, int steps, int as_flops) {
    run_gru_lbr(H, n, steps, as_flops, 1);
    run_gru_lbr(H, n, steps, as_flops, 0);
}

/* Chained Elman RNN (tanh) steps, batch n. */
static void run_rnn(int H, int n, int steps, int as_flops) {
    const int K = H;
    float *w = rnd((size_t)H * K), *xp = rnd((size_t)n * H * 8);
    float *h[2] = {rnd((size_t)n * H), rnd((size_t)n * H)};
    rnnkit_step_args s;
    memset(&s, 0, sizeof s);
    s.nr = AB_NR, s.n = n, s.h = H, s.k = K, s.j_begin = 0, s.j_end = H, s.w = w;
    s.ld_xp = H, s.ld_h_prev = K, s.ld_h_out = H, s.default_act = 1;
    double t[2][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int v = 0; v < 2; v++) {
            double t0 = now();
            for (int i = 0; i < steps; i++) {
                s.xp = xp + (size_t)(i & 7) * n * H;
                s.h_prev = h[i & 1], s.h_out = h[!(i & 1)], s.reverse = i & 1;
                (v ? rnn_new : rnn_old)(&s);
            }
            t[v][r] = (now() - t0) / steps;
        }
    char name[64];
    snprintf(name, sizeof name, "rnn step N=%d H=%d", n, H);
    report(name, t, as_flops ? 2.0 * n * H * K : 0);
    free(w), free(xp), free(h[0]), free(h[1]);
}

int main(int argc, char **argv) {
    int hs[8] = {32, 512, 1024}, nh = 3;
    /* Batch sizes of the steps at H >= 128: AB_BATCH="8 16 64", default 8 64. */
    long batch[8] = {8, 64};
    int nbatch = 2;
    if (getenv("AB_BATCH")) {
        char *e = getenv("AB_BATCH"), *end;
        nbatch = 0;
        for (long v = strtol(e, &end, 10); end != e && nbatch < 8; v = strtol(e, &end, 10)) {
            if (v < 1) {
                fprintf(stderr, "ab_kernels: AB_BATCH sizes must be >= 1\n");
                return 2;
            }
            batch[nbatch++] = v;
            e = end;
        }
    }
    if (argc > 1) {
        nh = 0;
        for (int i = 1; i < argc && nh < 8; i++) hs[nh++] = atoi(argv[i]);
    }
    run_unary("exp", vexp_old, vexp_new);
    run_unary("sigmoid", vsigmoid_old, vsigmoid_new);
    run_unary("tanh", vtanh_old, vtanh_new);
    for (int i = 0; i < nh; i++) {
        int H = hs[i];
        if (H <= 0 || H % AB_NR) {
            fprintf(stderr, "ab_kernels: H must be a positive multiple of %d\n", AB_NR);
            return 2;
        }
        long w = (long)H * H;
        const int gemm_only = getenv("AB_GEMM_ONLY") && *getenv("AB_GEMM_ONLY");
        const int steps1 = (int)(2000000 / w > 20000 ? 20000 : (2000000 / w < 20 ? 20 : 2000000 / w));
        if (!gemm_only) {
            run_lstm(H, 1, steps1, 0);
            run_gru(H, 1, steps1, 0);
            run_rnn(H, 1, steps1, 0);
        }
        if (H >= 128) {
            for (int b = 0; b < nbatch && !gemm_only; b++) {
                const long n = batch[b];
                const int st = (int)(200000000 / (n * w) < 10 ? 10 : 200000000 / (n * w));
                run_lstm(H, (int)n, st, 1);
                run_gru(H, (int)n, st, 1);
                run_rnn(H, (int)n, st, 1);
            }
            if (getenv("AB_STEPS_ONLY") && *getenv("AB_STEPS_ONLY")) continue;
            run_gemm(50, 4, H, H); /* batch 1, T 50 */
            run_gemm(400, 4, H, H);
            run_gemm(400, 3, H, H);
            if (H <= 512) run_gemm(3200, 4, H, H);
        }
        /* Speech models' projection (T 63, input 24), and of one frame
         * (a stream push of one step, batch 1). */
        if (H <= 64) {
            run_gemm(63, 4, H, 24);
            run_gemm(1, 4, H, 24);
            run_gemm(1, 3, H, 24);
        }
        /* An LSTM projection (g 1, h = P = H/2, k H) at batch 1 and 2. */
        if (H >= 128) {
            run_gemm(1, 1, H / 2, H);
            run_gemm(2, 1, H / 2, H);
        }
    }
    return 0;
}
