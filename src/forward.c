/*
 * The layer driver: validation of a forward call, the workspace, and the
 * time loop of each direction of each layer.
 *
 * Per layer and direction: one GEMM projects the inputs of all T steps at
 * once (biases folded in), then each step runs the ISA's fused step kernel
 * (recurrent product + cell update) and, for LSTM with projection, one
 * small GEMM. Ragged batches (per-row lengths) run every row and freeze
 * finished rows afterwards, so the kernels never see lengths; a reverse
 * direction with ragged rows gathers each row's projection from its own
 * time index. Nothing in the time loop allocates.
 */
#include "forward.h"

#include <omp.h>
#include <stdatomic.h>
#include <string.h>

#include "status.h"

static atomic_int rk_default_threads = 0;

rnnkit_status rnnkit_set_num_threads(int n) {
    rk_clear_error();
    if (n < 0)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_set_num_threads: %d is negative (0 = OpenMP default)", n);
    atomic_store(&rk_default_threads, n);
    return RNNKIT_STATUS_OK;
}

int rnnkit_get_num_threads(void) {
    int n = atomic_load(&rk_default_threads);
    return n > 0 ? n : omp_get_max_threads();
}

/* A caller already inside a parallel region gets one thread: no
 * oversubscription. */
int rk_resolve_threads(int requested) {
    if (omp_in_parallel()) return 1;
    int n = requested > 0 ? requested : rnnkit_get_num_threads();
    return n < 1 ? 1 : n;
}

/* ------------------------------------------------------------------ */
/* Workspace                                                           */
/* ------------------------------------------------------------------ */

static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

size_t rk_dir_ws_floats(const rnnkit_model *m, int64_t T, int64_t N) {
    const size_t H = (size_t)m->hidden_size, P = (size_t)m->out_size, G = (size_t)m->gates;
    const size_t n = (size_t)N;
    size_t f = pad16((size_t)T * n * G * H) + 2 * pad16(n * P) + pad16(n * G * H);
    if (m->cell == RNNKIT_CELL_LSTM) f += 2 * pad16(n * H) + (m->proj_size ? pad16(n * H) : 0);
    if (m->cell == RNNKIT_CELL_GRU) f += pad16(n * H);
    return f;
}

void rk_dir_ws_carve(const rnnkit_model *m, int64_t T, int64_t N, float *mem, rk_dir_ws *ws) {
    const size_t H = (size_t)m->hidden_size, P = (size_t)m->out_size, G = (size_t)m->gates;
    const size_t n = (size_t)N;
    memset(ws, 0, sizeof *ws);
    ws->xp = mem;
    mem += pad16((size_t)T * n * G * H);
    ws->h[0] = mem;
    mem += pad16(n * P);
    ws->h[1] = mem;
    mem += pad16(n * P);
    ws->gx = mem;
    mem += pad16(n * G * H);
    if (m->cell == RNNKIT_CELL_LSTM) {
        ws->c[0] = mem;
        mem += pad16(n * H);
        ws->c[1] = mem;
        mem += pad16(n * H);
        if (m->proj_size) {
            ws->m = mem;
            mem += pad16(n * H);
        }
    }
    if (m->cell == RNNKIT_CELL_GRU) ws->scratch = mem;
}

/* Sizes of a forward call's workspace, in floats; 0 on overflow. */
typedef struct fwd_plan {
    size_t xin, layer_buf, dir_ws, state_h, state_c, total;
    int nbufs;
} fwd_plan;

static int plan_forward(const rnnkit_model *m, int64_t T, int64_t N, int batch_major, fwd_plan *p) {
    /* Guard every product against size_t overflow first. */
    const size_t t = (size_t)T, n = (size_t)N, D = (size_t)m->num_dirs;
    size_t tn, widest = (size_t)m->gates * (size_t)m->hidden_size;
    if ((size_t)m->input_size > widest) widest = (size_t)m->input_size;
    if (D * (size_t)m->out_size > widest) widest = D * (size_t)m->out_size;
    size_t probe;
    if (rk_mul_overflow(t, n, &tn) || rk_mul_overflow(tn, widest, &probe) ||
        rk_mul_overflow(probe, 16, &probe))
        return 0;
    memset(p, 0, sizeof *p);
    p->xin = batch_major ? pad16(tn * (size_t)m->input_size) : 0;
    p->nbufs = m->num_layers > 1 ? 2 : 1;
    p->layer_buf = pad16(tn * D * (size_t)m->out_size);
    p->dir_ws = rk_dir_ws_floats(m, T, N);
    p->state_h = pad16(n * (size_t)m->out_size);
    p->state_c = pad16(n * (size_t)m->hidden_size);
    p->total = p->xin + (size_t)p->nbufs * p->layer_buf + D * (p->dir_ws + p->state_h + p->state_c);
    if (p->total > SIZE_MAX / 8) return 0;
    return 1;
}

