/*
 * ONNX-layout models (RNN / LSTM / GRU opset 14) against the float64
 * reference tests/ref64.c: every cell, both GRU reset variants, forward /
 * reverse / bidirectional, all 11 activations with non-default alpha/beta
 * in every position, clip, peepholes, input_forget, sequence_lens
 * including 0, layout 0 and 1, with and without B. Each case runs on
 * every ISA this CPU supports, with 1, 2 and 3 threads and with and
 * without a caller workspace (tu_check_forward in test_util.h).
 */
#include "test_util.h"

static tu_spec ox_spec(rnnkit_cell cell, int64_t I, int64_t H, uint64_t seed) {
    tu_spec s;
    memset(&s, 0, sizeof s);
    s.layout = RNNKIT_LAYOUT_ONNX;
    s.cell = cell;
    s.I = I;
    s.H = H;
    s.dir = RNNKIT_DIRECTION_FORWARD;
    s.seed = seed;
    return s;
}

static void run(const tu_spec *s, const tu_case *c, const char *label) {
    tu_model m;
    tu_model_make(s, &m);
    double e = tu_check_forward(&m, c, label);
    cr_log_info("%s: max abs error %.3g", label, e);
    tu_model_free(&m);
}

/* The three cell flavours plus GRU's second reset variant. */
typedef struct flavour {
    rnnkit_cell cell;
    int lbr;
    const char *name;
} flavour;
static const flavour flavours[4] = {{RNNKIT_CELL_RNN_TANH, 0, "rnn"},
                                    {RNNKIT_CELL_LSTM, 0, "lstm"},
                                    {RNNKIT_CELL_GRU, 0, "gru lbr=0"},
                                    {RNNKIT_CELL_GRU, 1, "gru lbr=1"}};

static const char *dir_name(rnnkit_direction d) {
    return d == RNNKIT_DIRECTION_FORWARD ? "forward" : d == RNNKIT_DIRECTION_REVERSE ? "reverse"
                                                                                      : "bidirectional";
}

Test(onnx_cells, sizes) {
    static const int64_t pairs[][2] = {{1, 1}, {3, 8}, {17, 33}, {33, 17}, {64, 64}, {8, 1}};
    const int np = (int)(sizeof pairs / sizeof pairs[0]);
    for (int fi = 0; fi < 4; fi++)
        for (int p = 0; p < np; p++) {
            tu_spec s = ox_spec(flavours[fi].cell, pairs[p][0], pairs[p][1], (uint64_t)(10 + fi * 17 + p));
            s.lbr = flavours[fi].lbr;
            tu_case c = {.T = 4, .N = (p % 2) ? 1 : 3, .h0 = p % 2, .c0 = 1, .seed = (uint64_t)p};
            char lab[128];
            snprintf(lab, sizeof lab, "%s I=%lld H=%lld N=%lld", flavours[fi].name,
                     (long long)s.I, (long long)s.H, (long long)c.N);
            run(&s, &c, lab);
        }
}

Test(onnx_cells, directions_and_lengths) {
    static const int32_t lens[5] = {4, 0, 1, 3, 4}; /* includes 0, 1 and T */
    static const int32_t zeros[2] = {0, 0};
    static const rnnkit_direction dirs[3] = {RNNKIT_DIRECTION_FORWARD, RNNKIT_DIRECTION_REVERSE,
                                             RNNKIT_DIRECTION_BIDIRECTIONAL};
    for (int fi = 0; fi < 4; fi++)
        for (int di = 0; di < 3; di++) {
            tu_spec s = ox_spec(flavours[fi].cell, 5, 7, (uint64_t)(100 + fi * 3 + di));
            s.lbr = flavours[fi].lbr;
            s.dir = dirs[di];
            char lab[160];
            tu_case c = {.T = 4, .N = 5, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 70};
            snprintf(lab, sizeof lab, "%s %s lengths {4,0,1,3,4}", flavours[fi].name, dir_name(dirs[di]));
            run(&s, &c, lab);
            tu_case c0 = {.T = 3, .N = 2, .lengths = zeros, .h0 = 1, .c0 = 1, .seed = 71};
            snprintf(lab, sizeof lab, "%s %s all lengths 0", flavours[fi].name, dir_name(dirs[di]));
            run(&s, &c0, lab);
            tu_case c1 = {.T = 1, .N = 2, .seed = 72};
            snprintf(lab, sizeof lab, "%s %s T=1", flavours[fi].name, dir_name(dirs[di]));
            run(&s, &c1, lab);
        }
}

