/*
 * rnnkit: fast recurrent neural networks (RNN, LSTM, GRU) on CPUs.
 *
 * The whole public API. C11; every function returns an rnnkit_status
 * unless it cannot fail. On failure a message saying what is wrong (which
 * argument, which tensor, expected versus actual shape) is available from
 * rnnkit_last_error() on the calling thread until that thread's next rnnkit
 * call. A call that fails writes nothing to its output buffers.
 *
 * Threading: an rnnkit_model is immutable once created and may be used by
 * any number of threads at once (its weights never change; the only
 * thing it keeps between calls is a few spare workspaces, each handed to
 * one call at a time by atomic exchange). A workspace buffer or an
 * rnnkit_stream must be used by one thread at a time.
 *
 * Numbers: float32 everywhere. Tensors are dense, C order (row-major).
 */
#ifndef RNNKIT_H
#define RNNKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RNNKIT_VERSION_MAJOR 0
#define RNNKIT_VERSION_MINOR 1
#define RNNKIT_VERSION_PATCH 0

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */
typedef enum rnnkit_status {
    RNNKIT_STATUS_OK = 0,
    /* An argument is NULL, zero, negative or out of its range. */
    RNNKIT_STATUS_INVALID_ARGUMENT = 1,
    /* A tensor's or buffer's shape does not match what the model expects. */
    RNNKIT_STATUS_SHAPE_MISMATCH = 2,
    /* A tensor the model needs is missing, or a tensor is not recognised. */
    RNNKIT_STATUS_MISSING_TENSOR = 3,
    /* Memory could not be allocated, or a size overflows size_t. */
    RNNKIT_STATUS_OUT_OF_MEMORY = 4,
    /* The request is valid but not supported (e.g. streaming a
     * bidirectional model). */
    RNNKIT_STATUS_UNSUPPORTED = 5,
    /* A file could not be opened, read or written. */
    RNNKIT_STATUS_IO_ERROR = 6,
    /* A file's contents are malformed (bad header, offsets, dtype...). */
    RNNKIT_STATUS_FORMAT_ERROR = 7,
    /* The caller's workspace is smaller than rnnkit_workspace_size(). */
    RNNKIT_STATUS_WORKSPACE_TOO_SMALL = 8,
    /* The ISA asked for is unknown or this CPU does not support it. */
    RNNKIT_STATUS_ISA_UNAVAILABLE = 9,
    /* A sequence length is outside the allowed range. */
    RNNKIT_STATUS_BAD_LENGTH = 10
} rnnkit_status;

/* Short fixed name of a status ("invalid argument"). Never NULL. */
const char *rnnkit_status_string(rnnkit_status status);

/* Message of the last failed call on this thread (thread-local storage),
 * or "" if the last call succeeded. Never NULL. */
const char *rnnkit_last_error(void);

/* "0.1.0" */
const char *rnnkit_version(void);

/* ------------------------------------------------------------------ */
/* Model description                                                   */
/* ------------------------------------------------------------------ */
typedef enum rnnkit_cell {
    RNNKIT_CELL_RNN_TANH = 0, /* Elman RNN, h = tanh(...) (ONNX "RNN") */
    RNNKIT_CELL_RNN_RELU = 1, /* Elman RNN, h = relu(...)              */
    RNNKIT_CELL_LSTM = 2,
    RNNKIT_CELL_GRU = 3
} rnnkit_cell;

/* Which framework's tensor names, shapes, gate orders and I/O layouts
 * the model follows. */
