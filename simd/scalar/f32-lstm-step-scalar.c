/*
 * Reference LSTM step (semantics in simd/kernels.h). any nr up to RNNKIT_MAX_NR; for each
 * batch row and block of 8 units the four gate sums are accumulated from 0
 * in k order, then the input-side pre-activations are added. Handles
 * peepholes, clip, input_forget and any ONNX activations.
 */
#include "act-scalar.h"



void rnnkit_f32_lstm_step__scalar(const rnnkit_step_args *a) {
    const int64_t H = a->h, K = a->k;
    const int NR = a->nr;
    static const rnnkit_act dflt[3] = {{RNNKIT_ACT_SIGMOID, 0, 0}, {RNNKIT_ACT_TANH, 0, 0},
                                       {RNNKIT_ACT_TANH, 0, 0}};
    const rnnkit_act *act = a->default_act ? dflt : a->act;
    for (int64_t r = 0; r < a->n; r++) {
        const float *hp = a->h_prev + (size_t)r * (size_t)a->ld_h_prev;
        const float *xp = a->xp + (size_t)r * (size_t)a->ld_xp;
        const float *cp = a->c_prev + (size_t)r * (size_t)H;
        float *ho = a->h_out + (size_t)r * (size_t)a->ld_h_out;
        float *co = a->c_out + (size_t)r * (size_t)H;
        for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += NR) {
            float acc[4 * RNNKIT_MAX_NR] = {0};
            const float *p = a->w + (size_t)(j0 / NR) * (size_t)K * 4 * NR;
            for (int64_t k = 0; k < K; k++) {
                float x = hp[k];
                for (int t = 0; t < 4 * NR; t++) acc[t] += x * p[t];
                p += 4 * NR;
            }
            for (int u = 0; u < NR && j0 + u < a->j_end; u++) {
                int64_t j = j0 + u;
                float c_prev = cp[j];
                float pi = acc[0 * NR + u] + xp[0 * H + j];
                float pf = acc[1 * NR + u] + xp[1 * H + j];
                float pg = acc[2 * NR + u] + xp[2 * H + j];
                float po = acc[3 * NR + u] + xp[3 * H + j];
                if (a->peep) {
                    pi += a->peep[j] * c_prev;
                    pf += a->peep[H + j] * c_prev;
                }
                float ig = rnnkit_act_apply(&act[0], rnnkit_clipf(pi, a->clip));
                float fg = a->input_forget ? 1.0f - ig
                                           : rnnkit_act_apply(&act[0], rnnkit_clipf(pf, a->clip));
                float gg = rnnkit_act_apply(&act[1], rnnkit_clipf(pg, a->clip));
                float c = fg * c_prev + ig * gg;
                if (a->peep) po += a->peep[2 * H + j] * c;
                float og = rnnkit_act_apply(&act[0], rnnkit_clipf(po, a->clip));
                co[j] = c;
                ho[j] = og * rnnkit_act_apply(&act[2], c);
            }
        }
    }
}
