/*
 * rnnkit prof: the pure parts (src/cli/prof.h): flop and byte counts,
 * the choice of bound, the limits cache file, option parsing and the SVG
 * plot. Expected values are worked out by hand in the comments; nothing
 * here times anything.
 *
 * Links src/cli/prof.c (tests/meson.build: 'prof' : [['../src/cli/prof.c'], 120]).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cli/prof.h"

#define REL_EQ(got, want, what)                                                                                  \
    cr_assert(fabs((got) - (want)) <= 1e-9 * fabs(want) + 1e-15, "%s: got %.12g, want %.12g", what, (double)(got), \
              (double)(want))

static rk_prof_shape shape(rnnkit_cell cell, int64_t in, int64_t hid, int64_t proj, int64_t layers, int64_t dirs,
                           int64_t batch, int64_t seq) {
    rk_prof_shape s = {cell, in, hid, proj, layers, dirs, batch, seq};
    return s;
}

/* Limits with round numbers: 2 cores; L1 32 KiB, L2 2 MiB, L3 32 MiB;
 * avx2 peak 100 / 200 GFLOP/s; read L1 400/800, L2 100/200, L3 50/90,
 * DRAM 20/30 GB/s. */
static rk_limits test_limits(void) {
    rk_limits l;
    memset(&l, 0, sizeof l);
    snprintf(l.cpu, sizeof l.cpu, "Test CPU 9000");
    l.cores = 2;
    l.cache_size[0] = 32768;
    l.cache_size[1] = 2097152;
    l.cache_size[2] = 33554432;
    l.fma[RK_ISA_SCALAR][0] = 10;
    l.fma[RK_ISA_SCALAR][1] = 20;
    l.fma[RK_ISA_AVX2][0] = 100;
    l.fma[RK_ISA_AVX2][1] = 200;
    const double bw[4][2] = {{400, 800}, {100, 200}, {50, 90}, {20, 30}};
    memcpy(l.bw, bw, sizeof bw);
    return l;
}

/* ------------------------------------------------------------------ */
/* Counts                                                              */
/* ------------------------------------------------------------------ */
Test(prof_count, lstm_one_layer) {
    rk_prof_shape s = shape(RNNKIT_CELL_LSTM, 10, 20, 0, 1, 1, 3, 7);
    rk_prof_work w;
    rk_prof_count(&s, &w);
    REL_EQ(w.input_flops, 2.0 * 7 * 3 * 4 * 20 * 10, "input flops"); /* 33600 */
    REL_EQ(w.recurrent_flops, 67200.0, "recurrent flops");           /* 2*7*3*4*20*20 */
    REL_EQ(w.total_flops, 100800.0, "total flops");
    REL_EQ(w.weight_bytes_step, 6400.0, "weight bytes per step"); /* 4*20*20 floats */
}

Test(prof_count, gru_two_layers_bidirectional) {
    /* Layer 0: input 8; layer 1: input 2*16 = 32. G = 3. */
    rk_prof_shape s = shape(RNNKIT_CELL_GRU, 8, 16, 0, 2, 2, 2, 5);
    rk_prof_work w;
    rk_prof_count(&s, &w);
    /* 2 dirs * (2*5*2*3*16*8 + 2*5*2*3*16*32) = 2 * (7680 + 30720) */
    REL_EQ(w.input_flops, 76800.0, "input flops");
    /* 2 layers * 2 dirs * 2*5*2*3*16*16 */
    REL_EQ(w.recurrent_flops, 61440.0, "recurrent flops");
    /* 4 layer-directions * 3*16*16 floats * 4 bytes */
    REL_EQ(w.weight_bytes_step, 12288.0, "weight bytes per step");
}

