/*
 * ab_act: the cost of non-default ONNX activations. For one ONNX-layout
 * cell and shape it builds two random-weight models, one with the cell's
 * standard activations and one with activation ACT in place of the
 * cell's f (the gates: sigmoid for LSTM/GRU, tanh for RNN), and times
 * them round by round in ONE process on the chosen ISA and 1 thread,
 * printing the median and best us per step of each. Public API only, so
 * the same file linked against an older librnnkit.a times that version.
 *
 * usage: ab_act CELL ACT H N [ISA [ROUNDS]]
 *   CELL lstm, gru or rnn; ACT an ONNX activation name (HardSigmoid,
 *   LeakyRelu, Elu, Softsign, Softplus, ...); T 50, input size H;
 *   ISA default: the best this CPU has; ROUNDS default 9.
 * Built with the benchmarks: build-bench/bench/ab_act.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ab_util.h"
#include "rnnkit.h"

#define MAXR AB_MAXR

static const char *const names[] = {"Sigmoid",   "Tanh",    "Relu",       "Affine",
                                    "LeakyRelu", "ThresholdedRelu", "ScaledTanh",
                                    "HardSigmoid", "Elu",   "Softsign",   "Softplus"};

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: ab_act CELL ACT H N [ISA [ROUNDS]]\n");
        return 2;
    }
    const int lstm = !strcmp(argv[1], "lstm"), gru = !strcmp(argv[1], "gru"),
              rnn = !strcmp(argv[1], "rnn");
    int kind = -1;
    for (int i = 0; i < 11; i++)
        if (!strcasecmp(argv[2], names[i])) kind = i;
    const long H = strtol(argv[3], NULL, 10), N = strtol(argv[4], NULL, 10);
    const int R = argc > 6 ? atoi(argv[6]) : 9;
    if ((!lstm && !gru && !rnn) || kind < 0 || H < 1 || H > 4096 || N < 1 || N > 1024 || R < 1 ||
        R > MAXR) {
        fprintf(stderr, "ab_act: CELL lstm|gru|rnn, ACT an ONNX activation, H 1..4096, "
                        "N 1..1024, ROUNDS 1..%d\n", MAXR);
        return 2;
    }
    if (argc > 5 && rnnkit_isa_select(argv[5]) != RNNKIT_STATUS_OK) {
        fprintf(stderr, "ab_act: %s\n", rnnkit_last_error());
        return 2;
    }
    const long T = 50, I = H, G = lstm ? 4 : gru ? 3 : 1;
    unsigned seed = 7;
    float *W = ab_rnd((size_t)(G * H * I), 0.1f, &seed), *Rw = ab_rnd((size_t)(G * H * H), 0.1f, &seed);
    float *B = ab_rnd((size_t)(2 * G * H), 0.1f, &seed), *x = ab_rnd((size_t)(T * N * I), 1.0f, &seed);
    float *y = malloc(sizeof(float) * (size_t)(T * N * H));
    if (!y) return 1;
    rnnkit_tensor t[] = {{"W", W, 3, {1, G * H, I}},
                         {"R", Rw, 3, {1, G * H, H}},
                         {"B", B, 2, {1, 2 * G * H}}};
    rnnkit_model *m[2];
    for (int v = 0; v < 2; v++) {
        rnnkit_model_desc d;
        rnnkit_model_desc_init(&d);
        d.layout = RNNKIT_LAYOUT_ONNX;
        d.cell = lstm ? RNNKIT_CELL_LSTM : gru ? RNNKIT_CELL_GRU : RNNKIT_CELL_RNN_TANH;
        if (gru) d.linear_before_reset = 1;
        if (v == 1) {
            /* f = ACT (alpha 0.2, beta 0.5: HardSigmoid's ONNX defaults),
             * the others standard. */
            d.num_activations = lstm ? 3 : gru ? 2 : 1;
            d.activations[0] = (rnnkit_activation){(rnnkit_activation_kind)kind, 0.2f, 0.5f};
            d.activations[1] = (rnnkit_activation){RNNKIT_ACTIVATION_TANH, 0.0f, 0.0f};
            d.activations[2] = (rnnkit_activation){RNNKIT_ACTIVATION_TANH, 0.0f, 0.0f};
        }
        if (rnnkit_model_create(&d, t, 3, &m[v]) != RNNKIT_STATUS_OK) {
            fprintf(stderr, "ab_act: %s\n", rnnkit_last_error());
            return 1;
        }
    }
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.x = x, a.y = y, a.num_threads = 1;
    const int calls = (int)(2e7 / (double)(T * N * G * H * (I + H))) + 1;
    double tm[2][MAXR];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < 2; v++) {
            if (rnnkit_forward(m[v], &a) != RNNKIT_STATUS_OK) { /* untimed */
                fprintf(stderr, "ab_act: %s\n", rnnkit_last_error());
                return 1;
            }
            double t0 = ab_now();
            for (int c = 0; c < calls; c++) rnnkit_forward(m[v], &a);
            tm[v][r] = (ab_now() - t0) / calls / (double)T * 1e6;
        }
    printf("%s H %ld batch %ld T %ld, 1 thread, ISA %s\n", argv[1], H, N, T, rnnkit_isa_active());
    for (int v = 0; v < 2; v++) {
        qsort(tm[v], (size_t)R, sizeof(double), ab_cmpd);
        printf("  f = %-16s median %10.2f  best %10.2f us/step\n",
               v ? names[kind] : (rnn ? "Tanh (standard)" : "Sigmoid (std)"), tm[v][R / 2],
               tm[v][0]);
    }
    for (int v = 0; v < 2; v++) rnnkit_model_destroy(m[v]);
    free(W), free(Rw), free(B), free(x), free(y);
    return 0;
}
