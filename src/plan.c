/*
 * Planning: which threads do what. The cost model estimates one step's
 * time for each way of splitting a direction and keeps the cheapest:
 *
 *   single : c(W / bw(W, W, 1),       F / peak)        + U
 *   batch  : c(W / bw(W, W, t),       F_b / peak)      + U_b
 *                                      every thread streams all weights for
 *                                      its ceil(N/t) rows
 *   units  : c(W_u / bw(W_u, W, t),   F_u / peak)      + U_u + sync
 *                                      each thread keeps its slice of the
 *                                      weights (ceil(blocks/t) blocks) in its
 *                                      cache
 *
 * W = recurrent weight bytes, F = recurrent FLOPs of the step (F_b, F_u,
 * W_u: one thread's share, its largest), U = the cell update (the
 * activations: UPDATE_NS per hidden unit and batch row; U_b, U_u: one
 * thread's share), bw(...) the read bandwidth of the cache level the
 * weights come from (below). c(mem, flops) = max + MEM_STALL * min: a
 * step does not hide all of its weight streaming behind its FMAs (measured,
 * 2 threads, batch rows split against units split, medians in one
 * process: LSTM H 512 batch 8 336 / 301 us per step, GRU H 256 batch 8
 * 66.9 / 61.4, LSTM H 512 batch 64 2927 / 2840, GRU H 512 batch 64
 * 1848 / 1786: the mode that streams half the weights per thread wins by
 * 3-10 % although both are FMA-bound by max(); a later pass gave LSTM
 * H 512 batch 8 317 / 314, and a noisy 5-round one 319 / 336: the gap is
 * near this VM's noise). U matters for small
 * models, where the activations cost more than the products: LSTM H 32
 * batch 8, T 50 ran at 6.0 us per step on one thread and 4.9 with its
 * batch rows split, while max() alone estimated 0.65 us per step and
 * kept it on one thread. All these were measured with bench/ab/ab_plan.c
 * (or its forerunner), every variant in one process. The figures
 * are this project's measurements on a Zen 4 core (shared/NOTES.md); only
 * their ratios matter for the choice. sync is the cost of one barrier
 * between the two cores: bench/bench_sync measured 0.71 us per crossing
 * for the spin barrier below against 2.85 us for OpenMP's barrier (median
 * of 3, 2 threads, this shared Zen 4 VM), so the driver uses the spin
 * barrier. It is counted once per step, once more for an LSTM projection
 * and once more for GRU with linear_before_reset = 0.
 *
 * bw(each, total, cores) is per core, for `cores` cores each streaming
 * `each` bytes with `total` bytes live among them: L2 is private (each
 * core's share must fit), L3 and memory are shared, so their aggregate
 * bandwidth is divided among the cores streaming at once.
 *
 * The two directions of a bidirectional layer either run at once, each
 * on half of the threads, or in turn, each on all of them:
 *
 *   at once : time(direction on t/2 threads, with the other direction's
 *             weights live and streamed by the other t/2 cores)
 *   in turn : 2 * time(direction on t threads)
 *
 * At once shares nothing and saves the barriers, and wins while the
 * weights of both directions stay in cache. When the two together no
 * longer fit in L3 it streams them from memory, while in turn keeps one
 * direction's weights in L3: measured, bidirectional LSTM H 1024, batch
 * 1, T 50, 2 threads, medians in one process: at once 1400, in turn 733
 * us per step; batch 8: 3930 and 3221; H 512 batch 8 and H 256 batch 8,
 * 1 and 2 layers: equal within 4 %. At once must also save more than
 * the team's start against both directions on one thread (tiny
 * speech-size models stay on one thread), and a split of one direction
 * must save more over the T steps than the team's start. (The rule was
 * "a direction longer than twice the start" until measured, ab_plan,
 * passive threads, bidirectional, I 24, T 63, batch 1, medians of 15 in
 * one process, us per step: GRU H 64 one thread 2.69, at once 2.26;
 * GRU H 32 0.98 and 1.17; LSTM H 32 1.28 and 1.24.) That start costs ~3 us
 * when OpenMP's idle threads spin (the default) and ~50 us with
 * OMP_WAIT_POLICY=passive (fork_us).
 *
 * GRU with linear_before_reset = 0 splitting units takes a second barrier
 * per step (its n gate needs r*h of every unit): sync is counted twice.
 */
#include "plan.h"

#include <sched.h>
#include <stdlib.h>

