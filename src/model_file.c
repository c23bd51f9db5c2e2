/* rnnkit_model_load: a .safetensors file whose __metadata__ says how to
 * read its tensors.
 *
 *   PyTorch layout ("layout" absent or "pytorch"): "cell" = rnn_tanh |
 *   rnn_relu | lstm | gru; optional "input_size", "hidden_size",
 *   "num_layers" as checks. Tensor names as the state_dict, optionally
 *   under one common prefix ending in '.' ("rnn.", "model.lstm.").
 *
 *   ONNX layout ("layout" = "onnx"): "cell" = rnn | lstm | gru,
 *   "direction", "linear_before_reset", "clip", "input_forget",
 *   "activations", "activation_alpha", "activation_beta", "onnx_layout",
 *   "hidden_size", "input_size". Tensors W, R, B, P.
 *
 *   Keras layout ("layout" = "keras"): "cell" = simple_rnn | lstm | gru;
 *   optional "reset_after" (GRU without a bias; with one its shape says),
 *   "clip", "activations", "activation_alpha", "activation_beta" (as for
 *   ONNX: recurrent_activation then activation), "hidden_size",
 *   "input_size". Tensors named as the layer's weights
 *   ("lstm/lstm_cell/kernel:0", "bidirectional/backward_gru/gru_cell/bias").
 *
 * Other metadata keys are ignored (torch's save_file adds "format": "pt").
 * Every bad value is an error naming the file, the key and the value. */
#include "model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

static rnnkit_status bad(const char *what, const char *key, const char *value, const char *expect) {
    return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: __metadata__ \"%s\" is \"%.80s\"; expected %s",
                    what, key, value, expect);
}

static const char *skip_sp(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

static int only_sp(const char *s) { return *skip_sp(s) == '\0'; }

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out) {
    const char *s = skip_sp(v);
    if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+')) return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || errno || !only_sp(end) || x < lo || x > hi) return 0;
    *out = x;
    return 1;
}

/* One float from s; *next is set past it (and spaces). */
static int parse_f32(const char *s, const char **next, float *out) {
    s = skip_sp(s);
    if (!*s || *s == ',') return 0;
    char *end;
    errno = 0;
    float x = strtof(s, &end);
    if (end == s || errno == ERANGE || !isfinite(x)) return 0;
    *out = x;
    *next = skip_sp(end);
    return 1;
}

/* Comma-separated floats; *n is how many. */
static int parse_f32_list(const char *v, float *out, int cap, int *n) {
    *n = 0;
    const char *s = skip_sp(v);
    if (!*s) return 1; /* empty list */
    for (;;) {
        if (*n >= cap) return 0;
        if (!parse_f32(s, &s, &out[*n])) return 0;
        (*n)++;
        if (*s == '\0') return 1;
        if (*s != ',') return 0;
        s++;
    }
}

static rnnkit_status get_bool(const char *what, const rk_st_file *f, const char *key, int *out) {
    const char *v = rk_st_meta_get(f, key);
    if (!v) return RNNKIT_STATUS_OK;
    int64_t x;
    if (!parse_i64(v, 0, 1, &x)) return bad(what, key, v, "\"0\" or \"1\"");
    *out = (int)x;
    return RNNKIT_STATUS_OK;
}

static rnnkit_status get_size(const char *what, const rk_st_file *f, const char *key,
                              int64_t *out) {
    const char *v = rk_st_meta_get(f, key);
    if (!v) return RNNKIT_STATUS_OK;
    if (!parse_i64(v, 1, INT32_MAX, out)) return bad(what, key, v, "a positive integer");
    return RNNKIT_STATUS_OK;
}

/* Alpha/beta as ONNX Runtime consumes them. From onnxruntime
 * core/providers/cpu/rnn/rnn_helpers.cc (ActivationFuncs constructor and
 * detail::NormalizeActivationArgumentAndGetAlphaBetaCount): one cursor
 * runs over activation_alpha and one over activation_beta, across all
 * activations of all directions in order. An activation that takes alpha
 * (affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu) takes
 * the next unused alpha; one that takes beta (affine, scaledtanh,
 * hardsigmoid) the next unused beta; others consume nothing. Extra values
 * are silently ignored there, and here too.
 * One difference, on purpose: when a list runs out ORT falls back to its
 * own table (leakyrelu 0.01, hardsigmoid 0.2/0.5, elu 1.0) and to 0.0 for
 * every other function, so an Affine, ThresholdedRelu or ScaledTanh
 * without values gets alpha = beta = 0 under ORT. We keep the ONNX
 * operator defaults that rnnkit_activation_parse set (1.0 for those), as
 * the fixture generator's reference does; ORT's zeros would make those
 * functions constant, which no exporter intends. */
