/*
 * The rnnkit command-line tool, run as a separate process: results
 * against a float64 reference written here (single layer) or against
 * rnnkit_forward in-process (everything else), the layouts of ONNX
 * outputs, and failures: exit status, exactly one line on stderr naming
 * the culprit, and no file left behind.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "formats.h"
#include "rnnkit.h"
#include "status.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Temp directory, paths, running the tool                             */
/* ------------------------------------------------------------------ */
static char g_root[64];  /* holds stdout/stderr captures */
static char g_dir[128];  /* g_root/d: the tool's inputs and outputs */

static void rm_tree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void) {
    strcpy(g_root, "/tmp/rnnkit_cli_XXXXXX");
    cr_assert_not_null(mkdtemp(g_root), "mkdtemp failed");
    snprintf(g_dir, sizeof g_dir, "%s/d", g_root);
    cr_assert_eq(mkdir(g_dir, 0700), 0);
}

static void teardown(void) { rm_tree(g_root); }

TestSuite(cli, .init = setup, .fini = teardown);

/* g_dir/name, in one of a ring of buffers so several can be live. */
static const char *P(const char *name) {
    static char ring[16][256];
    static int next;
    char *b = ring[next++ % 16];
    snprintf(b, sizeof ring[0], "%s/%s", g_dir, name);
    return b;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

/* Sorted listing of g_dir as one string ("a.npy b.npy "). */
static void listing(char *out, size_t len) {
    static char names[64][256];
    int n = 0;
    DIR *d = opendir(g_dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) memcpy(names[n++], e->d_name, sizeof names[0]);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, names[i], len - strlen(out) - 1);
        strncat(out, " ", len - strlen(out) - 1);
    }
}

typedef struct result {
    int code; /* exit status, or 128 + signal */
    char out[8192], err[4096];
} result;

static void slurp(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* Runs "rnnkit args..." (args NULL-terminated). */
static void run_tool(result *r, const char *const *args) {
    const char *build = getenv("RNNKIT_BUILD_DIR");
    cr_assert_not_null(build, "RNNKIT_BUILD_DIR is not set");
    char exe[512], out_path[128], err_path[128];
    snprintf(exe, sizeof exe, "%s/src/rnnkit", build);
    snprintf(out_path, sizeof out_path, "%s/stdout", g_root);
    snprintf(err_path, sizeof err_path, "%s/stderr", g_root);
    char *argv[40];
    int n = 0;
    argv[n++] = exe;
    while (*args && n < 39) argv[n++] = (char *)*args++;
    argv[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "cannot start %s: %s", exe, strerror(rc));
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    slurp(out_path, r->out, sizeof r->out);
    slurp(err_path, r->err, sizeof r->err);
}

#define RUN(r, ...) run_tool((r), (const char *const[]){__VA_ARGS__, NULL})

static void expect_ok(const result *r) {
    cr_assert_eq(r->code, 0, "exit %d, stderr: %s", r->code, r->err);
    cr_assert_str_empty(r->err, "stderr not empty: %s", r->err);
}

/* Failed with `code` (0 = any non-zero), one stderr line "rnnkit: ..."
 * containing each of the NULL-terminated strings in `want`. */
static void expect_fail(const result *r, int code, const char *const *want) {
    cr_assert(r->code != 0 && r->code < 128, "exit %d (expected failure), stderr: %s", r->code, r->err);
    if (code) cr_assert_eq(r->code, code, "exit %d, expected %d; stderr: %s", r->code, code, r->err);
    size_t len = strlen(r->err);
    cr_assert(len > 0 && r->err[len - 1] == '\n' && strchr(r->err, '\n') == r->err + len - 1,
              "stderr is not exactly one line: \"%s\"", r->err);
    cr_assert(!strncmp(r->err, "rnnkit: ", 8), "stderr does not start with \"rnnkit: \": %s", r->err);
    for (; *want; want++) cr_assert(strstr(r->err, *want), "stderr lacks \"%s\": %s", *want, r->err);
}

#define EXPECT_FAIL(r, code, ...) expect_fail((r), (code), (const char *const[]){__VA_ARGS__, NULL})

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */
static uint64_t g_seed;

static float rnd(float scale) {
    g_seed = g_seed * 6364136223846793005u + 1442695040888963407u;
    return scale * ((float)(g_seed >> 40) / (float)(1 << 23) - 1.0f);
}

static float *rnd_array(size_t n, float scale) {
    float *a = malloc(n * sizeof *a);
    cr_assert_not_null(a);
    for (size_t i = 0; i < n; i++) a[i] = rnd(scale);
    return a;
}

static void write_npy(const char *path, rk_dtype dt, int ndim, const int64_t *shape, const void *data) {
    rnnkit_status s = rk_npy_write(path, dt, ndim, shape, data);
    cr_assert_eq(s, RNNKIT_STATUS_OK, "rk_npy_write %s: %s", path, rnnkit_last_error());
}

#define NPY(path, dt, data, ...)                                                             \
    write_npy((path), (dt), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
              (const int64_t[]){__VA_ARGS__}, (data))

/* A model file: up to 24 random tensors plus metadata. */
typedef struct model {
    size_t n;
    rnnkit_tensor t[24];
    char names[24][32];
    float *data[24];
} model;

static const float *add_tensor(model *m, const char *name, int64_t d0, int64_t d1, int64_t d2) {
    cr_assert_lt(m->n, sizeof m->t / sizeof m->t[0], "too many tensors");
    size_t i = m->n++;
    int64_t shape[3] = {d0, d1, d2};
    int ndim = d2 ? 3 : d1 ? 2 : 1;
    size_t count = 1;
    for (int d = 0; d < ndim; d++) count *= (size_t)shape[d];
    snprintf(m->names[i], sizeof m->names[0], "%s", name);
    m->data[i] = rnd_array(count, 0.5f);
    m->t[i] = (rnnkit_tensor){.name = m->names[i], .data = m->data[i], .ndim = ndim};
    memcpy(m->t[i].shape, shape, sizeof shape);
    return m->data[i];
}

static void save_model(const model *m, const char *path, const char *const *keys, const char *const *values,
                       size_t nmeta) {
    rnnkit_status s = rk_safetensors_write(path, m->n, m->t, nmeta, keys, values);
    cr_assert_eq(s, RNNKIT_STATUS_OK, "rk_safetensors_write: %s", rnnkit_last_error());
}

static void free_model(model *m) {
    for (size_t i = 0; i < m->n; i++) free(m->data[i]);
}

/* Reads a float32 .npy and checks its shape. */
static float *load_f32(const char *path, int ndim, const int64_t *shape, rk_array *a) {
    rnnkit_status s = rk_npy_read(path, a);
    cr_assert_eq(s, RNNKIT_STATUS_OK, "%s: %s", path, rnnkit_last_error());
    cr_assert_eq(a->dtype, RK_DTYPE_F32, "%s: dtype %d", path, (int)a->dtype);
    cr_assert_eq(a->ndim, ndim, "%s: ndim %d, expected %d", path, a->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        cr_assert_eq(a->shape[d], shape[d], "%s: shape[%d] = %lld, expected %lld", path, d,
                     (long long)a->shape[d], (long long)shape[d]);
    return a->data;
}

#define LOAD(path, arr, ...)                                                                \
    load_f32((path), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
             (const int64_t[]){__VA_ARGS__}, (arr))

static void compare(const char *what, const float *got, const double *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])), "%s[%zu]: got %.8g, expected %.8g",
                  what, i, got[i], want[i]);
}

