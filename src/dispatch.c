/*
 * Runtime CPU dispatch: detect the CPU once, build each compiled ISA's
 * kernel table (a copy of the scalar table overridden by the ISA's lines
 * in simd/kernels.inc), pick the best, honour RNNKIT_ISA and
 * rnnkit_isa_select(). The only file of src/ that names an ISA.
 *
 * Detection runs under call_once-like protection (pthread_once), so it is
 * thread-safe and ThreadSanitizer-clean; the forced choice is an atomic.
 */
#include "dispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "status.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

enum { RK_ISA_SCALAR, RK_ISA_AVX2, RK_ISA_AVX512, RK_ISA_NEON, RK_ISA_COUNT };
static const char *const rk_isa_names[RK_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

static rnnkit_kernels rk_tables[RK_ISA_COUNT];
static int rk_compiled[RK_ISA_COUNT];  /* table built into this binary */
static int rk_supported[RK_ISA_COUNT]; /* CPU and OS support it */
static int rk_best;
static int rk_env_choice = -1; /* from RNNKIT_ISA, -1 if unset */
static char rk_env_bad[64];    /* RNNKIT_ISA value that cannot be used */
static char rk_features[256];
static char rk_reason[256];
static atomic_int rk_forced = -1;
static pthread_once_t rk_once = PTHREAD_ONCE_INIT;

static int isa_index(const char *name) {
    for (int i = 0; i < RK_ISA_COUNT; i++)
        if (strcasecmp(name, rk_isa_names[i]) == 0) return i;
    return -1;
}

static void add_feature(const char *f) {
    size_t len = strlen(rk_features);
    snprintf(rk_features + len, sizeof rk_features - len, "%s%s", len ? "," : "", f);
}

static void detect_cpu(void) {
    rk_supported[RK_ISA_SCALAR] = 1;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    int has_fma = 0, has_avx = 0, has_avx2 = 0, osxsave = 0, ymm_os = 0, zmm_os = 0;
    int has_f = 0, has_bw = 0, has_dq = 0, has_vl = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        if (d & (1u << 26)) add_feature("sse2");
        if (c & (1u << 19)) add_feature("sse4.1");
        has_fma = (c >> 12) & 1;
        osxsave = (c >> 27) & 1;
        has_avx = (c >> 28) & 1;
        if (c & (1u << 29)) add_feature("f16c");
    }
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        (void)hi;
        ymm_os = (lo & 0x6) == 0x6;
        zmm_os = (lo & 0xe6) == 0xe6;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        has_avx2 = (b >> 5) & 1;
        has_f = (b >> 16) & 1;
        has_dq = (b >> 17) & 1;
        has_bw = (b >> 30) & 1;
        has_vl = (b >> 31) & 1;
        if (c & (1u << 11)) add_feature("avx512vnni");
    }
    if (has_avx) add_feature("avx");
    if (has_avx2) add_feature("avx2");
    if (has_fma) add_feature("fma");
    if (has_f) add_feature("avx512f");
    if (has_bw) add_feature("avx512bw");
    if (has_dq) add_feature("avx512dq");
    if (has_vl) add_feature("avx512vl");
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) add_feature("avx512bf16");
    rk_supported[RK_ISA_AVX2] = has_avx && has_avx2 && has_fma && ymm_os;
    rk_supported[RK_ISA_AVX512] = has_f && has_bw && has_dq && has_vl && has_fma && zmm_os;
    if (has_f && !zmm_os)
        snprintf(rk_reason, sizeof rk_reason,
                 "AVX-512F present but the OS has not enabled ZMM state");
    else if (has_avx2 && !ymm_os)
        snprintf(rk_reason, sizeof rk_reason, "AVX2 present but the OS has not enabled YMM state");
#elif defined(__aarch64__)
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    rk_supported[RK_ISA_NEON] = (hw & HWCAP_ASIMD) != 0;
#else
    rk_supported[RK_ISA_NEON] = 1; /* Advanced SIMD is mandatory on AArch64 */
#endif
    if (rk_supported[RK_ISA_NEON]) add_feature("asimd");
#endif
}

/* Whether a 512-bit FMA runs at full width (twice a 256-bit one's FLOPs
 * per cycle) or in two halves: the thread plan weighs a step's arithmetic
 * against its memory traffic and synchronisation with it (the avx512
 * table's flop_scale). Known full: AMD family 1Ah (Zen 5) server and
 * desktop parts, models 00h-1Fh (EPYC 9005) and 40h-4Fh (Ryzen 9000);
 * measured on an EPYC 9005 VM (family 1Ah model 02h), `rnnkit prof`: 234
 * GFLOP/s per core with AVX-512, 110 with AVX2. Zen 4 (family 19h) and
 * Zen 5 mobile parts split 512-bit operations: 117 GFLOP/s with either
 * (shared/NOTES.md). Other CPUs are counted as split, the plan's
 * reference. */
static int avx512_full_width(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d) || b != 0x68747541u /* "Auth"enticAMD */ ||
        !__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const unsigned fam = ((a >> 8) & 0xf) + (((a >> 8) & 0xf) == 0xf ? (a >> 20) & 0xff : 0);
    const unsigned model = ((a >> 4) & 0xf) | (((a >> 16) & 0xf) << 4);
    return fam == 0x1a && (model < 0x20 || (model >= 0x40 && model < 0x50));
