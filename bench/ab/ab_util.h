/*
 * Helpers shared by the one-process A/B tools (ab_plan.c, ab_act.c):
 * a monotonic clock, uniform random floats from a fixed seed, and a
 * comparator for medians. Include after <stdio.h>, <stdlib.h>, <time.h>
 * (with _POSIX_C_SOURCE 200809L).
 */
#ifndef RNNKIT_BENCH_AB_UTIL_H
#define RNNKIT_BENCH_AB_UTIL_H

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

#endif
