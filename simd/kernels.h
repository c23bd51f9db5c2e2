/*
 * The kernel table: one struct of function pointers per ISA, and the
 * packed weight layout they share.
 *
 * Packed gate layout ("panels"). A weight set of G gates, each an
 * [H, K] matrix W_g (row j of W_g = weights of hidden unit j for gate g),
 * is stored as ceil(H / nr) blocks of nr hidden units. Block b holds,
 * for k = 0..K-1, for g = 0..G-1, the nr floats W_g[b*nr + 0..nr-1][k]
 * (units past H are zero). So a kernel walking one block reads one
 * contiguous stream and ends with every gate of those nr units in
 * registers. Size: ceil(H/nr) * K * G * nr floats. nr is the ISA's
 * row_block. Gate order inside is always the canonical one:
 *   LSTM  i, f, g(candidate), o
 *   GRU   r, z, n     (recurrent weights packed as two sets: r,z and n)
 *   RNN   one gate
 * Framework gate orders are converted in src/ before packing.
 *
 * Kernels know nothing of models: they take plain arrays.
 */
#ifndef RNNKIT_SIMD_KERNELS_H
#define RNNKIT_SIMD_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Activation used by the generic (non-default) cell paths; values of
 * rnnkit_activation_kind in rnnkit.h, duplicated so kernels need no
 * public header. */
typedef struct rnnkit_act {
    int kind;
    float alpha;
    float beta;
} rnnkit_act;

enum {
    RNNKIT_ACT_SIGMOID = 0,
    RNNKIT_ACT_TANH = 1,
    RNNKIT_ACT_RELU = 2,
    RNNKIT_ACT_AFFINE = 3,
    RNNKIT_ACT_LEAKY_RELU = 4,
    RNNKIT_ACT_THRESHOLDED_RELU = 5,
    RNNKIT_ACT_SCALED_TANH = 6,
    RNNKIT_ACT_HARD_SIGMOID = 7,
    RNNKIT_ACT_ELU = 8,
    RNNKIT_ACT_SOFTSIGN = 9,
    RNNKIT_ACT_SOFTPLUS = 10
};

enum { RNNKIT_KCELL_RNN = 0, RNNKIT_KCELL_LSTM = 1, RNNKIT_KCELL_GRU = 2 };

/*
 * One recurrent step over batch rows 0..n-1 and hidden units
 * [j_begin, j_end) (j_begin a multiple of nr; j_end a multiple of nr or
 * h). Canonical gate order. All row-major; strides in floats.
 *
 *   pre[g] = xp[row, g*h + j] + sum_k w[g][j][k] * h_prev[row, k]
 *
 * RNN:  h = f(clip(pre))                         f = act[0]
 * LSTM: i = f(clip(pre_i + p_i*c_prev))          f, g, hh = act[0..2]
 *       ff = input_forget ? 1 - i : f(clip(pre_f + p_f*c_prev))
 *       c = ff*c_prev + i*g(clip(pre_g))
 *       o = f(clip(pre_o + p_o*c))
 *       h = o*hh(c)          (before any projection, which is separate)
 * GRU:  r = f(clip(pre_r)), z = f(clip(pre_z))
 *       lbr=1: n = g(clip(xp_n + r*(W_n h_prev + b_hn)))
 *       lbr=0: n = g(clip(xp_n + W_n (r*h_prev)))     (needs scratch)
 *       h = (1-z)*n + z*h_prev
 * clip > 0 clamps each pre-activation (after peepholes) to [-clip, clip].
 */
typedef struct rnnkit_step_args {
    int nr;         /* row_block the weights were packed with */
    int64_t n;      /* batch rows */
    int64_t h;      /* hidden units */
    int64_t k;      /* recurrent input length (h, or proj size) */
    int64_t j_begin, j_end;
    const float *w;   /* packed recurrent weights: all gates (GRU: r,z) */
    const float *w_n; /* GRU: packed n-gate recurrent weights (G = 1) */
    const float *xp;  /* [n, G*h] input-side pre-activations, biases in */
    int64_t ld_xp;
    const float *h_prev; /* [n, k] */
    int64_t ld_h_prev;
    const float *c_prev; /* LSTM [n, h], row stride h */
    float *h_out;        /* [n, h] */
    int64_t ld_h_out;
    float *c_out;        /* LSTM [n, h], row stride h */
    const float *b_hn;   /* GRU lbr: [h]; NULL = zeros */
    const float *peep;   /* LSTM: [3*h] p_i, p_f, p_o; NULL = none */
    float clip;          /* > 0: clip; else none */
    int input_forget;
    int linear_before_reset;
    int default_act;     /* 1: the cell's standard activations */
    const rnnkit_act *act; /* 3 entries (f, g, h) when !default_act */
    float *scratch;      /* GRU lbr=0: [n, k]; else unused */
    /* GRU lbr=0 only: 0 = both passes; 1 = pass 1 only (r*h_prev to
     * scratch and z to h_out for units [j_begin, j_end)); 2 = pass 2 only
     * (n and h for the range, reading all k of scratch, so every unit's
     * pass 1 must be done: a team splitting units puts a barrier between
     * the passes). Both passes in one call or split are the same
     * arithmetic, bit for bit. */
    int gru_pass;
    /* Order hint, no effect on results: 1 = visit the range's units from
     * j_end down (the driver alternates it step by step, so the weights a
     * step read last are the next step's first, still in L1/L2). The x86
     * and NEON steps follow it; the scalar steps ignore it. */
    int reverse;
} rnnkit_step_args;

