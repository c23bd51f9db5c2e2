/*
 * rnnkit info: what the library sees on this machine.
 * rnnkit example DIR: a small built-in model and input to try `run` on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"
#include "src/cache.h"
#include "src/dispatch.h"
#include "src/formats.h"

static const char *const isa_names[] = {"scalar", "avx2", "avx512", "neon"};

/* Every kernel variant, from the one list (simd/kernels.inc). */
static const struct {
    const char *isa, *field;
} kernel_list[] = {
#define RNNKIT_KERNEL(isa, field, type) {#isa, #field},
#include "simd/kernels.inc"
#undef RNNKIT_KERNEL
};
#define NUM_KERNELS (sizeof kernel_list / sizeof kernel_list[0])

/* An ISA's table is the scalar one with that ISA's entries overriding. */
static void print_kernels(const char *isa) {
    printf("kernels (%s table):\n", isa);
    for (size_t i = 0; i < NUM_KERNELS; i++) {
        if (strcmp(kernel_list[i].isa, "scalar")) continue;
        const char *impl = "scalar";
        for (size_t j = 0; j < NUM_KERNELS; j++)
            if (!strcmp(kernel_list[j].isa, isa) && !strcmp(kernel_list[j].field, kernel_list[i].field))
                impl = isa;
        printf("  %-14s rnnkit_f32_%s__%s\n", kernel_list[i].field, kernel_list[i].field, impl);
    }
}

int cli_info(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        puts("usage: rnnkit info\n\nPrints the version, CPU features, supported and active ISA, threads\n"
             "and the kernels the active ISA uses. RNNKIT_ISA and OMP_NUM_THREADS apply.");
        return CLI_EXIT_OK;
    }
    if (argc > 1) return cli_error(CLI_EXIT_USAGE, argv[1], "unexpected argument (see rnnkit info --help)");
    const char *active = rnnkit_isa_active();
    printf("rnnkit %s\n", rnnkit_version());
    printf("cpu features: %s\n", rnnkit_cpu_features());
    printf("isas supported:");
    for (size_t i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++)
        if (rnnkit_isa_supported(isa_names[i])) printf(" %s", isa_names[i]);
    printf("\nactive isa: %s\n", active);
    {
        const rnnkit_kernels *k = rk_kernels_for(active);
        if (k)
            printf("thread plan: %s kernels at %gx the plan's reference FMA rate%s\n", active,
                   k->flop_scale, k->flop_scale >= 2.0 ? " (512-bit FMAs at full width)" : "");
    }
    if (rk_kernels_check_env() != RNNKIT_STATUS_OK)
        printf("warning: %s\n         (models cannot be created until this is fixed)\n", rnnkit_last_error());
    printf("threads: %d", rnnkit_get_num_threads());
#ifdef _OPENMP
    printf(" (OpenMP max %d, %d processors)", omp_get_max_threads(), omp_get_num_procs());
#endif
    printf("\n");
    double caches[3];
    rk_cache_sizes(caches);
    printf("caches: L1d %.0f KiB, L2 %.0f KiB per core, L3 %.0f MiB (the thread plan counts half of L3)\n",
           caches[0] / 1024, caches[1] / 1024, caches[2] / (1024 * 1024));
    print_kernels(active);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* rnnkit example                                                      */
/* ------------------------------------------------------------------ */
enum { EX_LAYERS = 2, EX_INPUT = 16, EX_HIDDEN = 32, EX_T = 20, EX_N = 2, EX_GATES = 4 };

/* splitmix64: fixed seed, same numbers on every machine. */
static float next_uniform(uint64_t *state, float bound) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return bound * (2.0f * (float)(z >> 40) / (float)(1 << 24) - 1.0f);
}

static int join(char *buf, size_t len, const char *dir, const char *name) {
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) return cli_error(CLI_EXIT_USAGE, dir, "path too long");
    return CLI_EXIT_OK;
}

