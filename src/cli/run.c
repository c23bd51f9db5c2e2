/*
 * rnnkit run: one rnnkit_forward over tensors read from .npy files.
 *
 * Every input is checked against the model (dtype and shape, with the
 * file named in the message) before anything runs. Outputs are written
 * atomically by rk_npy_write; if a later output fails, the ones this run
 * already wrote are removed, so a failed run leaves no output behind.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "src/formats.h"

static const char run_usage[] =
    "usage: rnnkit run --weights M.safetensors --input X.npy --output Y.npy [options]\n"
    "\n"
    "Runs the model over X (float32 [T,N,I], or [N,T,I] with --batch-major)\n"
    "and writes Y. Shapes (L layers, D directions, H hidden, P output size):\n"
    "  PyTorch models: Y [T,N,D*P]; H0/HN [L*D,N,P]; C0/CN [L*D,N,H]\n"
    "  ONNX models:    Y [T,D,N,H]; H0/HN/C0/CN [D,N,H]\n"
    "                  (onnx_layout 1: X [N,T,I], Y [N,T,D,H], states [N,D,H])\n"
    "  Keras models:   always batch-major: X [N,T,I], Y [N,T,D*H] (merge_mode\n"
    "                  sum/mul/ave: Y [N,T,H]); H0/HN/C0/CN [D,N,H]\n"
    "\n"
    "options:\n"
    "  --weights FILE   model (.safetensors)\n"
    "  --input FILE     input sequence X (.npy, float32)\n"
    "  --output FILE    output Y (.npy)\n"
    "  --h0 FILE        initial hidden state (default zeros)\n"
    "  --c0 FILE        initial cell state, LSTM only (default zeros)\n"
    "  --lengths FILE   sequence lengths [N], int32 or int64\n"
    "  --hn FILE        write the final hidden state\n"
    "  --cn FILE        write the final cell state (LSTM only)\n"
    "  --threads N      threads (0 = library default)\n"
    "  --isa NAME       kernels to use: scalar, avx2, avx512, neon, auto\n"
    "  --batch-major    X and Y are batch-major (PyTorch models)\n"
    "  -q, --quiet      print nothing on success\n"
    "  -h, --help       show this help\n";

typedef struct run_opts {
    const char *weights, *input, *output, *h0, *c0, *lengths, *hn, *cn, *isa;
    const char *threads;
    int batch_major, quiet;
} run_opts;

/* Everything one run owns, released in one place. */
typedef struct run_ctx {
    rnnkit_model *model;
    rk_array x, lengths, h0, c0;
    int32_t *len32;
    float *y, *hn, *cn;
} run_ctx;

static int parse_opts(int argc, char **argv, run_opts *o) {
    const struct {
        const char *name;
        const char **dst;
    } valued[] = {
        {"--weights", &o->weights}, {"--input", &o->input}, {"--output", &o->output},
        {"--h0", &o->h0},           {"--c0", &o->c0},       {"--lengths", &o->lengths},
        {"--hn", &o->hn},           {"--cn", &o->cn},       {"--threads", &o->threads},
        {"--isa", &o->isa},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--batch-major")) {
            o->batch_major = 1;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        size_t k = 0, nk = sizeof valued / sizeof valued[0];
        const char *val = NULL;
        for (; k < nk; k++) {
            size_t n = strlen(valued[k].name);
            if (!strncmp(a, valued[k].name, n) && (a[n] == '\0' || a[n] == '=')) {
                val = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
                break;
            }
        }
        if (k == nk) {
            if (a[0] == '-') return cli_error(CLI_EXIT_USAGE, a, "unknown option (see rnnkit run --help)");
            return cli_error(CLI_EXIT_USAGE, a, "unexpected argument (see rnnkit run --help)");
        }
        if (!val || !val[0]) return cli_error(CLI_EXIT_USAGE, valued[k].name, "needs a value");
        *valued[k].dst = val;
    }
    if (!o->weights) return cli_error(CLI_EXIT_USAGE, "--weights", "missing (see rnnkit run --help)");
    if (!o->input) return cli_error(CLI_EXIT_USAGE, "--input", "missing (see rnnkit run --help)");
    if (!o->output) return cli_error(CLI_EXIT_USAGE, "--output", "missing (see rnnkit run --help)");
    return CLI_EXIT_OK;
}

static int parse_threads(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 4096)
        return cli_error(CLI_EXIT_USAGE, "--threads", "'%s' is not a thread count (0..4096)", s);
    *out = (int)v;
    return CLI_EXIT_OK;
}