#include "cache.h"
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
/* GB/s of all cores streaming at once (shared/NOTES.md: 2 cores read
 * 196 GB/s from L3 and 35-61 from memory; `rnnkit prof` on this VM gave
 * 108 and 27: the lower ends, rounded). */
#define BW_L3_ALL 150.0
#define BW_DRAM_ALL 35.0
/* Cache capacities: this CPU's (src/cache.c), read when a model is made.
 * L2 is a core's own. Of L3 only half is counted: it also holds
 * activations, inputs and other tenants' lines, and weights of half the
 * L3 size already stream at memory speed (measured: 16 MiB of LSTM
 * H 1024 weights, 32 MiB L3, batch 1: ~20 GB/s on the Zen 3 VM, while
 * 4 MiB stream at L3 speed; on the 32 MiB Zen 4 the two directions of a
 * bidirectional H 1024 LSTM, 32 MiB together, ran 1400 us per step at
 * once against 733 in turn). The figures above were measured with the
 * 1 MiB L2 and 32 MiB L3 of the Zen 4, the defaults where the sizes
 * cannot be read. */
static atomic_llong rk_caches_forced[2];

void rk_plan_force_caches(double l2_bytes, double l3_bytes) {
    atomic_store(&rk_caches_forced[0], (long long)l2_bytes);
    atomic_store(&rk_caches_forced[1], (long long)l3_bytes);
}

static void cache_bytes(double *l2, double *l3) {
    double sz[3];
    rk_cache_sizes(sz);
    const long long f2 = atomic_load(&rk_caches_forced[0]), f3 = atomic_load(&rk_caches_forced[1]);
    *l2 = f2 > 0 ? (double)f2 : sz[1];
    *l3 = (f3 > 0 ? (double)f3 : sz[2]) / 2;
}
#define SYNC_US 0.7
#define STEP_OVERHEAD_US 0.1 /* loop, pointer set-up, kernel call */
#define MEM_STALL 0.5
/* ns per hidden unit and batch row of the cell update, AVX2 fused steps
 * with K 8 (the products negligible), best of 7: LSTM 9.6-12.6, GRU
 * (linear_before_reset 1) 6.3-9.0 from batch 64 to batch 1; RNN, one
 * tanh instead of LSTM's five activations, taken as a quarter of LSTM. */
#define UPDATE_NS_LSTM 10.0
#define UPDATE_NS_GRU 6.5
#define UPDATE_NS_RNN 2.5
/* Starting an OpenMP team for one forward and joining it: its threads
 * spin between parallel regions by default (~3 us), but with
 * OMP_WAIT_POLICY=passive each forward wakes them through the kernel
 * (measured with scripts/compare.sh, which sets it: a bidirectional LSTM
 * H 32, T 63, ~60 us per forward on one thread, took ~20 us more on two
 * threads than on one, i.e. ~50 us for the team instead of 3). */
#define FORK_US 3.0
#define FORK_PASSIVE_US 50.0

static double bw_for(double each, double total, int cores) {
    double l2, l3;
    cache_bytes(&l2, &l3);
    if (each <= l2) return BW_L2;
    const double bw = total <= l3 ? BW_L3 : BW_DRAM;
    const double all = (total <= l3 ? BW_L3_ALL : BW_DRAM_ALL) / (cores > 1 ? cores : 1);
    return bw < all ? bw : all;
}

/* OMP_WAIT_POLICY's first letter, lower case ('a' active, 'p' passive),
 * or 0 where it is unset. */
static int wait_policy(void) {
    const char *w = getenv("OMP_WAIT_POLICY");
    return w && (w[0] == 'p' || w[0] == 'P') ? 'p' : (w && (w[0] == 'a' || w[0] == 'A') ? 'a' : 0);
}

/* A team's start under wait policy w (wait_policy()). */
static double fork_for(int w) { return w == 'p' ? FORK_PASSIVE_US : FORK_US; }

static double fork_us(void) { return fork_for(wait_policy()); }

/* A team that has slept: libgomp's idle threads spin a few ms after a
 * region (measured here: an empty 2-thread region after a 5 ms gap 5.8
 * us, after 10 ms 65 us, after 20 ms 130 us, medians of 15), then sleep,
 * unless OMP_WAIT_POLICY=active. Work started on a core that has idled
 * also runs cold: one-frame stream pushes of an LSTM paced 10 ms apart,
 * 1 thread / 2 threads, medians (/tmp harness, one process): H 256
 * 196 / 1074 us, H 512 699 / 1200, H 1024 2755 / 1766; with
 * OMP_WAIT_POLICY=active 183 / 139, 593 / 375, 2876 / 1678. So a team
 * that has probably slept must save about a millisecond. */
