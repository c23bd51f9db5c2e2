/*
 * Fused Elman RNN steps, tanh and relu (semantics: simd/kernels.h),
 * shared by f32-rnn-step-avx2.c and f32-rnn-step-avx512.c. Tile: MR
 * batch rows x 1 vector of one VW-unit block (avx512 12, avx2 8 rows);
 * small batches split k into 2 or 4 partial sums. Tails and bounds as in
 * simd/x86/step-common.h.
 */
#include "vmath.h"
#include "step-common.h"

RNNKIT_VINLINE void rnnkit_rnn_tile(const int MR, const int RELU, const rnnkit_step_args *a,
                                    int64_t i0, int64_t j0, int64_t blk, int64_t nv) {
    V acc[RNNKIT_MRMAX][4];
    const float *p = a->w + (size_t)blk * (size_t)a->k * RNNKIT_VW;
    rnnkit_tile_accum(MR, 1, 0, a->k, RNNKIT_ROW(a->h_prev, a->ld_h_prev, 0), a->ld_h_prev, p,
                      p, acc);
    VT t = vtail(nv);
    for (int r = 0; r < MR; r++) {
        V x = vadd(acc[r][0], rnnkit_ld(RNNKIT_ROW(a->xp, a->ld_xp, r) + j0, nv, t));
        if (a->clip > 0.0f) x = rnnkit_vclip(x, a->clip);
        /* relu: max(0, x) with x second keeps NaN, like the scalar one. */
        V y = RELU ? vmax(vzero(), x) : vtanh(x);
        rnnkit_st(RNNKIT_ROW(a->h_out, a->ld_h_out, r) + j0, y, nv, t);
    }
}

#define RNNKIT_RNN_TANH_CALL_(M) rnnkit_rnn_tile(M, 0, a, i0, j0, blk, nv)
#define RNNKIT_RNN_RELU_CALL_(M) rnnkit_rnn_tile(M, 1, a, i0, j0, blk, nv)

void RNNKIT_FN(rnn_tanh_step)(const rnnkit_step_args *a) {
    assert(a->default_act && a->nr == RNNKIT_VW);
    RNNKIT_STEP_LOOP(a, RNNKIT_MR_G1, RNNKIT_RNN_TANH_CALL_)
}

void RNNKIT_FN(rnn_relu_step)(const rnnkit_step_args *a) {
    assert(a->default_act && a->nr == RNNKIT_VW);
    RNNKIT_STEP_LOOP(a, RNNKIT_MR_G1, RNNKIT_RNN_RELU_CALL_)
}
