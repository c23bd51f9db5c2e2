/*
 * ab_forward: rnnkit_forward of two builds of the library in ONE process
 * (each dlopen'ed with RTLD_LOCAL), timed round by round in alternating
 * order, so that the drift of a shared machine hits both alike. For each
 * shape it builds the same random PyTorch-layout model in both, checks
 * that their outputs are bitwise equal (a change meant to keep the sums
 * must keep them; "DIFFER" otherwise) and prints the median and best us
 * per time step of each, and the change of the median.
 *
 * usage: ab_forward OLD.so NEW.so [ROUNDS [SHAPE ...]]
 *   SHAPE: CELL:H:N:T:I:D (CELL lstm, gru or rnn; D 1 or 2 directions),
 *   default the comparison grid's speech models: {lstm,gru}:{32,64}:1:63:24:{1,2}.
 *   One thread (num_threads = 1), or AB_THREADS from the environment.
 *   scripts/ab-forward.sh builds two git revisions and runs this.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab_util.h"
#include "rnnkit.h"

typedef void (*desc_init_fn)(rnnkit_model_desc *);
typedef rnnkit_status (*create_fn)(const rnnkit_model_desc *, const rnnkit_tensor *, size_t,
                                   rnnkit_model **);
typedef rnnkit_status (*fwd_fn)(const rnnkit_model *, const rnnkit_forward_args *);
typedef void (*destroy_fn)(rnnkit_model *);

typedef struct {
    desc_init_fn desc_init;
    create_fn create;
    fwd_fn forward;
    destroy_fn destroy;
} lib_fns;

static int load(const char *path, lib_fns *f) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ab_forward: %s\n", dlerror());
        return 1;
    }
    f->desc_init = (desc_init_fn)dlsym(h, "rnnkit_model_desc_init");
    f->create = (create_fn)dlsym(h, "rnnkit_model_create");
    f->forward = (fwd_fn)dlsym(h, "rnnkit_forward");
    f->destroy = (destroy_fn)dlsym(h, "rnnkit_model_destroy");
    if (!f->desc_init || !f->create || !f->forward || !f->destroy) {
        fprintf(stderr, "ab_forward: %s lacks the rnnkit API\n", path);
        return 1;
    }
    return 0;
}

static int run_shape(const lib_fns lib[2], const char *cell, int H, int N, int T, int I, int D, int R) {
    const int lstm = !strcmp(cell, "lstm"), gru = !strcmp(cell, "gru"), rnn = !strcmp(cell, "rnn");
    if (!lstm && !gru && !rnn) {
        fprintf(stderr, "ab_forward: cell must be lstm, gru or rnn\n");
        return 1;
    }
    unsigned seed = 12345;
    ab_layer L;
    if (!ab_layer_make(&L, cell, H, I, D, &seed)) return 1;
    const int G = L.gates;
    rnnkit_model *m[2];
    for (int v = 0; v < 2; v++) {
        rnnkit_model_desc desc;
        lib[v].desc_init(&desc);
        desc.cell = lstm ? RNNKIT_CELL_LSTM : gru ? RNNKIT_CELL_GRU : RNNKIT_CELL_RNN_TANH;
        if (lib[v].create(&desc, L.t, (size_t)L.n, &m[v])) {
            fprintf(stderr, "ab_forward: model creation failed\n");
            return 1;
        }
    }
    const char *te = getenv("AB_THREADS");
    const int threads = te && atoi(te) > 0 ? atoi(te) : 1;
    const size_t ny = (size_t)T * N * D * H;
    float *x = ab_rnd((size_t)T * N * I, 1.0f, &seed);
    float *y[2] = {malloc(ny * sizeof(float)), malloc(ny * sizeof(float))};
    double tt[2][AB_MAXR];
    const int reps = (int)(2e6 / ((double)T * N * D * G * H * (H + I)) + 1);
    for (int r = 0; r < R; r++)
        for (int o = 0; o < 2; o++) {
            const int v = (r & 1) ? 1 - o : o;
            rnnkit_forward_args a;
            memset(&a, 0, sizeof a);
            a.seq_len = T, a.batch = N, a.x = x, a.y = y[v], a.num_threads = threads;
            if (lib[v].forward(m[v], &a)) {
                fprintf(stderr, "ab_forward: forward failed\n");
                return 1;
            }
            const double t0 = ab_now();
            for (int i = 0; i < reps; i++) lib[v].forward(m[v], &a);
            tt[v][r] = (ab_now() - t0) / reps / T * 1e6;
        }
    const int same = !memcmp(y[0], y[1], ny * sizeof(float));
    qsort(tt[0], (size_t)R, sizeof(double), ab_cmpd);
    qsort(tt[1], (size_t)R, sizeof(double), ab_cmpd);
    printf("%-4s H %4d N %3d T %3d I %4d D %d: old median %9.3f best %9.3f | new median %9.3f "
           "best %9.3f us/step (%+5.1f %%), outputs %s\n",
           cell, H, N, T, I, D, tt[0][R / 2], tt[0][0], tt[1][R / 2], tt[1][0],
           100.0 * (tt[1][R / 2] / tt[0][R / 2] - 1.0), same ? "bitwise equal" : "DIFFER");
    for (int v = 0; v < 2; v++) lib[v].destroy(m[v]), free(y[v]);
    ab_layer_free(&L);
    free(x);
    return same ? 0 : 3;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: ab_forward OLD.so NEW.so [ROUNDS [CELL:H:N:T:I:D ...]]\n");
        return 2;
    }
    lib_fns lib[2];
    if (load(argv[1], &lib[0]) || load(argv[2], &lib[1])) return 1;
    const int R = argc > 3 ? atoi(argv[3]) : 21;
    if (R < 1 || R > AB_MAXR) {
        fprintf(stderr, "ab_forward: ROUNDS must be in 1..%d\n", AB_MAXR);
        return 2;
    }
    int status = 0;
    if (argc > 4) {
        for (int i = 4; i < argc; i++) {
            char cell[8];
            int H, N, T, I, D;
            if (sscanf(argv[i], "%7[a-z]:%d:%d:%d:%d:%d", cell, &H, &N, &T, &I, &D) != 6 || H < 1 ||
                N < 1 || T < 1 || I < 1 || D < 1 || D > 2) {
                fprintf(stderr, "ab_forward: bad shape \"%s\" (CELL:H:N:T:I:D)\n", argv[i]);
                return 2;
            }
            int s = run_shape(lib, cell, H, N, T, I, D, R);
            if (s == 1) return 1;
            if (s) status = s;
        }
        return status;
    }
    static const char *const cells[2] = {"lstm", "gru"};
    for (int c = 0; c < 2; c++)
        for (int H = 32; H <= 64; H *= 2)
            for (int D = 1; D <= 2; D++) {
                int s = run_shape(lib, cells[c], H, 1, 63, 24, D, R);
                if (s == 1) return 1;
                if (s) status = s;
            }
    return status;
}
