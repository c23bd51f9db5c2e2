/*
 * Reference Elman RNN steps, tanh and relu (and, with default_act = 0,
 * any ONNX activation in act[0]). any nr up to RNNKIT_MAX_NR; sums from 0 in k order, then
 * the input-side pre-activation is added.
 */
#include "act-scalar.h"



static void rnn_step(const rnnkit_step_args *a, const rnnkit_act *f) {
    const int64_t K = a->k;
    const int NR = a->nr;
    for (int64_t r = 0; r < a->n; r++) {
        const float *hp = a->h_prev + (size_t)r * (size_t)a->ld_h_prev;
        const float *xp = a->xp + (size_t)r * (size_t)a->ld_xp;
        float *ho = a->h_out + (size_t)r * (size_t)a->ld_h_out;
        for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += NR) {
            float acc[RNNKIT_MAX_NR] = {0};
            const float *p = a->w + (size_t)(j0 / NR) * (size_t)K * NR;
            for (int64_t k = 0; k < K; k++) {
                float x = hp[k];
                for (int t = 0; t < NR; t++) acc[t] += x * p[t];
                p += NR;
            }
            for (int u = 0; u < NR && j0 + u < a->j_end; u++) {
                int64_t j = j0 + u;
                ho[j] = rnnkit_act_apply(f, rnnkit_clipf(acc[u] + xp[j], a->clip));
            }
        }
    }
}

void rnnkit_f32_rnn_tanh_step__scalar(const rnnkit_step_args *a) {
    static const rnnkit_act t = {RNNKIT_ACT_TANH, 0, 0};
    rnn_step(a, a->default_act ? &t : &a->act[0]);
}

void rnnkit_f32_rnn_relu_step__scalar(const rnnkit_step_args *a) {
    static const rnnkit_act t = {RNNKIT_ACT_RELU, 0, 0};
    rnn_step(a, a->default_act ? &t : &a->act[0]);
}
