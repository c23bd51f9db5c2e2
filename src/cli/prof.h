/*
 * rnnkit prof: the throughput profiler.
 *
 * It first measures the machine's own limits (FMA peak per ISA, read
 * bandwidth of L1, L2, L3 and memory, on one thread and on all cores),
 * caches them in $XDG_CACHE_HOME/rnnkit/limits-<cpu>.txt, then times
 * rnnkit_forward over a grid of shapes and says, per shape, which limit
 * bounds it (FMA or the cache level the recurrent weights stream from)
 * and how close to that bound it runs.
 *
 * The pure parts (flop and byte counts, bound selection, the cache file,
 * option parsing, the SVG plot) are exposed here for tests/test_prof.c.
 */
#ifndef RNNKIT_CLI_PROF_H
#define RNNKIT_CLI_PROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rnnkit.h"

/* Entry point of `rnnkit prof` (argv[0] is "prof"). cli_prof in cli.h is
 * the same function under the name main.c dispatches to. */
int rk_cli_prof(int argc, char **argv);
int cli_prof(int argc, char **argv);

/* ------------------------------------------------------------------ */
/* Machine limits                                                      */
/* ------------------------------------------------------------------ */
enum { RK_ISA_SCALAR = 0, RK_ISA_AVX2 = 1, RK_ISA_AVX512 = 2, RK_ISA_NEON = 3, RK_PROF_NUM_ISAS = 4 };
/* Where the recurrent weights stream from; RK_LIMIT_FMA = compute bound. */
enum { RK_LEVEL_L1 = 0, RK_LEVEL_L2 = 1, RK_LEVEL_L3 = 2, RK_LEVEL_DRAM = 3, RK_PROF_NUM_LEVELS = 4 };
enum { RK_LIMIT_FMA = RK_PROF_NUM_LEVELS };

/* "scalar", "avx2", ... or NULL; index by name or -1. */
const char *rk_prof_isa_name(int isa);
int rk_prof_isa_index(const char *name);
/* "L1", "L2", "L3", "DRAM", "FMA". */
const char *rk_prof_limit_name(int limit);

typedef struct rk_limits {
    char cpu[128];      /* CPU model (or host name) the numbers belong to */
    int cores;          /* thread count of the all-cores measurement */
    double cache_size[3]; /* L1d, L2, L3 bytes (per core, per core, shared) */
    /* GFLOP/s (fp32 FMA = 2 flops); [isa][0] one thread, [isa][1] all
     * cores; 0 = not measured (ISA absent). */
    double fma[RK_PROF_NUM_ISAS][2];
    /* Read bandwidth GB/s (1e9 bytes/s), summed over the threads. */
    double bw[RK_PROF_NUM_LEVELS][2];
} rk_limits;

/* Peak / bandwidth for a thread count: linear between the one-thread and
 * the all-cores measurement, capped at the latter. 0 if not measured. */
double rk_limits_fma(const rk_limits *lim, int isa, int threads);
double rk_limits_bw(const rk_limits *lim, int level, int threads);

/* Measures everything (a few seconds); progress on stderr if show. */
void rk_limits_measure(rk_limits *lim, int show);

/* "<dir>/rnnkit/limits-<key>.txt" with dir = $XDG_CACHE_HOME, else
 * $HOME/.cache; key made of [A-Za-z0-9._-] only. 0 on success, -1 if
 * neither variable is set or the path does not fit. */
int rk_limits_cache_path(char *buf, size_t len, const char *key);
/* Writes / reads the text file (creating the folders when writing).
 * Reading checks every value: 0 ok, -1 (message in err) otherwise. */