Test(prof_count, lstm_projection_and_rnn) {
    /* H 8, P 3: recurrent matrix 32x3 plus projection 3x8 per step. */
    rk_prof_shape s = shape(RNNKIT_CELL_LSTM, 4, 8, 3, 1, 1, 1, 2);
    rk_prof_work w;
    rk_prof_count(&s, &w);
    REL_EQ(w.input_flops, 512.0, "input flops");           /* 2*2*1*4*8*4 */
    REL_EQ(w.recurrent_flops, 480.0, "recurrent flops");   /* 2 * (2*4*8*3 + 2*3*8) */
    REL_EQ(w.weight_bytes_step, 480.0, "weight bytes");    /* 4 * (96 + 24) */
    s = shape(RNNKIT_CELL_RNN_RELU, 5, 6, 0, 1, 1, 1, 1); /* one gate */
    rk_prof_count(&s, &w);
    REL_EQ(w.total_flops, 2.0 * 6 * (5 + 6), "rnn total flops");
    cr_assert_eq(rk_prof_gates(RNNKIT_CELL_RNN_TANH), 1);
    cr_assert_eq(rk_prof_gates(RNNKIT_CELL_GRU), 3);
    cr_assert_eq(rk_prof_gates(RNNKIT_CELL_LSTM), 4);
}

/* ------------------------------------------------------------------ */
/* Bound                                                               */
/* ------------------------------------------------------------------ */
Test(prof_bound, level_of_weights) {
    const double sizes[3] = {32768, 1048576, 33554432};
    static const struct {
        double bytes;
        int threads, want;
    } cases[] = {
        {16384, 1, RK_LEVEL_L1},      {32768, 1, RK_LEVEL_L1},       {32769, 1, RK_LEVEL_L2},
        {65536, 2, RK_LEVEL_L1},      {1048576, 1, RK_LEVEL_L2},     {1572864, 1, RK_LEVEL_L3},
        {1572864, 2, RK_LEVEL_L2},    {33554432, 1, RK_LEVEL_L3},    {33554433, 1, RK_LEVEL_DRAM},
        /* L3 is shared: the whole set must fit, however many threads. */
        {41943040, 64, RK_LEVEL_L2}, {41943040, 8, RK_LEVEL_DRAM}, {100, 0, RK_LEVEL_L1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = rk_prof_level(cases[i].bytes, cases[i].threads, sizes);
        cr_assert_eq(got, cases[i].want, "case %zu: %.0f bytes on %d threads: level %s, want %s", i, cases[i].bytes,
                     cases[i].threads, rk_prof_limit_name(got), rk_prof_limit_name(cases[i].want));
    }
}

Test(prof_bound, interpolation_between_measurements) {
    rk_limits l = test_limits();
    l.cores = 4;
    l.fma[RK_ISA_AVX2][0] = 10;
    l.fma[RK_ISA_AVX2][1] = 40;
    REL_EQ(rk_limits_fma(&l, RK_ISA_AVX2, 1), 10.0, "1 thread");
    REL_EQ(rk_limits_fma(&l, RK_ISA_AVX2, 2), 20.0, "2 threads of 4");
    REL_EQ(rk_limits_fma(&l, RK_ISA_AVX2, 4), 40.0, "4 threads");
    REL_EQ(rk_limits_fma(&l, RK_ISA_AVX2, 9), 40.0, "oversubscribed");
    cr_assert_eq(rk_limits_fma(&l, RK_ISA_AVX512, 1), 0.0, "unmeasured ISA must give 0");
    cr_assert_eq(rk_limits_fma(&l, 99, 1), 0.0);
    REL_EQ(rk_limits_bw(&l, RK_LEVEL_L3, 3), 50 + 40 * 2.0 / 3, "L3 3 threads of 4");
}

Test(prof_bound, batch1_streams_from_l2) {
    /* LSTM 256: 4*256*256*4 B = 1 MiB per step, fits the 2 MiB L2.
     * t_mem = 1048576 / 100e9 = 10.48576 us; t_fma = 2*4*256*256/100e9 =
     * 5.24288 us; input projection 50*5.24288 = 262.144 us.
     * Bound = 50 * 10.48576 + 262.144 = 786.432 us; limit L2. */
    rk_limits l = test_limits();
    rk_prof_shape s = shape(RNNKIT_CELL_LSTM, 256, 256, 0, 1, 1, 1, 50);
    rk_prof_bound b;
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX2, 1, &b), 0);
    REL_EQ(b.seconds, 786.432e-6, "bound");
    cr_assert_eq(b.limit, RK_LEVEL_L2, "limit %s, want L2", rk_prof_limit_name(b.limit));
    /* Two threads: 200 GB/s and 200 GFLOP/s, half the time. */
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX2, 2, &b), 0);
    REL_EQ(b.seconds, 393.216e-6, "bound on 2 threads");
    /* Smaller L2: the same weights come from L3 at 50 GB/s:
     * 50 * 20.97152 + 262.144 = 1310.72 us. */
    l.cache_size[1] = 524288;
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX2, 1, &b), 0);
    REL_EQ(b.seconds, 1310.72e-6, "bound from L3");
    cr_assert_eq(b.limit, RK_LEVEL_L3, "limit %s, want L3", rk_prof_limit_name(b.limit));
}