static void assign_alpha_beta(rnnkit_activation *acts, int n, const float *alpha, int na,
                              const float *beta, int nb) {
    int ia = 0, ib = 0;
    for (int i = 0; i < n; i++) {
        rnnkit_activation_kind k = acts[i].kind;
        int takes_a = k == RNNKIT_ACTIVATION_AFFINE || k == RNNKIT_ACTIVATION_LEAKY_RELU ||
                      k == RNNKIT_ACTIVATION_THRESHOLDED_RELU ||
                      k == RNNKIT_ACTIVATION_SCALED_TANH || k == RNNKIT_ACTIVATION_HARD_SIGMOID ||
                      k == RNNKIT_ACTIVATION_ELU;
        int takes_b = k == RNNKIT_ACTIVATION_AFFINE || k == RNNKIT_ACTIVATION_SCALED_TANH ||
                      k == RNNKIT_ACTIVATION_HARD_SIGMOID;
        if (takes_a && ia < na) acts[i].alpha = alpha[ia++];
        if (takes_b && ib < nb) acts[i].beta = beta[ib++];
    }
}

static rnnkit_status parse_activations(const char *what, const char *v, rnnkit_model_desc *d) {
    const char *s = v;
    int n = 0;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char name[40];
        const char *a = skip_sp(s);
        size_t skip = (size_t)(a - s);
        size_t nl = len >= skip ? len - skip : 0;
        while (nl > 0 && (a[nl - 1] == ' ' || a[nl - 1] == '\t')) nl--;
        if (nl == 0 || nl >= sizeof name)
            return bad(what, "activations", v, "comma-separated ONNX activation names");
        if (n >= RNNKIT_MAX_ACTIVATIONS)
            return bad(what, "activations", v, "at most 6 activation names");
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (rnnkit_activation_parse(name, &d->activations[n]) != RNNKIT_STATUS_OK)
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: __metadata__ \"activations\" is \"%.80s\": unknown activation "
                            "'%s' (expected Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                            "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)",
                            what, v, name);
        n++;
        if (!e) break;
        s = e + 1;
    }
    d->num_activations = n;
    return RNNKIT_STATUS_OK;
}

static rnnkit_status meta_activations(const char *what, const rk_st_file *f, rnnkit_model_desc *d);

/* "clip" (ONNX and Keras). */
static rnnkit_status meta_clip(const char *what, const rk_st_file *f, rnnkit_model_desc *d) {
    const char *v = rk_st_meta_get(f, "clip");
    if (v) {
        const char *end;
        float c;
        if (!parse_f32(v, &end, &c) || *end || c < 0.0f)
            return bad(what, "clip", v, "a finite number >= 0");
        d->clip = c;
    }
    return RNNKIT_STATUS_OK;
}

