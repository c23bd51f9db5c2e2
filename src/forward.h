/* The layer driver shared by rnnkit_forward and the streaming API. */
#ifndef RNNKIT_FORWARD_H
#define RNNKIT_FORWARD_H

#include "model.h"

/* Scratch of one direction for a run of up to T steps of N rows. */
typedef struct rk_dir_ws {
    float *xp;      /* [T*N, G*H] input projections */
    float *h[2];    /* [N, P] ping-pong states */
    float *c[2];    /* LSTM [N, H] */
    float *m;       /* LSTM with projection: [N, H] o*tanh(c) */
    float *scratch; /* GRU: [N, H] */
    float *gx;      /* [N, G*H] gathered projections (reverse, ragged) */
} rk_dir_ws;

/* Floats needed by one rk_dir_ws (each piece 64-byte aligned). */
size_t rk_dir_ws_floats(const rnnkit_model *m, int64_t T, int64_t N);
/* Carves a rk_dir_ws out of mem (which holds rk_dir_ws_floats floats). */
void rk_dir_ws_carve(const rnnkit_model *m, int64_t T, int64_t N, float *mem, rk_dir_ws *ws);

/* Runs one direction of layer l over T steps of N rows.
 * in: [T, N, K] rows of ld_in floats (row (t, n) at in + (t*N+n)*ld_in).
 * len: per-row lengths (NULL: all T). Rows with len 0 never step.
 * h_state [N, P] / c_state [N, H]: initial state in, final state out.
 * out: row (t, n) at out + (t*N+n)*ld_out, P floats; zero past len.
 * May be NULL. */
void rk_run_direction(const rnnkit_model *m, int64_t l, int64_t d, int64_t T, int64_t N,
                      const float *in, int64_t ld_in, const int32_t *len, float *h_state,
                      float *c_state, float *out, int64_t ld_out, rk_dir_ws *ws);

int rk_resolve_threads(int requested);

#endif