rnnkit_status rnnkit_workspace_size(const rnnkit_model *m, int64_t T, int64_t N, size_t *bytes) {
    rk_clear_error();
    if (!m || !bytes)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_workspace_size: %s is NULL",
                        m ? "bytes" : "model");
    if (T < 1 || N < 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_workspace_size: seq_len %lld and batch %lld must be >= 1",
                        (long long)T, (long long)N);
    fwd_plan p;
    /* The larger of the two layouts, so one size fits either call. */
    if (!plan_forward(m, T, N, 1, &p))
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "workspace size for seq_len %lld x batch %lld overflows",
                        (long long)T, (long long)N);
    *bytes = p.total * sizeof(float) + 64;
    return RNNKIT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* One direction of one layer                                          */
/* ------------------------------------------------------------------ */

void rk_run_direction(const rnnkit_model *m, int64_t l, int64_t d, int64_t T, int64_t N,
                      const float *in, int64_t ld_in, const int32_t *len, float *h_state,
                      float *c_state, float *out, int64_t ld_out, rk_dir_ws *ws) {
    const rk_dir_weights *w = &m->w[l * m->num_dirs + d];
    const int reverse =
        m->num_dirs == 2 ? d == 1 : m->direction == RNNKIT_DIRECTION_REVERSE;
    const int64_t H = m->hidden_size, P = m->out_size, G = m->gates, GH = G * H;
    const int64_t K = rk_layer_input(m, l);
    const int nr = m->k->row_block;
    const int lstm = m->cell == RNNKIT_CELL_LSTM;

    m->k->gemm(nr, T * N, G, H, K, in, ld_in, w->w_ih, w->bias, ws->xp, GH);

    int ragged = 0;
    if (len)
        for (int64_t n = 0; n < N; n++) ragged |= len[n] != T;

    memcpy(ws->h[0], h_state, sizeof(float) * (size_t)(N * P));
    if (lstm) memcpy(ws->c[0], c_state, sizeof(float) * (size_t)(N * H));

    rnnkit_step_args a;
    memset(&a, 0, sizeof a);
    a.nr = nr;
    a.n = N;
    a.h = H;
    a.k = P;
    a.j_begin = 0;
    a.j_end = H;
    a.w = w->w_hh;
    a.w_n = w->w_hn;
    a.ld_xp = GH;
    a.ld_h_prev = P;
    a.ld_h_out = m->proj_size ? H : P;
    a.b_hn = w->b_hn;
    a.peep = w->peep;
    a.clip = m->clip;
    a.input_forget = m->input_forget;
    a.linear_before_reset = m->linear_before_reset;
    a.default_act = w->default_act;
    a.act = w->act;
    a.scratch = ws->scratch;

    for (int64_t s = 0; s < T; s++) {
        const int cur = (int)(s & 1), nxt = cur ^ 1;
        if (!ragged) {
            int64_t t = reverse ? T - 1 - s : s;
            a.xp = ws->xp + (size_t)(t * N) * (size_t)GH;
        } else if (!reverse) {
            a.xp = ws->xp + (size_t)(s * N) * (size_t)GH;
        } else {
            for (int64_t n = 0; n < N; n++) {
                float *dst = ws->gx + (size_t)(n * GH);
                if (s < len[n])
                    memcpy(dst, ws->xp + (size_t)((len[n] - 1 - s) * N + n) * (size_t)GH,
                           sizeof(float) * (size_t)GH);
                else
                    memset(dst, 0, sizeof(float) * (size_t)GH);
            }
            a.xp = ws->gx;
        }
        a.h_prev = ws->h[cur];
        a.h_out = m->proj_size ? ws->m : ws->h[nxt];
        a.c_prev = ws->c[cur];
        a.c_out = ws->c[nxt];
        w->step(&a);
        if (m->proj_size) m->k->gemm(nr, N, 1, P, H, ws->m, H, w->w_hr, NULL, ws->h[nxt], P);
        if (ragged) {
            for (int64_t n = 0; n < N; n++) {
                if (s < len[n]) continue;
                memcpy(ws->h[nxt] + n * P, ws->h[cur] + n * P, sizeof(float) * (size_t)P);
                if (lstm) memcpy(ws->c[nxt] + n * H, ws->c[cur] + n * H, sizeof(float) * (size_t)H);
            }
        }
        if (out) {
            for (int64_t n = 0; n < N; n++) {
                if (!ragged || s < len[n]) {
                    int64_t t = !reverse ? s : (ragged ? len[n] - 1 - s : T - 1 - s);
                    memcpy(out + (size_t)(t * N + n) * (size_t)ld_out, ws->h[nxt] + n * P,
                           sizeof(float) * (size_t)P);
                } else {
                    memset(out + (size_t)(s * N + n) * (size_t)ld_out, 0, sizeof(float) * (size_t)P);
                }
            }
        }
    }
    const int fin = (int)(T & 1);
    memcpy(h_state, ws->h[fin], sizeof(float) * (size_t)(N * P));
    if (lstm) memcpy(c_state, ws->c[fin], sizeof(float) * (size_t)(N * H));
}

