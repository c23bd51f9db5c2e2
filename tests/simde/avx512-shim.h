/*
 * Force-included (-include) before each simd/x86/avx512/ kernel file when it is
 * compiled for the emulated AVX-512 test (tests/simde/meson.build): maps
 * every _mm512_* intrinsic the kernels use onto SIMDe's portable
 * implementation (built with AVX2+FMA underneath), so the AVX-512 kernels
 * run on CPUs without AVX-512. Intrinsics that SIMDe 0.7.4 lacks or gets
 * wrong are replaced here by exact implementations:
 *   _mm512_roundscale_ps   SIMDe 0.7.4 gives wrong results (ignores the
 *                          rounding mode); here per 256-bit half with
 *                          _mm256_round_ps (exact, as the hardware)
 *   _mm512_cvtps_epi32     missing; round to nearest even (the default
 *                          MXCSR mode), out of range/NaN -> INT32_MIN
 *   _mm512_cvtepi32_ps     missing; int to float, round to nearest
 *   _mm512_maskz_loadu_ps  missing; masked-off lanes are neither read
 *   _mm512_mask_storeu_ps  nor written (as the hardware: no fault)
 * Each replacement has an exact scalar fallback when AVX2 is not enabled.
 */
#ifndef RNNKIT_TESTS_AVX512_SHIM_H
#define RNNKIT_TESTS_AVX512_SHIM_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <math.h>
#include <stdint.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define RK_SHIM static inline __attribute__((always_inline))

RK_SHIM simde__m512 rk_shim_roundscale_ps(simde__m512 a, int imm) {
    float f[16];
    simde_mm512_storeu_ps(f, a);
    const int m = (imm >> 4) & 15; /* keep m fraction bits */
#if defined(__AVX2__)
    if (m == 0) {
        for (int h = 0; h < 2; h++) {
            __m256 v = _mm256_loadu_ps(f + 8 * h);
            switch (imm & 7) {
            case 0: v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); break;
            case 1: v = _mm256_round_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); break;
            case 2: v = _mm256_round_ps(v, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); break;
            case 3: v = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); break;
            default: v = _mm256_round_ps(v, _MM_FROUND_CUR_DIRECTION); break;
            }
            _mm256_storeu_ps(f + 8 * h, v);
        }
        return simde_mm512_loadu_ps(f);
    }
#endif
    for (int i = 0; i < 16; i++) {
        float x = ldexpf(f[i], m), r;
        if (x != x || fabsf(x) >= 8388608.0f) {
            r = x; /* NaN, inf, or already integral */
        } else {
            switch (imm & 7) {
            case 1: r = floorf(x); break;
            case 2: r = ceilf(x); break;
            case 3: r = truncf(x); break;
            default: r = nearbyintf(x); break;
            }
            r = copysignf(r, x); /* -0.3 -> -0 as the hardware */
        }
        f[i] = ldexpf(r, -m);
    }
    return simde_mm512_loadu_ps(f);
}

RK_SHIM simde__m512i rk_shim_cvtps_epi32(simde__m512 a) {
    float f[16];
    int32_t r[16];
    simde_mm512_storeu_ps(f, a);
#if defined(__AVX2__)
    for (int h = 0; h < 2; h++)
        _mm256_storeu_si256((__m256i *)(void *)(r + 8 * h), _mm256_cvtps_epi32(_mm256_loadu_ps(f + 8 * h)));
#else
    for (int i = 0; i < 16; i++) {
        float x = nearbyintf(f[i]);
        r[i] = (x != x || x >= 2147483648.0f || x < -2147483648.0f) ? INT32_MIN : (int32_t)x;
    }
#endif
    return simde_mm512_loadu_si512(r);
}

RK_SHIM simde__m512 rk_shim_cvtepi32_ps(simde__m512i a) {
    int32_t i32[16];
    float f[16];
    simde_mm512_storeu_si512(i32, a);
    for (int i = 0; i < 16; i++) f[i] = (float)i32[i]; /* round to nearest, as the hardware */
    return simde_mm512_loadu_ps(f);
}

RK_SHIM simde__m512 rk_shim_maskz_loadu_ps(simde__mmask16 k, const void *p) {
    float f[16];
    const float *q = (const float *)p;
    for (int i = 0; i < 16; i++) f[i] = ((k >> i) & 1) ? q[i] : 0.0f;
    return simde_mm512_loadu_ps(f);
}

RK_SHIM void rk_shim_mask_storeu_ps(void *p, simde__mmask16 k, simde__m512 v) {
    float f[16];
    float *q = (float *)p;
    simde_mm512_storeu_ps(f, v);
    for (int i = 0; i < 16; i++)
        if ((k >> i) & 1) q[i] = f[i];
}

#undef _mm512_roundscale_ps
#define _mm512_roundscale_ps(a, imm) rk_shim_roundscale_ps((a), (imm))
#undef _mm512_cvtps_epi32
#define _mm512_cvtps_epi32(a) rk_shim_cvtps_epi32(a)
#undef _mm512_cvtepi32_ps
#define _mm512_cvtepi32_ps(a) rk_shim_cvtepi32_ps(a)
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) rk_shim_maskz_loadu_ps((k), (p))
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, v) rk_shim_mask_storeu_ps((p), (k), (v))

#endif
