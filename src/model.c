/*
 * Model creation: validate the caller's named tensors against the cell and
 * layout, convert framework gate orders to the canonical one, fold biases,
 * and pack every weight matrix once for the chosen ISA's kernels.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "dispatch.h"
#include "model.h"
#include "status.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

const char *rnnkit_version(void) { return "0.1.0"; }

void rnnkit_model_desc_init(rnnkit_model_desc *d) {
    if (!d) return;
    memset(d, 0, sizeof *d);
    d->layout = RNNKIT_LAYOUT_PYTORCH;
    d->cell = RNNKIT_CELL_LSTM;
    d->direction = RNNKIT_DIRECTION_FORWARD;
}

static const struct {
    const char *name;
    rnnkit_activation_kind kind;
    float alpha, beta;
} rk_act_table[] = {
    {"sigmoid", RNNKIT_ACTIVATION_SIGMOID, 0.0f, 0.0f},
    {"tanh", RNNKIT_ACTIVATION_TANH, 0.0f, 0.0f},
    {"relu", RNNKIT_ACTIVATION_RELU, 0.0f, 0.0f},
    {"affine", RNNKIT_ACTIVATION_AFFINE, 1.0f, 0.0f},
    {"leakyrelu", RNNKIT_ACTIVATION_LEAKY_RELU, 0.01f, 0.0f},
    {"thresholdedrelu", RNNKIT_ACTIVATION_THRESHOLDED_RELU, 1.0f, 0.0f},
    {"scaledtanh", RNNKIT_ACTIVATION_SCALED_TANH, 1.0f, 1.0f},
    {"hardsigmoid", RNNKIT_ACTIVATION_HARD_SIGMOID, 0.2f, 0.5f},
    {"elu", RNNKIT_ACTIVATION_ELU, 1.0f, 0.0f},
    {"softsign", RNNKIT_ACTIVATION_SOFTSIGN, 0.0f, 0.0f},
    {"softplus", RNNKIT_ACTIVATION_SOFTPLUS, 0.0f, 0.0f},
};

rnnkit_status rnnkit_activation_parse(const char *name, rnnkit_activation *out) {
    rk_clear_error();
    if (!name || !out)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_activation_parse: %s is NULL",
                        name ? "out" : "name");
    char buf[32];
    size_t n = 0;
    const char *s = name;
    while (isspace((unsigned char)*s)) s++;
    for (; *s && n + 1 < sizeof buf; s++) buf[n++] = (char)tolower((unsigned char)*s);
    while (n > 0 && isspace((unsigned char)buf[n - 1])) n--;
    buf[n] = '\0';
    for (size_t i = 0; i < sizeof rk_act_table / sizeof rk_act_table[0]; i++) {
        if (strcmp(buf, rk_act_table[i].name) == 0) {
            out->kind = rk_act_table[i].kind;
            out->alpha = rk_act_table[i].alpha;
            out->beta = rk_act_table[i].beta;
            return RNNKIT_STATUS_OK;
        }
    }
    return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                    "unknown activation '%s' (expected one of Relu, Tanh, Sigmoid, Affine, "
                    "LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)",
                    name);
}

static const char *cell_name(rnnkit_cell c) {
    switch (c) {
    case RNNKIT_CELL_RNN_TANH: return "rnn_tanh";
    case RNNKIT_CELL_RNN_RELU: return "rnn_relu";
    case RNNKIT_CELL_LSTM: return "lstm";
    case RNNKIT_CELL_GRU: return "gru";
    }
    return "?";
}

static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < ndim && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < len) snprintf(buf + o, len - o, "]");
}

/* Checks a tensor's shape; message: tensor 'W' has shape [..], expected [..]. */
static rnnkit_status check_shape(const rnnkit_tensor *t, const char *shown, int ndim,
                                 const int64_t *shape) {
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (ok) return RNNKIT_STATUS_OK;
    char got[96], want[96];
    int gd = t->ndim < 0 ? 0 : (t->ndim > 4 ? 4 : t->ndim);
    shape_str(got, sizeof got, gd, t->shape);
    shape_str(want, sizeof want, ndim, shape);
    return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "tensor '%s' has shape %s, expected %s", shown,
                    got, want);
}

static rnnkit_status check_tensor_basic(const rnnkit_tensor *t, size_t i) {
    if (!t->name || !t->name[0])
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "tensors[%zu] has no name", i);
    if (!t->data)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "tensor '%s' has NULL data", t->name);
    if (t->ndim < 1 || t->ndim > 4)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "tensor '%s' has %d dimensions (1..4 allowed)",
                        t->name, t->ndim);
    size_t count = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] <= 0 || t->shape[d] > ((int64_t)1 << 31))
            return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                            "tensor '%s' dimension %d is %lld (must be 1..2^31)", t->name, d,
                            (long long)t->shape[d]);
        /* Keep every size derived from a tensor (packed, padded, times
         * four gates) far from size_t overflow. */
        if (rk_mul_overflow(count, (size_t)t->shape[d], &count) || count > SIZE_MAX / 256)
            return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "tensor '%s' is too large (its size overflows)",
                            t->name);
    }
    return RNNKIT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Canonical weights, before packing                                   */
/* ------------------------------------------------------------------ */

/* Source of one direction's weights in a framework's layout: pointers to
 * row-major matrices whose gate blocks are in the framework's order. */
typedef struct src_dir {
    const float *w_ih, *w_hh, *b_ih, *b_hh, *w_hr, *peep;
} src_dir;

/* canonical gate c is framework gate perm[c]; peep_perm likewise. */
typedef struct layout_map {
    int perm[4];
    int peep_perm[3];
} layout_map;