Test(prof_bound, batch16_is_fma_bound) {
    /* Same LSTM, batch 16: t_fma = 16 * 5.24288 = 83.88608 us > t_mem;
     * input projection 16 * 262.144 us. Bound = 2 * 4194.304 us. */
    rk_limits l = test_limits();
    rk_prof_shape s = shape(RNNKIT_CELL_LSTM, 256, 256, 0, 1, 1, 16, 50);
    rk_prof_bound b;
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX2, 1, &b), 0);
    REL_EQ(b.seconds, 8388.608e-6, "bound");
    cr_assert_eq(b.limit, RK_LIMIT_FMA, "limit %s, want FMA", rk_prof_limit_name(b.limit));
    /* DRAM: RNN with H 4096 = 64 MiB of weights, above L3 (32 MiB):
     * t_mem = 67108864 / 20e9 = 3355.4432 us per step (> t_fma =
     * 2*4096*4096/100e9 = 335.54432 us); T = 1, batch 1; input projection
     * 335.54432 us. */
    s = shape(RNNKIT_CELL_RNN_TANH, 4096, 4096, 0, 1, 1, 1, 1);
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX2, 1, &b), 0);
    REL_EQ(b.seconds, 3690.98752e-6, "DRAM bound");
    cr_assert_eq(b.limit, RK_LEVEL_DRAM, "limit %s, want DRAM", rk_prof_limit_name(b.limit));
    /* An ISA without a measured peak has no bound. */
    cr_assert_eq(rk_prof_bound_of(&s, &l, RK_ISA_AVX512, 1, &b), -1);
}

/* The LSTM of batch1_streams_from_l2 (bound 786.432 us, L2) on 1 thread,
 * avx2, timed at `seconds` (0: not timed), finished. */
static rk_prof_row lstm256_row(const rk_limits *l, double seconds) {
    rk_prof_row r;
    memset(&r, 0, sizeof r);
    r.shape = shape(RNNKIT_CELL_LSTM, 256, 256, 0, 1, 1, 1, 50);
    r.threads = 1;
    r.isa = RK_ISA_AVX2;
    r.seconds = seconds;
    rk_prof_finish_row(&r, l);
    return r;
}

Test(prof_bound, finish_row) {
    rk_limits l = test_limits();
    rk_prof_row r = lstm256_row(&l, 1572.864e-6); /* twice the bound of 786.432 us */
    REL_EQ(r.pct, 50.0, "percent of bound");
    REL_EQ(r.us_per_step, 1572.864 / 50, "us per step");
    REL_EQ(r.cells_per_s, 50 / 1572.864e-6, "cells per second");
    /* flops 2*50*4*256*512 = 52428800 */
    REL_EQ(r.gflops, 52428800 / 1572.864e-6 * 1e-9, "GFLOP/s");
    REL_EQ(r.gbps, 1048576.0 * 50 / 1572.864e-6 * 1e-9, "GB/s");
}

/* A row not timed (rnnkit prof --bounds): the bound alone, the measured
 * fields 0, and the printers show them as missing, not as 0. */