int rk_limits_save(const char *path, const rk_limits *lim, char *err, size_t errlen);
int rk_limits_load(const char *path, rk_limits *lim, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Work and bound of one shape                                         */
/* ------------------------------------------------------------------ */
typedef struct rk_prof_shape {
    rnnkit_cell cell;
    int64_t input, hidden, proj; /* proj 0 = none */
    int64_t layers, dirs;
    int64_t batch, seq;
} rk_prof_shape;

int rk_prof_gates(rnnkit_cell cell); /* 1, 3 or 4 */

typedef struct rk_prof_work {
    double input_flops;     /* all input projections, whole sequence */
    double recurrent_flops; /* recurrent GEMMs (+ LSTM projection), whole sequence */
    double total_flops;
    double weight_bytes_step; /* recurrent (+ projection) weight bytes per step, all layers */
} rk_prof_work;

void rk_prof_count(const rk_prof_shape *s, rk_prof_work *w);

/* Level the recurrent weights of one layer (weight_bytes in total, split
 * over threads) stream from: the first of L1, L2, L3 whose size holds
 * the per-thread slice, else DRAM. */
int rk_prof_level(double weight_bytes, int threads, const double cache_size[3]);

typedef struct rk_prof_bound {
    double seconds; /* lower bound of the whole forward call */
    int limit;      /* RK_LEVEL_* or RK_LIMIT_FMA: the dominant term */
} rk_prof_bound;

/* Per layer: T * max(weight bytes / bandwidth of its level, recurrent
 * flops / FMA peak) + input-projection flops / FMA peak. -1 if the
 * limits lack the ISA's peak. */
int rk_prof_bound_of(const rk_prof_shape *s, const rk_limits *lim, int isa, int threads,
                     rk_prof_bound *out);

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */
#define RK_PROF_MAX_LIST 16
typedef struct rk_prof_list {
    int n;
    int v[RK_PROF_MAX_LIST];
} rk_prof_list;

typedef enum { RK_PROF_TABLE = 0, RK_PROF_JSON = 1, RK_PROF_CSV = 2 } rk_prof_format;

typedef struct rk_prof_opts {
    const char *weights; /* model file, or NULL for the built-in grid */
    const char *plot;    /* SVG path or NULL */
    rk_prof_list batch, seq, threads, hidden, input, cells, isas; /* isas: RK_ISA_* */
    int layers;
    int dirs; /* grid directions: 1, or 2 (bidirectional) */
    double seconds; /* time per shape */
    int remeasure;
    int bounds_only; /* --bounds: the bound of each shape, nothing timed */
    rk_prof_format format;
} rk_prof_opts;

/* Parses argv[1..]. 0 ok, 1 help asked, -1 error: err says what (one
 * line, "<option>: <problem>"). Defaults for lists not given: batch 1,16;
 * seq 50; threads 1; hidden 128,256,512; input = hidden; cells
 * lstm,gru,rnn; isas = (empty: the active one). */
int rk_prof_parse(int argc, char **argv, rk_prof_opts *o, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */
typedef struct rk_prof_row {
    rk_prof_shape shape;
    int threads;
    int isa; /* RK_ISA_* */
    double seconds; /* median time of one forward call; 0 = not timed (--bounds) */
    double us_per_step, cells_per_s, gflops, gbps;
    rk_prof_bound bound;
    double pct; /* bound time / measured time * 100 */
} rk_prof_row;

/* Fills the derived fields (everything after seconds) from shape,
 * threads, isa and seconds. A row not timed (seconds <= 0) gets its
 * bound only: the measured fields and pct are 0, and the printers show
 * them as "-" (table), empty (CSV) or null (JSON). */
void rk_prof_finish_row(rk_prof_row *r, const rk_limits *lim);

/* SVG: GFLOP/s against hidden size, one polyline per series (rows equal
 * in everything but hidden/input size). Returns the number of series,
 * -1 on a write error. */
int rk_prof_svg(FILE *f, const rk_prof_row *rows, size_t n, const char *title);

void rk_prof_print_table(FILE *f, const rk_prof_row *rows, size_t n);
void rk_prof_print_csv(FILE *f, const rk_prof_row *rows, size_t n);
void rk_prof_print_json(FILE *f, const rk_limits *lim, const rk_prof_row *rows, size_t n);

#endif