static void model_free_weights(rnnkit_model *m) {
    if (!m->w) return;
    for (int64_t i = 0; i < m->num_layers * m->num_dirs; i++) {
        rk_dir_weights *d = &m->w[i];
        rk_free(d->w_ih);
        rk_free(d->w_hh);
        rk_free(d->w_hn);
        rk_free(d->w_hr);
        rk_free(d->bias);
        rk_free(d->b_hn);
        rk_free(d->peep);
    }
    rk_free(m->w);
    m->w = NULL;
}

/* ------------------------------------------------------------------ */
/* Workspaces kept by the model                                        */
/* ------------------------------------------------------------------ */

static void rk_ws_buf_free(rk_ws_buf *b) {
    if (!b) return;
    rk_free(b->mem);
    rk_free(b);
}

/* A forward call without a caller's workspace takes one the model kept
 * from an earlier call, or allocates one. A fresh buffer of megabytes
 * costs page faults and zeroing on first touch, every call (measured,
 * scripts/ab-forward.sh, one process, the same library with and without
 * a reused workspace, medians: LSTM H 256 batch 64, 13 MiB of
 * workspace, 438 -> 395 us per step; H 512 batch 64 1592 -> 1512). The
 * slots are taken and given back by atomic exchange: concurrent calls on
 * one model each hold their own buffer, and the model's weights stay
 * immutable. */
rk_ws_buf *rk_ws_take(const rnnkit_model *m, size_t bytes) {
    _Atomic(rk_ws_buf *) *slot = ((rnnkit_model *)m)->ws_slot;
    for (int i = 0; i < RK_WS_SLOTS; i++) {
        if (!atomic_load_explicit(&slot[i], memory_order_relaxed)) continue;
        rk_ws_buf *b = atomic_exchange_explicit(&slot[i], NULL, memory_order_acquire);
        if (!b) continue;
        if (b->bytes >= bytes) return b;
        rk_ws_buf_free(b); /* too small: a new one replaces it */
    }
    rk_ws_buf *b = rk_alloc(sizeof *b);
    if (!b) return NULL;
    b->bytes = bytes;
    b->mem = rk_alloc_large(bytes ? bytes : 1);
    if (!b->mem) {
        rk_free(b);
        return NULL;
    }
    return b;
}

void rk_ws_give(const rnnkit_model *m, rk_ws_buf *b) {
    _Atomic(rk_ws_buf *) *slot = ((rnnkit_model *)m)->ws_slot;
    for (int i = 0; i < RK_WS_SLOTS && b; i++) {
        rk_ws_buf *expect = NULL;
        if (atomic_compare_exchange_strong_explicit(&slot[i], &expect, b, memory_order_release,
                                                    memory_order_relaxed))
            return;
    }
    rk_ws_buf_free(b); /* every slot full */
}

void rk_ws_release(const rnnkit_model *m) {
    _Atomic(rk_ws_buf *) *slot = ((rnnkit_model *)m)->ws_slot;
    for (int i = 0; i < RK_WS_SLOTS; i++)
        rk_ws_buf_free(atomic_exchange_explicit(&slot[i], NULL, memory_order_acquire));
}

void rnnkit_model_release_workspaces(const rnnkit_model *model) {
    if (model) rk_ws_release(model);
}

void rnnkit_model_destroy(rnnkit_model *m) {
    if (!m) return;
    rk_ws_release(m);
    model_free_weights(m);
    rk_free(m);
}

/* Packs rows [g0, g0+ng) gates of a canonical copy of w (G framework gate
 * blocks of H rows x K) into a new buffer: for the steps (pack_gates), or
 * for the input projection's gemm (input: pack_input, simd/kernels.h).
 * tmp holds ng*H*K floats. */
static float *pack_set(const rnnkit_model *m, const float *w, const layout_map *map, int g0, int ng,
                       int64_t H, int64_t K, float *tmp, int input) {
    for (int g = 0; g < ng; g++) {
        int src = map->perm[g0 + g];
        memcpy(tmp + (size_t)g * (size_t)H * (size_t)K, w + (size_t)src * (size_t)H * (size_t)K,
               sizeof(float) * (size_t)H * (size_t)K);
    }
    size_t nf = input ? rnnkit_input_packed_floats(m->k->row_block, ng, H, K)
                      : rnnkit_packed_floats(m->k->row_block, ng, H, K);
    float *p = rk_alloc_large(nf * sizeof(float));
    if (p) (input ? m->k->pack_input : m->k->pack_gates)(m->k->row_block, ng, H, K, tmp, p);
    return p;
}

static int is_default_act(rnnkit_cell cell, const rnnkit_act *a) {
    switch (cell) {
    case RNNKIT_CELL_RNN_TANH: return a[0].kind == RNNKIT_ACT_TANH;
    case RNNKIT_CELL_RNN_RELU: return a[0].kind == RNNKIT_ACT_RELU;
    case RNNKIT_CELL_LSTM:
        return a[0].kind == RNNKIT_ACT_SIGMOID && a[1].kind == RNNKIT_ACT_TANH &&
               a[2].kind == RNNKIT_ACT_TANH;
    case RNNKIT_CELL_GRU: return a[0].kind == RNNKIT_ACT_SIGMOID && a[1].kind == RNNKIT_ACT_TANH;
    }
    return 0;
}