/* Kernel signatures (function types, so a kernel can be declared from
 * its type: "rnnkit_gemm_fn rnnkit_f32_gemm__avx2;"). */

/* w: [g*h, k] row-major (gate g's rows g*h..g*h+h-1) -> packed. */
typedef void rnnkit_pack_gates_fn(int nr, int64_t g, int64_t h, int64_t k,
                                  const float *w, float *packed);
/* C[i, gi*hs + j] = bias[gi*hs + j] + sum_k A[i, k] * W_gi[j][k]
 * for i < m, gates gi < g (g <= 4) and units j < h. bias may be NULL.
 * hs >= h is the gate stride of C and bias: h for a whole layer, the
 * layer's H for a range of its units (packed, bias and c then point at
 * the range's first unit: a multiple of nr from the layer's first, of
 * 2*nr for g = 3, whose column-pair layout on AVX2 keeps whole pairs;
 * the driver splits a few rows' input projection among threads so). nr is
 * the row_block the weights were packed with. C must not overlap A, the
 * panels or bias; a kernel may keep partial sums in C (x86: one per k
 * block) and read them back, never C's values from before the call. */
typedef void rnnkit_gemm_fn(int nr, int64_t m, int64_t g, int64_t h, int64_t hs, int64_t k,
                            const float *a, int64_t lda, const float *packed,
                            const float *bias, float *c, int64_t ldc);
/* One fused recurrent step. */
typedef void rnnkit_step_fn(const rnnkit_step_args *a);
/* Elementwise, y may alias x. */
typedef void rnnkit_unary_fn(int64_t n, const float *x, float *y);
/* The ONNX activation a (kind, alpha, beta) over n floats, y[i] =
 * act(x[i]) (y may alias x): the vector form the fused steps use for
 * non-default activations (default_act = 0), as a kernel of its own so
 * that each kind's accuracy can be measured (tests/kernel_check.h
 * kc_check_act_kinds). Semantics: the scalar rnnkit_act_apply. */
typedef void rnnkit_act_fn(int64_t n, const float *x, float *y, const rnnkit_act *a);

typedef struct rnnkit_kernels {
    const char *isa; /* "scalar", "avx2", "avx512", "neon" */
    int row_block;   /* nr of the packed layout; at most RNNKIT_MAX_NR */
    /* FMA and cell-update throughput of this table's kernels on this CPU,
     * relative to the thread plan's reference (AVX2 on a Zen 4 core,
     * src/plan.c); 0 reads as 1. Set by src/dispatch.c: 2 for avx512
     * where the CPU runs 512-bit FMAs at full width, else 1. Only the
     * thread plan reads it. */
    double flop_scale;

    rnnkit_pack_gates_fn *pack_gates;
    /* The input weights W_ih, which only the gemm reads, in the layout
     * this ISA's gemm streams best: the step panels of pack_gates,
     * except on x86 with nr = 8 and g = 3 (the GRU's input projection,
     * AVX2), where a panel's k row is 96 bytes and a tile's two
     * consecutive columns straddle cache lines: there the columns
     * (c = block*g + gate) are stored in contiguous pairs, column c's
     * k row kk at ((c/2)*k + kk)*2*nr + (c%2)*nr (simd/x86/gemm-layout.h).
     * Size: rnnkit_input_packed_floats. */
    rnnkit_pack_gates_fn *pack_input;
    rnnkit_gemm_fn *gemm;
    /* Fused steps. Every ISA's steps run every ONNX activation kind: the
     * cell's standard ones (default_act = 1), else a->act. */
    rnnkit_step_fn *rnn_tanh_step;
    rnnkit_step_fn *rnn_relu_step;
    rnnkit_step_fn *lstm_step;
    rnnkit_step_fn *gru_step;
    rnnkit_unary_fn *sigmoid;
    rnnkit_unary_fn *tanh;
    rnnkit_unary_fn *exp;
    rnnkit_act_fn *act;
} rnnkit_kernels;

#define RNNKIT_MAX_NR 32

/* Floats in a packed weight set. */
static inline size_t rnnkit_packed_floats(int nr, int64_t g, int64_t h,
                                          int64_t k) {
    return (size_t)((h + nr - 1) / nr) * (size_t)k * (size_t)g * (size_t)nr;
}

/* Floats of a pack_input buffer, for any ISA's layout (the column-pair
 * layout rounds the column count up to even). */
static inline size_t rnnkit_input_packed_floats(int nr, int64_t g, int64_t h, int64_t k) {
    size_t cols = (size_t)((h + nr - 1) / nr) * (size_t)g;
    return (cols + 1) / 2 * 2 * (size_t)nr * (size_t)k;
}

/* Declarations of every kernel in simd/kernels.inc. */
#define RNNKIT_KERNEL(isa, field, type) rnnkit_##type##_fn rnnkit_f32_##field##__##isa;
#include "kernels.inc"
#undef RNNKIT_KERNEL

#ifdef __cplusplus
}
#endif

#endif
