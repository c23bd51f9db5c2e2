/*
 * Shared helpers of the Criterion suites: a seeded RNG, random models in
 * PyTorch or ONNX layout, comparison against the float64 reference with a
 * report of the worst element, and a driver that runs one forward case on
 * every ISA this CPU supports (with 1/2/3 threads, with and without a
 * caller workspace) and checks it against ref64.
 *
 * Header-only (static inline) so any suite may include it. Suites that
 * call tu_check_forward must link tests/ref64.c.
 */
#ifndef RNNKIT_TESTS_TEST_UTIL_H
#define RNNKIT_TESTS_TEST_UTIL_H

#ifdef RNNKIT_CR_SHIM
#include "cr_shim.h"
#else
#include <criterion/criterion.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnnkit.h"
#include "ref64.h"

/* Tolerance of float32 results against the float64 reference. */
#define TU_ATOL 2e-5
#define TU_RTOL 1e-4

/* ------------------------------------------------------------------ */
/* RNG (splitmix64)                                                     */
/* ------------------------------------------------------------------ */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;

static inline uint64_t tu_next(tu_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-a, a). */
static inline float tu_uniform(tu_rng *r, float a) {
    double u = (double)(tu_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)((2.0 * u - 1.0) * a);
}

static inline void tu_fill(tu_rng *r, float *p, size_t n, float a) {
    for (size_t i = 0; i < n; i++) p[i] = tu_uniform(r, a);
}

static inline float *tu_alloc_f(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    cr_assert(p != NULL, "out of memory (%zu floats)", n);
    return p;
}