static rnnkit_status build_dir(rnnkit_model *m, rk_dir_weights *d, const src_dir *s,
                               const layout_map *map, int64_t K_in, const rnnkit_act *acts) {
    const int64_t H = m->hidden_size, P = m->out_size, G = m->gates;
    int64_t kmax = K_in > P ? K_in : P;
    if (kmax < H) kmax = H;
    float *tmp = rk_alloc(sizeof(float) * (size_t)(G * H) * (size_t)kmax);
    if (!tmp) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory packing weights");
    rnnkit_status st = RNNKIT_STATUS_OK;
    d->w_ih = pack_set(m, s->w_ih, map, 0, (int)G, H, K_in, tmp, 1);
    if (m->cell == RNNKIT_CELL_GRU) {
        d->w_hh = pack_set(m, s->w_hh, map, 0, 2, H, P, tmp, 0);
        d->w_hn = pack_set(m, s->w_hh, map, 2, 1, H, P, tmp, 0);
        if (!d->w_hn) st = RNNKIT_STATUS_OUT_OF_MEMORY;
    } else {
        d->w_hh = pack_set(m, s->w_hh, map, 0, (int)G, H, P, tmp, 0);
    }
    if (s->w_hr) {
        static const layout_map one = {{0, 0, 0, 0}, {0, 0, 0}};
        d->w_hr = pack_set(m, s->w_hr, &one, 0, 1, P, H, tmp, 0);
        if (!d->w_hr) st = RNNKIT_STATUS_OUT_OF_MEMORY;
    }
    rk_free(tmp);
    if (!d->w_ih || !d->w_hh) st = RNNKIT_STATUS_OUT_OF_MEMORY;
    d->bias = rk_calloc((size_t)(G * H), sizeof(float));
    if (!d->bias) st = RNNKIT_STATUS_OUT_OF_MEMORY;
    if (st != RNNKIT_STATUS_OK) return rk_error(st, "out of memory packing weights");

    /* Fold biases: every gate takes b_ih + b_hh, except the GRU n gate
     * under linear_before_reset, whose recurrent bias sits inside r*(..). */
    for (int64_t g = 0; g < G; g++) {
        int src = map->perm[g];
        int keep_hn = m->cell == RNNKIT_CELL_GRU && g == 2 && m->linear_before_reset;
        for (int64_t j = 0; j < H; j++) {
            float b = 0.0f;
            if (s->b_ih) b += s->b_ih[src * H + j];
            if (s->b_hh && !keep_hn) b += s->b_hh[src * H + j];
            d->bias[g * H + j] = b;
        }
    }
    if (m->cell == RNNKIT_CELL_GRU && m->linear_before_reset && s->b_hh) {
        d->b_hn = rk_alloc(sizeof(float) * (size_t)H);
        if (!d->b_hn) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
        memcpy(d->b_hn, s->b_hh + (size_t)map->perm[2] * (size_t)H, sizeof(float) * (size_t)H);
    }
    if (s->peep) {
        d->peep = rk_alloc(sizeof(float) * 3 * (size_t)H);
        if (!d->peep) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
        for (int g = 0; g < 3; g++)
            memcpy(d->peep + (size_t)g * (size_t)H, s->peep + (size_t)map->peep_perm[g] * (size_t)H,
                   sizeof(float) * (size_t)H);
    }
    /* A plain RNN (ONNX RNN, Keras SimpleRNN) whose activation is Relu
     * runs the relu kernels. */
    const rnnkit_cell cell =
        m->cell == RNNKIT_CELL_RNN_TANH && acts[0].kind == RNNKIT_ACT_RELU ? RNNKIT_CELL_RNN_RELU : m->cell;
    for (int i = 0; i < 3; i++) d->act[i] = acts[i];
    d->default_act = is_default_act(cell, acts);
    /* Every ISA's steps run every activation kind (default_act = 0). */
    const rnnkit_kernels *k = m->k;
    switch (cell) {
    case RNNKIT_CELL_RNN_TANH: d->step = k->rnn_tanh_step; break;
    case RNNKIT_CELL_RNN_RELU: d->step = k->rnn_relu_step; break;
    case RNNKIT_CELL_LSTM: d->step = k->lstm_step; break;
    case RNNKIT_CELL_GRU: d->step = k->gru_step; break;
    }
    return RNNKIT_STATUS_OK;
}

/* desc.hidden_size / input_size, when set, against what the tensors
 * (named hfrom, ifrom) give. */
static rnnkit_status check_desc_sizes(const rnnkit_model_desc *desc, int64_t H, const char *hfrom,
                                      int64_t I, const char *ifrom) {
    if (desc->hidden_size && desc->hidden_size != H)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "desc.hidden_size is %lld but tensor '%s' gives %lld",
                        (long long)desc->hidden_size, hfrom, (long long)H);
    if (desc->input_size && desc->input_size != I)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "desc.input_size is %lld but tensor '%s' gives %lld",
                        (long long)desc->input_size, ifrom, (long long)I);
    return RNNKIT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Activation lists (ONNX and Keras layouts)                           */
/* ------------------------------------------------------------------ */

/* Activations per direction: f (RNN); f, g (GRU); f, g, h (LSTM). */
static int acts_per_dir(const rnnkit_model *m) {
    return m->cell == RNNKIT_CELL_LSTM ? 3 : (m->cell == RNNKIT_CELL_GRU ? 2 : 1);
}

/* desc's activation list: none, one direction's (used for every
 * direction), or every direction's. */
static rnnkit_status check_acts(const rnnkit_model *m, const rnnkit_model_desc *desc, int64_t D,
                                const char *layout) {
    const int per_dir = acts_per_dir(m), na = desc->num_activations;
    if (na != 0 && na != per_dir * D && na != per_dir)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "%d activations given; a %s %s with %lld direction(s) takes %lld (or %d for "
                        "every direction)",
                        na, layout, m->cell == RNNKIT_CELL_LSTM ? "LSTM" : m->cell == RNNKIT_CELL_GRU ? "GRU" : "RNN",
                        (long long)D, (long long)(per_dir * D), per_dir);
    for (int i = 0; i < na; i++)
        if ((int)desc->activations[i].kind < 0 || desc->activations[i].kind > RNNKIT_ACTIVATION_SOFTPLUS)
            return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "activations[%d] has unknown kind %d", i,
                            (int)desc->activations[i].kind);
    return RNNKIT_STATUS_OK;
}

/* Direction d's f, g, h: from desc (checked by check_acts), else the
 * cell's standard ones. */
