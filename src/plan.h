/* How a forward call spreads over threads: a pure function of the shape,
 * the kernels' row block and the thread count (not public). */
#ifndef RNNKIT_PLAN_H
#define RNNKIT_PLAN_H

#include <stdint.h>
#ifndef __cplusplus
#include <stdatomic.h>

#include "model.h"
#endif

#ifndef __cplusplus
typedef enum rk_par_mode {
    RK_PAR_NONE = 0,  /* one thread runs the direction */
    RK_PAR_BATCH = 1, /* batch rows split: threads never synchronise */
    RK_PAR_UNITS = 2  /* hidden units split: one barrier per step */
} rk_par_mode;

typedef struct rk_plan {
    int par_dirs;     /* the two directions run at once, each on its group */
    int group;        /* threads per direction */
    rk_par_mode mode; /* within a direction */
} rk_plan;

/* The plan for T steps of N rows on `threads` threads. */
rk_plan rk_plan_make(const rnnkit_model *m, int64_t T, int64_t N, int threads);
/* Mode for one direction run by `threads` threads (used inside groups). */
rk_par_mode rk_plan_mode(const rnnkit_model *m, int64_t T, int64_t N, int threads);
/* The same with the team's start costing fork_us (streams: see
 * rk_plan_fork_us). */
rk_par_mode rk_plan_mode_fork(const rnnkit_model *m, int64_t T, int64_t N, int threads,
                              double fork_us);
/* The start of a team idle for idle_us: OpenMP's threads spin for a few
 * ms after a region, then sleep (unless OMP_WAIT_POLICY=active). */
#define RK_PLAN_SPIN_US 3000
double rk_plan_fork_us(double idle_us);

/* Tests only: force a mode for every direction (-1 = the cost model's
 * choice), and directions at once whenever there are two threads. A mode
 * that cannot apply (units with fewer than 2 blocks) is ignored. */
void rk_plan_force_mode(int mode);
/* Tests only: bidirectional layers on two or more threads run their
 * directions at once (1) or in turn (0), whatever rk_plan_force_mode
 * says; -1 = as above. */
void rk_plan_force_dirs(int at_once);
/* Tests only: plan as if the L2 (per core) and L3 caches took these many
 * bytes (0: this CPU's, src/cache.h). */
void rk_plan_force_caches(double l2_bytes, double l3_bytes);
#endif

/* A sense-reversing spin barrier on a shared counter: cheaper than
 * OpenMP's barrier for the per-step synchronisation of a few threads
 * (see bench/). Threads pass a private sense flag. */
#ifdef __cplusplus
typedef struct rk_barrier rk_barrier; /* opaque to C++ (bench/) */
#else
typedef struct rk_barrier {
    atomic_int count;
    atomic_int sense;
    int n;
} rk_barrier;
#endif

void rk_barrier_init(rk_barrier *b, int n);
/* Heap-allocated barrier, for callers that cannot see the struct. */
rk_barrier *rk_barrier_new(int n);
void rk_barrier_free(rk_barrier *b);
void rk_barrier_wait(rk_barrier *b, int *local_sense);

#endif
