/*
 * rnnkit_model_load: small models written with rk_safetensors_write,
 * loaded back and checked through rnnkit_model_get_info (and, for the
 * ONNX activation alpha/beta rules, through rnnkit_forward with weights
 * chosen so the expected output is a closed-form value). Bad metadata
 * must give a status and a message naming the file, the key and value.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "model_file.h"
#include "rnnkit.h"

static char g_dir[256];
static char g_path[400];

static void setup(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/rk_mf_XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/model.safetensors", g_dir);
}

static void teardown(void) {
    DIR *d = opendir(g_dir);
    if (!d) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(g_dir);
}

/* Deterministic small weights (fixed LCG). */
static float *weights(size_t n, unsigned seed) {
    float *w = malloc((n ? n : 1) * sizeof *w);
    unsigned s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        w[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 0.4f;
    }
    return w;
}

#define MAXT 24
typedef struct tset {
    rnnkit_tensor t[MAXT];
    char names[MAXT][64];
    float *data[MAXT];
    size_t n;
} tset;

static void add(tset *s, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2) {
    size_t i = s->n++;
    snprintf(s->names[i], sizeof s->names[i], "%s", name);
    rnnkit_tensor *t = &s->t[i];
    t->name = s->names[i];
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->shape[2] = d2;
    size_t cnt = 1;
    for (int k = 0; k < ndim; k++) cnt *= (size_t)t->shape[k];
    s->data[i] = weights(cnt, (unsigned)i + 7);
    t->data = s->data[i];
}

static void tset_free(tset *s) {
    for (size_t i = 0; i < s->n; i++) free(s->data[i]);
    s->n = 0;
}

static void write_model(tset *s, size_t nm, const char *const *keys, const char *const *vals) {
    cr_assert_eq(rk_safetensors_write(g_path, s->n, s->t, nm, keys, vals), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
}

/* PyTorch LSTM, 2 layers, bidirectional, proj 2, under "model.lstm.". */
static void pytorch_lstm(tset *s, const char *prefix) {
    const int64_t I = 3, H = 4, P = 2;
    char n[64];
    for (int l = 0; l < 2; l++) {
        for (int r = 0; r < 2; r++) {
            const char *sfx = r ? "_reverse" : "";
            int64_t in = l == 0 ? I : 2 * P;
            snprintf(n, sizeof n, "%sweight_ih_l%d%s", prefix, l, sfx);
            add(s, n, 2, 4 * H, in, 0);
            snprintf(n, sizeof n, "%sweight_hh_l%d%s", prefix, l, sfx);
            add(s, n, 2, 4 * H, P, 0);
            snprintf(n, sizeof n, "%sbias_ih_l%d%s", prefix, l, sfx);
            add(s, n, 1, 4 * H, 0, 0);
            snprintf(n, sizeof n, "%sbias_hh_l%d%s", prefix, l, sfx);
            add(s, n, 1, 4 * H, 0, 0);
            snprintf(n, sizeof n, "%sweight_hr_l%d%s", prefix, l, sfx);
            add(s, n, 2, P, H, 0);
        }
    }
}

Test(model_file, pytorch_lstm_with_prefix, .init = setup, .fini = teardown) {
    tset s = {0};
    pytorch_lstm(&s, "model.lstm.");
    const char *k[] = {"cell", "format"};
    const char *v[] = {"lstm", "pt"};
    write_model(&s, 2, k, v);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_str_eq(rnnkit_last_error(), "");
    rnnkit_model_info info;
    cr_assert_eq(rnnkit_model_get_info(m, &info), RNNKIT_STATUS_OK);
    cr_expect_eq(info.layout, RNNKIT_LAYOUT_PYTORCH);
    cr_expect_eq(info.cell, RNNKIT_CELL_LSTM);
    cr_expect_eq(info.input_size, 3);
    cr_expect_eq(info.hidden_size, 4);
    cr_expect_eq(info.proj_size, 2);
    cr_expect_eq(info.output_size, 2);
    cr_expect_eq(info.num_layers, 2);
    cr_expect_eq(info.num_directions, 2);
    cr_expect_eq(info.has_bias, 1);
    rnnkit_model_destroy(m);
    tset_free(&s);
}

Test(model_file, pytorch_gru_no_prefix_no_bias, .init = setup, .fini = teardown) {
    tset s = {0};
    add(&s, "weight_ih_l0", 2, 15, 2, 0);
    add(&s, "weight_hh_l0", 2, 15, 5, 0);
    const char *k[] = {"layout", "cell", "hidden_size", "input_size", "num_layers"};
    const char *v[] = {"pytorch", "gru", "5", "2", "1"};
    write_model(&s, 5, k, v);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.cell, RNNKIT_CELL_GRU);
    cr_expect_eq(info.hidden_size, 5);
    cr_expect_eq(info.input_size, 2);
    cr_expect_eq(info.has_bias, 0);
    cr_expect_eq(info.num_directions, 1);
    rnnkit_model_destroy(m);
    tset_free(&s);
}