Test(prof_bound, row_not_timed) {
    rk_limits l = test_limits();
    rk_prof_row r = lstm256_row(&l, 0);
    REL_EQ(r.bound.seconds, 786.432e-6, "bound"); /* batch1_streams_from_l2 */
    cr_assert_eq(r.bound.limit, RK_LEVEL_L2);
    cr_assert(r.pct == 0 && r.us_per_step == 0 && r.gflops == 0 && r.gbps == 0 && r.cells_per_s == 0,
              "measured fields of an untimed row: pct %g us %g GFLOP/s %g", r.pct, r.us_per_step, r.gflops);
    char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    cr_assert(f != NULL);
    rk_prof_print_json(f, &l, &r, 1);
    fclose(f);
    cr_assert(strstr(buf, "\"us_per_step\": null") && strstr(buf, "\"pct_of_bound\": null") &&
                  strstr(buf, "\"bound_us_per_step\": 15.7286") && strstr(buf, "\"limit\": \"L2\""),
              "json: %s", buf);
    f = fmemopen(buf, sizeof buf, "w");
    cr_assert(f != NULL);
    rk_prof_print_csv(f, &r, 1);
    fclose(f);
    cr_assert(strstr(buf, ",avx2,,,,,15.7286,L2,\n"), "csv: %s", buf);
    f = fmemopen(buf, sizeof buf, "w");
    cr_assert(f != NULL);
    rk_prof_print_table(f, &r, 1);
    fclose(f);
    const char *row = strchr(buf, '\n');
    cr_assert(row && strstr(row, " - ") && strstr(row, "15.729 L2") && !strstr(row, "%"), "table: %s", buf);
}