#define FORK_ASLEEP_US 1000.0

double rk_plan_fork_us(double idle_us) {
    if (wait_policy() == 'a') return FORK_US;
    if (idle_us > RK_PLAN_SPIN_US) return FORK_ASLEEP_US;
    return fork_us();
}

static atomic_int rk_forced_mode = -1;

void rk_plan_force_mode(int mode) { atomic_store(&rk_forced_mode, mode); }

static atomic_int rk_forced_dirs = -1;

void rk_plan_force_dirs(int at_once) { atomic_store(&rk_forced_dirs, at_once); }

/* Recurrent weight bytes of one direction of a layer (W of the header). */
static double weight_bytes(const rnnkit_model *m) {
    const double G = (double)m->gates, H = (double)m->hidden_size, P = (double)m->out_size;
    return 4.0 * G * H * P + (m->proj_size ? 4.0 * P * H : 0.0);
}

/* c(mem, flops) of the header. */
static double cost(double mem, double flops) {
    return mem > flops ? mem + MEM_STALL * flops : flops + MEM_STALL * mem;
}

static double ceil_div(double a, double b) { return (double)(int64_t)((a + b - 1.0) / b); }

/* The mode for one direction on t threads, and (*us) its estimated time
 * in us for the T steps and the input projection, while other_bytes of
 * another direction's weights are live, streamed by other_cores more
 * cores. */
static rk_par_mode plan_dir(const rnnkit_model *m, int64_t T, int64_t N, int t,
                            double other_bytes, int other_cores, double fork, double *us) {
    const int forced = atomic_load(&rk_forced_mode);
    const int gru_two_pass = m->cell == RNNKIT_CELL_GRU && !m->linear_before_reset;
    const int syncs = 1 + (m->proj_size ? 1 : 0) + gru_two_pass;
    const int nr = m->k->row_block;
    const int blocks = (int)((m->hidden_size + nr - 1) / nr);
    const double G = (double)m->gates, H = (double)m->hidden_size, P = (double)m->out_size;
    const double W = weight_bytes(m);
    const double F = 2.0 * (double)N * (G * H * P + (m->proj_size ? P * H : 0.0));
    const double upd = m->cell == RNNKIT_CELL_LSTM  ? UPDATE_NS_LSTM
                       : m->cell == RNNKIT_CELL_GRU ? UPDATE_NS_GRU
                                                    : UPDATE_NS_RNN;
    /* The kernels' throughput against the reference core the constants
     * were measured on (simd/kernels.h flop_scale): a Zen 5 core runs a
     * step's FMAs and activations twice as fast with AVX-512 as the Zen 4
     * reference, while bandwidths, barriers and the team's start stay. */
    const double scale = m->k->flop_scale > 0.0 ? m->k->flop_scale : 1.0;
    const double peak = PEAK_GFLOPS * scale;
    const double U = (double)N * H * upd * 1e-3 / scale;
    const double total = W + other_bytes;
    /* The input projection of the T*N rows reads W_ih once: for a few
     * rows (a stream's frame) that read, not the FLOPs, takes the time.
     * A team splits it (rows or units): each thread's share of the
     * FLOPs, and with few rows of W_ih. */
    const double Wi = 4.0 * G * H * (double)m->input_size;
    const double pf =
        2.0 * (double)T * (double)N * G * H * (double)m->input_size / (peak * 1e3);
    const double proj = cost(Wi / (bw_for(Wi, Wi + total, 1 + other_cores) * 1e3), pf);
    const double projt =
        t > 1 ? cost(Wi / t / (bw_for(Wi / t, Wi + total, t + other_cores) * 1e3), pf / t) : proj;
    /* us = bytes / (GB/s * 1e3) ; flops / (GFLOP/s * 1e3) */
    const double single =
        cost(W / (bw_for(W, total, 1 + other_cores) * 1e3), F / (peak * 1e3)) + U;
    rk_par_mode mode = RK_PAR_NONE;
    double step = single;
    if (t > 1) {
        double batch = 1e30, units = 1e30;
        if (N >= 2) {
            const double rows = ceil_div((double)N, t) / (double)N; /* one thread's share */
            batch = cost(W / (bw_for(W, total, t + other_cores) * 1e3),
                         rows * F / (peak * 1e3)) +
                    rows * U;
        }
        if (blocks >= t) {
            const double part = ceil_div((double)blocks, t) / (double)blocks;
            units = cost(part * W / (bw_for(part * W, total, t + other_cores) * 1e3),
                         part * F / (peak * 1e3)) +
                    part * U + SYNC_US * syncs;
        }
        const double best = batch <= units ? batch : units;
        if (forced == RK_PAR_NONE || forced == RK_PAR_BATCH) {
            mode = (rk_par_mode)forced;
            step = forced == RK_PAR_BATCH ? batch : single;
        } else if (forced == RK_PAR_UNITS && blocks >= 2) {
            mode = RK_PAR_UNITS, step = units;
        } else if ((double)T * (single - best) + proj - projt <= fork) {
            /* A split must also win back the team's start over the
             * sequence (with the input projection, which a team splits
             * too: by rows, or by units when the rows are few, e.g. a
             * stream's frame): stay on one thread. */
        } else if (batch <= units && batch < single) {
            mode = RK_PAR_BATCH, step = batch;
        } else if (units < single) {
            mode = RK_PAR_UNITS, step = units;
        }
    }
    *us = (double)T * (step + STEP_OVERHEAD_US) + (mode != RK_PAR_NONE ? projt : proj);
    return mode;
}

