/*
 * Reference GRU step (semantics in simd/kernels.h), both reset variants.
 * any nr up to RNNKIT_MAX_NR. linear_before_reset = 0 needs the whole unit range (the n gate
 * reads r*h_prev of every unit): it runs r,z for all units first, keeping
 * r*h_prev in scratch and z in h_out, then the n gate (a->gru_pass
 * selects one pass: simd/kernels.h).
 */
#include "act-scalar.h"



void rnnkit_f32_gru_step__scalar(const rnnkit_step_args *a) {
    const int64_t H = a->h, K = a->k;
    const int NR = a->nr;
    static const rnnkit_act dflt[2] = {{RNNKIT_ACT_SIGMOID, 0, 0}, {RNNKIT_ACT_TANH, 0, 0}};
    const rnnkit_act *act = a->default_act ? dflt : a->act;
    for (int64_t r = 0; r < a->n; r++) {
        const float *hp = a->h_prev + (size_t)r * (size_t)a->ld_h_prev;
        const float *xp = a->xp + (size_t)r * (size_t)a->ld_xp;
        float *ho = a->h_out + (size_t)r * (size_t)a->ld_h_out;
        float *rh = a->scratch ? a->scratch + (size_t)r * (size_t)K : 0;
        /* Pass 1: r and z (and, lbr = 1, the whole update). */
        const int pass1 = a->linear_before_reset || a->gru_pass != 2;
        for (int64_t j0 = a->j_begin; pass1 && j0 < a->j_end; j0 += NR) {
            float acc[2 * RNNKIT_MAX_NR] = {0}, accn[RNNKIT_MAX_NR] = {0};
            const float *p = a->w + (size_t)(j0 / NR) * (size_t)K * 2 * NR;
            for (int64_t k = 0; k < K; k++) {
                float x = hp[k];
                for (int t = 0; t < 2 * NR; t++) acc[t] += x * p[t];
                p += 2 * NR;
            }
            if (a->linear_before_reset) {
                const float *q = a->w_n + (size_t)(j0 / NR) * (size_t)K * NR;
                for (int64_t k = 0; k < K; k++) {
                    float x = hp[k];
                    for (int t = 0; t < NR; t++) accn[t] += x * q[t];
                    q += NR;
                }
            }
            for (int u = 0; u < NR && j0 + u < a->j_end; u++) {
                int64_t j = j0 + u;
                float rg = rnnkit_act_apply(&act[0], rnnkit_clipf(acc[u] + xp[j], a->clip));
                float zg = rnnkit_act_apply(&act[0], rnnkit_clipf(acc[NR + u] + xp[H + j], a->clip));
                if (a->linear_before_reset) {
                    float hn = accn[u] + (a->b_hn ? a->b_hn[j] : 0.0f);
                    float ng = rnnkit_act_apply(&act[1], rnnkit_clipf(xp[2 * H + j] + rg * hn, a->clip));
                    ho[j] = (1.0f - zg) * ng + zg * hp[j];
                } else {
                    rh[j] = rg * hp[j];
                    ho[j] = zg;
                }
            }
        }
        if (a->linear_before_reset || a->gru_pass == 1) continue;
        /* Pass 2 (lbr = 0): n = g(xp_n + W_n (r*h_prev)). */
        for (int64_t j0 = a->j_begin; j0 < a->j_end; j0 += NR) {
            float accn[RNNKIT_MAX_NR] = {0};
            const float *q = a->w_n + (size_t)(j0 / NR) * (size_t)K * NR;
            for (int64_t k = 0; k < K; k++) {
                float x = rh[k];
                for (int t = 0; t < NR; t++) accn[t] += x * q[t];
                q += NR;
            }
            for (int u = 0; u < NR && j0 + u < a->j_end; u++) {
                int64_t j = j0 + u;
                float zg = ho[j];
                float ng = rnnkit_act_apply(&act[1], rnnkit_clipf(xp[2 * H + j] + accn[u], a->clip));
                ho[j] = (1.0f - zg) * ng + zg * hp[j];
            }
        }
    }
}
