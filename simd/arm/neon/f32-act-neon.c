/*
 * NEON elementwise exp, sigmoid and tanh (algorithms and measured error
 * bounds in neon-math.h: exp <= 1.5 ULP, sigmoid <= 2.5 ULP, tanh <= 2.5 ULP
 * over the whole float range, libm-like specials), and any ONNX
 * activation (rnnkit_f32_act__neon, below). 16 floats per iteration (4
 * independent q-registers), then 4 at a time, then the last 1..3 through
 * a bounded copy: never reads or writes past n. y may alias x (each
 * vector is loaded before it is stored). No alignment assumed.
 */
#include "neon-util.h"

#define RK_UNARY(name, fn)                                                         \
    void rnnkit_f32_##name##__neon(int64_t n, const float *x, float *y) {          \
        int64_t i = 0;                                                             \
        for (; i + 16 <= n; i += 16) {                                             \
            float32x4_t v0 = vld1q_f32(x + i), v1 = vld1q_f32(x + i + 4);          \
            float32x4_t v2 = vld1q_f32(x + i + 8), v3 = vld1q_f32(x + i + 12);     \
            vst1q_f32(y + i, fn(v0));                                              \
            vst1q_f32(y + i + 4, fn(v1));                                          \
            vst1q_f32(y + i + 8, fn(v2));                                          \
            vst1q_f32(y + i + 12, fn(v3));                                         \
        }                                                                          \
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, fn(vld1q_f32(x + i)));          \
        if (i < n) rk_st_part(y + i, n - i, fn(rk_ld_part(x + i, n - i)));          \
    }

RK_UNARY(exp, rk_exp_f32x4)
RK_UNARY(sigmoid, rk_sigmoid_f32x4)
RK_UNARY(tanh, rk_tanh_f32x4)

/* Any ONNX activation (rk_act_f32x4, neon-util.h), as the fused steps
 * apply it: 4 floats at a time, the last 1..3 through a bounded copy. */
void rnnkit_f32_act__neon(int64_t n, const float *x, float *y, const rnnkit_act *a) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, rk_act_f32x4(vld1q_f32(x + i), a));
    if (i < n) rk_st_part(y + i, n - i, rk_act_f32x4(rk_ld_part(x + i, n - i), a));
}