typedef enum rnnkit_layout {
    /* torch.nn.RNN / LSTM / GRU: tensors weight_ih_l{k}[_reverse],
     * weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k}; gate
     * order LSTM i,f,g,o and GRU r,z,n (GRU is "linear before reset"). */
    RNNKIT_LAYOUT_PYTORCH = 0,
    /* ONNX RNN / LSTM / GRU operators (opset 14): tensors W, R, B, P;
     * gate order LSTM i,o,f,c and GRU z,r,h; one layer. */
    RNNKIT_LAYOUT_ONNX = 1,
    /* keras.layers.SimpleRNN / LSTM / GRU (optionally in Bidirectional):
     * tensors named as layer.weights ("lstm/lstm_cell/kernel:0"; matched
     * on the last '/' component: kernel [I, G*H], recurrent_kernel
     * [H, G*H], bias [G*H], or [2, 3H] for a GRU with reset_after=True);
     * names with a "backward..." component are the backward direction.
     * Gate order LSTM i,f,c,o and GRU z,r,h; one layer. A GRU's
     * reset_after (= linear_before_reset) comes from its bias shape.
     * Activations as for ONNX: f = recurrent_activation, g (and h for
     * LSTM) = activation; Keras 2's hard_sigmoid is HardSigmoid alpha 0.2
     * beta 0.5, Keras 3's alpha 1/6 beta 0.5. I/O as PyTorch layout:
     * x [N,T,I] with batch_major = 1 (Keras' default), y [N,T,D*H]
     * (merge_mode "concat"; desc.merge_mode sum, mul, ave: y [N,T,H]),
     * h0/hn and c0/cn [D,N,H]. A layer with
     * go_backwards=True is desc.direction = RNNKIT_DIRECTION_REVERSE: as
     * Keras, y is in processing order (y[t] from the step that read
     * x[T-1-t]; with lengths, the zeros of the padding come first). */
    RNNKIT_LAYOUT_KERAS = 2
} rnnkit_layout;

typedef enum rnnkit_direction {
    RNNKIT_DIRECTION_FORWARD = 0,
    RNNKIT_DIRECTION_REVERSE = 1, /* ONNX; Keras go_backwards=True */
    RNNKIT_DIRECTION_BIDIRECTIONAL = 2
} rnnkit_direction;

/* The ONNX activation functions (names as ONNX spells them,
 * case-insensitive in files). alpha/beta as in the ONNX specification. */
typedef enum rnnkit_activation_kind {
    RNNKIT_ACTIVATION_SIGMOID = 0,
    RNNKIT_ACTIVATION_TANH = 1,
    RNNKIT_ACTIVATION_RELU = 2,
    RNNKIT_ACTIVATION_AFFINE = 3,           /* alpha*x + beta */
    RNNKIT_ACTIVATION_LEAKY_RELU = 4,       /* x >= 0 ? x : alpha*x */
    RNNKIT_ACTIVATION_THRESHOLDED_RELU = 5, /* x > alpha ? x : 0 */
    RNNKIT_ACTIVATION_SCALED_TANH = 6,      /* alpha*tanh(beta*x) */
    RNNKIT_ACTIVATION_HARD_SIGMOID = 7,     /* max(0, min(1, alpha*x+beta)) */
    RNNKIT_ACTIVATION_ELU = 8,              /* x >= 0 ? x : alpha*(e^x-1) */
    RNNKIT_ACTIVATION_SOFTSIGN = 9,         /* x / (1 + |x|) */
    RNNKIT_ACTIVATION_SOFTPLUS = 10         /* log(1 + e^x) */
} rnnkit_activation_kind;

typedef struct rnnkit_activation {
    rnnkit_activation_kind kind;
    float alpha;
    float beta;
} rnnkit_activation;

/* Parse an ONNX activation name ("Tanh", "leakyrelu", ...), setting the
 * ONNX default alpha/beta for it. */
rnnkit_status rnnkit_activation_parse(const char *name, rnnkit_activation *out);

/* One named float32 tensor given to rnnkit_model_create. The library
 * copies the data; the caller's buffer is not kept. */
typedef struct rnnkit_tensor {
    const char *name;  /* "weight_ih_l0", "bias_hh_l1_reverse", "W", ... */
    const float *data; /* dense, C order */
    int ndim;          /* 1..4 */
    int64_t shape[4];
} rnnkit_tensor;

#define RNNKIT_MAX_ACTIVATIONS 6

