/*
 * Streaming: a state per stream, fed a few steps at a time. Steps are run
 * in chunks of up to RK_STREAM_CHUNK through the same layer driver as
 * rnnkit_forward (so the arithmetic per step is identical); all memory is
 * allocated at creation.
 */
#include <string.h>

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
};

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
    s->mem = rk_calloc(total, sizeof(float));
    if (!s->mem) {
        rk_free(s);
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_stream_create: out of memory");
    }
    s->m = m;
    s->n = batch;
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

rnnkit_status rnnkit_stream_push(rnnkit_stream *s, const float *x, int64_t steps, float *y) {
    rk_clear_error();
    if (!s) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: stream is NULL");
    if (!x) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: x is NULL");
    if (steps < 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_stream_push: steps is %lld (must be >= 1)",
                        (long long)steps);
    const rnnkit_model *m = s->m;
    const int64_t N = s->n, I = m->input_size, P = m->out_size, H = m->hidden_size;
    for (int64_t s0 = 0; s0 < steps; s0 += RK_STREAM_CHUNK) {
        const int64_t T = steps - s0 < RK_STREAM_CHUNK ? steps - s0 : RK_STREAM_CHUNK;
        const float *in = x + (size_t)(s0 * N * I);
        int64_t ld_in = I;
        for (int64_t l = 0; l < m->num_layers; l++) {
            float *out = s->buf[l & 1];
            if (l == m->num_layers - 1 && y) out = y + (size_t)(s0 * N * P);
            rk_run_direction(m, l, 0, T, N, in, ld_in, NULL, s->h + (size_t)(l * N * P),
                             s->c + (size_t)(l * N * H), out, P, &s->ws);
            in = out;
            ld_in = P;
        }
    }
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