static void compare_f(const char *what, const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(got[i] - want[i]) <= tol * fmax(1.0, fabsf(want[i])),
                  "%s[%zu]: got %.8g, library in-process %.8g", what, i, got[i], want[i]);
}

/* ------------------------------------------------------------------ */
/* float64 reference: one layer, one direction, PyTorch semantics       */
/* ------------------------------------------------------------------ */
typedef struct ref_case {
    rnnkit_cell cell;
    int64_t T, N, I, H;
    const float *w_ih, *w_hh, *b_ih, *b_hh; /* [G*H, I], [G*H, H], [G*H] */
    const float *x;                         /* [T, N, I] */
    const float *h0, *c0;                   /* [N, H] or NULL */
    const int64_t *lengths;                 /* [N] or NULL */
} ref_case;

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* y [T,N,H], hn [N,H], cn [N,H]; outputs past a length are zero. */
static void ref_forward(const ref_case *c, double *y, double *hn, double *cn) {
    const int64_t G = c->cell == RNNKIT_CELL_LSTM ? 4 : c->cell == RNNKIT_CELL_GRU ? 3 : 1, H = c->H;
    double *gx = malloc((size_t)(2 * G * H) * sizeof *gx), *gh = gx + G * H;
    for (int64_t n = 0; n < c->N; n++) {
        double *h = hn + n * H, *cs = cn + n * H;
        for (int64_t j = 0; j < H; j++) {
            h[j] = c->h0 ? c->h0[n * H + j] : 0.0;
            cs[j] = c->c0 ? c->c0[n * H + j] : 0.0;
        }
        const int64_t len = c->lengths ? c->lengths[n] : c->T;
        for (int64_t t = 0; t < c->T; t++) {
            double *yt = y + (t * c->N + n) * H;
            if (t >= len) {
                for (int64_t j = 0; j < H; j++) yt[j] = 0.0;
                continue;
            }
            const float *xt = c->x + (t * c->N + n) * c->I;
            for (int64_t r = 0; r < G * H; r++) {
                double sx = c->b_ih[r], sh = c->b_hh[r];
                for (int64_t k = 0; k < c->I; k++) sx += (double)c->w_ih[r * c->I + k] * xt[k];
                for (int64_t k = 0; k < H; k++) sh += (double)c->w_hh[r * H + k] * h[k];
                gx[r] = sx;
                gh[r] = sh;
            }
            for (int64_t j = 0; j < H; j++) {
                switch (c->cell) {
                case RNNKIT_CELL_LSTM: {
                    double i = sigm(gx[j] + gh[j]), f = sigm(gx[H + j] + gh[H + j]);
                    double g = tanh(gx[2 * H + j] + gh[2 * H + j]), o = sigm(gx[3 * H + j] + gh[3 * H + j]);
                    cs[j] = f * cs[j] + i * g;
                    h[j] = o * tanh(cs[j]);
                    break;
                }
                case RNNKIT_CELL_GRU: {
                    double r = sigm(gx[j] + gh[j]), z = sigm(gx[H + j] + gh[H + j]);
                    double nn = tanh(gx[2 * H + j] + r * gh[2 * H + j]);
                    h[j] = (1.0 - z) * nn + z * h[j];
                    break;
                }
                case RNNKIT_CELL_RNN_RELU: h[j] = fmax(0.0, gx[j] + gh[j]); break;
                default: h[j] = tanh(gx[j] + gh[j]); break;
                }
            }
            for (int64_t j = 0; j < H; j++) yt[j] = h[j];
        }
    }
    free(gx);
}