Test(model_file, pytorch_rnn_relu_single_tensor_prefix, .init = setup, .fini = teardown) {
    /* Names "rnn.weight_ih_l0"/"rnn.weight_hh_l0": the common prefix is
     * "rnn.weight_" but only the part ending at '.' is stripped. */
    tset s = {0};
    add(&s, "rnn.weight_ih_l0", 2, 6, 4, 0);
    add(&s, "rnn.weight_hh_l0", 2, 6, 6, 0);
    const char *k[] = {"cell"};
    const char *v[] = {"rnn_relu"};
    write_model(&s, 1, k, v);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.cell, RNNKIT_CELL_RNN_RELU);
    cr_expect_eq(info.hidden_size, 6);
    cr_expect_eq(info.input_size, 4);
    rnnkit_model_destroy(m);
    tset_free(&s);
}

Test(model_file, onnx_lstm_attributes, .init = setup, .fini = teardown) {
    const int64_t D = 2, H = 3, I = 5;
    tset s = {0};
    add(&s, "W", 3, D, 4 * H, I);
    add(&s, "R", 3, D, 4 * H, H);
    add(&s, "B", 2, D, 8 * H, 0);
    add(&s, "P", 2, D, 3 * H, 0);
    const char *k[] = {"layout",      "cell",         "direction",   "clip",        "input_forget",
                       "activations", "onnx_layout",  "hidden_size", "activation_alpha"};
    const char *v[] = {"onnx",
                       "lstm",
                       "bidirectional",
                       "2.5",
                       "1",
                       "Sigmoid,Tanh,Tanh,HardSigmoid, leakyrelu ,Tanh",
                       "1",
                       "3",
                       "0.3, 0.05"};
    write_model(&s, 9, k, v);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.layout, RNNKIT_LAYOUT_ONNX);
    cr_expect_eq(info.cell, RNNKIT_CELL_LSTM);
    cr_expect_eq(info.direction, RNNKIT_DIRECTION_BIDIRECTIONAL);
    cr_expect_eq(info.num_directions, 2);
    cr_expect_eq(info.hidden_size, 3);
    cr_expect_eq(info.input_size, 5);
    cr_expect_eq(info.has_peepholes, 1);
    cr_expect_eq(info.has_bias, 1);
    cr_expect_eq(info.input_forget, 1);
    cr_expect_eq(info.clip, 2.5f);
    cr_expect_eq(info.onnx_layout, 1);
    rnnkit_model_destroy(m);
    tset_free(&s);
}

Test(model_file, onnx_gru_linear_before_reset_reverse, .init = setup, .fini = teardown) {
    tset s = {0};
    add(&s, "W", 3, 1, 9, 2);
    add(&s, "R", 3, 1, 9, 3);
    const char *k[] = {"layout", "cell", "direction", "linear_before_reset"};
    const char *v[] = {"onnx", "gru", "reverse", "1"};
    write_model(&s, 4, k, v);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.cell, RNNKIT_CELL_GRU);
    cr_expect_eq(info.direction, RNNKIT_DIRECTION_REVERSE);
    cr_expect_eq(info.linear_before_reset, 1);
    cr_expect_eq(info.has_bias, 0);
    rnnkit_model_destroy(m);
    tset_free(&s);
}

/* ONNX RNN with W = R = 0 and bias Wb = -1, Rb = 0: every step's
 * pre-activation is -1, so y = f(-1) per direction; the expected values
 * are the closed forms with the alphas/betas ONNX Runtime would assign. */
