/*
 * Streaming API: pushing a sequence in chunks (1, 2, 3, uneven, all at
 * once) gives what one rnnkit_forward over the whole sequence gives
 * (tolerance 1e-6, the worst difference is logged), and after every push
 * rnnkit_stream_get_state equals the float64 reference's final state over
 * the steps pushed so far. RNN tanh/relu, LSTM (+projection), GRU,
 * several layers, initial states, ONNX forward models (layout 0 and 1).
 * Bidirectional and reverse models are refused with UNSUPPORTED.
 */
#include "test_util.h"

#define STREAM_TOL 1e-6

static const int64_t chunk_1[] = {1, 0};
static const int64_t chunk_2[] = {2, 0};
static const int64_t chunk_3[] = {3, 0};
static const int64_t chunk_uneven[] = {1, 4, 2, 0};   /* then repeats */
static const int64_t chunk_all[] = {1000, 0};
static const int64_t *const chunkings[] = {chunk_1, chunk_2, chunk_3, chunk_uneven, chunk_all};
static const char *const chunk_names[] = {"1", "2", "3", "1,4,2,...", "all"};

/* x sequence-major [T,N,I] -> batch-major [N,T,I] (for ONNX layout 1). */
static void to_batch_major(const float *src, float *dst, int64_t T, int64_t N, int64_t I) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++)
            memcpy(dst + (n * T + t) * I, src + (t * N + n) * I, (size_t)I * sizeof(float));
}

