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

#include "plan.h"
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
    const size_t ldh = (size_t)rk_ldh((int64_t)P);
    const size_t ldx = (size_t)rk_ldx((int64_t)(G * H));
    size_t f = pad16((size_t)T * n * ldx) + 2 * pad16(n * ldh) + pad16(n * ldx);
    if (m->cell == RNNKIT_CELL_LSTM) f += 2 * pad16(n * H) + (m->proj_size ? pad16(n * H) : 0);
    if (m->cell == RNNKIT_CELL_GRU) f += pad16(n * H);
    return f;
}

void rk_dir_ws_carve(const rnnkit_model *m, int64_t T, int64_t N, float *mem, rk_dir_ws *ws) {
    const size_t H = (size_t)m->hidden_size, P = (size_t)m->out_size, G = (size_t)m->gates;
    const size_t n = (size_t)N;
    memset(ws, 0, sizeof *ws);
    ws->ldx = rk_ldx((int64_t)(G * H));
    ws->xp = mem;
    mem += pad16((size_t)T * n * (size_t)ws->ldx);
    ws->ldh = rk_ldh((int64_t)P);
    ws->h[0] = mem;
    mem += pad16(n * (size_t)ws->ldh);
    ws->h[1] = mem;
    mem += pad16(n * (size_t)ws->ldh);
    ws->gx = mem;
    mem += pad16(n * (size_t)ws->ldx);
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
    /* The widest row of any buffer: xp rows take rk_ldx(G*H) floats. */
    size_t tn, widest = (size_t)rk_ldx(m->gates * m->hidden_size);
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

void *rnnkit_buffer_alloc(size_t bytes) {
    void *p = rk_alloc_large(bytes);
    if (!p) rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_buffer_alloc: cannot allocate %zu bytes", bytes);
    return p;
}

void rnnkit_buffer_free(void *buffer) { rk_free(buffer); }

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

typedef struct dir_ctx {
    const rnnkit_model *m;
    const rk_dir_weights *w;
    int64_t T, N, l;
    int reverse, ragged, lstm, gru_two_pass;
    const int32_t *len;
    float *h_state, *c_state, *out;
    int64_t ld_out;
    rk_dir_ws *ws;
} dir_ctx;

static void ctx_init(dir_ctx *c, const rnnkit_model *m, int64_t l, int64_t d, int64_t T, int64_t N,
                     const int32_t *len, float *h_state, float *c_state, float *out, int64_t ld_out,
                     rk_dir_ws *ws) {
    c->m = m;
    c->w = &m->w[l * m->num_dirs + d];
    c->T = T;
    c->N = N;
    c->l = l;
    c->reverse = m->num_dirs == 2 ? d == 1 : m->direction == RNNKIT_DIRECTION_REVERSE;
    c->ragged = 0;
    if (len)
        for (int64_t n = 0; n < N; n++) c->ragged |= len[n] != T;
    c->lstm = m->cell == RNNKIT_CELL_LSTM;
    c->gru_two_pass = m->cell == RNNKIT_CELL_GRU && !m->linear_before_reset;
    c->len = len;
    c->h_state = h_state;
    c->c_state = c_state;
    c->out = out;
    c->ld_out = ld_out;
    c->ws = ws;
}

/* Rows [r0, r1) and units [j0, j1) of the input projection of all T*N
 * rows (j0 a multiple of 2*nr, which suits every layout: see
 * rnnkit_gemm_fn). */
static void project(const dir_ctx *c, const float *in, int64_t ld_in, int64_t r0, int64_t r1,
                    int64_t j0, int64_t j1) {
    const rnnkit_model *m = c->m;
    const int64_t H = m->hidden_size, G = m->gates, K = rk_layer_input(m, c->l);
    const int nr = m->k->row_block;
    if (r1 <= r0 || j1 <= j0) return;
    m->k->gemm(nr, r1 - r0, G, j1 - j0, H, K, in + (size_t)r0 * (size_t)ld_in, ld_in,
               c->w->w_ih + (size_t)(j0 / nr) * (size_t)(G * nr) * (size_t)K,
               c->w->bias ? c->w->bias + j0 : NULL,
               c->ws->xp + (size_t)r0 * (size_t)c->ws->ldx + j0, c->ws->ldx);
}

static void step_args_init(const dir_ctx *c, rnnkit_step_args *a) {
    const rnnkit_model *m = c->m;
    const int64_t H = m->hidden_size, P = m->out_size;
    memset(a, 0, sizeof *a);
    a->nr = m->k->row_block;
    a->h = H;
    a->k = P;
    a->j_begin = 0;
    a->j_end = H;
    a->w = c->w->w_hh;
    a->w_n = c->w->w_hn;
    a->ld_xp = c->ws->ldx;
    a->ld_h_prev = c->ws->ldh;
    a->ld_h_out = m->proj_size ? H : c->ws->ldh;
    a->b_hn = c->w->b_hn;
    a->peep = c->w->peep;
    a->clip = m->clip;
    a->input_forget = m->input_forget;
    a->linear_before_reset = m->linear_before_reset;
    a->default_act = c->w->default_act;
    a->act = c->w->act;
}

/* step_xp for a reversed direction of a ragged batch: each row's own
 * last-to-first order, gathered into gx. */
static void step_xp_ragged(const dir_ctx *c, rnnkit_step_args *a, int64_t s, int64_t r0, int64_t r1) {
    const int64_t N = c->N, GH = c->m->gates * c->m->hidden_size, ldx = c->ws->ldx;
    for (int64_t n = r0; n < r1; n++) {
        float *dst = c->ws->gx + (size_t)(n * ldx);
        if (s < c->len[n])
            memcpy(dst, c->ws->xp + (size_t)((c->len[n] - 1 - s) * N + n) * (size_t)ldx,
                   sizeof(float) * (size_t)GH);
        else
            memset(dst, 0, sizeof(float) * (size_t)GH);
    }
    a->xp = c->ws->gx + (size_t)(r0 * ldx);
}

/* Points a->xp at step s's projections of rows [r0, r1) (inline: it runs
 * every step, and a call took ~40 instructions of a batch-1 step). */
static inline void step_xp(const dir_ctx *c, rnnkit_step_args *a, int64_t s, int64_t r0, int64_t r1) {
    if (c->ragged && c->reverse) {
        step_xp_ragged(c, a, s, r0, r1);
        return;
    }
    const int64_t t = c->reverse ? c->T - 1 - s : s;
    a->xp = c->ws->xp + (size_t)(t * c->N + r0) * (size_t)c->ws->ldx;
}

/* After step s: freeze finished rows and write outputs, for rows
 * [r0, r1) and state columns [p0, p1) of h (and [q0, q1) of c). */
static void step_finish(const dir_ctx *c, int64_t s, int64_t r0, int64_t r1, int64_t p0, int64_t p1,
                        int64_t q0, int64_t q1) {
    const rnnkit_model *m = c->m;
    const int64_t H = m->hidden_size, N = c->N, T = c->T;
    const int cur = (int)(s & 1), nxt = cur ^ 1;
    const rk_dir_ws *ws = c->ws;
    const int64_t ldh = ws->ldh;
    for (int64_t n = r0; n < r1; n++) {
        int active = !c->ragged || s < c->len[n];
        if (!active) {
            memcpy(ws->h[nxt] + n * ldh + p0, ws->h[cur] + n * ldh + p0, sizeof(float) * (size_t)(p1 - p0));
            if (c->lstm)
                memcpy(ws->c[nxt] + n * H + q0, ws->c[cur] + n * H + q0, sizeof(float) * (size_t)(q1 - q0));
        }
        if (!c->out) continue;
        if (active) {
            int64_t t = !c->reverse ? s : (c->ragged ? c->len[n] - 1 - s : T - 1 - s);
            memcpy(c->out + (size_t)(t * N + n) * (size_t)c->ld_out + p0, ws->h[nxt] + n * ldh + p0,
                   sizeof(float) * (size_t)(p1 - p0));
        } else {
            memset(c->out + (size_t)(s * N + n) * (size_t)c->ld_out + p0, 0, sizeof(float) * (size_t)(p1 - p0));
        }
    }
}

/* The whole time loop for rows [r0, r1), every unit, one thread. */
static void run_rows(const dir_ctx *c, int64_t r0, int64_t r1) {
    const rnnkit_model *m = c->m;
    const int64_t H = m->hidden_size, P = m->out_size, n = r1 - r0;
    const int nr = m->k->row_block;
    rk_dir_ws *ws = c->ws;
    const int64_t ldh = ws->ldh;
    if (n <= 0) return;
    for (int64_t r = r0; r < r1; r++)
        memcpy(ws->h[0] + r * ldh, c->h_state + r * P, sizeof(float) * (size_t)P);
    if (c->lstm) memcpy(ws->c[0] + r0 * H, c->c_state + r0 * H, sizeof(float) * (size_t)(n * H));
    rnnkit_step_args a;
    step_args_init(c, &a);
    a.n = n;
    a.scratch = ws->scratch ? ws->scratch + r0 * H : NULL;
    /* Direct: every row runs all T steps and its outputs are wanted, so
     * each step writes h straight into its output rows, and the next step
     * reads it there (same values; it saves step_finish's copy: ~120 of
     * ~3000 instructions per step of a batch-1 LSTM H 32, callgrind). */
    const int direct = !c->ragged && c->out && !m->proj_size;
    if (direct) a.ld_h_out = c->ld_out;
    for (int64_t s = 0; s < c->T; s++) {
        const int cur = (int)(s & 1), nxt = cur ^ 1;
        step_xp(c, &a, s, r0, r1);
        if (direct) {
            /* h_prev: the initial state, then the previous step's rows. */
            const int64_t t = c->reverse ? c->T - 1 - s : s;
            a.h_prev = s ? a.h_out : ws->h[0] + r0 * ldh;
            a.ld_h_prev = s ? c->ld_out : ldh;
            a.h_out = c->out + (size_t)(t * c->N + r0) * (size_t)c->ld_out;
        } else {
            a.h_prev = ws->h[cur] + r0 * ldh;
            a.h_out = m->proj_size ? ws->m + r0 * H : ws->h[nxt] + r0 * ldh;
        }
        a.c_prev = c->lstm ? ws->c[cur] + r0 * H : NULL;
        a.c_out = c->lstm ? ws->c[nxt] + r0 * H : NULL;
        /* Alternate the unit order: the next step starts on the weights
         * this one read last (rnnkit_step_args.reverse). */
        a.reverse = (int)(s & 1);
        c->w->step(&a);
        if (direct) continue;
        if (m->proj_size)
            m->k->gemm(nr, n, 1, P, P, H, ws->m + r0 * H, H, c->w->w_hr, NULL, ws->h[nxt] + r0 * ldh, ldh);
        step_finish(c, s, r0, r1, 0, P, 0, H);
    }
    const int fin = (int)(c->T & 1);
    for (int64_t r = r0; r < r1; r++)
        memcpy(c->h_state + r * P, direct ? a.h_out + (r - r0) * c->ld_out : ws->h[fin] + r * ldh,
               sizeof(float) * (size_t)P);
    if (c->lstm) memcpy(c->c_state + r0 * H, ws->c[fin] + r0 * H, sizeof(float) * (size_t)(n * H));
}

/* Even split of `count` items in multiples of `unit` among `parts`. */
static void split(int64_t count, int64_t unit, int part, int parts, int64_t *b, int64_t *e) {
    int64_t chunks = (count + unit - 1) / unit;
    int64_t c0 = chunks * part / parts, c1 = chunks * (part + 1) / parts;
    *b = c0 * unit < count ? c0 * unit : count;
    *e = c1 * unit < count ? c1 * unit : count;
}

/* The time loop with hidden units split among a team: thread `tid` of
 * `nt` owns units [j0, j1) (and projection outputs [p0, p1)), all rows.
 * One barrier per step (two with a projection or with GRU
 * linear_before_reset = 0, whose n-gate pass reads r*h_prev of every
 * unit). */
static void run_units(const dir_ctx *c, int tid, int nt, rk_barrier *bar, int *sense) {
    const rnnkit_model *m = c->m;
    const int64_t H = m->hidden_size, P = m->out_size, N = c->N;
    const int nr = m->k->row_block;
    rk_dir_ws *ws = c->ws;
    const int64_t ldh = ws->ldh;
    int64_t j0, j1, p0, p1;
    split(H, nr, tid, nt, &j0, &j1);
    split(P, nr, tid, nt, &p0, &p1);
    if (!m->proj_size) {
        p0 = j0;
        p1 = j1;
    }
    for (int64_t n = 0; n < N; n++) {
        memcpy(ws->h[0] + n * ldh + p0, c->h_state + n * P + p0, sizeof(float) * (size_t)(p1 - p0));
        if (c->lstm) memcpy(ws->c[0] + n * H + j0, c->c_state + n * H + j0, sizeof(float) * (size_t)(j1 - j0));
    }
    rnnkit_step_args a;
    step_args_init(c, &a);
    a.n = N;
    a.j_begin = j0;
    a.j_end = j1;
    a.scratch = ws->scratch;
    rk_barrier_wait(bar, sense);
    for (int64_t s = 0; s < c->T; s++) {
        const int cur = (int)(s & 1), nxt = cur ^ 1;
        if (c->ragged && c->reverse) {
            /* gx is shared: one thread gathers, the others wait. */
            if (tid == 0) step_xp(c, &a, s, 0, N);
            rk_barrier_wait(bar, sense);
            a.xp = ws->gx;
        } else {
            step_xp(c, &a, s, 0, N);
        }
        a.h_prev = ws->h[cur];
        a.h_out = m->proj_size ? ws->m : ws->h[nxt];
        a.c_prev = c->lstm ? ws->c[cur] : NULL;
        a.c_out = c->lstm ? ws->c[nxt] : NULL;
        a.reverse = (int)(s & 1);
        if (c->gru_two_pass) {
            /* Pass 2 reads r*h_prev of every unit: wait for all pass 1s. */
            a.gru_pass = 1;
            if (j1 > j0) c->w->step(&a);
            rk_barrier_wait(bar, sense);
            a.gru_pass = 2;
        }
        if (j1 > j0) c->w->step(&a);
        if (m->proj_size) {
            rk_barrier_wait(bar, sense);
            if (p1 > p0)
                m->k->gemm(nr, N, 1, p1 - p0, p1 - p0, H, ws->m, H, c->w->w_hr + (size_t)(p0 / nr) * (size_t)(H * nr),
                           NULL, ws->h[nxt] + p0, ldh);
        }
        step_finish(c, s, 0, N, p0, p1, j0, j1);
        rk_barrier_wait(bar, sense);
    }
    const int fin = (int)(c->T & 1);
    for (int64_t n = 0; n < N; n++) {
        memcpy(c->h_state + n * P + p0, ws->h[fin] + n * ldh + p0, sizeof(float) * (size_t)(p1 - p0));
        if (c->lstm) memcpy(c->c_state + n * H + j0, ws->c[fin] + n * H + j0, sizeof(float) * (size_t)(j1 - j0));
    }
}

/* Below this many projection rows per thread, the input projection is
 * split by units instead of rows (run_dir_team). */
#ifndef RK_PROJ_ROWS_PER_THREAD
#define RK_PROJ_ROWS_PER_THREAD 16
#endif

/* One direction on a team of nt threads (tid within it). */
static void run_dir_team(const dir_ctx *c, const float *in, int64_t ld_in, rk_par_mode mode, int tid,
                         int nt, rk_barrier *bar, int *sense) {
    int64_t b, e;
    /* Input projection: every output element is one FMA chain over the
     * input whatever the thread count (rnnkit_gemm_fn), split by rows
     * (each thread reads all of W_ih) or, when there are fewer than
     * RK_PROJ_ROWS_PER_THREAD rows per thread (a stream's frame, a short
     * chunk), by units in multiples of 2 blocks (each thread reads its
     * share of W_ih: a one-frame projection is one row). */
    if (nt > 1 && c->T * c->N < RK_PROJ_ROWS_PER_THREAD * nt) {
        const int64_t nr = c->m->k->row_block;
        split(c->m->hidden_size, 2 * nr, tid, nt, &b, &e);
        project(c, in, ld_in, 0, c->T * c->N, b, e);
    } else {
        split(c->T * c->N, 1, tid, nt, &b, &e);
        project(c, in, ld_in, b, e, 0, c->m->hidden_size);
    }
    if (nt > 1) rk_barrier_wait(bar, sense);
    if (mode == RK_PAR_UNITS && nt > 1) {
        run_units(c, tid, nt, bar, sense);
    } else if (mode == RK_PAR_BATCH && nt > 1) {
        split(c->N, 1, tid, nt, &b, &e);
        run_rows(c, b, e);
    } else if (tid == 0) {
        run_rows(c, 0, c->N);
    }
    if (nt > 1) rk_barrier_wait(bar, sense);
}

void rk_run_direction_team(const rnnkit_model *m, int64_t l, int64_t d, int64_t T, int64_t N,
                           const float *in, int64_t ld_in, const int32_t *len, float *h_state,
                           float *c_state, float *out, int64_t ld_out, rk_dir_ws *ws,
                           rk_par_mode mode, int tid, int nt, rk_barrier *bar, int *sense) {
    dir_ctx c;
    ctx_init(&c, m, l, d, T, N, len, h_state, c_state, out, ld_out, ws);
    run_dir_team(&c, in, ld_in, mode, tid, nt, bar, sense);
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

/* The state of one rnnkit_forward call, shared by its team. */
typedef struct {
    const rnnkit_model *m;
    const rnnkit_forward_args *a;
    rk_plan plan;
    float *xin, *bufs[2];
    rk_dir_ws *ws;
    float **hs, **cs;
    rk_barrier bars[2];   /* per direction group */
    rk_barrier team;      /* the whole team */
} fwd_call;

/* A team of nth threads: one group per direction when both run at once
 * (the last group takes the odd thread), else one group. */
static int team_groups(const rk_plan *p, int nth) { return p->par_dirs && nth >= 2 ? 2 : 1; }
static int group_size(int g, int groups, int nth) {
    return g == groups - 1 ? nth - g * (nth / groups) : nth / groups;
}

/* Threads the plan asks for. */
static int plan_team(const rk_plan *p) { return p->par_dirs ? 2 * p->group : p->group; }

/* The barriers of a team of nth threads. */
static void fwd_barriers_init(fwd_call *f, int nth) {
    const int groups = team_groups(&f->plan, nth);
    for (int i = 0; i < groups; i++) rk_barrier_init(&f->bars[i], group_size(i, groups, nth));
    rk_barrier_init(&f->team, nth);
}

/* Thread tid of a team of nth runs its share of every layer. Called
 * inside the call's parallel region when nth > 1, directly when
 * nth == 1, and then it uses no OpenMP construct: a caller inside its
 * own parallel region gets one thread (rk_resolve_threads), and a
 * barrier here would bind to the caller's team. The team synchronises
 * on spinning barriers (src/plan.c rk_barrier_wait), set up for the
 * plan's team before the region: under OMP_WAIT_POLICY=passive an OpenMP
 * barrier puts the early threads to sleep, and each one cost futex
 * calls and a wake-up. */
static void forward_team(fwd_call *f, int tid, int nth) {
    const rnnkit_model *m = f->m;
    const rnnkit_forward_args *a = f->a;
    const int64_t T = a->seq_len, N = a->batch, D = m->num_dirs, L = m->num_layers;
    const int64_t I = m->input_size, H = m->hidden_size, P = m->out_size;
    const int lstm = m->cell == RNNKIT_CELL_LSTM;
    /* The runtime may give fewer threads than asked: plan with what
     * came. Groups: one per direction when both run at once. */
    const int groups = team_groups(&f->plan, nth);
    const int gsize = nth / groups;
    const int g = tid / gsize < groups ? tid / gsize : groups - 1;
    const int gtid = tid - g * gsize;
    const int gn = group_size(g, groups, nth);
    const rk_par_mode mode = gn == f->plan.group ? f->plan.mode : rk_plan_mode(m, T, N, gn);
    rk_barrier *bars = f->bars;
    int sense = 0, tsense = 0;
    if (nth != plan_team(&f->plan)) {
        /* The runtime gave fewer threads than asked (never when nth == 1
         * outside a region: the plan asked for one). */
        if (tid == 0) fwd_barriers_init(f, nth);
#pragma omp barrier
    }
    const float *in = a->x;
    int64_t ld_in = I;
    if (a->batch_major) {
        int64_t b, e;
        split(N, 1, tid, nth, &b, &e);
        for (int64_t n = b; n < e; n++)
            for (int64_t t = 0; t < T; t++)
                memcpy(f->xin + (size_t)(t * N + n) * (size_t)I, a->x + (size_t)(n * T + t) * (size_t)I,
                       sizeof(float) * (size_t)I);
        in = f->xin;
        if (nth > 1) rk_barrier_wait(&f->team, &tsense);
    }
    for (int64_t l = 0; l < L; l++) {
        float *out = f->bufs[l & 1];
        for (int64_t d = g; d < D; d += groups) {
            size_t base, ld;
            dir_ctx c;
            ctx_init(&c, m, l, d, T, N, a->lengths, f->hs[d], f->cs[d], out + d * P, D * P, &f->ws[d]);
            if (gtid == 0) {
                state_view(m, l, d, N, P, &base, &ld);
                load_state(f->hs[d], a->h0, base, ld, N, P);
                if (lstm) {
                    state_view(m, l, d, N, H, &base, &ld);
                    load_state(f->cs[d], a->c0, base, ld, N, H);
                }
            }
            if (gn > 1) rk_barrier_wait(&bars[g], &sense);
            run_dir_team(&c, in, ld_in, mode, gtid, gn, &bars[g], &sense);
            if (gtid == 0) {
                if (a->hn) {
                    state_view(m, l, d, N, P, &base, &ld);
                    store_state(a->hn, f->hs[d], base, ld, N, P, a->lengths);
                }
                if (lstm && a->cn) {
                    state_view(m, l, d, N, H, &base, &ld);
                    store_state(a->cn, f->cs[d], base, ld, N, H, a->lengths);
                }
            }
        }
        /* The next layer reads every direction's outputs; after the last,
         * the region's end waits for the team. */
        if (nth > 1 && l + 1 < L) rk_barrier_wait(&f->team, &tsense);
        in = out;
        ld_in = D * P;
    }
}

rnnkit_status rnnkit_forward(const rnnkit_model *m, const rnnkit_forward_args *a) {
    rk_clear_error();
    rnnkit_status st = validate(m, a);
    if (st) return st;
    const int64_t T = a->seq_len, N = a->batch, D = m->num_dirs, L = m->num_layers;
    const int64_t H = m->hidden_size, P = m->out_size;
    fwd_plan p, pmax;
    if (!plan_forward(m, T, N, a->batch_major, &p) || !plan_forward(m, T, N, 1, &pmax))
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY,
                        "rnnkit_forward: sizes seq_len %lld x batch %lld overflow", (long long)T,
                        (long long)N);
    float *mem;
    rk_ws_buf *owned = NULL;
    if (a->workspace) {
        /* The documented size (rnnkit_workspace_size), whatever the layout. */
        size_t need = pmax.total * sizeof(float) + 64;
        if (a->workspace_size < need)
            return rk_error(RNNKIT_STATUS_WORKSPACE_TOO_SMALL,
                            "rnnkit_forward: workspace is %zu bytes, this call needs %zu "
                            "(rnnkit_workspace_size)",
                            a->workspace_size, need);
        uintptr_t u = ((uintptr_t)a->workspace + 63) & ~(uintptr_t)63;
        mem = (float *)u;
    } else {
        owned = rk_ws_take(m, p.total * sizeof(float));
        if (!owned)
            return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "rnnkit_forward: cannot allocate %zu bytes of workspace",
                            p.total * sizeof(float));
        mem = owned->mem;
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

    const int threads = rk_resolve_threads(a->num_threads);
    fwd_call f = {.m = m, .a = a, .xin = xin, .bufs = {bufs[0], bufs[1]}, .ws = ws, .hs = hs, .cs = cs};
    f.plan = rk_plan_make(m, T, N, threads);
    const int want = plan_team(&f.plan);
    fwd_barriers_init(&f, want);
    if (want > 1) {
#pragma omp parallel num_threads(want)
        forward_team(&f, omp_get_thread_num(), omp_get_num_threads());
    } else {
        /* One thread: no parallel region. libgomp's barriers and the end
         * of even a one-thread region each made a futex system call,
         * three per call (strace): ~4 us outside the kernels per call,
         * 0.4 us without them (measured, a batch-1 LSTM H 32 forward of
         * 63 steps, ~12 us in all before, ~8 after). */
        forward_team(&f, 0, 1);
    }
    const float *last = bufs[(L - 1) & 1];

    if (a->y) {
        const float *buf = last; /* [T, N, D*P] */
        const size_t row = (size_t)(D * P);
        if (m->layout == RNNKIT_LAYOUT_KERAS && m->direction == RNNKIT_DIRECTION_REVERSE) {
            /* go_backwards: Keras returns the outputs in processing
             * order, y[t] from the step that read x[T-1-t]; with lengths
             * the padding (zeros) comes first. */
            for (int64_t n = 0; n < N; n++)
                for (int64_t t = 0; t < T; t++)
                    memcpy(a->y + (size_t)(a->batch_major ? n * T + t : t * N + n) * row,
                           buf + (size_t)((T - 1 - t) * N + n) * row, sizeof(float) * row);
        } else if (m->merge_mode != RNNKIT_MERGE_CONCAT) {
            /* Keras Bidirectional merge_mode sum / mul / ave: y [.., H]. */
            const rnnkit_merge_mode mm = m->merge_mode;
            for (int64_t n = 0; n < N; n++)
                for (int64_t t = 0; t < T; t++) {
                    const float *f = buf + (size_t)(t * N + n) * row, *b = f + P;
                    float *o = a->y + (size_t)(a->batch_major ? n * T + t : t * N + n) * (size_t)P;
                    for (int64_t j = 0; j < P; j++)
                        o[j] = mm == RNNKIT_MERGE_SUM   ? f[j] + b[j]
                               : mm == RNNKIT_MERGE_MUL ? f[j] * b[j]
                                                        : (f[j] + b[j]) * 0.5f;
                }
        } else if (m->layout == RNNKIT_LAYOUT_ONNX && !a->batch_major) {
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
    rk_ws_give(m, owned);
    return RNNKIT_STATUS_OK;
}