static inline void tu_fill_nan(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

/* ------------------------------------------------------------------ */
/* Random models                                                        */
/* ------------------------------------------------------------------ */
typedef struct tu_spec {
    rnnkit_layout layout;
    rnnkit_cell cell;
    int64_t I, H;
    int64_t proj; /* PyTorch LSTM: proj_size (0 = none) */
    int64_t L;    /* PyTorch: layers (0 = 1) */
    int bidir;    /* PyTorch: bidirectional */
    int no_bias;  /* 1: no bias tensors */
    /* ONNX */
    rnnkit_direction dir;
    int lbr;
    float clip;
    int input_forget;
    int peep;
    int num_acts;
    rnnkit_activation acts[RNNKIT_MAX_ACTIVATIONS];
    int onnx_layout;
    const char *prefix; /* PyTorch name prefix, e.g. "rnn." */
    uint64_t seed;
} tu_spec;

#define TU_MAX_TENSORS 64

typedef struct tu_model {
    tu_spec spec;
    rnnkit_model_desc desc;
    rnnkit_tensor t[TU_MAX_TENSORS];
    char names[TU_MAX_TENSORS][64];
    float *bufs[TU_MAX_TENSORS];
    size_t n;
    /* Derived sizes. */
    int64_t G, D, L, P;
} tu_model;

static inline int64_t tu_gates(rnnkit_cell c) {
    return c == RNNKIT_CELL_LSTM ? 4 : c == RNNKIT_CELL_GRU ? 3 : 1;
}

static inline void tu_add(tu_model *m, tu_rng *r, float scale, const char *name, int ndim,
                          int64_t d0, int64_t d1, int64_t d2) {
    cr_assert(m->n < TU_MAX_TENSORS);
    size_t i = m->n++;
    snprintf(m->names[i], sizeof m->names[i], "%s", name);
    int64_t dims[3] = {d0, d1, d2};
    size_t cnt = 1;
    for (int k = 0; k < ndim; k++) {
        m->t[i].shape[k] = dims[k];
        cnt *= (size_t)dims[k];
    }
    m->t[i].ndim = ndim;
    m->bufs[i] = tu_alloc_f(cnt);
    tu_fill(r, m->bufs[i], cnt, scale);
    m->t[i].data = m->bufs[i];
    m->t[i].name = m->names[i];
}

/* Builds random tensors (uniform in +-1/sqrt(H), like PyTorch's init) and
 * the matching description. */
static inline void tu_model_make(const tu_spec *s, tu_model *m) {
    memset(m, 0, sizeof *m);
    m->spec = *s;
    tu_rng r = {s->seed * 7919 + 17};
    const int64_t G = tu_gates(s->cell), H = s->H;
    const float sc = (float)(1.0 / sqrt((double)H));
    m->G = G;
    rnnkit_model_desc_init(&m->desc);
    m->desc.layout = s->layout;
    m->desc.cell = s->cell;
    if (s->layout == RNNKIT_LAYOUT_PYTORCH) {
        const int64_t L = s->L ? s->L : 1, D = s->bidir ? 2 : 1;
        const int64_t P = s->proj ? s->proj : H;
        const char *pre = s->prefix ? s->prefix : "";
        m->L = L;
        m->D = D;
        m->P = P;
        char nm[64];
        for (int64_t l = 0; l < L; l++)
            for (int64_t d = 0; d < D; d++) {
                const char *suf = d ? "_reverse" : "";
                int64_t in = l == 0 ? s->I : D * P;
                snprintf(nm, sizeof nm, "%sweight_ih_l%lld%s", pre, (long long)l, suf);
                tu_add(m, &r, sc, nm, 2, G * H, in, 0);
                snprintf(nm, sizeof nm, "%sweight_hh_l%lld%s", pre, (long long)l, suf);
                tu_add(m, &r, sc, nm, 2, G * H, P, 0);
                if (!s->no_bias) {
                    snprintf(nm, sizeof nm, "%sbias_ih_l%lld%s", pre, (long long)l, suf);
                    tu_add(m, &r, sc, nm, 1, G * H, 0, 0);
                    snprintf(nm, sizeof nm, "%sbias_hh_l%lld%s", pre, (long long)l, suf);
                    tu_add(m, &r, sc, nm, 1, G * H, 0, 0);
                }
                if (s->proj) {
                    snprintf(nm, sizeof nm, "%sweight_hr_l%lld%s", pre, (long long)l, suf);
                    tu_add(m, &r, sc, nm, 2, P, H, 0);
                }
            }
    } else {
        const int64_t D = s->dir == RNNKIT_DIRECTION_BIDIRECTIONAL ? 2 : 1;
        m->L = 1;
        m->D = D;
        m->P = H;
        tu_add(m, &r, sc, "W", 3, D, G * H, s->I);
        tu_add(m, &r, sc, "R", 3, D, G * H, H);
        if (!s->no_bias) tu_add(m, &r, sc, "B", 2, D, 2 * G * H, 0);
        if (s->peep) tu_add(m, &r, sc, "P", 2, D, 3 * H, 0);
        m->desc.direction = s->dir;
        m->desc.linear_before_reset = s->lbr;
        m->desc.clip = s->clip;
        m->desc.input_forget = s->input_forget;
        m->desc.num_activations = s->num_acts;
        for (int i = 0; i < s->num_acts; i++) m->desc.activations[i] = s->acts[i];
        m->desc.onnx_layout = s->onnx_layout;
    }
}

static inline void tu_model_free(tu_model *m) {
    for (size_t i = 0; i < m->n; i++) free(m->bufs[i]);
    m->n = 0;
}

/* Sizes of a forward's buffers. */
static inline size_t tu_x_len(const tu_model *m, int64_t T, int64_t N) {
    return (size_t)(T * N * m->spec.I);
}
static inline size_t tu_h_len(const tu_model *m, int64_t N) {
    return (size_t)(m->L * m->D * N * m->P);
}
static inline size_t tu_c_len(const tu_model *m, int64_t N) {
    return (size_t)(m->L * m->D * N * m->spec.H);
}
static inline size_t tu_y_len(const tu_model *m, int64_t T, int64_t N) {
    return (size_t)(T * N * m->D * m->P);
}

/* ------------------------------------------------------------------ */
/* Comparison                                                           */
/* ------------------------------------------------------------------ */
/* Counts elements outside atol + rtol*|ref|, printing the first few and
 * the worst error. */
static inline size_t tu_compare(const char *label, const char *what, const float *got,
                                const double *ref, size_t n, double atol, double rtol,
                                double *max_err) {
    size_t bad = 0, worst = 0;
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], e = fabs(g - ref[i]);
        if (!(e <= atol + rtol * fabs(ref[i]))) {
            if (bad < 5)
                cr_log_error("%s: %s[%zu] = %.9g, reference %.9g (err %.3g, tol %.3g)", label, what,
                             i, g, ref[i], e, atol + rtol * fabs(ref[i]));
            bad++;
            if (e != e) e = INFINITY;
        }
        if (e > m || (e != e)) {
            m = e;
            worst = i;
        }
    }
    if (bad)
        cr_log_error("%s: %s: %zu of %zu elements out of tolerance; worst [%zu] err %.3g", label,
                     what, bad, n, worst, m);
    if (max_err && m > *max_err) *max_err = m;
    return bad;
}

