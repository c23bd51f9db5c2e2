/*
 * Reference gate-blocked GEMM over packed weights (any nr up to RNNKIT_MAX_NR):
 * C[i, g*hs + j] = bias + sum_k A[i,k] W_g[j][k], summed in k order from 0.
 * Reads only the m x k of A, the packed panels and h units per gate of C.
 */
#include "../kernels.h"



void rnnkit_f32_gemm__scalar(int NR, int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k,
                             const float *a, int64_t lda, const float *packed,
                             const float *bias, float *c, int64_t ldc) {
    int64_t nb = (h + NR - 1) / NR;
    for (int64_t i = 0; i < m; i++) {
        const float *ai = a + (size_t)i * (size_t)lda;
        float *ci = c + (size_t)i * (size_t)ldc;
        for (int64_t b = 0; b < nb; b++) {
            float acc[4 * RNNKIT_MAX_NR];
            const float *p = packed + (size_t)b * (size_t)k * (size_t)(g * NR);
            for (int64_t t = 0; t < g * NR; t++) acc[t] = 0.0f;
            for (int64_t kk = 0; kk < k; kk++) {
                float x = ai[kk];
                for (int64_t t = 0; t < g * NR; t++) acc[t] += x * p[t];
                p += g * NR;
            }
            for (int64_t gg = 0; gg < g; gg++) {
                for (int u = 0; u < NR; u++) {
                    int64_t j = b * NR + u;
                    if (j >= h) break;
                    size_t col = (size_t)(gg * hs + j);
                    ci[col] = acc[gg * NR + u] + (bias ? bias[col] : 0.0f);
                }
            }
        }
    }
}
