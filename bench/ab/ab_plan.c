/*
 * ab_plan: the ways of spreading one forward call over threads, timed in
 * ONE process, round by round, so that the drift of a shared machine hits
 * them alike (src/plan.c's figures come from this; each timed call follows
 * an untimed one of the same variant). For a random-weight
 * PyTorch-layout model it prints the median us per step of: 1 thread;
 * T threads as the plan chooses (and what it chose); T threads with
 * batch rows split; with hidden units split; and for a bidirectional
 * model, T threads with the directions at once and in turn (each with
 * the plan's mode). Every variant's output is compared bit for bit with
 * the 1-thread output. (A forced mode runs the directions of a
 * bidirectional layer at once, as rk_plan_force_mode does.)
 *
 * usage: ab_plan CELL H N [DIRS [LAYERS [THREADS [ROUNDS [SEQ [INPUT]]]]]]
 *   CELL lstm, gru (linear_before_reset = 1), gru0 (linear_before_reset =
 *   0: an ONNX-layout model, LAYERS 1) or rnn (tanh); defaults
 *   DIRS 1, LAYERS 1, THREADS 2, ROUNDS 7, SEQ 50, INPUT (size) = H
 *   (the speech models of the comparison grid: SEQ 63, INPUT 24).
 * Built with the benchmarks: build-bench/bench/ab_plan. Set
 * OMP_WAIT_POLICY=passive to time as scripts/compare.sh does.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab_util.h"
#include "plan.h"
#include "rnnkit.h"

#define MAXR AB_MAXR
static int arg(int argc, char **argv, int i, int def, int lo, int hi) {
    if (argc <= i) return def;
    char *end;
    long v = strtol(argv[i], &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "ab_plan: argument %d (\"%s\") must be in %d..%d\n", i, argv[i], lo, hi);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ab_plan CELL H N [DIRS [LAYERS [THREADS [ROUNDS [SEQ [INPUT]]]]]]\n");
        return 2;
    }
    const char *cell = argv[1];
    const int gru0 = !strcmp(cell, "gru0");
    const int lstm = !strcmp(cell, "lstm"), gru = gru0 || !strcmp(cell, "gru"), rnn = !strcmp(cell, "rnn");
    if (!lstm && !gru && !rnn) {
        fprintf(stderr, "ab_plan: CELL must be lstm, gru, gru0 or rnn\n");
        return 2;
    }
    const int H = arg(argc, argv, 2, 0, 1, 8192), N = arg(argc, argv, 3, 0, 1, 4096);
    const int D = arg(argc, argv, 4, 1, 1, 2), L = arg(argc, argv, 5, 1, 1, 8);
    const int TH = arg(argc, argv, 6, 2, 2, 256), R = arg(argc, argv, 7, 7, 1, MAXR);
    const int T = arg(argc, argv, 8, 50, 1, 100000), I = arg(argc, argv, 9, H, 1, 8192);
    const int G = lstm ? 4 : gru ? 3 : 1;

    unsigned seed = 12345;
    rnnkit_tensor t[64];
    static char names[64][40];
    float *bufs[64];
    int nt = 0;
    static const char *const kind[4] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};
    if (gru0 && L != 1) {
        fprintf(stderr, "ab_plan: gru0 (ONNX layout) has one layer\n");
        return 2;
    }
    if (gru0) { /* ONNX W [D, 3H, I], R [D, 3H, H], B [D, 6H] */
        static const char *const on[3] = {"W", "R", "B"};
        for (int k = 0; k < 3; k++) {
            const int64_t rows = k == 2 ? 2 * G * H : G * H, cols = k == 0 ? I : (k == 1 ? H : 0);
            snprintf(names[nt], sizeof names[nt], "%s", on[k]);
            bufs[nt] = ab_rnd((size_t)D * rows * (size_t)(cols ? cols : 1), 0.1f, &seed);
            t[nt] = (rnnkit_tensor){names[nt], bufs[nt], k < 2 ? 3 : 2, {D, rows, cols}};
            if (k == 2) t[nt].shape[2] = 0;
            nt++;
        }
    }
    for (int l = 0; l < L && !gru0; l++)
        for (int d = 0; d < D; d++)
            for (int k = 0; k < 4; k++) {
                const int64_t cols = k == 0 ? (l == 0 ? I : D * H) : (k == 1 ? H : 0);
                snprintf(names[nt], sizeof names[nt], "%s%d%s", kind[k], l, d ? "_reverse" : "");
                bufs[nt] = ab_rnd((size_t)G * H * (size_t)(cols ? cols : 1), 0.1f, &seed);
                t[nt] = (rnnkit_tensor){names[nt], bufs[nt], k < 2 ? 2 : 1, {G * H, cols}};
                nt++;
            }
    rnnkit_model_desc desc;
    rnnkit_model_desc_init(&desc);
    desc.layout = gru0 ? RNNKIT_LAYOUT_ONNX : RNNKIT_LAYOUT_PYTORCH;
    if (gru0) desc.direction = D == 2 ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
    desc.cell = lstm ? RNNKIT_CELL_LSTM : gru ? RNNKIT_CELL_GRU : RNNKIT_CELL_RNN_TANH;
    rnnkit_model *m;
    if (rnnkit_model_create(&desc, t, (size_t)nt, &m)) {
        fprintf(stderr, "ab_plan: %s\n", rnnkit_last_error());
        return 1;
    }
    const size_t ny = (size_t)T * N * D * H;
    float *x = ab_rnd((size_t)T * N * I, 1.0f, &seed), *y = malloc(ny * 4), *y1 = malloc(ny * 4);
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.x = x;

    /* Variants: threads, forced mode (-1 = the plan's), forced directions. */
    typedef struct {
        const char *name;
        int threads, mode, dirs;
    } variant;
    variant v[6] = {{"1 thread", 1, -1, -1},
              {"planned", TH, -1, -1},
              {"batch rows split", TH, RK_PAR_BATCH, -1},
              {"hidden units split", TH, RK_PAR_UNITS, -1}};
    int nv = 4;
    if (D == 2) {
        v[nv++] = (variant){"directions at once", TH, -1, 1};
        v[nv++] = (variant){"directions in turn", TH, -1, 0};
    }
    double tt[6][MAXR];
    a.y = y1, a.num_threads = 1;
    if (rnnkit_forward(m, &a)) {
        fprintf(stderr, "ab_plan: %s\n", rnnkit_last_error());
        return 1;
    }
    a.y = y;
    for (int r = 0; r < R; r++)
        for (int i = 0; i < nv; i++) {
            rk_plan_force_mode(v[i].mode);
            rk_plan_force_dirs(v[i].dirs);
            a.num_threads = v[i].threads;
            /* One untimed call first: the previous variant may have left
             * the weights in the other core's caches, or that core idle. */
            if (rnnkit_forward(m, &a)) {
                fprintf(stderr, "ab_plan: %s\n", rnnkit_last_error());
                return 1;
            }
            double t0 = ab_now();
            if (rnnkit_forward(m, &a)) {
                fprintf(stderr, "ab_plan: %s\n", rnnkit_last_error());
                return 1;
            }
            tt[i][r] = (ab_now() - t0) / T * 1e6;
            if (memcmp(y, y1, ny * 4)) {
                fprintf(stderr, "ab_plan: %s: output differs from 1 thread\n", v[i].name);
                return 1;
            }
        }
    rk_plan_force_mode(-1);
    rk_plan_force_dirs(-1);
    const rk_plan p = rk_plan_make(m, T, N, TH);
    static const char *const modes[3] = {"one thread", "batch rows", "hidden units"};
    printf("%s H %d batch %d dirs %d layers %d T %d, %d threads: plan %s%s, %d thread(s) per direction\n",
           cell, H, N, D, L, T, TH, D == 2 ? (p.par_dirs ? "directions at once, " : "directions in turn, ")
                                           : "",
           modes[p.mode], p.group);
    for (int i = 0; i < nv; i++) {
        qsort(tt[i], (size_t)R, sizeof(double), ab_cmpd);
        printf("  %-20s median %10.2f  best %10.2f us/step\n", v[i].name, tt[i][R / 2], tt[i][0]);
    }
    for (int i = 0; i < nt; i++) free(bufs[i]);
    free(x), free(y), free(y1);
    rnnkit_model_destroy(m);
    return 0;
}