/* Elements that differ bit-wise (NaN == NaN counts as equal). */
static inline size_t tu_compare_exact(const char *label, const char *what, const float *a,
                                      const float *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            if (bad < 5)
                cr_log_error("%s: %s[%zu] = %.9g vs %.9g (expected identical)", label, what, i,
                             a[i], b[i]);
            bad++;
        }
    }
    return bad;
}

/* ------------------------------------------------------------------ */
/* ISA loop                                                             */
/* ------------------------------------------------------------------ */
#define TU_NUM_ISAS 4
static inline const char *tu_isa_name(int i) {
    static const char *const names[TU_NUM_ISAS] = {"scalar", "avx2", "avx512", "neon"};
    return names[i];
}

/* ------------------------------------------------------------------ */
/* One forward case against the reference                               */
/* ------------------------------------------------------------------ */
typedef struct tu_case {
    int64_t T, N;
    int batch_major;          /* PyTorch; ONNX models use spec.onnx_layout */
    const int32_t *lengths;   /* NULL = all T */
    int h0, c0;               /* give random initial states */
    int no_y, no_hn, no_cn;   /* leave an output NULL */
    int threads_check;        /* also run 2/3 threads + workspace (default on) */
    uint64_t seed;
} tu_case;

typedef struct tu_outputs {
    float *y, *hn, *cn;
} tu_outputs;

static inline void tu_outputs_alloc(tu_outputs *o, size_t ny, size_t nh, size_t nc) {
    o->y = tu_alloc_f(ny);
    o->hn = tu_alloc_f(nh);
    o->cn = tu_alloc_f(nc);
    tu_fill_nan(o->y, ny);
    tu_fill_nan(o->hn, nh);
    tu_fill_nan(o->cn, nc);
}
static inline void tu_outputs_free(tu_outputs *o) {
    free(o->y);
    free(o->hn);
    free(o->cn);
}

/* Runs the case on every supported ISA and checks y/hn/cn against ref64.
 * Returns the worst absolute error seen. */
