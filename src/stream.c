/*
 * Streaming: a state per stream, fed a few steps at a time. Steps are run
 * in chunks of up to RK_STREAM_CHUNK through the same layer driver as
 * rnnkit_forward (so the arithmetic per step is identical); all memory is
 * allocated at creation. A push runs on the calling thread unless
 * rnnkit_stream_set_num_threads allowed more: then each chunk asks the
 * forward's cost model (src/plan.c) for its mode, and a split runs every
 * layer of the chunk on one OpenMP team (its input projection split by
 * units when the rows are few: a one-frame push projects one row).
 */
#include <omp.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "status.h"

#define RK_STREAM_CHUNK 32

struct rnnkit_stream {
    const rnnkit_model *m;
    int64_t n;
    float *mem;
    rk_dir_ws ws;
    float *h; /* [L, N, P] */
    float *c; /* [L, N, H] */
    float *buf[2]; /* [CHUNK, N, P] between layers */
    int threads;   /* rnnkit_stream_set_num_threads: 1 (default), 0 = library default */
    rk_barrier bar;
    double last_end; /* when the last push ended (s, CLOCK_MONOTONIC); 0: never */
};

static double mono_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void rnnkit_stream_destroy(rnnkit_stream *s) {
    if (!s) return;
    rk_free(s->mem);
    rk_free(s);
}

