/* The layer driver shared by rnnkit_forward and the streaming API. */
#ifndef RNNKIT_FORWARD_H
#define RNNKIT_FORWARD_H

#include "model.h"
#include "plan.h"

/* Scratch of one direction for a run of up to T steps of N rows. */
typedef struct rk_dir_ws {
    float *xp;      /* [T*N, G*H] input projections, row stride ldx */
    float *h[2];    /* [N, P] ping-pong states, row stride ldh */
    int64_t ldh;    /* rk_ldh(P) */
    int64_t ldx;    /* rk_ldx(G*H): row stride of xp and gx */
    float *c[2];    /* LSTM [N, H] */
    float *m;       /* LSTM with projection: [N, H] o*tanh(c) */
    float *scratch; /* GRU: [N, H] */
    float *gx;      /* [N, G*H] gathered projections (reverse, ragged), stride ldx */
} rk_dir_ws;

/* Row stride of the ping-pong h states: P + 16 floats. The step's tall
 * tiles broadcast from 6 (AVX-512: 12) rows of h at once; with rows a
 * multiple of 4 KiB apart (P = 1024) they all fall in one L1 set
 * (measured, AVX2 LSTM step N 64 H 1024, same process: 51-53 GFLOP/s
 * with stride 1024, 54-56 with 1040; H 512, 256 unchanged; whole LSTM
 * forward N 64 T 50 H 1024, 1 thread, runs alternated: 52.5-54.8 ->
 * 57.9-60.2 GFLOP/s). */
static inline int64_t rk_ldh(int64_t P) { return P + 16; }
/* Row stride of the input projections xp (and gx): G*H + 16 floats, for
 * the same reason. A batch >= 3 step's update reads, per row tile, the
 * G gate rows of 6 batch rows; at G*H a multiple of 1 KiB (H 256 and
 * up) those lines fell in one or two L1 sets, and the prefetched ones
 * evicted each other before the update read them (measured, AVX2 steps
 * alone, N 64, T 50, ld G*H vs G*H + 16 interleaved, median GFLOP/s:
 * LSTM H 256 51.2 -> 54.6, H 512 57.8 -> 66.2, H 1024 49.0 -> 50.9;
 * GRU H 512 56.6 -> 62.3, H 1024 51.1 -> 54.5; batch 8, H 512: LSTM
 * 46.9 -> 50.3, GRU 56.7 -> 59.6; whole forward, N 64, T 50, H 512,
 * 1 thread, `rnnkit prof` of the two builds alternated 8 times, median
 * GFLOP/s: LSTM 55.1 -> 58.3, GRU 57.5 -> 58.7). */
static inline int64_t rk_ldx(int64_t GH) { return GH + 16; }
/* Floats needed by one rk_dir_ws (each piece 64-byte aligned). */
size_t rk_dir_ws_floats(const rnnkit_model *m, int64_t T, int64_t N);
/* Carves a rk_dir_ws out of mem (which holds rk_dir_ws_floats floats). */
void rk_dir_ws_carve(const rnnkit_model *m, int64_t T, int64_t N, float *mem, rk_dir_ws *ws);

/* Runs one direction of layer l over T steps of N rows, as thread tid
 * of a team of nt (all nt call it, inside one parallel region; nt 1:
 * alone, bar and sense unused) with mode (rk_plan_mode) and the team's
 * barrier; with nt > 1 it returns after the whole team is done.
 * in: [T, N, K] rows of ld_in floats (row (t, n) at in + (t*N+n)*ld_in).
 * len: per-row lengths (NULL: all T). Rows with len 0 never step.
 * h_state [N, P] / c_state [N, H]: initial state in, final state out.
 * out: row (t, n) at out + (t*N+n)*ld_out, P floats; zero past len.
 * May be NULL. */
void rk_run_direction_team(const rnnkit_model *m, int64_t l, int64_t d, int64_t T, int64_t N,
                           const float *in, int64_t ld_in, const int32_t *len, float *h_state,
                           float *c_state, float *out, int64_t ld_out, rk_dir_ws *ws,
                           rk_par_mode mode, int tid, int nt, rk_barrier *bar, int *sense);

int rk_resolve_threads(int requested);

#endif
