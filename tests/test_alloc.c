/*
 * Allocation-failure injection: linked against a build of the library
 * whose allocator fails the k-th allocation when asked. For every k along
 * model creation, forward, streaming and file loading, the call must
 * return a clean status with a message (never crash); with
 * -Db_sanitize=address LeakSanitizer also shows nothing leaks.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "rnnkit.h"

extern long rnnkit_test_fail_alloc_at;
extern long rnnkit_test_alloc_count;

#define I 5
#define H 6
#define P 4
#define T 3
#define N 2

static float w_ih[4 * H * I], w_hh[4 * H * P], b[4 * H], w_hr[P * H], w_ih1[4 * H * 2 * P], w_hh1[4 * H * P];
static float x[T * N * I], y[T * N * 2 * P], hn[4 * N * P], cn[4 * N * H];

static size_t make_tensors(rnnkit_tensor *t) {
    for (size_t i = 0; i < sizeof w_ih / sizeof w_ih[0]; i++) w_ih[i] = (float)((i * 7) % 11) * 0.05f - 0.25f;
    for (size_t i = 0; i < sizeof w_hh / sizeof w_hh[0]; i++) w_hh[i] = (float)((i * 5) % 13) * 0.04f - 0.2f;
    for (size_t i = 0; i < sizeof w_ih1 / sizeof w_ih1[0]; i++) w_ih1[i] = (float)((i * 3) % 7) * 0.05f - 0.15f;
    for (size_t i = 0; i < sizeof w_hh1 / sizeof w_hh1[0]; i++) w_hh1[i] = (float)((i * 9) % 5) * 0.05f - 0.1f;
    for (size_t i = 0; i < sizeof w_hr / sizeof w_hr[0]; i++) w_hr[i] = (float)(i % 3) * 0.1f - 0.1f;
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) b[i] = 0.01f * (float)i;
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(i % 9) * 0.1f - 0.4f;
    size_t n = 0;
    static const char *sfx[2] = {"", "_reverse"};
    static char names[2][2][5][32];
    for (int l = 0; l < 2; l++)
        for (int d = 0; d < 2; d++) {
            const char *fmt[5] = {"weight_ih_l%d%s", "weight_hh_l%d%s", "bias_ih_l%d%s", "bias_hh_l%d%s",
                                  "weight_hr_l%d%s"};
            for (int k = 0; k < 5; k++) snprintf(names[l][d][k], 32, fmt[k], l, sfx[d]);
            t[n++] = (rnnkit_tensor){names[l][d][0], l ? w_ih1 : w_ih, 2, {4 * H, l ? 2 * P : I}};
            t[n++] = (rnnkit_tensor){names[l][d][1], l ? w_hh1 : w_hh, 2, {4 * H, P}};
            t[n++] = (rnnkit_tensor){names[l][d][2], b, 1, {4 * H}};
            t[n++] = (rnnkit_tensor){names[l][d][3], b, 1, {4 * H}};
            t[n++] = (rnnkit_tensor){names[l][d][4], w_hr, 2, {P, H}};
        }
    return n;
}

/* One scenario under injection at allocation k; returns 1 when no
 * injection happened (k is past the scenario's last allocation). */
typedef int (*scenario_fn)(long k);

static int check_status(rnnkit_status st, long k, const char *what) {
    if (rnnkit_test_alloc_count < k) {
        cr_assert_eq(st, RNNKIT_STATUS_OK, "%s without injected failure: %s", what, rnnkit_last_error());
        return 1;
    }
    cr_assert_neq(st, RNNKIT_STATUS_OK, "%s: allocation %ld failed but the call reported success", what, k);
    cr_assert(rnnkit_last_error()[0] != '\0', "%s: allocation %ld failed with an empty message", what, k);
    return 0;
}

static void arm(long k) {
    rnnkit_test_alloc_count = 0;
    rnnkit_test_fail_alloc_at = k;
}

static int scen_create_forward(long k) {
    rnnkit_tensor t[20];
    size_t n = make_tensors(t);
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = RNNKIT_CELL_LSTM;
    rnnkit_model *m = NULL;
    arm(k);
    rnnkit_status st = rnnkit_model_create(&d, t, n, &m);
    if (st != RNNKIT_STATUS_OK) {
        rnnkit_test_fail_alloc_at = 0;
        cr_assert(m == NULL);
        return check_status(st, k, "rnnkit_model_create");
    }
    rnnkit_forward_args a = {0};
    a.seq_len = T;
    a.batch = N;
    a.x = x;
    a.y = y;
    a.hn = hn;
    a.cn = cn;
    a.num_threads = 2;
    st = rnnkit_forward(m, &a);
    rnnkit_test_fail_alloc_at = 0;
    rnnkit_model_destroy(m);
    return check_status(st, k, "rnnkit_forward");
}

/* A forward-only one-layer LSTM (the first 5 tensors), created without
 * injected failures. */
