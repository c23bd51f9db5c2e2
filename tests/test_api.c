/*
 * Error paths of every public function: each bad call returns the
 * specific status of include/rnnkit.h, leaves a non-empty
 * rnnkit_last_error() (naming the tensor / giving expected vs actual
 * where the header promises it), and leaves the caller's output buffers
 * (pre-filled with a sentinel) untouched. Also version, status strings,
 * activation parsing and its ONNX defaults, the ISA and thread switches.
 */
#include "test_util.h"

#include <ctype.h>

#define SENT 12345.678f

static void expect_status(rnnkit_status got, rnnkit_status want, const char *what) {
    cr_expect_eq(got, want, "%s: status %d (%s), expected %d (%s); message: %s", what, got,
                 rnnkit_status_string(got), want, rnnkit_status_string(want), rnnkit_last_error());
    if (got != RNNKIT_STATUS_OK)
        cr_expect(rnnkit_last_error()[0] != '\0', "%s: failed without a message", what);
}

/* Case-insensitive substring. */
static int contains(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

static void expect_msg_has(const char *what, const char *needle) {
    cr_expect(contains(rnnkit_last_error(), needle), "%s: message '%s' does not mention '%s'", what,
              rnnkit_last_error(), needle);
}

static int untouched(const float *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != SENT) return 0;
    return 1;
}

static void fill_sent(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = SENT;
}

static tu_spec pt(rnnkit_cell cell, int64_t I, int64_t H, int64_t L, int bidir) {
    tu_spec s;
    memset(&s, 0, sizeof s);
    s.layout = RNNKIT_LAYOUT_PYTORCH;
    s.cell = cell;
    s.I = I;
    s.H = H;
    s.L = L;
    s.bidir = bidir;
    s.seed = 99;
    return s;
}

static tu_spec ox(rnnkit_cell cell, int64_t I, int64_t H, rnnkit_direction dir) {
    tu_spec s;
    memset(&s, 0, sizeof s);
    s.layout = RNNKIT_LAYOUT_ONNX;
    s.cell = cell;
    s.I = I;
    s.H = H;
    s.dir = dir;
    s.seed = 98;
    return s;
}

/* Creates m's model expecting `want`; *out must stay as given on failure. */
static void create_expect(const rnnkit_model_desc *d, const rnnkit_tensor *t, size_t n,
                          rnnkit_status want, const char *what) {
    rnnkit_model *sentinel = (rnnkit_model *)(uintptr_t)0x4321;
    rnnkit_model *out = sentinel;
    rnnkit_status st = rnnkit_model_create(d, t, n, &out);
    expect_status(st, want, what);
    if (st != RNNKIT_STATUS_OK)
        cr_expect(out == sentinel || out == NULL, "%s: *out = %p after failure", what, (void *)out);
    else if (out != sentinel)
        rnnkit_model_destroy(out);
}

static size_t find_tensor(const tu_model *m, const char *name) {
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->names[i], name) == 0) return i;
    cr_assert_fail("test bug: no tensor %s", name);
    return 0;
}

/* Removes tensor i from m (keeping its buffer for tu_model_free). */
static void drop_tensor(tu_model *m, rnnkit_tensor *t, size_t *n, const char *name) {
    size_t i = find_tensor(m, name), k = 0;
    for (size_t j = 0; j < m->n; j++)
        if (j != i) t[k++] = m->t[j];
    *n = k;
}

/* ------------------------------------------------------------------ */
Test(api, version_and_status_strings) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", RNNKIT_VERSION_MAJOR, RNNKIT_VERSION_MINOR,
             RNNKIT_VERSION_PATCH);
    cr_assert_not_null(rnnkit_version());
    cr_expect_str_eq(rnnkit_version(), want);
    cr_expect_str_eq(rnnkit_version(), "0.1.0");
    const char *seen[11];
    for (int s = 0; s <= 10; s++) {
        const char *str = rnnkit_status_string((rnnkit_status)s);
        cr_assert_not_null(str, "status %d: NULL string", s);
        cr_expect(str[0] != '\0', "status %d: empty string", s);
        for (int k = 0; k < s; k++)
            cr_expect(strcmp(seen[k], str) != 0, "statuses %d and %d share the string '%s'", k, s, str);
        seen[s] = str;
    }
    cr_expect_str_eq(rnnkit_status_string(RNNKIT_STATUS_OK), "ok");
    cr_assert_not_null(rnnkit_status_string((rnnkit_status)99));
    cr_assert_not_null(rnnkit_status_string((rnnkit_status)-1));
    cr_assert_not_null(rnnkit_last_error());
}

Test(api, last_error_cleared_by_success) {
    rnnkit_activation a;
    cr_assert_neq(rnnkit_activation_parse("NoSuchThing", &a), RNNKIT_STATUS_OK);
    cr_expect(rnnkit_last_error()[0] != '\0');
    cr_assert_eq(rnnkit_activation_parse("Tanh", &a), RNNKIT_STATUS_OK);
    cr_expect_str_eq(rnnkit_last_error(), "", "message '%s' survives a successful call",
                     rnnkit_last_error());
}

/* ------------------------------------------------------------------ */
typedef struct act_case {
    const char *name;
    rnnkit_activation_kind kind;
    float alpha, beta;
    int has_alpha, has_beta;
} act_case;

