/*
 * Packs G gate matrices ([g*h, k] row-major) into panels of nr hidden
 * units (layout in simd/kernels.h). Portable: every ISA uses it with its
 * own nr. Units past h are zero-filled so kernels may load whole panels.
 */
#include <string.h>

#include "../kernels.h"

void rnnkit_f32_pack_gates__scalar(int nr, int64_t g, int64_t h, int64_t k,
                                   const float *w, float *packed) {
    int64_t nb = (h + nr - 1) / nr;
    float *p = packed;
    for (int64_t b = 0; b < nb; b++) {
        for (int64_t kk = 0; kk < k; kk++) {
            for (int64_t gg = 0; gg < g; gg++) {
                for (int u = 0; u < nr; u++) {
                    int64_t j = b * nr + u;
                    *p++ = j < h ? w[(size_t)(gg * h + j) * (size_t)k + (size_t)kk] : 0.0f;
                }
            }
        }
    }
}

/* W_ih for the scalar gemm (and every ISA whose gemm reads the step
 * panels): the same panels. */
void rnnkit_f32_pack_input__scalar(int nr, int64_t g, int64_t h, int64_t k, const float *w,
                                   float *packed) {
    rnnkit_f32_pack_gates__scalar(nr, g, h, k, w, packed);
}
