/*
 * Keras layout (RNNKIT_LAYOUT_KERAS): models built from weights shaped and
 * named as keras.layers.LSTM / GRU / SimpleRNN (and Bidirectional) hold
 * them, against a float64 reference written here from the Keras cell
 * equations, directly on the Keras-shaped arrays (x [N,T,I] times kernel
 * [I, G*H], h times recurrent_kernel [H, G*H], bias [G*H] or, for a GRU
 * with reset_after=True, [2, 3H]; gate blocks LSTM i,f,c,o and GRU z,r,h
 * along the last axis): no transposition or gate reordering, so it does
 * not share the library's conversion. Every case runs on every ISA this
 * CPU supports, with 1 and 2 threads. Then the names Keras 2 and Keras 3
 * give, bad tensors (each a status and a message naming the problem), and
 * a .safetensors file with "layout": "keras".
 *
 * Not checked against TensorFlow itself (not installable here): the
 * equations are those of the Keras LSTMCell / GRUCell / SimpleRNNCell
 * source and documentation.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "ref64.h"
#include "rnnkit.h"

/* splitmix64 uniform in [-a, a). */
static uint64_t g_rng = 12345;
static float urand(float a) {
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(((double)(z >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0) * a);
}

typedef struct kcase {
    const char *what;
    rnnkit_cell cell;
    int64_t I, H, T, N;
    int bidir;       /* Bidirectional wrapper */
    int bias;        /* use_bias */
    int reset_after; /* GRU */
    int lengths;     /* ragged batch */
    int nacts;       /* activations given (f, g[, h]) per direction, 0 = defaults */
    rnnkit_activation acts[3];
    const char *style; /* name style: "keras2", "keras3" or "bare" */
    int go_backwards;  /* one direction, go_backwards=True */
    rnnkit_merge_mode merge; /* Bidirectional merge_mode */
} kcase;

/* One direction's Keras arrays. */
typedef struct kdir {
    float *kernel, *rkernel, *bias;
} kdir;

static int gates_of(rnnkit_cell c) { return c == RNNKIT_CELL_LSTM ? 4 : c == RNNKIT_CELL_GRU ? 3 : 1; }

static rnnkit_activation default_act(const kcase *c, int i) {
    rnnkit_activation a = {RNNKIT_ACTIVATION_TANH, 0, 0};
    if (c->nacts) return c->acts[i];
    if (i == 0 && (c->cell == RNNKIT_CELL_LSTM || c->cell == RNNKIT_CELL_GRU))
        a.kind = RNNKIT_ACTIVATION_SIGMOID;
    if (i == 0 && c->cell == RNNKIT_CELL_RNN_RELU) a.kind = RNNKIT_ACTIVATION_RELU;
    return a;
}

/* One Keras cell step on one batch row, in double: h [H], c [H] updated. */
static void keras_step(const kcase *c, const kdir *w, const float *x, double *h, double *cs) {
    const int64_t I = c->I, H = c->H, G = gates_of(c->cell);
    double *xz = calloc((size_t)(G * H), sizeof(double)), *hz = calloc((size_t)(G * H), sizeof(double));
    double *hnew = calloc((size_t)H, sizeof(double));
    const rnnkit_activation f = default_act(c, 0), g = default_act(c, 1), ha = default_act(c, 2);
    /* matrix_x = x . kernel (+ input bias); matrix_inner = h . recurrent_kernel
     * (+ recurrent bias for a reset_after GRU). */
    for (int64_t j = 0; j < G * H; j++) {
        double s = 0.0, u = 0.0;
        for (int64_t i = 0; i < I; i++) s += (double)x[i] * w->kernel[i * G * H + j];
        for (int64_t k = 0; k < H; k++) u += h[k] * w->rkernel[k * G * H + j];
        if (w->bias) {
            s += w->bias[j];
            if (c->cell == RNNKIT_CELL_GRU && c->reset_after) u += w->bias[G * H + j];
        }
        xz[j] = s, hz[j] = u;
    }
    if (G == 1) {
        for (int64_t j = 0; j < H; j++) h[j] = ref64_activation(&f, xz[j] + hz[j]);
    } else if (G == 4) { /* i, f, c, o */
        for (int64_t j = 0; j < H; j++) {
            double ig = ref64_activation(&f, xz[j] + hz[j]);
            double fg = ref64_activation(&f, xz[H + j] + hz[H + j]);
            double cc = ref64_activation(&g, xz[2 * H + j] + hz[2 * H + j]);
            double og = ref64_activation(&f, xz[3 * H + j] + hz[3 * H + j]);
            cs[j] = fg * cs[j] + ig * cc;
            hnew[j] = og * ref64_activation(&ha, cs[j]);
        }
        memcpy(h, hnew, sizeof(double) * (size_t)H);
    } else { /* z, r, h */
        for (int64_t j = 0; j < H; j++) {
            double z = ref64_activation(&f, xz[j] + hz[j]);
            double r = ref64_activation(&f, xz[H + j] + hz[H + j]);
            double rec;
            if (c->reset_after) {
                rec = r * hz[2 * H + j];
            } else { /* (r * h) . recurrent_kernel_h */
                rec = 0.0;
                for (int64_t k = 0; k < H; k++) {
                    double rk = ref64_activation(&f, xz[H + k] + hz[H + k]);
                    rec += rk * h[k] * w->rkernel[k * G * H + 2 * H + j];
                }
            }
            double hh = ref64_activation(&g, xz[2 * H + j] + rec);
            hnew[j] = z * h[j] + (1.0 - z) * hh;
        }
        memcpy(h, hnew, sizeof(double) * (size_t)H);
    }
    free(xz), free(hz), free(hnew);
}

/* The whole layer in double: y [N,T,D*H] (concat; zeros past a length),
 * hn, cn [D,N,H]; x [N,T,I]; h0, c0 [D,N,H]. */
static void keras_forward(const kcase *c, const kdir *w, const float *x, const int32_t *len,
                          const float *h0, const float *c0, double *y, double *hn, double *cn) {
    const int64_t D = c->bidir ? 2 : 1, N = c->N, T = c->T, H = c->H, I = c->I;
    memset(y, 0, sizeof(double) * (size_t)(N * T * D * H));
    double *h = malloc(sizeof(double) * (size_t)H), *cs = malloc(sizeof(double) * (size_t)H);
    for (int64_t d = 0; d < D; d++)
        for (int64_t n = 0; n < N; n++) {
            const int64_t L = len ? len[n] : T;
            for (int64_t j = 0; j < H; j++) {
                h[j] = h0[(d * N + n) * H + j];
                cs[j] = c0[(d * N + n) * H + j];
            }
            for (int64_t s = 0; s < L; s++) {
                const int64_t t = d || c->go_backwards ? L - 1 - s : s;
                keras_step(c, &w[d], x + (n * T + t) * I, h, cs);
                /* go_backwards: Keras reads the whole (padded) sequence
                 * backwards, the masked padding first (state kept, output
                 * zero), and returns outputs in that order. */
                const int64_t to = c->go_backwards ? T - L + s : t;
                for (int64_t j = 0; j < H; j++) y[((n * T + to) * D + d) * H + j] = h[j];
            }
            for (int64_t j = 0; j < H; j++) {
                hn[(d * N + n) * H + j] = h[j];
                cn[(d * N + n) * H + j] = cs[j];
            }
        }
    free(h), free(cs);
}

/* Keras weight names of each style. */
static void weight_name(char *out, size_t len, const kcase *c, int d, const char *leaf) {
    const char *layer = c->cell == RNNKIT_CELL_LSTM ? "lstm" : c->cell == RNNKIT_CELL_GRU ? "gru" : "simple_rnn";
    if (!strcmp(c->style, "bare") && !c->bidir) {
        snprintf(out, len, "%s", leaf);
    } else if (!strcmp(c->style, "keras2")) {
        if (c->bidir)
            snprintf(out, len, "bidirectional/%s_%s/%s_cell/%s:0", d ? "backward" : "forward", layer,
                     layer, leaf);
        else
            snprintf(out, len, "%s/%s_cell/%s:0", layer, layer, leaf);
    } else { /* keras3 paths */
        if (c->bidir)
            snprintf(out, len, "bidirectional/%s_layer/cell/%s", d ? "backward" : "forward", leaf);
        else
            snprintf(out, len, "%s/cell/%s", layer, leaf);
    }
}

typedef struct kmodel {
    kdir w[2];
    rnnkit_tensor t[6];
    char names[6][96];
    size_t nt;
} kmodel;

static void kmodel_make(const kcase *c, kmodel *m) {
    const int64_t G = gates_of(c->cell), H = c->H, I = c->I, D = c->bidir ? 2 : 1;
    const float ws = 1.0f / sqrtf((float)H);
    memset(m, 0, sizeof *m);
    for (int d = 0; d < D; d++) {
        kdir *w = &m->w[d];
        w->kernel = malloc(sizeof(float) * (size_t)(I * G * H));
        w->rkernel = malloc(sizeof(float) * (size_t)(H * G * H));
        for (int64_t i = 0; i < I * G * H; i++) w->kernel[i] = urand(ws);
        for (int64_t i = 0; i < H * G * H; i++) w->rkernel[i] = urand(ws);
        const int64_t nb = (c->cell == RNNKIT_CELL_GRU && c->reset_after ? 2 : 1) * G * H;
        if (c->bias) {
            w->bias = malloc(sizeof(float) * (size_t)nb);
            for (int64_t i = 0; i < nb; i++) w->bias[i] = urand(0.5f);
        }
        rnnkit_tensor *t = &m->t[m->nt];
        weight_name(m->names[m->nt], sizeof m->names[0], c, d, "kernel");
        *t = (rnnkit_tensor){m->names[m->nt], w->kernel, 2, {I, G * H}};
        m->nt++, t++;
        weight_name(m->names[m->nt], sizeof m->names[0], c, d, "recurrent_kernel");
        *t = (rnnkit_tensor){m->names[m->nt], w->rkernel, 2, {H, G * H}};
        m->nt++, t++;
        if (c->bias) {
            weight_name(m->names[m->nt], sizeof m->names[0], c, d, "bias");
            if (c->cell == RNNKIT_CELL_GRU && c->reset_after)
                *t = (rnnkit_tensor){m->names[m->nt], w->bias, 2, {2, G * H}};
            else
                *t = (rnnkit_tensor){m->names[m->nt], w->bias, 1, {G * H}};
            m->nt++;
        }
    }
}

static void kmodel_free(kmodel *m) {
    for (int d = 0; d < 2; d++) free(m->w[d].kernel), free(m->w[d].rkernel), free(m->w[d].bias);
}

static void kdesc(const kcase *c, rnnkit_model_desc *d) {
    rnnkit_model_desc_init(d);
    d->layout = RNNKIT_LAYOUT_KERAS;
    d->cell = c->cell;
    /* Without a bias, reset_after cannot be seen in the tensors. */
    d->linear_before_reset = !c->bias && c->reset_after;
    d->num_activations = c->nacts;
    for (int i = 0; i < c->nacts; i++) d->activations[i] = c->acts[i];
    if (c->go_backwards) d->direction = RNNKIT_DIRECTION_REVERSE;
    d->merge_mode = c->merge;
}

/* y [N,T,2H] (concat) merged as Keras' merge_mode into out [N,T,H]. */
static void keras_merge(const kcase *c, const double *y, double *out) {
    const int64_t H = c->H;
    for (int64_t r = 0; r < c->N * c->T; r++)
        for (int64_t j = 0; j < H; j++) {
            const double f = y[r * 2 * H + j], b = y[r * 2 * H + H + j];
            out[r * H + j] = c->merge == RNNKIT_MERGE_SUM ? f + b : c->merge == RNNKIT_MERGE_MUL ? f * b : (f + b) / 2;
        }
}

static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};

