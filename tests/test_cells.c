/*
 * PyTorch-layout models (torch.nn.RNN/LSTM/GRU) against the float64
 * reference tests/ref64.c: every cell, odd and even sizes, batch 1 and
 * more, T = 1, variable lengths, bidirectional, several layers,
 * projection, no bias, initial states, batch-major I/O, name prefixes,
 * optional outputs. Each case runs on every ISA this CPU supports, with
 * 1, 2 and 3 threads and with and without a caller workspace (see
 * tu_check_forward in test_util.h).
 */
#include "test_util.h"

static const rnnkit_cell all_cells[4] = {RNNKIT_CELL_RNN_TANH, RNNKIT_CELL_RNN_RELU,
                                         RNNKIT_CELL_LSTM, RNNKIT_CELL_GRU};
static const char *const cell_names[4] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};

static tu_spec pt_spec(rnnkit_cell cell, int64_t I, int64_t H, uint64_t seed) {
    tu_spec s;
    memset(&s, 0, sizeof s);
    s.layout = RNNKIT_LAYOUT_PYTORCH;
    s.cell = cell;
    s.I = I;
    s.H = H;
    s.L = 1;
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

Test(cells, sizes) {
    static const int64_t pairs[][2] = {{1, 1}, {3, 8}, {8, 3}, {17, 33}, {33, 17},
                                       {64, 64}, {1, 64}, {64, 1}, {8, 8}, {33, 1}};
    const int np = (int)(sizeof pairs / sizeof pairs[0]);
    for (int ci = 0; ci < 4; ci++)
        for (int p = 0; p < np; p++) {
            tu_spec s = pt_spec(all_cells[ci], pairs[p][0], pairs[p][1], (uint64_t)(100 + ci * 31 + p));
            tu_case c = {.T = 4, .N = (p % 2) ? 3 : 1, .seed = (uint64_t)(p + 7)};
            char lab[128];
            snprintf(lab, sizeof lab, "%s I=%lld H=%lld N=%lld", cell_names[ci],
                     (long long)s.I, (long long)s.H, (long long)c.N);
            run(&s, &c, lab);
        }
}

Test(cells, seq_len_1) {
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 5, 9, (uint64_t)(200 + ci));
        tu_case c = {.T = 1, .N = 2, .h0 = 1, .c0 = 1, .seed = 3};
        char lab[128];
        snprintf(lab, sizeof lab, "%s T=1", cell_names[ci]);
        run(&s, &c, lab);
        /* T = 1 with a bidirectional model: both directions see the one step. */
        s.bidir = 1;
        snprintf(lab, sizeof lab, "%s T=1 bidirectional", cell_names[ci]);
        run(&s, &c, lab);
    }
}

Test(cells, lengths_mixed) {
    static const int32_t lens[5] = {6, 1, 3, 6, 2}; /* unsorted, includes 1 and T */
    static const int32_t ones[3] = {1, 1, 1};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 7, 10, (uint64_t)(300 + ci));
        tu_case c = {.T = 6, .N = 5, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 4};
        char lab[128];
        snprintf(lab, sizeof lab, "%s lengths {6,1,3,6,2}", cell_names[ci]);
        run(&s, &c, lab);
        tu_case c1 = {.T = 4, .N = 3, .lengths = ones, .seed = 5};
        snprintf(lab, sizeof lab, "%s lengths all 1 of T=4", cell_names[ci]);
        run(&s, &c1, lab);
    }
}

Test(cells, bidirectional) {
    static const int32_t lens[4] = {3, 7, 1, 5};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 6, 11, (uint64_t)(400 + ci));
        s.bidir = 1;
        tu_case c = {.T = 7, .N = 4, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 6};
        char lab[128];
        snprintf(lab, sizeof lab, "%s bidirectional lengths", cell_names[ci]);
        run(&s, &c, lab);
        tu_case c2 = {.T = 5, .N = 1, .seed = 7};
        snprintf(lab, sizeof lab, "%s bidirectional N=1", cell_names[ci]);
        run(&s, &c2, lab);
    }
}