static rnnkit_status onnx_desc(const char *what, const rk_st_file *f, rnnkit_model_desc *d) {
    rnnkit_status s;
    const char *v = rk_st_meta_get(f, "cell");
    d->layout = RNNKIT_LAYOUT_ONNX;
    if (!v)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: __metadata__ has no \"cell\" (rnn, lstm or gru for layout onnx)",
                        what);
    if (strcmp(v, "rnn") == 0) d->cell = RNNKIT_CELL_RNN_TANH;
    else if (strcmp(v, "lstm") == 0) d->cell = RNNKIT_CELL_LSTM;
    else if (strcmp(v, "gru") == 0) d->cell = RNNKIT_CELL_GRU;
    else return bad(what, "cell", v, "rnn, lstm or gru (layout onnx)");

    if ((v = rk_st_meta_get(f, "direction")) != NULL) {
        if (strcmp(v, "forward") == 0) d->direction = RNNKIT_DIRECTION_FORWARD;
        else if (strcmp(v, "reverse") == 0) d->direction = RNNKIT_DIRECTION_REVERSE;
        else if (strcmp(v, "bidirectional") == 0) d->direction = RNNKIT_DIRECTION_BIDIRECTIONAL;
        else return bad(what, "direction", v, "forward, reverse or bidirectional");
    }
    if ((s = get_bool(what, f, "linear_before_reset", &d->linear_before_reset)) != RNNKIT_STATUS_OK)
        return s;
    if ((s = get_bool(what, f, "input_forget", &d->input_forget)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_bool(what, f, "onnx_layout", &d->onnx_layout)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_size(what, f, "hidden_size", &d->hidden_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_size(what, f, "input_size", &d->input_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = meta_clip(what, f, d)) != RNNKIT_STATUS_OK) return s;
    return meta_activations(what, f, d);
}

/* "activations", "activation_alpha", "activation_beta" (ONNX and Keras). */
static rnnkit_status meta_activations(const char *what, const rk_st_file *f, rnnkit_model_desc *d) {
    rnnkit_status s;
    const char *v;
    if ((v = rk_st_meta_get(f, "activations")) != NULL) {
        if ((s = parse_activations(what, v, d)) != RNNKIT_STATUS_OK) return s;
    }
    float alpha[RNNKIT_MAX_ACTIVATIONS * 2], beta[RNNKIT_MAX_ACTIVATIONS * 2];
    int na = 0, nb = 0;
    const char *av = rk_st_meta_get(f, "activation_alpha");
    const char *bv = rk_st_meta_get(f, "activation_beta");
    if (av && !parse_f32_list(av, alpha, RNNKIT_MAX_ACTIVATIONS * 2, &na))
        return bad(what, "activation_alpha", av, "comma-separated finite numbers");
    if (bv && !parse_f32_list(bv, beta, RNNKIT_MAX_ACTIVATIONS * 2, &nb))
        return bad(what, "activation_beta", bv, "comma-separated finite numbers");
    if ((na || nb) && d->num_activations == 0)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: __metadata__ has activation_alpha/activation_beta but no "
                        "\"activations\"",
                        what);
    assign_alpha_beta(d->activations, d->num_activations, alpha, na, beta, nb);
    return RNNKIT_STATUS_OK;
}