static void run_const_rnn(const char *acts, const char *alpha, const char *beta, double want_f,
                          double want_r) {
    const int64_t H = 2, I = 3, T = 2, N = 1;
    float W[2 * 2 * 3] = {0}, R[2 * 2 * 2] = {0}, B[2 * 4];
    for (int d = 0; d < 2; d++)
        for (int j = 0; j < 4; j++) B[d * 4 + j] = j < 2 ? -1.0f : 0.0f;
    rnnkit_tensor t[3] = {
        {"W", W, 3, {2, H, I}}, {"R", R, 3, {2, H, H}}, {"B", B, 2, {2, 2 * H}}};
    const char *k[6] = {"layout", "cell", "direction", "activations", "activation_alpha",
                        "activation_beta"};
    const char *v[6] = {"onnx", "rnn", "bidirectional", acts, alpha ? alpha : "", beta ? beta : ""};
    cr_assert_eq(rk_safetensors_write(g_path, 3, t, 6, k, v), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK, "%s: %s", acts,
                 rnnkit_last_error());
    float x[2 * 3] = {0.5f, -1.0f, 2.0f, 0.25f, 0.0f, -3.0f};
    float y[2 * 2 * 1 * 2];
    for (int i = 0; i < 8; i++) y[i] = NAN;
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T;
    a.batch = N;
    a.x = x;
    a.y = y;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    /* y [T, D, N, H] */
    for (int tt = 0; tt < T; tt++)
        for (int d = 0; d < 2; d++)
            for (int h = 0; h < H; h++) {
                double want = d ? want_r : want_f, got = y[((tt * 2 + d) * N) * H + h];
                cr_expect(fabs(got - want) <= 1e-5 * fmax(1.0, fabs(want)),
                          "%s alpha=[%s] beta=[%s]: y[t=%d,d=%d,h=%d] = %.8g, want %.8g", acts,
                          alpha, beta, tt, d, h, got, want);
            }
    rnnkit_model_destroy(m);
}

Test(model_file, onnx_alpha_beta_consumed_in_order, .init = setup, .fini = teardown) {
    /* LeakyRelu takes alpha 0.3; Affine takes alpha 2 and beta 0.7. */
    run_const_rnn("LeakyRelu,Affine", "0.3,2", "0.7", -0.3, -2.0 + 0.7);
    /* Relu takes nothing, so ThresholdedRelu takes the first alpha (-2):
     * -1 > -2, so it passes x through. */
    run_const_rnn("Relu,ThresholdedRelu", "-2", NULL, 0.0, -1.0);
    /* ScaledTanh takes alpha 0.8 and beta 1.3; Elu finds the alpha list
     * exhausted and keeps its default 1.0. */
    run_const_rnn("ScaledTanh,Elu", "0.8", "1.3", 0.8 * tanh(-1.3), exp(-1.0) - 1.0);
    /* HardSigmoid takes alpha 0.1 / beta 0.9; Softsign nothing. */
    run_const_rnn("HardSigmoid,Softsign", "0.1,5", "0.9,5", 0.8, -0.5);
    /* No values at all: HardSigmoid keeps 0.2 / 0.5, LeakyRelu 0.01. */
    run_const_rnn("HardSigmoid,LeakyRelu", NULL, NULL, 0.3, -0.01);
}

/* ---------------- bad metadata ---------------- */

static void expect_bad(size_t nm, const char *const *k, const char *const *v, const char *n1,
                       const char *n2, int onnx) {
    tset s = {0};
    if (onnx) {
        add(&s, "W", 3, 1, 4, 2);
        add(&s, "R", 3, 1, 4, 4);
    } else {
        add(&s, "weight_ih_l0", 2, 4, 2, 0);
        add(&s, "weight_hh_l0", 2, 4, 4, 0);
    }
    write_model(&s, nm, k, v);
    tset_free(&s);
    rnnkit_model *m = (rnnkit_model *)(uintptr_t)1;
    rnnkit_status st = rnnkit_model_load(g_path, &m);
    cr_expect_neq(st, RNNKIT_STATUS_OK, "expected failure for %s=%s", n1, n2 ? n2 : "");
    cr_expect_null(m, "output not NULL on failure");
    const char *msg = rnnkit_last_error();
    cr_expect(strstr(msg, g_path) != NULL, "message does not name the file: %s", msg);
    cr_expect(strstr(msg, n1) != NULL, "message lacks '%s': %s", n1, msg);
    if (n2) cr_expect(strstr(msg, n2) != NULL, "message lacks '%s': %s", n2, msg);
}