/* Keras Bidirectional merge_mode: how y joins the two directions. */
typedef enum rnnkit_merge_mode {
    RNNKIT_MERGE_CONCAT = 0, /* y [..., 2H]: forward then backward (every layout) */
    RNNKIT_MERGE_SUM = 1,    /* y [..., H]: forward + backward (Keras only) */
    RNNKIT_MERGE_MUL = 2,    /* forward * backward */
    RNNKIT_MERGE_AVE = 3     /* (forward + backward) / 2 */
} rnnkit_merge_mode;

/* Everything about a model that its tensors do not say. Start from
 * rnnkit_model_desc_init(), which sets every field to its default. */
typedef struct rnnkit_model_desc {
    rnnkit_layout layout;
    rnnkit_cell cell;

    /* Optional checks: 0 means "take it from the tensors"; a non-zero
     * value must match the tensors or creation fails. */
    int64_t input_size;
    int64_t hidden_size;
    int64_t num_layers; /* PyTorch only; ONNX models have one layer */

    /* PyTorch: bidirectional is taken from the presence of *_reverse
     * tensors; proj_size from weight_hr_l{k}; biases from bias_*.
     * Keras: bidirectional from the presence of backward_* tensors;
     * reverse = go_backwards=True (one direction).
     * ONNX: the direction attribute (default forward). */
    rnnkit_direction direction;

    /* ONNX attributes (ignored for PyTorch layout, which has fixed
     * semantics; Keras layout takes clip, linear_before_reset (GRU
     * without a bias) and the activations). */
    int linear_before_reset; /* GRU: 0 (ONNX default) or 1 */
    float clip;              /* > 0 clips gate pre-activations; 0 = none */
    int input_forget;        /* LSTM: couple f = 1 - i */
    /* Activation list as the ONNX attribute: per direction f (RNN);
     * f, g (GRU); f, g, h (LSTM); forward direction first. 0 means the
     * defaults (Tanh; Sigmoid,Tanh; Sigmoid,Tanh,Tanh). */
    int num_activations;
    rnnkit_activation activations[RNNKIT_MAX_ACTIVATIONS];
    /* ONNX "layout" attribute: 0 = X [T,N,I], Y [T,D,N,H], Y_h [D,N,H];
     * 1 = X [N,T,I], Y [N,T,D,H], Y_h [N,D,H]. */
    int onnx_layout;
    /* Keras Bidirectional's merge_mode (concat, the default, for every
     * other model; merge_mode=None is concat split in two halves). */
    rnnkit_merge_mode merge_mode;
} rnnkit_model_desc;

void rnnkit_model_desc_init(rnnkit_model_desc *desc);

typedef struct rnnkit_model rnnkit_model;

/* Creates a model from named tensors. PyTorch names may carry a common
 * prefix ("rnn.weight_ih_l0"); unknown names are an error. The weights
 * are copied and packed for the ISA chosen by rnnkit_isa_select() (or
 * the best one the CPU has); the model keeps that ISA for its life. */
rnnkit_status rnnkit_model_create(const rnnkit_model_desc *desc,
                                  const rnnkit_tensor *tensors,
                                  size_t num_tensors, rnnkit_model **out);

/* Loads a model from a .safetensors file; the cell, layout and
 * attributes come from the header's __metadata__ (see README). */
rnnkit_status rnnkit_model_load(const char *path, rnnkit_model **out);

/* Frees everything. NULL is accepted. */
void rnnkit_model_destroy(rnnkit_model *model);

/* Frees the workspaces the model keeps from earlier rnnkit_forward calls
 * made without args.workspace (a call reuses one instead of allocating
 * and page-faulting megabytes again: LSTM H 256, batch 64, ~10 % faster).
 * They are the largest recent calls' and stay until the model is
 * destroyed or this is called. Safe while other threads run forward on
 * the model: a workspace in use is not touched. NULL is accepted. */
void rnnkit_model_release_workspaces(const rnnkit_model *model);

