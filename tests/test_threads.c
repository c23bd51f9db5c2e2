/*
 * Threading: every way of splitting a forward call (whole direction on one
 * thread, batch rows split, hidden units split with a barrier per step,
 * directions at once or in turn) and every thread count 1..4 give bit-identical
 * results, because each output element is summed in the same order
 * whatever thread computes it; so do streams on 2..4 threads (one frame
 * per push, uneven chunks, all at once). Checked for every ISA this CPU
 * has.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "dispatch.h"
#include "model.h"
#include "plan.h"
#include "rnnkit.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
static float *rnd(size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand() * scale;
    return p;
}

typedef struct shape {
    rnnkit_cell cell;
    int layers, bidir, proj, I, H, T, N, ragged, onnx, lbr;
} shape;

static rnnkit_model *make(const shape *s, float **keep, int *nkeep) {
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = s->cell;
    int G = s->cell == RNNKIT_CELL_LSTM ? 4 : s->cell == RNNKIT_CELL_GRU ? 3 : 1;
    int D = s->bidir ? 2 : 1, P = s->proj ? s->proj : s->H;
    float sc = 1.0f / sqrtf((float)s->H);
    rnnkit_tensor t[64];
    static char names[64][32];
    int n = 0;
    if (s->onnx) {
        d.layout = RNNKIT_LAYOUT_ONNX;
        d.direction = s->bidir ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
        d.linear_before_reset = s->lbr;
        float *w = rnd((size_t)D * G * s->H * s->I, sc), *r = rnd((size_t)D * G * s->H * s->H, sc),
              *b = rnd((size_t)D * 2 * G * s->H, sc);
        keep[(*nkeep)++] = w;
        keep[(*nkeep)++] = r;
        keep[(*nkeep)++] = b;
        t[n++] = (rnnkit_tensor){"W", w, 3, {D, G * s->H, s->I}};
        t[n++] = (rnnkit_tensor){"R", r, 3, {D, G * s->H, s->H}};
        t[n++] = (rnnkit_tensor){"B", b, 2, {D, 2 * G * s->H}};
    } else {
        for (int l = 0; l < s->layers; l++)
            for (int dd = 0; dd < D; dd++) {
                const char *suf = dd ? "_reverse" : "";
                int K = l == 0 ? s->I : D * P;
                struct {
                    const char *fmt;
                    int nd;
                    int64_t a, b;
                } spec[5] = {{"weight_ih_l%d%s", 2, G * s->H, K},
                             {"weight_hh_l%d%s", 2, G * s->H, P},
                             {"bias_ih_l%d%s", 1, G * s->H, 0},
                             {"bias_hh_l%d%s", 1, G * s->H, 0},
                             {"weight_hr_l%d%s", 2, P, s->H}};
                for (int k = 0; k < (s->proj ? 5 : 4); k++) {
                    snprintf(names[n], sizeof names[n], spec[k].fmt, l, suf);
                    float *p = rnd((size_t)spec[k].a * (size_t)(spec[k].nd == 2 ? spec[k].b : 1), sc);
                    keep[(*nkeep)++] = p;
                    t[n] = (rnnkit_tensor){names[n], p, spec[k].nd, {spec[k].a, spec[k].b}};
                    n++;
                }
            }
    }
    rnnkit_model *m = NULL;
    rnnkit_status st = rnnkit_model_create(&d, t, (size_t)n, &m);
    cr_assert_eq(st, RNNKIT_STATUS_OK, "create: %s", rnnkit_last_error());
    return m;
}

/* A stream of a unidirectional model on 2..4 threads (every forced mode
 * and the plan's), pushed one frame at a time, in uneven chunks and all
 * at once: y and the final state the same bits as the 1-thread forward's
 * (y0, h0, c0). */
