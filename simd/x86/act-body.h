/*
 * Elementwise exp, sigmoid, tanh and any ONNX activation over n floats
 * (y may alias x), shared by f32-act-avx2.c and f32-act-avx512.c. One vector of VW floats per
 * iteration; the last n % VW elements use masked loads/stores, so nothing
 * is read or written past x[n-1] / y[n-1]. No alignment assumed.
 * Accuracy: simd/x86/vmath.h.
 */
#include "vmath.h"

#define RNNKIT_CAT3_(a, b, c) a##b##c
#define RNNKIT_CAT3(a, b, c) RNNKIT_CAT3_(a, b, c)
#define RNNKIT_FN(op) RNNKIT_CAT3(rnnkit_f32_, op, RNNKIT_CAT3(_, _, RNNKIT_ISA_SUFFIX))

#define RNNKIT_UNARY(op, vf)                                                   \
    void RNNKIT_FN(op)(int64_t n, const float *x, float *y) {                  \
        int64_t i = 0;                                                         \
        for (; i + RNNKIT_VW <= n; i += RNNKIT_VW) vstore(y + i, vf(vload(x + i))); \
        if (i < n) {                                                           \
            VT t = vtail(n - i);                                               \
            vstore_t(y + i, vf(vload_t(x + i, t)), t);                         \
        }                                                                      \
    }

RNNKIT_UNARY(exp, vexp)
RNNKIT_UNARY(sigmoid, vsigmoid)
RNNKIT_UNARY(tanh, vtanh)

/* Any ONNX activation (rnnkit_vact), as the fused steps apply it. */
void RNNKIT_FN(act)(int64_t n, const float *x, float *y, const rnnkit_act *a) {
    int64_t i = 0;
    for (; i + RNNKIT_VW <= n; i += RNNKIT_VW) vstore(y + i, rnnkit_vact(vload(x + i), a));
    if (i < n) {
        VT t = vtail(n - i);
        vstore_t(y + i, rnnkit_vact(vload_t(x + i, t), a), t);
    }
}