/* Properties of a created model (cannot fail on a valid model). */
typedef struct rnnkit_model_info {
    rnnkit_layout layout;
    rnnkit_cell cell;
    int64_t input_size;
    int64_t hidden_size;
    int64_t proj_size;   /* 0 if none */
    int64_t output_size; /* proj_size if set, else hidden_size */
    int64_t num_layers;
    int64_t num_directions;    /* 1 or 2 */
    rnnkit_direction direction;
    int has_bias;
    int has_peepholes;
    int linear_before_reset;
    int input_forget;
    float clip;
    int onnx_layout; /* ONNX layout attribute (0 or 1); 0 for PyTorch */
    const char *isa; /* ISA its kernels use: "scalar", "avx2", ... */
    rnnkit_merge_mode merge_mode;
    /* Floats per (t, n) row of y: D*P, or P for a Keras merge_mode other
     * than concat. */
    int64_t y_width;
} rnnkit_model_info;

rnnkit_status rnnkit_model_get_info(const rnnkit_model *model,
                                    rnnkit_model_info *info);

/* ------------------------------------------------------------------ */
/* Forward over whole sequences                                        */
/* ------------------------------------------------------------------ */
/* Shapes (T = seq_len, N = batch, I = input size, H = hidden size,
 * P = output size (proj or H), L = layers, D = directions):
 *
 *   PyTorch layout                       ONNX layout
 *   x   [T,N,I] or [N,T,I] (batch_major) [T,N,I] (onnx_layout 0) or [N,T,I]
 *   y   [T,N,D*P] or [N,T,D*P]           [T,D,N,H] or [N,T,D,H]
 *   h0,hn [L*D,N,P]                      [D,N,H] or [N,D,H]
 *   c0,cn [L*D,N,H]                      [D,N,H] or [N,D,H]
 *
 * Keras-layout models take the PyTorch-layout shapes with L = 1 (Keras
 * itself is batch-major: batch_major = 1, y [N,T,D*H], states [D,N,H]);
 * with a merge_mode other than concat, y [N,T,H].
 * For ONNX models batch_major must equal the model's onnx_layout.
 * Lengths: optional [N]; each in 1..T, and for ONNX models also 0
 * (zero outputs and zero final states). Outputs past a sequence's length
 * are zero; its final state is the one at its last valid step.
 */
typedef struct rnnkit_forward_args {
    int64_t seq_len;
    int64_t batch;
    int batch_major;
    const float *x;          /* required */
    const int32_t *lengths;  /* optional */
    const float *h0;         /* optional: zeros */
    const float *c0;         /* optional (LSTM): zeros */
    float *y;                /* optional */
    float *hn;               /* optional */
    float *cn;               /* optional (LSTM) */
    /* Optional scratch memory of at least rnnkit_workspace_size() bytes;
     * with it the call allocates nothing. NULL: the call uses a
     * workspace the model kept from an earlier call, or allocates one
     * and keeps it afterwards (up to 4 per model, for concurrent calls;
     * see rnnkit_model_release_workspaces). */
    void *workspace;
    size_t workspace_size;
    /* Threads: > 0 uses up to that many; 0 takes rnnkit_set_num_threads()'s
     * value, else OMP_NUM_THREADS, else all cores. A call made from inside
     * an OpenMP parallel region runs on the calling thread only (no
     * oversubscription). How the threads are used (directions at once,
     * batch rows, or blocks of hidden units with one barrier per step) is
     * chosen per shape; small shapes stay on one thread where splitting
     * would lose. Results are bit-identical whatever the thread count. */
    int num_threads;
} rnnkit_forward_args;

rnnkit_status rnnkit_workspace_size(const rnnkit_model *model, int64_t seq_len,
                                    int64_t batch, size_t *bytes);

/* Memory for a workspace (or any other large buffer): 64-byte aligned;
 * from 2 MiB up, on Linux, 2 MiB aligned and advised as transparent huge
 * pages, as the library's own buffers are (weights and workspace on huge
 * pages ran LSTM H 512, batch 64 11-17 % faster: fewer TLB misses; x and
 * y on huge pages, measured the same way, changed nothing: they are read
 * and written once per call). NULL if it cannot be allocated
 * (rnnkit_last_error() says so); bytes 0 gives a valid pointer to free.
 * Free with rnnkit_buffer_free (NULL is ignored). */
void *rnnkit_buffer_alloc(size_t bytes);
void rnnkit_buffer_free(void *buffer);