Test(cells, multilayer) {
    static const int32_t lens[3] = {5, 2, 4};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 5, 8, (uint64_t)(500 + ci));
        s.L = 2;
        tu_case c = {.T = 5, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 8};
        char lab[128];
        snprintf(lab, sizeof lab, "%s 2 layers", cell_names[ci]);
        run(&s, &c, lab);
        s.L = 3;
        s.bidir = 1;
        s.seed += 50;
        snprintf(lab, sizeof lab, "%s 3 layers bidirectional", cell_names[ci]);
        run(&s, &c, lab);
    }
    /* 3 bidirectional layers with projection (layer k>0 reads 2*P inputs). */
    tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 9, 12, 555);
    s.L = 3;
    s.bidir = 1;
    s.proj = 5;
    tu_case c = {.T = 5, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 9};
    run(&s, &c, "lstm 3 layers bidirectional proj 5");
    tu_case cb = {.T = 5, .N = 3, .batch_major = 1, .h0 = 1, .seed = 10};
    run(&s, &cb, "lstm 3 layers bidirectional proj 5 batch_major");
}

Test(cells, projection) {
    static const int64_t hp[][3] = {{4, 8, 3}, {17, 33, 17}, {3, 64, 1}, {8, 17, 16}, {1, 3, 2}};
    for (int i = 0; i < 5; i++) {
        tu_spec s = pt_spec(RNNKIT_CELL_LSTM, hp[i][0], hp[i][1], (uint64_t)(600 + i));
        s.proj = hp[i][2];
        tu_case c = {.T = 4, .N = (i % 2) ? 1 : 3, .h0 = i % 2, .c0 = 1, .seed = (uint64_t)(11 + i)};
        char lab[128];
        snprintf(lab, sizeof lab, "lstm I=%lld H=%lld proj=%lld", (long long)hp[i][0],
                 (long long)hp[i][1], (long long)hp[i][2]);
        run(&s, &c, lab);
    }
    static const int32_t lens[2] = {2, 5};
    tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 6, 10, 650);
    s.proj = 4;
    s.no_bias = 1;
    tu_case c = {.T = 5, .N = 2, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 20};
    run(&s, &c, "lstm proj no bias lengths");
}

Test(cells, no_bias) {
    static const int32_t lens[3] = {4, 4, 2};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 6, 7, (uint64_t)(700 + ci));
        s.no_bias = 1;
        tu_case c = {.T = 4, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 21};
        char lab[128];
        snprintf(lab, sizeof lab, "%s no bias", cell_names[ci]);
        run(&s, &c, lab);
        s.L = 2;
        s.bidir = 1;
        snprintf(lab, sizeof lab, "%s no bias 2 layers bidirectional", cell_names[ci]);
        run(&s, &c, lab);
    }
}

Test(cells, initial_state) {
    for (int v = 0; v < 4; v++) {
        tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 5, 6, (uint64_t)(800 + v));
        s.L = 2;
        tu_case c = {.T = 3, .N = 2, .h0 = v & 1, .c0 = (v >> 1) & 1, .seed = 30};
        char lab[128];
        snprintf(lab, sizeof lab, "lstm 2 layers h0=%d c0=%d", c.h0, c.c0);
        run(&s, &c, lab);
    }
    for (int ci = 0; ci < 4; ci++) {
        if (all_cells[ci] == RNNKIT_CELL_LSTM) continue;
        tu_spec s = pt_spec(all_cells[ci], 4, 9, (uint64_t)(850 + ci));
        s.bidir = 1;
        s.L = 2;
        tu_case c = {.T = 3, .N = 2, .h0 = 1, .seed = 31};
        char lab[128];
        snprintf(lab, sizeof lab, "%s h0 2 layers bidirectional", cell_names[ci]);
        run(&s, &c, lab);
    }
}

Test(cells, batch_major) {
    static const int32_t lens[3] = {2, 5, 3};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = pt_spec(all_cells[ci], 7, 5, (uint64_t)(900 + ci));
        s.bidir = ci % 2;
        tu_case c = {.T = 5, .N = 3, .batch_major = 1, .lengths = lens, .h0 = 1, .c0 = 1,
                     .seed = 40};
        char lab[128];
        snprintf(lab, sizeof lab, "%s batch_major", cell_names[ci]);
        run(&s, &c, lab);
    }
}