/* ------------------------------------------------------------------ */
/* rnnkit_forward                                                      */
/* ------------------------------------------------------------------ */

static rnnkit_status validate(const rnnkit_model *m, const rnnkit_forward_args *a) {
    if (!m) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: model is NULL");
    if (!a) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args is NULL");
    if (!a->x) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args.x is NULL");
    if (a->seq_len < 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args.seq_len is %lld (must be >= 1)",
                        (long long)a->seq_len);
    if (a->batch < 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args.batch is %lld (must be >= 1)",
                        (long long)a->batch);
    if (a->num_threads < 0)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args.num_threads is %d (must be >= 0)",
                        a->num_threads);
    if (a->batch_major != 0 && a->batch_major != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_forward: args.batch_major is %d (0 or 1)",
                        a->batch_major);
    if (m->layout == RNNKIT_LAYOUT_ONNX && a->batch_major != m->onnx_layout)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_forward: args.batch_major is %d but the ONNX model has layout %d",
                        a->batch_major, m->onnx_layout);
    if (m->cell != RNNKIT_CELL_LSTM && (a->c0 || a->cn))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "rnnkit_forward: args.%s given but only LSTM models have a cell state",
                        a->c0 ? "c0" : "cn");
    if (a->lengths) {
        const int32_t lo = m->layout == RNNKIT_LAYOUT_ONNX ? 0 : 1;
        for (int64_t n = 0; n < a->batch; n++)
            if (a->lengths[n] < lo || a->lengths[n] > a->seq_len)
                return rk_error(RNNKIT_STATUS_BAD_LENGTH,
                                "rnnkit_forward: lengths[%lld] is %d, outside %d..%lld (seq_len)",
                                (long long)n, (int)a->lengths[n], (int)lo, (long long)a->seq_len);
    }
    return RNNKIT_STATUS_OK;
}

/* Initial state row layout of (layer l, direction d): base pointer and
 * row stride in floats, for a tensor laid out as h0/hn (width w). */
static void state_view(const rnnkit_model *m, int64_t l, int64_t d, int64_t N, int64_t w,
                       size_t *base, size_t *ld) {
    const int64_t D = m->num_dirs;
    if (m->layout == RNNKIT_LAYOUT_ONNX && m->onnx_layout == 1) {
        *base = (size_t)(d * w);
        *ld = (size_t)(D * w);
    } else {
        *base = (size_t)((l * D + d) * N * w);
        *ld = (size_t)w;
    }
}

static void load_state(float *dst, const float *src, size_t base, size_t ld, int64_t N, int64_t w) {
    for (int64_t n = 0; n < N; n++) {
        if (src) memcpy(dst + n * w, src + base + (size_t)n * ld, sizeof(float) * (size_t)w);
        else memset(dst + n * w, 0, sizeof(float) * (size_t)w);
    }
}

static void store_state(float *dst, const float *src, size_t base, size_t ld, int64_t N, int64_t w,
                        const int32_t *len) {
    for (int64_t n = 0; n < N; n++) {
        float *row = dst + base + (size_t)n * ld;
        if (len && len[n] == 0) memset(row, 0, sizeof(float) * (size_t)w);
        else memcpy(row, src + n * w, sizeof(float) * (size_t)w);
    }
}