rnnkit_status rnnkit_forward(const rnnkit_model *model,
                             const rnnkit_forward_args *args);

/* ------------------------------------------------------------------ */
/* Streaming: feed a sequence a few steps at a time                    */
/* ------------------------------------------------------------------ */
/* Pushing steps 0..a then a+1..b gives exactly what one rnnkit_forward
 * over 0..b gives. Unidirectional models only (forward direction);
 * a bidirectional or reverse model gives RNNKIT_STATUS_UNSUPPORTED.
 * All memory is allocated by rnnkit_stream_create: pushing allocates
 * nothing. */
typedef struct rnnkit_stream rnnkit_stream;

rnnkit_status rnnkit_stream_create(const rnnkit_model *model, int64_t batch,
                                   rnnkit_stream **out);
/* Sets the state (h0/c0 laid out as for rnnkit_forward; NULL = zeros). */
rnnkit_status rnnkit_stream_reset(rnnkit_stream *stream, const float *h0,
                                  const float *c0);
/* x: [steps, N, I] (sequence-major); y: [steps, N, P] for PyTorch and
 * Keras layouts or [steps, 1, N, H] for ONNX layout (may be NULL). */
rnnkit_status rnnkit_stream_push(rnnkit_stream *stream, const float *x,
                                 int64_t steps, float *y);
/* Threads a push may use: 1 (the default) runs every push on the
 * calling thread, which suits a server with one stream per request;
 * n > 1 lets a push spread over up to n OpenMP threads where the same
 * cost model as rnnkit_forward's finds it faster (large models pushed a
 * frame at a time: hidden units split, the frame's input projection
 * too); 0 = rnnkit_get_num_threads(). Results are the same bits
 * whatever the count. A push from inside a parallel region uses one
 * thread. OpenMP's idle threads spin a few ms after a push, then sleep
 * (unless OMP_WAIT_POLICY=active), and a team that has slept costs
 * about a millisecond to restart on a cold core: a push that comes more
 * than 3 ms after the previous one splits only if that saves more (so
 * frames paced in real time mostly stay on the calling thread; set
 * OMP_WAIT_POLICY=active to keep the team awake). */
rnnkit_status rnnkit_stream_set_num_threads(rnnkit_stream *stream, int num_threads);
/* Current state, laid out as hn/cn of rnnkit_forward (either may be
 * NULL). */
rnnkit_status rnnkit_stream_get_state(const rnnkit_stream *stream, float *h,
                                      float *c);
void rnnkit_stream_destroy(rnnkit_stream *stream);

/* ------------------------------------------------------------------ */
/* Threads and ISA                                                     */
/* ------------------------------------------------------------------ */
/* Default thread count for calls that pass num_threads = 0; 0 restores
 * the OpenMP default (OMP_NUM_THREADS, else all cores). */
rnnkit_status rnnkit_set_num_threads(int num_threads);
int rnnkit_get_num_threads(void);

/* The ISA that models created from now on will use: "scalar", "avx2",
 * "avx512", "neon". Chosen once from the CPU (CPUID + XGETBV on x86,
 * HWCAP on AArch64), or from the environment variable RNNKIT_ISA; if
 * RNNKIT_ISA names an ISA this CPU or build lacks, model creation fails
 * with RNNKIT_STATUS_ISA_UNAVAILABLE (until rnnkit_isa_select is called).
 * RNNKIT_VERBOSE=1 prints the choice and why on stderr. */
const char *rnnkit_isa_active(void);
/* Forces an ISA for models created afterwards (NULL or "auto" = best).
 * RNNKIT_STATUS_ISA_UNAVAILABLE if unknown or not supported here. */
rnnkit_status rnnkit_isa_select(const char *name);
/* Whether this CPU (and OS) supports the named ISA. */
int rnnkit_isa_supported(const char *name);
/* Comma-separated CPU features detected ("avx2,fma,avx512f,..."). */
const char *rnnkit_cpu_features(void);

#ifdef __cplusplus
}
#endif

#endif /* RNNKIT_H */