/* A single-layer PyTorch model of `cell` in g_dir/model.safetensors. */
static void single_layer(model *m, ref_case *c, const char *cell_name) {
    const int64_t G = c->cell == RNNKIT_CELL_LSTM ? 4 : c->cell == RNNKIT_CELL_GRU ? 3 : 1;
    c->w_ih = add_tensor(m, "weight_ih_l0", G * c->H, c->I, 0);
    c->w_hh = add_tensor(m, "weight_hh_l0", G * c->H, c->H, 0);
    c->b_ih = add_tensor(m, "bias_ih_l0", G * c->H, 0, 0);
    c->b_hh = add_tensor(m, "bias_hh_l0", G * c->H, 0, 0);
    save_model(m, P("model.safetensors"), (const char *const[]){"cell"}, (const char *const[]){cell_name}, 1);
}

/* ------------------------------------------------------------------ */
/* run: results against the float64 reference                          */
/* ------------------------------------------------------------------ */
#define TOL 2e-5

Test(cli, lstm_matches_reference) {
    g_seed = 1;
    model m = {0};
    ref_case c = {.cell = RNNKIT_CELL_LSTM, .T = 5, .N = 3, .I = 4, .H = 6};
    single_layer(&m, &c, "lstm");
    float *x = rnd_array(5 * 3 * 4, 1.0f), *h0 = rnd_array(3 * 6, 0.5f), *c0 = rnd_array(3 * 6, 0.5f);
    c.x = x, c.h0 = h0, c.c0 = c0;
    NPY(P("x.npy"), RK_DTYPE_F32, x, 5, 3, 4);
    NPY(P("h0.npy"), RK_DTYPE_F32, h0, 1, 3, 6);
    NPY(P("c0.npy"), RK_DTYPE_F32, c0, 1, 3, 6);
    result r;
    RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"), "--h0",
        P("h0.npy"), "--c0", P("c0.npy"), "--hn", P("hn.npy"), "--cn", P("cn.npy"));
    expect_ok(&r);

    double y[5 * 3 * 6], hn[3 * 6], cn[3 * 6];
    ref_forward(&c, y, hn, cn);
    rk_array ay, ah, ac;
    compare("y", LOAD(P("y.npy"), &ay, 5, 3, 6), y, 5 * 3 * 6, TOL);
    compare("hn", LOAD(P("hn.npy"), &ah, 1, 3, 6), hn, 3 * 6, TOL);
    compare("cn", LOAD(P("cn.npy"), &ac, 1, 3, 6), cn, 3 * 6, TOL);
    cr_assert(strstr(r.out, "[5,3,6]"), "summary lacks the output shape: %s", r.out);
    rk_array_free(&ay), rk_array_free(&ah), rk_array_free(&ac);
    free(x), free(h0), free(c0), free_model(&m);
}

Test(cli, gru_int64_lengths_match_reference) {
    g_seed = 2;
    model m = {0};
    ref_case c = {.cell = RNNKIT_CELL_GRU, .T = 6, .N = 3, .I = 5, .H = 4};
    single_layer(&m, &c, "gru");
    float *x = rnd_array(6 * 3 * 5, 1.0f), *h0 = rnd_array(3 * 4, 0.5f);
    const int64_t len[3] = {6, 2, 4};
    c.x = x, c.h0 = h0, c.lengths = len;
    NPY(P("x.npy"), RK_DTYPE_F32, x, 6, 3, 5);
    NPY(P("h0.npy"), RK_DTYPE_F32, h0, 1, 3, 4);
    NPY(P("len.npy"), RK_DTYPE_I64, len, 3);
    result r;
    RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"), "--h0",
        P("h0.npy"), "--lengths", P("len.npy"), "--hn", P("hn.npy"), "--quiet");
    expect_ok(&r);
    cr_assert_str_empty(r.out, "--quiet printed: %s", r.out);

    double y[6 * 3 * 4], hn[3 * 4], cn[3 * 4];
    ref_forward(&c, y, hn, cn);
    rk_array ay, ah;
    compare("y", LOAD(P("y.npy"), &ay, 6, 3, 4), y, 6 * 3 * 4, TOL);
    compare("hn", LOAD(P("hn.npy"), &ah, 1, 3, 4), hn, 3 * 4, TOL);
    rk_array_free(&ay), rk_array_free(&ah);
    free(x), free(h0), free_model(&m);
}

