/*
 * Helpers shared by the A/B and measuring tools of bench/ab: a monotonic
 * clock, uniform random floats from a fixed seed, a comparator for
 * medians, and the tensors of a random one-layer PyTorch-layout model.
 * Include after <stdio.h>, <stdlib.h>, <string.h>, <time.h> (with
 * _POSIX_C_SOURCE 200809L).
 */
#ifndef RNNKIT_BENCH_AB_UTIL_H
#define RNNKIT_BENCH_AB_UTIL_H

#include "rnnkit.h"

#define AB_MAXR 64 /* rounds at most */

__attribute__((unused)) static double ab_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* n floats uniform in [-scale, scale), from *seed (advanced). */
__attribute__((unused)) static float *ab_rnd(size_t n, float scale, unsigned *seed) {
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = scale * ((float)(*seed >> 8) / (float)(1 << 23) - 1.0f);
    }
    return p;
}

__attribute__((unused)) static int ab_cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A random one-layer PyTorch-layout model (weights and biases uniform in
 * [-0.1, 0.1)): weight_ih_l0 [G*H, I], weight_hh_l0 [G*H, H], bias_ih_l0,
 * bias_hh_l0 [G*H], and the same with _reverse for D = 2. */
typedef struct ab_layer {
    rnnkit_tensor t[8];
    char names[8][40];
    float *bufs[8];
    int n; /* tensors */
    int gates;
} ab_layer;

/* cell "lstm", "gru" or "rnn"; 0 for another name. */
__attribute__((unused)) static int ab_layer_make(ab_layer *L, const char *cell, int H, int I, int D,
                                                 unsigned *seed) {
    static const char *const kind[4] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
    const int G = !strcmp(cell, "lstm") ? 4 : !strcmp(cell, "gru") ? 3 : !strcmp(cell, "rnn") ? 1 : 0;
    if (!G) return 0;
    L->n = 0;
    L->gates = G;
    for (int d = 0; d < D; d++)
        for (int k = 0; k < 4; k++) {
            const int64_t cols = k == 0 ? I : (k == 1 ? H : 0);
            snprintf(L->names[L->n], sizeof L->names[L->n], "%s0%s", kind[k], d ? "_reverse" : "");
            L->bufs[L->n] = ab_rnd((size_t)G * H * (size_t)(cols ? cols : 1), 0.1f, seed);
            L->t[L->n] = (rnnkit_tensor){L->names[L->n], L->bufs[L->n], k < 2 ? 2 : 1,
                                         {(int64_t)G * H, cols}};
            L->n++;
        }
    return 1;
}

__attribute__((unused)) static void ab_layer_free(ab_layer *L) {
    for (int i = 0; i < L->n; i++) free(L->bufs[i]);
    L->n = 0;
}

#endif
