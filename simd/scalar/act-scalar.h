/*
 * Scalar activation functions shared by the scalar kernels. These define
 * the semantics: sigmoid(x) = 1/(1+exp(-x)) and tanh from libm, and the
 * ONNX activation set with its alpha/beta parameters.
 */
#ifndef RNNKIT_ACT_SCALAR_H
#define RNNKIT_ACT_SCALAR_H

#include <math.h>

#include "../kernels.h"

static inline float rnnkit_sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static inline float rnnkit_reluf(float x) { return x > 0.0f ? x : (x == x ? 0.0f : x); }

static inline float rnnkit_act_apply(const rnnkit_act *a, float x) {
    switch (a->kind) {
    case RNNKIT_ACT_SIGMOID: return rnnkit_sigmoidf(x);
    case RNNKIT_ACT_TANH: return tanhf(x);
    case RNNKIT_ACT_RELU: return rnnkit_reluf(x);
    case RNNKIT_ACT_AFFINE: return a->alpha * x + a->beta;
    case RNNKIT_ACT_LEAKY_RELU: return x >= 0.0f ? x : a->alpha * x;
    case RNNKIT_ACT_THRESHOLDED_RELU: return x > a->alpha ? x : (x == x ? 0.0f : x);
    case RNNKIT_ACT_SCALED_TANH: return a->alpha * tanhf(a->beta * x);
    case RNNKIT_ACT_HARD_SIGMOID: {
        float v = a->alpha * x + a->beta;
        if (v != v) return v;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case RNNKIT_ACT_ELU: return x >= 0.0f ? x : a->alpha * expm1f(x);
    case RNNKIT_ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case RNNKIT_ACT_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    default: return x;
    }
}

static inline float rnnkit_clipf(float x, float clip) {
    if (clip > 0.0f) {
        if (x > clip) return clip;
        if (x < -clip) return -clip;
    }
    return x;
}

/* Reads weight (gate g, unit j, input k) of a packed set with G gates. */
static inline float rnnkit_packed_at(const float *p, int nr, int64_t G, int64_t K,
                                     int64_t g, int64_t j, int64_t k) {
    int64_t b = j / nr;
    return p[((size_t)b * (size_t)K + (size_t)k) * (size_t)(G * nr) + (size_t)(g * nr) +
             (size_t)(j % nr)];
}

#endif