Test(cli, rnn_tanh_batch_major_matches_reference) {
    g_seed = 3;
    model m = {0};
    enum { T = 4, N = 2, I = 3, H = 5 };
    ref_case c = {.cell = RNNKIT_CELL_RNN_TANH, .T = T, .N = N, .I = I, .H = H};
    single_layer(&m, &c, "rnn_tanh");
    float *xb = rnd_array(N * T * I, 1.0f);
    float xs[T * N * I];
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) memcpy(xs + (t * N + n) * I, xb + (n * T + t) * I, I * sizeof(float));
    c.x = xs;
    NPY(P("x.npy"), RK_DTYPE_F32, xb, N, T, I);
    result r;
    RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"),
        "--batch-major", "--hn", P("hn.npy"), "--threads", "1");
    expect_ok(&r);

    double y[T * N * H], yb[N * T * H], hn[N * H], cn[N * H];
    ref_forward(&c, y, hn, cn);
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) memcpy(yb + (n * T + t) * H, y + (t * N + n) * H, H * sizeof(double));
    rk_array ay, ah;
    compare("y", LOAD(P("y.npy"), &ay, N, T, H), yb, N * T * H, TOL);
    compare("hn", LOAD(P("hn.npy"), &ah, 1, N, H), hn, N * H, TOL);
    rk_array_free(&ay), rk_array_free(&ah);
    free(xb), free_model(&m);
}

/* ------------------------------------------------------------------ */
/* run: against rnnkit_forward in-process                              */
/* ------------------------------------------------------------------ */
typedef struct io {
    const float *x, *h0, *c0;
    const int32_t *lengths;
    int64_t T, N;
    int batch_major;
} io;

/* rnnkit_forward on the model file; out: y, hn, cn sized by the caller. */
static void forward_in_process(const char *path, const io *in, float *y, float *hn, float *cn) {
    rnnkit_model *mdl;
    cr_assert_eq(rnnkit_model_load(path, &mdl), RNNKIT_STATUS_OK, "load: %s", rnnkit_last_error());
    rnnkit_forward_args a = {.seq_len = in->T, .batch = in->N, .batch_major = in->batch_major, .x = in->x,
                             .lengths = in->lengths, .h0 = in->h0, .c0 = in->c0, .y = y, .hn = hn, .cn = cn,
                             .num_threads = 1};
    cr_assert_eq(rnnkit_forward(mdl, &a), RNNKIT_STATUS_OK, "forward: %s", rnnkit_last_error());
    rnnkit_model_destroy(mdl);
}

Test(cli, bidirectional_projected_lstm_matches_library) {
    g_seed = 4;
    enum { T = 5, N = 3, I = 4, H = 6, P_ = 3, L = 2, D = 2 };
    model m = {0};
    static const char *const sfx[2] = {"", "_reverse"};
    static const char *const base[5] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"};
    for (int l = 0; l < L; l++)
        for (int d = 0; d < D; d++) {
            const int64_t rows[5] = {4 * H, 4 * H, 4 * H, 4 * H, P_}, cols[5] = {l ? D * P_ : I, P_, 0, 0, H};
            for (int k = 0; k < 5; k++) {
                char name[32];
                snprintf(name, sizeof name, "%s_l%d%s", base[k], l, sfx[d]);
                add_tensor(&m, name, rows[k], cols[k], 0);
            }
        }
    save_model(&m, P("model.safetensors"), (const char *const[]){"cell"}, (const char *const[]){"lstm"}, 1);
    float *x = rnd_array(T * N * I, 1.0f), *h0 = rnd_array(L * D * N * P_, 0.5f);
    float *c0 = rnd_array(L * D * N * H, 0.5f);
    const int32_t len[N] = {5, 1, 3};
    NPY(P("x.npy"), RK_DTYPE_F32, x, T, N, I);
    NPY(P("h0.npy"), RK_DTYPE_F32, h0, L * D, N, P_);
    NPY(P("c0.npy"), RK_DTYPE_F32, c0, L * D, N, H);
    NPY(P("len.npy"), RK_DTYPE_I32, len, N);
    result r;
    RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"), "--h0",
        P("h0.npy"), "--c0", P("c0.npy"), "--lengths", P("len.npy"), "--hn", P("hn.npy"), "--cn",
        P("cn.npy"), "--threads", "1");
    expect_ok(&r);

    float y[T * N * D * P_], hn[L * D * N * P_], cn[L * D * N * H];
    io in = {.x = x, .h0 = h0, .c0 = c0, .lengths = len, .T = T, .N = N};
    forward_in_process(P("model.safetensors"), &in, y, hn, cn);
    rk_array ay, ah, ac;
    compare_f("y", LOAD(P("y.npy"), &ay, T, N, D * P_), y, T * N * D * P_, 1e-6);
    compare_f("hn", LOAD(P("hn.npy"), &ah, L * D, N, P_), hn, L * D * N * P_, 1e-6);
    compare_f("cn", LOAD(P("cn.npy"), &ac, L * D, N, H), cn, L * D * N * H, 1e-6);
    rk_array_free(&ay), rk_array_free(&ah), rk_array_free(&ac);
    free(x), free(h0), free(c0), free_model(&m);
}