/* Every activation with non-default alpha/beta. */
static rnnkit_activation act_of(int kind) {
    rnnkit_activation a = {(rnnkit_activation_kind)kind, 0.0f, 0.0f};
    switch (kind) {
    case RNNKIT_ACTIVATION_AFFINE: a.alpha = 0.7f; a.beta = 0.2f; break;
    case RNNKIT_ACTIVATION_LEAKY_RELU: a.alpha = 0.2f; break;
    case RNNKIT_ACTIVATION_THRESHOLDED_RELU: a.alpha = 0.3f; break;
    case RNNKIT_ACTIVATION_SCALED_TANH: a.alpha = 1.5f; a.beta = 0.7f; break;
    case RNNKIT_ACTIVATION_HARD_SIGMOID: a.alpha = 0.3f; a.beta = 0.4f; break;
    case RNNKIT_ACTIVATION_ELU: a.alpha = 0.8f; break;
    default: break;
    }
    return a;
}

static const char *const act_names[11] = {"Sigmoid", "Tanh", "Relu", "Affine", "LeakyRelu",
                                          "ThresholdedRelu", "ScaledTanh", "HardSigmoid",
                                          "Elu", "Softsign", "Softplus"};

static rnnkit_activation std_act(int pos, rnnkit_cell cell) {
    rnnkit_activation a = {RNNKIT_ACTIVATION_TANH, 0.0f, 0.0f};
    if (cell != RNNKIT_CELL_RNN_TANH && pos == 0) a.kind = RNNKIT_ACTIVATION_SIGMOID;
    return a;
}

Test(onnx_cells, activations) {
    static const int32_t lens[3] = {4, 2, 3};
    for (int fi = 0; fi < 4; fi++) {
        const rnnkit_cell cell = flavours[fi].cell;
        const int nact = cell == RNNKIT_CELL_LSTM ? 3 : cell == RNNKIT_CELL_GRU ? 2 : 1;
        for (int kind = 0; kind < 11; kind++)
            for (int pos = 0; pos < nact; pos++) {
                tu_spec s = ox_spec(cell, 3, 5, (uint64_t)(1000 + fi * 100 + kind * 5 + pos));
                s.lbr = flavours[fi].lbr;
                s.num_acts = nact;
                for (int q = 0; q < nact; q++) s.acts[q] = q == pos ? act_of(kind) : std_act(q, cell);
                tu_case c = {.T = 4, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 80,
                             .threads_check = -1};
                char lab[160];
                snprintf(lab, sizeof lab, "%s activation[%d] = %s", flavours[fi].name, pos,
                         act_names[kind]);
                run(&s, &c, lab);
                /* Bidirectional: the forward direction standard, the reverse
                 * one with this activation in this position. */
                s.dir = RNNKIT_DIRECTION_BIDIRECTIONAL;
                s.num_acts = 2 * nact;
                for (int q = 0; q < nact; q++) {
                    s.acts[q] = std_act(q, cell);
                    s.acts[nact + q] = q == pos ? act_of(kind) : std_act(q, cell);
                }
                snprintf(lab, sizeof lab, "%s bidirectional reverse activation[%d] = %s",
                         flavours[fi].name, pos, act_names[kind]);
                run(&s, &c, lab);
            }
    }
}

/* All positions non-standard at once, different per direction, with the
 * threads/workspace checks on. */
Test(onnx_cells, activations_mixed) {
    static const int32_t lens[2] = {5, 3};
    for (int fi = 0; fi < 4; fi++) {
        const rnnkit_cell cell = flavours[fi].cell;
        const int nact = cell == RNNKIT_CELL_LSTM ? 3 : cell == RNNKIT_CELL_GRU ? 2 : 1;
        tu_spec s = ox_spec(cell, 4, 6, (uint64_t)(2000 + fi));
        s.lbr = flavours[fi].lbr;
        s.dir = RNNKIT_DIRECTION_BIDIRECTIONAL;
        s.num_acts = 2 * nact;
        static const int fw[3] = {RNNKIT_ACTIVATION_HARD_SIGMOID, RNNKIT_ACTIVATION_SOFTSIGN,
                                  RNNKIT_ACTIVATION_SCALED_TANH};
        static const int bw[3] = {RNNKIT_ACTIVATION_LEAKY_RELU, RNNKIT_ACTIVATION_ELU,
                                  RNNKIT_ACTIVATION_AFFINE};
        for (int q = 0; q < nact; q++) {
            s.acts[q] = act_of(fw[q]);
            s.acts[nact + q] = act_of(bw[q]);
        }
        s.clip = 0.9f;
        tu_case c = {.T = 5, .N = 2, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 81};
        char lab[128];
        snprintf(lab, sizeof lab, "%s mixed activations per direction + clip", flavours[fi].name);
        run(&s, &c, lab);
    }
}

