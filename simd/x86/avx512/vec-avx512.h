/*
 * AVX-512F instantiation of the small vector vocabulary that the shared
 * x86 kernel bodies (simd/x86/<op>-body.h) and vector math (simd/x86/vmath.h)
 * are written in: 16 floats per vector, masks in k registers. Compiled
 * only into files built with the AVX-512 flags.
 */
#ifndef RNNKIT_VEC_AVX512_H
#define RNNKIT_VEC_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define RNNKIT_VW 16
#define RNNKIT_ISA_SUFFIX avx512
/* Rows per GEMM tile (simd/x86/tile.h): tiles of MR x 2 vectors keep
 * 2*MR accumulators, 2 weights and a broadcast in registers. */
#ifndef RNNKIT_TILE_MR
#define RNNKIT_TILE_MR 12
#endif

typedef __m512 V;
typedef __mmask16 VM;
typedef __mmask16 VT;

#define RNNKIT_VINLINE static inline __attribute__((always_inline))

RNNKIT_VINLINE V vload(const float *p) { return _mm512_loadu_ps(p); }
RNNKIT_VINLINE void vstore(float *p, V v) { _mm512_storeu_ps(p, v); }
RNNKIT_VINLINE V vset1(float x) { return _mm512_set1_ps(x); }
RNNKIT_VINLINE V vzero(void) { return _mm512_setzero_ps(); }
RNNKIT_VINLINE V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
RNNKIT_VINLINE V vfnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
RNNKIT_VINLINE V vadd(V a, V b) { return _mm512_add_ps(a, b); }
RNNKIT_VINLINE V vsub(V a, V b) { return _mm512_sub_ps(a, b); }
RNNKIT_VINLINE V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
RNNKIT_VINLINE V vdiv(V a, V b) { return _mm512_div_ps(a, b); }
/* Returns b when either is NaN: call with the data as b to keep NaN. */
RNNKIT_VINLINE V vmax(V a, V b) { return _mm512_max_ps(a, b); }
RNNKIT_VINLINE V vmin(V a, V b) { return _mm512_min_ps(a, b); }
RNNKIT_VINLINE V vabs(V x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}
/* |mag| with the sign bit of s. */
RNNKIT_VINLINE V vcopysign(V mag, V s) {
    __m512i m = _mm512_set1_epi32(0x7fffffff);
    /* ternary logic 0xca = a ? b : c bitwise: (m & mag) | (~m & s) */
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(m, _mm512_castps_si512(mag),
                                                         _mm512_castps_si512(s), 0xca));
}
RNNKIT_VINLINE VM vlt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
RNNKIT_VINLINE VM vle(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
RNNKIT_VINLINE V vsel(VM m, V t, V f) { return _mm512_mask_blend_ps(m, f, t); }
/* Any lane of the mask set. */
RNNKIT_VINLINE int vany(VM m) { return m != 0; }
RNNKIT_VINLINE V vround(V x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
/* 2^n for integral n in [-126, 127] given as a float. */
RNNKIT_VINLINE V vpow2i(V n) {
    __m512i i = _mm512_cvtps_epi32(n);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(i, _mm512_set1_epi32(127)), 23));
}
/* y * 2^n for integral n in [-126, 127] given as a float: one rounding,
 * the same as y * vpow2i(n) (VSCALEFPS: one instruction instead of four). */
RNNKIT_VINLINE V vscale2i(V y, V n) { return _mm512_scalef_ps(y, n); }
/* Half of integral n, rounded toward -inf (n as float, exact). */
RNNKIT_VINLINE V vhalf_floor(V n) {
    return _mm512_roundscale_ps(_mm512_mul_ps(n, _mm512_set1_ps(0.5f)),
                                _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}

/* x = m * 2^e for a positive normal x: m in [1, 2), e (as a float). */
RNNKIT_VINLINE V vmant(V x) {
    __m512i i = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x007fffff));
    return _mm512_castsi512_ps(_mm512_or_si512(i, _mm512_set1_epi32(0x3f800000)));
}
RNNKIT_VINLINE V vexpo(V x) {
    __m512i e = _mm512_srli_epi32(_mm512_castps_si512(x), 23);
    return _mm512_cvtepi32_ps(_mm512_sub_epi32(e, _mm512_set1_epi32(127)));
}

/* Tail masks: lanes 0..n-1 (1 <= n <= 16). Masked lanes are neither read
 * nor written (no fault), so no access goes past the caller's buffer. */
RNNKIT_VINLINE VT vtail(int64_t n) { return (VT)((1u << n) - 1u); }
RNNKIT_VINLINE V vload_t(const float *p, VT t) { return _mm512_maskz_loadu_ps(t, p); }
RNNKIT_VINLINE void vstore_t(float *p, V v, VT t) { _mm512_mask_storeu_ps(p, t, v); }

#endif