Test(api, activation_parse) {
    /* Defaults: LeakyRelu 0.01, ThresholdedRelu 1.0, HardSigmoid 0.2/0.5,
     * Elu 1.0, Affine 1.0/0.0, ScaledTanh 1.0/1.0 (rnnkit's choice; see
     * the report: ONNX Runtime has only the LeakyRelu, HardSigmoid and Elu
     * defaults). */
    static const act_case cases[] = {
        {"Sigmoid", RNNKIT_ACTIVATION_SIGMOID, 0, 0, 0, 0},
        {"Tanh", RNNKIT_ACTIVATION_TANH, 0, 0, 0, 0},
        {"Relu", RNNKIT_ACTIVATION_RELU, 0, 0, 0, 0},
        {"Affine", RNNKIT_ACTIVATION_AFFINE, 1.0f, 0.0f, 1, 1},
        {"LeakyRelu", RNNKIT_ACTIVATION_LEAKY_RELU, 0.01f, 0, 1, 0},
        {"ThresholdedRelu", RNNKIT_ACTIVATION_THRESHOLDED_RELU, 1.0f, 0, 1, 0},
        {"ScaledTanh", RNNKIT_ACTIVATION_SCALED_TANH, 1.0f, 1.0f, 1, 1},
        {"HardSigmoid", RNNKIT_ACTIVATION_HARD_SIGMOID, 0.2f, 0.5f, 1, 1},
        {"Elu", RNNKIT_ACTIVATION_ELU, 1.0f, 0, 1, 0},
        {"Softsign", RNNKIT_ACTIVATION_SOFTSIGN, 0, 0, 0, 0},
        {"Softplus", RNNKIT_ACTIVATION_SOFTPLUS, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char lower[32], upper[32];
        size_t n = strlen(cases[i].name);
        for (size_t k = 0; k <= n; k++) {
            lower[k] = (char)tolower((unsigned char)cases[i].name[k]);
            upper[k] = (char)toupper((unsigned char)cases[i].name[k]);
        }
        const char *spellings[3] = {cases[i].name, lower, upper};
        for (int sp = 0; sp < 3; sp++) {
            rnnkit_activation a = {(rnnkit_activation_kind)77, -9.0f, -9.0f};
            rnnkit_status st = rnnkit_activation_parse(spellings[sp], &a);
            expect_status(st, RNNKIT_STATUS_OK, spellings[sp]);
            cr_expect_eq(a.kind, cases[i].kind, "%s: kind %d, expected %d", spellings[sp], a.kind,
                         cases[i].kind);
            if (cases[i].has_alpha)
                cr_expect_float_eq(a.alpha, cases[i].alpha, 1e-7, "%s: alpha %g, expected %g",
                                   spellings[sp], (double)a.alpha, (double)cases[i].alpha);
            if (cases[i].has_beta)
                cr_expect_float_eq(a.beta, cases[i].beta, 1e-7, "%s: beta %g, expected %g",
                                   spellings[sp], (double)a.beta, (double)cases[i].beta);
        }
    }
    static const char *const bad[] = {"", "tanhh", "Tan", "relu6", "Gelu", "Tanh2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rnnkit_activation a = {(rnnkit_activation_kind)77, -9.0f, -8.0f};
        rnnkit_status st = rnnkit_activation_parse(bad[i], &a);
        char what[64];
        snprintf(what, sizeof what, "parse('%s')", bad[i]);
        expect_status(st, RNNKIT_STATUS_INVALID_ARGUMENT, what);
        cr_expect(a.kind == (rnnkit_activation_kind)77 && a.alpha == -9.0f && a.beta == -8.0f,
                  "%s: output written by a failed call", what);
    }
    rnnkit_activation a;
    expect_status(rnnkit_activation_parse(NULL, &a), RNNKIT_STATUS_INVALID_ARGUMENT, "parse(NULL)");
    expect_status(rnnkit_activation_parse("Tanh", NULL), RNNKIT_STATUS_INVALID_ARGUMENT,
                  "parse(out NULL)");
}

Test(api, desc_init_defaults) {
    rnnkit_model_desc d;
    memset(&d, 0x5a, sizeof d);
    rnnkit_model_desc_init(&d);
    cr_expect_eq(d.input_size, 0);
    cr_expect_eq(d.hidden_size, 0);
    cr_expect_eq(d.num_layers, 0);
    cr_expect_eq(d.direction, RNNKIT_DIRECTION_FORWARD);
    cr_expect_eq(d.linear_before_reset, 0);
    cr_expect_eq(d.clip, 0.0f);
    cr_expect_eq(d.input_forget, 0);
    cr_expect_eq(d.num_activations, 0);
    cr_expect_eq(d.onnx_layout, 0);
}

/* ------------------------------------------------------------------ */
Test(api, create_null_and_bad_enums) {
    tu_spec s = pt(RNNKIT_CELL_LSTM, 3, 4, 1, 0);
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_model *out = NULL;
    expect_status(rnnkit_model_create(NULL, m.t, m.n, &out), RNNKIT_STATUS_INVALID_ARGUMENT, "desc NULL");
    expect_status(rnnkit_model_create(&m.desc, NULL, m.n, &out), RNNKIT_STATUS_INVALID_ARGUMENT,
                  "tensors NULL");
    expect_status(rnnkit_model_create(&m.desc, m.t, m.n, NULL), RNNKIT_STATUS_INVALID_ARGUMENT, "out NULL");
    {
        rnnkit_status st = rnnkit_model_create(&m.desc, m.t, 0, &out);
        cr_expect(st == RNNKIT_STATUS_MISSING_TENSOR || st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "no tensors: status %d (%s)", st, rnnkit_status_string(st));
        cr_expect(rnnkit_last_error()[0] != '\0');
    }
    rnnkit_model_desc d = m.desc;
    d.cell = (rnnkit_cell)9;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "cell 9");
    d = m.desc;
    d.layout = (rnnkit_layout)7;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "layout 7");
    d = m.desc;
    d.input_size = -3;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "input_size -3");
    d = m.desc;
    d.hidden_size = -1;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "hidden_size -1");
    d = m.desc;
    d.num_layers = -2;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "num_layers -2");

    /* A tensor with NULL data or NULL name, bad ndim. */
    rnnkit_tensor t[TU_MAX_TENSORS];
    memcpy(t, m.t, m.n * sizeof t[0]);
    t[1].data = NULL;
    create_expect(&m.desc, t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "tensor data NULL");
    memcpy(t, m.t, m.n * sizeof t[0]);
    t[0].name = NULL;
    create_expect(&m.desc, t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "tensor name NULL");
    memcpy(t, m.t, m.n * sizeof t[0]);
    t[0].ndim = 0;
    {
        rnnkit_status st = rnnkit_model_create(&m.desc, t, m.n, &out);
        cr_expect(st == RNNKIT_STATUS_SHAPE_MISMATCH || st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "ndim 0: status %d (%s)", st, rnnkit_status_string(st));
    }
    t[0].ndim = 5;
    {
        rnnkit_status st = rnnkit_model_create(&m.desc, t, m.n, &out);
        cr_expect(st == RNNKIT_STATUS_SHAPE_MISMATCH || st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "ndim 5: status %d (%s)", st, rnnkit_status_string(st));
    }
    memcpy(t, m.t, m.n * sizeof t[0]);
    t[0].shape[1] = -4;
    {
        rnnkit_status st = rnnkit_model_create(&m.desc, t, m.n, &out);
        cr_expect(st == RNNKIT_STATUS_SHAPE_MISMATCH || st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "negative dim: status %d (%s)", st, rnnkit_status_string(st));
    }
    tu_model_free(&m);
}