static rnnkit_status keras_desc(const char *what, const rk_st_file *f, rnnkit_model_desc *d) {
    rnnkit_status s;
    const char *v = rk_st_meta_get(f, "cell");
    d->layout = RNNKIT_LAYOUT_KERAS;
    if (!v)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: __metadata__ has no \"cell\" (simple_rnn, lstm or gru for layout keras)",
                        what);
    if (strcmp(v, "simple_rnn") == 0) d->cell = RNNKIT_CELL_RNN_TANH;
    else if (strcmp(v, "lstm") == 0) d->cell = RNNKIT_CELL_LSTM;
    else if (strcmp(v, "gru") == 0) d->cell = RNNKIT_CELL_GRU;
    else return bad(what, "cell", v, "simple_rnn, lstm or gru (layout keras)");
    if ((s = get_bool(what, f, "reset_after", &d->linear_before_reset)) != RNNKIT_STATUS_OK) return s;
    int back = 0;
    if ((s = get_bool(what, f, "go_backwards", &back)) != RNNKIT_STATUS_OK) return s;
    if (back) d->direction = RNNKIT_DIRECTION_REVERSE;
    const char *mm = rk_st_meta_get(f, "merge_mode");
    if (mm) {
        if (strcmp(mm, "concat") == 0) d->merge_mode = RNNKIT_MERGE_CONCAT;
        else if (strcmp(mm, "sum") == 0) d->merge_mode = RNNKIT_MERGE_SUM;
        else if (strcmp(mm, "mul") == 0) d->merge_mode = RNNKIT_MERGE_MUL;
        else if (strcmp(mm, "ave") == 0) d->merge_mode = RNNKIT_MERGE_AVE;
        else return bad(what, "merge_mode", mm, "concat, sum, mul or ave");
    }
    if ((s = get_size(what, f, "hidden_size", &d->hidden_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_size(what, f, "input_size", &d->input_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = meta_clip(what, f, d)) != RNNKIT_STATUS_OK) return s;
    return meta_activations(what, f, d);
}

static rnnkit_status pytorch_desc(const char *what, const rk_st_file *f, rnnkit_model_desc *d) {
    rnnkit_status s;
    const char *v = rk_st_meta_get(f, "cell");
    d->layout = RNNKIT_LAYOUT_PYTORCH;
    if (!v)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                        "%s: __metadata__ has no \"cell\" (rnn_tanh, rnn_relu, lstm or gru)",
                        what);
    if (strcmp(v, "rnn_tanh") == 0) d->cell = RNNKIT_CELL_RNN_TANH;
    else if (strcmp(v, "rnn_relu") == 0) d->cell = RNNKIT_CELL_RNN_RELU;
    else if (strcmp(v, "lstm") == 0) d->cell = RNNKIT_CELL_LSTM;
    else if (strcmp(v, "gru") == 0) d->cell = RNNKIT_CELL_GRU;
    else return bad(what, "cell", v, "rnn_tanh, rnn_relu, lstm or gru (layout pytorch)");
    if ((s = get_size(what, f, "hidden_size", &d->hidden_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_size(what, f, "input_size", &d->input_size)) != RNNKIT_STATUS_OK) return s;
    if ((s = get_size(what, f, "num_layers", &d->num_layers)) != RNNKIT_STATUS_OK) return s;
    return RNNKIT_STATUS_OK;
}

/* Length of the longest common prefix of all names that ends in '.'. */
static size_t pytorch_prefix(const rk_st_file *f) {
    if (f->num_tensors == 0) return 0;
    const char *first = f->tensors[0].name;
    size_t lcp = strlen(first);
    for (size_t i = 1; i < f->num_tensors; i++) {
        const char *n = f->tensors[i].name;
        size_t j = 0;
        while (j < lcp && n[j] == first[j]) j++;
        lcp = j;
    }
    while (lcp > 0 && first[lcp - 1] != '.') lcp--;
    return lcp;
}

rnnkit_status rk_model_from_st(const rk_st_file *f, const char *what, rnnkit_model **out) {
    if (!what) what = "model";
    if (!f || !out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "%s: NULL argument", what);
    *out = NULL;
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    const char *layout = rk_st_meta_get(f, "layout");
    rnnkit_status s;
    int onnx = 0;
    if (!layout || strcmp(layout, "pytorch") == 0) {
        s = pytorch_desc(what, f, &d);
    } else if (strcmp(layout, "onnx") == 0) {
        onnx = 1;
        s = onnx_desc(what, f, &d);
    } else if (strcmp(layout, "keras") == 0) {
        onnx = 1; /* no prefix stripping: names are matched on their last component */
        s = keras_desc(what, f, &d);
    } else {
        s = bad(what, "layout", layout, "pytorch, onnx or keras");
    }
    if (s != RNNKIT_STATUS_OK) return s;
    if (f->num_tensors == 0)
        return rk_error(RNNKIT_STATUS_FORMAT_ERROR, "%s: the file has no tensors", what);

    size_t pre = onnx ? 0 : pytorch_prefix(f);
    rnnkit_tensor *ts = rk_calloc(f->num_tensors, sizeof *ts);
    if (!ts) return rk_error(RNNKIT_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    for (size_t i = 0; i < f->num_tensors; i++) {
        const rk_st_tensor *t = &f->tensors[i];
        if (t->ndim < 1 || t->ndim > 4) {
            rk_free(ts);
            return rk_error(RNNKIT_STATUS_FORMAT_ERROR,
                            "%s: tensor '%s' has %d dimensions; model tensors have 1 to 4", what,
                            t->name, t->ndim);
        }
        ts[i].name = t->name + pre;
        ts[i].data = t->data;
        ts[i].ndim = t->ndim;
        for (int k = 0; k < t->ndim; k++) ts[i].shape[k] = t->shape[k];
    }
    s = rnnkit_model_create(&d, ts, f->num_tensors, out);
    rk_free(ts);
    if (s != RNNKIT_STATUS_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", rnnkit_last_error());
        if (pre)
            rk_error(s, "%s (tensor names under prefix '%.*s'): %s", what, (int)pre,
                     f->tensors[0].name, msg);
        else
            rk_error(s, "%s: %s", what, msg);
        *out = NULL;
    }
    return s;
}

rnnkit_status rnnkit_model_load(const char *path, rnnkit_model **out) {
    rk_clear_error();
    if (!out) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_load: out is NULL");
    *out = NULL;
    if (!path) return rk_error(RNNKIT_STATUS_INVALID_ARGUMENT, "rnnkit_model_load: path is NULL");
    rk_st_file f;
    rnnkit_status s = rk_safetensors_read(path, &f);
    if (s != RNNKIT_STATUS_OK) return s;
    s = rk_model_from_st(&f, path, out);
    rk_st_file_free(&f);
    if (s == RNNKIT_STATUS_OK) rk_clear_error();
    return s;
}