#else
    return 0;
#endif
}

static void build_tables(void) {
    rnnkit_kernels *s = &rk_tables[RK_ISA_SCALAR];
    s->isa = "scalar";
    s->row_block = 8;
    s->flop_scale = 1.0;
#define RNNKIT_ISA(name_, nr_)                                                                     \
    rk_tables[isa_index(#name_)] = *s;                                                             \
    rk_tables[isa_index(#name_)].isa = #name_;                                                     \
    rk_tables[isa_index(#name_)].row_block = nr_;                                                  \
    rk_compiled[isa_index(#name_)] = 1;
#define RNNKIT_KERNEL(name_, field_, type_)                                                        \
    rk_tables[isa_index(#name_)].field_ = rnnkit_f32_##field_##__##name_;
#include "simd/kernels.inc"
#undef RNNKIT_ISA
#undef RNNKIT_KERNEL
}

static void init_once(void) {
    build_tables();
    detect_cpu();
    if (avx512_full_width()) rk_tables[RK_ISA_AVX512].flop_scale = 2.0;
    /* Best = the last usable one in enum order (x86 and arm ISAs never
     * coexist; avx512 comes after avx2). */
    rk_best = RK_ISA_SCALAR;
    for (int i = 1; i < RK_ISA_COUNT; i++)
        if (rk_compiled[i] && rk_supported[i]) rk_best = i;
    const char *env = getenv("RNNKIT_ISA");
    if (env && *env && strcasecmp(env, "auto") != 0) {
        int i = isa_index(env);
        if (i >= 0 && rk_compiled[i] && rk_supported[i]) rk_env_choice = i;
        else snprintf(rk_env_bad, sizeof rk_env_bad, "%s", env);
        if (rk_env_bad[0] && getenv("RNNKIT_VERBOSE"))
            fprintf(stderr, "rnnkit: RNNKIT_ISA=%s is not available on this CPU; using %s\n", env,
                    rk_isa_names[rk_best]);
    }
    if (getenv("RNNKIT_VERBOSE"))
        fprintf(stderr, "rnnkit: cpu features [%s]; isa %s%s%s\n", rk_features,
                rk_isa_names[rk_env_choice >= 0 ? rk_env_choice : rk_best],
                rk_reason[0] ? "; " : "", rk_reason);
}

static void ensure_init(void) { pthread_once(&rk_once, init_once); }

static int active_index(void) {
    ensure_init();
    int f = atomic_load(&rk_forced);
    if (f >= 0) return f;
    if (rk_env_choice >= 0) return rk_env_choice;
    return rk_best;
}

const rnnkit_kernels *rk_kernels_active(void) { return &rk_tables[active_index()]; }

/* Support list "scalar, avx2" into buf. */
static void supported_list(char *list, size_t len) {
    list[0] = '\0';
    for (int k = 0; k < RK_ISA_COUNT; k++) {
        if (rk_compiled[k] && rk_supported[k]) {
            size_t o = strlen(list);
            snprintf(list + o, len - o, "%s%s", o ? ", " : "", rk_isa_names[k]);
        }
    }
}

rnnkit_status rk_kernels_check_env(void) {
    ensure_init();
    if (!rk_env_bad[0] || atomic_load(&rk_forced) >= 0) return RNNKIT_STATUS_OK;
    char list[64];
    supported_list(list, sizeof list);
    int i = isa_index(rk_env_bad);
    return rk_error(RNNKIT_STATUS_ISA_UNAVAILABLE,
                    "RNNKIT_ISA=%s: %s; this CPU supports: %s (unset RNNKIT_ISA or use auto)", rk_env_bad,
                    i < 0 ? "unknown ISA"
                          : (rk_compiled[i] ? "not supported by this CPU" : "not built into this library"),
                    list);
}

const rnnkit_kernels *rk_kernels_for(const char *name) {
    ensure_init();
    int i = name ? isa_index(name) : -1;
    if (i < 0 || !rk_compiled[i] || !rk_supported[i]) return NULL;
    return &rk_tables[i];
}

const char *rnnkit_isa_active(void) { return rk_isa_names[active_index()]; }

int rnnkit_isa_supported(const char *name) { return rk_kernels_for(name) != NULL; }

const char *rnnkit_cpu_features(void) {
    ensure_init();
    return rk_features;
}

const char *rk_isa_unavailable_reason(void) {
    ensure_init();
    return rk_reason;
}

rnnkit_status rnnkit_isa_select(const char *name) {
    rk_clear_error();
    ensure_init();
    if (name == NULL || strcasecmp(name, "auto") == 0) {
        atomic_store(&rk_forced, -1);
        return RNNKIT_STATUS_OK;
    }
    int i = isa_index(name);
    if (i < 0 || !rk_compiled[i] || !rk_supported[i]) {
        char list[64];
        supported_list(list, sizeof list);
        return rk_error(RNNKIT_STATUS_ISA_UNAVAILABLE,
                        "isa '%s' is %s; this CPU supports: %s", name,
                        i < 0 ? "unknown" : (rk_compiled[i] ? "not supported by this CPU"
                                                             : "not built into this library"),
                        list);
    }
    atomic_store(&rk_forced, i);
    return RNNKIT_STATUS_OK;
}