Test(api, create_missing_and_unknown_tensors) {
    tu_spec s = pt(RNNKIT_CELL_GRU, 3, 4, 2, 1);
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_tensor t[TU_MAX_TENSORS];
    size_t n;
    static const char *const needed[] = {"weight_hh_l0", "weight_ih_l1", "weight_ih_l0_reverse",
                                         "weight_hh_l1_reverse", "bias_hh_l0", "bias_ih_l1_reverse"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        drop_tensor(&m, t, &n, needed[i]);
        char what[80];
        snprintf(what, sizeof what, "without %s", needed[i]);
        create_expect(&m.desc, t, n, RNNKIT_STATUS_MISSING_TENSOR, what);
        expect_msg_has(what, needed[i]);
    }
    /* Unknown names, with and without a prefix. */
    static const char *const unknown[] = {"foo", "weight_ih_l0x", "weight_xx_l0", "rnn.bias",
                                          "weight_ih_l0_forward", "weight_ih_lA"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        memcpy(t, m.t, m.n * sizeof t[0]);
        rnnkit_tensor extra = m.t[2];
        extra.name = unknown[i];
        t[m.n] = extra;
        char what[80];
        snprintf(what, sizeof what, "extra tensor %s", unknown[i]);
        create_expect(&m.desc, t, m.n + 1, RNNKIT_STATUS_MISSING_TENSOR, what);
        expect_msg_has(what, unknown[i]);
    }
    /* Layer gap: l0 and l2 without l1. */
    tu_spec s3 = pt(RNNKIT_CELL_RNN_TANH, 3, 4, 3, 0);
    tu_model m3;
    tu_model_make(&s3, &m3);
    n = 0;
    for (size_t j = 0; j < m3.n; j++)
        if (!strstr(m3.names[j], "_l1")) t[n++] = m3.t[j];
    create_expect(&m3.desc, t, n, RNNKIT_STATUS_MISSING_TENSOR, "layers 0 and 2 without 1");
    expect_msg_has("layers 0 and 2 without 1", "l1");
    tu_model_free(&m3);
    tu_model_free(&m);
}