static void check_stream(const tu_spec *s, int64_t T, int64_t N, int with_h0, const char *label) {
    tu_model m;
    tu_model_make(s, &m);
    const int lstm = s->cell == RNNKIT_CELL_LSTM;
    const int onnx = s->layout == RNNKIT_LAYOUT_ONNX;
    const int bm = onnx && s->onnx_layout;
    const size_t I = (size_t)s->I, P = (size_t)m.P;
    const size_t nx = tu_x_len(&m, T, N), nh = tu_h_len(&m, N), nc = tu_c_len(&m, N);
    const size_t ny = tu_y_len(&m, T, N);
    tu_rng r = {(uint64_t)(T * 131 + N * 7) + s->seed};
    float *x = tu_alloc_f(nx), *xb = tu_alloc_f(nx), *h0 = tu_alloc_f(nh), *c0 = tu_alloc_f(nc);
    tu_fill(&r, x, nx, 1.0f);
    tu_fill(&r, h0, nh, 1.0f);
    tu_fill(&r, c0, nc, 1.0f);
    to_batch_major(x, xb, T, N, (int64_t)I);

    for (int isa = 0; isa < TU_NUM_ISAS; isa++) {
        const char *name = tu_isa_name(isa);
        if (!rnnkit_isa_supported(name)) continue;
        cr_assert_eq(rnnkit_isa_select(name), RNNKIT_STATUS_OK);
        rnnkit_model *model = NULL;
        rnnkit_status st = rnnkit_model_create(&m.desc, m.t, m.n, &model);
        rnnkit_isa_select("auto");
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s [%s]: create: %s", label, name, rnnkit_last_error());

        /* Whole-sequence forward (y sequence-major [T,N,P]). */
        float *yf = tu_alloc_f(ny), *hf = tu_alloc_f(nh), *cf = tu_alloc_f(nc);
        float *yf_bm = tu_alloc_f(ny);
        rnnkit_forward_args a;
        memset(&a, 0, sizeof a);
        a.seq_len = T;
        a.batch = N;
        a.batch_major = bm;
        a.x = bm ? xb : x;
        a.h0 = with_h0 ? h0 : NULL;
        a.c0 = (with_h0 && lstm) ? c0 : NULL;
        a.y = bm ? yf_bm : yf;
        a.hn = hf;
        a.cn = lstm ? cf : NULL;
        a.num_threads = 1;
        st = rnnkit_forward(model, &a);
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s [%s]: forward: %s", label, name, rnnkit_last_error());
        if (bm) /* [N,T,1,H] -> [T,N,H] */
            for (int64_t t = 0; t < T; t++)
                for (int64_t n = 0; n < N; n++)
                    memcpy(yf + (size_t)(t * N + n) * P, yf_bm + (size_t)(n * T + t) * P, P * sizeof(float));

        for (int ch = 0; ch < 5; ch++) {
            char lab[200];
            snprintf(lab, sizeof lab, "%s [%s] chunks %s", label, name, chunk_names[ch]);
            rnnkit_stream *stream = NULL;
            st = rnnkit_stream_create(model, N, &stream);
            cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: stream_create: %s", lab, rnnkit_last_error());
            st = rnnkit_stream_reset(stream, with_h0 ? h0 : NULL, (with_h0 && lstm) ? c0 : NULL);
            cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: reset: %s", lab, rnnkit_last_error());
            float *ys = tu_alloc_f(ny), *hs = tu_alloc_f(nh), *cs = tu_alloc_f(nc);
            tu_fill_nan(ys, ny);
            int64_t done = 0;
            int ci = 0;
            double worst = 0;
            while (done < T) {
                int64_t k = chunkings[ch][ci];
                if (chunkings[ch][++ci] == 0) ci = 0;
                if (k > T - done) k = T - done;
                st = rnnkit_stream_push(stream, x + (size_t)done * (size_t)N * I, k,
                                        ys + (size_t)done * (size_t)N * P);
                cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: push(%lld steps at %lld): %s", lab,
                             (long long)k, (long long)done, rnnkit_last_error());
                done += k;
                /* State after `done` steps against the float64 reference. */
                tu_fill_nan(hs, nh);
                tu_fill_nan(cs, nc);
                st = rnnkit_stream_get_state(stream, hs, lstm ? cs : NULL);
                cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: get_state: %s", lab, rnnkit_last_error());
                rnnkit_forward_args ra = a;
                ra.seq_len = done;
                ra.x = x; /* sequence-major prefix */
                rnnkit_model_desc d0 = m.desc;
                d0.onnx_layout = 0; /* state layout [1,N,H] == [N,1,H] for one direction */
                ra.batch_major = 0;
                ref64_out ref;
                char err[200];
                cr_assert_eq(ref64_forward(&d0, m.t, m.n, &ra, &ref, err, sizeof err), 0, "%s", err);
                char lab2[260];
                snprintf(lab2, sizeof lab2, "%s after %lld steps", lab, (long long)done);
                size_t bad = tu_compare(lab2, "state h", hs, ref.hn, nh, TU_ATOL, TU_RTOL, NULL);
                if (lstm) bad += tu_compare(lab2, "state c", cs, ref.cn, nc, TU_ATOL, TU_RTOL, NULL);
                cr_expect_eq(bad, 0, "%s: state differs from the reference", lab2);
                if (done == T) {
                    bad = tu_compare(lab2, "y vs ref64", ys, ref.y, ny, TU_ATOL, TU_RTOL, NULL);
                    cr_expect_eq(bad, 0, "%s: y differs from the reference", lab);
                }
                ref64_out_free(&ref);
            }
            /* Stream against the library's own whole-sequence forward. */
            size_t bad = 0;
            for (size_t i = 0; i < ny; i++) {
                double e = fabs((double)ys[i] - yf[i]);
                if (!(e <= STREAM_TOL)) {
                    if (bad < 5)
                        cr_log_error("%s: y[%zu] stream %.9g forward %.9g", lab, i, ys[i], yf[i]);
                    bad++;
                }
                if (e > worst) worst = e;
            }
            for (size_t i = 0; i < nh; i++) {
                double e = fabs((double)hs[i] - hf[i]);
                if (!(e <= STREAM_TOL)) {
                    if (bad < 5)
                        cr_log_error("%s: h[%zu] stream %.9g forward %.9g", lab, i, hs[i], hf[i]);
                    bad++;
                }
                if (e > worst) worst = e;
            }
            for (size_t i = 0; lstm && i < nc; i++) {
                double e = fabs((double)cs[i] - cf[i]);
                if (!(e <= STREAM_TOL)) {
                    if (bad < 5)
                        cr_log_error("%s: c[%zu] stream %.9g forward %.9g", lab, i, cs[i], cf[i]);
                    bad++;
                }
                if (e > worst) worst = e;
            }
            cr_expect_eq(bad, 0, "%s: %zu elements differ from rnnkit_forward by more than %g (worst %.3g)",
                         lab, bad, STREAM_TOL, worst);
            cr_log_info("%s: worst |stream - forward| = %.3g", lab, worst);

            /* Reset rewinds: the whole sequence again in one push, no y. */
            st = rnnkit_stream_reset(stream, with_h0 ? h0 : NULL, (with_h0 && lstm) ? c0 : NULL);
            cr_assert_eq(st, RNNKIT_STATUS_OK);
            st = rnnkit_stream_push(stream, x, T, NULL);
            cr_assert_eq(st, RNNKIT_STATUS_OK, "%s: push with y NULL: %s", lab, rnnkit_last_error());
            float *h2 = tu_alloc_f(nh);
            st = rnnkit_stream_get_state(stream, h2, NULL);
            cr_assert_eq(st, RNNKIT_STATUS_OK);
            size_t bad2 = 0;
            for (size_t i = 0; i < nh; i++)
                if (!(fabs((double)h2[i] - hf[i]) <= STREAM_TOL)) bad2++;
            cr_expect_eq(bad2, 0, "%s: after reset + one push, %zu state elements differ", lab, bad2);
            free(h2);
            free(ys);
            free(hs);
            free(cs);
            rnnkit_stream_destroy(stream);
        }
        free(yf);
        free(yf_bm);
        free(hf);
        free(cf);
        rnnkit_model_destroy(model);
    }
    free(x);
    free(xb);
    free(h0);
    free(c0);
    tu_model_free(&m);
}