/* ------------------------------------------------------------------ */
/* Cache file                                                          */
/* ------------------------------------------------------------------ */
static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rnnkit-test-prof-XXXXXX");
    cr_assert(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void remove_tree(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

Test(prof_cache, path_from_environment) {
    char path[512];
    setenv("XDG_CACHE_HOME", "/some/cache", 1);
    cr_assert_eq(rk_limits_cache_path(path, sizeof path, "AMD EPYC 9R14 / 96-Core (x)-2c"), 0);
    cr_assert_str_eq(path, "/some/cache/rnnkit/limits-AMD-EPYC-9R14-96-Core-x-2c.txt");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    cr_assert_eq(rk_limits_cache_path(path, sizeof path, "cpu"), 0);
    cr_assert_str_eq(path, "/home/u/.cache/rnnkit/limits-cpu.txt");
    /* A relative XDG_CACHE_HOME is ignored (XDG spec). */
    setenv("XDG_CACHE_HOME", "relative", 1);
    cr_assert_eq(rk_limits_cache_path(path, sizeof path, ""), 0);
    cr_assert_str_eq(path, "/home/u/.cache/rnnkit/limits-unknown.txt");
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    cr_assert_eq(rk_limits_cache_path(path, sizeof path, "cpu"), -1, "no HOME and no XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    cr_assert_eq(rk_limits_cache_path(path, 10, "cpu"), -1, "buffer too small");
}

Test(prof_cache, round_trip) {
    make_tmpdir();
    setenv("XDG_CACHE_HOME", tmpdir, 1);
    char path[512], err[256] = "";
    cr_assert_eq(rk_limits_cache_path(path, sizeof path, "Test CPU 9000-2c"), 0);
    rk_limits a = test_limits(), b;
    a.fma[RK_ISA_AVX2][0] = 117.25;
    a.bw[RK_LEVEL_DRAM][1] = 61.125;
    cr_assert_eq(rk_limits_save(path, &a, err, sizeof err), 0, "save: %s", err);
    memset(&b, 0x55, sizeof b);
    cr_assert_eq(rk_limits_load(path, &b, err, sizeof err), 0, "load: %s", err);
    cr_assert_str_eq(b.cpu, a.cpu);
    cr_assert_eq(b.cores, a.cores);
    for (int i = 0; i < 3; i++) cr_assert_eq(b.cache_size[i], a.cache_size[i], "cache %d", i);
    for (int i = 0; i < RK_PROF_NUM_ISAS; i++)
        for (int k = 0; k < 2; k++)
            cr_assert_eq(b.fma[i][k], a.fma[i][k], "fma %s %d: %g vs %g", rk_prof_isa_name(i), k, b.fma[i][k],
                         a.fma[i][k]);
    for (int i = 0; i < RK_PROF_NUM_LEVELS; i++)
        for (int k = 0; k < 2; k++)
            cr_assert_eq(b.bw[i][k], a.bw[i][k], "read %s %d: %g vs %g", rk_prof_limit_name(i), k, b.bw[i][k],
                         a.bw[i][k]);
    unsetenv("XDG_CACHE_HOME");
    remove_tree();
}

Test(prof_cache, bad_files_are_rejected) {
    make_tmpdir();
    char path[512], err[256];
    rk_limits l = test_limits(), keep = l;
    snprintf(path, sizeof path, "%s/missing.txt", tmpdir);
    cr_assert_eq(rk_limits_load(path, &l, err, sizeof err), -1, "missing file");
    static const char *const bad[] = {
        "",
        "something else\n",
        "rnnkit-limits 2\ncpu x\ncores 2\n",                                 /* no caches, no reads */
        "rnnkit-limits 2\ncpu x\ncores 0\n",                                 /* zero cores */
        "rnnkit-limits 2\ncpu x\ncores 2\ncache L1 -5\n",                    /* negative */
        "rnnkit-limits 2\ncpu x\ncores 2\nfma avx9 1 2\n",                   /* unknown ISA */
        "rnnkit-limits 2\ncpu x\ncores 2\nread L2 nan 3\n",                  /* not finite */
        "rnnkit-limits 2\ncpu x\ncores 2\nread L2 1 3 extra\n",              /* trailing junk */
        ("rnnkit-limits 2\ncpu x\ncores 2\ncache L1 1\ncache L2 1\ncache L3 1\n"
         "fma scalar 1 2\nread L1 1 2\nread L2 1 2\nread L3 1 2\n"), /* no DRAM */
        /* complete, but version 1: read bandwidth of one stream */
        ("rnnkit-limits 1\ncpu x\ncores 2\ncache L1 1\ncache L2 1\ncache L3 1\n"
         "fma scalar 1 2\nread L1 1 2\nread L2 1 2\nread L3 1 2\nread DRAM 1 2\n"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/bad%zu.txt", tmpdir, i);
        write_file(path, bad[i]);
        err[0] = 0;
        cr_assert_eq(rk_limits_load(path, &l, err, sizeof err), -1, "file %zu accepted: \"%s\"", i, bad[i]);
        cr_assert(err[0] != 0, "file %zu: no message", i);
        cr_assert(memcmp(&l, &keep, sizeof l) == 0, "file %zu: output written on failure", i);
    }
    /* The smallest good file. */
    snprintf(path, sizeof path, "%s/good.txt", tmpdir);
    write_file(path, "rnnkit-limits 2\n# comment\ncpu My CPU\ncores 3\ncache L1 1\ncache L2 2\ncache L3 3\n"
                     "fma scalar 1.5 4.5\nread L1 1 2\nread L2 3 4\nread L3 5 6\nread DRAM 7 8\n");
    cr_assert_eq(rk_limits_load(path, &l, err, sizeof err), 0, "good file: %s", err);
    cr_assert_str_eq(l.cpu, "My CPU");
    cr_assert_eq(l.cores, 3);
    cr_assert_eq(l.fma[RK_ISA_SCALAR][1], 4.5);
    cr_assert_eq(l.fma[RK_ISA_AVX2][0], 0.0);
    cr_assert_eq(l.bw[RK_LEVEL_DRAM][0], 7.0);
    remove_tree();
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */
static int parse(const char *line, rk_prof_opts *o, char *err, size_t errlen) {
    static char buf[512];
    static char *argv[32];
    snprintf(buf, sizeof buf, "prof %s", line);
    int argc = 0;
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " ")) argv[argc++] = t;
    argv[argc] = NULL;
    return rk_prof_parse(argc, argv, o, err, errlen);
}

Test(prof_options, defaults_and_values) {
    rk_prof_opts o;
    char err[256] = "";
    cr_assert_eq(parse("", &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(o.batch.n, 2);
    cr_assert_eq(o.batch.v[0], 1);
    cr_assert_eq(o.batch.v[1], 16);
    cr_assert_eq(o.seq.n, 1);
    cr_assert_eq(o.seq.v[0], 50);
    cr_assert_eq(o.hidden.n, 3);
    cr_assert_eq(o.hidden.v[2], 512);
    cr_assert_eq(o.cells.n, 3);
    cr_assert_eq(o.isas.n, 0, "default ISA is the active one, decided at run time");
    cr_assert_eq(o.format, RK_PROF_TABLE);
    cr_assert_null(o.weights);

    cr_assert_eq(parse("--batch=1,8,64 --threads 1,2 --isa avx2,scalar --cell gru,rnn-relu --csv --remeasure "
                       "--time 0.5 --plot out.svg --seq 10,20",
                       &o, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(o.batch.n, 3);
    cr_assert_eq(o.batch.v[2], 64);
    cr_assert_eq(o.threads.n, 2);
    cr_assert_eq(o.isas.n, 2);
    cr_assert_eq(o.isas.v[0], RK_ISA_AVX2);
    cr_assert_eq(o.isas.v[1], RK_ISA_SCALAR);
    cr_assert_eq(o.cells.v[0], RNNKIT_CELL_GRU);
    cr_assert_eq(o.cells.v[1], RNNKIT_CELL_RNN_RELU);
    cr_assert_eq(o.format, RK_PROF_CSV);
    cr_assert_eq(o.remeasure, 1);
    cr_assert_eq(o.seconds, 0.5);
    cr_assert_str_eq(o.plot, "out.svg");
    cr_assert_eq(o.seq.v[1], 20);

    cr_assert_eq(o.dirs, 1, "default directions");
    cr_assert_eq(parse("--dirs 2 --layers=3", &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(o.dirs, 2);
    cr_assert_eq(o.layers, 3);

    cr_assert_eq(parse("--weights m.safetensors --json --batch 4", &o, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(o.weights, "m.safetensors");
    cr_assert_eq(o.format, RK_PROF_JSON);
    cr_assert_eq(o.bounds_only, 0, "timed by default");
    cr_assert_eq(parse("--bounds --json", &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(o.bounds_only, 1);
    cr_assert_eq(parse("--batch 1 --help", &o, err, sizeof err), 1, "help");
    cr_assert_eq(parse("-h", &o, err, sizeof err), 1, "help");
}

Test(prof_options, errors) {
    static const struct {
        const char *line, *want; /* want: a substring of the message */
    } cases[] = {
        {"--bogus", "--bogus"},
        {"stray", "stray"},
        {"--batch", "needs a value"},
        {"--batch 0", "--batch"},
        {"--batch 1,,2", "--batch"},
        {"--batch 1,", "--batch"},
        {"--batch abc", "abc"},
        {"--batch 99999999999", "--batch"},
        {"--seq -3", "--seq"},
        {"--threads 1.5", "--threads"},
        {"--isa sse9", "sse9"},
        {"--cell lstm,bogus", "bogus"},
        {"--json --csv", "exclude"},
        {"--csv --json", "exclude"},
        {"--weights m.safetensors --hidden 128", "--hidden"},
        {"--cell gru --weights m.safetensors", "--cell"},
        {"--time 0", "--time"},
        {"--time fast", "--time"},
        {"--layers 0", "--layers"},
        {"--dirs 3", "--dirs"},
        {"--dirs 0", "--dirs"},
        {"--weights m.safetensors --dirs 2", "--dirs"},
        {"--remeasure=1", "--remeasure"},
        {"--bounds=1", "--bounds"},
        {"--bounds --plot p.svg", "--plot"},
        {"--batch=", "empty"},
        {"--batch 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "more than"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rk_prof_opts o;
        char err[256] = "";
        int rc = parse(cases[i].line, &o, err, sizeof err);
        cr_assert_eq(rc, -1, "case %zu \"%s\": accepted (rc %d)", i, cases[i].line, rc);
        cr_assert(strstr(err, cases[i].want) != NULL, "case %zu \"%s\": message \"%s\" lacks \"%s\"", i,
                  cases[i].line, err, cases[i].want);
        cr_assert(strchr(err, '\n') == NULL, "case %zu: message not one line", i);
    }
}

/* ------------------------------------------------------------------ */
/* SVG                                                                 */
/* ------------------------------------------------------------------ */
static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static char *svg_of(const rk_prof_row *rows, size_t n, const char *title, int *series) {
    FILE *f = tmpfile();
    cr_assert(f != NULL);
    *series = rk_prof_svg(f, rows, n, title);
    long len = ftell(f);
    cr_assert(len > 0, "nothing written");
    rewind(f);
    char *text = calloc((size_t)len + 1, 1);
    cr_assert(text != NULL);
    cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

Test(prof_svg, one_polyline_per_series) {
    /* 2 cells x 2 batches x 3 hidden sizes = 4 series of 3 points, rows
     * given in an order that interleaves the series. */
    rk_prof_row rows[12];
    memset(rows, 0, sizeof rows);
    size_t n = 0;
    const int hidden[3] = {512, 128, 256};
    for (int h = 0; h < 3; h++)
        for (int c = 0; c < 2; c++)
            for (int b = 0; b < 2; b++) {
                rk_prof_row *r = &rows[n++];
                r->shape = shape(c ? RNNKIT_CELL_GRU : RNNKIT_CELL_LSTM, hidden[h], hidden[h], 0, 1, 1, b ? 16 : 1, 50);
                r->threads = 1;
                r->isa = RK_ISA_AVX2;
                r->gflops = 1.0 + h + 10.0 * c + 3.0 * b;
            }
    int series;
    char *svg = svg_of(rows, n, "title <with> & specials", &series);
    cr_assert_eq(series, 4, "series %d, want 4", series);
    cr_assert(strncmp(svg, "<svg", 4) == 0, "does not start with <svg: %.40s", svg);
    cr_assert_eq(count(svg, "<svg"), 1);
    cr_assert_eq(count(svg, "</svg>"), 1);
    cr_assert(strstr(svg, "</svg>\n") == svg + strlen(svg) - 7, "does not end with </svg>");
    cr_assert_eq(count(svg, "<polyline"), 4, "polylines: %zu", count(svg, "<polyline"));
    cr_assert_eq(count(svg, "<text"), count(svg, "</text>"), "unbalanced <text>");
    cr_assert(strstr(svg, "title &lt;with&gt; &amp; specials") != NULL, "title not escaped");
    cr_assert(strstr(svg, "<with>") == NULL, "raw < in text");
    /* Every polyline holds 3 points: 2 spaces between the 3 pairs. */
    for (const char *p = strstr(svg, "points=\""); p; p = strstr(p + 1, "points=\"")) {
        const char *q = p + 8, *end = strchr(q, '"');
        cr_assert(end != NULL);
        size_t spaces = 0;
        for (const char *s = q; s < end; s++) spaces += *s == ' ';
        cr_assert_eq(spaces, 2, "polyline with %zu points: %.60s", spaces + 1, q);
    }
    /* Legends: the varying parts only. */
    cr_assert(strstr(svg, ">lstm batch 16<") != NULL, "legend entry missing");
    cr_assert(strstr(svg, ">gru batch 1<") != NULL, "legend entry missing");
    free(svg);
}

Test(prof_svg, single_point_and_empty) {
    rk_prof_row r;
    memset(&r, 0, sizeof r);
    r.shape = shape(RNNKIT_CELL_RNN_TANH, 64, 64, 0, 1, 1, 1, 10);
    r.threads = 2;
    r.isa = RK_ISA_SCALAR;
    r.gflops = 3.0;
    int series;
    char *svg = svg_of(&r, 1, NULL, &series);
    cr_assert_eq(series, 1);
    cr_assert_eq(count(svg, "<polyline"), 1);
    cr_assert(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL, "non-finite coordinate");
    free(svg);
    svg = svg_of(&r, 0, "empty", &series);
    cr_assert_eq(series, 0);
    cr_assert_eq(count(svg, "<polyline"), 0);
    cr_assert(strncmp(svg, "<svg", 4) == 0);
    free(svg);
}

Test(prof_names, round_trip) {
    for (int i = 0; i < RK_PROF_NUM_ISAS; i++) cr_assert_eq(rk_prof_isa_index(rk_prof_isa_name(i)), i);
    cr_assert_eq(rk_prof_isa_index("avx1024"), -1);
    cr_assert_eq(rk_prof_isa_index(NULL), -1);
    cr_assert_str_eq(rk_prof_limit_name(RK_LIMIT_FMA), "FMA");
    cr_assert_str_eq(rk_prof_limit_name(RK_LEVEL_DRAM), "DRAM");
    cr_assert_str_eq(rk_prof_limit_name(-1), "?");
}