Test(api, create_wrong_shapes) {
    tu_spec s = pt(RNNKIT_CELL_LSTM, 5, 6, 2, 0);
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_tensor t[TU_MAX_TENSORS];
    float *big = tu_alloc_f(4096);
    tu_fill_nan(big, 4096);
    struct {
        const char *name;
        int ndim;
        int64_t d0, d1;
        const char *actual; /* must appear in the message */
    } bad[] = {
        {"weight_hh_l0", 2, 24, 77, "77"},  /* [4H, H] expected [24,6] */
        {"weight_ih_l0", 2, 24, 71, "71"},  /* input size differs from layer 0's ... */
        {"weight_ih_l1", 2, 24, 7, "7"},    /* layer 1 must read H = 6 */
        {"bias_ih_l0", 1, 23, 0, "23"},
        {"bias_hh_l1", 2, 4, 6, "4"},       /* right count, wrong rank */
        {"weight_hh_l1", 1, 144, 0, "144"},
        {"weight_ih_l0", 2, 22, 5, "22"},   /* not a multiple of 4 gates */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(t, m.t, m.n * sizeof t[0]);
        size_t k = find_tensor(&m, bad[i].name);
        t[k].data = big;
        t[k].ndim = bad[i].ndim;
        t[k].shape[0] = bad[i].d0;
        t[k].shape[1] = bad[i].d1;
        char what[96];
        snprintf(what, sizeof what, "%s shaped [%lld,%lld]", bad[i].name, (long long)bad[i].d0,
                 (long long)bad[i].d1);
        /* weight_ih_l0 with 71 inputs is consistent on its own (I = 71)
         * unless the description pins input_size. */
        rnnkit_model_desc d = m.desc;
        if (i == 1) d.input_size = 5;
        create_expect(&d, t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, what);
        expect_msg_has(what, bad[i].name);
        expect_msg_has(what, bad[i].actual);
    }
    /* Optional checks in the description. */
    rnnkit_model_desc d = m.desc;
    d.input_size = 4;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "desc input_size 4 vs 5");
    d = m.desc;
    d.hidden_size = 7;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "desc hidden_size 7 vs 6");
    d = m.desc;
    d.num_layers = 3;
    {
        rnnkit_model *out = NULL;
        rnnkit_status st = rnnkit_model_create(&d, m.t, m.n, &out);
        cr_expect(st == RNNKIT_STATUS_SHAPE_MISMATCH || st == RNNKIT_STATUS_MISSING_TENSOR ||
                      st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "num_layers 3 with 2 layers of tensors: status %d (%s)", st, rnnkit_status_string(st));
        cr_expect(rnnkit_last_error()[0] != '\0');
    }
    d.num_layers = 1;
    {
        rnnkit_model *out = NULL;
        rnnkit_status st = rnnkit_model_create(&d, m.t, m.n, &out);
        cr_expect(st != RNNKIT_STATUS_OK, "num_layers 1 with 2 layers of tensors accepted");
        if (st == RNNKIT_STATUS_OK) rnnkit_model_destroy(out);
    }
    free(big);
    tu_model_free(&m);
}

Test(api, create_onnx_errors) {
    tu_spec s = ox(RNNKIT_CELL_LSTM, 3, 4, RNNKIT_DIRECTION_FORWARD);
    s.peep = 1;
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_tensor t[TU_MAX_TENSORS];
    size_t n;
    drop_tensor(&m, t, &n, "W");
    create_expect(&m.desc, t, n, RNNKIT_STATUS_MISSING_TENSOR, "ONNX without W");
    expect_msg_has("ONNX without W", "W");
    drop_tensor(&m, t, &n, "R");
    create_expect(&m.desc, t, n, RNNKIT_STATUS_MISSING_TENSOR, "ONNX without R");
    /* Unknown tensor. */
    memcpy(t, m.t, m.n * sizeof t[0]);
    t[m.n] = m.t[0];
    t[m.n].name = "weight_ih_l0";
    create_expect(&m.desc, t, m.n + 1, RNNKIT_STATUS_MISSING_TENSOR, "PyTorch name in an ONNX model");
    expect_msg_has("PyTorch name in an ONNX model", "weight_ih_l0");
    /* Wrong shapes. */
    float *big = tu_alloc_f(4096);
    tu_fill_nan(big, 4096);
    memcpy(t, m.t, m.n * sizeof t[0]);
    size_t k = find_tensor(&m, "R");
    t[k].data = big;
    t[k].shape[2] = 5;
    create_expect(&m.desc, t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "R [1,16,5]");
    expect_msg_has("R [1,16,5]", "R");
    memcpy(t, m.t, m.n * sizeof t[0]);
    k = find_tensor(&m, "P");
    t[k].data = big;
    t[k].shape[1] = 8;
    create_expect(&m.desc, t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "P [1,8]");
    expect_msg_has("P [1,8]", "P");
    memcpy(t, m.t, m.n * sizeof t[0]);
    k = find_tensor(&m, "B");
    t[k].data = big;
    t[k].shape[1] = 16;
    create_expect(&m.desc, t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "B [1,16]");
    /* Direction bidirectional but tensors for one direction. */
    rnnkit_model_desc d = m.desc;
    d.direction = RNNKIT_DIRECTION_BIDIRECTIONAL;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_SHAPE_MISMATCH, "bidirectional with D=1 tensors");
    /* Attributes out of range. */
    d = m.desc;
    d.num_activations = 2; /* LSTM needs 3 per direction */
    d.activations[0].kind = RNNKIT_ACTIVATION_SIGMOID;
    d.activations[1].kind = RNNKIT_ACTIVATION_TANH;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "2 activations for LSTM");
    d = m.desc;
    d.num_activations = 7;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "7 activations");
    d = m.desc;
    d.num_activations = 3;
    d.activations[0].kind = RNNKIT_ACTIVATION_SIGMOID;
    d.activations[1].kind = (rnnkit_activation_kind)42;
    d.activations[2].kind = RNNKIT_ACTIVATION_TANH;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "activation kind 42");
    d = m.desc;
    d.clip = -1.0f;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "clip -1");
    d = m.desc;
    d.clip = NAN;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "clip NaN");
    d = m.desc;
    d.onnx_layout = 2;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "onnx_layout 2");
    d = m.desc;
    d.direction = (rnnkit_direction)5;
    create_expect(&d, m.t, m.n, RNNKIT_STATUS_INVALID_ARGUMENT, "direction 5");
    /* P given for a GRU. */
    tu_spec g = ox(RNNKIT_CELL_GRU, 3, 4, RNNKIT_DIRECTION_FORWARD);
    tu_model mg;
    tu_model_make(&g, &mg);
    memcpy(t, mg.t, mg.n * sizeof t[0]);
    rnnkit_tensor p = m.t[find_tensor(&m, "P")];
    t[mg.n] = p;
    {
        rnnkit_model *out = NULL;
        rnnkit_status st = rnnkit_model_create(&mg.desc, t, mg.n + 1, &out);
        cr_expect(st == RNNKIT_STATUS_MISSING_TENSOR || st == RNNKIT_STATUS_INVALID_ARGUMENT ||
                      st == RNNKIT_STATUS_SHAPE_MISMATCH,
                  "GRU with P: status %d (%s)", st, rnnkit_status_string(st));
        if (st == RNNKIT_STATUS_OK) rnnkit_model_destroy(out);
    }
    rnnkit_model_desc dg = mg.desc;
    dg.linear_before_reset = 2;
    create_expect(&dg, mg.t, mg.n, RNNKIT_STATUS_INVALID_ARGUMENT, "linear_before_reset 2");
    tu_model_free(&mg);
    free(big);
    tu_model_free(&m);
}