static void dir_acts(const rnnkit_model *m, const rnnkit_model_desc *desc, int64_t D, int64_t d,
                     rnnkit_act acts[3]) {
    const int per_dir = acts_per_dir(m), na = desc->num_activations;
    const int base = na == per_dir * D ? (int)d * per_dir : 0;
    for (int i = 0; i < 3; i++) {
        if (na && i < per_dir) {
            acts[i].kind = (int)desc->activations[base + i].kind;
            acts[i].alpha = desc->activations[base + i].alpha;
            acts[i].beta = desc->activations[base + i].beta;
        } else {
            int kind = i == 0 && m->cell != RNNKIT_CELL_RNN_TANH && m->cell != RNNKIT_CELL_RNN_RELU
                           ? RNNKIT_ACT_SIGMOID
                           : RNNKIT_ACT_TANH;
            if (i == 0 && m->cell == RNNKIT_CELL_RNN_RELU) kind = RNNKIT_ACT_RELU;
            acts[i] = (rnnkit_act){kind, 0, 0};
        }
    }
}

/* ------------------------------------------------------------------ */
/* PyTorch layout                                                      */
/* ------------------------------------------------------------------ */

enum { PT_W_IH, PT_W_HH, PT_B_IH, PT_B_HH, PT_W_HR, PT_KINDS };
static const char *const pt_kind_names[PT_KINDS] = {"weight_ih_l", "weight_hh_l", "bias_ih_l",
                                                    "bias_hh_l", "weight_hr_l"};
#define PT_MAX_LAYERS 64

/* Parses "<kind><layer>[_reverse]"; returns 0 if not a PyTorch name. */
static int pt_parse(const char *name, int *kind, int *layer, int *rev) {
    for (int k = 0; k < PT_KINDS; k++) {
        size_t n = strlen(pt_kind_names[k]);
        if (strncmp(name, pt_kind_names[k], n) != 0) continue;
        const char *p = name + n;
        if (!isdigit((unsigned char)*p)) return 0;
        long l = 0;
        while (isdigit((unsigned char)*p) && l < 100000) l = l * 10 + (*p++ - '0');
        if (l >= PT_MAX_LAYERS) return 0;
        int r = 0;
        if (strcmp(p, "_reverse") == 0) r = 1;
        else if (*p) return 0;
        *kind = k;
        *layer = (int)l;
        *rev = r;
        return 1;
    }
    return 0;
}

/* Length of the common prefix ending in '.' shared by all names. */
static size_t common_prefix(const rnnkit_tensor *t, size_t n) {
    const char *first = t[0].name;
    const char *dot = strrchr(first, '.');
    if (!dot) return 0;
    size_t len = (size_t)(dot - first) + 1;
    for (;;) {
        int all = 1;
        for (size_t i = 1; i < n && all; i++) all = strncmp(t[i].name, first, len) == 0;
        if (all) return len;
        /* shorten to the previous '.' */
        size_t j = len - 1;
        while (j > 0 && first[j - 1] != '.') j--;
        if (j == 0) return 0;
        len = j;
    }
}

