/* Data cache sizes (src/cache.h). */
#define _POSIX_C_SOURCE 200809L
#include "cache.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "32K", "1024K", "32M", "512" (bytes): bytes, or 0 if it is not a size. */
static double parse_size(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v > 0) || v > 1e15) return 0;
    if (*end == 'K') v *= 1024;
    else if (*end == 'M') v *= 1024 * 1024;
    else if (*end == 'G') v *= 1024.0 * 1024 * 1024;
    else if (*end) return 0;
    return v;
}

/* First line of a small file, newline removed; -1 if it cannot be read. */
static int read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok) return -1;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

void rk_cache_sizes_from(const char *dir, double sizes[3]) {
    sizes[0] = sizes[1] = sizes[2] = 0;
    for (int i = 0; i < 16; i++) {
        char path[512], level[32], type[32], size[32];
        if (snprintf(path, sizeof path, "%s/index%d/level", dir, i) >= (int)sizeof path) return;
        if (read_line(path, level, sizeof level)) continue;
        snprintf(path, sizeof path, "%s/index%d/type", dir, i);
        if (read_line(path, type, sizeof type) || !strcmp(type, "Instruction")) continue;
        snprintf(path, sizeof path, "%s/index%d/size", dir, i);
        if (read_line(path, size, sizeof size)) continue;
        const int l = atoi(level);
        if (l >= 1 && l <= 3 && sizes[l - 1] == 0) sizes[l - 1] = parse_size(size);
    }
}

/* Bytes of each level once read (0: not yet), so that every caller after
 * the first (a plan per forward call) reads no file. Racing first callers
 * compute the same values. */
static atomic_llong rk_cached[3];

void rk_cache_sizes(double sizes[3]) {
    long long c0 = atomic_load(&rk_cached[0]), c1 = atomic_load(&rk_cached[1]),
              c2 = atomic_load(&rk_cached[2]);
    if (c0 > 0 && c1 > 0 && c2 > 0) {
        sizes[0] = (double)c0, sizes[1] = (double)c1, sizes[2] = (double)c2;
        return;
    }
    rk_cache_sizes_from("/sys/devices/system/cpu/cpu0/cache", sizes);
#ifdef _SC_LEVEL1_DCACHE_SIZE
    if (sizes[0] <= 0) sizes[0] = (double)sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (sizes[1] <= 0) sizes[1] = (double)sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    const double def[3] = {32.0 * 1024, 1024.0 * 1024, 32.0 * 1024 * 1024};
    for (int i = 0; i < 3; i++) {
        if (!(sizes[i] > 0)) sizes[i] = def[i];
        atomic_store(&rk_cached[i], (long long)sizes[i]);
    }
}