rnnkit_status rnnkit_forward(const rnnkit_model *m, const rnnkit_forward_args *a) {
    rk_clear_error();
    rnnkit_status st = validate(m, a);
    if (st) return st;
    const int64_t T = a->seq_len, N = a->batch, D = m->num_dirs, L = m->num_layers;
    const int64_t I = m->input_size, H = m->hidden_size, P = m->out_size;
    fwd_plan p;
    if (!plan_forward(m, T, N, a->batch_major, &p))
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY,
                        "rnnkit_forward: sizes seq_len %lld x batch %lld overflow", (long long)T,
                        (long long)N);
    float *mem;
    void *owned = NULL;
    if (a->workspace) {
        size_t need = p.total * sizeof(float) + 64;
        if (a->workspace_size < need)
            return rk_error(RNNKIT_STATUS_WORKSPACE_TOO_SMALL,
                            "rnnkit_forward: workspace is %zu bytes, this call needs %zu "
                            "(rnnkit_workspace_size)",
                            a->workspace_size, need);
        uintptr_t u = ((uintptr_t)a->workspace + 63) & ~(uintptr_t)63;
        mem = (float *)u;
    } else {
        owned = rk_alloc(p.total * sizeof(float));
        if (!owned)
            return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_forward: cannot allocate %zu bytes of workspace",
                            p.total * sizeof(float));
        mem = owned;
    }

    float *cursor = mem;
    float *xin = cursor;
    cursor += p.xin;
    float *bufs[2];
    bufs[0] = cursor;
    cursor += p.layer_buf;
    bufs[1] = p.nbufs > 1 ? cursor : bufs[0];
    cursor += (size_t)(p.nbufs - 1) * p.layer_buf;
    rk_dir_ws ws[2];
    float *hs[2], *cs[2];
    for (int64_t d = 0; d < D; d++) {
        rk_dir_ws_carve(m, T, N, cursor, &ws[d]);
        cursor += p.dir_ws;
        hs[d] = cursor;
        cursor += p.state_h;
        cs[d] = cursor;
        cursor += p.state_c;
    }

    const float *in = a->x;
    int64_t ld_in = I;
    if (a->batch_major) {
        for (int64_t n = 0; n < N; n++)
            for (int64_t t = 0; t < T; t++)
                memcpy(xin + (size_t)(t * N + n) * (size_t)I, a->x + (size_t)(n * T + t) * (size_t)I,
                       sizeof(float) * (size_t)I);
        in = xin;
    }
    const int threads = rk_resolve_threads(a->num_threads);
    const int par_dirs = D == 2 && threads >= 2;
    const int lstm = m->cell == RNNKIT_CELL_LSTM;

    for (int64_t l = 0; l < L; l++) {
        float *out = bufs[l & 1];
#pragma omp parallel for num_threads(2) if (par_dirs) schedule(static)
        for (int64_t d = 0; d < D; d++) {
            size_t base, ld;
            state_view(m, l, d, N, P, &base, &ld);
            load_state(hs[d], a->h0, base, ld, N, P);
            if (lstm) {
                state_view(m, l, d, N, H, &base, &ld);
                load_state(cs[d], a->c0, base, ld, N, H);
            }
            rk_run_direction(m, l, d, T, N, in, ld_in, a->lengths, hs[d], cs[d], out + d * P, D * P,
                             &ws[d]);
            if (a->hn) {
                state_view(m, l, d, N, P, &base, &ld);
                store_state(a->hn, hs[d], base, ld, N, P, a->lengths);
            }
            if (lstm && a->cn) {
                state_view(m, l, d, N, H, &base, &ld);
                store_state(a->cn, cs[d], base, ld, N, H, a->lengths);
            }
        }
        in = out;
        ld_in = D * P;
    }

    if (a->y) {
        const float *buf = in; /* [T, N, D*P] */
        const size_t row = (size_t)(D * P);
        if (m->layout == RNNKIT_LAYOUT_ONNX && !a->batch_major) {
            /* [T, D, N, H] */
            for (int64_t t = 0; t < T; t++)
                for (int64_t d = 0; d < D; d++)
                    for (int64_t n = 0; n < N; n++)
                        memcpy(a->y + (size_t)((t * D + d) * N + n) * (size_t)H,
                               buf + (size_t)(t * N + n) * row + (size_t)(d * H), sizeof(float) * (size_t)H);
        } else if (a->batch_major) {
            /* PyTorch [N, T, D*P]; ONNX layout 1 [N, T, D, H]: same memory. */
            for (int64_t n = 0; n < N; n++)
                for (int64_t t = 0; t < T; t++)
                    memcpy(a->y + (size_t)(n * T + t) * row, buf + (size_t)(t * N + n) * row,
                           sizeof(float) * row);
        } else {
            memcpy(a->y, buf, sizeof(float) * row * (size_t)(T * N));
        }
    }
    rk_free(owned);
    return RNNKIT_STATUS_OK;
}