static rnnkit_status create_pytorch(rnnkit_model *m, const rnnkit_model_desc *desc,
                                    const rnnkit_tensor *t, size_t nt) {
    const rnnkit_tensor *slot[PT_MAX_LAYERS][2][PT_KINDS];
    memset(slot, 0, sizeof slot);
    size_t pre = common_prefix(t, nt);
    int max_layer = -1, any_rev = 0;
    for (size_t i = 0; i < nt; i++) {
        int kind, layer, rev;
        const char *nm = t[i].name + pre;
        if (!pt_parse(nm, &kind, &layer, &rev))
            return rk_error(RNNKIT_STATUS_MISSING_TENSOR,
                            "unknown tensor '%s' for a PyTorch-layout model (expected names like "
                            "weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_hr_l0, "
                            "with _reverse for the backward direction)",
                            t[i].name);
        if (slot[layer][rev][kind])
            return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "tensor '%s' given twice", t[i].name);
        slot[layer][rev][kind] = &t[i];
        if (layer > max_layer) max_layer = layer;
        any_rev |= rev;
    }
    const int64_t L = max_layer + 1, D = any_rev ? 2 : 1, G = m->gates;
    if (desc->num_layers && desc->num_layers != L)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                        "desc.num_layers is %lld but the tensors describe %lld layers",
                        (long long)desc->num_layers, (long long)L);
    /* Required tensors and consistency of optional ones. */
    const rnnkit_tensor *hh0 = slot[0][0][PT_W_HH], *ih0 = slot[0][0][PT_W_IH];
    for (int64_t l = 0; l < L; l++)
        for (int64_t d = 0; d < D; d++)
            for (int k = 0; k < PT_KINDS; k++) {
                int required = k == PT_W_IH || k == PT_W_HH;
                int want = required;
                if (k == PT_B_IH || k == PT_B_HH) want = slot[0][0][PT_B_IH] || slot[0][0][PT_B_HH];
                if (k == PT_W_HR) want = slot[0][0][PT_W_HR] != NULL;
                if (want && !slot[l][d][k])
                    return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing tensor '%.*s%s%lld%s'",
                                    (int)pre, t[0].name, pt_kind_names[k], (long long)l,
                                    d ? "_reverse" : "");
                if (!want && slot[l][d][k])
                    return rk_error(RNNKIT_STATUS_MISSING_TENSOR,
                                    "unexpected tensor '%s' (layer 0 forward has no %s%s)",
                                    slot[l][d][k]->name, pt_kind_names[k], "0");
            }
    if (!hh0 || !ih0) return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing weight_ih_l0/weight_hh_l0");
    if (slot[0][0][PT_W_HR] && m->cell != RNNKIT_CELL_LSTM)
        return rk_error(RNNKIT_STATUS_UNSUPPORTED, "weight_hr (projection) is only valid for LSTM, not %s",
                        cell_name(m->cell));
    if (hh0->ndim != 2 || ih0->ndim != 2 || hh0->shape[0] % G != 0)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                        "tensor '%s' must be 2-D [%lld*hidden_size, ...] for %s", hh0->name,
                        (long long)G, cell_name(m->cell));
    const int64_t H = hh0->shape[0] / G;
    const int64_t P = slot[0][0][PT_W_HR] ? (slot[0][0][PT_W_HR]->ndim == 2 ? slot[0][0][PT_W_HR]->shape[0] : -1) : H;
    const int64_t I = ih0->shape[1];
    if (P <= 0) return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "tensor '%s' must be 2-D", slot[0][0][PT_W_HR]->name);
    rnnkit_status sz = check_desc_sizes(desc, H, hh0->name, I, ih0->name);
    if (sz) return sz;
    m->num_layers = L;
    m->num_dirs = D;
    m->direction = D == 2 ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
    m->input_size = I;
    m->hidden_size = H;
    m->out_size = P;
    m->proj_size = slot[0][0][PT_W_HR] ? P : 0;
    m->has_bias = slot[0][0][PT_B_IH] != NULL;
    m->linear_before_reset = m->cell == RNNKIT_CELL_GRU;
    for (int64_t l = 0; l < L; l++)
        for (int64_t d = 0; d < D; d++) {
            int64_t K = rk_layer_input(m, l);
            int64_t s_ih[2] = {G * H, K}, s_hh[2] = {G * H, P}, s_b[1] = {G * H}, s_hr[2] = {P, H};
            rnnkit_status st;
            if ((st = check_shape(slot[l][d][PT_W_IH], slot[l][d][PT_W_IH]->name, 2, s_ih))) return st;
            if ((st = check_shape(slot[l][d][PT_W_HH], slot[l][d][PT_W_HH]->name, 2, s_hh))) return st;
            if (m->has_bias) {
                if ((st = check_shape(slot[l][d][PT_B_IH], slot[l][d][PT_B_IH]->name, 1, s_b))) return st;
                if ((st = check_shape(slot[l][d][PT_B_HH], slot[l][d][PT_B_HH]->name, 1, s_b))) return st;
            }
            if (m->proj_size)
                if ((st = check_shape(slot[l][d][PT_W_HR], slot[l][d][PT_W_HR]->name, 2, s_hr))) return st;
        }
    m->w = rk_calloc((size_t)(L * D), sizeof(rk_dir_weights));
    if (!m->w) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
    static const layout_map ident = {{0, 1, 2, 3}, {0, 1, 2}};
    rnnkit_act acts[3];
    switch (m->cell) {
    case RNNKIT_CELL_RNN_TANH: acts[0] = (rnnkit_act){RNNKIT_ACT_TANH, 0, 0}; break;
    case RNNKIT_CELL_RNN_RELU: acts[0] = (rnnkit_act){RNNKIT_ACT_RELU, 0, 0}; break;
    default: acts[0] = (rnnkit_act){RNNKIT_ACT_SIGMOID, 0, 0}; break;
    }
    acts[1] = acts[2] = (rnnkit_act){RNNKIT_ACT_TANH, 0, 0};
    for (int64_t l = 0; l < L; l++)
        for (int64_t d = 0; d < D; d++) {
            const rnnkit_tensor *const *s = slot[l][d];
            src_dir sd = {s[PT_W_IH]->data, s[PT_W_HH]->data, s[PT_B_IH] ? s[PT_B_IH]->data : NULL,
                          s[PT_B_HH] ? s[PT_B_HH]->data : NULL, s[PT_W_HR] ? s[PT_W_HR]->data : NULL,
                          NULL};
            rnnkit_status st = build_dir(m, &m->w[l * D + d], &sd, &ident, rk_layer_input(m, l), acts);
            if (st) return st;
        }
    return RNNKIT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* ONNX layout                                                         */
/* ------------------------------------------------------------------ */

