/*
 * Reference fixtures: tests/fixtures/<case>/ hold a model (.safetensors)
 * and inputs exported from real PyTorch modules and from ONNX's own
 * operator test cases (see tests/fixtures/README.md and gen_fixtures.py),
 * with the outputs those produced. Each case is loaded with
 * rnnkit_model_load, run with rnnkit_forward for every ISA this CPU
 * supports, and compared with the manifest's tolerance:
 *     |got - expected| <= tol * max(1, |expected|).
 * Output buffers are pre-filled with NaN and followed by a guard zone, so
 * an element left unwritten or written out of bounds shows.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats.h"
#include "rnnkit.h"

#define FX_MAX_CASES 256
#define FX_GUARD 16
#define FX_GUARD_VALUE 12345.0f

typedef struct fx_case {
    char name[96];
    double tol;
    int batch_major;
} fx_case;

static const char *fx_dir(void) {
    const char *d = getenv("RNNKIT_TEST_DATA");
    return (d && *d) ? d : "tests/fixtures";
}

/* Parses manifest.txt into cases (at most max); returns the count, or -1
 * if the file cannot be opened. Malformed lines are reported and count
 * as a case with an empty name (so the test for it fails). */
static int fx_load_manifest(fx_case *cases, int max) {
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", fx_dir());
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\0') continue;
        fx_case c;
        memset(&c, 0, sizeof c);
        char flags[256] = "";
        int got = sscanf(line, "%95s %lf %255s", c.name, &c.tol, flags);
        if (got < 2 || !(c.tol > 0.0)) {
            fprintf(stderr, "manifest: malformed line: %s", line);
            c.name[0] = '\0';
        }
        c.batch_major = strstr(flags, "batch_major") != NULL;
        cases[n++] = c;
    }
    fclose(f);
    return n;
}