/* ONNX GRU, bidirectional: Y [T,D,N,H] (layout 0) or [N,T,D,H] (layout 1,
 * implied: no --batch-major given), states [D,N,H] or [N,D,H]. */
static void onnx_gru(int layout) {
    g_seed = 5 + (uint64_t)layout;
    enum { T = 4, N = 3, I = 5, H = 6, D = 2 };
    model m = {0};
    add_tensor(&m, "W", D, 3 * H, I);
    add_tensor(&m, "R", D, 3 * H, H);
    add_tensor(&m, "B", D, 6 * H, 0);
    save_model(&m, P("model.safetensors"),
               (const char *const[]){"layout", "cell", "direction", "linear_before_reset", "onnx_layout"},
               (const char *const[]){"onnx", "gru", "bidirectional", "1", "1"}, layout ? 5 : 4);
    float *x = rnd_array(T * N * I, 1.0f), *h0 = rnd_array(D * N * H, 0.5f);
    const int64_t len[N] = {4, 0, 2};
    if (layout) {
        NPY(P("x.npy"), RK_DTYPE_F32, x, N, T, I);
        NPY(P("h0.npy"), RK_DTYPE_F32, h0, N, D, H);
    } else {
        NPY(P("x.npy"), RK_DTYPE_F32, x, T, N, I);
        NPY(P("h0.npy"), RK_DTYPE_F32, h0, D, N, H);
    }
    NPY(P("len.npy"), RK_DTYPE_I64, len, N);
    result r;
    RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"), "--h0",
        P("h0.npy"), "--lengths", P("len.npy"), "--hn", P("hn.npy"), "--threads", "1");
    expect_ok(&r);

    float y[T * D * N * H], hn[D * N * H];
    const int32_t len32[N] = {4, 0, 2};
    io in = {.x = x, .h0 = h0, .lengths = len32, .T = T, .N = N, .batch_major = layout};
    forward_in_process(P("model.safetensors"), &in, y, hn, NULL);
    rk_array ay, ah;
    const float *gy = layout ? LOAD(P("y.npy"), &ay, N, T, D, H) : LOAD(P("y.npy"), &ay, T, D, N, H);
    const float *gh = layout ? LOAD(P("hn.npy"), &ah, N, D, H) : LOAD(P("hn.npy"), &ah, D, N, H);
    compare_f("y", gy, y, T * D * N * H, 1e-6);
    compare_f("hn", gh, hn, D * N * H, 1e-6);
    rk_array_free(&ay), rk_array_free(&ah);
    free(x), free(h0), free_model(&m);
}

Test(cli, onnx_layout0_shapes_and_values) { onnx_gru(0); }
Test(cli, onnx_layout1_shapes_and_values) { onnx_gru(1); }

/* ------------------------------------------------------------------ */
/* Failures: one line, the culprit named, nothing left behind           */
/* ------------------------------------------------------------------ */
/* A valid single-layer LSTM (I=4, H=6) with x [5,3,4] in g_dir. */
static void lstm_files(model *m) {
    g_seed = 9;
    ref_case c = {.cell = RNNKIT_CELL_LSTM, .T = 5, .N = 3, .I = 4, .H = 6};
    single_layer(m, &c, "lstm");
    float *x = rnd_array(5 * 3 * 4, 1.0f);
    NPY(P("x.npy"), RK_DTYPE_F32, x, 5, 3, 4);
    free(x);
}

/* Runs `run` with the given extra arguments after the three required
 * ones; expects failure naming each of `want`, and g_dir unchanged. */
static void run_fails(int code, const char *const *extra, const char *const *want) {
    char before[2048], after[2048];
    listing(before, sizeof before);
    const char *args[32] = {"run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output",
                            P("y.npy")};
    int n = 7;
    while (*extra && n < 31) args[n++] = *extra++;
    args[n] = NULL;
    result r;
    run_tool(&r, args);
    expect_fail(&r, code, want);
    listing(after, sizeof after);
    cr_assert_str_eq(after, before, "files left behind: before \"%s\", after \"%s\"", before, after);
}

#define LIST(...) (const char *const[]){__VA_ARGS__, NULL}
#define NONE (const char *const[]){NULL}

Test(cli, missing_weights_file) {
    model m = {0};
    lstm_files(&m);
    unlink(P("model.safetensors"));
    run_fails(1, NONE, LIST("model.safetensors"));
    free_model(&m);
}

Test(cli, missing_input_file) {
    model m = {0};
    lstm_files(&m);
    unlink(P("x.npy"));
    run_fails(1, NONE, LIST("x.npy"));
    free_model(&m);
}