static rnnkit_status create_onnx(rnnkit_model *m, const rnnkit_model_desc *desc,
                                 const rnnkit_tensor *t, size_t nt) {
    const rnnkit_tensor *W = NULL, *R = NULL, *B = NULL, *Pp = NULL;
    for (size_t i = 0; i < nt; i++) {
        const rnnkit_tensor **dst = NULL;
        if (strcmp(t[i].name, "W") == 0) dst = &W;
        else if (strcmp(t[i].name, "R") == 0) dst = &R;
        else if (strcmp(t[i].name, "B") == 0) dst = &B;
        else if (strcmp(t[i].name, "P") == 0) dst = &Pp;
        if (!dst)
            return rk_error(RNNKIT_STATUS_MISSING_TENSOR,
                            "unknown tensor '%s' for an ONNX-layout model (expected W, R, B, P)",
                            t[i].name);
        if (*dst) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "tensor '%s' given twice", t[i].name);
        *dst = &t[i];
    }
    if (!W) return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing tensor 'W'");
    if (!R) return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing tensor 'R'");
    if (desc->direction < RNNKIT_DIRECTION_FORWARD || desc->direction > RNNKIT_DIRECTION_BIDIRECTIONAL)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.direction %d is not a valid direction",
                        (int)desc->direction);
    if (desc->num_layers && desc->num_layers != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "ONNX-layout models have one layer, desc.num_layers is %lld",
                        (long long)desc->num_layers);
    if (Pp && m->cell != RNNKIT_CELL_LSTM)
        return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "tensor 'P' (peepholes) is only valid for LSTM");
    const int64_t D = desc->direction == RNNKIT_DIRECTION_BIDIRECTIONAL ? 2 : 1, G = m->gates;
    if (R->ndim != 3 || R->shape[1] % G != 0)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                        "tensor 'R' must be 3-D [num_directions, %lld*hidden_size, hidden_size]", (long long)G);
    const int64_t H = R->shape[2];
    if (W->ndim != 3)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                        "tensor 'W' must be 3-D [num_directions, %lld*hidden_size, input_size]", (long long)G);
    const int64_t I = W->shape[2];
    rnnkit_status st = check_desc_sizes(desc, H, "R", I, "W");
    if (st) return st;
    int64_t sW[3] = {D, G * H, I}, sR[3] = {D, G * H, H}, sB[2] = {D, 2 * G * H}, sP[2] = {D, 3 * H};
    if ((st = check_shape(W, "W", 3, sW))) return st;
    if ((st = check_shape(R, "R", 3, sR))) return st;
    if (B && (st = check_shape(B, "B", 2, sB))) return st;
    if (Pp && (st = check_shape(Pp, "P", 2, sP))) return st;
    if (!(desc->clip >= 0.0f))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.clip is %g; it must be >= 0 (0 = no clip)",
                        (double)desc->clip);
    if (desc->input_forget && m->cell != RNNKIT_CELL_LSTM)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "input_forget is only valid for LSTM");
    if (desc->linear_before_reset != 0 && desc->linear_before_reset != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "linear_before_reset is %d (0 or 1 allowed)",
                        desc->linear_before_reset);
    if (desc->onnx_layout != 0 && desc->onnx_layout != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "onnx_layout is %d (0 or 1 allowed)",
                        desc->onnx_layout);
    if ((st = check_acts(m, desc, D, "ONNX"))) return st;

    m->num_layers = 1;
    m->num_dirs = D;
    m->direction = desc->direction;
    m->input_size = I;
    m->hidden_size = H;
    m->out_size = H;
    m->proj_size = 0;
    m->has_bias = B != NULL;
    m->has_peep = Pp != NULL;
    m->linear_before_reset = m->cell == RNNKIT_CELL_GRU ? desc->linear_before_reset : 0;
    m->input_forget = m->cell == RNNKIT_CELL_LSTM ? desc->input_forget : 0;
    m->clip = desc->clip;
    m->onnx_layout = desc->onnx_layout;

    /* ONNX gate orders: LSTM i,o,f,c; GRU z,r,h. Peepholes i,o,f. */
    layout_map map = {{0, 1, 2, 3}, {0, 1, 2}};
    if (m->cell == RNNKIT_CELL_LSTM) {
        layout_map l = {{0, 2, 3, 1}, {0, 2, 1}};
        map = l;
    } else if (m->cell == RNNKIT_CELL_GRU) {
        layout_map g = {{1, 0, 2, 0}, {0, 1, 2}};
        map = g;
    }
    m->w = rk_calloc((size_t)D, sizeof(rk_dir_weights));
    if (!m->w) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int64_t d = 0; d < D; d++) {
        rnnkit_act acts[3];
        dir_acts(m, desc, D, d, acts);
        src_dir sd;
        sd.w_ih = W->data + (size_t)d * (size_t)(G * H * I);
        sd.w_hh = R->data + (size_t)d * (size_t)(G * H * H);
        sd.b_ih = B ? B->data + (size_t)d * (size_t)(2 * G * H) : NULL;
        sd.b_hh = B ? sd.b_ih + G * H : NULL;
        sd.w_hr = NULL;
        sd.peep = Pp ? Pp->data + (size_t)d * (size_t)(3 * H) : NULL;
        if ((st = build_dir(m, &m->w[d], &sd, &map, I, acts))) return st;
    }
    return RNNKIT_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Keras layout                                                        */
/* ------------------------------------------------------------------ */
/*
 * keras.layers.LSTM / GRU / SimpleRNN weights as layer.weights names them:
 * kernel [I, G*H], recurrent_kernel [H, G*H], bias [G*H] (GRU with
 * reset_after=True: [2, 3H], input bias then recurrent bias). Gate
 * blocks along the last axis: LSTM i, f, c, o (the canonical order);
 * GRU z, r, h. A name is matched on its last '/'-separated component,
 * without a ":0"-style suffix ("lstm/lstm_cell/kernel:0",
 * "bidirectional/backward_lstm/lstm_cell/bias"); a name with a component
 * starting with "backward" is the backward direction of a Bidirectional
 * wrapper (then every tensor must exist for both directions).
 */
enum { KS_KERNEL, KS_RECURRENT, KS_BIAS, KS_KINDS };
static const char *const ks_names[KS_KINDS] = {"kernel", "recurrent_kernel", "bias"};

/* Kind of a Keras weight name (-1: none) and whether it is backward. */
static int ks_parse(const char *name, int *backward) {
    const char *leaf = name;
    *backward = 0;
    for (const char *p = name;; p++) {
        if (p == name || p[-1] == '/') {
            if (strncmp(p, "backward", 8) == 0) *backward = 1;
            leaf = p;
        }
        if (!*p) break;
    }
    size_t len = strlen(leaf);
    const char *colon = strrchr(leaf, ':');
    if (colon) {
        const char *q = colon + 1;
        int digits = *q != '\0';
        for (; *q; q++) digits &= *q >= '0' && *q <= '9';
        if (digits) len = (size_t)(colon - leaf);
    }
    for (int k = 0; k < KS_KINDS; k++)
        if (strlen(ks_names[k]) == len && strncmp(leaf, ks_names[k], len) == 0) return k;
    return -1;
}

/* dst[r][c] = src[c][r]: src rows x cols, dst cols x rows. */
static void transpose(const float *src, int64_t rows, int64_t cols, float *dst) {
    enum { TB = 32 };
    for (int64_t r0 = 0; r0 < rows; r0 += TB)
        for (int64_t c0 = 0; c0 < cols; c0 += TB)
            for (int64_t r = r0; r < rows && r < r0 + TB; r++)
                for (int64_t c = c0; c < cols && c < c0 + TB; c++)
                    dst[(size_t)c * (size_t)rows + (size_t)r] = src[(size_t)r * (size_t)cols + (size_t)c];
}