static rnnkit_model *make_lstm1(void) {
    rnnkit_tensor t[20];
    make_tensors(t);
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = RNNKIT_CELL_LSTM;
    rnnkit_model *m = NULL;
    rnnkit_test_fail_alloc_at = 0;
    cr_assert_eq(rnnkit_model_create(&d, t, 5, &m), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    return m;
}

static int scen_stream(long k) {
    rnnkit_model *m = make_lstm1();
    rnnkit_stream *s = NULL;
    arm(k);
    rnnkit_status st = rnnkit_stream_create(m, N, &s);
    if (st == RNNKIT_STATUS_OK) st = rnnkit_stream_push(s, x, T, y);
    rnnkit_test_fail_alloc_at = 0;
    rnnkit_stream_destroy(s);
    rnnkit_model_destroy(m);
    return check_status(st, k, "stream");
}

/* A model whose packed weights (4 x 384 x 384 floats, 2.25 MiB per set)
 * take the large-buffer path of the allocator (rk_alloc_large: 2 MiB
 * aligned, advised as huge pages), which must fail as cleanly. */
#define BIG 384
static int scen_big(long k) {
    static float *wb;
    if (!wb && !(wb = calloc((size_t)4 * BIG * BIG, sizeof(float)))) cr_assert_fail("calloc");
    static float bb[4 * BIG], xb[2 * BIG], yb[2 * BIG];
    rnnkit_tensor t[4] = {{"weight_ih_l0", wb, 2, {4 * BIG, BIG}},
                          {"weight_hh_l0", wb, 2, {4 * BIG, BIG}},
                          {"bias_ih_l0", bb, 1, {4 * BIG}},
                          {"bias_hh_l0", bb, 1, {4 * BIG}}};
    rnnkit_model_desc d;
    rnnkit_model_desc_init(&d);
    d.cell = RNNKIT_CELL_LSTM;
    rnnkit_model *m = NULL;
    arm(k);
    rnnkit_status st = rnnkit_model_create(&d, t, 4, &m);
    if (st != RNNKIT_STATUS_OK) {
        rnnkit_test_fail_alloc_at = 0;
        cr_assert(m == NULL);
        return check_status(st, k, "rnnkit_model_create (H 384)");
    }
    rnnkit_forward_args a = {0};
    a.seq_len = 2;
    a.batch = 1;
    a.x = xb;
    a.y = yb;
    st = rnnkit_forward(m, &a);
    rnnkit_test_fail_alloc_at = 0;
    rnnkit_model_destroy(m);
    return check_status(st, k, "rnnkit_forward (H 384)");
}

static char model_path[256];

static int scen_load(long k) {
    rnnkit_model *m = NULL;
    arm(k);
    rnnkit_status st = rnnkit_model_load(model_path, &m);
    rnnkit_test_fail_alloc_at = 0;
    rnnkit_model_destroy(m);
    return check_status(st, k, "rnnkit_model_load");
}

static void sweep(scenario_fn f, const char *name) {
    long k;
    for (k = 1; k < 10000; k++)
        if (f(k)) break;
    cr_assert(k > 1, "%s: expected at least one allocation", name);
    cr_log_info("%s: %ld allocation sites failed cleanly", name, k - 1);
}

Test(alloc, create_and_forward) { sweep(scen_create_forward, "create+forward"); }

Test(alloc, create_and_forward_large_buffers) { sweep(scen_big, "create+forward, H 384"); }

Test(alloc, stream) { sweep(scen_stream, "stream"); }

Test(alloc, load_safetensors) {
    rnnkit_tensor t[20];
    size_t n = make_tensors(t);
    snprintf(model_path, sizeof model_path, "/tmp/rnnkit_alloc_%d.safetensors", (int)getpid());
    const char *keys[1] = {"cell"}, *vals[1] = {"lstm"};
    rnnkit_test_fail_alloc_at = 0;
    cr_assert_eq(rk_safetensors_write(model_path, n, t, 1, keys, vals), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    sweep(scen_load, "load");
    unlink(model_path);
}

/* A forward call without a workspace keeps the one it allocated for the
 * next calls (src/model.c rk_ws_take): a second call of the same or a
 * smaller shape allocates nothing, a larger one allocates, and after
 * rnnkit_model_release_workspaces the next call allocates again; the
 * outputs stay the same bits whichever workspace a call gets. */
Test(alloc, forward_reuses_workspace) {
    rnnkit_model *m = make_lstm1();
    float y0[T * N * P], y1[T * N * P];
    rnnkit_forward_args a = {0};
    a.seq_len = T, a.batch = N, a.x = x, a.y = y0, a.num_threads = 1;
    rnnkit_test_alloc_count = 0;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_gt(rnnkit_test_alloc_count, 0, "the first call allocates its workspace");
    a.y = y1;
    rnnkit_test_alloc_count = 0;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(rnnkit_test_alloc_count, 0, "the same shape again: %ld allocations", rnnkit_test_alloc_count);
    cr_assert(memcmp(y0, y1, sizeof y0) == 0, "a reused workspace changed y");
    a.seq_len = 1;
    rnnkit_test_alloc_count = 0;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_eq(rnnkit_test_alloc_count, 0, "a shorter sequence: %ld allocations", rnnkit_test_alloc_count);
    cr_assert(memcmp(y0, y1, sizeof(float) * N * P) == 0, "step 0 of a shorter call differs");
    a.seq_len = T;
    rnnkit_model_release_workspaces(m);
    rnnkit_model_release_workspaces(NULL);
    rnnkit_test_alloc_count = 0;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_gt(rnnkit_test_alloc_count, 0, "after release the call allocates again");
    cr_assert(memcmp(y0, y1, sizeof y0) == 0, "y after release differs");
    static float xl[4 * T * N * I], yl[4 * T * N * P];
    a.seq_len = 4 * T, a.x = xl, a.y = yl;
    rnnkit_test_alloc_count = 0;
    cr_assert_eq(rnnkit_forward(m, &a), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    cr_assert_gt(rnnkit_test_alloc_count, 0, "a longer sequence needs a larger workspace");
    rnnkit_model_destroy(m);
}