static int select_isa(const char *name) {
    static const char *const isas[] = {"scalar", "avx2", "avx512", "neon"};
    if (rnnkit_isa_select(name) == RNNKIT_STATUS_OK) return CLI_EXIT_OK;
    char list[64] = "";
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!rnnkit_isa_supported(isas[i])) continue;
        if (list[0]) strcat(list, ", ");
        strcat(list, isas[i]);
    }
    return cli_error(CLI_EXIT_USAGE, "--isa", "'%s' is not available; this CPU supports: %s, auto", name,
                     list);
}

/* "[20,2,16]"; a negative extent (any value) prints as "*". */
static void shape_str(char *buf, size_t len, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < ndim && n < len; d++) {
        if (shape[d] < 0)
            n += (size_t)snprintf(buf + n, len - n, "%s*", d ? "," : "");
        else
            n += (size_t)snprintf(buf + n, len - n, "%s%lld", d ? "," : "", (long long)shape[d]);
    }
    if (n < len) snprintf(buf + n, len - n, "]");
}

/* Reads path and checks dtype and shape; a negative expected extent
 * matches any value (used for X's T and N). */
static int read_checked(const char *path, rk_dtype dtype, int ndim, const int64_t *shape,
                        rk_array *out) {
    rnnkit_status s = rk_npy_read(path, out);
    if (s != RNNKIT_STATUS_OK) return cli_lib_error(path, s);
    int ok = out->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = shape[d] < 0 || shape[d] == out->shape[d];
    if (out->dtype == dtype && ok) return CLI_EXIT_OK;
    char want[96], got[96];
    shape_str(want, sizeof want, ndim, shape);
    shape_str(got, sizeof got, out->ndim, out->shape);
    return cli_error(CLI_EXIT_FAIL, path, "expected %s %s, got %s %s", rk_dtype_name(dtype), want,
                     rk_dtype_name(out->dtype), got);
}

static int read_lengths(const char *path, int64_t n, rk_array *arr, int32_t **out) {
    rk_dtype dt = RK_DTYPE_I32;
    rnnkit_status s = rk_npy_read(path, arr);
    if (s != RNNKIT_STATUS_OK) return cli_lib_error(path, s);
    if (arr->dtype == RK_DTYPE_I64) dt = RK_DTYPE_I64;
    if (arr->dtype != dt || arr->ndim != 1 || arr->shape[0] != n) {
        char got[96];
        shape_str(got, sizeof got, arr->ndim, arr->shape);
        return cli_error(CLI_EXIT_FAIL, path, "expected int32 or int64 [%lld], got %s %s", (long long)n,
                         rk_dtype_name(arr->dtype), got);
    }
    if (dt == RK_DTYPE_I32) {
        *out = arr->data;
        return CLI_EXIT_OK;
    }
    const int64_t *v = arr->data;
    int32_t *l = malloc((size_t)n * sizeof *l);
    if (!l) return cli_error(CLI_EXIT_FAIL, path, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
            free(l);
            return cli_error(CLI_EXIT_FAIL, path, "lengths[%lld] = %lld does not fit in int32", (long long)i,
                             (long long)v[i]);
        }
        l[i] = (int32_t)v[i];
    }
    *out = l;
    return CLI_EXIT_OK;
}

static float *alloc_floats(int ndim, const int64_t *shape) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0 || (uint64_t)shape[d] > SIZE_MAX / sizeof(float) / n) return NULL;
        n *= (size_t)shape[d];
    }
    return malloc(n * sizeof(float));
}

typedef struct out_file {
    const char *path;
    int ndim;
    int64_t shape[4];
    const float *data;
} out_file;