static inline double tu_check_forward(const tu_model *m, const tu_case *c, const char *label) {
    const int lstm = m->spec.cell == RNNKIT_CELL_LSTM;
    const int onnx = m->spec.layout == RNNKIT_LAYOUT_ONNX;
    tu_rng r = {c->seed * 104729 + 3};
    const size_t nx = tu_x_len(m, c->T, c->N), nh = tu_h_len(m, c->N), nc = tu_c_len(m, c->N);
    const size_t ny = tu_y_len(m, c->T, c->N);
    float *x = tu_alloc_f(nx), *h0 = tu_alloc_f(nh), *c0 = tu_alloc_f(nc);
    tu_fill(&r, x, nx, 1.0f);
    tu_fill(&r, h0, nh, 1.0f);
    tu_fill(&r, c0, nc, 1.0f);

    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = c->T;
    a.batch = c->N;
    a.batch_major = onnx ? m->spec.onnx_layout : c->batch_major;
    a.x = x;
    a.lengths = c->lengths;
    a.h0 = c->h0 ? h0 : NULL;
    a.c0 = (lstm && c->c0) ? c0 : NULL;

    ref64_out ref;
    char err[256] = "";
    int rc = ref64_forward(&m->desc, m->t, m->n, &a, &ref, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: reference failed: %s", label, err);
    cr_assert_eq(ref.y_len, ny, "%s: y size %zu vs %zu", label, ref.y_len, ny);
    cr_assert_eq(ref.hn_len, nh, "%s: hn size %zu vs %zu", label, ref.hn_len, nh);

    double max_err = 0;
    int ran = 0;
    for (int isa = 0; isa < TU_NUM_ISAS; isa++) {
        const char *name = tu_isa_name(isa);
        if (!rnnkit_isa_supported(name)) continue;
        rnnkit_status st = rnnkit_isa_select(name);
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: isa_select(%s) = %d: %s", label, name, st,
                     rnnkit_last_error());
        rnnkit_model *model = NULL;
        st = rnnkit_model_create(&m->desc, m->t, m->n, &model);
        rnnkit_isa_select("auto");
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s [%s]: model_create = %d (%s): %s", label, name, st,
                     rnnkit_status_string(st), rnnkit_last_error());
        rnnkit_model_info info;
        st = rnnkit_model_get_info(model, &info);
        cr_assert_eq(st, RNNKIT_STATUS_OK);
        cr_expect_str_eq(info.isa, name, "%s: model uses isa %s, selected %s", label, info.isa,
                         name);
        cr_expect_eq(info.num_directions, m->D, "%s: num_directions %lld vs %lld", label,
                     (long long)info.num_directions, (long long)m->D);
        cr_expect_eq(info.num_layers, m->L, "%s: num_layers", label);
        cr_expect_eq(info.output_size, m->P, "%s: output_size %lld vs %lld", label,
                     (long long)info.output_size, (long long)m->P);

        char lab[256];
        snprintf(lab, sizeof lab, "%s [%s, 1 thread]", label, name);
        tu_outputs o1;
        tu_outputs_alloc(&o1, ny, nh, nc);
        rnnkit_forward_args f = a;
        f.y = c->no_y ? NULL : o1.y;
        f.hn = c->no_hn ? NULL : o1.hn;
        f.cn = (lstm && !c->no_cn) ? o1.cn : NULL;
        f.num_threads = 1;
        st = rnnkit_forward(model, &f);
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: forward = %d (%s): %s", lab, st,
                     rnnkit_status_string(st), rnnkit_last_error());
        size_t bad = 0;
        if (!c->no_y) bad += tu_compare(lab, "y", o1.y, ref.y, ny, TU_ATOL, TU_RTOL, &max_err);
        if (!c->no_hn) bad += tu_compare(lab, "hn", o1.hn, ref.hn, nh, TU_ATOL, TU_RTOL, &max_err);
        if (lstm && !c->no_cn)
            bad += tu_compare(lab, "cn", o1.cn, ref.cn, nc, TU_ATOL, TU_RTOL, &max_err);
        cr_expect_eq(bad, 0, "%s: %zu elements differ from the float64 reference", lab, bad);

        if (c->threads_check >= 0) {
            size_t wsb = 0;
            st = rnnkit_workspace_size(model, c->T, c->N, &wsb);
            cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: workspace_size: %s", lab, rnnkit_last_error());
            void *ws = malloc(wsb ? wsb : 1);
            cr_assert(ws != NULL);
            for (int v = 0; v < 3; v++) {
                /* v0: 1 thread + workspace; v1: 2 threads + workspace;
                 * v2: 3 threads, no workspace. */
                int thr = v == 0 ? 1 : v == 1 ? 2 : 3;
                void *w = v < 2 ? ws : NULL;
                snprintf(lab, sizeof lab, "%s [%s, %d threads, %s workspace]", label, name, thr,
                         w ? "caller" : "no");
                tu_outputs o2;
                tu_outputs_alloc(&o2, ny, nh, nc);
                rnnkit_forward_args g = f;
                g.y = c->no_y ? NULL : o2.y;
                g.hn = c->no_hn ? NULL : o2.hn;
                g.cn = (lstm && !c->no_cn) ? o2.cn : NULL;
                g.num_threads = thr;
                g.workspace = w;
                g.workspace_size = w ? wsb : 0;
                st = rnnkit_forward(model, &g);
                cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: forward = %d: %s", lab, st,
                             rnnkit_last_error());
                size_t diff = tu_compare_exact(lab, "y", o2.y, o1.y, ny) +
                              tu_compare_exact(lab, "hn", o2.hn, o1.hn, nh) +
                              tu_compare_exact(lab, "cn", o2.cn, o1.cn, nc);
                cr_expect_eq(diff, 0, "%s: %zu elements differ from the 1-thread run", lab, diff);
                tu_outputs_free(&o2);
            }
            free(ws);
        }
        tu_outputs_free(&o1);
        rnnkit_model_destroy(model);
        ran++;
    }
    cr_expect(ran > 0, "%s: no ISA supported at all (not even scalar)", label);
    ref64_out_free(&ref);
    free(x);
    free(h0);
    free(c0);
    return max_err;
}

#endif