static tu_spec spec(rnnkit_layout layout, rnnkit_cell cell, int64_t I, int64_t H, uint64_t seed) {
    tu_spec s;
    memset(&s, 0, sizeof s);
    s.layout = layout;
    s.cell = cell;
    s.I = I;
    s.H = H;
    s.L = 1;
    s.seed = seed;
    return s;
}

Test(stream, pytorch_cells) {
    static const rnnkit_cell cells[4] = {RNNKIT_CELL_RNN_TANH, RNNKIT_CELL_RNN_RELU,
                                         RNNKIT_CELL_LSTM, RNNKIT_CELL_GRU};
    static const char *const names[4] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
    for (int ci = 0; ci < 4; ci++) {
        tu_spec s = spec(RNNKIT_LAYOUT_PYTORCH, cells[ci], 5, 9, (uint64_t)(10 + ci));
        char lab[100];
        snprintf(lab, sizeof lab, "%s h0", names[ci]);
        check_stream(&s, 7, 3, 1, lab);
        snprintf(lab, sizeof lab, "%s zero state N=1", names[ci]);
        check_stream(&s, 5, 1, 0, lab);
    }
}

Test(stream, lstm_projection) {
    tu_spec s = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 6, 17, 20);
    s.proj = 5;
    check_stream(&s, 7, 2, 1, "lstm proj 5");
    s.L = 2;
    check_stream(&s, 6, 3, 1, "lstm proj 5, 2 layers");
}

Test(stream, multilayer) {
    tu_spec s = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_GRU, 4, 8, 30);
    s.L = 3;
    check_stream(&s, 6, 2, 1, "gru 3 layers");
    tu_spec s2 = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 3, 33, 31);
    s2.L = 2;
    s2.no_bias = 1;
    check_stream(&s2, 5, 3, 1, "lstm 2 layers no bias H=33");
    tu_spec s3 = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_RNN_TANH, 17, 64, 32);
    s3.L = 2;
    check_stream(&s3, 5, 2, 0, "rnn 2 layers H=64");
}

Test(stream, onnx_forward_models) {
    tu_spec s = spec(RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_LSTM, 5, 7, 40);
    s.peep = 1;
    s.clip = 0.8f;
    check_stream(&s, 6, 2, 1, "onnx lstm peepholes clip");
    tu_spec g = spec(RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_GRU, 5, 7, 41);
    check_stream(&g, 6, 2, 1, "onnx gru lbr=0");
    g.lbr = 1;
    g.onnx_layout = 1;
    check_stream(&g, 6, 3, 1, "onnx gru lbr=1 layout=1");
    tu_spec rn = spec(RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_RNN_TANH, 4, 6, 42);
    rn.num_acts = 1;
    rn.acts[0].kind = RNNKIT_ACTIVATION_SOFTSIGN;
    rn.onnx_layout = 1;
    check_stream(&rn, 5, 2, 1, "onnx rnn softsign layout=1");
}