Test(cells, name_prefix) {
    tu_spec s = pt_spec(RNNKIT_CELL_GRU, 4, 6, 1000);
    s.prefix = "rnn.";
    s.L = 2;
    tu_case c = {.T = 3, .N = 2, .seed = 50};
    run(&s, &c, "gru prefix rnn.");
    tu_spec s2 = pt_spec(RNNKIT_CELL_LSTM, 4, 6, 1001);
    s2.prefix = "encoder.lstm.";
    s2.bidir = 1;
    run(&s2, &c, "lstm prefix encoder.lstm.");
}

Test(cells, optional_outputs) {
    static const int32_t lens[3] = {3, 1, 2};
    for (int v = 0; v < 3; v++) {
        tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 4, 6, (uint64_t)(1100 + v));
        s.bidir = 1;
        tu_case c = {.T = 3, .N = 3, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 60,
                     .no_y = v == 0, .no_hn = v == 1, .no_cn = v == 2};
        char lab[128];
        snprintf(lab, sizeof lab, "lstm outputs without %s", v == 0 ? "y" : v == 1 ? "hn" : "cn");
        run(&s, &c, lab);
    }
    tu_spec s = pt_spec(RNNKIT_CELL_GRU, 4, 6, 1150);
    tu_case c = {.T = 3, .N = 2, .no_y = 1, .seed = 61};
    run(&s, &c, "gru hn only");
}

/* The optional checks in the description (input_size, hidden_size,
 * num_layers) accept matching values. */
Test(cells, desc_checks_match) {
    tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 5, 7, 1200);
    s.L = 2;
    s.proj = 3;
    tu_model m;
    tu_model_make(&s, &m);
    m.desc.input_size = 5;
    m.desc.hidden_size = 7;
    m.desc.num_layers = 2;
    rnnkit_model *model = NULL;
    rnnkit_status st = rnnkit_model_create(&m.desc, m.t, m.n, &model);
    cr_assert_eq(st, RNNKIT_STATUS_OK, "create with matching checks: %s", rnnkit_last_error());
    rnnkit_model_info info;
    cr_assert_eq(rnnkit_model_get_info(model, &info), RNNKIT_STATUS_OK);
    cr_expect_eq(info.layout, RNNKIT_LAYOUT_PYTORCH);
    cr_expect_eq(info.cell, RNNKIT_CELL_LSTM);
    cr_expect_eq(info.input_size, 5);
    cr_expect_eq(info.hidden_size, 7);
    cr_expect_eq(info.proj_size, 3);
    cr_expect_eq(info.output_size, 3);
    cr_expect_eq(info.num_layers, 2);
    cr_expect_eq(info.num_directions, 1);
    cr_expect_eq(info.has_bias, 1);
    cr_expect_eq(info.has_peepholes, 0);
    cr_expect(info.isa != NULL && info.isa[0] != '\0');
    rnnkit_model_destroy(model);
    tu_model_free(&m);
}

/* Larger shapes, so that the threaded plans actually split the work
 * (batch and hidden units); tu_check_forward requires 2 and 3 threads to
 * give bit-identical results to 1 thread. */
Test(cells, threads_large) {
    static const int32_t lens[6] = {6, 3, 6, 1, 5, 6};
    tu_spec s = pt_spec(RNNKIT_CELL_LSTM, 64, 192, 1300);
    s.bidir = 1;
    s.proj = 96;
    tu_case c = {.T = 6, .N = 6, .lengths = lens, .h0 = 1, .c0 = 1, .seed = 70};
    run(&s, &c, "lstm I=64 H=192 proj=96 bidirectional N=6");
    tu_spec g = pt_spec(RNNKIT_CELL_GRU, 48, 256, 1301);
    g.L = 2;
    tu_case cg = {.T = 5, .N = 8, .h0 = 1, .seed = 71};
    run(&g, &cg, "gru I=48 H=256 2 layers N=8");
    tu_spec r = pt_spec(RNNKIT_CELL_RNN_TANH, 32, 320, 1302);
    tu_case cr = {.T = 4, .N = 1, .seed = 72};
    run(&r, &cr, "rnn I=32 H=320 N=1");
}