Test(cli, malformed_npy) {
    model m = {0};
    lstm_files(&m);
    FILE *f = fopen(P("x.npy"), "wb");
    cr_assert_not_null(f);
    fputs("\x93NUMPY\x01\x00garbage that is not a header", f);
    fclose(f);
    run_fails(1, NONE, LIST("x.npy"));
    free_model(&m);
}

Test(cli, malformed_weights) {
    model m = {0};
    lstm_files(&m);
    FILE *f = fopen(P("model.safetensors"), "wb");
    cr_assert_not_null(f);
    fputs("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", f);
    fclose(f);
    run_fails(1, NONE, LIST("model.safetensors"));
    free_model(&m);
}

Test(cli, input_wrong_dtype) {
    model m = {0};
    lstm_files(&m);
    int32_t xi[5 * 3 * 4] = {0};
    NPY(P("x.npy"), RK_DTYPE_I32, xi, 5, 3, 4);
    run_fails(1, NONE, LIST("x.npy", "float32", "int32"));
    free_model(&m);
}

Test(cli, input_wrong_shape) {
    model m = {0};
    lstm_files(&m);
    float x[5 * 3 * 5] = {0};
    NPY(P("x.npy"), RK_DTYPE_F32, x, 5, 3, 5);
    run_fails(1, NONE, LIST("x.npy", "[*,*,4]", "[5,3,5]"));
    free_model(&m);
}

Test(cli, h0_wrong_shape) {
    model m = {0};
    lstm_files(&m);
    float h[1 * 4 * 6] = {0};
    NPY(P("h0.npy"), RK_DTYPE_F32, h, 1, 4, 6);
    run_fails(1, LIST("--h0", P("h0.npy"), "--hn", P("hn.npy")), LIST("h0.npy", "[1,3,6]", "[1,4,6]"));
    free_model(&m);
}

Test(cli, c0_wrong_shape) {
    model m = {0};
    lstm_files(&m);
    float c[2 * 3 * 6] = {0};
    NPY(P("c0.npy"), RK_DTYPE_F32, c, 2, 3, 6);
    run_fails(1, LIST("--c0", P("c0.npy")), LIST("c0.npy", "[1,3,6]", "[2,3,6]"));
    free_model(&m);
}

Test(cli, lengths_wrong_dtype_and_range) {
    model m = {0};
    lstm_files(&m);
    const float lf[3] = {5, 5, 5};
    NPY(P("lf.npy"), RK_DTYPE_F32, lf, 3);
    run_fails(1, LIST("--lengths", P("lf.npy")), LIST("lf.npy", "int64"));
    const int64_t big[3] = {5, 4294967301LL, 5};
    NPY(P("big.npy"), RK_DTYPE_I64, big, 3);
    run_fails(1, LIST("--lengths", P("big.npy")), LIST("big.npy", "4294967301"));
    const int32_t zero[3] = {5, 0, 5}; /* PyTorch models need 1..T */
    NPY(P("zero.npy"), RK_DTYPE_I32, zero, 3);
    run_fails(1, LIST("--lengths", P("zero.npy"), "--hn", P("hn.npy")), LIST("zero.npy"));
    free_model(&m);
}

Test(cli, usage_errors) {
    model m = {0};
    lstm_files(&m);
    run_fails(2, LIST("--bogus"), LIST("--bogus"));
    run_fails(2, LIST("--threads", "many"), LIST("--threads", "many"));
    run_fails(2, LIST("--hn"), LIST("--hn"));
    run_fails(2, LIST("stray"), LIST("stray"));
    run_fails(2, LIST("--isa", "sse9"), LIST("--isa", "sse9", "scalar"));
    float c[3 * 6] = {0};
    NPY(P("c0.npy"), RK_DTYPE_F32, c, 1, 3, 6);
    free_model(&m);

    /* --c0 for a GRU, which has no cell state. */
    model g = {0};
    ref_case rc = {.cell = RNNKIT_CELL_GRU, .T = 5, .N = 3, .I = 4, .H = 6};
    single_layer(&g, &rc, "gru");
    run_fails(2, LIST("--c0", P("c0.npy")), LIST("--c0"));
    free_model(&g);

    result r;
    RUN(&r, "run", "--input", P("x.npy"), "--output", P("y.npy"));
    EXPECT_FAIL(&r, 2, "--weights");
    RUN(&r, "frobnicate");
    EXPECT_FAIL(&r, 2, "frobnicate");
    RUN(&r, "--frobnicate");
    EXPECT_FAIL(&r, 2, "--frobnicate");
    RUN(&r, "info", "--bogus");
    EXPECT_FAIL(&r, 2, "--bogus");
    RUN(&r, "example");
    EXPECT_FAIL(&r, 2, "example");
}

