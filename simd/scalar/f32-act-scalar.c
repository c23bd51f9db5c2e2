/*
 * Reference elementwise activations: libm's expf and tanhf, and
 * sigmoid(x) = 1/(1+expf(-x)); any ONNX activation (rnnkit_act_apply).
 * y may alias x.
 */
#include "act-scalar.h"

void rnnkit_f32_sigmoid__scalar(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = rnnkit_sigmoidf(x[i]);
}

void rnnkit_f32_tanh__scalar(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
}

void rnnkit_f32_exp__scalar(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}

void rnnkit_f32_act__scalar(int64_t n, const float *x, float *y, const rnnkit_act *a) {
    for (int64_t i = 0; i < n; i++) y[i] = rnnkit_act_apply(a, x[i]);
}