rnnkit_status rnnkit_stream_create(const rnnkit_model *m, int64_t batch, rnnkit_stream **out) {
    rk_clear_error();
    if (!out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_create: out is NULL");
    if (!m) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_create: model is NULL");
    if (batch < 1 || batch > ((int64_t)1 << 31))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_stream_create: batch is %lld (must be 1..2^31)", (long long)batch);
    if (m->num_dirs != 1 || m->direction != RNNKIT_DIRECTION_FORWARD)
        return rk_error(RNNKIT_STATUS_UNSUPPORTED,
                        "rnnkit_stream_create: the model is %s; streaming needs a forward-only model "
                        "(a %s direction needs the whole sequence)",
                        m->num_dirs == 2 ? "bidirectional" : "reverse",
                        m->num_dirs == 2 ? "backward" : "reverse");
    const size_t L = (size_t)m->num_layers, N = (size_t)batch;
    const size_t P = (size_t)m->out_size, H = (size_t)m->hidden_size;
    size_t wsf = rk_dir_ws_floats(m, RK_STREAM_CHUNK, batch);
    size_t total = wsf + L * N * P + L * N * H + 2 * (size_t)RK_STREAM_CHUNK * N * P + 64;
    rnnkit_stream *s = rk_calloc(1, sizeof *s);
    if (!s) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_stream_create: out of memory");
    s->mem = rk_calloc_large(total, sizeof(float));
    if (!s->mem) {
        rk_free(s);
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_stream_create: out of memory");
    }
    s->m = m;
    s->n = batch;
    s->threads = 1;
    float *p = s->mem;
    rk_dir_ws_carve(m, RK_STREAM_CHUNK, batch, p, &s->ws);
    p += wsf;
    s->h = p;
    p += L * N * P;
    s->c = p;
    p += L * N * H;
    s->buf[0] = p;
    p += (size_t)RK_STREAM_CHUNK * N * P;
    s->buf[1] = p;
    *out = s;
    return RNNKIT_STATUS_OK;
}

rnnkit_status rnnkit_stream_reset(rnnkit_stream *s, const float *h0, const float *c0) {
    rk_clear_error();
    if (!s) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_reset: stream is NULL");
    const rnnkit_model *m = s->m;
    if (c0 && m->cell != RNNKIT_CELL_LSTM)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_stream_reset: c0 given but only LSTM models have a cell state");
    const size_t L = (size_t)m->num_layers, N = (size_t)s->n;
    const size_t hp = L * N * (size_t)m->out_size, hc = L * N * (size_t)m->hidden_size;
    if (h0) memcpy(s->h, h0, sizeof(float) * hp);
    else memset(s->h, 0, sizeof(float) * hp);
    if (c0) memcpy(s->c, c0, sizeof(float) * hc);
    else memset(s->c, 0, sizeof(float) * hc);
    return RNNKIT_STATUS_OK;
}

/* Every layer over one chunk of T steps (x rows in, y rows out, NULL:
 * not wanted), as thread tid of a team of nt (1: alone, bar unused);
 * with nt > 1 each layer ends on the team's barrier, so the next one
 * reads all of its outputs. */
static void run_chunk(rnnkit_stream *s, int64_t T, const float *in, float *y, rk_par_mode mode,
                      int tid, int nt, int *sense) {
    const rnnkit_model *m = s->m;
    const int64_t N = s->n, P = m->out_size, H = m->hidden_size;
    int64_t ld_in = m->input_size;
    for (int64_t l = 0; l < m->num_layers; l++) {
        float *out = s->buf[l & 1];
        if (l == m->num_layers - 1 && y) out = y;
        rk_run_direction_team(m, l, 0, T, N, in, ld_in, NULL, s->h + (size_t)(l * N * P),
                              s->c + (size_t)(l * N * H), out, P, &s->ws, mode, tid, nt, &s->bar,
                              sense);
        in = out;
        ld_in = P;
    }
}

rnnkit_status rnnkit_stream_push(rnnkit_stream *s, const float *x, int64_t steps, float *y) {
    rk_clear_error();
    if (!s) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: stream is NULL");
    if (!x) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: x is NULL");
    if (steps < 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: steps is %lld (must be >= 1)",
                        (long long)steps);
    const rnnkit_model *m = s->m;
    const int64_t N = s->n, I = m->input_size, P = m->out_size;
    const int threads = s->threads == 1 ? 1 : rk_resolve_threads(s->threads);
    /* A team idle since the last push (or never started) may have gone
     * to sleep: its start then costs ~1 ms (src/plan.c FORK_ASLEEP_US),
     * which frames paced in real time pay at every push. */
    double fork = 0.0;
    if (threads > 1) fork = rk_plan_fork_us(s->last_end > 0.0 ? (mono_s() - s->last_end) * 1e6 : 1e9);
    for (int64_t s0 = 0; s0 < steps; s0 += RK_STREAM_CHUNK) {
        const int64_t T = steps - s0 < RK_STREAM_CHUNK ? steps - s0 : RK_STREAM_CHUNK;
        const float *in = x + (size_t)(s0 * N * I);
        float *yc = y ? y + (size_t)(s0 * N * P) : NULL;
        const rk_par_mode mode = threads > 1 ? rk_plan_mode_fork(m, T, N, threads, fork) : RK_PAR_NONE;
        if (mode == RK_PAR_NONE) {
            run_chunk(s, T, in, yc, RK_PAR_NONE, 0, 1, NULL);
            continue;
        }
        fork = rk_plan_fork_us(0); /* the team is awake for the next chunk */
#pragma omp parallel num_threads(threads)
        {
            /* The runtime may give fewer threads than asked: plan with
             * what came. */
            const int nth = omp_get_num_threads(), tid = omp_get_thread_num();
            const rk_par_mode md = nth == threads ? mode : rk_plan_mode_fork(m, T, N, nth, fork);
            int sense = 0;
#pragma omp single
            rk_barrier_init(&s->bar, nth);
            run_chunk(s, T, in, yc, md, tid, nth, &sense);
        }
    }
    if (threads > 1) s->last_end = mono_s();
    return RNNKIT_STATUS_OK;
}

rnnkit_status rnnkit_stream_set_num_threads(rnnkit_stream *s, int num_threads) {
    rk_clear_error();
    if (!s) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_set_num_threads: stream is NULL");
    if (num_threads < 0)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_stream_set_num_threads: %d is negative (1 = the calling thread only, "
                        "0 = rnnkit_get_num_threads())",
                        num_threads);
    s->threads = num_threads;
    return RNNKIT_STATUS_OK;
}

rnnkit_status rnnkit_stream_get_state(const rnnkit_stream *s, float *h, float *c) {
    rk_clear_error();
    if (!s) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_get_state: stream is NULL");
    const rnnkit_model *m = s->m;
    if (c && m->cell != RNNKIT_CELL_LSTM)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_stream_get_state: c given but only LSTM models have a cell state");
    const size_t L = (size_t)m->num_layers, N = (size_t)s->n;
    if (h) memcpy(h, s->h, sizeof(float) * L * N * (size_t)m->out_size);
    if (c) memcpy(c, s->c, sizeof(float) * L * N * (size_t)m->hidden_size);
    return RNNKIT_STATUS_OK;
}