static void run_case(const kcase *c) {
    const int64_t D = c->bidir ? 2 : 1, N = c->N, T = c->T, H = c->H, I = c->I;
    kmodel km;
    kmodel_make(c, &km);
    const size_t nx = (size_t)(N * T * I), ny = (size_t)(N * T * D * H), ns = (size_t)(D * N * H);
    float *x = malloc(sizeof(float) * nx), *h0 = malloc(sizeof(float) * ns), *c0 = malloc(sizeof(float) * ns);
    for (size_t i = 0; i < nx; i++) x[i] = urand(1.0f);
    for (size_t i = 0; i < ns; i++) h0[i] = urand(0.5f), c0[i] = urand(0.5f);
    int32_t len[16];
    for (int64_t n = 0; n < N; n++) len[n] = (int32_t)(c->lengths ? T - (n * 3) % T : T);
    double *ry = malloc(sizeof(double) * ny), *rh = malloc(sizeof(double) * ns), *rc = malloc(sizeof(double) * ns);
    keras_forward(c, km.w, x, c->lengths ? len : NULL, h0, c0, ry, rh, rc);
    size_t nyc = ny; /* y floats the library writes */
    if (c->merge != RNNKIT_MERGE_CONCAT) {
        double *m = malloc(sizeof(double) * (size_t)(N * T * H));
        keras_merge(c, ry, m);
        free(ry);
        ry = m;
        nyc = (size_t)(N * T * H);
    }
    float *y = malloc(sizeof(float) * ny), *hn = malloc(sizeof(float) * ns), *cn = malloc(sizeof(float) * ns);
    const int lstm = c->cell == RNNKIT_CELL_LSTM;
    int ran = 0;
    for (size_t iz = 0; iz < sizeof isas / sizeof isas[0]; iz++) {
        if (!rnnkit_isa_supported(isas[iz])) continue;
        cr_assert_eq(rnnkit_isa_select(isas[iz]), RNNKIT_STATUS_OK);
        rnnkit_model_desc desc;
        kdesc(c, &desc);
        rnnkit_model *m = NULL;
        rnnkit_status st = rnnkit_model_create(&desc, km.t, km.nt, &m);
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s (%s): create: %s", c->what, isas[iz], rnnkit_last_error());
        rnnkit_model_info info;
        rnnkit_model_get_info(m, &info);
        cr_expect_eq(info.layout, RNNKIT_LAYOUT_KERAS);
        cr_expect_eq(info.num_directions, D, "%s: %lld directions", c->what, (long long)info.num_directions);
        cr_expect_eq(info.input_size, I);
        cr_expect_eq(info.hidden_size, H);
        cr_expect_eq(info.has_bias, c->bias);
        cr_expect_eq(info.merge_mode, c->merge);
        cr_expect_eq(info.y_width, (int64_t)nyc / (N * T), "%s: y_width %lld", c->what, (long long)info.y_width);
        cr_expect_eq(info.direction, c->bidir          ? RNNKIT_DIRECTION_BIDIRECTIONAL
                                     : c->go_backwards ? RNNKIT_DIRECTION_REVERSE
                                                       : RNNKIT_DIRECTION_FORWARD);
        if (c->cell == RNNKIT_CELL_GRU) cr_expect_eq(info.linear_before_reset, c->reset_after, "%s", c->what);
        for (int threads = 1; threads <= 2; threads++) {
            for (size_t i = 0; i < ny; i++) y[i] = NAN;
            for (size_t i = nyc; i < ny; i++) y[i] = 12345.0f; /* must stay untouched */
            rnnkit_forward_args a;
            memset(&a, 0, sizeof a);
            a.seq_len = T, a.batch = N, a.batch_major = 1, a.x = x, a.h0 = h0;
            a.c0 = lstm ? c0 : NULL, a.lengths = c->lengths ? len : NULL;
            a.y = y, a.hn = hn, a.cn = lstm ? cn : NULL, a.num_threads = threads;
            st = rnnkit_forward(m, &a);
            cr_assert_eq(st, RNNKIT_STATUS_OK, "%s (%s): forward: %s", c->what, isas[iz], rnnkit_last_error());
            double worst = 0.0;
            size_t wi = 0;
            for (size_t i = 0; i < nyc; i++) {
                double e = fabs((double)y[i] - ry[i]) / (2e-5 + 1e-4 * fabs(ry[i]));
                if (!(e <= worst)) worst = e, wi = i;
            }
            for (size_t i = nyc; i < ny; i++) cr_expect(y[i] == 12345.0f, "%s: y[%zu] written past y_width", c->what, i);
            cr_expect(worst <= 1.0, "%s (%s, %d threads): y[%zu] = %.9g, Keras reference %.9g", c->what,
                      isas[iz], threads, wi, (double)y[wi], ry[wi]);
            for (size_t i = 0; i < ns; i++) {
                cr_expect(fabs((double)hn[i] - rh[i]) <= 2e-5 + 1e-4 * fabs(rh[i]),
                          "%s (%s): hn[%zu] = %.9g, reference %.9g", c->what, isas[iz], i, (double)hn[i], rh[i]);
                if (lstm)
                    cr_expect(fabs((double)cn[i] - rc[i]) <= 2e-5 + 1e-4 * fabs(rc[i]),
                              "%s (%s): cn[%zu] = %.9g, reference %.9g", c->what, isas[iz], i, (double)cn[i], rc[i]);
            }
        }
        rnnkit_model_destroy(m);
        ran++;
    }
    rnnkit_isa_select(NULL);
    cr_expect(ran >= 1);
    free(x), free(h0), free(c0), free(ry), free(rh), free(rc), free(y), free(hn), free(cn);
    kmodel_free(&km);
}