Test(model_file, bad_metadata, .init = setup, .fini = teardown) {
    {
        const char *k[] = {"format"}, *v[] = {"pt"};
        expect_bad(1, k, v, "cell", NULL, 0);
    }
    {
        const char *k[] = {"cell"}, *v[] = {"lstmx"};
        expect_bad(1, k, v, "cell", "lstmx", 0);
    }
    {
        const char *k[] = {"cell", "layout"}, *v[] = {"lstm", "tensorflow"};
        expect_bad(2, k, v, "layout", "tensorflow", 0);
    }
    {
        const char *k[] = {"cell", "hidden_size"}, *v[] = {"rnn_tanh", "12abc"};
        expect_bad(2, k, v, "hidden_size", "12abc", 0);
    }
    {
        const char *k[] = {"cell", "hidden_size"}, *v[] = {"rnn_tanh", "0"};
        expect_bad(2, k, v, "hidden_size", NULL, 0);
    }
    {
        const char *k[] = {"cell", "hidden_size"}, *v[] = {"rnn_tanh", "7"}; /* tensors say 4 */
        expect_bad(2, k, v, "hidden_size", NULL, 0);
    }
    {
        const char *k[] = {"cell"}, *v[] = {"rnn_tanh"}; /* onnx tensor names in pytorch layout */
        tset s = {0};
        add(&s, "W", 3, 1, 4, 2);
        write_model(&s, 1, k, v);
        tset_free(&s);
        rnnkit_model *m = NULL;
        cr_expect_neq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK);
        cr_expect(strstr(rnnkit_last_error(), "'W'") != NULL, "%s", rnnkit_last_error());
    }
    {
        const char *k[] = {"layout", "cell"}, *v[] = {"onnx", "rnn_tanh"};
        expect_bad(2, k, v, "cell", "rnn_tanh", 1);
    }
    {
        const char *k[] = {"layout"}, *v[] = {"onnx"};
        expect_bad(1, k, v, "cell", NULL, 1);
    }
    {
        const char *k[] = {"layout", "cell", "direction"}, *v[] = {"onnx", "rnn", "sideways"};
        expect_bad(3, k, v, "direction", "sideways", 1);
    }
    {
        const char *k[] = {"layout", "cell", "linear_before_reset"}, *v[] = {"onnx", "rnn", "2"};
        expect_bad(3, k, v, "linear_before_reset", "2", 1);
    }
    {
        const char *k[] = {"layout", "cell", "clip"}, *v[] = {"onnx", "rnn", "-1"};
        expect_bad(3, k, v, "clip", "-1", 1);
    }
    {
        const char *k[] = {"layout", "cell", "clip"}, *v[] = {"onnx", "rnn", "nan"};
        expect_bad(3, k, v, "clip", "nan", 1);
    }
    {
        const char *k[] = {"layout", "cell", "clip"}, *v[] = {"onnx", "rnn", "1.5x"};
        expect_bad(3, k, v, "clip", "1.5x", 1);
    }
    {
        const char *k[] = {"layout", "cell", "input_forget"}, *v[] = {"onnx", "rnn", "yes"};
        expect_bad(3, k, v, "input_forget", "yes", 1);
    }
    {
        const char *k[] = {"layout", "cell", "onnx_layout"}, *v[] = {"onnx", "rnn", "-0x1"};
        expect_bad(3, k, v, "onnx_layout", "-0x1", 1);
    }
    {
        const char *k[] = {"layout", "cell", "activations"}, *v[] = {"onnx", "rnn", "Tanh,,Relu"};
        expect_bad(3, k, v, "activations", "Tanh,,Relu", 1);
    }
    {
        const char *k[] = {"layout", "cell", "activations"}, *v[] = {"onnx", "rnn", "Swish"};
        expect_bad(3, k, v, "activations", "Swish", 1);
    }
    {
        const char *k[] = {"layout", "cell", "activations"},
                   *v[] = {"onnx", "rnn", "Tanh,Tanh,Tanh,Tanh,Tanh,Tanh,Tanh"};
        expect_bad(3, k, v, "activations", NULL, 1);
    }
    {
        const char *k[] = {"layout", "cell", "activations", "activation_alpha"},
                   *v[] = {"onnx", "rnn", "LeakyRelu", "0.1,abc"};
        expect_bad(4, k, v, "activation_alpha", "0.1,abc", 1);
    }
    {
        const char *k[] = {"layout", "cell", "activations", "activation_beta"},
                   *v[] = {"onnx", "rnn", "Affine", "1e99"};
        expect_bad(4, k, v, "activation_beta", "1e99", 1);
    }
    {
        const char *k[] = {"layout", "cell", "activation_alpha"}, *v[] = {"onnx", "rnn", "0.5"};
        expect_bad(3, k, v, "activation_alpha", NULL, 1);
    }
}

