/*
 * rnnkit prof: measures the machine's limits, then times rnnkit_forward
 * over a grid of shapes (or a model file) and says, per shape, which
 * limit applies and how close to it the library runs.
 *
 * Limits (measured once, cached as text in $XDG_CACHE_HOME/rnnkit/):
 *   - FMA peak per ISA: a register-only loop of 12 independent
 *     accumulators per ISA (enough to cover FMA latency x throughput on
 *     current cores), compiled here with target attributes so the file
 *     needs no ISA flags; run only where rnnkit_isa_supported() says so.
 *     "scalar" is plain C as the compiler builds it for the baseline ISA
 *     (the ceiling of the scalar reference kernels).
 *   - Read bandwidth of L1, L2, L3 and memory: sum-reduce a private
 *     buffer per thread (half of L1, half of L2, 8 MiB, 256 MiB split
 *     over threads) with the widest vector loads the CPU has, as 4
 *     concurrent streams (see the read loops).
 * Every number is the best of several short runs, on 1 thread and on all
 * cores (OpenMP): the host may be shared and noisy.
 *
 * The bound of a forward call, per layer: T * max(recurrent weight bytes
 * / bandwidth of the level they fit in, recurrent flops / FMA peak) +
 * input-projection flops / FMA peak. Weights fit L1 or L2 when the slice
 * of one thread does (private caches), L3 when all of them do (shared).
 */
#include "prof.h"
#include "cache.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

enum { EXIT_OK_ = 0, EXIT_FAIL_ = 1, EXIT_USAGE_ = 2 };

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */
static const char *const isa_names[RK_PROF_NUM_ISAS] = {"scalar", "avx2", "avx512", "neon"};
static const char *const limit_names[RK_PROF_NUM_LEVELS + 1] = {"L1", "L2", "L3", "DRAM", "FMA"};

const char *rk_prof_isa_name(int isa) {
    return isa >= 0 && isa < RK_PROF_NUM_ISAS ? isa_names[isa] : NULL;
}

int rk_prof_isa_index(const char *name) {
    for (int i = 0; i < RK_PROF_NUM_ISAS; i++)
        if (name && !strcmp(name, isa_names[i])) return i;
    return -1;
}

const char *rk_prof_limit_name(int limit) {
    return limit >= 0 && limit <= RK_LIMIT_FMA ? limit_names[limit] : "?";
}

static const char *cell_name(rnnkit_cell c) {
    switch (c) {
    case RNNKIT_CELL_RNN_TANH: return "rnn";
    case RNNKIT_CELL_RNN_RELU: return "rnn-relu";
    case RNNKIT_CELL_LSTM: return "lstm";
    case RNNKIT_CELL_GRU: return "gru";
    }
    return "?";
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

/* ------------------------------------------------------------------ */
/* FMA loops: 12 independent accumulators, a = a*m + c (m < 1, so the   */
/* values converge and never reach denormals or infinities).            */
/* ------------------------------------------------------------------ */
#define ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

typedef float (*fma_fn)(long iters);

enum { SCALAR_ACC = 16 };
static float fma_scalar(long iters) {
    float a[SCALAR_ACC];
    volatile float vm = 0.999999f, vc = 1e-6f;
    float m = vm, c = vc;
    for (int j = 0; j < SCALAR_ACC; j++) a[j] = 1.0f + 0.001f * (float)j;
    for (long i = 0; i < iters; i++)
        for (int j = 0; j < SCALAR_ACC; j++) a[j] = a[j] * m + c;
    float s = 0;
    for (int j = 0; j < SCALAR_ACC; j++) s += a[j];
    return s;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static float fma_avx2(long iters) {
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
#define DECL(k) __m256 a##k = _mm256_set1_ps(1.0f + 0.001f * (float)(k));
#define STEP(k) a##k = _mm256_fmadd_ps(a##k, m, c);
#define SUM(k) s = _mm256_add_ps(s, a##k);
    ACC12(DECL)
    for (long i = 0; i < iters; i++) { ACC12(STEP) }
    __m256 s = _mm256_setzero_ps();
    ACC12(SUM)
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
#undef DECL
#undef STEP
#undef SUM
}

__attribute__((target("avx512f"))) static float fma_avx512(long iters) {
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
#define DECL(k) __m512 a##k = _mm512_set1_ps(1.0f + 0.001f * (float)(k));
#define STEP(k) a##k = _mm512_fmadd_ps(a##k, m, c);
#define SUM(k) s = _mm512_add_ps(s, a##k);
    ACC12(DECL)
    for (long i = 0; i < iters; i++) { ACC12(STEP) }
    __m512 s = _mm512_setzero_ps();
    ACC12(SUM)
    return _mm512_reduce_add_ps(s);
#undef DECL
#undef STEP
#undef SUM
}
#endif

#if defined(__aarch64__)
static float fma_neon(long iters) {
    const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-6f);
#define DECL(k) float32x4_t a##k = vdupq_n_f32(1.0f + 0.001f * (float)(k));
#define STEP(k) a##k = vfmaq_f32(c, a##k, m);
#define SUM(k) s = vaddq_f32(s, a##k);
    ACC12(DECL)
    for (long i = 0; i < iters; i++) { ACC12(STEP) }
    float32x4_t s = vdupq_n_f32(0.0f);
    ACC12(SUM)
    return vaddvq_f32(s);
#undef DECL
#undef STEP
#undef SUM
}
#endif

/* Flops of one iteration of each ISA's loop (0 = not compiled here). */
static fma_fn fma_loop(int isa, double *flops_per_iter) {
    *flops_per_iter = 0;
    switch (isa) {
    case RK_ISA_SCALAR: *flops_per_iter = 2.0 * SCALAR_ACC; return fma_scalar;
#if defined(__x86_64__)
    case RK_ISA_AVX2: *flops_per_iter = 2.0 * 12 * 8; return fma_avx2;
    case RK_ISA_AVX512: *flops_per_iter = 2.0 * 12 * 16; return fma_avx512;
#endif
#if defined(__aarch64__)
    case RK_ISA_NEON: *flops_per_iter = 2.0 * 12 * 4; return fma_neon;
#endif
    default: return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* Read loops: sum n floats (n a multiple of 128), 8 accumulators, the
 * buffer read as 4 concurrent streams (its quarters, 2 vectors of each
 * per iteration). One sequential stream leaves bandwidth unused wherever
 * the hardware prefetcher of one stream cannot cover the latency
 * (measured, AVX2 on the 2-core Zen 4 VM, best of 7, GB/s for 1 / 2 / 4
 * streams: 4 MiB 50.5 / 68.1 / 68.7, 16 MiB 18.8 / 26.4 / 32.7, 256 MiB
 * 12.1 / 15.4 / 17.2; within L1 and L2 the same). A limit is what the
 * machine can deliver, so the profiler takes the best. */
/* ------------------------------------------------------------------ */
typedef float (*read_fn)(const float *p, size_t n);

static float read_scalar(const float *p, size_t n) {
    float a[16] = {0};
    const size_t q = n / 4;
    for (size_t i = 0; i < q; i += 4)
        for (int s = 0; s < 4; s++)
            for (int j = 0; j < 4; j++) a[s * 4 + j] += p[(size_t)s * q + i + (size_t)j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += a[j];
    return s;
}

/* Stream s = k / 2 (quarter s of the buffer), vector k % 2 of it. */
#define ACC8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define RK_AT(k, W) (p + (size_t)((k) / 2) * q + i + (size_t)(W) * ((k) % 2))
#if defined(__x86_64__)
__attribute__((target("avx2"))) static float read_avx2(const float *p, size_t n) {
#define DECL(k) __m256 a##k = _mm256_setzero_ps();
#define STEP(k) a##k = _mm256_add_ps(a##k, _mm256_load_ps(RK_AT(k, 8)));
#define SUM(k) s = _mm256_add_ps(s, a##k);
    const size_t q = n / 4;
    ACC8(DECL)
    for (size_t i = 0; i < q; i += 16) { ACC8(STEP) }
    __m256 s = _mm256_setzero_ps();
    ACC8(SUM)
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
#undef DECL
#undef STEP
#undef SUM
}

__attribute__((target("avx512f"))) static float read_avx512(const float *p, size_t n) {
#define DECL(k) __m512 a##k = _mm512_setzero_ps();
#define STEP(k) a##k = _mm512_add_ps(a##k, _mm512_load_ps(RK_AT(k, 16)));
#define SUM(k) s = _mm512_add_ps(s, a##k);
    const size_t q = n / 4;
    ACC8(DECL)
    for (size_t i = 0; i < q; i += 32) { ACC8(STEP) }
    __m512 s = _mm512_setzero_ps();
    ACC8(SUM)
    return _mm512_reduce_add_ps(s);
#undef DECL
#undef STEP
#undef SUM
}
#endif

#if defined(__aarch64__)
static float read_neon(const float *p, size_t n) {
#define DECL(k) float32x4_t a##k = vdupq_n_f32(0.0f);
#define STEP(k) a##k = vaddq_f32(a##k, vld1q_f32(RK_AT(k, 4)));
#define SUM(k) s = vaddq_f32(s, a##k);
    const size_t q = n / 4;
    ACC8(DECL)
    for (size_t i = 0; i < q; i += 8) { ACC8(STEP) }
    float32x4_t s = vdupq_n_f32(0.0f);
    ACC8(SUM)
    return vaddvq_f32(s);
#undef DECL
#undef STEP
#undef SUM
}
#endif

static read_fn best_read_loop(void) {
#if defined(__x86_64__)
    if (rnnkit_isa_supported("avx512")) return read_avx512;
    if (rnnkit_isa_supported("avx2")) return read_avx2;
#endif
#if defined(__aarch64__)
    return read_neon;
#endif
    return read_scalar;
}

/* ------------------------------------------------------------------ */
/* Measurement                                                         */
/* ------------------------------------------------------------------ */
static volatile float g_sink;

/* CPU time of the calling thread: on a shared host a thread that is
 * descheduled mid-run does not count that time, so short runs measure the
 * core, not the neighbours. */
static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rate of fn over all threads at once: the sum over the threads of their
 * work / CPU time. One run per call; the caller keeps the best. */
static double rate_fma(fma_fn fn, long iters, int threads, double flops_per_iter) {
    double rate = 0;
    float sink = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : rate, sink)
#endif
    {
#ifdef _OPENMP
#pragma omp barrier
#endif
        double t0 = thread_cpu_s();
        sink += fn(iters);
        double t = thread_cpu_s() - t0;
        rate += t > 0 ? flops_per_iter * (double)iters / t : 0;
    }
    (void)threads;
    g_sink = sink;
    return rate;
}

static double rate_read(read_fn fn, float *buf, size_t per_thread, int reps, int threads) {
    double rate = 0;
    float sink = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : rate, sink)
#endif
    {
#ifdef _OPENMP
        const float *p = buf + (size_t)omp_get_thread_num() * per_thread;
#pragma omp barrier
#else
        const float *p = buf;
#endif
        double t0 = thread_cpu_s();
        for (int r = 0; r < reps; r++) sink += fn(p, per_thread);
        double t = thread_cpu_s() - t0;
        rate += t > 0 ? (double)per_thread * sizeof(float) * reps / t : 0;
    }
    (void)threads;
    g_sink = sink;
    return rate;
}

static int actual_threads(int want) {
#ifdef _OPENMP
    int got = 1;
#pragma omp parallel num_threads(want)
    {
#pragma omp master
        got = omp_get_num_threads();
    }
    return got;
#else
    (void)want;
    return 1;
#endif
}

/* Each run lasts about RUN_SECONDS of CPU time: short enough to fit
 * between two preemptions of a busy host, long enough for the clock. */
enum { RUN_TRIALS = 15 };
static const double RUN_SECONDS = 0.0015;

static double measure_fma(int isa, int threads) {
    double fpi;
    fma_fn fn = fma_loop(isa, &fpi);
    if (!fn) return 0;
    /* Calibrate on one thread: the iteration count giving RUN_SECONDS. */
    long iters = 1024;
    double r = 0;
    for (int k = 0; k < 3; k++) {
        double x = rate_fma(fn, iters, 1, fpi);
        if (x > r) r = x;
    }
    iters = (long)(r * RUN_SECONDS / fpi) + 1;
    double best = 0;
    for (int k = 0; k < RUN_TRIALS; k++) {
        double x = rate_fma(fn, iters, threads, fpi);
        if (x > best) best = x;
    }
    return best * 1e-9;
}

static float *alloc_floats(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes ? bytes : 64);
}

/* A buffer of bytes (rounded to 512) per thread, first touched by the
 * thread that reads it; best rate over the trials. */
static double measure_read(read_fn fn, size_t bytes, int threads, int trials) {
    size_t per = bytes / sizeof(float) / 128 * 128;
    if (per == 0) per = 128;
    float *buf = alloc_floats(per * (size_t)threads);
    if (!buf) return 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        float *p = buf + (size_t)omp_get_thread_num() * per;
        for (size_t i = 0; i < per; i++) p[i] = (float)(i & 7) * 0.125f;
    }
#else
    for (size_t i = 0; i < per; i++) buf[i] = (float)(i & 7) * 0.125f;
#endif
    double r = 0;
    for (int k = 0; k < 2; k++) {
        double x = rate_read(fn, buf, per, 1, 1);
        if (x > r) r = x;
    }
    int reps = (int)(r * RUN_SECONDS / ((double)per * sizeof(float)));
    if (reps < 1) reps = 1;
    double best = 0;
    for (int k = 0; k < trials; k++) {
        double x = rate_read(fn, buf, per, reps, threads);
        if (x > best) best = x;
    }
    free(buf);
    return best * 1e-9;
}