/* Writes every output, or none: on a failure, removes those written. */
static int write_outputs(const out_file *outs, int n) {
    for (int i = 0; i < n; i++) {
        rnnkit_status s = rk_npy_write(outs[i].path, RK_DTYPE_F32, outs[i].ndim, outs[i].shape,
                                       outs[i].data);
        if (s != RNNKIT_STATUS_OK) {
            int rc = cli_lib_error(outs[i].path, s);
            while (i-- > 0) remove(outs[i].path);
            return rc;
        }
    }
    return CLI_EXIT_OK;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int run(const run_opts *o, run_ctx *c) {
    int rc, threads = 0;
    if (o->threads && (rc = parse_threads(o->threads, &threads))) return rc;
    if (o->isa && (rc = select_isa(o->isa))) return rc;

    rnnkit_status s = rnnkit_model_load(o->weights, &c->model);
    if (s != RNNKIT_STATUS_OK) return cli_lib_error(o->weights, s);
    rnnkit_model_info mi;
    if ((s = rnnkit_model_get_info(c->model, &mi)) != RNNKIT_STATUS_OK) return cli_lib_error(o->weights, s);
    const int onnx = mi.layout == RNNKIT_LAYOUT_ONNX, lstm = mi.cell == RNNKIT_CELL_LSTM;
    const int keras = mi.layout == RNNKIT_LAYOUT_KERAS;
    if ((o->c0 || o->cn) && !lstm)
        return cli_error(CLI_EXIT_USAGE, o->c0 ? "--c0" : "--cn", "only LSTM models have a cell state");
    int bm = o->batch_major || keras; /* Keras tensors are batch-major */
    if (onnx) {
        int model_bm = mi.onnx_layout;
        if (bm && !model_bm)
            return cli_error(CLI_EXIT_USAGE, "--batch-major",
                             "this ONNX model has onnx_layout 0 (sequence-major)");
        bm = model_bm;
    }

    const int64_t I = mi.input_size, H = mi.hidden_size, P = mi.output_size;
    const int64_t D = mi.num_directions, L = mi.num_layers;
    const int64_t any_x[3] = {-1, -1, I};
    if ((rc = read_checked(o->input, RK_DTYPE_F32, 3, any_x, &c->x))) return rc;
    const int64_t T = c->x.shape[bm ? 1 : 0], N = c->x.shape[bm ? 0 : 1];
    if (T < 1 || N < 1) return cli_error(CLI_EXIT_FAIL, o->input, "empty sequence or batch");

    out_file y = {o->output, 3, {bm ? N : T, bm ? T : N, mi.y_width}, NULL};
    int64_t state[3] = {L * D, N, P}, cstate[3] = {L * D, N, H};
    if (onnx) {
        y = (out_file){o->output, 4, {bm ? N : T, bm ? T : D, bm ? D : N, H}, NULL};
        int64_t st[3] = {bm ? N : D, bm ? D : N, H};
        memcpy(state, st, sizeof st);
        memcpy(cstate, st, sizeof st);
    }
    if (o->lengths && (rc = read_lengths(o->lengths, N, &c->lengths, &c->len32))) return rc;
    if (o->h0 && (rc = read_checked(o->h0, RK_DTYPE_F32, 3, state, &c->h0))) return rc;
    if (o->c0 && (rc = read_checked(o->c0, RK_DTYPE_F32, 3, cstate, &c->c0))) return rc;

    y.data = c->y = alloc_floats(y.ndim, y.shape);
    if (o->hn) c->hn = alloc_floats(3, state);
    if (o->cn) c->cn = alloc_floats(3, cstate);
    if (!c->y || (o->hn && !c->hn) || (o->cn && !c->cn))
        return cli_error(CLI_EXIT_FAIL, o->output, "out of memory");

    rnnkit_forward_args a = {
        .seq_len = T, .batch = N, .batch_major = bm, .x = c->x.data, .lengths = c->len32,
        .h0 = c->h0.data, .c0 = c->c0.data, .y = c->y, .hn = c->hn, .cn = c->cn,
        .num_threads = threads,
    };
    double t0 = now_ms();
    s = rnnkit_forward(c->model, &a);
    double ms = now_ms() - t0;
    if (s != RNNKIT_STATUS_OK)
        return cli_lib_error(s == RNNKIT_STATUS_BAD_LENGTH && o->lengths ? o->lengths : o->input, s);

    out_file outs[3] = {y};
    int n = 1;
    if (o->hn) outs[n++] = (out_file){o->hn, 3, {state[0], state[1], state[2]}, c->hn};
    if (o->cn) outs[n++] = (out_file){o->cn, 3, {cstate[0], cstate[1], cstate[2]}, c->cn};
    if ((rc = write_outputs(outs, n))) return rc;

    if (!o->quiet) {
        static const char *const cells[] = {"RNN_TANH", "RNN_RELU", "LSTM", "GRU"};
        char xs[96], ys[96];
        shape_str(xs, sizeof xs, 3, c->x.shape);
        shape_str(ys, sizeof ys, y.ndim, y.shape);
        printf("model %s: %s %s, %lld layer(s), %lld direction(s), input %lld, hidden %lld, isa %s\n",
               o->weights, cells[mi.cell], onnx ? "onnx" : keras ? "keras" : "pytorch", (long long)L, (long long)D,
               (long long)I, (long long)H, mi.isa);
        const int nth = threads ? threads : rnnkit_get_num_threads();
        printf("x %s -> y %s in %.3f ms (%d thread%s)\n", xs, ys, ms, nth, nth == 1 ? "" : "s");
    }
    return CLI_EXIT_OK;
}

int cli_run(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        fputs(run_usage, stdout);
        return CLI_EXIT_OK;
    }
    run_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc;
    run_ctx c = {0};
    rc = run(&o, &c);
    if (c.len32 != c.lengths.data) free(c.len32);
    rk_array_free(&c.x);
    rk_array_free(&c.lengths);
    rk_array_free(&c.h0);
    rk_array_free(&c.c0);
    free(c.y);
    free(c.hn);
    free(c.cn);
    rnnkit_model_destroy(c.model);
    return rc;
}
