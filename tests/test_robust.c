/*
 * Numerical robustness on every ISA: NaN and infinite inputs propagate
 * into their own batch row only (other rows bit-identical to a clean run),
 * never trap or crash; huge inputs saturate the gates (outputs finite and
 * bounded like the scalar reference's); the caller's floating-point
 * control state (MXCSR: flush-to-zero, denormals-are-zero, exception
 * masks) is the same after a call as before.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "rnnkit.h"

#define I 9
#define H 37
#define T 6
#define N 3

static const char *isas[] = {"scalar", "avx2", "avx512", "neon"};

static rnnkit_model *make(rnnkit_cell cell, float *w_ih, float *w_hh, float *b) {
    int G = cell == RNNKIT_CELL_LSTM ? 4 : cell == RNNKIT_CELL_GRU ? 3 : 1;
    for (int i = 0; i < G * H * I; i++) w_ih[i] = (float)((i * 37) % 23 - 11) / 40.0f;
    for (int i = 0; i < G * H * H; i++) w_hh[i] = (float)((i * 17) % 29 - 14) / 60.0f;
    for (int i = 0; i < G * H; i++) b[i] = (float)(i % 5 - 2) / 10.0f;
    rnnkit_tensor t[4] = {{"weight_ih_l0", w_ih, 2, {G * H, I}},
                          {"weight_hh_l0", w_hh, 2, {G * H, H}},
                          {"bias_ih_l0", b, 1, {G * H}},
                          {"bias_hh_l0", b, 1, {G * H}}};
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = cell;
    rnnkit_model *m = NULL;
    cr_assert_eq(rnnkit_model_create(&d, t, 4, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    return m;
}

static void run(rnnkit_model *m, const float *x, float *y, float *hn) {
    rnnkit_forward_args a = {0};
    a.seq_len = T;
    a.batch = N;
    a.x = x;
    a.y = y;
    a.hn = hn;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
}

static float w_ih[4 * H * I], w_hh[4 * H * H], b[4 * H];

static void check_poison(rnnkit_cell cell, float poison) {
    for (int ii = 0; ii < 4; ii++) {
        if (!rnnkit_isa_supported(isas[ii])) continue;
        rnnkit_isa_select(isas[ii]);
        rnnkit_model *m = make(cell, w_ih, w_hh, b);
        float x[T * N * I], xp[T * N * I], y[T * N * H], yp[T * N * H], hn[N * H], hnp[N * H];
        for (int i = 0; i < T * N * I; i++) x[i] = xp[i] = (float)((i * 13) % 17 - 8) / 8.0f;
        xp[(2 * N + 0) * I + 3] = poison; /* row 0, step 2 */
#if defined(__x86_64__)
        unsigned csr = _mm_getcsr();
#endif
        run(m, x, y, hn);
        run(m, xp, yp, hnp);
#if defined(__x86_64__)
        /* Control bits only (FTZ, DAZ, rounding, masks); bits 0-5 are the
         * sticky exception flags that inf - inf rightly raises. */
        cr_assert_eq(_mm_getcsr() & ~0x3Fu, csr & ~0x3Fu, "MXCSR control changed by rnnkit_forward on %s",
                     isas[ii]);
#endif
        for (int t = 0; t < T; t++)
            for (int n = 1; n < N; n++)
                cr_assert(memcmp(&y[(t * N + n) * H], &yp[(t * N + n) * H], H * sizeof(float)) == 0,
                          "%s: poison in row 0 changed row %d at step %d", isas[ii], n, t);
        for (int t = 0; t < 2; t++)
            cr_assert(memcmp(&y[t * N * H], &yp[t * N * H], H * sizeof(float)) == 0,
                      "%s: poison at step 2 changed step %d", isas[ii], t);
        if (isnan(poison)) {
            int nan_count = 0;
            for (int j = 0; j < H; j++) nan_count += isnan(yp[(2 * N) * H + j]) != 0;
            /* Every pre-activation of the row holds the NaN product
             * (0 * NaN is NaN too), so every unit's output is NaN. */
            cr_assert_eq(nan_count, H, "%s: NaN input at step 2 gave %d NaN outputs of %d", isas[ii],
                         nan_count, H);
        }
        rnnkit_model_destroy(m);
    }
    rnnkit_isa_select("auto");
}

Test(robust, nan_input_stays_in_its_row) {
    check_poison(RNNKIT_CELL_LSTM, NAN);
    check_poison(RNNKIT_CELL_GRU, NAN);
    check_poison(RNNKIT_CELL_RNN_TANH, NAN);
    /* relu(NaN) is NaN, not 0 (max with the data as the NaN-passing
     * operand, as the scalar reference). */
    check_poison(RNNKIT_CELL_RNN_RELU, NAN);
}

Test(robust, inf_input_stays_in_its_row) {
    check_poison(RNNKIT_CELL_LSTM, INFINITY);
    check_poison(RNNKIT_CELL_GRU, -INFINITY);
    check_poison(RNNKIT_CELL_RNN_RELU, INFINITY);
}

Test(robust, huge_inputs_saturate_like_the_reference) {
    rnnkit_cell cells[3] = {RNNKIT_CELL_LSTM, RNNKIT_CELL_GRU, RNNKIT_CELL_RNN_TANH};
    for (int c = 0; c < 3; c++) {
        float x[T * N * I], y[4][T * N * H], hn[N * H];
        /* One huge element per row: each pre-activation is then one huge
         * product plus bounded terms, so it saturates its gate without the
         * cancellation that would make the sum's sign depend on order. */
        for (int i = 0; i < T * N * I; i++) x[i] = (i % I) == (i / I) % I ? ((i & 1) ? 1e30f : -1e30f) : 0.1f;
        for (int ii = 0; ii < 4; ii++) {
            if (!rnnkit_isa_supported(isas[ii])) continue;
            rnnkit_isa_select(isas[ii]);
            rnnkit_model *m = make(cells[c], w_ih, w_hh, b);
            run(m, x, y[ii], hn);
            for (int i = 0; i < T * N * H; i++) {
                cr_assert(isfinite(y[ii][i]) && fabsf(y[ii][i]) <= 1.0f, "%s cell %d: y[%d] = %g", isas[ii],
                          c, i, y[ii][i]);
                if (ii > 0)
                    cr_assert(fabsf(y[ii][i] - y[0][i]) <= 1e-5f, "%s cell %d: y[%d] = %.9g, scalar %.9g",
                              isas[ii], c, i, y[ii][i], y[0][i]);
            }
            rnnkit_model_destroy(m);
        }
    }
    rnnkit_isa_select("auto");
}
