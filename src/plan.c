/*
 * Planning: which threads do what. The cost model estimates one step's
 * time for each way of splitting a direction and keeps the cheapest:
 *
 *   single : max(W / bw(W),      F / peak)
 *   batch  : max(W / bw(W),      F / (t*peak))     every thread streams all
 *                                                  weights for its rows
 *   units  : max(W / (t*bw(W/t)), F / (t*peak)) + sync
 *                                                  each thread keeps its slice
 *                                                  of the weights in its cache
 *
 * W = recurrent weight bytes, F = recurrent FLOPs of the step, bw(bytes)
 * the read bandwidth of the cache level that `bytes` fit in. The figures
 * are this project's measurements on a Zen 4 core (shared/NOTES.md); only
 * their ratios matter for the choice. sync is the cost of one barrier
 * between the two cores: bench/bench_sync measured 0.71 us per crossing
 * for the spin barrier below against 2.85 us for OpenMP's barrier (median
 * of 3, 2 threads, this shared Zen 4 VM), so the driver uses the spin
 * barrier. It is counted once per step, once more for an LSTM projection
 * and once more for GRU with linear_before_reset = 0.
 *
 * Directions of a bidirectional layer run at once on two groups of threads
 * when there are at least two threads and a direction's estimated time is
 * more than twice the cost of starting the team: they share nothing. A
 * split of one direction must also save more over the T steps than the
 * team's start. That start costs ~3 us when OpenMP's idle threads spin
 * (the default) and ~50 us with OMP_WAIT_POLICY=passive (fork_us).
 *
 * GRU with linear_before_reset = 0 splitting units takes a second barrier
 * per step (its n gate needs r*h of every unit): sync is counted twice.
 */
#include "plan.h"

#include <sched.h>
#include <stdlib.h>

#include "status.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RK_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define RK_PAUSE() __asm__ volatile("yield")
#else
#define RK_PAUSE() ((void)0)
#endif

#define PEAK_GFLOPS 100.0 /* per core, sustained */
#define BW_L2 115.0       /* GB/s per core */
#define BW_L3 90.0
#define BW_DRAM 25.0
#define L2_BYTES (1u << 20)
#define L3_BYTES (16u << 20)
#define SYNC_US 0.7
#define STEP_OVERHEAD_US 0.1 /* loop, pointer set-up, kernel call */
/* Starting an OpenMP team for one forward and joining it: its threads
 * spin between parallel regions by default (~3 us), but with
 * OMP_WAIT_POLICY=passive each forward wakes them through the kernel
 * (measured with scripts/compare.sh, which sets it: a bidirectional LSTM
 * H 32, T 63, ~60 us per forward on one thread, took ~20 us more on two
 * threads than on one, i.e. ~50 us for the team instead of 3). */
#define FORK_US 3.0
#define FORK_PASSIVE_US 50.0

static double bw_for(double bytes) {
    if (bytes <= L2_BYTES) return BW_L2;
    if (bytes <= L3_BYTES) return BW_L3;
    return BW_DRAM;
}

static double max2(double a, double b) { return a > b ? a : b; }

static double fork_us(void) {
    const char *w = getenv("OMP_WAIT_POLICY");
    return w && (w[0] == 'p' || w[0] == 'P') ? FORK_PASSIVE_US : FORK_US;
}

static atomic_int rk_forced_mode = -1;

void rk_plan_force_mode(int mode) { atomic_store(&rk_forced_mode, mode); }