static rnnkit_status create_keras(rnnkit_model *m, const rnnkit_model_desc *desc,
                                  const rnnkit_tensor *t, size_t nt) {
    const rnnkit_tensor *ts[2][KS_KINDS] = {{NULL}};
    for (size_t i = 0; i < nt; i++) {
        int back;
        int k = ks_parse(t[i].name, &back);
        if (k < 0)
            return rk_error(RNNKIT_STATUS_MISSING_TENSOR,
                            "unknown tensor '%s' for a Keras-layout model (expected names ending in "
                            "kernel, recurrent_kernel or bias, e.g. 'lstm/lstm_cell/kernel:0')",
                            t[i].name);
        if (ts[back][k])
            return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                            "tensors '%s' and '%s' are both the %s%s", ts[back][k]->name, t[i].name,
                            back ? "backward " : "", ks_names[k]);
        ts[back][k] = &t[i];
    }
    const int bidir = ts[1][0] || ts[1][1] || ts[1][2];
    const int64_t D = bidir ? 2 : 1, G = m->gates;
    /* desc.direction reverse: one layer with go_backwards=True. */
    if (desc->direction == RNNKIT_DIRECTION_REVERSE && bidir)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "desc.direction is reverse (go_backwards) but tensors named backward_* make "
                        "the model bidirectional");
    if (desc->direction == RNNKIT_DIRECTION_BIDIRECTIONAL && !bidir)
        return rk_error(RNNKIT_STATUS_MISSING_TENSOR,
                        "desc.direction is bidirectional but no tensor is named backward_*");
    if (desc->merge_mode != RNNKIT_MERGE_CONCAT && !bidir)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "desc.merge_mode is for a Bidirectional layer, but no tensor is named backward_*");
    if (desc->num_layers && desc->num_layers != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "Keras-layout models are one layer, desc.num_layers is %lld",
                        (long long)desc->num_layers);
    for (int64_t d = 0; d < D; d++) {
        const char *dn = d ? "backward " : "";
        if (!ts[d][KS_KERNEL])
            return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing the %skernel tensor", dn);
        if (!ts[d][KS_RECURRENT])
            return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "missing the %srecurrent_kernel tensor", dn);
    }
    if (bidir && !ts[0][KS_BIAS] != !ts[1][KS_BIAS])
        return rk_error(RNNKIT_STATUS_MISSING_TENSOR, "only the %s direction has a bias tensor",
                        ts[0][KS_BIAS] ? "forward" : "backward");
    const rnnkit_tensor *R0 = ts[0][KS_RECURRENT], *K0 = ts[0][KS_KERNEL];
    if (R0->ndim != 2 || R0->shape[1] != G * R0->shape[0])
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                        "tensor '%s' must be 2-D [units, %lld*units] (recurrent_kernel of a %s)",
                        R0->name, (long long)G,
                        m->cell == RNNKIT_CELL_LSTM ? "LSTM" : m->cell == RNNKIT_CELL_GRU ? "GRU" : "SimpleRNN");
    const int64_t H = R0->shape[0];
    if (K0->ndim != 2)
        return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH, "tensor '%s' must be 2-D [input_size, %lld]",
                        K0->name, (long long)(G * H));
    const int64_t I = K0->shape[0];
    rnnkit_status st = check_desc_sizes(desc, H, R0->name, I, K0->name);
    if (st) return st;
    /* GRU: reset_after from the bias shape ([2, 3H]: True), else from
     * desc.linear_before_reset. */
    if (desc->linear_before_reset != 0 && desc->linear_before_reset != 1)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "linear_before_reset is %d (0 or 1 allowed)",
                        desc->linear_before_reset);
    int lbr = m->cell == RNNKIT_CELL_GRU ? desc->linear_before_reset : 0;
    const rnnkit_tensor *B0 = ts[0][KS_BIAS];
    if (m->cell == RNNKIT_CELL_GRU && B0) {
        if (B0->ndim == 2) lbr = 1;
        else if (desc->linear_before_reset)
            return rk_error(RNNKIT_STATUS_SHAPE_MISMATCH,
                            "desc.linear_before_reset is 1 (reset_after=True) but bias '%s' is 1-D; "
                            "a reset_after GRU has a [2, %lld] bias",
                            B0->name, (long long)(3 * H));
    }
    for (int64_t d = 0; d < D; d++) {
        int64_t sK[2] = {I, G * H}, sR[2] = {H, G * H}, sB1[1] = {G * H}, sB2[2] = {2, G * H};
        if ((st = check_shape(ts[d][KS_KERNEL], ts[d][KS_KERNEL]->name, 2, sK))) return st;
        if ((st = check_shape(ts[d][KS_RECURRENT], ts[d][KS_RECURRENT]->name, 2, sR))) return st;
        if (ts[d][KS_BIAS] &&
            (st = lbr && m->cell == RNNKIT_CELL_GRU ? check_shape(ts[d][KS_BIAS], ts[d][KS_BIAS]->name, 2, sB2)
                                                    : check_shape(ts[d][KS_BIAS], ts[d][KS_BIAS]->name, 1, sB1)))
            return st;
    }
    if (!(desc->clip >= 0.0f))
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.clip is %g; it must be >= 0 (0 = no clip)",
                        (double)desc->clip);
    if (desc->input_forget)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "input_forget is not a Keras option");
    if (desc->onnx_layout)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "onnx_layout is %d; Keras-layout models take batch_major per call",
                        desc->onnx_layout);
    if ((st = check_acts(m, desc, D, "Keras"))) return st;

    m->num_layers = 1;
    m->num_dirs = D;
    m->direction = bidir ? RNNKIT_DIRECTION_BIDIRECTIONAL : desc->direction;
    m->merge_mode = desc->merge_mode;
    m->input_size = I;
    m->hidden_size = H;
    m->out_size = H;
    m->proj_size = 0;
    m->has_bias = B0 != NULL;
    m->has_peep = 0;
    m->linear_before_reset = lbr;
    m->input_forget = 0;
    m->clip = desc->clip;
    m->onnx_layout = 0;

    /* Keras gate orders: LSTM i,f,c,o (canonical); GRU z,r,h. */
    layout_map map = {{0, 1, 2, 3}, {0, 1, 2}};
    if (m->cell == RNNKIT_CELL_GRU) {
        layout_map g = {{1, 0, 2, 0}, {0, 1, 2}};
        map = g;
    }
    m->w = rk_calloc((size_t)D, sizeof(rk_dir_weights));
    float *w_ih = rk_alloc(sizeof(float) * (size_t)(G * H) * (size_t)I);
    float *w_hh = rk_alloc(sizeof(float) * (size_t)(G * H) * (size_t)H);
    if (!m->w || !w_ih || !w_hh) {
        rk_free(w_ih);
        rk_free(w_hh);
        return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    st = RNNKIT_STATUS_OK;
    for (int64_t d = 0; d < D && st == RNNKIT_STATUS_OK; d++) {
        rnnkit_act acts[3];
        dir_acts(m, desc, D, d, acts);
        /* Keras multiplies x [N, I] by kernel [I, G*H]: the canonical
         * [G*H, I] rows are its columns. */
        transpose(ts[d][KS_KERNEL]->data, I, G * H, w_ih);
        transpose(ts[d][KS_RECURRENT]->data, H, G * H, w_hh);
        const rnnkit_tensor *B = ts[d][KS_BIAS];
        src_dir sd;
        sd.w_ih = w_ih;
        sd.w_hh = w_hh;
        sd.b_ih = B ? B->data : NULL;
        sd.b_hh = B && B->ndim == 2 ? B->data + (size_t)(G * H) : NULL;
        sd.w_hr = NULL;
        sd.peep = NULL;
        st = build_dir(m, &m->w[d], &sd, &map, I, acts);
    }
    rk_free(w_ih);
    rk_free(w_hh);
    return st;
}

