/*
 * AVX2+FMA instantiation of the small vector vocabulary that the shared
 * x86 kernel bodies (simd/x86/<op>-body.h) and vector math (simd/x86/vmath.h)
 * are written in: 8 floats per vector, masks as vectors. Compiled only
 * into files built with -mavx2 -mfma.
 */
#ifndef RNNKIT_VEC_AVX2_H
#define RNNKIT_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>

#define RNNKIT_VW 8
#define RNNKIT_ISA_SUFFIX avx2
/* Rows per GEMM tile (simd/x86/tile.h): tiles of MR x 2 vectors keep
 * 2*MR accumulators, 2 weights and a broadcast in registers. */
#ifndef RNNKIT_TILE_MR
#define RNNKIT_TILE_MR 6
#endif

typedef __m256 V;
typedef __m256 VM;   /* lane mask from a comparison */
typedef __m256i VT;  /* tail mask for loads/stores */

#define RNNKIT_VINLINE static inline __attribute__((always_inline))

RNNKIT_VINLINE V vload(const float *p) { return _mm256_loadu_ps(p); }
RNNKIT_VINLINE void vstore(float *p, V v) { _mm256_storeu_ps(p, v); }
RNNKIT_VINLINE V vset1(float x) { return _mm256_set1_ps(x); }
RNNKIT_VINLINE V vzero(void) { return _mm256_setzero_ps(); }
RNNKIT_VINLINE V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
RNNKIT_VINLINE V vfnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
RNNKIT_VINLINE V vadd(V a, V b) { return _mm256_add_ps(a, b); }
RNNKIT_VINLINE V vsub(V a, V b) { return _mm256_sub_ps(a, b); }
RNNKIT_VINLINE V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
RNNKIT_VINLINE V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
/* Returns b when either is NaN: call with the data as b to keep NaN. */
RNNKIT_VINLINE V vmax(V a, V b) { return _mm256_max_ps(a, b); }
RNNKIT_VINLINE V vmin(V a, V b) { return _mm256_min_ps(a, b); }
RNNKIT_VINLINE V vabs(V x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
/* |mag| with the sign bit of s. */
RNNKIT_VINLINE V vcopysign(V mag, V s) {
    V sb = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sb, mag), _mm256_and_ps(sb, s));
}
RNNKIT_VINLINE VM vlt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
RNNKIT_VINLINE VM vle(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
RNNKIT_VINLINE V vsel(VM m, V t, V f) { return _mm256_blendv_ps(f, t, m); }
/* Any lane of the mask set. */
RNNKIT_VINLINE int vany(VM m) { return _mm256_movemask_ps(m) != 0; }
RNNKIT_VINLINE V vround(V x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* 2^n for integral n in [-126, 127] given as a float. */
RNNKIT_VINLINE V vpow2i(V n) {
    __m256i i = _mm256_cvtps_epi32(n);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(127)), 23));
}
/* y * 2^n for integral n in [-126, 127] given as a float: one rounding. */
RNNKIT_VINLINE V vscale2i(V y, V n) { return vmul(y, vpow2i(n)); }
/* Half of integral n, rounded toward -inf (n as float, exact). */
RNNKIT_VINLINE V vhalf_floor(V n) {
    return _mm256_round_ps(_mm256_mul_ps(n, _mm256_set1_ps(0.5f)),
                           _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}

/* x = m * 2^e for a positive normal x: m in [1, 2), e (as a float). */
RNNKIT_VINLINE V vmant(V x) {
    __m256i i = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x007fffff));
    return _mm256_castsi256_ps(_mm256_or_si256(i, _mm256_set1_epi32(0x3f800000)));
}
RNNKIT_VINLINE V vexpo(V x) {
    __m256i e = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
    return _mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)));
}

/* Tail masks: lanes 0..n-1 (1 <= n <= 8). Masked lanes are neither read
 * nor written, so no access goes past the caller's buffer. */
RNNKIT_VINLINE VT vtail(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
RNNKIT_VINLINE V vload_t(const float *p, VT t) { return _mm256_maskload_ps(p, t); }
RNNKIT_VINLINE void vstore_t(float *p, V v, VT t) { _mm256_maskstore_ps(p, t, v); }

#endif