static void cpu_model(char *buf, size_t len) {
    snprintf(buf, len, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) && strncmp(line, "Model", 5)) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        if (*colon) {
            snprintf(buf, len, "%s", colon);
            found = 1;
        }
    }
    if (f) fclose(f);
    if (!found) {
        char host[128];
        if (gethostname(host, sizeof host) == 0) {
            host[sizeof host - 1] = 0;
            snprintf(buf, len, "%s", host);
        }
    }
}

static void progress(int show, const char *fmt, ...) {
    if (!show) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void rk_limits_measure(rk_limits *lim, int show) {
    memset(lim, 0, sizeof *lim);
    cpu_model(lim->cpu, sizeof lim->cpu);
    rk_cache_sizes(lim->cache_size);
    int all = actual_threads(max_threads());
    lim->cores = all;
    int counts[2] = {1, all};
    for (int isa = 0; isa < RK_PROF_NUM_ISAS; isa++) {
        if (!rnnkit_isa_supported(isa_names[isa]) && isa != RK_ISA_SCALAR) continue;
        for (int k = 0; k < 2; k++) {
            if (k == 1 && all == 1) {
                lim->fma[isa][1] = lim->fma[isa][0];
                continue;
            }
            progress(show, "measuring limits: %s FMA peak, %d thread%s", isa_names[isa], counts[k],
                     counts[k] > 1 ? "s" : "");
            lim->fma[isa][k] = measure_fma(isa, counts[k]);
        }
        /* More threads never give less than one thread could alone. */
        if (lim->fma[isa][1] < lim->fma[isa][0]) lim->fma[isa][1] = lim->fma[isa][0];
    }
    read_fn rd = best_read_loop();
    double l3_buf = lim->cache_size[2] / 4;
    if (l3_buf > 8.0 * 1024 * 1024) l3_buf = 8.0 * 1024 * 1024;
    double dram_total = 4 * lim->cache_size[2];
    if (dram_total < 128.0 * 1024 * 1024) dram_total = 128.0 * 1024 * 1024;
    const double per_thread[RK_PROF_NUM_LEVELS] = {lim->cache_size[0] / 2, lim->cache_size[1] / 2, l3_buf,
                                                   dram_total};
    for (int lv = 0; lv < RK_PROF_NUM_LEVELS; lv++) {
        for (int k = 0; k < 2; k++) {
            if (k == 1 && all == 1) {
                lim->bw[lv][1] = lim->bw[lv][0];
                continue;
            }
            progress(show, "measuring limits: %s read bandwidth, %d thread%s", limit_names[lv], counts[k],
                     counts[k] > 1 ? "s" : "");
            double bytes = lv == RK_LEVEL_DRAM ? per_thread[lv] / counts[k] : per_thread[lv];
            lim->bw[lv][k] = measure_read(rd, (size_t)bytes, counts[k], lv == RK_LEVEL_DRAM ? 6 : RUN_TRIALS);
        }
        if (lim->bw[lv][1] < lim->bw[lv][0]) lim->bw[lv][1] = lim->bw[lv][0];
    }
    progress(show, "%s", "");
}

static double interp(const double v[2], int cores, int threads) {
    if (v[0] <= 0) return 0;
    if (threads <= 1 || cores <= 1) return v[0];
    if (threads >= cores) return v[1];
    return v[0] + (v[1] - v[0]) * (double)(threads - 1) / (double)(cores - 1);
}

double rk_limits_fma(const rk_limits *lim, int isa, int threads) {
    if (isa < 0 || isa >= RK_PROF_NUM_ISAS) return 0;
    return interp(lim->fma[isa], lim->cores, threads);
}

double rk_limits_bw(const rk_limits *lim, int level, int threads) {
    if (level < 0 || level >= RK_PROF_NUM_LEVELS) return 0;
    return interp(lim->bw[level], lim->cores, threads);
}

/* ------------------------------------------------------------------ */
/* Cache file                                                          */
/* ------------------------------------------------------------------ */
/* Version 2: read bandwidth over 4 streams (version 1 files, one stream,
 * are measured again). */
#define LIMITS_MAGIC "rnnkit-limits 2"

int rk_limits_cache_path(char *buf, size_t len, const char *key) {
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char safe[96];
    size_t j = 0;
    for (const char *p = key ? key : ""; *p && j + 1 < sizeof safe; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-';
        if (!ok) c = '-';
        if (c == '-' && j > 0 && safe[j - 1] == '-') continue;
        safe[j++] = c;
    }
    while (j > 0 && safe[j - 1] == '-') j--;
    safe[j] = 0;
    if (j == 0) snprintf(safe, sizeof safe, "unknown");
    int n;
    if (xdg && xdg[0] == '/') n = snprintf(buf, len, "%s/rnnkit/limits-%s.txt", xdg, safe);
    else if (home && home[0]) n = snprintf(buf, len, "%s/.cache/rnnkit/limits-%s.txt", home, safe);
    else return -1;
    return n > 0 && (size_t)n < len ? 0 : -1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void seterr(char *err, size_t len, const char *fmt, ...);
static void seterr(char *err, size_t len, const char *fmt, ...) {
    if (!err || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* mkdir -p of the folder holding path. */
static int make_parents(const char *path) {
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return -1;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(dir, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(dir, 0755) && errno != EEXIST) return -1;
    return 0;
}

int rk_limits_save(const char *path, const rk_limits *lim, char *err, size_t errlen) {
    char tmp[4200];
    if (make_parents(path)) {
        seterr(err, errlen, "cannot create its folder: %s", strerror(errno));
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        seterr(err, errlen, "cannot write: %s", strerror(errno));
        return -1;
    }
    fprintf(f, "%s\n# machine limits measured by rnnkit prof; delete or run rnnkit prof --remeasure to redo\n",
            LIMITS_MAGIC);
    char cpu[sizeof lim->cpu];
    snprintf(cpu, sizeof cpu, "%s", lim->cpu);
    for (char *p = cpu; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    fprintf(f, "cpu %s\ncores %d\n", cpu, lim->cores);
    for (int i = 0; i < 3; i++) fprintf(f, "cache L%d %.0f\n", i + 1, lim->cache_size[i]);
    for (int isa = 0; isa < RK_PROF_NUM_ISAS; isa++)
        if (lim->fma[isa][0] > 0)
            fprintf(f, "fma %s %.3f %.3f\n", isa_names[isa], lim->fma[isa][0], lim->fma[isa][1]);
    for (int lv = 0; lv < RK_PROF_NUM_LEVELS; lv++)
        fprintf(f, "read %s %.3f %.3f\n", limit_names[lv], lim->bw[lv][0], lim->bw[lv][1]);
    int bad = ferror(f);
    if (fclose(f) || bad || rename(tmp, path)) {
        seterr(err, errlen, "cannot write: %s", strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}


static int good_number(double v) { return isfinite(v) && v > 0 && v < 1e12; }

int rk_limits_load(const char *path, rk_limits *lim, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        seterr(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    rk_limits l;
    memset(&l, 0, sizeof l);
    char line[512];
    int lineno = 0, have_cpu = 0, have_cache[3] = {0, 0, 0}, have_read[RK_PROF_NUM_LEVELS] = {0};
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1) {
            if (strcmp(line, LIMITS_MAGIC)) {
                fclose(f);
                seterr(err, errlen, "line 1: expected \"%s\"", LIMITS_MAGIC);
                return -1;
            }
            continue;
        }
        if (line[0] == '#' || line[0] == 0) continue;
        char name[32];
        double a, b;
        int k, n = 0, ok = 0;
        if (!strncmp(line, "cpu ", 4)) {
            snprintf(l.cpu, sizeof l.cpu, "%.*s", (int)sizeof l.cpu - 1, line + 4);
            ok = have_cpu = 1;
        } else if (sscanf(line, "cores %d%n", &k, &n) == 1 && !line[n]) {
            ok = k >= 1 && k <= 65536;
            l.cores = k;
        } else if (sscanf(line, "cache L%d %lf%n", &k, &a, &n) == 2 && !line[n]) {
            ok = k >= 1 && k <= 3 && good_number(a);
            if (ok) {
                l.cache_size[k - 1] = a;
                have_cache[k - 1] = 1;
            }
        } else if (sscanf(line, "fma %31s %lf %lf%n", name, &a, &b, &n) == 3 && !line[n]) {
            int isa = rk_prof_isa_index(name);
            ok = isa >= 0 && good_number(a) && good_number(b);
            if (ok) {
                l.fma[isa][0] = a;
                l.fma[isa][1] = b;
            }
        } else if (sscanf(line, "read %31s %lf %lf%n", name, &a, &b, &n) == 3 && !line[n]) {
            int lv = -1;
            for (int i = 0; i < RK_PROF_NUM_LEVELS; i++)
                if (!strcmp(name, limit_names[i])) lv = i;
            ok = lv >= 0 && good_number(a) && good_number(b);
            if (ok) {
                l.bw[lv][0] = a;
                l.bw[lv][1] = b;
                have_read[lv] = 1;
            }
        }
        if (!ok) {
            fclose(f);
            seterr(err, errlen, "line %d: not understood or out of range: %.60s", lineno, line);
            return -1;
        }
    }
    fclose(f);
    const char *missing = NULL;
    if (lineno == 0) missing = "everything (empty file)";
    else if (!have_cpu) missing = "cpu";
    else if (l.cores == 0) missing = "cores";
    else if (!have_cache[0] || !have_cache[1] || !have_cache[2]) missing = "a cache size";
    else if (l.fma[RK_ISA_SCALAR][0] <= 0) missing = "fma scalar";
    for (int i = 0; i < RK_PROF_NUM_LEVELS && !missing; i++)
        if (!have_read[i]) missing = "a read bandwidth";
    if (missing) {
        seterr(err, errlen, "missing %s", missing);
        return -1;
    }
    *lim = l;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Work and bound                                                      */
/* ------------------------------------------------------------------ */
int rk_prof_gates(rnnkit_cell cell) {
    switch (cell) {
    case RNNKIT_CELL_LSTM: return 4;
    case RNNKIT_CELL_GRU: return 3;
    default: return 1;
    }
}

/* One layer, one direction. */
typedef struct layer_work {
    double in_flops, rec_flops_step, bytes_step;
} layer_work;

static layer_work layer_of(const rk_prof_shape *s, int64_t l) {
    double G = rk_prof_gates(s->cell), H = (double)s->hidden, N = (double)s->batch, T = (double)s->seq;
    double P = s->proj > 0 ? (double)s->proj : H;
    double in = l == 0 ? (double)s->input : (double)s->dirs * P;
    layer_work w;
    w.in_flops = 2.0 * T * N * G * H * in;
    w.rec_flops_step = 2.0 * N * G * H * P + (s->proj > 0 ? 2.0 * N * P * H : 0);
    w.bytes_step = 4.0 * (G * H * P + (s->proj > 0 ? P * H : 0));
    return w;
}

void rk_prof_count(const rk_prof_shape *s, rk_prof_work *w) {
    memset(w, 0, sizeof *w);
    double D = (double)s->dirs, T = (double)s->seq;
    for (int64_t l = 0; l < s->layers; l++) {
        layer_work lw = layer_of(s, l);
        w->input_flops += D * lw.in_flops;
        w->recurrent_flops += D * T * lw.rec_flops_step;
        w->weight_bytes_step += D * lw.bytes_step;
    }
    w->total_flops = w->input_flops + w->recurrent_flops;
}

int rk_prof_level(double weight_bytes, int threads, const double cache_size[3]) {
    double per = weight_bytes / (threads > 1 ? threads : 1);
    if (per <= cache_size[0]) return RK_LEVEL_L1;
    if (per <= cache_size[1]) return RK_LEVEL_L2;
    if (weight_bytes <= cache_size[2]) return RK_LEVEL_L3;
    return RK_LEVEL_DRAM;
}

int rk_prof_bound_of(const rk_prof_shape *s, const rk_limits *lim, int isa, int threads, rk_prof_bound *out) {
    out->seconds = 0;
    out->limit = RK_LIMIT_FMA;
    double peak = rk_limits_fma(lim, isa, threads) * 1e9;
    if (peak <= 0) return -1;
    double D = (double)s->dirs, T = (double)s->seq, worst = -1;
    for (int64_t l = 0; l < s->layers; l++) {
        layer_work lw = layer_of(s, l);
        double bytes = D * lw.bytes_step;
        int level = rk_prof_level(bytes, threads, lim->cache_size);
        double bw = rk_limits_bw(lim, level, threads) * 1e9;
        double t_mem = bw > 0 ? bytes / bw : 0;
        double t_fma = D * lw.rec_flops_step / peak;
        double t_in = D * lw.in_flops / peak;
        double t = T * (t_mem > t_fma ? t_mem : t_fma) + t_in;
        out->seconds += t;
        if (t > worst) {
            worst = t;
            out->limit = t_mem > t_fma && T * t_mem > t_in ? level : RK_LIMIT_FMA;
        }
    }
    return 0;
}

void rk_prof_finish_row(rk_prof_row *r, const rk_limits *lim) {
    rk_prof_work w;
    rk_prof_count(&r->shape, &w);
    const double T = (double)r->shape.seq, sec = r->seconds;
    const int no_bound = rk_prof_bound_of(&r->shape, lim, r->isa, r->threads, &r->bound);
    if (no_bound) r->bound.seconds = 0;
    r->us_per_step = r->cells_per_s = r->gflops = r->gbps = r->pct = 0;
    if (sec <= 0) return; /* not timed (--bounds): the bound alone */
    r->us_per_step = sec / T * 1e6;
    r->cells_per_s = T * (double)r->shape.batch / sec;
    r->gflops = w.total_flops / sec * 1e-9;
    r->gbps = w.weight_bytes_step * T / sec * 1e-9;
    if (!no_bound) r->pct = r->bound.seconds / sec * 100.0;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */
static const char help_text[] =
    "usage: rnnkit prof [options]\n"
    "\n"
    "Measures this machine's limits (FMA peak per ISA, read bandwidth of L1, L2,\n"
    "L3 and memory, on 1 thread and all cores; cached in\n"
    "$XDG_CACHE_HOME/rnnkit/limits-<cpu>.txt, else ~/.cache/rnnkit/), then times\n"
    "rnnkit_forward per shape (warm-up, repeated for --time seconds, median) and\n"
    "prints per shape: microseconds per time step, cells/s (T*batch per second),\n"
    "GFLOP/s, GB/s of recurrent weights streamed, the bound that applies and its\n"
    "time per step, which limit it is (FMA, L1, L2, L3, DRAM) and the percentage\n"
    "of the bound reached.\n"
    "\n"
    "The bound per layer: T * max(recurrent weight bytes / bandwidth of the cache\n"
    "level they fit in, recurrent flops / FMA peak) + input projection flops / FMA\n"
    "peak. Weights fit L1/L2 when one thread's share does, L3 when all of them do.\n"
    "\n"
    "What to profile (default: the built-in grid of random-weight models,\n"
    "PyTorch layout, input size = hidden size):\n"
    "  --weights FILE    a model file (.safetensors) instead of the grid\n"
    "  --cell LIST       grid cells: lstm, gru, rnn (tanh), rnn-relu\n"
    "                    (default lstm,gru,rnn)\n"
    "  --hidden LIST     grid hidden sizes (default 128,256,512)\n"
    "  --input LIST      grid input sizes (default: equal to the hidden size)\n"
    "  --layers N        grid layers (default 1)\n"
    "  --dirs N          grid directions: 1, or 2 for bidirectional (default 1)\n"
    "  --batch LIST      batch sizes (default 1,16)\n"
    "  --seq LIST        sequence lengths T (default 50)\n"
    "  --threads LIST    thread counts (default 1)\n"
    "  --isa LIST        scalar, avx2, avx512, neon (default: the active ISA)\n"
    "  --time SEC        time spent per shape (default 0.2)\n"
    "  --bounds          only the bound of each shape (and its limit), from the\n"
    "                    machine limits; nothing is timed, the measured\n"
    "                    columns stay empty (for comparing other engines'\n"
    "                    timings with the same bound: scripts/compare.sh)\n"
    "\n"
    "Output:\n"
    "  --json            JSON (limits and rows) instead of the table\n"
    "  --csv             CSV rows instead of the table\n"
    "  --plot FILE.svg   also write an SVG plot: GFLOP/s against hidden size,\n"
    "                    one line per (cell, isa, batch, ...)\n"
    "  --remeasure       measure the machine limits again (and update the cache)\n"
    "  -h, --help        this help\n"
    "\n"
    "LIST is comma-separated (1,8,64). A progress line goes to stderr when it is\n"
    "a terminal. RNNKIT_ISA and OMP_NUM_THREADS apply as usual.\n";

static int parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_cell(const char *s, int *out) {
    if (!strcmp(s, "lstm")) *out = RNNKIT_CELL_LSTM;
    else if (!strcmp(s, "gru")) *out = RNNKIT_CELL_GRU;
    else if (!strcmp(s, "rnn") || !strcmp(s, "rnn-tanh")) *out = RNNKIT_CELL_RNN_TANH;
    else if (!strcmp(s, "rnn-relu")) *out = RNNKIT_CELL_RNN_RELU;
    else return -1;
    return 0;
}

static int parse_isa(const char *s, int *out) {
    *out = rk_prof_isa_index(s);
    return *out < 0 ? -1 : 0;
}

enum { LIST_INT, LIST_CELL, LIST_ISA };

static int parse_list(const char *opt, const char *arg, int kind, long hi, rk_prof_list *l, char *err,
                      size_t errlen) {
    l->n = 0;
    const char *p = arg;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item) {
            seterr(err, errlen, "%s: empty or overlong item in \"%.40s\"", opt, arg);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        if (l->n == RK_PROF_MAX_LIST) {
            seterr(err, errlen, "%s: more than %d values", opt, RK_PROF_MAX_LIST);
            return -1;
        }
        int v, bad;
        if (kind == LIST_CELL) bad = parse_cell(item, &v);
        else if (kind == LIST_ISA) bad = parse_isa(item, &v);
        else bad = parse_int(item, 1, hi, &v);
        if (bad) {
            if (kind == LIST_CELL)
                seterr(err, errlen, "%s: unknown cell \"%s\" (lstm, gru, rnn, rnn-relu)", opt, item);
            else if (kind == LIST_ISA)
                seterr(err, errlen, "%s: unknown ISA \"%s\" (scalar, avx2, avx512, neon)", opt, item);
            else
                seterr(err, errlen, "%s: \"%s\" is not an integer in 1..%ld", opt, item, hi);
            return -1;
        }
        l->v[l->n++] = v;
        p += len;
        if (!*p) break;
        p++;
    }
    return 0;
}

static void set_list(rk_prof_list *l, int n, const int *v) {
    l->n = n;
    for (int i = 0; i < n; i++) l->v[i] = v[i];
}

int rk_prof_parse(int argc, char **argv, rk_prof_opts *o, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    o->layers = 1;
    o->dirs = 1;
    o->seconds = 0.2;
    int grid_only = 0;
    char grid_opt[32] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char name[32];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        static const char *const flags[] = {"--json", "--csv", "--remeasure", "--bounds"};
        int is_flag = 0;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) is_flag |= !strcmp(name, flags[k]);
        if (is_flag) {
            if (val) {
                seterr(err, errlen, "%s: takes no value", name);
                return -1;
            }
            if (!strcmp(name, "--json") || !strcmp(name, "--csv")) {
                rk_prof_format fmt = !strcmp(name, "--json") ? RK_PROF_JSON : RK_PROF_CSV;
                if (o->format != RK_PROF_TABLE && o->format != fmt) {
                    seterr(err, errlen, "%s: --json and --csv exclude each other", name);
                    return -1;
                }
                o->format = fmt;
            } else if (!strcmp(name, "--bounds")) {
                o->bounds_only = 1;
            } else {
                o->remeasure = 1;
            }
            continue;
        }
        static const char *const valued[] = {"--weights", "--plot",  "--batch", "--seq",    "--threads", "--isa",
                                             "--hidden",  "--input", "--cell",  "--layers", "--dirs",
                                             "--time"};
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= !strcmp(name, valued[k]);
        if (!known) {
            seterr(err, errlen, "%s: unknown %s (see rnnkit prof --help)", a, a[0] == '-' ? "option" : "argument");
            return -1;
        }
        if (!val) {
            if (i + 1 >= argc) {
                seterr(err, errlen, "%s: needs a value", name);
                return -1;
            }
            val = argv[++i];
        }
        if (!val[0]) {
            seterr(err, errlen, "%s: empty value", name);
            return -1;
        }
        int rc = 0;
        if (!strcmp(name, "--weights")) o->weights = val;
        else if (!strcmp(name, "--plot")) o->plot = val;
        else if (!strcmp(name, "--batch")) rc = parse_list(name, val, LIST_INT, 1 << 16, &o->batch, err, errlen);
        else if (!strcmp(name, "--seq")) rc = parse_list(name, val, LIST_INT, 1 << 20, &o->seq, err, errlen);
        else if (!strcmp(name, "--threads")) rc = parse_list(name, val, LIST_INT, 1024, &o->threads, err, errlen);
        else if (!strcmp(name, "--isa")) rc = parse_list(name, val, LIST_ISA, 0, &o->isas, err, errlen);
        else if (!strcmp(name, "--time")) {
            char *end;
            double s = strtod(val, &end);
            if (end == val || *end || !(s >= 0.001 && s <= 600)) {
                seterr(err, errlen, "%s: \"%s\" is not a number of seconds in 0.001..600", name, val);
                return -1;
            }
            o->seconds = s;
        } else {
            grid_only = 1;
            snprintf(grid_opt, sizeof grid_opt, "%s", name);
            if (!strcmp(name, "--hidden")) rc = parse_list(name, val, LIST_INT, 16384, &o->hidden, err, errlen);
            else if (!strcmp(name, "--input")) rc = parse_list(name, val, LIST_INT, 16384, &o->input, err, errlen);
            else if (!strcmp(name, "--cell")) rc = parse_list(name, val, LIST_CELL, 0, &o->cells, err, errlen);
            else if (!strcmp(name, "--dirs")) {
                if (parse_int(val, 1, 2, &o->dirs)) {
                    seterr(err, errlen, "%s: \"%s\" is not 1 or 2", name, val);
                    return -1;
                }
            } else if (parse_int(val, 1, 64, &o->layers)) {
                seterr(err, errlen, "%s: \"%s\" is not an integer in 1..64", name, val);
                return -1;
            }
        }
        if (rc) return -1;
    }
    if (o->bounds_only && o->plot) {
        seterr(err, errlen, "--plot: plots timings; --bounds times nothing");
        return -1;
    }
    if (o->weights && grid_only) {
        seterr(err, errlen, "%s: applies to the built-in grid, not to --weights", grid_opt);
        return -1;
    }
    static const int def_batch[] = {1, 16}, def_seq[] = {50}, def_threads[] = {1}, def_hidden[] = {128, 256, 512};
    static const int def_cells[] = {RNNKIT_CELL_LSTM, RNNKIT_CELL_GRU, RNNKIT_CELL_RNN_TANH};
    if (!o->batch.n) set_list(&o->batch, 2, def_batch);
    if (!o->seq.n) set_list(&o->seq, 1, def_seq);
    if (!o->threads.n) set_list(&o->threads, 1, def_threads);
    if (!o->hidden.n) set_list(&o->hidden, 3, def_hidden);
    if (!o->cells.n) set_list(&o->cells, 3, def_cells);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */
void rk_prof_print_table(FILE *f, const rk_prof_row *rows, size_t n) {
    fprintf(f, "%-8s %5s %5s %2s %1s %5s %5s %3s %-6s %10s %9s %8s %8s %10s %-5s %6s\n", "cell", "I", "H", "L",
            "D", "batch", "T", "thr", "isa", "us/step", "Mcells/s", "GFLOP/s", "W GB/s", "bound us", "limit",
            "%bound");
    for (size_t i = 0; i < n; i++) {
        const rk_prof_row *r = &rows[i];
        const rk_prof_shape *s = &r->shape;
        fprintf(f, "%-8s %5lld %5lld %2lld %1lld %5lld %5lld %3d %-6s ", cell_name(s->cell), (long long)s->input,
                (long long)s->hidden, (long long)s->layers, (long long)s->dirs, (long long)s->batch,
                (long long)s->seq, r->threads, isa_names[r->isa]);
        if (r->seconds > 0)
            fprintf(f, "%10.3f %9.4g %8.2f %8.2f ", r->us_per_step, r->cells_per_s * 1e-6, r->gflops, r->gbps);
        else
            fprintf(f, "%10s %9s %8s %8s ", "-", "-", "-", "-");
        fprintf(f, "%10.3f %-5s ", r->bound.seconds / (double)s->seq * 1e6, rk_prof_limit_name(r->bound.limit));
        if (r->seconds > 0)
            fprintf(f, "%5.1f%%\n", r->pct);
        else
            fprintf(f, "%6s\n", "-");
    }
}

void rk_prof_print_csv(FILE *f, const rk_prof_row *rows, size_t n) {
    fprintf(f, "cell,input,hidden,proj,layers,dirs,batch,seq,threads,isa,us_per_step,cells_per_s,gflops,"
               "weight_gbps,bound_us_per_step,limit,pct_of_bound\n");
    for (size_t i = 0; i < n; i++) {
        const rk_prof_row *r = &rows[i];
        const rk_prof_shape *s = &r->shape;
        fprintf(f, "%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d,%s,", cell_name(s->cell), (long long)s->input,
                (long long)s->hidden, (long long)s->proj, (long long)s->layers, (long long)s->dirs,
                (long long)s->batch, (long long)s->seq, r->threads, isa_names[r->isa]);
        if (r->seconds > 0)
            fprintf(f, "%.4f,%.1f,%.4f,%.4f,", r->us_per_step, r->cells_per_s, r->gflops, r->gbps);
        else
            fputs(",,,,", f);
        fprintf(f, "%.4f,%s,", r->bound.seconds / (double)s->seq * 1e6, rk_prof_limit_name(r->bound.limit));
        if (r->seconds > 0)
            fprintf(f, "%.2f\n", r->pct);
        else
            fputs("\n", f);
    }
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void rk_prof_print_json(FILE *f, const rk_limits *lim, const rk_prof_row *rows, size_t n) {
    fprintf(f, "{\n  \"limits\": {\n    \"cpu\": ");
    json_string(f, lim->cpu);
    fprintf(f, ",\n    \"cores\": %d,\n    \"cache_bytes\": {\"L1\": %.0f, \"L2\": %.0f, \"L3\": %.0f},\n", lim->cores,
            lim->cache_size[0], lim->cache_size[1], lim->cache_size[2]);
    fprintf(f, "    \"fma_gflops\": {");
    int first = 1;
    for (int isa = 0; isa < RK_PROF_NUM_ISAS; isa++) {
        if (lim->fma[isa][0] <= 0) continue;
        fprintf(f, "%s\"%s\": {\"1\": %.2f, \"%d\": %.2f}", first ? "" : ", ", isa_names[isa], lim->fma[isa][0],
                lim->cores, lim->fma[isa][1]);
        first = 0;
    }
    fprintf(f, "},\n    \"read_gbps\": {");
    for (int lv = 0; lv < RK_PROF_NUM_LEVELS; lv++)
        fprintf(f, "%s\"%s\": {\"1\": %.2f, \"%d\": %.2f}", lv ? ", " : "", limit_names[lv], lim->bw[lv][0],
                lim->cores, lim->bw[lv][1]);
    fprintf(f, "}\n  },\n  \"rows\": [");
    for (size_t i = 0; i < n; i++) {
        const rk_prof_row *r = &rows[i];
        const rk_prof_shape *s = &r->shape;
        fprintf(f,
                "%s\n    {\"cell\": \"%s\", \"input\": %lld, \"hidden\": %lld, \"proj\": %lld, \"layers\": %lld, "
                "\"dirs\": %lld, \"batch\": %lld, \"seq\": %lld, \"threads\": %d, \"isa\": \"%s\", ",
                i ? "," : "", cell_name(s->cell), (long long)s->input, (long long)s->hidden, (long long)s->proj,
                (long long)s->layers, (long long)s->dirs, (long long)s->batch, (long long)s->seq, r->threads,
                isa_names[r->isa]);
        if (r->seconds > 0)
            fprintf(f, "\"us_per_step\": %.4f, \"cells_per_s\": %.1f, \"gflops\": %.4f, \"weight_gbps\": %.4f, ",
                    r->us_per_step, r->cells_per_s, r->gflops, r->gbps);
        else
            fputs("\"us_per_step\": null, \"cells_per_s\": null, \"gflops\": null, \"weight_gbps\": null, ", f);
        fprintf(f, "\"bound_us_per_step\": %.4f, \"limit\": \"%s\", ", r->bound.seconds / (double)s->seq * 1e6,
                rk_prof_limit_name(r->bound.limit));
        if (r->seconds > 0)
            fprintf(f, "\"pct_of_bound\": %.2f}", r->pct);
        else
            fputs("\"pct_of_bound\": null}", f);
    }
    fprintf(f, "%s]\n}\n", n ? "\n  " : "");
}

static void print_limits(FILE *f, const rk_limits *lim, const char *source) {
    fprintf(f, "machine: %s, %d core%s; L1d %.0f KiB, L2 %.0f KiB, L3 %.0f MiB (per sysfs)\n", lim->cpu, lim->cores,
            lim->cores > 1 ? "s" : "", lim->cache_size[0] / 1024, lim->cache_size[1] / 1024,
            lim->cache_size[2] / (1024 * 1024));
    fprintf(f, "limits %s\n", source);
    fprintf(f, "  %-22s %10s %10s\n", "", "1 thread", "all cores");
    for (int isa = 0; isa < RK_PROF_NUM_ISAS; isa++)
        if (lim->fma[isa][0] > 0)
            fprintf(f, "  FMA peak %-6s GFLOP/s %10.1f %10.1f\n", isa_names[isa], lim->fma[isa][0], lim->fma[isa][1]);
    for (int lv = 0; lv < RK_PROF_NUM_LEVELS; lv++)
        fprintf(f, "  read %-6s GB/s       %10.1f %10.1f\n", limit_names[lv], lim->bw[lv][0], lim->bw[lv][1]);
    fputc('\n', f);
}

/* ------------------------------------------------------------------ */
/* SVG                                                                 */
/* ------------------------------------------------------------------ */
static int same_series(const rk_prof_row *a, const rk_prof_row *b) {
    const rk_prof_shape *s = &a->shape, *t = &b->shape;
    return s->cell == t->cell && a->isa == b->isa && s->batch == t->batch && a->threads == b->threads &&
           s->seq == t->seq && s->layers == t->layers && s->dirs == t->dirs && s->proj == t->proj;
}

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

/* 1, 2 or 5 times a power of ten, at least v / 5. */
static double nice_step(double v) {
    double raw = v / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int rk_prof_svg(FILE *f, const rk_prof_row *rows, size_t n, const char *title) {
    static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    static const char *const dashes[RK_PROF_NUM_ISAS] = {"2 3", "", "7 3", "4 2"};
    const double W = 860, Hh = 500, left = 70, right = 230, top = 52, bottom = 62;
    const double pw = W - left - right, ph = Hh - top - bottom;
    /* Series: index of the first row of each. */
    size_t *first = malloc((n ? n : 1) * sizeof *first);
    double *xs = malloc((n ? n : 1) * sizeof *xs);
    if (!first || !xs) {
        free(first);
        free(xs);
        return -1;
    }
    size_t ns = 0, nx = 0;
    double ymax = 0, xmin = 1e300, xmax = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < ns && !same_series(&rows[first[k]], &rows[i])) k++;
        if (k == ns) first[ns++] = i;
        double h = (double)rows[i].shape.hidden;
        if (rows[i].gflops > ymax) ymax = rows[i].gflops;
        if (h < xmin) xmin = h;
        if (h > xmax) xmax = h;
        size_t j = 0;
        while (j < nx && xs[j] != h) j++;
        if (j == nx) xs[nx++] = h;
    }
    qsort(xs, nx, sizeof *xs, cmp_double);
    if (n == 0) xmin = xmax = 1;
    double lx0 = log2(xmin), lx1 = log2(xmax);
    if (lx1 - lx0 < 1e-9) {
        lx0 -= 1;
        lx1 += 1;
    } else {
        double pad = 0.06 * (lx1 - lx0);
        lx0 -= pad;
        lx1 += pad;
    }
    if (ymax <= 0) ymax = 1;
    double ystep = nice_step(ymax * 1.05), ytop = ceil(ymax * 1.05 / ystep) * ystep;
#define PX(h) (left + (log2(h) - lx0) / (lx1 - lx0) * pw)
#define PY(v) (top + ph - (v) / ytop * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"13\">\n",
            W, Hh, W, Hh);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, Hh);
    /* Which fields vary between series: only those go in the legend,
     * the others under the title. */
    int vary_cell = 0, vary_isa = 0, vary_batch = 0, vary_thr = 0, vary_seq = 0;
    for (size_t k = 1; k < ns; k++) {
        const rk_prof_row *a = &rows[first[0]], *b = &rows[first[k]];
        vary_cell |= a->shape.cell != b->shape.cell;
        vary_isa |= a->isa != b->isa;
        vary_batch |= a->shape.batch != b->shape.batch;
        vary_thr |= a->threads != b->threads;
        vary_seq |= a->shape.seq != b->shape.seq;
    }
    fprintf(f, "<text x=\"%.1f\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">", left + pw / 2);
    xml_text(f, title ? title : "rnnkit prof");
    fprintf(f, "</text>\n");
    if (ns > 0) {
        const rk_prof_row *a = &rows[first[0]];
        fprintf(f, "<text x=\"%.1f\" y=\"38\" text-anchor=\"middle\" fill=\"#555555\">", left + pw / 2);
        if (!vary_cell) fprintf(f, "%s, ", cell_name(a->shape.cell));
        if (!vary_batch) fprintf(f, "batch %lld, ", (long long)a->shape.batch);
        if (!vary_isa) fprintf(f, "%s, ", isa_names[a->isa]);
        if (!vary_thr) fprintf(f, "%d thread%s, ", a->threads, a->threads > 1 ? "s" : "");
        if (!vary_seq) fprintf(f, "T %lld, ", (long long)a->shape.seq);
        fprintf(f, "input size %s</text>\n", a->shape.input == a->shape.hidden ? "= hidden" : "fixed");
    }
    /* Grid and ticks. */
    for (double v = 0; v <= ytop + ystep * 1e-6; v += ystep) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n", left, PY(v),
                left + pw, PY(v));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", left - 6, PY(v) + 4, v);
    }
    for (size_t j = 0; j < nx; j++) {
        double x = PX(xs[j]);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", x, top, x, top + ph);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x, top + ph, x,
                top + ph + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x, top + ph + 19, xs[j]);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", left,
            top, pw, ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">hidden size (log scale)</text>\n", left + pw / 2,
            Hh - 18);
    fprintf(f, "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">GFLOP/s</text>\n",
            top + ph / 2, top + ph / 2);
    for (size_t k = 0; k < ns; k++) {
        const rk_prof_row *s0 = &rows[first[k]];
        const char *color = colors[k % (sizeof colors / sizeof colors[0])];
        const char *dash = dashes[s0->isa];
        /* Points of this series in hidden order. */
        size_t m = 0;
        double *px = malloc(n * 2 * sizeof *px);
        if (!px) {
            free(first);
            free(xs);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if (same_series(&rows[i], s0)) {
                px[2 * m] = (double)rows[i].shape.hidden;
                px[2 * m + 1] = rows[i].gflops;
                m++;
            }
        qsort(px, m, 2 * sizeof *px, cmp_double);
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s points=\"", color,
                dash[0] ? " stroke-dasharray=\"" : "", dash, dash[0] ? "\"" : "");
        for (size_t i = 0; i < m; i++) fprintf(f, "%s%.1f,%.1f", i ? " " : "", PX(px[2 * i]), PY(px[2 * i + 1]));
        fprintf(f, "\"/>\n");
        for (size_t i = 0; i < m; i++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", PX(px[2 * i]), PY(px[2 * i + 1]),
                    color);
        free(px);
        char label[128];
        int o = snprintf(label, sizeof label, "%s", "");
        if (vary_cell) o += snprintf(label + o, sizeof label - (size_t)o, "%s ", cell_name(s0->shape.cell));
        if (vary_isa) o += snprintf(label + o, sizeof label - (size_t)o, "%s ", isa_names[s0->isa]);
        if (vary_batch)
            o += snprintf(label + o, sizeof label - (size_t)o, "batch %lld ", (long long)s0->shape.batch);
        if (vary_thr) o += snprintf(label + o, sizeof label - (size_t)o, "%d thr ", s0->threads);
        if (vary_seq) o += snprintf(label + o, sizeof label - (size_t)o, "T %lld ", (long long)s0->shape.seq);
        if (o > 0 && label[o - 1] == ' ') label[o - 1] = 0;
        if (!label[0]) snprintf(label, sizeof label, "%s %s batch %lld", cell_name(s0->shape.cell),
                                isa_names[s0->isa], (long long)s0->shape.batch);
        double ly = top + 10 + 20.0 * (double)k, lx = left + pw + 16;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s%s%s/>\n",
                lx, ly, lx + 28, ly, color, dash[0] ? " stroke-dasharray=\"" : "", dash, dash[0] ? "\"" : "");
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", lx + 14, ly, color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 36, ly + 4);
        xml_text(f, label);
        fprintf(f, "</text>\n");
    }
#undef PX
#undef PY
    fprintf(f, "</svg>\n");
    free(first);
    free(xs);
    return ferror(f) ? -1 : (int)ns;
}

/* ------------------------------------------------------------------ */
/* Profiling                                                           */
/* ------------------------------------------------------------------ */
static void perr(const char *what, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void perr(const char *what, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rnnkit: %s: ", what);
    for (const char *p = msg; *p; p++) fputc((unsigned char)*p < 0x20 ? ' ' : *p, stderr);
    fputc('\n', stderr);
}

static int lib_err(const char *what, rnnkit_status st) {
    const char *m = rnnkit_last_error();
    size_t n = strlen(what);
    if (!m[0]) m = rnnkit_status_string(st);
    /* Library messages often start with the file name already. */
    if (strncmp(m, what, n) == 0 && m[n] == ':') m += n + 1 + (m[n + 1] == ' ');
    perr(what, "%s", m);
    return EXIT_FAIL_;
}

static float uniform(uint64_t *state, float bound) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return bound * (2.0f * (float)(z >> 40) / (float)(1 << 24) - 1.0f);
}

static void fill(float *p, size_t n, uint64_t *state, float bound) {
    for (size_t i = 0; i < n; i++) p[i] = uniform(state, bound);
}

/* A PyTorch-layout model with random weights (uniform +-1/sqrt(H), as
 * PyTorch initialises them). */
static rnnkit_status grid_model(rnnkit_cell cell, int64_t in, int64_t hid, int64_t layers, int64_t dirs,
                                rnnkit_model **out) {
    enum { KINDS = 4 };
    int64_t G = rk_prof_gates(cell);
    size_t nt = (size_t)(KINDS * layers * dirs);
    rnnkit_tensor *t = calloc(nt, sizeof *t);
    char(*names)[32] = calloc(nt, sizeof *names);
    float **bufs = calloc(nt, sizeof *bufs);
    rnnkit_status st = RNNKIT_STATUS_OUT_OF_MEMORY;
    uint64_t seed = 0x5EED0000u + (uint64_t)hid;
    float bound = 1.0f / sqrtf((float)hid);
    if (!t || !names || !bufs) goto done;
    for (int64_t ld = 0; ld < layers * dirs; ld++) {
        static const char *const kinds[KINDS] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
        const int64_t l = ld / dirs;
        for (int k = 0; k < KINDS; k++) {
            size_t i = (size_t)(KINDS * ld + k);
            int64_t cols = k == 0 ? (l == 0 ? in : dirs * hid) : k == 1 ? hid : 1;
            size_t count = (size_t)(G * hid * cols);
            bufs[i] = malloc(count * sizeof(float));
            if (!bufs[i]) goto done;
            fill(bufs[i], count, &seed, bound);
            snprintf(names[i], sizeof names[i], "%s%lld%s", kinds[k], (long long)l, ld % dirs ? "_reverse" : "");
            t[i].name = names[i];
            t[i].data = bufs[i];
            t[i].ndim = k < 2 ? 2 : 1;
            t[i].shape[0] = G * hid;
            t[i].shape[1] = k < 2 ? cols : 0;
        }
    }
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.layout = RNNKIT_LAYOUT_PYTORCH;
    d.cell = cell;
    st = rnnkit_model_create(&d, t, nt, out);
done:
    if (bufs)
        for (size_t i = 0; i < nt; i++) free(bufs[i]);
    free(bufs);
    free(names);
    free(t);
    return st;
}

static int cmp_sec(const void *a, const void *b) { return cmp_double(a, b); }

/* Median time of one rnnkit_forward call: warm-up, then calls until
 * budget seconds have passed (at least 3 calls, at most 4096). */
static rnnkit_status time_forward(const rnnkit_model *m, const rk_prof_shape *s, int threads, double budget,
                                  double *median) {
    rnnkit_model_info info;
    rnnkit_status st = rnnkit_model_get_info(m, &info);
    if (st) return st;
    size_t ws = 0;
    st = rnnkit_workspace_size(m, s->seq, s->batch, &ws);
    if (st) return st;
    size_t T = (size_t)s->seq, N = (size_t)s->batch, LD = (size_t)(info.num_layers * info.num_directions);
    size_t nx = T * N * (size_t)info.input_size, ny = T * N * (size_t)(info.num_directions * info.output_size);
    size_t nh = LD * N * (size_t)info.output_size, nc = LD * N * (size_t)info.hidden_size;
    enum { MAX_SAMPLES = 4096 };
    float *x = alloc_floats(nx), *y = alloc_floats(ny), *hn = alloc_floats(nh), *cn = alloc_floats(nc);
    void *work = ws ? rnnkit_buffer_alloc(ws) : NULL;
    double *samples = malloc(MAX_SAMPLES * sizeof *samples);
    st = RNNKIT_STATUS_OUT_OF_MEMORY;
    if (!x || !y || !hn || !cn || (ws && !work) || !samples) goto done;
    uint64_t seed = 42;
    fill(x, nx, &seed, 1.0f);
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = s->seq;
    a.batch = s->batch;
    a.batch_major = info.layout == RNNKIT_LAYOUT_ONNX ? info.onnx_layout : 0;
    a.x = x;
    a.y = y;
    a.hn = hn;
    a.cn = info.cell == RNNKIT_CELL_LSTM ? cn : NULL;
    a.workspace = work;
    a.workspace_size = ws;
    a.num_threads = threads;
    double t0 = now_s();
    st = rnnkit_forward(m, &a);
    if (st) goto done;
    if (now_s() - t0 < budget / 20) {
        st = rnnkit_forward(m, &a);
        if (st) goto done;
    }
    int k = 0;
    double start = now_s();
    while (k < MAX_SAMPLES && (k < 3 || now_s() - start < budget)) {
        double t = now_s();
        st = rnnkit_forward(m, &a);
        samples[k++] = now_s() - t;
        if (st) goto done;
    }
    qsort(samples, (size_t)k, sizeof *samples, cmp_sec);
    *median = k % 2 ? samples[k / 2] : 0.5 * (samples[k / 2 - 1] + samples[k / 2]);
done:
    free(x);
    free(y);
    free(hn);
    free(cn);
    rnnkit_buffer_free(work);
    free(samples);
    return st;
}

static int get_limits(const rk_prof_opts *o, rk_limits *lim, char *source, size_t srclen) {
    char cpu[128], key[160], path[4096], err[256];
    cpu_model(cpu, sizeof cpu);
    snprintf(key, sizeof key, "%s-%dc", cpu, max_threads());
    int have_path = rk_limits_cache_path(path, sizeof path, key) == 0;
    int show = isatty(2);
    if (have_path && !o->remeasure) {
        if (rk_limits_load(path, lim, err, sizeof err) == 0) {
            snprintf(source, srclen, "(cached in %s; --remeasure to redo)", path);
            return 0;
        }
        if (errno != ENOENT && strncmp(err, "cannot open", 11)) perr(path, "%s; measuring again", err);
    }
    rk_limits_measure(lim, show);
    if (have_path) {
        if (rk_limits_save(path, lim, err, sizeof err)) {
            perr(path, "%s (limits not cached)", err);
            snprintf(source, srclen, "(measured now, not cached)");
        } else {
            snprintf(source, srclen, "(measured now, cached in %s)", path);
        }
    } else {
        snprintf(source, srclen, "(measured now; neither XDG_CACHE_HOME nor HOME set, not cached)");
    }
    return 0;
}

typedef struct grid_model_spec {
    rnnkit_cell cell;
    int input, hidden;
} grid_model_spec;

int rk_cli_prof(int argc, char **argv) {
    rk_prof_opts o;
    char err[512];
    int rc = rk_prof_parse(argc, argv, &o, err, sizeof err);
    if (rc == 1) {
        fputs(help_text, stdout);
        return EXIT_OK_;
    }
    if (rc) {
        fprintf(stderr, "rnnkit: %s\n", err);
        return EXIT_USAGE_;
    }
    int isas[RK_PROF_MAX_LIST], nisa = o.isas.n;
    for (int i = 0; i < nisa; i++) {
        isas[i] = o.isas.v[i];
        if (!rnnkit_isa_supported(isa_names[isas[i]])) {
            perr("--isa", "%s is not available on this CPU or build", isa_names[isas[i]]);
            return EXIT_USAGE_;
        }
    }
    if (nisa == 0) {
        isas[0] = rk_prof_isa_index(rnnkit_isa_active());
        if (isas[0] < 0) isas[0] = RK_ISA_SCALAR;
        nisa = 1;
    }
    FILE *plot = NULL;
    if (o.plot) {
        plot = fopen(o.plot, "w");
        if (!plot) {
            perr(o.plot, "cannot write: %s", strerror(errno));
            return EXIT_FAIL_;
        }
    }
    /* Models: the file once per ISA, or the grid. */
    size_t nmodels = o.weights ? 1 : (size_t)o.cells.n * (size_t)o.hidden.n * (size_t)(o.input.n ? o.input.n : 1);
    grid_model_spec *specs = calloc(nmodels, sizeof *specs);
    size_t per_model = (size_t)o.batch.n * (size_t)o.seq.n * (size_t)o.threads.n;
    size_t total = nmodels * per_model * (size_t)nisa;
    rk_prof_row *rows = calloc(total, sizeof *rows);
    if (!specs || !rows) {
        free(specs);
        free(rows);
        if (plot) fclose(plot);
        perr("prof", "out of memory");
        return EXIT_FAIL_;
    }
    size_t m = 0;
    if (!o.weights)
        for (int c = 0; c < o.cells.n; c++)
            for (int h = 0; h < o.hidden.n; h++)
                for (int i = 0; i < (o.input.n ? o.input.n : 1); i++) {
                    specs[m].cell = (rnnkit_cell)o.cells.v[c];
                    specs[m].hidden = o.hidden.v[h];
                    specs[m].input = o.input.n ? o.input.v[i] : o.hidden.v[h];
                    m++;
                }
    rk_limits lim;
    char source[4300];
    get_limits(&o, &lim, source, sizeof source);
    int show = isatty(2);
    size_t nrows = 0;
    int status = EXIT_OK_;
    for (int ii = 0; ii < nisa && status == EXIT_OK_; ii++) {
        rnnkit_status st = rnnkit_isa_select(isa_names[isas[ii]]);
        if (st) {
            status = lib_err("--isa", st);
            break;
        }
        for (size_t mi = 0; mi < nmodels && status == EXIT_OK_; mi++) {
            rnnkit_model *model = NULL;
            const char *what = o.weights ? o.weights : "model";
            rnnkit_model_info info;
            if (o.bounds_only && !o.weights) {
                /* Nothing to time: the grid's shape alone, no model. */
                memset(&info, 0, sizeof info);
                info.cell = specs[mi].cell;
                info.input_size = specs[mi].input;
                info.hidden_size = specs[mi].hidden;
                info.num_layers = o.layers;
                info.num_directions = o.dirs;
                info.isa = isa_names[isas[ii]];
            } else {
                st = o.weights ? rnnkit_model_load(o.weights, &model)
                               : grid_model(specs[mi].cell, specs[mi].input, specs[mi].hidden, o.layers, o.dirs,
                                            &model);
                if (st) {
                    status = lib_err(what, st);
                    break;
                }
                rnnkit_model_get_info(model, &info);
            }
            int isa = rk_prof_isa_index(info.isa);
            for (int b = 0; b < o.batch.n && status == EXIT_OK_; b++)
                for (int s = 0; s < o.seq.n && status == EXIT_OK_; s++)
                    for (int t = 0; t < o.threads.n && status == EXIT_OK_; t++) {
                        rk_prof_row *r = &rows[nrows];
                        r->shape.cell = info.cell;
                        r->shape.input = info.input_size;
                        r->shape.hidden = info.hidden_size;
                        r->shape.proj = info.proj_size;
                        r->shape.layers = info.num_layers;
                        r->shape.dirs = info.num_directions;
                        r->shape.batch = o.batch.v[b];
                        r->shape.seq = o.seq.v[s];
                        r->threads = o.threads.v[t];
                        r->isa = isa >= 0 ? isa : isas[ii];
                        progress(show, "prof [%zu/%zu] %s I=%lld H=%lld batch=%d T=%d threads=%d %s", nrows + 1, total,
                                 cell_name(info.cell), (long long)info.input_size, (long long)info.hidden_size,
                                 o.batch.v[b], o.seq.v[s], o.threads.v[t], isa_names[r->isa]);
                        r->seconds = 0;
                        st = o.bounds_only ? RNNKIT_STATUS_OK
                                           : time_forward(model, &r->shape, r->threads, o.seconds, &r->seconds);
                        if (st) {
                            progress(show, "%s", "");
                            status = lib_err(what, st);
                            break;
                        }
                        rk_prof_finish_row(r, &lim);
                        nrows++;
                    }
            rnnkit_model_destroy(model);
        }
    }
    rnnkit_isa_select("auto");
    progress(show, "%s", "");
    if (status == EXIT_OK_) {
        if (o.format == RK_PROF_JSON) rk_prof_print_json(stdout, &lim, rows, nrows);
        else if (o.format == RK_PROF_CSV) rk_prof_print_csv(stdout, rows, nrows);
        else {
            print_limits(stdout, &lim, source);
            rk_prof_print_table(stdout, rows, nrows);
        }
        fflush(stdout);
    }
    if (plot) {
        char title[300];
        snprintf(title, sizeof title, "rnnkit forward throughput, %s", lim.cpu);
        int bad = status == EXIT_OK_ && rk_prof_svg(plot, rows, nrows, title) < 0;
        if (fclose(plot) || bad) {
            perr(o.plot, "cannot write: %s", strerror(errno));
            status = EXIT_FAIL_;
        }
    }
    free(specs);
    free(rows);
    return status;
}

int cli_prof(int argc, char **argv) { return rk_cli_prof(argc, argv); }