static int fx_file_exists(const char *dir, const char *name) {
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* Reads <case>/<file> if it exists. Returns 1 if read, 0 if absent;
 * fails the test if present but unreadable. */
static int fx_read_npy(const char *dir, const char *file, rk_array *out) {
    memset(out, 0, sizeof *out);
    if (!fx_file_exists(dir, file)) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    rnnkit_status st = rk_npy_read(path, out);
    cr_assert(st == RNNKIT_STATUS_OK, "%s: rk_npy_read failed: %s (%s)", path, rnnkit_status_string(st),
              rnnkit_last_error());
    return 1;
}

/* Output buffer of count floats, NaN-filled, followed by a guard zone. */
static float *fx_out_alloc(size_t count) {
    float *p = malloc((count + FX_GUARD) * sizeof(float));
    cr_assert(p != NULL);
    for (size_t i = 0; i < count; i++) p[i] = NAN;
    for (size_t i = 0; i < FX_GUARD; i++) p[count + i] = FX_GUARD_VALUE;
    return p;
}

static void fx_compare(const fx_case *c, const char *isa, const char *what, const float *got,
                       const rk_array *exp) {
    const float *e = (const float *)exp->data;
    double max_err = 0.0;
    size_t worst = 0, bad = 0, first_bad = 0;
    for (size_t i = 0; i < exp->count; i++) {
        double g = got[i], x = e[i];
        double err = fabs(g - x) / fmax(1.0, fabs(x));
        if (!(err <= c->tol)) { /* also catches NaN */
            if (bad == 0) first_bad = i;
            bad++;
        }
        if (!(err <= max_err)) {
            max_err = isnan(err) ? INFINITY : err;
            worst = i;
        }
    }
    size_t guard_bad = FX_GUARD;
    for (size_t i = FX_GUARD; i-- > 0;)
        if (got[exp->count + i] != FX_GUARD_VALUE) guard_bad = i;
    cr_expect(guard_bad == FX_GUARD,
              "%s [%s] %s: written past the end of %zu elements (guard element %zu = %g)", c->name, isa,
              what, exp->count, guard_bad, guard_bad < FX_GUARD ? (double)got[exp->count + guard_bad] : 0.0);
    cr_log_info("%s [%s] %s: max rel err %.3g (tolerance %.3g)", c->name, isa, what, max_err, c->tol);
    cr_expect(bad == 0,
              "%s [%s] %s: %zu of %zu elements off by more than %.3g; first at index %zu: got %.9g "
              "expected %.9g; worst at index %zu: got %.9g expected %.9g (rel err %.3g)",
              c->name, isa, what, bad, exp->count, c->tol, first_bad, (double)got[first_bad],
              (double)e[first_bad], worst, (double)got[worst], (double)e[worst], max_err);
}

static void fx_run_case(const fx_case *c, const char *isa) {
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", fx_dir(), c->name);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    rnnkit_status st = rnnkit_isa_select(isa);
    cr_assert(st == RNNKIT_STATUS_OK, "%s: rnnkit_isa_select(%s) failed though supported: %s", c->name, isa,
              rnnkit_last_error());
    rnnkit_model *model = NULL;
    st = rnnkit_model_load(path, &model);
    cr_assert(st == RNNKIT_STATUS_OK && model != NULL, "%s [%s]: rnnkit_model_load: %s: %s", c->name, isa,
              rnnkit_status_string(st), rnnkit_last_error());
    rnnkit_model_info info;
    cr_assert(rnnkit_model_get_info(model, &info) == RNNKIT_STATUS_OK);
    cr_expect(info.isa != NULL && strcmp(info.isa, isa) == 0, "%s: model created for %s reports isa %s",
              c->name, isa, info.isa ? info.isa : "(null)");

    rk_array x, h0, c0, len, y, hn, cn;
    cr_assert(fx_read_npy(dir, "x.npy", &x), "%s: x.npy missing", c->name);
    cr_assert(x.dtype == RK_DTYPE_F32 && x.ndim == 3, "%s: x.npy must be float32 3-d", c->name);
    int has_h0 = fx_read_npy(dir, "h0.npy", &h0);
    int has_c0 = fx_read_npy(dir, "c0.npy", &c0);
    int has_len = fx_read_npy(dir, "lengths.npy", &len);
    int has_y = fx_read_npy(dir, "y.npy", &y);
    int has_hn = fx_read_npy(dir, "hn.npy", &hn);
    int has_cn = fx_read_npy(dir, "cn.npy", &cn);
    cr_assert(has_y || has_hn, "%s: no expected output", c->name);

    int64_t T = c->batch_major ? x.shape[1] : x.shape[0];
    int64_t N = c->batch_major ? x.shape[0] : x.shape[1];
    cr_assert(x.shape[2] == info.input_size, "%s: x.npy has input size %lld, model %lld", c->name,
              (long long)x.shape[2], (long long)info.input_size);

    int32_t *lengths = NULL;
    if (has_len) {
        cr_assert(len.ndim == 1 && len.shape[0] == N, "%s: lengths.npy must be [N]", c->name);
        lengths = malloc((size_t)N * sizeof *lengths);
        cr_assert(lengths != NULL);
        for (int64_t i = 0; i < N; i++)
            lengths[i] = len.dtype == RK_DTYPE_I64 ? (int32_t)((const int64_t *)len.data)[i]
                                                   : ((const int32_t *)len.data)[i];
    }

    float *yb = has_y ? fx_out_alloc(y.count) : NULL;
    float *hb = has_hn ? fx_out_alloc(hn.count) : NULL;
    float *cb = has_cn ? fx_out_alloc(cn.count) : NULL;

    rnnkit_forward_args a;
    memset(&a, 0, sizeof a);
    a.seq_len = T;
    a.batch = N;
    a.batch_major = c->batch_major;
    a.x = (const float *)x.data;
    a.lengths = lengths;
    a.h0 = has_h0 ? (const float *)h0.data : NULL;
    a.c0 = has_c0 ? (const float *)c0.data : NULL;
    a.y = yb;
    a.hn = hb;
    a.cn = cb;
    st = rnnkit_forward(model, &a);
    cr_assert(st == RNNKIT_STATUS_OK, "%s [%s]: rnnkit_forward: %s: %s", c->name, isa, rnnkit_status_string(st),
              rnnkit_last_error());

    if (has_y) fx_compare(c, isa, "y", yb, &y);
    if (has_hn) fx_compare(c, isa, "hn", hb, &hn);
    if (has_cn) fx_compare(c, isa, "cn", cb, &cn);

    free(yb);
    free(hb);
    free(cb);
    free(lengths);
    rk_array_free(&x);
    if (has_h0) rk_array_free(&h0);
    if (has_c0) rk_array_free(&c0);
    if (has_len) rk_array_free(&len);
    if (has_y) rk_array_free(&y);
    if (has_hn) rk_array_free(&hn);
    if (has_cn) rk_array_free(&cn);
    rnnkit_model_destroy(model);
}

static const char *const fx_isas[] = {"scalar", "avx2", "avx512", "neon"};

static void fx_cleanup(struct criterion_test_params *p) { cr_free(p->params); }

ParameterizedTestParameters(fixtures, reference) {
    fx_case *cases = cr_malloc(FX_MAX_CASES * sizeof *cases);
    int n = cases ? fx_load_manifest(cases, FX_MAX_CASES) : -1;
    if (n < 0) n = 0; /* fixtures::manifest reports it */
    return cr_make_param_array(fx_case, cases, (size_t)n, fx_cleanup);
}

ParameterizedTest(fx_case *c, fixtures, reference) {
    cr_assert(c->name[0] != '\0', "malformed manifest line");
    int ran = 0;
    for (size_t i = 0; i < sizeof fx_isas / sizeof fx_isas[0]; i++) {
        if (!rnnkit_isa_supported(fx_isas[i])) continue;
        fx_run_case(c, fx_isas[i]);
        ran++;
    }
    rnnkit_isa_select("auto");
    cr_expect(ran >= 1, "%s: no ISA supported (not even scalar)", c->name);
}

/* The manifest exists, lists the cases we expect, and every case has its
 * files. */
Test(fixtures, manifest) {
    static fx_case cases[FX_MAX_CASES];
    int n = fx_load_manifest(cases, FX_MAX_CASES);
    cr_assert(n >= 0, "cannot open %s/manifest.txt (RNNKIT_TEST_DATA)", fx_dir());
    cr_expect(n >= 80, "manifest lists %d cases, expected at least 80", n);
    int pt = 0, onnx = 0;
    for (int i = 0; i < n; i++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", fx_dir(), cases[i].name);
        cr_expect(cases[i].name[0] != '\0', "manifest line %d malformed", i);
        cr_expect(fx_file_exists(dir, "model.safetensors"), "%s: model.safetensors missing", cases[i].name);
        cr_expect(fx_file_exists(dir, "x.npy"), "%s: x.npy missing", cases[i].name);
        cr_expect(fx_file_exists(dir, "y.npy") || fx_file_exists(dir, "hn.npy"), "%s: no expected output",
                  cases[i].name);
        pt += strncmp(cases[i].name, "pt_", 3) == 0;
        onnx += strncmp(cases[i].name, "onnx_", 5) == 0;
    }
    cr_expect(pt >= 40 && onnx >= 40, "expected >= 40 PyTorch and >= 40 ONNX cases, got %d and %d", pt, onnx);
}

/* rnnkit_isa_select("auto") puts back the CPU's best ISA, and "scalar"
 * is always there, so the loop above always runs at least once. */
Test(fixtures, isa_scalar_supported) {
    cr_expect(rnnkit_isa_supported("scalar"), "scalar ISA must always be supported");
    cr_expect(rnnkit_isa_select("auto") == RNNKIT_STATUS_OK);
}