Test(api, load_errors_and_null_handles) {
    rnnkit_model *out = (rnnkit_model *)(uintptr_t)0x77;
    expect_status(rnnkit_model_load(NULL, &out), RNNKIT_STATUS_INVALID_ARGUMENT, "load(NULL)");
    expect_status(rnnkit_model_load("/nonexistent/dir/model.safetensors", &out),
                  RNNKIT_STATUS_IO_ERROR, "load(missing file)");
    cr_expect(out == (rnnkit_model *)(uintptr_t)0x77 || out == NULL);
    expect_status(rnnkit_model_load("/nonexistent.safetensors", NULL), RNNKIT_STATUS_INVALID_ARGUMENT,
                  "load(out NULL)");
    rnnkit_model_destroy(NULL);
    rnnkit_stream_destroy(NULL);
    rnnkit_model_info info;
    expect_status(rnnkit_model_get_info(NULL, &info), RNNKIT_STATUS_INVALID_ARGUMENT, "get_info(NULL)");
    size_t b = 7;
    expect_status(rnnkit_workspace_size(NULL, 3, 2, &b), RNNKIT_STATUS_INVALID_ARGUMENT,
                  "workspace_size(NULL model)");
    cr_expect_eq(b, 7);
}

/* ------------------------------------------------------------------ */
/* Forward error paths                                                  */
/* ------------------------------------------------------------------ */
typedef struct fx {
    tu_model m;
    rnnkit_model *model;
    float *x, *y, *hn, *cn, *h0, *c0;
    size_t ny, nh, nc;
    int64_t T, N;
} fx;

static void fx_make(fx *f, const tu_spec *s, int64_t T, int64_t N) {
    memset(f, 0, sizeof *f);
    tu_model_make(s, &f->m);
    rnnkit_status st = rnnkit_model_create(&f->m.desc, f->m.t, f->m.n, &f->model);
    cr_assert_eq(st, RNNKIT_STATUS_OK, "create: %s", rnnkit_last_error());
    f->T = T;
    f->N = N;
    size_t nx = tu_x_len(&f->m, T, N);
    f->ny = tu_y_len(&f->m, T, N);
    f->nh = tu_h_len(&f->m, N);
    f->nc = tu_c_len(&f->m, N);
    f->x = tu_alloc_f(nx);
    tu_rng r = {5};
    tu_fill(&r, f->x, nx, 1.0f);
    f->h0 = tu_alloc_f(f->nh);
    f->c0 = tu_alloc_f(f->nc);
    tu_fill(&r, f->h0, f->nh, 1.0f);
    tu_fill(&r, f->c0, f->nc, 1.0f);
    f->y = tu_alloc_f(f->ny);
    f->hn = tu_alloc_f(f->nh);
    f->cn = tu_alloc_f(f->nc);
}

static rnnkit_forward_args fx_args(fx *f) {
    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = f->T;
    a.batch = f->N;
    a.batch_major = f->m.spec.layout == RNNKIT_LAYOUT_ONNX ? f->m.spec.onnx_layout : 0;
    a.x = f->x;
    a.h0 = f->h0;
    a.c0 = f->m.spec.cell == RNNKIT_CELL_LSTM ? f->c0 : NULL;
    a.y = f->y;
    a.hn = f->hn;
    a.cn = f->m.spec.cell == RNNKIT_CELL_LSTM ? f->cn : NULL;
    return a;
}

/* Runs a forward that must fail with `want` and write nothing. */
static void fx_fail(fx *f, const rnnkit_forward_args *a, rnnkit_status want, const char *what) {
    fill_sent(f->y, f->ny);
    fill_sent(f->hn, f->nh);
    fill_sent(f->cn, f->nc);
    rnnkit_status st = rnnkit_forward(f->model, a);
    expect_status(st, want, what);
    cr_expect(untouched(f->y, f->ny), "%s: y written by a failed call", what);
    cr_expect(untouched(f->hn, f->nh), "%s: hn written by a failed call", what);
    cr_expect(untouched(f->cn, f->nc), "%s: cn written by a failed call", what);
}

static void fx_free(fx *f) {
    rnnkit_model_destroy(f->model);
    free(f->x);
    free(f->y);
    free(f->hn);
    free(f->cn);
    free(f->h0);
    free(f->c0);
    tu_model_free(&f->m);
}