rk_par_mode rk_plan_mode(const rnnkit_model *m, int64_t T, int64_t N, int t) {
    if (t <= 1) return RK_PAR_NONE;
    const int forced = atomic_load(&rk_forced_mode);
    const int gru_two_pass = m->cell == RNNKIT_CELL_GRU && !m->linear_before_reset;
    const int syncs = 1 + (m->proj_size ? 1 : 0) + gru_two_pass;
    const int nr = m->k->row_block;
    const int blocks = (int)((m->hidden_size + nr - 1) / nr);
    if (forced == RK_PAR_NONE || forced == RK_PAR_BATCH) return (rk_par_mode)forced;
    if (forced == RK_PAR_UNITS && blocks >= 2) return RK_PAR_UNITS;
    const double G = (double)m->gates, H = (double)m->hidden_size, P = (double)m->out_size;
    double W = 4.0 * G * H * P + (m->proj_size ? 4.0 * P * H : 0.0);
    double F = 2.0 * (double)N * (G * H * P + (m->proj_size ? P * H : 0.0));
    /* us = bytes / (GB/s * 1e3) ; flops / (GFLOP/s * 1e3) */
    double single = max2(W / (bw_for(W) * 1e3), F / (PEAK_GFLOPS * 1e3));
    double batch = N >= 2 ? max2(W / (bw_for(W) * 1e3), F / (t * PEAK_GFLOPS * 1e3)) : 1e30;
    double units = 1e30;
    if (blocks >= t)
        units = max2(W / (t * bw_for(W / t) * 1e3), F / (t * PEAK_GFLOPS * 1e3)) +
                SYNC_US * syncs;
    /* A split must also win back the team's start over the sequence. */
    const double best = batch <= units ? batch : units;
    if ((double)T * (single - best) <= fork_us()) return RK_PAR_NONE;
    if (batch <= units && batch < single) return RK_PAR_BATCH;
    if (units < single) return RK_PAR_UNITS;
    return RK_PAR_NONE;
}

/* Estimated time of one direction of one layer on one thread, in us:
 * the steps (with a fixed per-step cost of the loop and kernel calls)
 * plus the input projection. */
static double direction_us(const rnnkit_model *m, int64_t T, int64_t N) {
    const double G = (double)m->gates, H = (double)m->hidden_size, P = (double)m->out_size;
    double W = 4.0 * G * H * P, F = 2.0 * (double)N * G * H * P;
    double step = max2(W / (bw_for(W) * 1e3), F / (PEAK_GFLOPS * 1e3)) + STEP_OVERHEAD_US;
    double proj = 2.0 * (double)T * (double)N * G * H * (double)m->input_size / (PEAK_GFLOPS * 1e3);
    return (double)T * step + proj;
}

rk_plan rk_plan_make(const rnnkit_model *m, int64_t T, int64_t N, int threads) {
    rk_plan p;
    /* Directions at once only when a direction's work outweighs starting
     * the team (fork_us()): tiny speech-size models with short sequences
     * stay on one thread. */
    const int forced = atomic_load(&rk_forced_mode) >= 0;
    p.par_dirs = m->num_dirs == 2 && threads >= 2 && (forced || direction_us(m, T, N) > 2.0 * fork_us());
    p.group = p.par_dirs ? threads / 2 : threads;
    if (p.group < 1) p.group = 1;
    p.mode = rk_plan_mode(m, T, N, p.group);
    if (p.mode == RK_PAR_NONE) p.group = 1;
    return p;
}

void rk_barrier_init(rk_barrier *b, int n) {
    atomic_store(&b->count, 0);
    atomic_store(&b->sense, 0);
    b->n = n;
}

rk_barrier *rk_barrier_new(int n) {
    rk_barrier *b = rk_alloc(sizeof *b);
    if (b) rk_barrier_init(b, n);
    return b;
}

void rk_barrier_free(rk_barrier *b) { rk_free(b); }

void rk_barrier_wait(rk_barrier *b, int *local_sense) {
    int s = !*local_sense;
    *local_sense = s;
    if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == b->n - 1) {
        atomic_store_explicit(&b->count, 0, memory_order_relaxed);
        atomic_store_explicit(&b->sense, s, memory_order_release);
    } else {
        /* Spin briefly, then yield: with more threads than cores a
         * preempted peer must get the core back. */
        unsigned spins = 0;
        while (atomic_load_explicit(&b->sense, memory_order_acquire) != s) {
            if (++spins < 4000) RK_PAUSE();
            else sched_yield();
        }
    }
}
