/* W_ih in the AVX2 gemm's layout (simd/x86/gemm-layout.h): column pairs
 * for GRU gates (g = 3), the step panels otherwise. */
#include "../../kernels.h"
#include "../gemm-layout.h"

void rnnkit_f32_pack_input__avx2(int nr, int64_t g, int64_t h, int64_t k, const float *w,
                                 float *packed) {
    if (!rnnkit_gemm_pairs(nr, g)) {
        rnnkit_f32_pack_gates__scalar(nr, g, h, k, w, packed);
        return;
    }
    const int64_t nb = (h + nr - 1) / nr, ncols = nb * g, npairs = (ncols + 1) / 2;
    for (int64_t q = 0; q < npairs; q++)
        for (int64_t kk = 0; kk < k; kk++)
            for (int half = 0; half < 2; half++) {
                const int64_t c = 2 * q + half, b = c / g, gi = c % g;
                float *o = packed + ((size_t)(q * k + kk) * 2 + (size_t)half) * (size_t)nr;
                for (int u = 0; u < nr; u++) {
                    const int64_t j = b * nr + u;
                    o[u] = c < ncols && j < h ? w[(size_t)(gi * h + j) * (size_t)k + (size_t)kk] : 0.0f;
                }
            }
}