/* A new stream starts from zeros, like a reset with NULL. */
Test(stream, fresh_stream_is_zero_state) {
    tu_spec s = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 3, 5, 50);
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_model *model = NULL;
    cr_assert_eq(rnnkit_model_create(&m.desc, m.t, m.n, &model), RNNKIT_STATUS_OK);
    rnnkit_stream *st = NULL;
    cr_assert_eq(rnnkit_stream_create(model, 2, &st), RNNKIT_STATUS_OK);
    float h[10], c[10];
    tu_fill_nan(h, 10);
    tu_fill_nan(c, 10);
    cr_assert_eq(rnnkit_stream_get_state(st, h, c), RNNKIT_STATUS_OK);
    for (int i = 0; i < 10; i++) {
        cr_expect_eq(h[i], 0.0f, "h[%d] = %g of a fresh stream", i, (double)h[i]);
        cr_expect_eq(c[i], 0.0f, "c[%d] = %g of a fresh stream", i, (double)c[i]);
    }
    rnnkit_stream_destroy(st);
    rnnkit_model_destroy(model);
    tu_model_free(&m);
}

Test(stream, refuses_bidirectional_and_reverse) {
    tu_spec specs[3];
    specs[0] = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_LSTM, 3, 4, 60);
    specs[0].bidir = 1;
    specs[1] = spec(RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_GRU, 3, 4, 61);
    specs[1].dir = RNNKIT_DIRECTION_REVERSE;
    specs[2] = spec(RNNKIT_LAYOUT_ONNX, RNNKIT_CELL_RNN_TANH, 3, 4, 62);
    specs[2].dir = RNNKIT_DIRECTION_BIDIRECTIONAL;
    static const char *const what[3] = {"pytorch bidirectional", "onnx reverse", "onnx bidirectional"};
    for (int i = 0; i < 3; i++) {
        tu_model m;
        tu_model_make(&specs[i], &m);
        rnnkit_model *model = NULL;
        cr_assert_eq(rnnkit_model_create(&m.desc, m.t, m.n, &model), RNNKIT_STATUS_OK, "%s: %s",
                     what[i], rnnkit_last_error());
        rnnkit_stream *sentinel = (rnnkit_stream *)(uintptr_t)0x1234;
        rnnkit_stream *st = sentinel;
        rnnkit_status r = rnnkit_stream_create(model, 2, &st);
        cr_expect_eq(r, RNNKIT_STATUS_UNSUPPORTED, "%s: stream_create = %d (%s)", what[i], r,
                     rnnkit_status_string(r));
        cr_expect(rnnkit_last_error()[0] != '\0', "%s: no error message", what[i]);
        cr_expect(st == sentinel || st == NULL, "%s: *out = %p after a failed stream_create", what[i], (void *)st);
        if (r == RNNKIT_STATUS_OK && st != sentinel) rnnkit_stream_destroy(st);
        rnnkit_model_destroy(model);
        tu_model_free(&m);
    }
}

/* rnnkit_stream_set_num_threads: NULL stream and negative counts are
 * refused with a message; 0, 1 and n are accepted and the pushes still
 * match the whole-sequence forward (bitwise, every thread count and
 * mode: tests/test_threads.c). */
Test(stream, set_num_threads_arguments) {
    cr_expect_eq(rnnkit_stream_set_num_threads(NULL, 2), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(rnnkit_last_error(), "stream is NULL") != NULL, "message: %s", rnnkit_last_error());
    tu_spec s = spec(RNNKIT_LAYOUT_PYTORCH, RNNKIT_CELL_GRU, 3, 4, 63);
    tu_model m;
    tu_model_make(&s, &m);
    rnnkit_model *model = NULL;
    cr_assert_eq(rnnkit_model_create(&m.desc, m.t, m.n, &model), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_stream *st = NULL;
    cr_assert_eq(rnnkit_stream_create(model, 2, &st), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_expect_eq(rnnkit_stream_set_num_threads(st, -1), RNNKIT_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(rnnkit_last_error(), "-1 is negative") != NULL, "message: %s", rnnkit_last_error());
    float x[2 * 3] = {0.5f, -1, 0.25f, 1, 2, -0.5f}, y[4][2 * 4];
    for (int i = 0; i < 4; i++) {
        static const int counts[4] = {1, 0, 2, 1};
        cr_expect_eq(rnnkit_stream_set_num_threads(st, counts[i]), RNNKIT_STATUS_OK, "%d threads: %s", counts[i],
                     rnnkit_last_error());
        cr_expect_eq(rnnkit_stream_reset(st, NULL, NULL), RNNKIT_STATUS_OK);
        cr_expect_eq(rnnkit_stream_push(st, x, 1, y[i]), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
        cr_expect(memcmp(y[i], y[0], sizeof y[0]) == 0, "%d threads: y differs from 1 thread", counts[i]);
    }
    rnnkit_stream_destroy(st);
    rnnkit_model_destroy(model);
    tu_model_free(&m);
}