Test(cli, output_in_missing_directory) {
    model m = {0};
    lstm_files(&m);
    run_fails(1, LIST("--output", P("nodir/y.npy")), LIST("nodir/y.npy"));
    /* The second output fails: the first one, already written, goes. */
    run_fails(1, LIST("--hn", P("nodir/hn.npy")), LIST("nodir/hn.npy"));
    run_fails(1, LIST("--hn", P("hn.npy"), "--cn", P("nodir/cn.npy")), LIST("nodir/cn.npy"));
    cr_assert(!exists(P("y.npy")) && !exists(P("hn.npy")), "an output was left behind");
    free_model(&m);
}

/* Every ISA this CPU supports is accepted and gives the same answer
 * within float tolerance. */
Test(cli, isa_option) {
    model m = {0};
    lstm_files(&m);
    static const char *const isas[] = {"scalar", "avx2", "avx512", "neon", "auto"};
    rk_array first = {0};
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (i < 4 && !rnnkit_isa_supported(isas[i])) continue;
        result r;
        RUN(&r, "run", "--weights", P("model.safetensors"), "--input", P("x.npy"), "--output", P("y.npy"),
            "--isa", isas[i]);
        expect_ok(&r);
        if (i < 4) cr_assert(strstr(r.out, isas[i]), "summary does not name isa %s: %s", isas[i], r.out);
        rk_array a;
        const float *y = LOAD(P("y.npy"), &a, 5, 3, 6);
        if (!first.data)
            first = a;
        else
            compare_f(isas[i], y, first.data, 5 * 3 * 6, 1e-5), rk_array_free(&a);
    }
    rk_array_free(&first);
    free_model(&m);
}

/* ------------------------------------------------------------------ */
/* info, example, help, version                                        */
/* ------------------------------------------------------------------ */
Test(cli, info) {
    result r;
    RUN(&r, "info");
    expect_ok(&r);
    char want[64];
    snprintf(want, sizeof want, "rnnkit %s\n", rnnkit_version());
    cr_assert(strstr(r.out, want), "no version line: %s", r.out);
    snprintf(want, sizeof want, "active isa: %s\n", rnnkit_isa_active());
    cr_assert(strstr(r.out, want), "no \"%s\": %s", want, r.out);
    cr_assert(strstr(r.out, "scalar"), "scalar not listed: %s", r.out);
    double c[3];
    rk_cache_sizes(c);
    snprintf(want, sizeof want, "caches: L1d %.0f KiB, L2 %.0f KiB per core,", c[0] / 1024, c[1] / 1024);
    cr_assert(strstr(r.out, want), "no \"%s\": %s", want, r.out);
}