static int write_example(const char *model_path, const char *x_path) {
    static const char *const suffix[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    /* __metadata__ as the fixtures write it: PyTorch layout is the default. */
    static const char *const meta_keys[] = {"cell"};
    static const char *const meta_values[] = {"lstm"};
    const int64_t G = EX_GATES * EX_HIDDEN;
    const float bound = 0.17677669f; /* 1/sqrt(hidden), as torch.nn.LSTM */
    uint64_t seed = 20240601;
    char names[EX_LAYERS * 4][32];
    rnnkit_tensor t[EX_LAYERS * 4];
    size_t total = 0;
    for (int l = 0; l < EX_LAYERS; l++)
        for (int k = 0; k < 4; k++) {
            rnnkit_tensor *tk = &t[l * 4 + k];
            snprintf(names[l * 4 + k], sizeof names[0], "%s_l%d", suffix[k], l);
            *tk = (rnnkit_tensor){.name = names[l * 4 + k], .ndim = k < 2 ? 2 : 1, .shape = {G}};
            if (k < 2) tk->shape[1] = k == 0 && l == 0 ? EX_INPUT : EX_HIDDEN;
            total += (size_t)(G * (k < 2 ? tk->shape[1] : 1));
        }
    float *w = malloc((total + EX_T * EX_N * EX_INPUT) * sizeof *w);
    if (!w) return cli_error(CLI_EXIT_FAIL, model_path, "out of memory");
    for (size_t i = 0; i < total; i++) w[i] = next_uniform(&seed, bound);
    float *x = w + total;
    for (int i = 0; i < EX_T * EX_N * EX_INPUT; i++) x[i] = next_uniform(&seed, 1.0f);
    size_t off = 0;
    for (int i = 0; i < EX_LAYERS * 4; i++) {
        t[i].data = w + off;
        off += (size_t)(t[i].shape[0] * (t[i].ndim == 2 ? t[i].shape[1] : 1));
    }

    int rc = CLI_EXIT_OK;
    rnnkit_status s = rk_safetensors_write(model_path, EX_LAYERS * 4, t, 1, meta_keys, meta_values);
    if (s != RNNKIT_STATUS_OK) {
        rc = cli_lib_error(model_path, s);
    } else {
        const int64_t shape[3] = {EX_T, EX_N, EX_INPUT};
        if ((s = rk_npy_write(x_path, RK_DTYPE_F32, 3, shape, x)) != RNNKIT_STATUS_OK) {
            rc = cli_lib_error(x_path, s);
            remove(model_path);
        }
    }
    free(w);
    return rc;
}

int cli_example(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        puts("usage: rnnkit example DIR\n\nWrites DIR/model.safetensors (a 2-layer LSTM, input 16, hidden 32,\n"
             "PyTorch layout, fixed pseudo-random weights) and DIR/x.npy (float32\n"
             "[20,2,16]). DIR is created if it does not exist.");
        return CLI_EXIT_OK;
    }
    if (argc < 2) return cli_error(CLI_EXIT_USAGE, "example", "needs a directory (see rnnkit example --help)");
    if (argv[1][0] == '-') return cli_error(CLI_EXIT_USAGE, argv[1], "unknown option (see rnnkit example --help)");
    if (argc > 2) return cli_error(CLI_EXIT_USAGE, argv[2], "unexpected argument (see rnnkit example --help)");
    const char *dir = argv[1];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return cli_error(CLI_EXIT_FAIL, dir, "cannot create directory: %s", strerror(errno));
    char model_path[4096], x_path[4096];
    int rc;
    if ((rc = join(model_path, sizeof model_path, dir, "model.safetensors")) ||
        (rc = join(x_path, sizeof x_path, dir, "x.npy")) || (rc = write_example(model_path, x_path)))
        return rc;
    printf("wrote %s (LSTM, %d layers, input %d, hidden %d, PyTorch layout)\n", model_path, EX_LAYERS,
           EX_INPUT, EX_HIDDEN);
    printf("wrote %s (float32 [%d,%d,%d])\n", x_path, EX_T, EX_N, EX_INPUT);
    printf("try: rnnkit run --weights %s --input %s --output %s/y.npy\n", model_path, x_path, dir);
    return CLI_EXIT_OK;
}