rk_par_mode rk_plan_mode(const rnnkit_model *m, int64_t T, int64_t N, int t) {
    /* One thread: nothing to plan, and no getenv (it scans the whole
     * environment: ~300 instructions per forward call here). */
    if (t <= 1) return RK_PAR_NONE;
    return rk_plan_mode_fork(m, T, N, t, fork_us());
}

rk_par_mode rk_plan_mode_fork(const rnnkit_model *m, int64_t T, int64_t N, int t, double fork) {
    double us;
    if (t <= 1) return RK_PAR_NONE;
    return plan_dir(m, T, N, t, 0.0, 0, fork, &us);
}

rk_plan rk_plan_make(const rnnkit_model *m, int64_t T, int64_t N, int threads) {
    rk_plan p;
    const int forced = atomic_load(&rk_forced_mode) >= 0;
    const int forced_dirs = atomic_load(&rk_forced_dirs);
    p.par_dirs = 0;
    if (m->num_dirs == 2 && threads >= 2 && forced_dirs >= 0) {
        p.par_dirs = forced_dirs != 0;
    } else if (m->num_dirs == 2 && threads >= 2) {
        const double W = weight_bytes(m);
        const int half = threads / 2;
        const int policy = wait_policy();
        const double fork = fork_for(policy);
        double one, at_once, in_turn;
        (void)plan_dir(m, T, N, 1, 0.0, 0, fork, &one);
        (void)plan_dir(m, T, N, half, W, threads - half, fork, &at_once);
        (void)plan_dir(m, T, N, threads, 0.0, 0, fork, &in_turn);
        /* At once must beat both directions in turn on one thread by
         * more than the team's start (tiny models stay on one thread),
         * and be no slower than in turn on all threads. With passive
         * OpenMP threads the start counts twice here: the woken thread
         * runs a whole direction alone from a cold, just-woken core, and
         * nothing (no per-step barrier) keeps it warm. Measured, ab_plan,
         * OMP_WAIT_POLICY=passive, GRU H 64 bidirectional, batch 1, I 24,
         * T 63 (~58 us per direction), medians of 21 in one process, us
         * per step, one thread / at once: 1.48 / 1.55, 2.01 / 2.42, 1.87
         * / 2.17, 1.84 / 2.02; bench_compare's paired speed-up 0.77. An
         * empty passive 2-thread region alone takes 15-21 us back to
         * back, 52 after 1 ms idle (/tmp harness). The LSTM H 64 model
         * (~85 us per direction) still runs at once at the reference rate
         * (flop_scale 1): 2.13 / 2.87 and 2.84 / 2.44 in two runs, 1.93 /
         * 2.74 in the grid; with AVX-512 at full width (flop_scale 2, Zen
         * 5: ~30 us per direction) on one thread, 0.89 / 1.27 at once. */
        const double start = policy == 'p' ? 2.0 * fork : fork;
        p.par_dirs = forced || (at_once + start < 2.0 * one && at_once <= 2.0 * in_turn);
    }
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