rnnkit_status rnnkit_model_create(const rnnkit_model_desc *desc, const rnnkit_tensor *tensors,
                                  size_t num_tensors, rnnkit_model **out) {
    rk_clear_error();
    if (!out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_create: out is NULL");
    if (!desc) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_create: desc is NULL");
    if (!tensors || num_tensors == 0)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_create: no tensors given");
    if (desc->layout != RNNKIT_LAYOUT_PYTORCH && desc->layout != RNNKIT_LAYOUT_ONNX &&
        desc->layout != RNNKIT_LAYOUT_KERAS)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.layout %d is not a valid layout", (int)desc->layout);
    if (desc->cell < RNNKIT_CELL_RNN_TANH || desc->cell > RNNKIT_CELL_GRU)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.cell %d is not a valid cell", (int)desc->cell);
    if (desc->merge_mode < RNNKIT_MERGE_CONCAT || desc->merge_mode > RNNKIT_MERGE_AVE)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.merge_mode %d is not a valid merge mode",
                        (int)desc->merge_mode);
    if (desc->merge_mode != RNNKIT_MERGE_CONCAT && desc->layout != RNNKIT_LAYOUT_KERAS)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT,
                        "desc.merge_mode other than concat is for Keras-layout models (Bidirectional)");
    if (desc->num_activations < 0 || desc->num_activations > RNNKIT_MAX_ACTIVATIONS)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc.num_activations is %d (0..%d)",
                        desc->num_activations, RNNKIT_MAX_ACTIVATIONS);
    if (desc->input_size < 0 || desc->hidden_size < 0 || desc->num_layers < 0)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "desc sizes must not be negative");
    for (size_t i = 0; i < num_tensors; i++) {
        rnnkit_status st = check_tensor_basic(&tensors[i], i);
        if (st) return st;
    }
    rnnkit_status env = rk_kernels_check_env();
    if (env) return env;
    rnnkit_model *m = rk_calloc(1, sizeof *m);
    if (!m) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "out of memory");
    m->layout = desc->layout;
    m->cell = desc->cell;
    m->gates = desc->cell == RNNKIT_CELL_LSTM ? 4 : (desc->cell == RNNKIT_CELL_GRU ? 3 : 1);
    m->k = rk_kernels_active();
    rnnkit_status st = desc->layout == RNNKIT_LAYOUT_PYTORCH ? create_pytorch(m, desc, tensors, num_tensors)
                       : desc->layout == RNNKIT_LAYOUT_ONNX ? create_onnx(m, desc, tensors, num_tensors)
                                                            : create_keras(m, desc, tensors, num_tensors);
    if (st != RNNKIT_STATUS_OK) {
        rnnkit_model_destroy(m);
        return st;
    }
    /* The thread plan reads the cache sizes: read them (from files, once
     * per process) here rather than in the first forward call. */
    double caches[3];
    rk_cache_sizes(caches);
    *out = m;
    return RNNKIT_STATUS_OK;
}

rnnkit_status rnnkit_model_get_info(const rnnkit_model *m, rnnkit_model_info *info) {
    rk_clear_error();
    if (!m || !info)
        return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_get_info: %s is NULL",
                        m ? "info" : "model");
    memset(info, 0, sizeof *info);
    info->layout = m->layout;
    info->cell = m->cell;
    info->input_size = m->input_size;
    info->hidden_size = m->hidden_size;
    info->proj_size = m->proj_size;
    info->output_size = m->out_size;
    info->num_layers = m->num_layers;
    info->num_directions = m->num_dirs;
    info->direction = m->direction;
    info->has_bias = m->has_bias;
    info->has_peepholes = m->has_peep;
    info->linear_before_reset = m->linear_before_reset;
    info->input_forget = m->input_forget;
    info->clip = m->clip;
    info->onnx_layout = m->onnx_layout;
    info->isa = m->k->isa;
    info->merge_mode = m->merge_mode;
    info->y_width = rk_y_width(m);
    return RNNKIT_STATUS_OK;
}