Test(cli, example_then_run) {
    result r;
    RUN(&r, "example", P("ex"));
    expect_ok(&r);
    cr_assert(exists(P("ex/model.safetensors")) && exists(P("ex/x.npy")));
    rnnkit_model *mdl;
    cr_assert_eq(rnnkit_model_load(P("ex/model.safetensors"), &mdl), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    rnnkit_model_info mi;
    cr_assert_eq(rnnkit_model_get_info(mdl, &mi), RNNKIT_STATUS_OK);
    cr_assert(mi.cell == RNNKIT_CELL_LSTM && mi.layout == RNNKIT_LAYOUT_PYTORCH && mi.num_layers == 2 &&
                  mi.input_size == 16 && mi.hidden_size == 32 && mi.num_directions == 1,
              "example model: cell %d layout %d L %lld I %lld H %lld D %lld", mi.cell, mi.layout,
              (long long)mi.num_layers, (long long)mi.input_size, (long long)mi.hidden_size,
              (long long)mi.num_directions);
    rnnkit_model_destroy(mdl);

    RUN(&r, "run", "--weights", P("ex/model.safetensors"), "--input", P("ex/x.npy"), "--output", P("ex/y.npy"));
    expect_ok(&r);
    cr_assert(strstr(r.out, "[20,2,32]"), "summary lacks the output shape: %s", r.out);
    rk_array a, x;
    const float *y = LOAD(P("ex/y.npy"), &a, 20, 2, 32);
    int nonzero = 0;
    for (int i = 0; i < 20 * 2 * 32; i++) nonzero += y[i] != 0.0f && fabsf(y[i]) < 1.0f;
    cr_assert_gt(nonzero, 20 * 2 * 32 / 2, "implausible LSTM output (%d non-zero in (-1,1))", nonzero);
    static float want[20 * 2 * 32];
    io in = {.x = LOAD(P("ex/x.npy"), &x, 20, 2, 16), .T = 20, .N = 2};
    forward_in_process(P("ex/model.safetensors"), &in, want, NULL, NULL);
    compare_f("y", y, want, 20 * 2 * 32, 1e-5);
    rk_array_free(&a), rk_array_free(&x);

    /* Deterministic: a second example is byte-identical. */
    RUN(&r, "example", P("ex2"));
    expect_ok(&r);
    void *b1, *b2;
    size_t n1, n2;
    cr_assert_eq(rk_read_file(P("ex/model.safetensors"), &b1, &n1), RNNKIT_STATUS_OK);
    cr_assert_eq(rk_read_file(P("ex2/model.safetensors"), &b2, &n2), RNNKIT_STATUS_OK);
    cr_assert(n1 == n2 && !memcmp(b1, b2, n1), "example model differs between runs");
    rk_free(b1), rk_free(b2);
}

Test(cli, help_and_version) {
    result r;
    RUN(&r, "--version");
    expect_ok(&r);
    char want[64];
    snprintf(want, sizeof want, "rnnkit %s\n", rnnkit_version());
    cr_assert_str_eq(r.out, want);
    static const char *const cmds[] = {"run", "info", "example"};
    result top;
    RUN(&top, "--help");
    expect_ok(&top);
    for (int i = 0; i < 3; i++) {
        cr_assert(strstr(top.out, cmds[i]), "--help does not mention %s: %s", cmds[i], top.out);
        RUN(&r, cmds[i], "--help");
        expect_ok(&r);
        cr_assert(strstr(r.out, "usage: rnnkit"), "%s --help: %s", cmds[i], r.out);
    }
    RUN(&r, "run", "--help");
    cr_assert(strstr(r.out, "--batch-major"), "run --help lacks --batch-major: %s", r.out);
}

/* rnnkit prof --bounds: the bound of each shape from the cached machine
 * limits, nothing timed. The limits file the first call writes is
 * replaced by round numbers, so the bounds can be worked out by hand:
 * scalar FMA peak 100 GFLOP/s (1 thread); L2 2 MiB at 100 GB/s.
 * LSTM H = I = 256, T 50: 1 MiB of recurrent weights per step, from L2:
 * 10.48576 us; recurrent flops 2*4*256*256 = 524288 -> 5.24288 us; input
 * projection 5.24288 us per step. Batch 1: 10.48576 + 5.24288 =
 * 15.72864 us per step (L2); batch 16: 16 * (5.24288 + 5.24288) =
 * 167.77216 us (FMA). */
Test(cli, prof_bounds_from_cached_limits) {
    cr_assert_eq(setenv("XDG_CACHE_HOME", g_dir, 1), 0);
    result r;
    RUN(&r, "prof", "--bounds", "--isa", "scalar", "--cell", "rnn", "--hidden", "8", "--batch", "1", "--csv");
    expect_ok(&r);
    char dir[256], file[512] = "";
    snprintf(dir, sizeof dir, "%s/rnnkit", g_dir);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "no cache folder %s", dir);
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, "limits-", 7)) snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
    closedir(d);
    cr_assert(file[0], "no limits file in %s", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs("rnnkit-limits 2\ncpu Test CPU\ncores 2\ncache L1 32768\ncache L2 2097152\ncache L3 33554432\n"
          "fma scalar 100 200\nread L1 400 800\nread L2 100 200\nread L3 50 90\nread DRAM 20 30\n",
          f);
    cr_assert_eq(fclose(f), 0);
    RUN(&r, "prof", "--bounds", "--isa", "scalar", "--cell", "lstm", "--hidden", "256", "--batch", "1,16",
        "--json");
    expect_ok(&r);
    const char *b1 = strstr(r.out, "\"batch\": 1,"), *b16 = strstr(r.out, "\"batch\": 16,");
    cr_assert(b1 && b16, "rows: %s", r.out);
    cr_expect(strstr(b1, "\"bound_us_per_step\": 15.7286, \"limit\": \"L2\"") != NULL, "batch 1: %s", r.out);
    cr_expect(strstr(b16, "\"bound_us_per_step\": 167.7722, \"limit\": \"FMA\"") != NULL, "batch 16: %s", r.out);
    cr_expect(strstr(b1, "\"us_per_step\": null") != NULL, "timed: %s", r.out);
    cr_expect(strstr(r.out, "\"cpu\": \"Test CPU\""), "limits not from the cache file: %s", r.out);
}

/* rnnkit prof on a bidirectional 2-layer grid: one CSV row per (cell,
 * batch), each with the grid's layers and directions (the machine
 * limits are measured into a cache under the test's directory). */
Test(cli, prof_bidirectional_grid) {
    cr_assert_eq(setenv("XDG_CACHE_HOME", g_dir, 1), 0);
    result r;
    RUN(&r, "prof", "--cell", "rnn,gru", "--hidden", "8", "--batch", "1,2", "--dirs", "2", "--layers", "2",
        "--time", "0.001", "--csv");
    expect_ok(&r);
    int rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "cell,", 5)) continue;
        char cell[16];
        long in, hid, proj, layers, dirs, batch;
        cr_assert_eq(sscanf(line, "%15[^,],%ld,%ld,%ld,%ld,%ld,%ld", cell, &in, &hid, &proj, &layers, &dirs, &batch),
                     7, "row \"%s\"", line);
        cr_expect(hid == 8 && layers == 2 && dirs == 2, "row \"%s\"", line);
        rows++;
    }
    cr_expect_eq(rows, 4, "rows: %d\n%s", rows, r.out);
    /* --dirs takes 1 or 2 only. */
    RUN(&r, "prof", "--dirs", "3");
    cr_expect_neq(r.code, 0);
    cr_expect(strstr(r.err, "--dirs") != NULL, "stderr: %s", r.err);
}