static void check_stream_threads(const char *isa, rnnkit_model *m, const shape *s, const float *x,
                                 const float *y0, const float *h0, const float *c0, size_t ny,
                                 size_t nh, size_t nc) {
    static const int64_t chunks[3][4] = {{1, 0}, {1, 4, 2, 0}, {1000, 0}};
    const int64_t row = (int64_t)(ny / ((size_t)s->T * (size_t)s->N)); /* P */
    float *y = malloc(ny * sizeof *y), *hn = malloc(nh * sizeof *hn), *cn = malloc(nc * sizeof *cn);
    for (int mode = -1; mode <= 2; mode++) {
        rk_plan_force_mode(mode);
        for (int th = 2; th <= 4; th++)
            for (int ch = 0; ch < 3; ch++) {
                rnnkit_stream *st = NULL;
                cr_assert_eq(rnnkit_stream_create(m, s->N, &st), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
                cr_assert_eq(rnnkit_stream_set_num_threads(st, th), RNNKIT_STATUS_OK);
                memset(y, 0x7f, ny * sizeof *y);
                for (int64_t done = 0, ci = 0; done < s->T;) {
                    int64_t k = chunks[ch][ci];
                    if (chunks[ch][++ci] == 0) ci = 0;
                    if (k > s->T - done) k = s->T - done;
                    cr_assert_eq(rnnkit_stream_push(st, x + (size_t)(done * s->N * s->I), k,
                                                    y + (size_t)(done * s->N * row)),
                                 RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
                    done += k;
                }
                cr_assert_eq(rnnkit_stream_get_state(st, hn, s->cell == RNNKIT_CELL_LSTM ? cn : NULL),
                             RNNKIT_STATUS_OK);
                for (size_t i = 0; i < ny; i++)
                    cr_assert(memcmp(&y[i], &y0[i], sizeof(float)) == 0,
                              "isa %s cell %d stream mode %d threads %d chunking %d: y[%zu] = %.9g, "
                              "1-thread forward %.9g",
                              isa, (int)s->cell, mode, th, ch, i, y[i], y0[i]);
                cr_assert(memcmp(hn, h0, nh * sizeof(float)) == 0,
                          "isa %s stream mode %d threads %d chunking %d: h differs", isa, mode, th, ch);
                if (s->cell == RNNKIT_CELL_LSTM)
                    cr_assert(memcmp(cn, c0, nc * sizeof(float)) == 0,
                              "isa %s stream mode %d threads %d chunking %d: c differs", isa, mode, th, ch);
                rnnkit_stream_destroy(st);
            }
    }
    rk_plan_force_mode(-1);
    free(y), free(hn), free(cn);
}

static void check_shape(const shape *s) {
    static const char *isas[] = {"scalar", "avx2", "avx512", "neon"};
    for (int ii = 0; ii < 4; ii++) {
        if (!rnnkit_isa_supported(isas[ii])) continue;
        cr_assert_eq(rnnkit_isa_select(isas[ii]), RNNKIT_STATUS_OK);
        float *keep[64];
        int nkeep = 0;
        rnnkit_model *m = make(s, keep, &nkeep);
        rnnkit_model_info info;
        rnnkit_model_get_info(m, &info);
        const int64_t D = info.num_directions, L = info.num_layers, P = info.output_size, H = s->H;
        const size_t ny = (size_t)s->T * s->N * D * P, nh = (size_t)L * D * s->N * P,
                     nc = (size_t)L * D * s->N * H;
        float *x = rnd((size_t)s->T * s->N * s->I, 1.0f);
        int32_t *len = malloc(sizeof(int32_t) * (size_t)s->N);
        for (int n = 0; n < s->N; n++) len[n] = s->ragged ? 1 + (n * 7) % s->T : s->T;
        if (s->ragged && s->onnx) len[0] = 0;
        float *y0 = NULL, *h0 = NULL, *c0 = NULL;
        /* Bidirectional: every mode with the directions at once and in
         * turn (each direction on all the threads), and as planned. */
        for (int cfg = 0; cfg < (s->bidir ? 3 : 1) * 4; cfg++) {
            const int mode = cfg % 4 - 1;
            rk_plan_force_mode(mode);
            rk_plan_force_dirs(cfg / 4 - 1);
            for (int th = 1; th <= 4; th++) {
                float *y = malloc(ny * sizeof *y), *hn = malloc(nh * sizeof *hn), *cn = malloc(nc * sizeof *cn);
                memset(y, 0x7f, ny * sizeof *y);
                rnnkit_forward_args a = {0};
                a.seq_len = s->T;
                a.batch = s->N;
                a.x = x;
                a.lengths = s->ragged ? len : NULL;
                a.y = y;
                a.hn = hn;
                a.cn = s->cell == RNNKIT_CELL_LSTM ? cn : NULL;
                a.num_threads = th;
                cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
                if (!y0) {
                    y0 = y;
                    h0 = hn;
                    c0 = cn;
                    continue;
                }
                for (size_t i = 0; i < ny; i++)
                    cr_assert(memcmp(&y[i], &y0[i], sizeof(float)) == 0,
                              "isa %s cell %d mode %d dirs %d threads %d: y[%zu] = %.9g, 1 thread gave %.9g",
                              isas[ii], (int)s->cell, mode, cfg / 4 - 1, th, i, y[i], y0[i]);
                cr_assert(memcmp(hn, h0, nh * sizeof(float)) == 0,
                          "isa %s mode %d dirs %d threads %d: hn differs", isas[ii], mode, cfg / 4 - 1, th);
                if (s->cell == RNNKIT_CELL_LSTM)
                    cr_assert(memcmp(cn, c0, nc * sizeof(float)) == 0,
                              "isa %s mode %d dirs %d threads %d: cn differs", isas[ii], mode, cfg / 4 - 1, th);
                free(y);
                free(hn);
                free(cn);
            }
        }
        rk_plan_force_mode(-1);
        rk_plan_force_dirs(-1);
        if (!s->bidir && !s->ragged) check_stream_threads(isas[ii], m, s, x, y0, h0, c0, ny, nh, nc);
        free(y0);
        free(h0);
        free(c0);
        free(x);
        free(len);
        for (int i = 0; i < nkeep; i++) free(keep[i]);
        rnnkit_model_destroy(m);
    }
    rnnkit_isa_select("auto");
}

Test(threads, lstm_units_and_batch) {
    shape s = {RNNKIT_CELL_LSTM, 1, 0, 0, 13, 40, 6, 5, 0, 0, 0};
    check_shape(&s);
}
Test(threads, lstm_proj_bidir_multilayer_ragged) {
    shape s = {RNNKIT_CELL_LSTM, 2, 1, 19, 7, 35, 5, 4, 1, 0, 0};
    check_shape(&s);
}
Test(threads, gru_lbr1_batch1) {
    shape s = {RNNKIT_CELL_GRU, 1, 0, 0, 9, 67, 4, 1, 0, 0, 0};
    check_shape(&s);
}
Test(threads, gru_lbr0_onnx_bidir_ragged) {
    shape s = {RNNKIT_CELL_GRU, 1, 1, 0, 9, 33, 5, 3, 1, 1, 0};
    check_shape(&s);
}
/* linear_before_reset = 0 splitting units: pass 1 / barrier / pass 2
 * (batch 1 so batch splitting cannot stand in for it). */
Test(threads, gru_lbr0_onnx_batch1_units) {
    shape s = {RNNKIT_CELL_GRU, 1, 0, 0, 9, 67, 5, 1, 0, 1, 0};
    check_shape(&s);
}
Test(threads, rnn_tanh_onnx_ragged_reverse) {
    shape s = {RNNKIT_CELL_RNN_TANH, 1, 1, 0, 5, 50, 7, 6, 1, 1, 1};
    check_shape(&s);
}
/* Unidirectional with a projection, 2 layers: also pushed to streams. */
Test(threads, lstm_proj_multilayer) {
    shape s = {RNNKIT_CELL_LSTM, 2, 0, 19, 7, 35, 5, 3, 0, 0, 0};
    check_shape(&s);
}
Test(threads, rnn_relu_multilayer) {
    shape s = {RNNKIT_CELL_RNN_RELU, 3, 0, 0, 4, 24, 3, 2, 0, 0, 0};
    check_shape(&s);
}

/* A caller inside its own parallel region (documented in rnnkit.h): each
 * call runs on the calling thread alone, joins none of the caller's
 * barriers, and gives the same bits as a call from outside. First thread 0
 * alone calls (a call that waited at a barrier of the caller's team would
 * hang: thread 1 waits at the region's end), then every thread at once on
 * the shared model. Batch-major input and two bidirectional layers take
 * every part of the driver's one-thread path. */
Test(threads, caller_parallel_region, .timeout = 60) {
    shape s = {RNNKIT_CELL_LSTM, 2, 1, 0, 7, 24, 9, 3, 0, 0, 0};
    float *keep[64];
    int nkeep = 0;
    rnnkit_model *m = make(&s, keep, &nkeep);
    const size_t ny = (size_t)s.T * s.N * 2 * s.H, nh = (size_t)2 * 2 * s.N * s.H;
    float *x = rnd((size_t)s.T * s.N * s.I, 1.0f);
    float *y0 = malloc(ny * sizeof *y0), *h0 = malloc(nh * sizeof *h0);
    float *y[3], *hn[3];
    rnnkit_forward_args a = {0};
    a.seq_len = s.T, a.batch = s.N, a.x = x, a.batch_major = 1, a.y = y0, a.hn = h0, a.num_threads = 2;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    for (int i = 0; i < 3; i++) {
        y[i] = malloc(ny * sizeof *y[i]), hn[i] = malloc(nh * sizeof *hn[i]);
        memset(y[i], 0x7f, ny * sizeof *y[i]);
    }
    int st[3] = {-1, -1, -1}, team = 0;
#pragma omp parallel num_threads(2)
    {
        const int tid = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        rnnkit_forward_args b = a;
        b.num_threads = 0;
        if (tid == 0) {
            b.y = y[2], b.hn = hn[2];
            st[2] = rnnkit_forward(m, &b);
        }
#pragma omp barrier
        b.y = y[tid], b.hn = hn[tid];
        st[tid] = rnnkit_forward(m, &b);
    }
    cr_assert_eq(team, 2, "the test needs a team of 2 threads");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(st[i], RNNKIT_STATUS_OK, "call %d: status %d", i, st[i]);
        cr_assert(memcmp(y[i], y0, ny * sizeof *y0) == 0, "call %d in a parallel region: y differs", i);
        cr_assert(memcmp(hn[i], h0, nh * sizeof *h0) == 0, "call %d in a parallel region: hn differs", i);
        free(y[i]), free(hn[i]);
    }
    free(x), free(y0), free(h0);
    for (int i = 0; i < nkeep; i++) free(keep[i]);
    rnnkit_model_destroy(m);
}

/* Batch-major input on a team: the threads transpose x's rows between
 * them, then every thread's projection reads rows that others wrote
 * (src/forward.c forward_team waits for the whole team in between; with
 * the directions at once, on one thread each, nothing else waits).
 * Repeated, as a missing wait shows only when a thread falls behind,
 * and with two inputs in turn: a call's workspace is the one the model
 * kept from the previous call, and would still hold the same transposed
 * x. */
Test(threads, batch_major_team) {
    shape s = {RNNKIT_CELL_GRU, 1, 1, 0, 96, 32, 24, 40, 0, 0, 0};
    float *keep[64];
    int nkeep = 0;
    rnnkit_model *m = make(&s, keep, &nkeep);
    const size_t ny = (size_t)s.T * s.N * 2 * s.H, nx = (size_t)s.T * s.N * s.I;
    float *x[2] = {rnd(nx, 1.0f), rnd(nx, 1.0f)};
    float *y0[2] = {malloc(ny * sizeof(float)), malloc(ny * sizeof(float))}, *y = malloc(ny * sizeof *y);
    rnnkit_forward_args a = {0};
    a.seq_len = s.T, a.batch = s.N, a.batch_major = 1, a.num_threads = 1;
    for (int i = 0; i < 2; i++) {
        a.x = x[i], a.y = y0[i];
        cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    }
    rk_plan_force_dirs(1);
    for (int mode = 0; mode <= 1; mode++) {
        rk_plan_force_mode(mode == 0 ? RK_PAR_BATCH : RK_PAR_UNITS);
        for (int rep = 0; rep < 20; rep++)
            for (int th = 2; th <= 4; th++) {
                const int i = (rep + th) & 1;
                memset(y, 0x7f, ny * sizeof *y);
                a.x = x[i], a.y = y, a.num_threads = th;
                cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
                cr_assert(memcmp(y, y0[i], ny * sizeof *y) == 0, "mode %d threads %d repeat %d: y differs",
                          mode, th, rep);
            }
    }
    rk_plan_force_mode(-1);
    rk_plan_force_dirs(-1);
    free(x[0]), free(x[1]), free(y0[0]), free(y0[1]), free(y);
    for (int i = 0; i < nkeep; i++) free(keep[i]);
    rnnkit_model_destroy(m);
}

/* The cost model's choices on shapes whose answer was measured (src/plan.c):
 * a fake model carries only what the plan reads; its kernels run at
 * plan_scale times the plan's reference FMA rate (0: unset, read as 1). */
static double plan_scale;
static rk_plan plan_for(rnnkit_cell cell, int64_t I, int64_t H, int64_t dirs, int64_t T,
                        int64_t N, int threads) {
    static rnnkit_kernels k;
    k.row_block = 8;
    k.flop_scale = plan_scale;
    struct rnnkit_model m;
    memset(&m, 0, sizeof m);
    m.cell = cell;
    m.input_size = I, m.hidden_size = H, m.out_size = H, m.num_layers = 1, m.num_dirs = dirs;
    m.gates = cell == RNNKIT_CELL_LSTM ? 4 : cell == RNNKIT_CELL_GRU ? 3 : 1;
    m.linear_before_reset = 1;
    m.k = &k;
    return rk_plan_make(&m, T, N, threads);
}

/* A stream's team start (src/plan.c rk_plan_fork_us): a team idle longer
 * than OpenMP's spin has slept, unless OMP_WAIT_POLICY=active; one frame
 * of an LSTM H 256 (measured: back to back 1.25-1.44x faster on 2
 * threads; paced 10 ms apart on default threads 0.18x) splits only when
 * the team is awake. */
Test(threads, stream_team_start) {
    static rnnkit_kernels k;
    k.row_block = 8;
    struct rnnkit_model m;
    memset(&m, 0, sizeof m);
    m.cell = RNNKIT_CELL_LSTM;
    m.input_size = 256, m.hidden_size = 256, m.out_size = 256, m.num_layers = 1, m.num_dirs = 1;
    m.gates = 4;
    m.k = &k;
    rk_plan_force_caches(1024.0 * 1024, 32.0 * 1024 * 1024);
    unsetenv("OMP_WAIT_POLICY");
    const double awake = rk_plan_fork_us(0), asleep = rk_plan_fork_us(1000000);
    cr_expect(awake < 10.0 && asleep >= 500.0, "fork us: awake %g, asleep %g", awake, asleep);
    cr_expect_eq(rk_plan_fork_us(RK_PLAN_SPIN_US - 1), awake);
    cr_expect_eq(rk_plan_mode_fork(&m, 1, 1, 2, awake), RK_PAR_UNITS);
    cr_expect_eq(rk_plan_mode_fork(&m, 1, 1, 2, asleep), RK_PAR_NONE);
    setenv("OMP_WAIT_POLICY", "active", 1);
    cr_expect_eq(rk_plan_fork_us(1000000), awake, "active threads never sleep");
    unsetenv("OMP_WAIT_POLICY");
    rk_plan_force_caches(0, 0);
}

Test(threads, plan_choices) {
    unsetenv("OMP_WAIT_POLICY");
    /* The caches these choices were measured with (Zen 4: 1 MiB L2 per
     * core, 32 MiB L3), whatever this machine has. */
    rk_plan_force_caches(1024.0 * 1024, 32.0 * 1024 * 1024);
    /* Both directions' weights (2 x 16 MiB) exceed L3: in turn, each
     * direction's units split over both threads (1400 -> 733 us/step). */
    rk_plan p = plan_for(RNNKIT_CELL_LSTM, 1024, 1024, 2, 50, 1, 2);
    cr_expect(!p.par_dirs && p.group == 2 && p.mode == RK_PAR_UNITS, "H 1024 bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    /* Compute-bound, weights in cache: directions at once. */
    p = plan_for(RNNKIT_CELL_LSTM, 256, 256, 2, 50, 64, 2);
    cr_expect(p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "H 256 N 64 bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    /* One thread: nothing to split. */
    p = plan_for(RNNKIT_CELL_LSTM, 1024, 1024, 2, 50, 1, 1);
    cr_expect(!p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE);
    /* Unidirectional batch 1, weights beyond L2: units split. */
    p = plan_for(RNNKIT_CELL_GRU, 512, 512, 1, 50, 1, 2);
    cr_expect(!p.par_dirs && p.group == 2 && p.mode == RK_PAR_UNITS, "GRU H 512 N 1: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    /* Batch 8, weights beyond L2: units split, each thread streaming half
     * of them (measured 301 us per step against 336 with rows split). */
    p = plan_for(RNNKIT_CELL_LSTM, 512, 512, 1, 50, 8, 2);
    cr_expect(p.group == 2 && p.mode == RK_PAR_UNITS, "LSTM H 512 N 8: %d %d", p.group, (int)p.mode);
    /* Speech size with passive OpenMP threads (waking them costs ~50 us
     * per call): everything on one thread. */
    setenv("OMP_WAIT_POLICY", "passive", 1);
    /* A small model whose activations outweigh its products: rows split
     * even so (measured, passive threads: 4.9 us per step against 6.0 on
     * one thread). */
    p = plan_for(RNNKIT_CELL_LSTM, 32, 32, 1, 50, 8, 2);
    cr_expect(p.group == 2 && p.mode == RK_PAR_BATCH, "LSTM H 32 N 8: %d %d", p.group, (int)p.mode);
    p = plan_for(RNNKIT_CELL_LSTM, 24, 32, 2, 63, 1, 2);
    cr_expect(!p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "speech bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    p = plan_for(RNNKIT_CELL_GRU, 24, 32, 2, 63, 1, 2);
    cr_expect(!p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "speech GRU H 32 bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    /* A direction about as long as the team's start: one thread (at once
     * lost in 4 of 4 runs in one process since the kernels got faster,
     * passive threads: 1.84-2.01 us per step on one thread against
     * 1.55-2.42 at once, src/plan.c); a direction half again as long
     * (LSTM H 64) still runs at once. */
    p = plan_for(RNNKIT_CELL_GRU, 24, 64, 2, 63, 1, 2);
    cr_expect(!p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "speech GRU H 64 bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    p = plan_for(RNNKIT_CELL_LSTM, 24, 64, 2, 63, 1, 2);
    cr_expect(p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "speech LSTM H 64 bidir: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    p = plan_for(RNNKIT_CELL_GRU, 24, 64, 1, 63, 1, 2);
    cr_expect(p.group == 1 && p.mode == RK_PAR_NONE, "speech GRU: %d %d", p.group, (int)p.mode);
    unsetenv("OMP_WAIT_POLICY");
    /* Spinning threads (the default) start in ~3 us: at once. */
    p = plan_for(RNNKIT_CELL_GRU, 24, 64, 2, 63, 1, 2);
    cr_expect(p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "speech GRU H 64 bidir, spinning: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    rk_plan_force_caches(0, 0);
}

/* Kernels twice as fast as the reference (AVX-512 at full width, Zen 5:
 * simd/kernels.h flop_scale) make a small model's direction too short to
 * win back a passive team's start: measured on the Zen 5 VM, ab_plan,
 * OMP_WAIT_POLICY=passive, LSTM H 64 bidirectional, I 24, T 63, batch 1,
 * medians of 15: one thread 0.89 us per step, directions at once 1.27
 * (the plan of scale 1 ran at once; bench_compare's paired speed-up
 * 0.67). Large models still split (LSTM H 512 batch 8: 1.89x paired). */
Test(threads, plan_flop_scale) {
    rk_plan_force_caches(1024.0 * 1024, 32.0 * 1024 * 1024);
    setenv("OMP_WAIT_POLICY", "passive", 1);
    plan_scale = 1.0;
    rk_plan p = plan_for(RNNKIT_CELL_LSTM, 24, 64, 2, 63, 1, 2);
    cr_expect(p.par_dirs, "scale 1: speech LSTM H 64 bidir at once");
    plan_scale = 2.0;
    p = plan_for(RNNKIT_CELL_LSTM, 24, 64, 2, 63, 1, 2);
    cr_expect(!p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE,
              "scale 2: speech LSTM H 64 bidir on one thread: %d %d %d", p.par_dirs, p.group,
              (int)p.mode);
    p = plan_for(RNNKIT_CELL_LSTM, 512, 512, 1, 50, 8, 2);
    cr_expect(p.group == 2 && p.mode == RK_PAR_UNITS, "scale 2: LSTM H 512 N 8: %d %d", p.group,
              (int)p.mode);
    p = plan_for(RNNKIT_CELL_GRU, 512, 512, 1, 50, 1, 2);
    cr_expect(p.group == 2 && p.mode == RK_PAR_UNITS, "scale 2: GRU H 512 N 1: %d %d", p.group,
              (int)p.mode);
    plan_scale = 0.0;
    unsetenv("OMP_WAIT_POLICY");
    rk_plan_force_caches(0, 0);
}

/* The dispatch layer's flop_scale (src/dispatch.c, from CPUID) against
 * the CPU that /proc/cpuinfo names: 2 for the avx512 table on AMD family
 * 26 (Zen 5) models 0-31 and 64-79 (512-bit FMAs at full width), 1 for
 * every other table and CPU. */
Test(threads, flop_scale_from_the_cpu) {
    const char *isas[] = {"scalar", "avx2", "avx512", "neon"};
    double want512 = 1.0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512], vendor[64] = "";
        int fam = -1, model = -1;
        while (fgets(line, sizeof line, f) && (fam < 0 || model < 0 || !vendor[0])) {
            if (!vendor[0]) sscanf(line, "vendor_id : %63s", vendor);
            if (fam < 0) sscanf(line, "cpu family : %d", &fam);
            if (model < 0) sscanf(line, "model : %d", &model);
        }
        fclose(f);
        if (!strcmp(vendor, "AuthenticAMD") && fam == 26 && (model < 32 || (model >= 64 && model < 80)))
            want512 = 2.0;
    }
    for (int i = 0; i < 4; i++) {
        const rnnkit_kernels *k = rk_kernels_for(isas[i]);
        if (!k) continue;
        const double want = strcmp(isas[i], "avx512") ? 1.0 : want512;
        cr_expect_eq(k->flop_scale, want, "%s: flop_scale %g, want %g", isas[i], k->flop_scale, want);
    }
}

/* The plan follows the machine's cache sizes. A bidirectional LSTM H 256
 * (1 MiB of recurrent weights per direction), batch 1, 2 threads: with a
 * 1 MiB L2 each direction stays in its own core's L2, at once; with 512
 * KiB (Zen 3) only halves fit, so the directions run in turn, each with
 * its hidden units split (measured on the Zen 3 VM, ab_plan, medians of
 * 9: 27.4 us per step in turn, 28.4 at once; GRU H 256 16.9 and 18.6). */
Test(threads, plan_follows_cache_sizes) {
    unsetenv("OMP_WAIT_POLICY");
    rk_plan_force_caches(1024.0 * 1024, 32.0 * 1024 * 1024);
    rk_plan p = plan_for(RNNKIT_CELL_LSTM, 256, 256, 2, 50, 1, 2);
    cr_expect(p.par_dirs && p.group == 1 && p.mode == RK_PAR_NONE, "1 MiB L2: %d %d %d", p.par_dirs,
              p.group, (int)p.mode);
    rk_plan_force_caches(512.0 * 1024, 32.0 * 1024 * 1024);
    p = plan_for(RNNKIT_CELL_LSTM, 256, 256, 2, 50, 1, 2);
    cr_expect(!p.par_dirs && p.group == 2 && p.mode == RK_PAR_UNITS, "512 KiB L2: %d %d %d",
              p.par_dirs, p.group, (int)p.mode);
    /* A large L3 keeps both directions of H 1024 (2 x 16 MiB) in cache:
     * at once, where 32 MiB (above) streams them in turn. */
    rk_plan_force_caches(1024.0 * 1024, 256.0 * 1024 * 1024);
    p = plan_for(RNNKIT_CELL_LSTM, 1024, 1024, 2, 50, 1, 2);
    cr_expect(p.par_dirs && p.group == 1, "256 MiB L3: %d %d %d", p.par_dirs, p.group, (int)p.mode);
    rk_plan_force_caches(0, 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* A sysfs-like cache directory: instruction caches skipped, the first
 * entry of a level kept, sizes in K / M / bytes, unreadable entries and
 * malformed sizes ignored. */
Test(threads, cache_sizes_from_sysfs) {
    char dir[] = "/tmp/rnnkit-cache-XXXXXX";
    cr_assert(mkdtemp(dir));
    static const char *const entries[][4] = {
        {"0", "1", "Data", "48K\n"},         {"1", "1", "Instruction", "64K\n"},
        {"2", "2", "Unified", "2048K\n"},    {"3", "3", "Unified", "96M\n"},
        {"4", "3", "Unified", "1M\n"},       /* a second L3 entry: the first counts */
        {"6", "2", "Unified", "12Q\n"},      /* malformed, and index5 is missing */
    };
    char path[256];
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        snprintf(path, sizeof path, "%s/index%s", dir, entries[i][0]);
        cr_assert(mkdir(path, 0700) == 0);
        snprintf(path, sizeof path, "%s/index%s/level", dir, entries[i][0]);
        write_file(path, entries[i][1]);
        snprintf(path, sizeof path, "%s/index%s/type", dir, entries[i][0]);
        write_file(path, entries[i][2]);
        snprintf(path, sizeof path, "%s/index%s/size", dir, entries[i][0]);
        write_file(path, entries[i][3]);
    }
    double s[3];
    rk_cache_sizes_from(dir, s);
    cr_expect(s[0] == 48.0 * 1024 && s[1] == 2048.0 * 1024 && s[2] == 96.0 * 1024 * 1024,
              "%g %g %g", s[0], s[1], s[2]);
    /* Without index0 and index2: no L1, and the malformed L2 gives 0. */
    snprintf(path, sizeof path, "%s/index0/level", dir);
    cr_assert(remove(path) == 0);
    snprintf(path, sizeof path, "%s/index2/size", dir);
    cr_assert(remove(path) == 0);
    rk_cache_sizes_from(dir, s);
    cr_expect(s[0] == 0 && s[1] == 0 && s[2] == 96.0 * 1024 * 1024, "%g %g %g", s[0], s[1], s[2]);
    rk_cache_sizes_from("/nonexistent/rnnkit", s);
    cr_expect(s[0] == 0 && s[1] == 0 && s[2] == 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert(system(cmd) == 0);
    /* This machine's: positive, and the same on every call. */
    double a[3], b[3];
    rk_cache_sizes(a);
    rk_cache_sizes(b);
    for (int i = 0; i < 3; i++) cr_expect(a[i] > 0 && a[i] == b[i], "level %d: %g %g", i + 1, a[i], b[i]);
}