Test(api, forward_errors_pytorch) {
    tu_spec s = pt(RNNKIT_CELL_LSTM, 3, 5, 2, 1);
    fx f;
    fx_make(&f, &s, 4, 3);
    rnnkit_forward_args a = fx_args(&f);
    /* The valid call works (sanity of the fixture). */
    cr_assert_eq(rnnkit_forward(f.model, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());

    fill_sent(f.y, f.ny);
    expect_status(rnnkit_forward(NULL, &a), RNNKIT_STATUS_INVALID_ARGUMENT, "forward(NULL model)");
    cr_expect(untouched(f.y, f.ny));
    expect_status(rnnkit_forward(f.model, NULL), RNNKIT_STATUS_INVALID_ARGUMENT, "forward(NULL args)");
    rnnkit_forward_args b = a;
    b.x = NULL;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "x NULL");
    b = a;
    b.seq_len = 0;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "seq_len 0");
    b = a;
    b.seq_len = -2;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "seq_len -2");
    b = a;
    b.batch = 0;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "batch 0");
    b = a;
    b.batch = -1;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "batch -1");
    b = a;
    b.num_threads = -1;
    fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "num_threads -1");

    /* Lengths: 0 (not allowed for PyTorch), > T, negative. */
    static const int32_t l_zero[3] = {4, 0, 2}, l_big[3] = {4, 5, 2}, l_neg[3] = {-1, 4, 4};
    const int32_t *ls[3] = {l_zero, l_big, l_neg};
    static const char *const ln[3] = {"length 0 (PyTorch)", "length T+1", "length -1"};
    for (int i = 0; i < 3; i++) {
        b = a;
        b.lengths = ls[i];
        fx_fail(&f, &b, RNNKIT_STATUS_BAD_LENGTH, ln[i]);
        b.batch_major = 1;
        fx_fail(&f, &b, RNNKIT_STATUS_BAD_LENGTH, ln[i]);
    }

    /* Workspace too small. */
    size_t wsb = 0;
    cr_assert_eq(rnnkit_workspace_size(f.model, f.T, f.N, &wsb), RNNKIT_STATUS_OK);
    cr_assert(wsb > 0, "workspace_size 0");
    void *ws = malloc(wsb);
    b = a;
    b.workspace = ws;
    b.workspace_size = 64;
    fx_fail(&f, &b, RNNKIT_STATUS_WORKSPACE_TOO_SMALL, "workspace of 64 bytes");
    /* One byte short of rnnkit_workspace_size(): the header says
     * WORKSPACE_TOO_SMALL; the library checks this call's own (smaller,
     * layout-dependent) need, so accept OK too, but then nothing may go
     * wrong. */
    b.workspace_size = wsb - 1;
    {
        rnnkit_status st = rnnkit_forward(f.model, &b);
        cr_expect(st == RNNKIT_STATUS_OK || st == RNNKIT_STATUS_WORKSPACE_TOO_SMALL,
                  "workspace one byte short: status %d (%s)", st, rnnkit_status_string(st));
        if (st != RNNKIT_STATUS_OK) cr_expect(rnnkit_last_error()[0] != '\0');
    }
    b.workspace_size = 0;
    fx_fail(&f, &b, RNNKIT_STATUS_WORKSPACE_TOO_SMALL, "workspace size 0");
    /* A workspace sized for fewer steps is too small for more. */
    size_t ws_small = 0;
    cr_assert_eq(rnnkit_workspace_size(f.model, 1, 1, &ws_small), RNNKIT_STATUS_OK);
    if (ws_small < wsb) {
        b.workspace_size = ws_small;
        fx_fail(&f, &b, RNNKIT_STATUS_WORKSPACE_TOO_SMALL, "workspace for T=1,N=1");
    }
    b.workspace_size = wsb;
    cr_expect_eq(rnnkit_forward(f.model, &b), RNNKIT_STATUS_OK, "exact workspace: %s", rnnkit_last_error());
    free(ws);

    /* workspace_size errors. */
    size_t bytes = 99;
    expect_status(rnnkit_workspace_size(f.model, 0, 2, &bytes), RNNKIT_STATUS_INVALID_ARGUMENT, "ws T=0");
    expect_status(rnnkit_workspace_size(f.model, 2, 0, &bytes), RNNKIT_STATUS_INVALID_ARGUMENT, "ws N=0");
    expect_status(rnnkit_workspace_size(f.model, -1, 2, &bytes), RNNKIT_STATUS_INVALID_ARGUMENT, "ws T=-1");
    expect_status(rnnkit_workspace_size(f.model, 2, 2, NULL), RNNKIT_STATUS_INVALID_ARGUMENT, "ws bytes NULL");
    cr_expect_eq(bytes, 99, "bytes written by a failed workspace_size");
    {
        rnnkit_status st = rnnkit_workspace_size(f.model, INT64_MAX / 2, INT64_MAX / 2, &bytes);
        cr_expect(st == RNNKIT_STATUS_OUT_OF_MEMORY || st == RNNKIT_STATUS_INVALID_ARGUMENT,
                  "overflowing workspace size: status %d (%s)", st, rnnkit_status_string(st));
    }
    fx_free(&f);
}

