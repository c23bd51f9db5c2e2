/*
 * cg_forward: ROUNDS calls of rnnkit_forward on one random-weight
 * PyTorch-layout model, nothing else: the program that
 * scripts/cg-forward.sh runs under callgrind (instruction counts are
 * exact, unlike timings on a shared host). It prints the model's shape
 * and a checksum of the last output, so that two runs can be checked to
 * have computed the same thing.
 *
 * usage: cg_forward CELL:H:N:T:I:D ROUNDS [THREADS]
 *   CELL lstm, gru (linear_before_reset = 1) or rnn (tanh); D 1 or 2
 *   directions; THREADS default 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab_util.h"
#include "rnnkit.h"

int main(int argc, char **argv) {
    char cell[8];
    int H, N, T, I, D;
    if (argc < 3 || sscanf(argv[1], "%7[a-z]:%d:%d:%d:%d:%d", cell, &H, &N, &T, &I, &D) != 6) {
        fprintf(stderr, "usage: cg_forward CELL:H:N:T:I:D ROUNDS [THREADS]\n");
        return 2;
    }
    const int lstm = !strcmp(cell, "lstm"), gru = !strcmp(cell, "gru"), rnn = !strcmp(cell, "rnn");
    const int R = atoi(argv[2]), threads = argc > 3 ? atoi(argv[3]) : 1;
    if ((!lstm && !gru && !rnn) || H < 1 || H > 65536 || N < 1 || T < 1 || I < 1 ||
        I > 65536 || D < 1 || D > 2 || R < 0 || threads < 1) {
        fprintf(stderr, "cg_forward: bad arguments (CELL lstm|gru|rnn, sizes >= 1, D 1|2, "
                        "ROUNDS >= 0, THREADS >= 1)\n");
        return 2;
    }
    unsigned seed = 12345;
    ab_layer L;
    if (!ab_layer_make(&L, cell, H, I, D, &seed)) return 1;
    rnnkit_model_desc desc;
    rnnkit_model_desc_init(&desc);
    desc.cell = lstm ? RNNKIT_CELL_LSTM : gru ? RNNKIT_CELL_GRU : RNNKIT_CELL_RNN_TANH;
    if (D == 2) desc.direction = RNNKIT_DIRECTION_BIDIRECTIONAL;
    rnnkit_model *m;
    if (rnnkit_model_create(&desc, L.t, (size_t)L.n, &m)) {
        fprintf(stderr, "cg_forward: %s\n", rnnkit_last_error());
        return 1;
    }
    const size_t ny = (size_t)T * N * D * H;
    float *x = ab_rnd((size_t)T * N * I, 1.0f, &seed), *y = calloc(ny, sizeof(float));
    if (!y) return 1;
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.x = x, a.y = y, a.num_threads = threads;
    for (int r = 0; r < R; r++)
        if (rnnkit_forward(m, &a)) {
            fprintf(stderr, "cg_forward: %s\n", rnnkit_last_error());
            return 1;
        }
    double sum = 0;
    for (size_t i = 0; i < ny; i++) sum += y[i];
    printf("%s H %d N %d T %d I %d D %d, %d forward(s) on %d thread(s): sum of y %.9g\n", cell, H, N,
           T, I, D, R, threads, sum);
    rnnkit_model_destroy(m);
    ab_layer_free(&L);
    free(x);
    free(y);
    return 0;
}
