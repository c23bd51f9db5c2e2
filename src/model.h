/* The model's internal representation (not public). */
#ifndef RNNKIT_MODEL_H
#define RNNKIT_MODEL_H

#include <stdatomic.h>

#include "rnnkit.h"
#include "simd/kernels.h"

/* Weights of one direction of one layer, converted to canonical gate
 * order (LSTM i,f,g,o; GRU r,z,n) and packed for the model's kernels. */
typedef struct rk_dir_weights {
    float *w_ih;  /* packed, G gates, k = layer input size */
    float *w_hh;  /* packed: LSTM 4 gates, RNN 1, GRU r,z */
    float *w_hn;  /* GRU: packed n gate */
    float *w_hr;  /* LSTM projection: packed, 1 gate, h = P, k = H */
    float *bias;  /* [G*H] folded input-side bias (NULL-free, zeros if none) */
    float *b_hn;  /* GRU linear_before_reset: [H] recurrent n bias */
    float *peep;  /* LSTM: [3H] p_i, p_f, p_o, or NULL */
    rnnkit_step_fn *step;
    int default_act;
    rnnkit_act act[3];
} rk_dir_weights;

/* Workspaces a model keeps (see rnnkit_model.ws_slot). */
#define RK_WS_SLOTS 4
typedef struct rk_ws_buf {
    void *mem;
    size_t bytes;
} rk_ws_buf;

struct rnnkit_model {
    rnnkit_layout layout;
    rnnkit_cell cell;
    rnnkit_direction direction;
    int64_t input_size, hidden_size, proj_size, out_size; /* out = P */
    int64_t num_layers, num_dirs, gates;
    int has_bias, has_peep, linear_before_reset, input_forget, onnx_layout;
    rnnkit_merge_mode merge_mode; /* Keras Bidirectional; concat otherwise */
    float clip;
    const rnnkit_kernels *k;
    rk_dir_weights *w; /* [num_layers * num_dirs] */
    /* Workspaces of earlier forward calls, kept for the next ones
     * (src/model.c rk_ws_take / rk_ws_give): each slot holds one or
     * NULL, taken and given back by atomic exchange, so concurrent calls
     * on the shared model never share one. */
    _Atomic(struct rk_ws_buf *) ws_slot[RK_WS_SLOTS];
};

/* A workspace of at least `bytes` for one forward call: one m kept,
 * else a new one; NULL when out of memory. */
rk_ws_buf *rk_ws_take(const struct rnnkit_model *m, size_t bytes);
/* Back to m's slots after the call (freed when they are all full). */
void rk_ws_give(const struct rnnkit_model *m, rk_ws_buf *b);
/* Frees the workspaces m keeps (model destruction, and
 * rnnkit_model_release_workspaces). */
void rk_ws_release(const struct rnnkit_model *m);

/* Floats per (t, n) row of the caller's y. */
static inline int64_t rk_y_width(const struct rnnkit_model *m) {
    return m->merge_mode == RNNKIT_MERGE_CONCAT ? m->num_dirs * m->out_size : m->out_size;
}

/* Input size of layer l. */
static inline int64_t rk_layer_input(const struct rnnkit_model *m, int64_t l) {
    return l == 0 ? m->input_size : m->num_dirs * m->out_size;
}

#endif