Test(api, forward_errors_onnx) {
    tu_spec s = ox(RNNKIT_CELL_GRU, 3, 4, RNNKIT_DIRECTION_BIDIRECTIONAL);
    for (int layout = 0; layout < 2; layout++) {
        s.onnx_layout = layout;
        fx f;
        fx_make(&f, &s, 4, 3);
        rnnkit_forward_args a = fx_args(&f);
        cr_assert_eq(rnnkit_forward(f.model, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
        rnnkit_forward_args b = a;
        b.batch_major = !layout;
        fx_fail(&f, &b, RNNKIT_STATUS_INVALID_ARGUMENT, "batch_major != onnx_layout");
        static const int32_t l_ok[3] = {0, 4, 1}, l_big[3] = {0, 5, 1}, l_neg[3] = {2, -3, 1};
        b = a;
        b.lengths = l_big;
        fx_fail(&f, &b, RNNKIT_STATUS_BAD_LENGTH, "ONNX length T+1");
        b.lengths = l_neg;
        fx_fail(&f, &b, RNNKIT_STATUS_BAD_LENGTH, "ONNX length -3");
        b.lengths = l_ok;
        cr_expect_eq(rnnkit_forward(f.model, &b), RNNKIT_STATUS_OK, "ONNX lengths {0,4,1}: %s",
                     rnnkit_last_error());
        fx_free(&f);
    }
}

/* ------------------------------------------------------------------ */
Test(api, stream_errors) {
    tu_spec s = pt(RNNKIT_CELL_LSTM, 3, 4, 1, 0);
    fx f;
    fx_make(&f, &s, 3, 2);
    rnnkit_stream *st = NULL;
    expect_status(rnnkit_stream_create(NULL, 2, &st), RNNKIT_STATUS_INVALID_ARGUMENT, "stream_create(NULL)");
    expect_status(rnnkit_stream_create(f.model, 0, &st), RNNKIT_STATUS_INVALID_ARGUMENT, "stream batch 0");
    expect_status(rnnkit_stream_create(f.model, -2, &st), RNNKIT_STATUS_INVALID_ARGUMENT, "stream batch -2");
    expect_status(rnnkit_stream_create(f.model, 2, NULL), RNNKIT_STATUS_INVALID_ARGUMENT, "stream out NULL");
    cr_assert_eq(rnnkit_stream_create(f.model, 2, &st), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(rnnkit_stream_reset(st, f.h0, f.c0), RNNKIT_STATUS_OK);
    cr_assert_eq(rnnkit_stream_push(st, f.x, 1, NULL), RNNKIT_STATUS_OK);
    float h1[8], c1[8], h2[8], c2[8];
    cr_assert_eq(rnnkit_stream_get_state(st, h1, c1), RNNKIT_STATUS_OK);

    fill_sent(f.y, f.ny);
    expect_status(rnnkit_stream_push(NULL, f.x, 1, f.y), RNNKIT_STATUS_INVALID_ARGUMENT, "push(NULL stream)");
    expect_status(rnnkit_stream_push(st, NULL, 1, f.y), RNNKIT_STATUS_INVALID_ARGUMENT, "push(x NULL)");
    expect_status(rnnkit_stream_push(st, f.x, -1, f.y), RNNKIT_STATUS_INVALID_ARGUMENT, "push(-1 steps)");
    cr_expect(untouched(f.y, f.ny), "y written by a failed push");
    expect_status(rnnkit_stream_reset(NULL, NULL, NULL), RNNKIT_STATUS_INVALID_ARGUMENT, "reset(NULL)");
    fill_sent(h2, 8);
    expect_status(rnnkit_stream_get_state(NULL, h2, c2), RNNKIT_STATUS_INVALID_ARGUMENT, "get_state(NULL)");
    cr_expect(untouched(h2, 8));
    /* The failed calls did not move the state. */
    cr_assert_eq(rnnkit_stream_get_state(st, h2, c2), RNNKIT_STATUS_OK);
    cr_expect(memcmp(h1, h2, sizeof h1) == 0 && memcmp(c1, c2, sizeof c1) == 0,
              "state changed by failed calls");
    /* get_state with both NULL is allowed. */
    cr_expect_eq(rnnkit_stream_get_state(st, NULL, NULL), RNNKIT_STATUS_OK);
    rnnkit_stream_destroy(st);

    /* Bidirectional: UNSUPPORTED. */
    tu_spec sb = pt(RNNKIT_CELL_GRU, 3, 4, 1, 1);
    fx fb;
    fx_make(&fb, &sb, 3, 2);
    st = NULL;
    expect_status(rnnkit_stream_create(fb.model, 2, &st), RNNKIT_STATUS_UNSUPPORTED, "stream bidirectional");
    if (st) rnnkit_stream_destroy(st);
    fx_free(&fb);
    fx_free(&f);
}

/* ------------------------------------------------------------------ */
Test(api, isa_switch) {
    cr_expect_eq(rnnkit_isa_supported("scalar"), 1, "scalar must always be supported");
    cr_expect_eq(rnnkit_isa_supported("bogus"), 0);
    cr_expect_eq(rnnkit_isa_supported(NULL), 0);
    cr_expect_eq(rnnkit_isa_supported(""), 0);
#if defined(__x86_64__)
    cr_expect_eq(rnnkit_isa_supported("neon"), 0, "neon on x86");
#elif defined(__aarch64__)
    cr_expect_eq(rnnkit_isa_supported("avx2"), 0, "avx2 on arm64");
#endif
    cr_assert_not_null(rnnkit_cpu_features());
    const char *before = rnnkit_isa_active();
    cr_assert_not_null(before);
    char saved[32];
    snprintf(saved, sizeof saved, "%s", before);
    static const char *const bad[] = {"bogus", "", "AVX3", "scalar "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[48];
        snprintf(what, sizeof what, "isa_select('%s')", bad[i]);
        expect_status(rnnkit_isa_select(bad[i]), RNNKIT_STATUS_ISA_UNAVAILABLE, what);
        cr_expect_str_eq(rnnkit_isa_active(), saved, "%s changed the active ISA", what);
    }
#if defined(__x86_64__)
    expect_status(rnnkit_isa_select("neon"), RNNKIT_STATUS_ISA_UNAVAILABLE, "isa_select(neon) on x86");
#endif
    for (int i = 0; i < TU_NUM_ISAS; i++) {
        const char *name = tu_isa_name(i);
        if (!rnnkit_isa_supported(name)) {
            expect_status(rnnkit_isa_select(name), RNNKIT_STATUS_ISA_UNAVAILABLE, name);
            continue;
        }
        expect_status(rnnkit_isa_select(name), RNNKIT_STATUS_OK, name);
        cr_expect_str_eq(rnnkit_isa_active(), name);
    }
    expect_status(rnnkit_isa_select("auto"), RNNKIT_STATUS_OK, "auto");
    expect_status(rnnkit_isa_select(NULL), RNNKIT_STATUS_OK, "NULL");
    cr_expect(rnnkit_isa_supported(rnnkit_isa_active()), "active ISA %s not supported", rnnkit_isa_active());
}

Test(api, threads_switch) {
    expect_status(rnnkit_set_num_threads(-1), RNNKIT_STATUS_INVALID_ARGUMENT, "set_num_threads(-1)");
    expect_status(rnnkit_set_num_threads(3), RNNKIT_STATUS_OK, "set_num_threads(3)");
    cr_expect_eq(rnnkit_get_num_threads(), 3);
    expect_status(rnnkit_set_num_threads(-5), RNNKIT_STATUS_INVALID_ARGUMENT, "set_num_threads(-5)");
    cr_expect_eq(rnnkit_get_num_threads(), 3, "failed set changed the count");
    expect_status(rnnkit_set_num_threads(0), RNNKIT_STATUS_OK, "set_num_threads(0)");
    cr_expect(rnnkit_get_num_threads() >= 0);
}

/* rnnkit_buffer_alloc: 64-byte aligned; from 2 MiB up 2 MiB aligned on
 * Linux (the huge-page path); the whole size writable; an impossible size
 * gives NULL and a message; a workspace from it gives the same outputs as
 * the call's own allocation. */
Test(api, buffer_alloc) {
    const size_t sizes[4] = {0, 100, (size_t)3 << 20, ((size_t)2 << 20) + 12};
    for (int i = 0; i < 4; i++) {
        unsigned char *p = rnnkit_buffer_alloc(sizes[i]);
        cr_assert(p != NULL, "rnnkit_buffer_alloc(%zu): %s", sizes[i], rnnkit_last_error());
        cr_expect((uintptr_t)p % 64 == 0, "rnnkit_buffer_alloc(%zu) = %p: not 64-byte aligned", sizes[i],
                  (void *)p);
#ifdef __linux__
        if (sizes[i] >= ((size_t)2 << 20))
            cr_expect((uintptr_t)p % ((size_t)2 << 20) == 0, "rnnkit_buffer_alloc(%zu) = %p: not 2 MiB aligned",
                      sizes[i], (void *)p);
#endif
        memset(p, 0x5a, sizes[i]);
        if (sizes[i]) cr_expect(p[sizes[i] - 1] == 0x5a);
        rnnkit_buffer_free(p);
    }
    rnnkit_buffer_free(NULL);
    const size_t huge[2] = {SIZE_MAX, (size_t)1 << 62};
    for (int i = 0; i < 2; i++) {
        cr_expect(rnnkit_buffer_alloc(huge[i]) == NULL, "rnnkit_buffer_alloc(%zu) succeeded", huge[i]);
        expect_msg_has("rnnkit_buffer_alloc(huge)", "rnnkit_buffer_alloc");
    }

    /* A workspace of more than 2 MiB (T 200, batch 16, GRU H 64). */
    tu_spec s = pt(RNNKIT_CELL_GRU, 8, 64, 1, 0);
    tu_model tm;
    tu_model_make(&s, &tm);
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_create(&tm.desc, tm.t, tm.n, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    const int64_t T = 200, N = 16;
    size_t wsb = 0;
    cr_assert_eq(rnnkit_workspace_size(m, T, N, &wsb), RNNKIT_STATUS_OK);
    cr_assert(wsb >= ((size_t)2 << 20), "workspace of %zu bytes: the test wants >= 2 MiB", wsb);
    float *x = tu_alloc_f(tu_x_len(&tm, T, N)), *y0 = tu_alloc_f(tu_y_len(&tm, T, N)),
          *y1 = tu_alloc_f(tu_y_len(&tm, T, N));
    tu_rng r = {7};
    tu_fill(&r, x, tu_x_len(&tm, T, N), 1.0f);
    rnnkit_forward_args a = {0};
    a.seq_len = T, a.batch = N, a.x = x, a.y = y0, a.num_threads = 1;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    void *ws = rnnkit_buffer_alloc(wsb);
    cr_assert(ws != NULL);
    memset(ws, 0xff, wsb); /* NaN patterns: the call must not read them */
    a.y = y1, a.workspace = ws, a.workspace_size = wsb;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(tu_compare_exact("buffer_alloc workspace", "y", y0, y1, tu_y_len(&tm, T, N)), 0);
    rnnkit_buffer_free(ws);
    free(x), free(y0), free(y1);
    rnnkit_model_destroy(m);
    tu_model_free(&tm);
}