Test(onnx_cells, clip) {
    static const int32_t lens[3] = {5, 1, 4};
    for (int fi = 0; fi < 4; fi++)
        for (int bi = 0; bi < 2; bi++) {
            tu_spec s = ox_spec(flavours[fi].cell, 6, 9, (uint64_t)(3000 + fi * 2 + bi));
            s.lbr = flavours[fi].lbr;
            s.clip = 0.5f;
            s.dir = bi ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
            tu_case c = {.T = 5, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 90};
            char lab[128];
            snprintf(lab, sizeof lab, "%s clip 0.5 %s", flavours[fi].name, dir_name(s.dir));
            run(&s, &c, lab);
        }
    /* Clip with peepholes (clip after the peephole terms) and a very
     * small clip so that nearly everything saturates. */
    tu_spec s = ox_spec(RNNKIT_CELL_LSTM, 5, 8, 3100);
    s.peep = 1;
    s.clip = 0.5f;
    tu_case c = {.T = 5, .N = 2, .h0 = 1, .c0 = 1, .seed = 91};
    run(&s, &c, "lstm clip 0.5 peepholes");
    s.clip = 0.05f;
    run(&s, &c, "lstm clip 0.05 peepholes");
}

Test(onnx_cells, peepholes) {
    static const int32_t lens[3] = {2, 5, 0};
    static const rnnkit_direction dirs[3] = {RNNKIT_DIRECTION_FORWARD, RNNKIT_DIRECTION_REVERSE,
                                             RNNKIT_DIRECTION_BIDIRECTIONAL};
    for (int di = 0; di < 3; di++) {
        tu_spec s = ox_spec(RNNKIT_CELL_LSTM, 4, 7, (uint64_t)(4000 + di));
        s.peep = 1;
        s.dir = dirs[di];
        tu_case c = {.T = 5, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 100};
        char lab[128];
        snprintf(lab, sizeof lab, "lstm peepholes %s", dir_name(dirs[di]));
        run(&s, &c, lab);
    }
    tu_spec s = ox_spec(RNNKIT_CELL_LSTM, 17, 33, 4010);
    s.peep = 1;
    tu_case c = {.T = 3, .N = 2, .c0 = 1, .seed = 101};
    run(&s, &c, "lstm peepholes I=17 H=33");
}

Test(onnx_cells, input_forget) {
    for (int v = 0; v < 4; v++) {
        tu_spec s = ox_spec(RNNKIT_CELL_LSTM, 5, 6, (uint64_t)(5000 + v));
        s.input_forget = 1;
        s.peep = v & 1;
        s.clip = (v & 2) ? 0.5f : 0.0f;
        s.dir = (v & 2) ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
        tu_case c = {.T = 4, .N = 2, .h0 = 1, .c0 = 1, .seed = 110};
        char lab[128];
        snprintf(lab, sizeof lab, "lstm input_forget peep=%d clip=%g %s", s.peep, (double)s.clip,
                 dir_name(s.dir));
        run(&s, &c, lab);
    }
}

Test(onnx_cells, no_bias) {
    for (int fi = 0; fi < 4; fi++) {
        tu_spec s = ox_spec(flavours[fi].cell, 4, 5, (uint64_t)(6000 + fi));
        s.lbr = flavours[fi].lbr;
        s.no_bias = 1;
        s.dir = RNNKIT_DIRECTION_BIDIRECTIONAL;
        tu_case c = {.T = 3, .N = 2, .h0 = 1, .seed = 120};
        char lab[128];
        snprintf(lab, sizeof lab, "%s without B", flavours[fi].name);
        run(&s, &c, lab);
    }
}

Test(onnx_cells, layout_1) {
    static const int32_t lens[4] = {3, 0, 5, 1};
    static const rnnkit_direction dirs[3] = {RNNKIT_DIRECTION_FORWARD, RNNKIT_DIRECTION_REVERSE,
                                             RNNKIT_DIRECTION_BIDIRECTIONAL};
    for (int fi = 0; fi < 4; fi++)
        for (int di = 0; di < 3; di++) {
            tu_spec s = ox_spec(flavours[fi].cell, 6, 5, (uint64_t)(7000 + fi * 3 + di));
            s.lbr = flavours[fi].lbr;
            s.onnx_layout = 1;
            s.dir = dirs[di];
            s.peep = flavours[fi].cell == RNNKIT_CELL_LSTM;
            tu_case c = {.T = 5, .N = 4, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 130};
            char lab[128];
            snprintf(lab, sizeof lab, "%s layout=1 %s", flavours[fi].name, dir_name(dirs[di]));
            run(&s, &c, lab);
        }
}

/* ONNX RNN with the standard Relu activation given explicitly. */
Test(onnx_cells, rnn_relu_attribute) {
    tu_spec s = ox_spec(RNNKIT_CELL_RNN_TANH, 5, 8, 8000);
    s.num_acts = 1;
    s.acts[0] = act_of(RNNKIT_ACTIVATION_RELU);
    tu_case c = {.T = 4, .N = 2, .h0 = 1, .seed = 140};
    run(&s, &c, "rnn activations=[Relu]");
}
