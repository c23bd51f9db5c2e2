/*
 * lstm_forward: create a 2-layer LSTM from weights in memory, run it over
 * a batch of sequences with rnnkit_forward, then feed the same sequences
 * step by step through a stream and check both agree.
 *
 * Only the public API (rnnkit.h). Build against an installed rnnkit:
 *   cc -O2 lstm_forward.c $(pkg-config --cflags --libs rnnkit) -o lstm_forward
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <rnnkit.h>

enum { LAYERS = 2, INPUT = 16, HIDDEN = 32, GATES = 4, T = 20, N = 2 };

/* Fails the program with the library's message. */
static void check(rnnkit_status s, const char *what) {
    if (s == RNNKIT_STATUS_OK) return;
    fprintf(stderr, "%s: %s (%s)\n", what, rnnkit_last_error(), rnnkit_status_string(s));
    exit(1);
}

/* Small deterministic numbers in [-scale, scale). */
static float next_value(unsigned *state, float scale) {
    *state = *state * 1664525u + 1013904223u;
    return scale * ((float)(*state >> 8) / (float)(1 << 23) - 1.0f);
}

int main(void) {
    printf("rnnkit %s, kernels: %s\n", rnnkit_version(), rnnkit_isa_active());

    /* PyTorch-style tensors: weight_ih_l{k} [4H, in], weight_hh_l{k} [4H, H],
     * bias_ih_l{k} [4H], bias_hh_l{k} [4H]; gate order i, f, g, o. */
    static float weights[LAYERS][4][GATES * HIDDEN * HIDDEN];
    static const char *const names[LAYERS][4] = {
        {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"},
        {"weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"},
    };
    rnnkit_tensor tensors[LAYERS * 4];
    unsigned seed = 42;
    for (int l = 0; l < LAYERS; l++) {
        const int64_t in = l == 0 ? INPUT : HIDDEN;
        const int64_t cols[4] = {in, HIDDEN, 0, 0};
        for (int k = 0; k < 4; k++) {
            rnnkit_tensor *t = &tensors[l * 4 + k];
            *t = (rnnkit_tensor){.name = names[l][k], .data = weights[l][k], .ndim = k < 2 ? 2 : 1,
                                 .shape = {GATES * HIDDEN, cols[k]}};
            const int64_t count = GATES * HIDDEN * (k < 2 ? cols[k] : 1);
            for (int64_t i = 0; i < count; i++) weights[l][k][i] = next_value(&seed, 0.17f);
        }
    }

    rnnkit_model_desc desc;
    rnnkit_model_desc_init(&desc);
    desc.layout = RNNKIT_LAYOUT_PYTORCH;
    desc.cell = RNNKIT_CELL_LSTM;
    rnnkit_model *model;
    check(rnnkit_model_create(&desc, tensors, LAYERS * 4, &model), "rnnkit_model_create");

    rnnkit_model_info info;
    check(rnnkit_model_get_info(model, &info), "rnnkit_model_get_info");
    printf("model: LSTM, %lld layers, input %lld, hidden %lld, isa %s\n", (long long)info.num_layers,
           (long long)info.input_size, (long long)info.hidden_size, info.isa);

    /* x [T, N, I]; y [T, N, H]; hn, cn [L, N, H]. h0 and c0 default to 0. */
    static float x[T * N * INPUT], y[T * N * HIDDEN], hn[LAYERS * N * HIDDEN], cn[LAYERS * N * HIDDEN];
    for (int i = 0; i < T * N * INPUT; i++) x[i] = next_value(&seed, 1.0f);
    const int32_t lengths[N] = {T, T / 2}; /* the second sequence is shorter */

    /* Reusing one workspace across calls avoids an allocation per call;
     * rnnkit_buffer_alloc gives large ones huge pages (README). */
    size_t ws_bytes;
    check(rnnkit_workspace_size(model, T, N, &ws_bytes), "rnnkit_workspace_size");
    void *ws = rnnkit_buffer_alloc(ws_bytes);
    if (!ws) return 1;
    rnnkit_forward_args args = {
        .seq_len = T, .batch = N, .x = x, .lengths = lengths, .y = y, .hn = hn, .cn = cn,
        .workspace = ws, .workspace_size = ws_bytes,
    };
    check(rnnkit_forward(model, &args), "rnnkit_forward");
    printf("y[T-1, 0, 0..3] = %.5f %.5f %.5f %.5f\n", y[((T - 1) * N) * HIDDEN], y[((T - 1) * N) * HIDDEN + 1],
           y[((T - 1) * N) * HIDDEN + 2], y[((T - 1) * N) * HIDDEN + 3]);

    /* Streaming: the first sequence, five steps at a time, gives the same
     * outputs as the whole-sequence call. */
    rnnkit_stream *stream;
    check(rnnkit_stream_create(model, 1, &stream), "rnnkit_stream_create");
    check(rnnkit_stream_reset(stream, NULL, NULL), "rnnkit_stream_reset");
    static float xs[T * INPUT], ys[T * HIDDEN];
    for (int t = 0; t < T; t++)
        for (int i = 0; i < INPUT; i++) xs[t * INPUT + i] = x[(t * N + 0) * INPUT + i];
    for (int t = 0; t < T; t += 5)
        check(rnnkit_stream_push(stream, xs + t * INPUT, 5, ys + t * HIDDEN), "rnnkit_stream_push");
    double max_diff = 0.0;
    for (int t = 0; t < T; t++)
        for (int j = 0; j < HIDDEN; j++)
            max_diff = fmax(max_diff, fabs(ys[t * HIDDEN + j] - y[(t * N + 0) * HIDDEN + j]));
    printf("stream vs forward: max |difference| = %.3g\n", max_diff);

    rnnkit_stream_destroy(stream);
    rnnkit_buffer_free(ws);
    rnnkit_model_destroy(model);
    return max_diff < 1e-5 ? 0 : 1;
}