Test(model_file, bad_tensors_and_files, .init = setup, .fini = teardown) {
    rnnkit_model *m = NULL;
    /* names under different prefixes: nothing common is stripped */
    tset s = {0};
    add(&s, "a.weight_ih_l0", 2, 4, 2, 0);
    add(&s, "b.weight_hh_l0", 2, 4, 4, 0);
    const char *k[] = {"cell"}, *v[] = {"rnn_tanh"};
    write_model(&s, 1, k, v);
    tset_free(&s);
    cr_expect_neq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK);
    cr_expect_null(m);
    cr_expect(strstr(rnnkit_last_error(), "weight_") != NULL, "%s", rnnkit_last_error());
    /* 0-d tensor */
    add(&s, "weight_ih_l0", 0, 0, 0, 0);
    write_model(&s, 1, k, v);
    tset_free(&s);
    cr_expect_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_FORMAT_ERROR);
    cr_expect(strstr(rnnkit_last_error(), "weight_ih_l0") != NULL, "%s", rnnkit_last_error());
    /* no tensors */
    write_model(&s, 1, k, v);
    cr_expect_neq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_OK);
    cr_expect_gt(strlen(rnnkit_last_error()), 0);
    /* missing file, garbage file, NULL arguments */
    char p[500];
    snprintf(p, sizeof p, "%s/none.safetensors", g_dir);
    cr_expect_eq(rnnkit_model_load(p, &m), RNNKIT_STATUS_IO_ERROR);
    cr_expect(strstr(rnnkit_last_error(), "none.safetensors") != NULL, "%s", rnnkit_last_error());
    FILE *f = fopen(g_path, "wb");
    fputs("this is not a safetensors file at all", f);
    fclose(f);
    cr_expect_eq(rnnkit_model_load(g_path, &m), RNNKIT_STATUS_FORMAT_ERROR);
    cr_expect_gt(strlen(rnnkit_last_error()), 0);
    cr_expect_eq(rnnkit_model_load(NULL, &m), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(rnnkit_model_load(g_path, NULL), RNNKIT_STATUS_INVALID_ARGUMENT);
}

Test(model_file, from_parsed_file_in_memory) {
    /* rk_model_from_st (the fuzz target's entry) on a parsed buffer. */
    const char *json = "{\"__metadata__\":{\"cell\":\"rnn_tanh\"},"
                       "\"weight_ih_l0\":{\"dtype\":\"F16\",\"shape\":[1,1],\"data_offsets\":[0,2]},"
                       "\"weight_hh_l0\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[2,4]}}";
    size_t hl = strlen(json);
    unsigned char buf[512];
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, json, hl);
    memcpy(buf + 8 + hl, "\x00\x3c\x80\x3f", 4); /* 1.0 in F16 and BF16 */
    rk_st_file f;
    cr_assert_eq(rk_safetensors_parse(buf, 8 + hl + 4, "mem", &f), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    rnnkit_model *m = NULL;
    cr_assert_eq(rk_model_from_st(&f, "mem", &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info info;
    rnnkit_model_get_info(m, &info);
    cr_expect_eq(info.hidden_size, 1);
    cr_expect_eq(info.cell, RNNKIT_CELL_RNN_TANH);
    rnnkit_model_destroy(m);
    rk_st_file_free(&f);
}