#define ACT(k, a, b) {RNNKIT_ACTIVATION_##k, a, b}

Test(keras, lstm) {
    kcase c = {"lstm keras2 names", RNNKIT_CELL_LSTM, 5, 7, 6, 3, 0, 1, 0, 0, 0, {{0}}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    run_case(&c);
    kcase b = {"lstm bidirectional, lengths, keras3 names, H 37", RNNKIT_CELL_LSTM, 19, 37, 5, 4, 1, 1, 0, 1, 0, {{0}},
               "keras3", 0, RNNKIT_MERGE_CONCAT};
    run_case(&b);
    /* Keras 2's hard_sigmoid recurrent activation (old Keras defaults). */
    kcase hs = {"lstm hard_sigmoid (Keras 2), no bias, bare names", RNNKIT_CELL_LSTM, 4, 9, 7, 2, 0, 0, 0, 0, 3,
                {ACT(HARD_SIGMOID, 0.2f, 0.5f), ACT(TANH, 0, 0), ACT(TANH, 0, 0)}, "bare", 0, RNNKIT_MERGE_CONCAT};
    run_case(&hs);
}

Test(keras, gru) {
    kcase ra = {"gru reset_after=True", RNNKIT_CELL_GRU, 6, 11, 6, 3, 0, 1, 1, 0, 0, {{0}}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    run_case(&ra);
    kcase rb = {"gru reset_after=False", RNNKIT_CELL_GRU, 6, 11, 6, 3, 0, 1, 0, 0, 0, {{0}}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    run_case(&rb);
    kcase bi = {"gru bidirectional reset_after, lengths, H 33", RNNKIT_CELL_GRU, 9, 33, 5, 5, 1, 1, 1, 1, 0, {{0}},
                "keras3", 0, RNNKIT_MERGE_CONCAT};
    run_case(&bi);
    kcase nb = {"gru no bias, reset_after from desc", RNNKIT_CELL_GRU, 3, 8, 4, 2, 0, 0, 1, 0, 0, {{0}}, "keras3", 0, RNNKIT_MERGE_CONCAT};
    run_case(&nb);
    kcase hs = {"gru hard_sigmoid (Keras 3) reset_after=False bidir", RNNKIT_CELL_GRU, 5, 17, 4, 3, 1, 1, 0, 0, 2,
                {ACT(HARD_SIGMOID, 1.0f / 6.0f, 0.5f), ACT(TANH, 0, 0)}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    run_case(&hs);
}

Test(keras, simple_rnn) {
    kcase t = {"simple_rnn tanh", RNNKIT_CELL_RNN_TANH, 5, 13, 6, 3, 0, 1, 0, 0, 0, {{0}}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    run_case(&t);
    kcase r = {"simple_rnn relu (activation list), bidir", RNNKIT_CELL_RNN_TANH, 4, 10, 5, 2, 1, 1, 0, 1, 1,
               {ACT(RELU, 0, 0)}, "keras3", 0, RNNKIT_MERGE_CONCAT};
    run_case(&r);
}

/* Bidirectional merge_mode sum, mul, ave: y [N,T,H]. */
Test(keras, merge_mode) {
    kcase s1 = {"lstm bidir merge sum, lengths", RNNKIT_CELL_LSTM, 5, 12, 6, 3, 1, 1, 0, 1, 0, {{0}}, "keras3", 0,
                RNNKIT_MERGE_SUM};
    run_case(&s1);
    kcase m1 = {"gru bidir merge mul", RNNKIT_CELL_GRU, 4, 9, 5, 2, 1, 1, 1, 0, 0, {{0}}, "keras2", 0, RNNKIT_MERGE_MUL};
    run_case(&m1);
    kcase a1 = {"simple_rnn bidir merge ave, H 17", RNNKIT_CELL_RNN_TANH, 3, 17, 4, 2, 1, 1, 0, 0, 0, {{0}}, "bare", 0,
                RNNKIT_MERGE_AVE};
    run_case(&a1);
}

/* go_backwards=True: the sequence read backwards, outputs in that order. */
Test(keras, go_backwards) {
    kcase l = {"lstm go_backwards, lengths, H 19", RNNKIT_CELL_LSTM, 6, 19, 7, 4, 0, 1, 0, 1, 0, {{0}}, "keras2", 1, RNNKIT_MERGE_CONCAT};
    run_case(&l);
    kcase g = {"gru go_backwards reset_after, H 9", RNNKIT_CELL_GRU, 5, 9, 6, 3, 0, 1, 1, 0, 0, {{0}}, "keras3", 1, RNNKIT_MERGE_CONCAT};
    run_case(&g);
    kcase r = {"simple_rnn go_backwards, lengths", RNNKIT_CELL_RNN_TANH, 4, 10, 5, 3, 0, 1, 0, 1, 0, {{0}}, "bare", 1, RNNKIT_MERGE_CONCAT};
    run_case(&r);
}

/* ---------------------------------------------------------- bad input */

static rnnkit_status try_create(const rnnkit_model_desc *d, const rnnkit_tensor *t, size_t n) {
    rnnkit_model *m = (rnnkit_model *)0x1;
    rnnkit_status st = rnnkit_model_create(d, t, n, &m);
    if (st == RNNKIT_STATUS_OK) rnnkit_model_destroy(m);
    return st;
}

#define EXPECT_ERR(st_, want, sub)                                                                  \
    do {                                                                                           \
        rnnkit_status s_ = (st_);                                                                  \
        cr_expect_eq(s_, want, "status %s, want %s (%s)", rnnkit_status_string(s_),                \
                     rnnkit_status_string(want), rnnkit_last_error());                             \
        cr_expect(strstr(rnnkit_last_error(), sub) != NULL, "message '%s' lacks '%s'",             \
                  rnnkit_last_error(), sub);                                                       \
    } while (0)

Test(keras, bad_tensors) {
    const int64_t I = 3, H = 4;
    static float k[3 * 16], rk[4 * 16], b[16], b2[2 * 12], k3[3 * 12];
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.layout = RNNKIT_LAYOUT_KERAS;
    d.cell = RNNKIT_CELL_LSTM;
    rnnkit_tensor ok[3] = {{"lstm/lstm_cell/kernel:0", k, 2, {I, 4 * H}},
                           {"lstm/lstm_cell/recurrent_kernel:0", rk, 2, {H, 4 * H}},
                           {"lstm/lstm_cell/bias:0", b, 1, {4 * H}}};
    cr_expect_eq(try_create(&d, ok, 3), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());

    rnnkit_tensor t[4];
    memcpy(t, ok, sizeof ok);
    t[2].name = "lstm/lstm_cell/beta:0";
    EXPECT_ERR(try_create(&d, t, 3), RNNKIT_STATUS_MISSING_TENSOR, "lstm/lstm_cell/beta:0");

    memcpy(t, ok, sizeof ok);
    t[3] = ok[0];
    t[3].name = "kernel";
    EXPECT_ERR(try_create(&d, t, 4), RNNKIT_STATUS_INVALID_ARGUMENT, "both the kernel");

    EXPECT_ERR(try_create(&d, ok, 1), RNNKIT_STATUS_MISSING_TENSOR, "recurrent_kernel");

    memcpy(t, ok, sizeof ok);
    t[0].shape[1] = 3 * H; /* a GRU kernel given to an LSTM */
    t[0].data = k3;
    EXPECT_ERR(try_create(&d, t, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "lstm/lstm_cell/kernel:0");

    memcpy(t, ok, sizeof ok);
    t[1].shape[1] = 3 * H;
    EXPECT_ERR(try_create(&d, t, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "recurrent_kernel");

    memcpy(t, ok, sizeof ok);
    t[2].shape[0] = 4 * H - 1;
    EXPECT_ERR(try_create(&d, t, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "bias");

    /* A backward direction without its bias. */
    rnnkit_tensor bi[5] = {ok[0], ok[1], ok[2], ok[0], ok[1]};
    bi[3].name = "bidirectional/backward_lstm/lstm_cell/kernel:0";
    bi[4].name = "bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0";
    EXPECT_ERR(try_create(&d, bi, 5), RNNKIT_STATUS_MISSING_TENSOR, "only the forward direction");

    /* go_backwards with a backward direction. */
    rnnkit_tensor bb[6] = {ok[0], ok[1], ok[2], ok[0], ok[1], ok[2]};
    bb[3].name = "bidirectional/backward_lstm/lstm_cell/kernel:0";
    bb[4].name = "bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0";
    bb[5].name = "bidirectional/backward_lstm/lstm_cell/bias:0";
    d.direction = RNNKIT_DIRECTION_REVERSE;
    EXPECT_ERR(try_create(&d, bb, 6), RNNKIT_STATUS_INVALID_ARGUMENT, "go_backwards");
    d.direction = RNNKIT_DIRECTION_FORWARD;
    cr_expect_eq(try_create(&d, bb, 6), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    /* merge_mode: Keras Bidirectional only, a valid value. */
    d.merge_mode = RNNKIT_MERGE_AVE;
    cr_expect_eq(try_create(&d, bb, 6), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    EXPECT_ERR(try_create(&d, ok, 3), RNNKIT_STATUS_INVALID_ARGUMENT, "Bidirectional");
    d.merge_mode = (rnnkit_merge_mode)7;
    EXPECT_ERR(try_create(&d, bb, 6), RNNKIT_STATUS_INVALID_ARGUMENT, "merge_mode 7");
    d.merge_mode = RNNKIT_MERGE_SUM;
    d.layout = RNNKIT_LAYOUT_PYTORCH;
    EXPECT_ERR(try_create(&d, bb, 6), RNNKIT_STATUS_INVALID_ARGUMENT, "Keras");
    d.layout = RNNKIT_LAYOUT_KERAS;
    d.merge_mode = RNNKIT_MERGE_CONCAT;
    d.direction = RNNKIT_DIRECTION_BIDIRECTIONAL;
    EXPECT_ERR(try_create(&d, ok, 3), RNNKIT_STATUS_MISSING_TENSOR, "backward");
    d.direction = RNNKIT_DIRECTION_FORWARD;
    d.hidden_size = 5;
    EXPECT_ERR(try_create(&d, ok, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "hidden_size");
    d.hidden_size = 0;
    d.num_activations = 2; /* an LSTM takes 3 */
    d.activations[0] = (rnnkit_activation){RNNKIT_ACTIVATION_SIGMOID, 0, 0};
    d.activations[1] = (rnnkit_activation){RNNKIT_ACTIVATION_TANH, 0, 0};
    EXPECT_ERR(try_create(&d, ok, 3), RNNKIT_STATUS_INVALID_ARGUMENT, "activations");
    d.num_activations = 0;

    /* GRU: reset_after asked for, but the bias is the 1-D one. */
    d.cell = RNNKIT_CELL_GRU;
    d.linear_before_reset = 1;
    rnnkit_tensor g[3] = {{"gru/gru_cell/kernel:0", k3, 2, {I, 3 * H}},
                          {"gru/gru_cell/recurrent_kernel:0", rk, 2, {H, 3 * H}},
                          {"gru/gru_cell/bias:0", b, 1, {3 * H}}};
    EXPECT_ERR(try_create(&d, g, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "reset_after");
    d.linear_before_reset = 0;
    g[2].data = b2, g[2].ndim = 2, g[2].shape[0] = 2, g[2].shape[1] = 3 * H;
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_create(&d, g, 3, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.linear_before_reset, 1, "a [2, 3H] bias means reset_after=True");
    rnnkit_model_destroy(m);
    g[2].shape[0] = 3; /* [3, 3H]: neither form */
    EXPECT_ERR(try_create(&d, g, 3), RNNKIT_STATUS_SHAPE_MISMATCH, "bias");
}

/* .safetensors with "layout": "keras", loaded and run against the
 * reference through the same tensors. */
Test(keras, safetensors_file) {
    char dir[64] = "/tmp/rk_keras_XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/gru.safetensors", dir);
    kcase c = {"file", RNNKIT_CELL_GRU, 4, 6, 3, 2, 1, 1, 1, 0, 2,
               {ACT(HARD_SIGMOID, 0.2f, 0.5f), ACT(TANH, 0, 0)}, "keras2", 0, RNNKIT_MERGE_CONCAT};
    kmodel km;
    kmodel_make(&c, &km);
    const char *keys[] = {"layout", "cell", "activations", "activation_alpha", "activation_beta"};
    const char *vals[] = {"keras", "gru", "HardSigmoid,Tanh", "0.2", "0.5"};
    cr_assert_eq(rk_safetensors_write(path, km.nt, km.t, 5, keys, vals), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.layout, RNNKIT_LAYOUT_KERAS);
    cr_expect_eq(info.cell, RNNKIT_CELL_GRU);
    cr_expect_eq(info.num_directions, 2);
    cr_expect_eq(info.linear_before_reset, 1);
    const int64_t N = c.N, T = c.T, H = c.H, I = c.I;
    float x[2 * 3 * 4], h0[2 * 2 * 6] = {0}, y[2 * 3 * 12], hn[2 * 2 * 6];
    double ry[2 * 3 * 12], rh[2 * 2 * 6], rc[2 * 2 * 6];
    for (int i = 0; i < N * T * I; i++) x[i] = urand(1.0f);
    keras_forward(&c, km.w, x, NULL, h0, h0, ry, rh, rc);
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.batch_major = 1, a.x = x, a.y = y, a.hn = hn;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    for (int i = 0; i < N * T * 2 * H; i++)
        cr_expect(fabs((double)y[i] - ry[i]) <= 2e-5 + 1e-4 * fabs(ry[i]), "y[%d] = %.9g, reference %.9g", i,
                  (double)y[i], ry[i]);
    rnnkit_model_destroy(m);

    /* A bad cell name is a format error naming the key and value. */
    const char *bad_vals[] = {"keras", "lstm2", "HardSigmoid,Tanh", "0.2", "0.5"};
    cr_assert_eq(rk_safetensors_write(path, km.nt, km.t, 5, keys, bad_vals), RNNKIT_STATUS_OK);
    m = NULL;
    EXPECT_ERR(rnnkit_model_load(path, &m), RNNKIT_STATUS_FORMAT_ERROR, "lstm2");
    cr_expect_null(m);
    kmodel_free(&km);

    /* "go_backwards": "1" on one direction (a bad value is an error). */
    kcase cb = {"file go_backwards", RNNKIT_CELL_LSTM, 4, 6, 3, 2, 0, 1, 0, 0, 0, {{0}}, "keras2", 1, RNNKIT_MERGE_CONCAT};
    kmodel_make(&cb, &km);
    const char *bkeys[] = {"layout", "cell", "go_backwards"};
    const char *bvals[] = {"keras", "lstm", "1"};
    cr_assert_eq(rk_safetensors_write(path, km.nt, km.t, 3, bkeys, bvals), RNNKIT_STATUS_OK);
    cr_assert_eq(rnnkit_model_load(path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.direction, RNNKIT_DIRECTION_REVERSE);
    float cb_c0[2 * 6] = {0}, cn[2 * 6];
    keras_forward(&cb, km.w, x, NULL, h0, cb_c0, ry, rh, rc);
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.batch_major = 1, a.x = x, a.y = y, a.hn = hn, a.cn = cn;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    for (int i = 0; i < N * T * H; i++)
        cr_expect(fabs((double)y[i] - ry[i]) <= 2e-5 + 1e-4 * fabs(ry[i]), "go_backwards y[%d] = %.9g, reference %.9g",
                  i, (double)y[i], ry[i]);
    rnnkit_model_destroy(m);
    bvals[2] = "yes";
    cr_assert_eq(rk_safetensors_write(path, km.nt, km.t, 3, bkeys, bvals), RNNKIT_STATUS_OK);
    m = NULL;
    EXPECT_ERR(rnnkit_model_load(path, &m), RNNKIT_STATUS_FORMAT_ERROR, "go_backwards");
    cr_expect_null(m);
    const char *mkeys[] = {"layout", "cell", "merge_mode"};
    const char *mvals[] = {"keras", "lstm", "max"};
    cr_assert_eq(rk_safetensors_write(path, km.nt, km.t, 3, mkeys, mvals), RNNKIT_STATUS_OK);
    EXPECT_ERR(rnnkit_model_load(path, &m), RNNKIT_STATUS_FORMAT_ERROR, "merge_mode");
    cr_expect_null(m);
    unlink(path);
    rmdir(dir);
    kmodel_free(&km);
}

/* Streaming a Keras model a few steps at a time gives the bits one
 * rnnkit_forward gives (sequence-major x for both). */
Test(keras, stream_matches_forward) {
    kcase c = {"stream", RNNKIT_CELL_LSTM, 5, 12, 7, 3, 0, 1, 0, 0, 0, {{0}}, "keras3", 0, RNNKIT_MERGE_CONCAT};
    kmodel km;
    kmodel_make(&c, &km);
    rnnkit_model_desc desc;
    kdesc(&c, &desc);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_create(&desc, km.t, km.nt, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    const int64_t T = c.T, N = c.N, I = c.I, H = c.H;
    float x[7 * 3 * 5], y1[7 * 3 * 12], y2[7 * 3 * 12], h1[3 * 12], h2[3 * 12], c1[3 * 12], c2[3 * 12];
    for (int i = 0; i < T * N * I; i++) x[i] = urand(1.0f);
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T, a.batch = N, a.x = x, a.y = y1, a.hn = h1, a.cn = c1;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_stream *s = NULL;
    cr_assert_eq(rnnkit_stream_create(m, N, &s), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(rnnkit_stream_push(s, x, 2, y2), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(rnnkit_stream_push(s, x + 2 * N * I, T - 2, y2 + 2 * N * H), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    cr_assert_eq(rnnkit_stream_get_state(s, h2, c2), RNNKIT_STATUS_OK);
    cr_expect(memcmp(y1, y2, sizeof y1) == 0, "streamed y differs from forward's");
    cr_expect(memcmp(h1, h2, sizeof h1) == 0 && memcmp(c1, c2, sizeof c1) == 0,
              "streamed state differs from forward's");
    rnnkit_stream_destroy(s);
    rnnkit_model_destroy(m);
    kmodel_free(&km);
}
